"""An inputs CSV whose header names the columns by numeric labels (an imported NEAT genome labels
its inputs -1, -2): a first row that is exactly the input labels, each once, is the header, in the
whole-file reader and the streamed one alike, and the choice is said; a first row of labels that
is not such a header is read as values, and that is said too."""
import json

import numpy as np
import pytest

from nngraph import stream
from nngraph.compile import compile
from nngraph.io import InputNote, read_inputs

from helpers import cli, spec_text

SPEC = spec_text("""
    nngraph: 1
    name: winner
    nodes:
      - {name: x, role: input, size: 2, labels: ["-1", "-2"]}
      - {name: out, role: output, activation: linear}
    edges:
      - {from: "x[0]", to: out, weight: 1.0}
      - {from: "x[1]", to: out, weight: 10.0}
""")


@pytest.fixture
def plan(tmp_path):
    path = tmp_path / "winner.yaml"
    path.write_text(SPEC)
    return compile(path, dtype="float64")


def _streamed(path, plan):
    source = stream.open_inputs(path, plan.input_width, plan)
    return source.read(0, source.rows)


READERS = {"whole file": read_inputs, "streamed": _streamed}


@pytest.mark.parametrize("reader", READERS)
def test_numeric_labels_header_reorders_columns(tmp_path, plan, reader):
    path = tmp_path / "y.csv"
    path.write_text("-2,-1\n1,0\n3,4\n")
    with pytest.warns(InputNote, match=r"y\.csv:1: the first row \(-2,-1\) names the network's input labels: read "
                                       r"as a header, not as values .*write -2 as -2\.0"):
        x = READERS[reader](path, plan)
    np.testing.assert_array_equal(x, [[0, 1], [4, 3]])


class _no_note:
    """Fails the test if an InputNote is raised inside it."""

    def __enter__(self):
        import warnings

        self.cm = warnings.catch_warnings()
        self.cm.__enter__()
        warnings.simplefilter("error", InputNote)

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)


@pytest.mark.parametrize("reader", READERS)
def test_labels_that_are_no_header_are_values_and_said(tmp_path, plan, reader):
    path = tmp_path / "y.csv"
    path.write_text("-2,-2\n1,0\n")
    with pytest.warns(InputNote, match=r"y\.csv:1: the first row \(-2,-2\) is read as values: its cells are input "
                                       r"labels too, but a header names each input once \(-1, -2\)"):
        x = READERS[reader](path, plan)
    np.testing.assert_array_equal(x, [[-2, -2], [1, 0]])


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("first", ["-1,5", "-2.0,-1"])  # not all labels; a label spelt as another number
def test_other_numbers_are_values_without_a_note(tmp_path, plan, reader, first):
    path = tmp_path / "y.csv"
    path.write_text(f"{first}\n1,0\n")
    with _no_note():
        x = READERS[reader](path, plan)
    np.testing.assert_array_equal(x, [[float(v) for v in first.split(",")], [1, 0]])


def test_cli_says_it_once_and_scores_only_the_real_row(tmp_path):
    spec = tmp_path / "winner.yaml"
    spec.write_text(SPEC)
    (tmp_path / "y.csv").write_text("-2,-1\n1,0\n")
    code, out, err = cli("run", spec, "--inputs", tmp_path / "y.csv", "--json")
    assert code == 0, err
    assert json.loads(out)["values"] == [[10.0]]  # -1 is 0, -2 is 1
    assert err.count("note: ") == 1 and "y.csv:1: the first row (-2,-1) names the network's input labels" in err
    code, out, err = cli("run", spec, "--inputs", tmp_path / "y.csv", "--chunk-rows", "1", "-o", tmp_path / "o.csv")
    assert code == 0, err
    assert (tmp_path / "o.csv").read_text().split() == ["out", "10.0"]
    assert err.count("note: ") == 1
