"""Traced forward passes: every neuron's values equal the naive evaluator's, the outputs equal
plan.forward's, sizes are bounded, and the CLI prints and writes them."""
import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from nngraph import LimitError, DataError, reference
from nngraph.cli import main
from nngraph.compile import compile

from helpers import EX, EXAMPLES
from randomnets import random_spec



@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=hs.integers(0, 2**32 - 1), sparse=hs.booleans(), batch=hs.integers(1, 4))
def test_traced_values_equal_the_reference_per_neuron(seed, sparse, batch):
    plan = compile(random_spec(seed), dtype=np.float64, sparse_below=1.01 if sparse else 0.0)
    x = np.random.default_rng(seed).normal(0, 2, (batch, plan.input_width))
    pre, act = reference.evaluate_neurons(plan.graph, plan.parameters(), x)
    t = plan.trace(x)
    np.testing.assert_allclose(t.sums, pre, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(t.values, act, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(t.outputs, plan.forward(x), rtol=1e-12, atol=1e-12)
    for n in plan.graph.nodes:  # by node name, (batch, size)
        np.testing.assert_array_equal(t.act[n.name], t.values[:, n.offset:n.offset + n.size])
        np.testing.assert_array_equal(t.pre[n.name], t.sums[:, n.offset:n.offset + n.size])


def test_trace_by_node_name_and_input_names():
    plan = compile(EX["xor.yaml"])
    t = plan.trace({"x": [[1, 0], [1, 1]]})
    assert t.pre["hidden"].tolist() == [[0.5, -0.5], [1.5, 0.5]]
    assert t.act["hidden"].tolist() == [[1, 0], [1, 1]] and t.act["out"].tolist() == [[1], [0]]
    assert ("hidden", "hidden[1]", "and") in t.neurons()
    with pytest.raises(DataError, match="'y' is not an input node"):
        plan.trace({"y": [1, 0]})


def test_trace_size_is_bounded_before_allocating(monkeypatch):
    plan = compile(EX["xor.yaml"], dtype=np.float64)
    need = 2 * 3 * plan.graph.n_neurons * 8  # two values per neuron per sample
    monkeypatch.setenv("NNGRAPH_MAX_ARRAY_BYTES", str(need))
    plan.trace(np.zeros((3, 2)))
    monkeypatch.setenv("NNGRAPH_MAX_ARRAY_BYTES", str(need - 1))
    with pytest.raises(LimitError, match=r"trace of 3 sample\(s\) × 5 neurons.*NNGRAPH_MAX_ARRAY_BYTES"):
        plan.trace(np.zeros((3, 2)))


def test_run_trace_prints_hidden_neurons_with_labels():
    result = CliRunner().invoke(main, ["run", str(EX["xor.yaml"]), "--input", "x=1,0", "--trace"])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "hidden[" in line]
    assert len(rows) == 2 and "or" in rows[0] and "0.5" in rows[0] and "and" in rows[1] and "-0.5" in rows[1]


def test_run_trace_writes_every_neuron(tmp_path):
    out = tmp_path / "t.csv"
    result = CliRunner().invoke(main, ["run", str(EX["perceptron.yaml"]), "--input", "sleep=7", "--input",
                                       "study=3", "--trace", "--output", str(out)])
    assert result.exit_code == 0, result.output
    header, row = list(csv.reader(out.open()))
    assert dict(zip(header, map(float, row))) == {"sleep:pre": 7, "sleep": 7, "study:pre": 3, "study": 3,
                                                   "verdict:pre": 9, "verdict": 1}
    result = CliRunner().invoke(main, ["run", str(EX["perceptron.yaml"]), "--input", "sleep=7", "--input",
                                       "study=3", "--trace", "--json"])
    assert json.loads(result.stdout)["pre"] == [[7, 3, 9]]


def test_run_trace_needs_inputs():
    result = CliRunner().invoke(main, ["run", str(EX["xor.yaml"]), "--trace"])
    assert result.exit_code == 2 and "--input" in result.output


def _svg_text(path):
    """Tooltips (either writer) and texts of an SVG, as plain text."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    parts = [a.get("{http://www.w3.org/1999/xlink}title") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    parts += [el.text for el in root.iter() if el.tag.endswith(("title", "text"))]
    return "\n".join(p for p in parts if p)


@pytest.mark.parametrize("writer", ["graphviz", "builtin"])
def test_draw_colours_by_activation_and_signal(tmp_path, monkeypatch, writer):
    import shutil

    from nngraph import draw as drawmod

    if writer == "builtin":
        monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    elif shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    out = tmp_path / "p.svg"
    result = CliRunner().invoke(main, ["draw", str(EX["perceptron.yaml"]), "--input", "sleep=7", "--input", "study=3",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = _svg_text(out)
    assert "verdict: b = -24, activation = 1" in text and "sleep -> verdict: w = 3, signal = 21" in text
    assert "filled by its activation" in text and "colour bar" in text
    raw = out.read_text().lower()
    assert "#4393c3" in raw and "#d6604d" in raw  # both ends of the colour bar


def test_draw_inputs_row_and_bad_inputs(tmp_path):
    rows = tmp_path / "x.csv"
    rows.write_text("a,b\n0,0\n1,0\n")
    out = tmp_path / "x.svg"
    result = CliRunner().invoke(main, ["draw", str(EX["xor.yaml"]), "--inputs", str(rows), "--row", "1",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "hidden[0] (or): b = -0.5, activation = 1" in _svg_text(out)
    result = CliRunner().invoke(main, ["draw", str(EX["xor.yaml"]), "--inputs", str(rows), "--row", "2"])
    assert result.exit_code == 2 and "has 2 rows" in result.output
    result = CliRunner().invoke(main, ["draw", str(EX["perceptron.yaml"]), "--input", "slep=7", "-o", str(out)])
    assert result.exit_code == 2 and "did you mean 'sleep'" in result.output  # a usage error, as --row's
    result = CliRunner().invoke(main, ["draw", str(EX["xor.yaml"]), "--input", "x=1,0", "--view", "layer",
                                       "-o", str(out)])
    assert result.exit_code == 0 and "cells: each neuron" in out.read_text()  # every view colours
