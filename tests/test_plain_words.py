"""Small things a reader meets: every column has a header, JSON holds paths where it says path,
counts agree with their nouns, and a zero prints without a sign."""
import json

from nngraph import compile, load
from nngraph.draw.scene import _fmt

from helpers import EX, XOR_TRAIN, cli


def test_predictions_table_heads_its_mark_column_and_no_parameters_parameters(tmp_path):
    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR_TRAIN)
    assert cli("train", spec)[0] == 0
    code, out, err = cli("run", spec)  # evaluates: the file exists
    assert code == 0
    head = next(line for line in out.splitlines() if "truth" in line)
    assert [c.strip() for c in head.strip("┃").split("┃")][-2:] == ["predicted", "correct"]
    assert "parameters from p.npz (use --retrain to train again)" in err and "parameters: parameters" not in err


def test_inspect_json_gives_the_parameters_file_as_a_path_or_null(tmp_path):
    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR_TRAIN)
    assert cli("train", spec)[0] == 0
    info = json.loads(cli("inspect", spec, "--json")[1])
    assert info["parameters_from"] == "p.npz" and info["parameters_description"] == "parameters from p.npz"
    info = json.loads(cli("inspect", EX["xor.yaml"], "--json")[1])
    assert info["parameters_from"] is None and info["parameters_description"] == "weights from the spec"
    code, out, _ = cli("inspect", EX["xor.yaml"])
    assert out.rstrip().endswith("\nweights from the spec") and "parameters: " not in out


def test_counts_agree_with_their_nouns():
    plan = compile(load(EX["perceptron.yaml"]))
    assert repr(plan) == "Plan('exam-perceptron': 1 stage after the inputs, 2 inputs -> 1 output, 3 parameters, float32)"
    code, out, _ = cli("validate", EX["sigmoid_neuron.yaml"])
    assert code == 0 and "1 neurons" not in out and "1 nodes" not in out and "1 stages" not in out


def test_a_zero_signal_prints_without_its_sign(tmp_path):
    assert _fmt(-0.0) == "0" and _fmt(0.0) == "0" and _fmt(-0.5) == "-0.5"
    out = tmp_path / "d.html"  # out's second weight is -1 and 'and' is 0 for x=1,0: the signal is -0.0
    assert cli("draw", EX["xor.yaml"], "--input", "x=1,0", "-o", out)[0] == 0
    text = out.read_text()
    assert "signal = 0" in text and "signal = -0" not in text
