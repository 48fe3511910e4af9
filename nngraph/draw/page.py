"""One self-contained HTML page: the neuron view with pan and zoom, hover details, fan-in/fan-out
highlighting and input controls that rerun the forward pass in the browser.

Everything is inline (the SVG, the script, the style and the compiled stages as base64 arrays), and
a Content-Security-Policy allows only that inline script and style (by hash): the page can fetch
nothing. The script computes stage by stage from the same blocks ``plan.forward`` multiplies.
"""
from __future__ import annotations

import base64
import hashlib
from importlib import resources

import numpy as np

from ..errors import DrawError
from .emit import scene_to_svg
from .safe import js, xml

MAX_PAGE_WEIGHTS = 2_000_000  # weights embedded in a page (8 MB of float32) before it is refused
MAX_FIELDS = 32  # inputs shown as one field and slider each; more are set from the console (or a pad if square)


def _b64(a, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def _stage_data(plan) -> list:
    out = []
    for st in plan.stages:
        blocks = []
        for b in st.blocks:
            rows = None if b.rows is None else _b64(b.rows, "<i4")
            if b.sparse:
                W = b.W.tocsr()
                blocks.append({"src": b.src, "rows": rows, "dense": False, "shape": list(W.shape),
                               "indptr": _b64(W.indptr, "<i4"), "indices": _b64(W.indices, "<i4"),
                               "data": _b64(W.data, "<f4")})
            else:
                blocks.append({"src": b.src, "rows": rows, "dense": True, "shape": list(b.W.shape),
                               "W": _b64(b.W, "<f4")})
        bias = st.bias if st.bias is not None else np.zeros(st.width)
        out.append({"neurons": _b64(st.neurons, "<i4"), "bias": _b64(bias, "<f4"),
                    "segments": [[n, a, int(lo), int(hi)] for n, a, lo, hi in st.segments], "blocks": blocks})
    return out


def _controls(plan) -> str:
    names = plan.input_names()
    width = plan.input_width
    if width <= MAX_FIELDS:
        rows = "".join(
            f'<label><span>{xml(n)}</span><input class="x" type="number" step="any" value="0" data-col="{k}" '
            f'aria-label="{xml(n)}"><input class="xs" type="range" min="-10" max="10" step="0.01" value="0" '
            f'data-col="{k}" tabindex="-1"></label>' for k, n in enumerate(names))
        return f'<div id="inputs">{rows}</div>'
    side = int(round(width ** 0.5))
    pad = (f'<canvas id="pad" width="{side * 8}" height="{side * 8}" data-side="{side}"></canvas>'
           '<button id="clear" type="button">clear</button>' if side * side == width and side >= 8 else "")
    return (f'<p>{width:,} inputs ({xml(", ".join(n for n, _ in plan.inputs))}): draw on the pad, or call '
            f'<code>nngraph.setInputs([...])</code> from the console.</p>{pad}')


def page(graph, scene_for, inputs=None) -> str:
    """The page's text; ``scene_for(values, known, signal)`` makes the neuron scene; ``inputs``: the
    sample shown first (zeros by default)."""
    from ..compile import compile

    plan = compile(graph)
    if plan.n_parameters > MAX_PAGE_WEIGHTS:
        raise DrawError(f"the network has {plan.n_parameters:,} parameters; a page embeds at most "
                        f"{MAX_PAGE_WEIGHTS:,} to stay small and quick: draw a static view (.svg) instead, or "
                        "--focus a neuron's neighbourhood there")
    x0 = np.zeros((1, plan.input_width), dtype=plan.dtype) if inputs is None else plan.as_input(inputs)[:1]
    t = plan.trace(x0)
    values = plan.parameters()
    scene = scene_for(values, set(values), t.values[0])
    svg = scene_to_svg(scene).replace("<svg ", '<svg id="diagram" ', 1)
    note = ('<p class="warn">These weights are initial values, not trained ones.</p>'
            if "untrained" in plan.params_origin else "")
    data = {"n": int(graph.n_neurons), "stages": _stage_data(plan), "x0": x0[0].tolist(),
            "outputs": [int(g) for n in graph.outputs for g in range(n.offset, n.offset + n.size)]}
    outputs = "".join(f'<tr><th>{xml(n)}</th><td id="out{k}"></td></tr>' for k, n in enumerate(plan.output_names()))
    script = resources.files(__package__).joinpath("page.js").read_text(encoding="utf-8")
    style = resources.files(__package__).joinpath("page.css").read_text(encoding="utf-8")
    csp = (f"default-src 'none'; script-src 'sha256-{_sha(script)}'; style-src 'sha256-{_sha(style)}'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{xml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{xml(graph.spec.name)}</title>
<style>{style}</style></head>
<body><main><aside>
<h1>{xml(graph.spec.name)}</h1><p class="dim">{xml(graph.spec.description or "")}</p>
<p class="dim">{xml(plan.params_origin)}</p>{note}
<h2>inputs</h2>{_controls(plan)}
<h2>outputs</h2><table id="outputs">{outputs}</table><p id="timing" class="dim"></p>
<h2>details</h2><pre id="info">hover over a neuron or a connection; click a neuron to show its connections</pre>
</aside><div id="view">{svg}</div></main>
<script type="application/json" id="net">{js(data)}</script>
<script>{script}</script>
</body></html>
"""


def _sha(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
