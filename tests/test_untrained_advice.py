"""The advice given for a network that is not trained yet is true: a tutorial spec that names no
parameters file is told to add one (training alone keeps nothing), following the advice works,
an `init: zeros` start is not called random, and parameters are counted as numbers."""
from helpers import EX, cli


def test_run_after_train_without_a_parameters_file_says_what_to_add(tmp_path):
    spec = EX["sigmoid_neuron.yaml"]
    assert cli("train", spec, "--epochs", "2")[0] == 0  # the command the old advice repeated
    code, out, err = cli("run", spec, "--input", "a=1", "--input", "b=1")
    assert code == 1
    assert (f"{spec}: refusing to run on untrained weights (2 parameters in 1 array never set): the spec names no "
            f"parameters file, so training keeps nothing: add 'parameters: sigmoid_neuron.params.npz' to {spec}, then "
            f"train it (nngraph train {spec}), or pass --untrained to run anyway, on initial values\n") in err
    spec.write_text(spec.read_text() + "parameters: sigmoid_neuron.params.npz\n")  # as advised
    assert cli("train", spec, "--epochs", "2")[0] == 0
    code, out, err = cli("run", spec, "--input", "a=1", "--input", "b=1")
    assert code == 0, err


def test_validate_counts_numbers_and_says_random_only_when_drawn():
    spec = EX["mnist_logistic.yaml"]  # init: zeros, 784 x 10 weights
    code, out, err = cli("validate", spec)
    assert code == 0
    assert ("not trained yet: 7,840 parameters in 1 array at initial values (the spec names no parameters file, so "
            f"training keeps nothing: add 'parameters: mnist_logistic.params.npz' to {spec}, then train it "
            f"(nngraph train {spec}))") in out
    code, out, err = cli("validate", EX["moons_mlp.yaml"])
    assert code == 0 and "not trained yet: 64 parameters in 3 arrays at initial values, some random (" in out
    code, out, err = cli("validate", EX["xor_train.yaml"])
    assert code == 0 and "at random initial values (train it first (nngraph train" in out
