"""The neuron view's legend says what run computes with: a missing bias is 0 (spec.md), and the
seeded init of a spec without train is the network run uses; only what training has yet to set is grey."""
import re
import xml.etree.ElementTree as ET

import numpy as np

from nngraph.compile import compile
from nngraph.draw import render

from helpers import EX


def _legend(path):
    text = ET.tostring(ET.parse(path).getroot(), encoding="unicode")
    return text


def test_irregular_biases_are_the_default_zero(tmp_path):
    out, _ = render(EX["irregular.yaml"], tmp_path / "i.svg", view="neuron")
    text = _legend(out)
    assert "not set yet" not in text and "not trained yet" not in text
    assert "the number inside is its bias b (0 where the spec gives none)" in text


def test_seeded_weights_of_a_spec_without_train_are_drawn_as_run_uses_them(tmp_path):
    out, _ = render(EX["skip_connection.yaml"], tmp_path / "s.svg", view="neuron")
    text = _legend(out)
    assert "not set yet" not in text and "initialised when training" not in text and "not trained yet" not in text
    assert "blue positive weight, red negative" in text
    # the drawn weights are the ones run uses (coloured, not grey)
    plan = compile(EX["skip_connection.yaml"], dtype=np.float64)
    w = plan.parameters()["edges/x->hidden"]
    colour = "#2166ac" if w[0, 0] > 0 else "#c0392b"
    assert colour in re.findall(r'stroke="(#[0-9a-f]{6})', text)


def test_untrained_weights_of_a_spec_with_train_say_so(tmp_path):
    spec = tmp_path / "t.yaml"
    spec.write_text("nngraph: 1\nname: t\nnodes:\n  - {name: x, role: input, size: 2}\n"
                    "  - {name: y, role: output, activation: sigmoid}\nedges:\n  - {from: x, to: y, init: he_normal}\n"
                    "train: {epochs: 1, loss: mse, optimizer: {name: sgd, learning_rate: 0.1}}\n")
    out, _ = render(spec, tmp_path / "t.svg", view="neuron")
    text = _legend(out)
    assert "weights not trained yet (training starts from the spec's init): drawn in grey" in text
    assert "its bias b (0 where the spec gives none)" in text
