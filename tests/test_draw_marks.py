"""What the marks say: weights printed on small nets, zero weights grey, bias labels that fit,
a legend in every view, and deep chains refused or focused instead of drawn for minutes."""
import xml.etree.ElementTree as ET

import pytest

from nngraph import draw as drawmod
from nngraph.draw import render
from nngraph.draw.scene import _short

from helpers import EX, EXAMPLES

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def builtin(monkeypatch):
    monkeypatch.setattr(drawmod, "has_dot", lambda: False)


def _texts(path):
    return [t.text for t in ET.parse(path).getroot().iter(SVG + "text")]


def test_small_nets_print_their_weights_and_biases(tmp_path):
    texts = _texts(render(EX["perceptron.yaml"], tmp_path / "p.svg", view="neuron")[0])
    assert "3" in texts and "4" in texts and "-24" in texts
    assert any("the number inside is its bias b" in t for t in texts)
    assert any("the number on it is the weight" in t for t in texts)


def test_zero_weights_are_grey_not_positive(tmp_path):
    spec = tmp_path / "z.yaml"
    spec.write_text("nngraph: 1\nname: z\nnodes:\n  - {name: x, role: input, size: 2}\n"
                    "  - {name: y, role: output, bias: 123456.789}\nedges:\n  - {from: x, to: y, weights: [[0], [2]]}\n")
    root = ET.parse(render(spec, tmp_path / "z.svg", view="neuron")[0]).getroot()
    colours = {g.find(SVG + "title").text.split(":")[0]: g.find(SVG + "polyline").get("stroke")
               for g in root.iter(SVG + "g") if g.get("class") == "edge"}
    assert colours == {"x[0] -> y": "#9e9e9e", "x[1] -> y": "#2166ac"}
    assert "1.2e5" in _texts(tmp_path / "z.svg")  # the bias, short enough to stay inside its circle


def test_bias_labels_fit_in_the_circle():
    for v in (-24, 0.5, -0.333333, 123456.789, -0.000123456, 1e-300, -9.87e22):
        assert len(_short(v)) <= 5
    assert _short(-24) == "-24" and _short(0.5) == "0.5"


@pytest.mark.parametrize("view,words", [("layer", "box: a node (layer)"), ("stage", "box: a compiled stage")])
def test_every_view_has_a_legend(tmp_path, view, words):
    texts = _texts(render(EX["skip_connection.yaml"], tmp_path / "v.svg", view=view)[0])
    assert any(words in t for t in texts)


def _chain(tmp_path, n):
    spec = tmp_path / "chain.yaml"
    spec.write_text(f"nngraph: 1\nname: chain\nnodes:\n  - {{name: x, role: input}}\n  - {{name: h, size: {n}}}\n"
                    f"  - {{name: y, role: output}}\nedges:\n  - {{from: x, to: 'h[0]', weight: 1}}\n"
                    f"  - {{from: 'h[0:{n - 1}]', to: 'h[1:{n}]', pattern: one_to_one, init: {{name: constant, value: 1}}}}\n"
                    f"  - {{from: 'h[{n - 1}]', to: y, weight: 1}}\n")
    return spec


def test_deep_chains_are_refused_with_advice_or_focused(tmp_path):
    spec = _chain(tmp_path, 2000)
    with pytest.raises(drawmod.DrawError, match=r"2,002 stages deep.*--focus NEURON --radius N"):
        render(spec, tmp_path / "c.svg", view="neuron")
    assert drawmod.prepare(spec, "auto")[1] == "layer"
    out, _ = render(spec, tmp_path / "c.svg", view="neuron", focus="h[1000]", radius=2)
    assert sum(1 for _ in ET.parse(out).getroot().iter(SVG + "circle")) == 5
