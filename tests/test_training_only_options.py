"""Options that only training uses (--epochs, --set train.*, --plot, --regions, --log, --no-save)
on a run that does not train are usage errors naming them and the remedy, not silently ignored;
the same options on a run that trains are used."""
import json

import pytest

from helpers import EX, cli


@pytest.fixture
def trained(tmp_path):
    spec = EX["sigmoid_neuron.yaml"]
    spec.write_text(spec.read_text() + "parameters: p.npz\n")  # beside the test's own copy
    code, out, err = cli("train", spec, "--epochs", "5")
    assert code == 0, err
    return spec


@pytest.mark.parametrize("options, named", [
    (["--epochs", "20"], "--epochs applies"),
    (["--set", "train.optimizer.learning_rate=0.1"], "--set train.optimizer.learning_rate=0.1 applies"),
    (["--epochs", "20", "--no-save"], "--epochs, --no-save apply"),
    (["--log", "LOG"], "--log applies"),
])
def test_training_options_on_a_trained_spec_are_usage_errors(trained, tmp_path, options, named):
    code, out, err = cli("run", trained, *[tmp_path / "log.csv" if o == "LOG" else o for o in options])
    assert code == 2, out
    assert f"{named} only when training, and this run does not train (p.npz holds its trained " \
           "parameters: add --retrain to train again)" in err
    assert not (tmp_path / "log.csv").exists()


def test_with_inputs_they_are_refused_too(trained):
    code, out, err = cli("run", trained, "--input", "a=1", "--input", "b=1", "--epochs", "3")
    assert code == 2
    assert f"--epochs applies only when training, and this run does not train (running inputs does not train: " \
           f"train first with `nngraph train {trained}`)" in err


def test_other_sets_still_apply_and_retrain_uses_the_epochs(trained):
    code, out, err = cli("run", trained, "--set", "description=x", "--json")
    assert code == 0, err
    code, out, err = cli("run", trained, "--retrain", "--epochs", "3", "--no-save", "--json")
    assert code == 0, err
    assert len(json.loads(out)["history"]) == 3
