"""Layer view (a box per node) and stage view (a box per compiled stage), laid out by ``dot``."""
from __future__ import annotations

import numpy as np

from .safe import dot, dot_attrs, markup
from .route import fit
from .scene import Line, Scene, Text

FILL = {"input": "#eef2f7", "hidden": "#ffffff", "output": "#fff4d6"}
LEGEND = {
    "layer": "box: a node (layer): name, neurons × activation, parameters (weights into it and biases); "
             "arrow: an edge, labelled with its weight matrix (rows × columns, [a:b] a slice of neurons)",
    "stage": "box: a compiled stage, y = f(Wᵀx + b), and the neurons it computes; arrow: a weight block "
             "(rows × columns; dashed: sparse, with its density; purple: skips stages)",
}


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


def layer_graph(graph, dpi=150, highlight=()):
    import graphviz

    g = graphviz.Digraph(dot(graph.spec.name), engine="dot")
    g.attr(rankdir="LR", dpi=str(dpi), bgcolor="white", fontname="Helvetica", nodesep="0.3", ranksep="0.9",
           label=dot(LEGEND["layer"]), labelloc="b", fontsize="9", fontcolor="#555555")
    g.attr("node", shape="plain", fontname="Helvetica")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")
    params = _node_params(graph)
    hl = set(highlight)
    for n in graph.nodes:
        act = "identity" if n.role == "input" else n.activation[0]
        border = "#e67e22" if n.name in hl else "#333333"
        label = markup('<table border="1" cellborder="0" cellspacing="0" cellpadding="4" bgcolor="{}" color="{}">'
                       '<tr><td><b>{}</b></td></tr><tr><td>{} × {}</td></tr>'
                       '<tr><td><font point-size="9" color="#555555">{} parameters</font></td></tr></table>',
                       FILL[n.role], border, n.name, f"{n.size:,}", act, f"{params[n.index]:,}")
        g.node(f"n{n.index}", **dot_attrs(dict(
            label=label, tooltip=f"{n.name}: {n.size} neurons, {act}, {params[n.index]:,} parameters")))
    cycle = set(graph.cycle.cycle_connections) if graph.cycle is not None else set()
    for k, c in enumerate(graph.connections):
        label = _edge_label(c)
        ends = _ref(graph, c, True) + ("→" + _ref(graph, c, False) if _ref(graph, c, False) else "")
        attrs = {"label": f"{ends} {label}".strip(), "tooltip": f"{c.key}: {c.count:,} weights"}
        if k in cycle:
            attrs.update(color="#d62728", penwidth="2.5", fontcolor="#d62728")
        g.edge(f"n{c.src}", f"n{c.dst}", **dot_attrs(attrs))
    _bound_crossing_search(g, len(graph.connections))
    return g


def _stage_text(plan, st):
    from ..summary import stage_contents

    return stage_contents(plan, st)


def stage_graph(plan, dpi=150):
    import graphviz

    g = graphviz.Digraph(dot(plan.spec.name + "-stages"), engine="dot")
    g.attr(rankdir="LR", dpi=str(dpi), bgcolor="white", fontname="Helvetica", ranksep="0.8",
           label=dot(LEGEND["stage"]), labelloc="b", fontsize="9", fontcolor="#555555")
    g.attr("node", shape="plain", fontname="Helvetica")
    g.attr("edge", fontname="Helvetica", fontsize="9", color="#555555")
    for st in plan.stages:
        texts = _stage_text(plan, st)[:12]
        title = "stage 0 (inputs)" if st.index == 0 else f"stage {st.index}"
        width = f'{st.width:,} neuron{"" if st.width == 1 else "s"}'
        label = markup('<table border="1" cellborder="0" cellspacing="0" cellpadding="3" bgcolor="#ffffff">'
                       '<tr><td><b>{}</b></td></tr>' + "<tr><td align='left'>{}</td></tr>" * len(texts)
                       + '<tr><td><font point-size="9" color="#555555">{}</font></td></tr></table>',
                       title, *texts, width)
        g.node(f"s{st.index}", **dot_attrs(dict(label=label, tooltip=f"stage {st.index}: {st.width} neurons")))
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


def overview_scene(graph, view, plan=None) -> Scene:
    """Columns-by-depth boxes for the layer or stage view, for the built-in SVG writer."""
    from .scene import Circle  # boxes are drawn as labelled circles' neighbours: keep one writer

    if view == "stage":
        boxes = [(st.index, f"stage {st.index}", _stage_text(plan, st)) for st in plan.stages]
        links = [(b.src, st.index, f"{'sparse' if b.sparse else 'dense'} {b.shape[0]}×{b.shape[1]}")
                 for st in plan.stages[1:] for b in st.blocks]
        column = {i: i for i, _, _ in boxes}
    else:
        params = _node_params(graph)
        boxes = [(n.index, n.name, [f"{n.size:,} × {'identity' if n.role == 'input' else n.activation[0]}",
                                    f"{params[n.index]:,} parameters"]) for n in graph.nodes]
        links = [(c.src, c.dst, _edge_label(c)) for c in graph.connections]
        column = {n.index: int(np.min(graph.neuron_level[n.offset:n.offset + n.size])) for n in graph.nodes}
    cols = sorted(set(column.values()))
    x_of = {c: 100 + 220 * i for i, c in enumerate(cols)}
    counts, pos = {}, {}
    for key, _, _ in boxes:
        c = column[key]
        pos[key] = (x_of[c], 60 + 90 * counts.get(c, 0))
        counts[c] = counts.get(c, 0) + 1
    scene = Scene(200 + 220 * max(len(cols) - 1, 0), 80 + 90 * max(counts.values()), title=graph.spec.name)
    for key, title, lines in boxes:
        x, y = pos[key]
        scene.circles.append(Circle(f"b{key}", x, y, "", f"{title}: " + ", ".join(lines), "#ffffff"))
        scene.texts.append(Text(x, y - 16, title, 10.5, bold=True))
        for k, line in enumerate(lines[:3]):
            scene.texts.append(Text(x, y + 26 + 12 * k, line, 9, color="#555555"))
    for a, b, label in links:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        scene.lines.append(Line(f"b{a}", f"b{b}", [(x1 + 12, y1), (x2 - 12, y2)], "#555555", 1.2, 0.9, label))
        scene.texts.append(Text((x1 + x2) / 2, (y1 + y2) / 2 - 4, label, 8.5, color="#555555"))
    scene.texts.append(Text(scene.width / 2, scene.height - 8, LEGEND[view], 9, color="#555555"))
    scene.height += 6
    fit(scene)
    return scene
