"""Scenes out: DOT with fixed positions for Graphviz, or SVG from a small built-in writer."""
from __future__ import annotations

from .safe import dot, dot_attrs, xml
from .scene import R, Scene

PT_PER_INCH = 72.0


def _hex_alpha(color: str, opacity: float) -> str:
    return f"{color}{max(0, min(255, int(round(opacity * 255)))):02x}"


def scene_to_dot(scene: Scene, dpi: int = 150):
    """A graphviz.Digraph whose every shape has ``pos`` fixed: render with ``neato -n2``."""
    import graphviz

    g = graphviz.Digraph(dot(scene.title or "network"), engine="neato")
    h = scene.height
    g.attr(splines="false", outputorder="edgesfirst", dpi=str(dpi), bgcolor="white", pad="0.2",
           bb=f"0,0,{scene.width:.0f},{h:.0f}", fontname="Helvetica")
    g.attr("node", fontname="Helvetica", fixedsize="true")
    for c in scene.circles:
        g.node(c.id, **dot_attrs(dict(label=c.label, tooltip=c.tooltip, shape="circle",
                                      width=f"{2 * R / PT_PER_INCH:.3f}", pos=f"{c.x:.1f},{h - c.y:.1f}!",
                                      style="filled", fillcolor=c.fill, color=c.stroke, penwidth=f"{c.width:g}",
                                      fontsize="7")))
    for k, t in enumerate(scene.texts):
        # a text is a borderless node anchored like the SVG text: width estimated from its length
        w = max(len(t.text) * t.size * 0.55, 1.0)
        x = t.x + (w / 2 if t.anchor == "start" else -w / 2 if t.anchor == "end" else 0)
        g.node(f"t{k}", **dot_attrs(dict(label=t.text, shape="plaintext", width=f"{w / PT_PER_INCH:.3f}",
                                         height=f"{t.size * 1.3 / PT_PER_INCH:.3f}",
                                         pos=f"{x:.1f},{h - t.y + t.size * 0.35:.1f}!", fontsize=f"{t.size:g}",
                                         fontcolor=t.color, fontname="Helvetica-Bold" if t.bold else "Helvetica")))
    for e in scene.lines:
        g.edge(e.a, e.b, **dot_attrs(dict(color=_hex_alpha(e.color, e.opacity), penwidth=f"{e.width:.2f}",
                                          tooltip=e.tooltip, arrowhead="none",
                                          style="dashed" if e.dashed else "solid")))
    return g


def scene_to_svg(scene: Scene) -> str:
    """Standalone SVG of a scene; every neuron and connection has a ``<title>`` tooltip."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width:.0f}pt" height="{scene.height:.0f}pt" '
           f'viewBox="0 0 {scene.width:.0f} {scene.height:.0f}" font-family="Helvetica, Arial, sans-serif">',
           f"<title>{xml(scene.title)}</title>",
           '<rect width="100%" height="100%" fill="white"/>', '<g class="edges">']
    for e in scene.lines:
        dash = ' stroke-dasharray="5,3"' if e.dashed else ""
        out.append(f'<g class="edge"><title>{xml(e.tooltip)}</title><line x1="{e.x1:.1f}" y1="{e.y1:.1f}" '
                   f'x2="{e.x2:.1f}" y2="{e.y2:.1f}" stroke="{e.color}" stroke-opacity="{e.opacity:.2f}" '
                   f'stroke-width="{e.width:.2f}"{dash}/></g>')
    out.append('</g><g class="neurons">')
    for c in scene.circles:
        out.append(f'<g class="node" id="{xml(c.id)}"><title>{xml(c.tooltip)}</title>'
                   f'<circle cx="{c.x:.1f}" cy="{c.y:.1f}" r="{R:g}" fill="{c.fill}" stroke="{c.stroke}" '
                   f'stroke-width="{c.width:g}"/>'
                   + (f'<text x="{c.x:.1f}" y="{c.y + 2.5:.1f}" font-size="7" text-anchor="middle">'
                      f'{xml(c.label)}</text>' if c.label else "") + "</g>")
    out.append('</g><g class="texts">')
    for t in scene.texts:
        weight = ' font-weight="bold"' if t.bold else ""
        out.append(f'<text x="{t.x:.1f}" y="{t.y:.1f}" font-size="{t.size:g}" text-anchor="{t.anchor}" '
                   f'fill="{t.color}"{weight}>{xml(t.text)}</text>')
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
