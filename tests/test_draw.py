"""Diagrams: parse the SVG/DOT and assert what is drawn, not only that a file exists."""
import re
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from nngraph import draw as drawmod
from nngraph.cli import main
from nngraph.draw import render

from helpers import EX, EXAMPLES, ROOT

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def _svg(path):
    return ET.parse(path).getroot()


def _groups(root, cls):
    return [g for g in root.iter(SVG + "g") if g.get("class") == cls]


def _tips(root):
    """Tooltips of a Graphviz SVG (xlink:title) or of the built-in writer (<title>)."""
    tips = [a.get("{http://www.w3.org/1999/xlink}title") for a in root.iter(SVG + "a")]
    tips += [t.text for t in root.iter(SVG + "title")]
    return [t for t in tips if t]


@pytest.fixture(params=["graphviz", "builtin"])
def renderer(request, monkeypatch):
    if request.param == "graphviz" and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    if request.param == "builtin":
        monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    return request.param


def test_xor_neuron_view(tmp_path, renderer):
    out, _ = render(EX["xor.yaml"], tmp_path / "x.svg", view="neuron")
    root = _svg(out)
    circles = list(root.iter(SVG + "ellipse")) + list(root.iter(SVG + "circle"))
    assert len(circles) == 5
    tips = _tips(root)
    assert "hidden[0] (or): b = -0.5" in tips and "hidden[1] (and): b = -1.5" in tips
    assert "hidden[1] -> out: w = -1" in tips and "x[0] -> hidden[0]: w = 1" in tips
    text = ET.tostring(root, encoding="unicode")
    strokes = re.findall(r'stroke="(#[0-9a-f]{6})', text)
    assert "#c0392b" in strokes and "#2166ac" in strokes  # one negative weight, positive ones
    assert "2 inputs" in text and "2 × step" in text and "drawn: 6 of 6 weights" in text


def test_wide_layers_collapse(tmp_path, renderer):
    out, _ = render(EX["mnist_mlp.yaml"], tmp_path / "m.svg", view="neuron")
    root = _svg(out)
    text = ET.tostring(root, encoding="unicode")
    circles = list(root.iter(SVG + "ellipse")) + list(root.iter(SVG + "circle"))
    assert len(circles) == 11 + 11 + 11 + 10
    assert "⋮ 773 more" in text and text.count("⋮ 245 more") == 2
    assert "drawn: 352 of 268,800 weights" in text and "784 inputs" in text
    assert "weights not trained yet (training starts from the spec's init)" in text and "#9e9e9e" in text  # untrained: grey


def test_cycle_is_drawn_in_red(tmp_path, renderer):
    spec = tmp_path / "c.yaml"
    spec.write_text("nngraph: 1\nname: c\nnodes:\n  - {name: x, role: input}\n  - {name: h, size: 2}\n"
                    "  - {name: y, role: output}\nedges:\n  - {from: x, to: h}\n"
                    '  - {from: "h[0]", to: "h[1]", weight: 1}\n  - {from: "h[1]", to: "h[0]", weight: 1}\n'
                    "  - {from: h, to: y}\n")
    out, notes = render(spec, tmp_path / "c.svg", view="neuron")
    text = ET.tostring(_svg(out), encoding="unicode")
    assert "the cycle h[0] -&gt; h[1] -&gt; h[0] is drawn in red" in text
    assert text.count("#d62728") >= 3 and "cycle" in notes[0]


@needs_dot
def test_layer_and_stage_views(tmp_path):
    out, _ = render(EX["skip_connection.yaml"], tmp_path / "l.svg", view="layer")
    root = _svg(out)
    assert len(_groups(root, "node")) == 3 and len(_groups(root, "edge")) == 3
    assert "4×3" in ET.tostring(root, encoding="unicode")  # the skip edge's matrix shape
    out, _ = render(EX["skip_connection.yaml"], tmp_path / "s.svg", view="stage")
    root = _svg(out)
    edges = _groups(root, "edge")
    assert len(_groups(root, "node")) == 3 and len(edges) == 3  # 0->1, 0->2 (skip), 1->2
    assert "s0&#45;&gt;s2" in ET.tostring(root, encoding="unicode") or any(
        (e.find(SVG + "title").text or "").replace("&#45;", "-") == "s0->s2" for e in edges)


@needs_dot
def test_png_and_pdf(tmp_path):
    out, _ = render(EX["perceptron.yaml"], tmp_path / "p.png", dpi=100)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out, _ = render(EX["perceptron.yaml"], tmp_path / "p.pdf", view="layer")
    assert out.read_bytes()[:5] == b"%PDF-"


def test_dot_output_has_fixed_positions(tmp_path):
    out, _ = render(EX["xor.yaml"], tmp_path / "x.dot", view="neuron")
    text = out.read_text()
    assert text.count('pos="') >= 5 and 'shape=circle' in text and "w = -1" in text


def test_png_without_graphviz_exits_2(tmp_path, monkeypatch):
    monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    result = CliRunner().invoke(main, ["draw", str(EX["xor.yaml"]), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "apt-get install graphviz" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_auto_picks_layer_view_for_huge_nets_and_refuses_minutes(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("nngraph: 1\nname: big\nnodes:\n  - {name: x, role: input, size: 300}\n"
                    "  - {name: y, role: output, size: 300}\nedges:\n  - {from: x, to: y}\n")
    assert drawmod.prepare(spec, "auto", max_neurons=12)[1] == "neuron"
    assert drawmod.prepare(spec, "auto", max_neurons=300)[1] == "layer"
    with pytest.raises(drawmod.DrawError, match="--force"):
        drawmod.prepare(spec, "neuron", max_neurons=300)
    assert drawmod.prepare(spec, "neuron", max_neurons=300, force=True)[1] == "neuron"


def test_focus_draws_a_neighbourhood(tmp_path, renderer):
    out, _ = render(EX["irregular.yaml"], tmp_path / "f.svg", view="neuron", focus="h[2]", radius=1)
    root = _svg(out)
    circles = list(root.iter(SVG + "ellipse")) + list(root.iter(SVG + "circle"))
    assert len(circles) == 3  # h[1] -> h[2] -> g[0]


def test_python_api_returns_a_graphviz_object():
    import graphviz

    g = drawmod.draw(EX["perceptron.yaml"], view="layer")
    assert isinstance(g, graphviz.Digraph) and "verdict" in g.source


def test_builtin_writer_draws_layer_and_stage_views(tmp_path, monkeypatch):
    monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    out, notes = render(EX["skip_connection.yaml"], tmp_path / "l.svg", view="layer")
    root = _svg(out)
    assert len(_groups(root, "node")) == 3 and len(_groups(root, "edge")) == 3 and "built-in" in notes[0]
    assert "x: 4 inputs, 0 parameters" in _tips(root)
    out, _ = render(EX["skip_connection.yaml"], tmp_path / "s.svg", view="stage")
    assert len(_groups(_svg(out), "edge")) == 3


@pytest.mark.parametrize("view", ["layer", "neuron"])
def test_inputs_are_captioned_as_inputs_not_with_an_activation(tmp_path, renderer, view):
    # an input node has no activation: its box, its column caption and its hover tip count inputs
    out, _ = render(EX["perceptron.yaml"], tmp_path / "p.svg", view=view)
    root = _svg(out)
    text = ET.tostring(root, encoding="unicode")
    assert text.count(">1 input<") == 2 and "identity" not in text
    assert "1 × sign" in text
    if view == "layer":
        assert "sleep: 1 input, 0 parameters" in _tips(root)
        assert "verdict: 1 × sign, 3 parameters" in _tips(root)


@needs_dot
def test_a_label_graphviz_cannot_read_is_a_located_refusal_for_png_and_the_built_in_writer_for_svg(tmp_path):
    # dot quits on a string of tens of thousands of characters before reading the rest of its input:
    # writing to it then failed with a bare BrokenPipeError, which the CLI printed as nothing at all
    import json

    spec = {"nngraph": 1, "name": "long", "nodes": [
        {"name": "a", "role": "input", "size": 1, "labels": ["x" * 60000]},
        {"name": "b", "role": "output", "size": 1, "activation": "sigmoid"}],
        "edges": [{"from": "a", "to": "b", "weights": [[1.0]]}]}
    (tmp_path / "long.json").write_text(json.dumps(spec))
    runner = CliRunner()
    result = runner.invoke(main, ["draw", str(tmp_path / "long.json"), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 1
    assert "Graphviz stopped reading the neuron view" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.png").exists()
    result = runner.invoke(main, ["draw", str(tmp_path / "long.json"), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 0, result.output
    assert "wrote SVG with the built-in writer instead" in result.output
    ET.fromstring((tmp_path / "x.svg").read_text())  # a whole SVG document
