"""The neuron view as a scene of shapes with coordinates computed here, not by a layout engine.

Columns are depths (stages), neurons keep spec order within their node, wide layers collapse to
their first and last few neurons around a "⋮ N more" row. The same scene becomes DOT with fixed
positions (``neato -n2``) or SVG from the built-in writer, so both show the same picture.
"""
from __future__ import annotations

import numpy as np

from .marks import VALUE_LABELS, legend as _legend, signal_colour, signal_scale, size_caption
from .route import Lanes, Router, fit, label_lines

from .shapes import FILL, GREY, NEG, POS, R, ROW, Circle, Line, Rect, Scene, Text  # noqa: F401


def _fmt(v: float) -> str:
    if v == 0:
        return "0"  # -0.0 too: the sign of a zero means nothing to a reader
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.1e}"


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
                 radius: int = 1, signal=None) -> Scene:
    """The neuron view. ``signal``: activations of every neuron (a traced forward pass) to colour by."""
    nodes = graph.nodes
    keep = _neighbourhood(graph, focus, radius) if focus is not None else None
    groups = _column_groups(graph, keep)  # column level -> [(node index, local indices)]
    columns = sorted(groups)
    layout, tallest = {}, 0.0
    for col in columns:
        y, parts = 0.0, []
        for ni, local in groups[col]:
            idx, hidden = drawn_locals(len(local), max_neurons)
            rows = [int(local[i]) for i in idx]
            parts.append((ni, local, rows, hidden, y))
            extra = 10 if nodes[ni].spec.labels and nodes[ni].role == "hidden" else 0
            y += 22 + extra + ROW * (len(rows) + (1 if hidden else 0)) + 18
        layout[col] = (parts, y)
        tallest = max(tallest, y)
    # spacing that keeps a sane aspect ratio whatever the layer widths (no slivers)
    gap = max(120.0, min(420.0, tallest * 0.9 / max(len(columns) - 1, 1)))
    col_x = [90.0 + ci * gap for ci in range(len(columns))]
    scene = Scene(180.0 + gap * max(len(columns) - 1, 0), tallest + 110, title=graph.spec.name)
    pos, names, col_of = {}, {}, {}
    act_scale = signal_scale(signal) if signal is not None else 1.0
    lanes = [Lanes() for _ in columns]
    hl = set(highlight)
    for ci, col in enumerate(columns):
        parts, height = layout[col]
        top = 40 + (tallest - height) / 2
        x = col_x[ci]
        for ni, local, rows, hidden, y0 in parts:
            n = nodes[ni]
            scene.texts.append(Text(x, top + y0 + 8, _part_name(n, local), 10.5, bold=True))
            scene.texts.append(Text(x, top + y0 + 20, size_caption(n, len(local)), 9, color="#555555"))
            lanes[ci].block(top + y0 - 4, top + y0 + 24)
            y = top + y0 + 22 + ROW / 2 + 4 + (10 if n.spec.labels and n.role == "hidden" else 0)
            labels = n.spec.labels or []
            bias = values.get(f"nodes/{n.name}/bias") if f"nodes/{n.name}/bias" in known else None
            for k, i in enumerate(rows):
                if hidden and k == len(rows) - 2:
                    scene.texts.append(Text(x, y + 4, f"⋮ {hidden:,} more", 10, color="#555555"))
                    lanes[ci].block(y - 8, y + 8)
                    y += ROW
                g = n.offset + i
                name = n.name if n.size == 1 else f"{n.name}[{i}]"
                names[g], col_of[g], pos[g] = name, ci, (x, y)
                tip = name + (f" ({labels[i]})" if labels else "")
                label, fill = "", FILL[n.role]
                if bias is not None and n.role != "input":
                    b = float(bias[i])
                    tip += f": b = {_fmt(b)}"
                    label = _short(b)
                elif n.role != "input":
                    tip += ": b not set"
                if signal is not None:
                    v = float(signal[g])
                    tip += f", activation = {_fmt(v)}"
                    label, fill = _short(v), signal_colour(v, act_scale)
                stroke, w = ("#e67e22", 3.0) if (n.name in hl or name in hl) else ("#333333", 1.0)
                if graph.cycle is not None and name in graph.cycle.cycle_neurons:
                    stroke, w = "#d62728", 3.0
                scene.circles.append(Circle(f"n{g}", x, y, label, tip, fill, stroke, w))
                lanes[ci].block(y - R - 2.5, y + R + 2.5)
                if labels:
                    if n.role == "input":
                        scene.texts.append(Text(x - R - 5, y + 3.5, labels[i], 9.5, "end"))
                    elif n.role == "output":
                        scene.texts.append(Text(x + R + 5, y + 3.5, labels[i], 9.5, "start"))
                    else:
                        scene.texts.append(Text(x, y - R - 3, labels[i], 8.5, color="#555555"))
                        lanes[ci].block(y - R - 12, y - R)
                y += ROW
    router = Router(col_x, lanes, col_of, pos)
    _edges(graph, scene, router, names, values, known, hl, signal)
    labelled = 0 < scene.weights_drawn <= VALUE_LABELS and any(e.label for e in scene.lines)
    if labelled:
        label_lines(scene)
    _legend(graph, scene, max_neurons, focus, known, signal, labelled, act_scale)
    fit(scene)
    return scene


def _column_groups(graph, keep) -> dict:
    """The drawn neurons of each node per column (stage level), in linear time."""
    level = graph.neuron_level
    groups = {}
    for n in graph.nodes:
        local = np.arange(n.size)
        if keep is not None:
            local = np.array(sorted(g - n.offset for g in keep if n.offset <= g < n.offset + n.size), dtype=int)
        if not len(local):
            continue
        lv = level[n.offset + local]
        order = np.argsort(lv, kind="stable")
        lv, local = lv[order], local[order]
        cuts = np.flatnonzero(np.diff(lv)) + 1
        for part in np.split(np.arange(len(lv)), cuts):
            groups.setdefault(int(lv[part[0]]), []).append((n.index, local[part]))
    return groups


def _short(v: float) -> str:
    """A number in at most 5 characters, to fit inside a circle (the tooltip has it in full)."""
    for text in (f"{v:.2g}", f"{v:.1g}", f"{v:.0e}"):
        text = text.replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
        if len(text) <= 5:
            return text
    return "…"


def _part_name(node, local) -> str:
    """The caption of the neurons of a node drawn in one column: ``h``, ``h[3]``, ``h[0:2]``."""
    if len(local) == node.size:
        return node.name
    if len(local) == 1:
        return f"{node.name}[{local[0]}]"
    if local[-1] - local[0] == len(local) - 1:
        return f"{node.name}[{local[0]}:{local[-1] + 1}]"
    return f"{node.name} ({len(local)} of {node.size})"


def _edges(graph, scene, router, names, values, known, hl, signal):
    cycle_conns = set(graph.cycle.cycle_connections) if graph.cycle is not None else set()
    cycle_names = set(graph.cycle.cycle_neurons) if graph.cycle is not None else set()
    drawn = np.zeros(graph.n_neurons, dtype=bool)
    drawn[list(router.pos)] = True
    found = []  # (a, b, weight or None, relative |w| in its matrix, connection index)
    for ci, c in enumerate(graph.connections):
        s0 = graph.nodes[c.src].offset + c.src_lo
        d0 = graph.nodes[c.dst].offset + c.dst_lo
        scene.weights_total += c.count
        w = values.get(c.key)
        has = c.key in known and w is not None
        scale = float(np.abs(w).max()) if has and np.size(w) else 0.0
        if c.dense:
            pairs = [(int(i), int(j), (i, j)) for i in np.flatnonzero(drawn[s0:s0 + c.m])
                     for j in np.flatnonzero(drawn[d0:d0 + c.n])]
        else:
            sel = np.flatnonzero(drawn[s0:s0 + c.m][c.rows] & drawn[d0:d0 + c.n][c.cols])
            pairs = [(int(c.rows[k]), int(c.cols[k]), k) for k in sel]
        for i, j, at in pairs:
            v = float(w[at]) if has else None
            found.append((s0 + i, d0 + j, v, abs(v) / scale if has and scale else 0.0, ci))
    if signal is not None:
        carried = [abs(v * float(signal[a])) for a, _, v, _, _ in found if v is not None]
        top = max(carried, default=0.0) or 1.0
    for a, b, v, rel, ci in found:
        weight = v
        tip = f"{names[a]} -> {names[b]}"
        if v is None:
            color, width, opacity = GREY, 0.8, 0.6
            tip += ": w not set"
        else:
            tip += f": w = {_fmt(v)}"
            if signal is not None:
                s = v * float(signal[a])
                tip += f", signal = {_fmt(s)}"
                v, rel = s, abs(s) / top
            color = GREY if v == 0 else POS if v > 0 else NEG
            width, opacity = 0.4 + 2.6 * rel, 0.25 + 0.75 * rel
        dashed = False
        if ci in cycle_conns and names[a] in cycle_names and names[b] in cycle_names:
            color, width, opacity, dashed = "#d62728", 3.0, 1.0, True
        elif hl and not ({names[a], names[b]} & hl or {graph.nodes[graph.connections[ci].src].name,
                                                         graph.nodes[graph.connections[ci].dst].name} & hl):
            opacity *= 0.3
        scene.lines.append(Line(f"n{a}", f"n{b}", router.route(a, b), color, width, opacity, tip, dashed,
                                label="" if weight is None else _short(weight), weight=weight))
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
