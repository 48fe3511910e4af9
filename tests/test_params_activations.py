"""Trained values fit the activations they were trained with: the parameters file records each
node's activation (plain text, read without pickle), and a spec whose node now has another one
is refused, located at that node, naming both activations and the remedy. Files written before
the record existed still load."""
import numpy as np
import pytest

from nngraph import ParameterFileError
from nngraph.compile import compile

from helpers import EX, cli

SPEC = "sigmoid_neuron.yaml"  # node 1 'out' is sigmoid, on line 6


@pytest.fixture
def trained():
    spec = EX[SPEC]
    spec.write_text(spec.read_text() + "parameters: p.npz\n")
    code, out, err = cli("train", spec, "--epochs", "20")
    assert code == 0, err
    return spec


def test_the_file_records_activations_as_plain_text(trained):
    with np.load(trained.parent / "p.npz", allow_pickle=False) as z:
        assert z["meta/activations"].tolist() == [["out", "sigmoid"]]


def test_another_activation_is_refused_at_the_node(trained):
    trained.write_text(trained.read_text().replace("activation: sigmoid", "activation: relu"))
    code, out, err = cli("run", trained, "--input", "a=1", "--input", "b=1")
    assert code == 1
    assert f"{trained}:6:" in err and "nodes[1].activation: node 'out' has activation relu, but its values in " \
           "'p.npz' were trained with sigmoid; train again (nngraph run" in err and "--retrain" in err
    with pytest.raises(ParameterFileError, match="node 'out' has activation relu, .* trained with sigmoid"):
        compile(trained)


def test_set_activation_is_refused_at_the_option_and_retrain_rewrites(trained):
    code, out, err = cli("run", trained, "--set", "nodes.1.activation=tanh")
    assert code == 1 and "--set nodes.1.activation=tanh: nodes[1].activation: node 'out' has activation tanh, " \
                          "but its values in 'p.npz' were trained with sigmoid" in err
    code, out, err = cli("run", trained, "--set", "nodes.1.activation=tanh", "--set", "train.loss=mse", "--retrain",
                         "--epochs", "2")
    assert code == 0, err
    with np.load(trained.parent / "p.npz", allow_pickle=False) as z:
        assert z["meta/activations"].tolist() == [["out", "tanh"]]


def test_plan_load_checks_too(trained, tmp_path):
    other = tmp_path / "relu.yaml"
    other.write_text(trained.read_text().replace("activation: sigmoid", "activation: relu")
                     .replace("parameters: p.npz\n", ""))
    plan = compile(other)
    with pytest.raises(ParameterFileError, match="relu.yaml:6:.*node 'out' has activation relu"):
        plan.load(trained.parent / "p.npz")


def test_a_file_without_the_record_still_loads(trained):
    path = trained.parent / "p.npz"
    with np.load(path, allow_pickle=False) as z:
        old = {k: z[k] for k in z.files if not k.startswith("meta/")}
    np.savez(path, **old)
    plan = compile(trained)
    np.testing.assert_array_equal(plan.parameters()["edges/x->out"], old["edges/x->out"])


def test_a_sweeps_best_parameters_record_the_activations_of_the_trial_that_won():
    # the grid may set an activation: the best file must say which one its values were trained with
    spec = EX["xor_train.yaml"]
    code, out, err = cli("sweep", spec, "--grid", "nodes.1.activation=tanh,sigmoid", "--grid", "train.epochs=2")
    assert code == 0, err
    with np.load(spec.with_name("xor_train.best.params.npz"), allow_pickle=False) as z:
        record = dict(z["meta/activations"].tolist())
    assert record["out"] == "sigmoid" and record["hidden"] in ("tanh", "sigmoid")


def test_validate_reports_parameters_run_would_refuse(trained):
    # a spec that only runs: an error at the node; one that trains: a warning (training writes anew)
    text = trained.read_text().replace("activation: sigmoid", "activation: tanh")
    trained.write_text(text.replace("loss: binary_cross_entropy", "loss: mse"))
    code, out, err = cli("validate", trained)
    assert code == 0, err
    assert f"{trained}:6:" in err and "warning: nodes[1].activation: node 'out' has activation tanh, but its " \
           "values in 'p.npz' were trained with sigmoid" in err and "refuses the file until training" in err
    lines = trained.read_text().splitlines()
    trained.write_text("\n".join(line for line in lines if not line.startswith(("train:", "        validation",
                                                                               "data:"))) + "\n")
    code, out, err = cli("validate", trained)
    assert code == 1, err
    assert f"{trained}:6:" in err and "warning" not in err and "were trained with sigmoid" in err
