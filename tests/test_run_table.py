"""`run` prints every number whole on a narrow terminal: the tables narrow their digits, turn, or
split into groups of columns, and each printed number reads back as the value it stands for."""
import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

from nngraph import compile, load
from nngraph.cli import main
from nngraph.numfmt import format_column, layout


def _spec(tmp_path, n_in, n_out, act="linear", labels=None, weights=None):
    w = weights if weights is not None else np.random.default_rng(1).normal(size=(n_in, n_out)) * 10.0 ** np.arange(
        -5, -5 + n_out)
    lab = f", labels: {labels}" if labels else ""
    path = tmp_path / "net.yaml"
    path.write_text(f"""nngraph: 1
name: net
nodes:
  - {{name: x, size: {n_in}, role: input}}
  - {{name: digit, size: {n_out}, role: output, activation: {act}, bias: 0{lab}}}
edges:
  - {{from: x, to: digit, weights: {np.asarray(w).tolist()}}}
""")
    return path


def _printed(out):
    """The tables printed: a list of (header cells, rows of cells)."""
    tables, header, rows = [], None, []
    for line in out.splitlines():
        if line.startswith("┃"):
            header = [c.strip() for c in line.strip("┃").split("┃")]
        elif line.startswith("│"):
            rows.append([c.strip() for c in line.strip("│").split("│")])
        elif line.startswith("└"):
            tables.append((header, rows))
            header, rows = None, []
    return tables


def _close(text, value):
    """``text`` reads back as ``value`` within half a unit of its last printed digit."""
    m = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?:e([+-]\d+))?", text)
    assert m, f"not a whole number: {text!r}"
    decimals = len(m.group(2) or "") - int(m.group(3) or 0)
    return abs(float(text) - value) <= 0.5 * 10.0 ** -decimals * (1 + 1e-6) + 1e-12


def _check(out, names, values, width):
    assert "…" not in out
    assert all(len(line) <= width for line in out.splitlines()), out
    seen = {}
    for header, rows in _printed(out):
        if header[0] == "name":  # turned: a row per column
            for row in rows:
                seen.setdefault(row[0], []).extend(row[1:])
        else:
            for j, h in enumerate(header):
                seen.setdefault(h, []).extend(r[j] for r in rows)
    for j, name in enumerate(names):
        assert name in seen, (name, out)
        cells = seen[name]
        assert len(cells) == values.shape[0]
        for text, v in zip(cells, values[:, j]):
            assert _close(text, float(v)), (name, text, float(v), out)
    return seen


@pytest.mark.parametrize("width", [80, 40])
@pytest.mark.parametrize("n_in,n_out,rows", [(4, 3, 3), (784, 10, 3), (3, 20, 50), (2, 1, 1)])
def test_every_printed_number_reads_back(tmp_path, monkeypatch, width, n_in, n_out, rows):
    monkeypatch.setenv("COLUMNS", str(width))
    path = _spec(tmp_path, n_in, n_out)
    x = np.random.default_rng(2).normal(size=(rows, n_in)).astype("float32") * 1000
    np.save(tmp_path / "m.npy", x)
    r = CliRunner().invoke(main, ["run", str(path), "--inputs", str(tmp_path / "m.npy")])
    assert r.exit_code == 0, r.output
    plan = compile(load(path))
    y = plan.forward(x)
    names = plan.output_names() + (plan.input_names() if n_in <= 8 else [])
    values = np.hstack([y, x]) if n_in <= 8 else y
    _check(r.stdout, names, values, width)


@pytest.mark.parametrize("width", [80, 40])
def test_softmax_tiny_values_keep_their_exponent_and_classes_are_named(tmp_path, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    w = np.zeros((2, 10))
    w[0, 3], w[1, 7] = 12.0, 3.0  # outputs from about 1e-5 to 1
    labels = [f"digit{i}" for i in range(10)]
    path = _spec(tmp_path, 2, 10, act="softmax", labels=labels, weights=w)
    x = np.array([[1, 0], [0, 1], [0.5, 0.5]], dtype="float32")
    np.save(tmp_path / "m.npy", x)
    r = CliRunner().invoke(main, ["run", str(path), "--inputs", str(tmp_path / "m.npy")])
    assert r.exit_code == 0, r.output
    y = compile(load(path)).forward(x)
    assert y.min() < 1e-4
    seen = _check(r.stdout, labels + ["x[0]", "x[1]"], np.hstack([y, x]), width)
    assert seen["predicted"] == ["digit3", "digit7", "digit3"]


def test_a_column_has_one_format_and_zero_has_no_sign():
    assert format_column([7.5e-05, 0.9, 0.1], 3) == ["7.50e-05", "9.00e-01", "1.00e-01"]
    assert format_column([0.5, 0.25, -0.0], 3) == ["0.500", "0.250", "0.000"]
    assert format_column([12.5, 3.0], 4) == ["12.50", "3.00"]


def test_too_wide_for_turning_splits_into_groups_that_each_fit():
    header = [f"output{i}" for i in range(12)]
    columns = [np.linspace(-1, 1, 30) * math.pi * 10 ** i for i in range(12)]
    turned, tables = layout(header, columns, 40)
    assert not turned and len(tables) > 1
    assert [h for head, _ in tables for h in head] == header
    for head, cells in tables:
        assert sum(max(len(c) for c in [h] + col) + 3 for h, col in zip(head, cells)) + 1 <= 40


def test_a_small_loss_never_reads_as_zero():
    from nngraph.numfmt import loss

    assert [loss(x) for x in (42.11713, 0.0944, 0.001, 0.000718, 2.8e-05, 0.0, float("nan"), float("inf"))] == \
        ["42.1171", "0.0944", "0.0010", "0.000718", "2.8e-05", "0.0000", "nan", "inf"]


def test_run_json_is_strict_json_when_an_output_overflows(tmp_path):
    import json

    from helpers import cli

    spec = tmp_path / "big.yaml"
    spec.write_text("nngraph: 1\nname: big\nnodes:\n  - {name: x, role: input}\n  - {name: y, role: output}\n"
                    "edges:\n  - {from: x, to: y, weight: 1.0e+38}\n")
    code, out, err = cli("run", spec, "--input", "x=10", "--json")
    assert code == 0, err

    def refuse(name):
        raise AssertionError(f"{name} is not JSON")
    assert json.loads(out, parse_constant=refuse)["values"] == [[None]]  # 1e39 overflows float32: null
