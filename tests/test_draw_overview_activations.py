"""Activation colouring in the layer and stage views: each box shows its neurons' activations as
cells (min, mean and max for wide ones) in the colours of the neuron view, and the legend says so."""
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nngraph import draw as drawmod
from nngraph.compile import compile
from nngraph.draw import render
from nngraph.draw.marks import signal_colour, signal_scale

from helpers import EX

SVG = "{http://www.w3.org/2000/svg}"
WIDE = """nngraph: 1
name: wide
nodes:
  - {name: x, role: input, size: 40}
  - {name: h, size: 64, activation: tanh, bias: 0.1}
  - {name: y, role: output, size: 3, activation: softmax, bias: 0}
edges:
  - {from: x, to: h, init: {name: he_normal, seed: 1}}
  - {from: h, to: y, init: {name: he_normal, seed: 2}}
"""
writers = pytest.mark.parametrize("graphviz", [
    pytest.param(True, marks=pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")),
    False])


def _expected(spec, x, view):
    """Per box (node or stage), the colours its cells must have, and the activations' scale."""
    plan = compile(spec, dtype="float64")
    act = plan.trace(np.asarray([x], dtype=float)).values[0]
    scale = signal_scale(act)
    groups = ([np.arange(n.offset, n.offset + n.size) for n in plan.graph.nodes] if view == "layer"
              else [st.neurons for st in plan.stages])
    out = []
    for g in groups:
        v = act[g]
        if len(v) > 32:
            v = [v.min(), v.mean(), v.max()]
        out.append([signal_colour(float(a), scale) for a in v])
    return out, scale


def _fills(root, graphviz):
    """The fill colours drawn, per box (Graphviz: each node's polygons) or in order (built-in: rects)."""
    if not graphviz:
        return [r.get("fill") for r in root.iter(SVG + "rect") if r.get("width") != "100%"]
    boxes = {int(g.find(SVG + "title").text[1:]): [p.get("fill") for p in g.iter(SVG + "polygon")
                                                     if p.get("fill") != "none"]  # none: cell borders
             for g in root.iter(SVG + "g") if g.get("class") == "node"}
    return [boxes[k] for k in sorted(boxes)]


def _contains(seq, part):
    return any(seq[i:i + len(part)] == part for i in range(len(seq) - len(part) + 1))


@writers
@pytest.mark.parametrize("view", ["layer", "stage"])
def test_boxes_show_their_neurons_activations(tmp_path, monkeypatch, graphviz, view):
    if not graphviz:
        monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    x = [1, 0.5, -1]
    out, _ = render(EX["irregular.yaml"], tmp_path / "i.svg", view=view, inputs={"x": x})
    root = ET.parse(out).getroot()
    boxes, scale = _expected(EX["irregular.yaml"], x, view)
    fills = _fills(root, graphviz)
    if graphviz:
        assert len(fills) == len(boxes)
        for drawn, want in zip(fills, boxes):
            assert _contains(drawn, want), (drawn, want)
    else:
        bar = [signal_colour(scale * (2 * k / 20 - 1), scale) for k in range(21)]
        assert fills == [c for b in boxes for c in b] + bar
    texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "cells: each neuron's activation for this input" in texts
    assert scale == 1.0 and "-1" in texts.split()  # the colour bar's ends: ±1, the input x[0] = 1


@writers
def test_wide_layers_show_min_mean_and_max(tmp_path, monkeypatch, graphviz):
    if not graphviz:
        monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    spec = tmp_path / "wide.yaml"
    spec.write_text(WIDE)
    x = np.random.default_rng(0).normal(size=40)
    out, _ = render(spec, tmp_path / "w.svg", view="layer", inputs=x[None])
    root = ET.parse(out).getroot()
    boxes, _ = _expected(spec, x, "layer")
    assert [len(b) for b in boxes] == [3, 3, 3]
    fills = _fills(root, graphviz)
    flat = fills if not graphviz else [c for f in fills for c in f]
    for want in boxes:
        assert _contains(flat, want)
    plan = compile(spec, dtype="float64")
    h = plan.trace(x[None]).act["h"][0]
    texts = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert f"min {h.min():.3g}, mean {h.mean():.3g}, max {h.max():.3g}" in texts


def test_activation_cells_need_set_weights(tmp_path):
    with pytest.raises(drawmod.DrawError, match="colouring by activation needs set weights"):
        render(EX["xor_train.yaml"], tmp_path / "x.svg", view="layer", inputs={"x": [1, 0]})
