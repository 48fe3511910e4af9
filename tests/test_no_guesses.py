"""No silent guesses: weights nothing set are refused where they would be used, and every value
that cannot be honoured (a missing folder, an empty parameters file, a non-finite input, an epoch
count out of range) is an error, never quietly replaced by something else."""
import zipfile

import numpy as np
import pytest

import nngraph
from nngraph import ParameterFileError, TrainingError
from helpers import XOR_TRAIN, cli
from nngraph.errors import DataError

NO_WEIGHTS = """\
nngraph: 1
name: fast-food
nodes:
  - {name: meal, role: input, size: 3}
  - {name: cost, role: output}
edges:
  - {from: meal, to: cost}
"""





def write(tmp_path, text, name="net.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_edge_without_weights_is_a_located_warning_and_run_refuses_it(tmp_path):
    spec = write(tmp_path, NO_WEIGHTS)
    code, out, err = cli("validate", spec)
    assert code == 0
    assert f"{spec}:7:5: warning: edges[0]: no weights given" in err
    assert "not trained yet: 3 parameters in 1 array at random initial values" in out
    code, out, err = cli("run", spec, "--input", "meal=1,2,3")
    assert code == 1 and out == ""
    assert f"{spec}: refusing to run on untrained weights (3 parameters in 1 array never set)" in err
    assert "--untrained" in err
    assert f"{spec}:7:5: edges[0]: no weights given (no weight, weights or init) and no parameters file" in err
    code, out, err = cli("run", spec, "--input", "meal=1,2,3", "--untrained")
    assert code == 0 and "untrained" in out


def test_weights_given_in_any_way_are_not_warned_or_refused(tmp_path):
    for edge in ("weights: [[1], [2], [3]]", "init: zeros", "init: {name: normal, std: 0.1}"):
        spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", f"to: cost, {edge}}}"))
        code, out, err = cli("validate", spec)
        assert code == 0 and "warning" not in err and "not trained" not in out, edge
        code, out, err = cli("run", spec, "--input", "meal=1,2,3")
        assert code == 0, (edge, err)


def test_a_spec_to_be_trained_refuses_inputs_until_trained_then_runs(tmp_path):
    spec = write(tmp_path, XOR_TRAIN)
    code, out, err = cli("validate", spec)
    assert code == 0 and "warning" not in err  # an init on a spec with data and train: to be trained
    assert (f"not trained yet: 9 parameters in 2 arrays at random initial values (train it first (nngraph train "
            f"{spec}, which writes p.npz))") in out
    code, out, err = cli("run", spec, "--input", "x=1,0")
    assert code == 1
    assert f"{spec}:8:5: edges[0]: init: he_normal is where training starts, and the parameters file 'p.npz' " \
           "does not exist (not trained yet)" in err
    assert f"train it first (nngraph train {spec}, which writes p.npz)" in err
    code, out, err = cli("run", spec, "--json")  # the main job: no parameters, data declared -> trains
    assert code == 0 and (tmp_path / "p.npz").exists()
    code, out, err = cli("validate", spec)
    assert "not trained" not in out
    code, out, err = cli("run", spec, "--input", "x=1,0")
    assert code == 0 and "parameters from p.npz" in out


def test_a_parameters_file_that_lacks_a_new_edge_is_refused_for_that_edge(tmp_path):
    spec = write(tmp_path, XOR_TRAIN)
    assert cli("train", spec, "--json")[0] == 0
    grown = XOR_TRAIN.replace("edges:\n", "edges:\n  - {from: x, to: y, init: zeros}\n")
    spec.write_text(grown)
    code, out, err = cli("run", spec, "--input", "x=1,0")
    assert code == 1 and f"{spec}:8:5: edges[0]: init: zeros is where training starts, and the parameters " \
                          "file 'p.npz' holds no values for it (retrain)" in err


def test_a_missing_parameters_file_in_a_spec_that_cannot_train_is_a_warning(tmp_path):
    spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", "to: cost, weights: [[1], [2], [3]]}") +
                 "parameters: fast_food.npz\n")
    code, out, err = cli("validate", spec)
    assert code == 0 and f"{spec}:8:13: warning: parameters: 'fast_food.npz' does not exist" in err


def test_evaluating_untrained_weights_on_data_is_refused_too(tmp_path):
    spec = write(tmp_path, XOR_TRAIN.replace("\ntrain:", "\n#train:").replace("init: he_normal", "pattern: dense"))
    code, out, err = cli("run", spec)
    assert code == 1 and "edges[0]: no weights given" in err


def test_an_empty_parameters_file_is_refused(tmp_path):
    spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", "to: cost, weights: [[1], [2], [3]]}") +
                 "parameters: p.npz\n")
    zipfile.ZipFile(tmp_path / "p.npz", "w").close()
    with pytest.raises(ParameterFileError, match=r"^p\.npz: holds no parameters \(an empty archive\)"):
        nngraph.compile.compile(spec)
    code, out, err = cli("run", spec, "--input", "meal=1,2,3")
    assert code == 1 and "parameters from p.npz" not in out and "holds no parameters" in err


def test_a_data_directory_that_does_not_exist_is_an_error_not_the_sample(tmp_path):
    spec = write(tmp_path, XOR_TRAIN.replace("{source: xor}", "{source: mnist, directory: mnistt}"))
    from nngraph.data import load_data

    with pytest.raises(DataError, match=r"^data\.directory: 'mnistt' \(.*mnistt\) does not exist; fix the path"):
        load_data(nngraph.load(spec))
    (tmp_path / "empty").mkdir()
    spec.write_text(XOR_TRAIN.replace("{source: xor}", "{source: mnist, directory: empty}"))
    with pytest.raises(DataError, match=r"does not hold the four IDX files \(train-images-idx3-ubyte\[\.gz\]"):
        load_data(nngraph.load(spec))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1,nan,2", "1e999,1,1"])
def test_non_finite_input_values_are_refused_as_files_refuse_them(tmp_path, value):
    spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", "to: cost, weights: [[1], [2], [3]]}"))
    if "," not in value:
        value = f"{value},1,1"
    code, out, err = cli("run", spec, "--input", f"meal={value}")
    assert code == 2 and f"Error: --input meal={value}: inputs must be finite numbers" in err  # an option's usage error


@pytest.mark.parametrize("epochs", [0, -5, 10**23, True, 2.5])
def test_train_epochs_out_of_range_are_errors_not_defaults(tmp_path, epochs):
    spec = write(tmp_path, XOR_TRAIN)
    with pytest.raises(TrainingError, match=r"^epochs must be"):
        nngraph.train(spec, epochs=epochs)


def test_train_epochs_in_range_are_honoured(tmp_path):
    _, history = nngraph.train(write(tmp_path, XOR_TRAIN), epochs=1)
    assert len(history) == 1


@pytest.mark.parametrize("epochs", ["0", "1000001", "100000000000000000000000"])
def test_cli_epochs_are_capped(tmp_path, epochs):
    code, out, err = cli("train", write(tmp_path, XOR_TRAIN), "--epochs", epochs)
    assert code == 2 and "--epochs" in err and "1<=x<=1000000" in err.replace(" ", "")
    assert not (tmp_path / "p.npz").exists()


def test_run_suggests_inputs_that_work(tmp_path):
    spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", "to: cost, weights: [[1], [2], [3]]}"))
    code, out, err = cli("run", spec)
    assert code == 2 and "(e.g. --input meal=1,1,1)" in err
    code, out, err = cli("run", spec, "--input", "meal=1,1,1")
    assert code == 0 and np.isclose(float(out.split("│")[-2]), 6.0)


def test_inspect_counts_the_stages_it_shows(tmp_path):
    spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", "to: cost, weights: [[1], [2], [3]]}"))
    code, out, err = cli("inspect", spec)
    assert code == 0 and "fast-food: 1 stage after the inputs (float32)" in out and "│     1 │" in out


def test_draw_open_without_a_display_says_where_the_file_is(tmp_path, monkeypatch):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    spec = write(tmp_path, NO_WEIGHTS.replace("to: cost}", "to: cost, weights: [[1], [2], [3]]}"))
    code, out, err = cli("draw", spec, "-o", tmp_path / "n.svg", "--open")
    assert code == 0 and f"--open: no display here (DISPLAY is not set); the diagram is at {tmp_path / 'n.svg'}" in err
