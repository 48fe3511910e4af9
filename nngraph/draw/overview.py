"""Layer view (a box per node) and stage view (a box per compiled stage), laid out by ``dot``."""
from __future__ import annotations

import numpy as np

from .marks import colour_bar, signal_colour, signal_scale, size_caption
from .safe import assemble, dot, dot_attrs, fragment
from .route import fit
from .scene import Line, Rect, Scene, Text, _fmt
from ..text import plural

FILL = {"input": "#eef2f7", "hidden": "#ffffff", "output": "#fff4d6"}
LEGEND = {
    "layer": "box: a node (layer): name, neurons × activation, parameters (weights into it and biases); "
             "arrow: an edge, labelled with its weight matrix (rows × columns, [a:b] a slice of neurons)",
    "stage": "box: a compiled stage, y = f(Wᵀx + b), and the neurons it computes; arrow: a weight block "
             "(rows × columns; dashed: sparse, with its density; purple: skips stages)",
}


MAX_CELLS = 32  # a box up to this many neurons wide shows a cell per neuron; a wider one min, mean and max
ACT_LEGEND = ("cells: each neuron's activation for this input, in spec order (blue positive, red negative, white "
              "zero, full colour at the ends of the colour bar); boxes of more than {} neurons: the min, mean and "
              "max of their activations").format(MAX_CELLS)


def activation_cells(values, scale) -> list:
    """(value, colour, caption) per cell of a box: one per neuron, or min, mean and max of a wide box."""
    values = np.asarray(values, dtype=float)
    if len(values) <= MAX_CELLS:
        return [(float(v), signal_colour(float(v), scale), "") for v in values]
    summary = (("min", float(values.min())), ("mean", float(values.mean())), ("max", float(values.max())))
    return [(v, signal_colour(v, scale), f"{name} {_fmt(v)}") for name, v in summary]


def _cells_rows(cells) -> str:
    """Table rows of coloured cells (one per neuron, or min/mean/max with their captions)."""
    if not cells:
        return ""
    width = 14 if cells[0][2] else 9
    row = "".join(fragment('<td bgcolor="{}" width="{}" height="9" fixedsize="true"></td>', c, width)
                  for _, c, _ in cells)
    out = fragment('<tr><td><table border="0" cellborder="1" cellspacing="0" cellpadding="0" color="#999999" '
                   'fixedsize="true" width="{}" height="9"><tr>', width * len(cells)) + row + "</tr></table></td></tr>"
    if cells[0][2]:
        out += "<tr><td>" + fragment('<font point-size="8" color="#555555">{}</font>',
                                  ", ".join(t for _, _, t in cells)) + "</td></tr>"
    return out


def _cells_tip(cells) -> str:
    if not cells:
        return ""
    if cells[0][2]:
        return "; activations " + ", ".join(t for _, _, t in cells)
    return "; activations " + ", ".join(_fmt(v) for v, _, _ in cells)


def _legend_label(view, scale=None):
    """The graph's legend; with activations, the cells' meaning and a colour bar (an HTML-like label)."""
    if scale is None:
        return dot(LEGEND[view])
    bar = "".join(fragment('<td bgcolor="{}" width="8" height="9" fixedsize="true"></td>',
                           signal_colour(scale * (2 * k / 20 - 1), scale)) for k in range(21))
    return assemble(fragment('<table border="0" cellspacing="0" cellpadding="1"><tr><td>{}</td></tr>'
                             '<tr><td>{}</td></tr><tr><td><table border="0" cellspacing="0" cellpadding="0" '
                             'fixedsize="true" width="248" height="11"><tr>'
                             '<td align="right" width="40" height="11" fixedsize="true">{} </td>',
                             LEGEND[view], ACT_LEGEND, _fmt(-scale)),
                    bar, fragment('<td align="left" width="40" height="11" fixedsize="true"> {}</td></tr></table>'
                                  '</td></tr></table>', _fmt(scale)))


def _node_params(graph):
    params = {n.index: (0 if n.role == "input" else n.size) for n in graph.nodes}
    for c in graph.connections:
        params[c.dst] += c.count
    return params


def _edge_label(c):
    if c.dense:
        return f"{c.m}×{c.n}"
    return f"{c.count:,} of {c.m}×{c.n}"


def _ref(graph, c, src=True):
    n = graph.nodes[c.src if src else c.dst]
    lo, hi = (c.src_lo, c.src_hi) if src else (c.dst_lo, c.dst_hi)
    if lo == 0 and hi == n.size:
        return ""
    return f"[{lo}]" if hi - lo == 1 else f"[{lo}:{hi}]"


def layer_graph(graph, dpi=150, highlight=(), signal=None):
    """``signal``: every neuron's activation for one input; each box then shows them as cells."""
    import graphviz

    scale = signal_scale(signal) if signal is not None else None
    g = graphviz.Digraph(dot(graph.spec.name), engine="dot")
    g.attr(rankdir="LR", dpi=str(dpi), bgcolor="white", fontname="Helvetica", nodesep="0.3", ranksep="0.9",
           label=_legend_label("layer", scale), labelloc="b", fontsize="9", fontcolor="#555555")
    g.attr("node", shape="plain", fontname="Helvetica")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")
    params = _node_params(graph)
    hl = set(highlight)
    for n in graph.nodes:
        caption = size_caption(n)
        border = "#e67e22" if n.name in hl else "#333333"
        cells = [] if signal is None else activation_cells(signal[n.offset:n.offset + n.size], scale)
        label = assemble(fragment('<table border="1" cellborder="0" cellspacing="0" cellpadding="4" bgcolor="{}" '
                                   'color="{}"><tr><td><b>{}</b></td></tr><tr><td>{}</td></tr>'
                                   '<tr><td><font point-size="9" color="#555555">{} parameters</font></td></tr>',
                                   FILL[n.role], border, n.name, caption, f"{params[n.index]:,}"),
                         _cells_rows(cells), "</table>")
        g.node(f"n{n.index}", **dot_attrs(dict(
            label=label, tooltip=f"{n.name}: {caption}, {plural(params[n.index], 'parameter')}"
            + _cells_tip(cells))))
    cycle = set(graph.cycle.cycle_connections) if graph.cycle is not None else set()
    for k, c in enumerate(graph.connections):
        label = _edge_label(c)
        ends = _ref(graph, c, True) + ("→" + _ref(graph, c, False) if _ref(graph, c, False) else "")
        attrs = {"label": f"{ends} {label}".strip(), "tooltip": f"{c.key}: {plural(c.count, 'weight')}"}
        if k in cycle:
            attrs.update(color="#d62728", penwidth="2.5", fontcolor="#d62728")
        g.edge(f"n{c.src}", f"n{c.dst}", **dot_attrs(attrs))
    _bound_crossing_search(g, len(graph.connections))
    return g


def _stage_text(plan, st):
    from ..summary import stage_contents

    return stage_contents(plan, st)


def stage_graph(plan, dpi=150, signal=None):
    import graphviz

    scale = signal_scale(signal) if signal is not None else None
    g = graphviz.Digraph(dot(plan.spec.name + "-stages"), engine="dot")
    g.attr(rankdir="LR", dpi=str(dpi), bgcolor="white", fontname="Helvetica", ranksep="0.8",
           label=_legend_label("stage", scale), labelloc="b", fontsize="9", fontcolor="#555555")
    g.attr("node", shape="plain", fontname="Helvetica")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")
    for st in plan.stages:
        texts = _stage_text(plan, st)[:12]
        title = "stage 0 (inputs)" if st.index == 0 else f"stage {st.index}"
        width = f'{st.width:,} neuron{"" if st.width == 1 else "s"}'
        cells = [] if signal is None else activation_cells(signal[st.neurons], scale)
        label = assemble(fragment('<table border="1" cellborder="0" cellspacing="0" cellpadding="3" bgcolor="#ffffff">'
                                   '<tr><td><b>{}</b></td></tr>' + "<tr><td align='left'>{}</td></tr>" * len(texts)
                                   + '<tr><td><font point-size="9" color="#555555">{}</font></td></tr>',
                                   title, *texts, width),
                         _cells_rows(cells), "</table>")
        g.node(f"s{st.index}", **dot_attrs(dict(label=label, tooltip=f"stage {st.index}: {plural(st.width, 'neuron')}"
                                                + _cells_tip(cells))))
    for st in plan.stages[1:]:
        for b in st.blocks:
            kind = "sparse" if b.sparse else "dense"
            dens = b.nnz / max(b.shape[0] * b.shape[1], 1)
            label = f"{kind} {b.shape[0]}×{b.shape[1]}" + (f" ({dens:.0%})" if dens < 1 else "")
            skip = b.src < st.index - 1
            g.edge(f"s{b.src}", f"s{st.index}", **dot_attrs(dict(
                label=label, style="dashed" if b.sparse else "solid", color="#8e44ad" if skip else "#555555",
                tooltip=f"{label}, {b.nnz:,} weights")))
    _bound_crossing_search(g, sum(len(st.blocks) for st in plan.stages))
    return g


def _bound_crossing_search(g, n_edges):
    """dot's crossing minimisation dominates on densely linked overviews: bound it (halves the time
    for 200+ edges, and the order it finds is as readable)."""
    if n_edges > 60:
        g.attr(mclimit="0.1", nslimit="2")


def overview_scene(graph, view, plan=None, signal=None) -> Scene:
    """Columns-by-depth boxes for the layer or stage view, for the built-in SVG writer; with
    ``signal`` (every neuron's activation), cells under each box as in the Graphviz drawing."""
    from .scene import Circle  # boxes are drawn as labelled circles' neighbours: keep one writer

    scale = signal_scale(signal) if signal is not None else None
    if view == "stage":
        neurons = {st.index: st.neurons for st in plan.stages}
        boxes = [(st.index, f"stage {st.index}", _stage_text(plan, st)) for st in plan.stages]
        links = [(b.src, st.index, f"{'sparse' if b.sparse else 'dense'} {b.shape[0]}×{b.shape[1]}")
                 for st in plan.stages[1:] for b in st.blocks]
        column = {i: i for i, _, _ in boxes}
    else:
        params = _node_params(graph)
        boxes = [(n.index, n.name, [size_caption(n), plural(params[n.index], 'parameter')]) for n in graph.nodes]
        links = [(c.src, c.dst, _edge_label(c)) for c in graph.connections]
        column = {n.index: int(np.min(graph.neuron_level[n.offset:n.offset + n.size])) for n in graph.nodes}
        neurons = {n.index: np.arange(n.offset, n.offset + n.size) for n in graph.nodes}
    step = 90 if signal is None else 115
    cols = sorted(set(column.values()))
    x_of = {c: 100 + 220 * i for i, c in enumerate(cols)}
    counts, pos = {}, {}
    for key, _, _ in boxes:
        c = column[key]
        pos[key] = (x_of[c], 60 + step * counts.get(c, 0))
        counts[c] = counts.get(c, 0) + 1
    scene = Scene(200 + 220 * max(len(cols) - 1, 0), 80 + step * max(counts.values()), title=graph.spec.name)
    for key, title, lines in boxes:
        x, y = pos[key]
        scene.circles.append(Circle(f"b{key}", x, y, "", f"{title}: " + ", ".join(lines), "#ffffff"))
        scene.texts.append(Text(x, y - 16, title, 10.5, bold=True))
        for k, line in enumerate(lines[:3]):
            scene.texts.append(Text(x, y + 26 + 12 * k, line, 9, color="#555555"))
        if signal is not None:
            cells = activation_cells(signal[neurons[key]], scale)
            w = min(9.0, 190.0 / len(cells)) if not cells[0][2] else 14.0
            x0 = x - w * len(cells) / 2
            for k, (_, colour, _) in enumerate(cells):
                scene.rects.append(Rect(x0 + k * w, y + 56, w, 9, colour))
            if cells[0][2]:
                scene.texts.append(Text(x, y + 76, ", ".join(t for _, _, t in cells), 8, color="#555555"))
    for a, b, label in links:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        scene.lines.append(Line(f"b{a}", f"b{b}", [(x1 + 12, y1), (x2 - 12, y2)], "#555555", 1.2, 0.9, label))
        scene.texts.append(Text((x1 + x2) / 2, (y1 + y2) / 2 - 4, label, 8.5, color="#555555"))
    scene.texts.append(Text(scene.width / 2, scene.height - 8, LEGEND[view], 9, color="#555555"))
    scene.height += 6
    if signal is not None:
        scene.texts.append(Text(scene.width / 2, scene.height + 6, ACT_LEGEND, 9, color="#555555"))
        colour_bar(scene, scene.width / 2, scene.height + 16, scale, _fmt)
        scene.height += 50
    fit(scene)
    return scene
