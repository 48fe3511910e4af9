"""Scenes out: DOT with fixed positions for Graphviz, or SVG from a small built-in writer."""
from __future__ import annotations

import math

from .safe import dot, dot_attrs, xml
from .shapes import R, Scene

PT_PER_INCH = 72.0


def _hex_alpha(color: str, opacity: float) -> str:
    return f"{color}{max(0, min(255, int(round(opacity * 255)))):02x}"


def arrow(pts, width):
    """The polyline shortened by an arrowhead, and the arrowhead's three corners."""
    (xa, ya), (xb, yb) = pts[-2], pts[-1]
    d = math.hypot(xb - xa, yb - ya) or 1.0
    ux, uy = (xb - xa) / d, (yb - ya) / d
    length = min(5.0 + 1.2 * width, 0.6 * d)
    half = length * 0.4
    bx, by = xb - ux * length, yb - uy * length
    head = [(xb, yb), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
    return pts[:-1] + [(bx, by)], head, length


def scene_to_dot(scene: Scene, dpi: int = 150):
    """A graphviz.Digraph whose every shape has ``pos`` fixed: render with ``neato -n2``."""
    import graphviz

    g = graphviz.Digraph(dot(scene.title or "network"), engine="neato")
    h = scene.height
    g.attr(splines="true", outputorder="edgesfirst", dpi=str(dpi), bgcolor="white", pad="0.2",
           bb=f"0,0,{scene.width:.0f},{h:.0f}", fontname="Helvetica")
    g.attr("node", fontname="Helvetica", fixedsize="true")
    for c in scene.circles:
        g.node(c.id, **dot_attrs(dict(label=c.label, tooltip=c.tooltip, shape="circle",
                                      width=f"{2 * R / PT_PER_INCH:.3f}", pos=f"{c.x:.1f},{h - c.y:.1f}!",
                                      style="filled", fillcolor=c.fill, color=c.stroke, penwidth=f"{c.width:g}",
                                      fontsize="7")))
    for k, r in enumerate(scene.rects):
        g.node(f"r{k}", **dot_attrs(dict(label="", shape="box", width=f"{r.w / PT_PER_INCH:.3f}",
                                         height=f"{r.h / PT_PER_INCH:.3f}", style="filled", penwidth="0",
                                         fillcolor=r.fill, pos=f"{r.x + r.w / 2:.1f},{h - r.y - r.h / 2:.1f}!")))
    for k, t in enumerate(scene.texts):
        # a text is a borderless node anchored like the SVG text: width estimated from its length
        w = max(len(t.text) * t.size * 0.55, 1.0) + (4 if t.halo else 0)
        x = t.x + (w / 2 if t.anchor == "start" else -w / 2 if t.anchor == "end" else 0)
        halo = dict(style="filled", fillcolor="white", margin="0") if t.halo else {}
        g.node(f"t{k}", **dot_attrs(dict(label=t.text, shape="plaintext", width=f"{w / PT_PER_INCH:.3f}",
                                         height=f"{t.size * 1.3 / PT_PER_INCH:.3f}",
                                         pos=f"{x:.1f},{h - t.y + t.size * 0.35:.1f}!", fontsize=f"{t.size:g}",
                                         fontcolor=t.color, fontname="Helvetica-Bold" if t.bold else "Helvetica",
                                         **halo)))
    for e in scene.lines:
        body, head, length = arrow(e.pts, e.width)
        spline = [body[0]] + [p for a, b in zip(body, body[1:]) for p in (a, b, b)]
        pos = f"e,{head[0][0]:.1f},{h - head[0][1]:.1f} " + " ".join(f"{x:.1f},{h - y:.1f}" for x, y in spline)
        g.edge(e.a, e.b, **dot_attrs(dict(color=_hex_alpha(e.color, e.opacity), penwidth=f"{e.width:.2f}",
                                          tooltip=e.tooltip, pos=pos, arrowsize=f"{length / 10:.2f}",
                                          style="dashed" if e.dashed else "solid")))
    return g


def _pts(pts) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def scene_to_svg(scene: Scene) -> str:
    """Standalone SVG of a scene; every neuron and connection has a ``<title>`` tooltip."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width:.0f}pt" height="{scene.height:.0f}pt" '
           f'viewBox="0 0 {scene.width:.0f} {scene.height:.0f}" font-family="Helvetica, Arial, sans-serif">',
           f"<title>{xml(scene.title)}</title>",
           '<rect width="100%" height="100%" fill="white"/>', '<g class="edges">']
    for e in scene.lines:
        dash = ' stroke-dasharray="5,3"' if e.dashed else ""
        body, head, _ = arrow(e.pts, e.width)
        data = f' data-w="{e.weight!r}"' if e.weight is not None else ""
        cls = "edge cycle" if e.dashed else "edge"
        out.append(f'<g class="{cls}" data-from="{xml(e.a)}" data-to="{xml(e.b)}"{data}><title>{xml(e.tooltip)}</title>'
                   f'<polyline points="{_pts(body)}" fill="none" stroke="{e.color}" stroke-opacity="{e.opacity:.2f}" '
                   f'stroke-width="{e.width:.2f}"{dash}/><polygon points="{_pts(head)}" fill="{e.color}" '
                   f'fill-opacity="{e.opacity:.2f}"/></g>')
    out.append('</g><g class="neurons">')
    for c in scene.circles:
        out.append(f'<g class="node" id="{xml(c.id)}"><title>{xml(c.tooltip)}</title>'
                   f'<circle cx="{c.x:.1f}" cy="{c.y:.1f}" r="{R:g}" fill="{c.fill}" stroke="{c.stroke}" '
                   f'stroke-width="{c.width:g}"/>'
                   + (f'<text x="{c.x:.1f}" y="{c.y + 2.5:.1f}" font-size="7" text-anchor="middle">'
                      f'{xml(c.label)}</text>' if c.label else "") + "</g>")
    out.append('</g><g class="marks">')
    for r in scene.rects:
        out.append(f'<rect x="{r.x:.1f}" y="{r.y:.1f}" width="{r.w:.1f}" height="{r.h:.1f}" fill="{r.fill}"/>')
    out.append('</g><g class="texts">')
    for t in scene.texts:
        weight = ' font-weight="bold"' if t.bold else ""
        # every caption gets a white outline under its letters, not only numbers on lines: an arrow
        # passing under a node's caption would strike it through (on white it is invisible)
        halo = f' stroke="white" stroke-width="{2.5 if t.halo else 2}" paint-order="stroke"'
        ident = f' id="{xml(t.id)}"' if t.id else ""
        out.append(f'<text{ident} x="{t.x:.1f}" y="{t.y:.1f}" font-size="{t.size:g}" text-anchor="{t.anchor}" '
                   f'fill="{t.color}"{weight}{halo}>{xml(t.text)}</text>')
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
