"""The neuron view as a scene of shapes with coordinates computed here, not by a layout engine.

Columns are depths (stages), neurons keep spec order within their node, wide layers collapse to
their first and last few neurons around a "⋮ N more" row. The same scene becomes DOT with fixed
positions (``neato -n2``) or SVG from the built-in writer, so both show the same picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

POS, NEG, GREY = "#2166ac", "#c0392b", "#9e9e9e"
ROW, R = 34.0, 12.0  # points between neuron rows; circle radius
FILL = {"input": "#eef2f7", "hidden": "#ffffff", "output": "#fff4d6"}


@dataclass
class Circle:
    id: str
    x: float
    y: float
    label: str
    tooltip: str
    fill: str
    stroke: str = "#333333"
    width: float = 1.0


@dataclass
class Line:
    a: str
    b: str
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float
    opacity: float
    tooltip: str
    dashed: bool = False


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float = 10.0
    anchor: str = "middle"  # start | middle | end
    color: str = "#333333"
    bold: bool = False


@dataclass
class Scene:
    width: float
    height: float
    circles: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    title: str = ""
    weights_total: int = 0
    weights_drawn: int = 0


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def drawn_locals(size: int, limit: int) -> tuple[list, int]:
    """Which neurons of a group to draw: all, or the first few and last two with a gap."""
    if size <= limit:
        return list(range(size)), 0
    head = max(limit - 3, 1)
    return list(range(head)) + list(range(size - 2, size)), size - head - 2


def estimate_edges(graph, limit: int) -> int:
    """Edges the neuron view would draw (after collapsing), from the declared shapes only."""
    shown = {n.index: min(n.size, limit) for n in graph.nodes}
    total = 0
    for c in graph.connections:
        frac = min(1.0, shown[c.src] / max(c.m, 1)) * min(1.0, shown[c.dst] / max(c.n, 1))
        total += int(c.count * min(1.0, frac) + 0.5) if c.dense else min(c.count, shown[c.src] * shown[c.dst])
    return total


def neuron_scene(graph, values: dict, known: set, *, max_neurons: int = 12, highlight=(), focus=None,
                 radius: int = 1) -> Scene:
    nodes = graph.nodes
    level = graph.neuron_level
    keep = None
    if focus is not None:
        keep = _neighbourhood(graph, focus, radius)
    # groups: (column, node) -> sorted local indices present there
    groups = {}
    for n in nodes:
        lv = level[n.offset:n.offset + n.size]
        for col in np.unique(lv):
            local = np.flatnonzero(lv == col)
            if keep is not None:
                local = np.array([i for i in local if n.offset + i in keep], dtype=int)
            if len(local):
                groups[(int(col), n.index)] = local
    columns = sorted({c for c, _ in groups})
    col_x = {}
    tallest = 0.0
    layout = {}
    for ci, col in enumerate(columns):
        y, parts = 0.0, []
        for (c, ni) in sorted(k for k in groups if k[0] == col):
            local = groups[(c, ni)]
            idx, hidden = drawn_locals(len(local), max_neurons)
            rows = [int(local[i]) for i in idx]
            parts.append((ni, rows, hidden, len(local), y))
            extra = 10 if nodes[ni].spec.labels and nodes[ni].role == "hidden" else 0
            y += 22 + extra + ROW * (len(rows) + (1 if hidden else 0)) + 18
        layout[col] = (parts, y)
        tallest = max(tallest, y)
    # spacing that keeps a sane aspect ratio whatever the layer widths (no slivers)
    gap = max(120.0, min(420.0, tallest * 0.9 / max(len(columns) - 1, 1)))
    for ci, col in enumerate(columns):
        col_x[col] = 90.0 + ci * gap
    width = 180.0 + gap * max(len(columns) - 1, 0)
    scene = Scene(width, tallest + 110, title=graph.spec.name)
    pos, names = {}, {}
    hl = set(highlight)
    for col in columns:
        parts, height = layout[col]
        top = 40 + (tallest - height) / 2
        for ni, rows, hidden, count, y0 in parts:
            n = nodes[ni]
            x = col_x[col]
            act = "identity" if n.role == "input" else n.activation[0]
            scene.texts.append(Text(x, top + y0 + 8, _part_name(n, groups[(col, ni)]), 10.5, bold=True))
            scene.texts.append(Text(x, top + y0 + 20, f"{count} × {act}", 9, color="#555555"))
            y = top + y0 + 22 + ROW / 2 + 4 + (10 if n.spec.labels and n.role == "hidden" else 0)
            labels = n.spec.labels or []
            bias = values.get(f"nodes/{n.name}/bias") if f"nodes/{n.name}/bias" in known else None
            for k, i in enumerate(rows):
                if hidden and k == len(rows) - 2:
                    scene.texts.append(Text(x, y + 4, f"⋮ {hidden:,} more", 10, color="#555555"))
                    y += ROW
                g = n.offset + i
                name = n.name if n.size == 1 else f"{n.name}[{i}]"
                names[g] = name
                tip = name + (f" ({labels[i]})" if labels else "")
                label = ""
                if bias is not None and n.role != "input":
                    b = float(bias[i])
                    tip += f": b = {_fmt(b)}"
                    short = f"{b:.2g}"
                    label = short if len(short) <= 6 else ""
                elif n.role != "input":
                    tip += ": b not set"
                stroke, w = ("#e67e22", 3.0) if (n.name in hl or name in hl) else ("#333333", 1.0)
                if graph.cycle is not None and name in graph.cycle.cycle_neurons:
                    stroke, w = "#d62728", 3.0
                scene.circles.append(Circle(f"n{g}", x, y, label, tip, FILL[n.role], stroke, w))
                if labels:
                    if n.role == "input":
                        scene.texts.append(Text(x - R - 5, y + 3.5, labels[i], 9.5, "end"))
                    elif n.role == "output":
                        scene.texts.append(Text(x + R + 5, y + 3.5, labels[i], 9.5, "start"))
                    else:
                        scene.texts.append(Text(x, y - R - 3, labels[i], 8.5, color="#555555"))
                pos[g] = (x, y)
                y += ROW
    _edges(graph, scene, pos, names, values, known, hl)
    bottom = scene.height - 40
    scene.texts.append(Text(scene.width / 2, bottom, f"drawn: {scene.weights_drawn:,} of {scene.weights_total:,} weights"
                            + (f" (layers wider than {max_neurons} neurons collapsed)"
                               if scene.weights_drawn < scene.weights_total and focus is None else ""),
                            9.5, "middle", "#555555"))
    legend = ("weights: blue positive, red negative; width and opacity show |w| within each weight matrix"
              if known else "weights not set yet (initialised when training): drawn in grey")
    if graph.cycle is not None:
        legend = "not feed-forward: the cycle " + " -> ".join(graph.cycle.cycle_neurons + graph.cycle.cycle_neurons[:1]) \
            + " is drawn in red"
    scene.texts.append(Text(scene.width / 2, bottom + 16, legend, 9.5, "middle",
                            "#d62728" if graph.cycle is not None else "#555555"))
    need = 5.5 * max(len(t.text) for t in scene.texts[-2:]) + 40
    if need > scene.width:  # widen the canvas so the footer fits, keeping it centred
        shift = (need - scene.width) / 2
        for item in scene.circles + scene.texts:
            item.x += shift
        for e in scene.lines:
            e.x1 += shift
            e.x2 += shift
        scene.width = need
    return scene


def _part_name(node, local) -> str:
    """The caption of the neurons of a node drawn in one column: ``h``, ``h[3]``, ``h[0:2]``."""
    if len(local) == node.size:
        return node.name
    if len(local) == 1:
        return f"{node.name}[{local[0]}]"
    if local[-1] - local[0] == len(local) - 1:
        return f"{node.name}[{local[0]}:{local[-1] + 1}]"
    return f"{node.name} ({len(local)} of {node.size})"


def _edges(graph, scene, pos, names, values, known, hl):
    cycle_conns = set(graph.cycle.cycle_connections) if graph.cycle is not None else set()
    cycle_names = set(graph.cycle.cycle_neurons) if graph.cycle is not None else set()
    for ci, c in enumerate(graph.connections):
        s0 = graph.nodes[c.src].offset + c.src_lo
        d0 = graph.nodes[c.dst].offset + c.dst_lo
        scene.weights_total += c.count
        w = values.get(c.key)
        has = c.key in known and w is not None
        scale = float(np.abs(w).max()) if has and np.size(w) else 0.0
        if c.dense:
            rows = [g - s0 for g in pos if s0 <= g < s0 + c.m]
            cols = [g - d0 for g in pos if d0 <= g < d0 + c.n]
            pairs = [(i, j, (i, j)) for i in rows for j in cols]
        else:
            drawn_src = np.array([g in pos for g in range(s0, s0 + c.m)])
            drawn_dst = np.array([g in pos for g in range(d0, d0 + c.n)])
            sel = np.flatnonzero(drawn_src[c.rows] & drawn_dst[c.cols])
            pairs = [(int(c.rows[k]), int(c.cols[k]), k) for k in sel]
        for i, j, at in pairs:
            a, b = s0 + i, d0 + j
            (x1, y1), (x2, y2) = pos[a], pos[b]
            tip = f"{names[a]} -> {names[b]}"
            if has:
                v = float(w[at])
                rel = abs(v) / scale if scale else 0.0
                color, width, opacity = (POS if v >= 0 else NEG), 0.4 + 2.6 * rel, 0.25 + 0.75 * rel
                tip += f": w = {_fmt(v)}"
            else:
                color, width, opacity = GREY, 0.8, 0.6
                tip += ": w not set"
            dashed = False
            if ci in cycle_conns and names[a] in cycle_names and names[b] in cycle_names:
                color, width, opacity, dashed = "#d62728", 3.0, 1.0, True
            elif hl and not ({names[a], names[b]} & hl or {graph.nodes[c.src].name, graph.nodes[c.dst].name} & hl):
                opacity *= 0.3
            scene.lines.append(Line(f"n{a}", f"n{b}", x1 + R, y1, x2 - R, y2, color, width, opacity, tip, dashed))
            scene.weights_drawn += 1


def _neighbourhood(graph, focus: str, radius: int) -> set:
    from ..graph.refs import parse_ref, resolve_range
    from ..errors import DrawError
    from ..spec import suggest

    try:
        name, sel = parse_ref(focus)
        node = graph.node(name)
        lo, hi = resolve_range(sel, node.size, name)
    except (ValueError, KeyError):
        raise DrawError(f"--focus {focus}: not a neuron of this network{suggest(focus.split('[')[0], [n.name for n in graph.nodes])}") from None
    adj = {}
    for c in graph.connections:
        s0 = graph.nodes[c.src].offset + c.src_lo
        d0 = graph.nodes[c.dst].offset + c.dst_lo
        if c.dense:
            srcs, dsts = range(s0, s0 + c.m), range(d0, d0 + c.n)
            for a in srcs:
                adj.setdefault(a, set()).update(dsts)
            for b in dsts:
                adj.setdefault(b, set()).update(srcs)
        else:
            for i, j in zip(c.rows.tolist(), c.cols.tolist()):
                adj.setdefault(s0 + i, set()).add(d0 + j)
                adj.setdefault(d0 + j, set()).add(s0 + i)
    seen = set(range(node.offset + lo, node.offset + hi))
    frontier = set(seen)
    for _ in range(radius):
        frontier = {b for a in frontier for b in adj.get(a, ())} - seen
        seen |= frontier
    return seen
