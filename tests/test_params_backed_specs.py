"""A spec whose weights live in a parameters file beside it (imports, saved specs) never runs on
made-up weights when the file is missing, titles never call zeros random, and every command that
meets untrained weights gives the same advice."""
import shutil

import numpy as np
import pytest

from nngraph import compile, load
from nngraph.interchange import save

from helpers import EX, cli


def _saved_then_copied(tmp_path):
    """The xor network saved with its weights in an .npz, and its spec copied elsewhere alone."""
    (tmp_path / "out").mkdir()
    (tmp_path / "cp").mkdir()
    written = save(load(EX["xor.yaml"]), tmp_path / "out" / "back.yaml", inline_weights=0)
    assert str(tmp_path / "out" / "back.params.npz") in written
    shutil.copyfile(tmp_path / "out" / "back.yaml", tmp_path / "cp" / "back.yaml")
    return tmp_path / "out" / "back.yaml", tmp_path / "cp" / "back.yaml"


def test_saved_spec_names_no_initializer_and_runs_with_its_file(tmp_path):
    back, _ = _saved_then_copied(tmp_path)
    assert "init" not in back.read_text()
    code, out, err = cli("run", back, "--input", "x=1,0", "--json")
    assert code == 0 and '"values": [[1.0]]' in out


def test_a_spec_copied_without_its_parameters_file_is_refused_not_run_on_zeros(tmp_path):
    _, copied = _saved_then_copied(tmp_path)
    code, out, err = cli("run", copied, "--input", "x=1,0")
    assert code == 1 and out == ""
    assert (f"{copied}: refusing to run on untrained weights (6 parameters in 2 arrays never set): its parameters "
            f"file 'back.params.npz' is missing: put it beside {copied} (a spec copied without it has no weights), "
            "or pass --untrained to run anyway") in err
    assert f"{copied}:9:5: edges[0]: no weights given (no weight, weights or init) and the parameters file " \
           "'back.params.npz' does not exist\n" in err
    code, out, err = cli("run", copied, "--input", "x=1,0", "--untrained")
    assert code == 0 and "(initial (untrained) random weights)" in out


def test_titles_call_zeros_zeros(tmp_path):
    spec = EX["mnist_logistic.yaml"]  # init: zeros, trained by its train section
    assert compile(load(spec)).params_origin == "initial (untrained) weights (zeros)"
    text = spec.read_text()
    assert "train:" in text and "init: zeros" in text
    bare = tmp_path / "bare.yaml"  # no train section: zeros chosen on purpose
    bare.write_text(text[:text.index("\ndata:")])
    plan = compile(load(bare))
    assert plan.params_origin == "initial weights (zeros) from the spec's initializers"
    code, out, err = cli("run", bare, "--inputs", _zeros(tmp_path, plan.input_width))
    assert code == 0 and "initial weights (zeros) from the spec's initializers" in out and "random" not in out


def _zeros(tmp_path, width):
    np.save(tmp_path / "x.npy", np.zeros((1, width), dtype="float32"))
    return tmp_path / "x.npy"


@pytest.mark.parametrize("name", ["moons_mlp.yaml", "xor_train.yaml"])
def test_export_run_and_validate_give_the_same_advice(tmp_path, name):
    spec = EX[name]
    width = compile(load(spec)).input_width
    _, _, run_err = cli("run", spec, "--inputs", _zeros(tmp_path, width))
    _, val_out, _ = cli("validate", spec)
    code, _, exp_err = cli("export", spec, "-o", tmp_path / "m.onnx")
    assert code == 1 and not (tmp_path / "m.onnx").exists()
    stem = name.rsplit(".", 1)[0]
    advice = (f"the spec names no parameters file, so training keeps nothing: add 'parameters: {stem}.params.npz' "
              f"to {spec}, then train it (nngraph train {spec})" if name == "moons_mlp.yaml" else
              f"train it first (nngraph train {spec}, which writes")
    for text in (run_err, val_out, exp_err):
        assert advice in text, text
