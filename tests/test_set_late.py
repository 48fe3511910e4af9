"""A --set value that the spec accepts but that fails later (when the data is read, the parameters
file loaded, the inputs matched, a file written) is still named in the error: the error either
starts at the option (when it is about the very path the option set) or ends with
"(with --set KEY=VALUE)" for the options that could have made the spec disagree; an error that no
option could have caused names none."""
import numpy as np
import pytest

from helpers import EX, cli


def _err(*args):
    code, _, err = cli(*[str(a) for a in args])
    assert code == 1, err
    assert "internal error" not in err and "Traceback" not in err, err
    return err.strip().splitlines()[-1]


def _csv_spec(folder):
    (folder / "xt.csv").write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    spec = folder / "xc.yaml"
    spec.write_text(EX["xor_train.yaml"].read_text().replace("data: {source: xor}",
                                                             "data: {source: csv, path: xt.csv, target: y}"))
    return spec


@pytest.mark.parametrize("sets, expected", [
    # the data no longer fits the network the options made
    (["nodes.2.size=2"], "error: targets have 1 column; the network has 2 outputs (with --set nodes.2.size=2)"),
    (["train.epochs=2", "data.source=digits"],  # found before the data is read, as validate finds it
     "train.loss: digits data has 10 classes: use softmax outputs and cross_entropy (binary_cross_entropy is for "
     "two) (with --set train.epochs=2, --set data.source=digits)"),
    # a file the option named: at the option, not at the spec's line it replaced
    (["train.checkpoint.directory=/tmp/ck"], "--set train.checkpoint.directory=/tmp/ck: "
                                             "train.checkpoint.directory: '/tmp/ck' is an absolute path"),
])
def test_a_late_failure_names_the_option(sets, expected):
    err = _err("train", EX["xor_train.yaml"], "--no-save", *[a for s in sets for a in ("--set", s)])
    assert err.startswith(expected) or err.endswith(expected), err


def test_a_parameters_file_option_is_named_not_the_line_it_replaced():
    err = _err("train", EX["xor_train.yaml"], "--epochs", "1", "--set", "parameters=sub/x.npz")
    assert err.startswith("error: --set parameters=sub/x.npz: parameters: the folder 'sub' of 'sub/x.npz' does not "
                          "exist; create it first"), err


@pytest.mark.parametrize("sets, expected", [
    (["data.path=missing.csv"], "error: --set data.path=missing.csv: data.path: 'missing.csv' does not exist"),
    (["data.target=z"], "--set data.target=z: data.target: xt.csv has no column 'z'; columns: a, b, y"),
])
def test_a_data_file_option_is_named(tmp_path, sets, expected):
    err = _err("train", _csv_spec(tmp_path), "--no-save", *[a for s in sets for a in ("--set", s)])
    assert err.startswith(expected), err


def test_a_parameters_file_of_the_old_sizes_names_the_size_option():
    spec = EX["xor_train.yaml"]
    assert cli("train", str(spec), "--epochs", "1")[0] == 0
    err = _err("run", spec, "--input", "x=1,0", "--set", "description=wider", "--set", "nodes.1.size=8")
    assert err.startswith("error: xor_train.params.npz: 'nodes/hidden/bias' has shape (4,), but the spec declares "
                          "(8,)"), err
    assert err.endswith("(with --set nodes.1.size=8)"), err  # not the description, which cannot change a shape


def test_inputs_that_no_longer_fit_name_the_option(tmp_path):
    (tmp_path / "in.csv").write_text("a,b\n1,0\n")
    np.save(tmp_path / "in.npy", np.ones((2, 2)))
    sets = ["--set", "nodes.0.size=3", "--set", "nodes.0.labels=[a,b,c]", "--set", "nodes.1.activation=relu"]
    err = _err("run", EX["xor.yaml"], "--inputs", tmp_path / "in.csv", "--untrained", *sets,
               "--set", "edges.0.weights=[[1,1],[1,1],[1,1]]")
    assert err.startswith("error: ") and "no column 'c'" in err, err
    assert err.endswith("(with --set nodes.0.size=3, --set nodes.0.labels=[a,b,c])"), err
    err = _err("run", EX["xor.yaml"], "--inputs", tmp_path / "in.npy", "--untrained", *sets,
               "--set", "edges.0.weights=[[1,1],[1,1],[1,1]]")
    assert err.endswith("(with --set nodes.0.size=3, --set nodes.0.labels=[a,b,c])"), err


def test_an_error_no_option_could_cause_names_none(tmp_path):
    (tmp_path / "in.csv").write_text("a,b\n1,zz\n")
    err = _err("run", EX["xor.yaml"], "--inputs", tmp_path / "in.csv", "--set", "nodes.1.activation=relu",
               "--set", "description=x")
    assert "zz" in err and "--set" not in err, err


def test_a_test_split_that_holds_out_every_row_is_named():
    # 12 rows, 0.99 held out: training on none ended in 'internal error: ValueError: cannot reshape'
    err = _err("train", EX["fast_food_learn.yaml"], "--no-save", "--set", "data.test_split=0.99")
    assert err == ("error: --set data.test_split=0.99: data.test_split: 0.99 of 12 rows holds out every row and "
                   "leaves none to train on; 0.958 keeps one"), err
    assert cli("train", str(EX["fast_food_learn.yaml"]), "--no-save", "--epochs", "1", "--set",
               "data.test_split=0.958")[0] == 0


def test_a_diverging_loss_names_the_options_that_can_make_it_diverge():
    err = _err("train", EX["xor_train.yaml"], "--no-save", "--set", "train.epochs=3", "--set",
               "train.optimizer.learning_rate=1e30", "--set", "nodes.2.activation=linear", "--set", "train.loss=mse")
    assert err.startswith("error: the loss became inf"), err
    assert err.endswith("(with --set train.optimizer.learning_rate=1e30, --set nodes.2.activation=linear, "
                        "--set train.loss=mse)"), err


def test_a_validation_split_that_holds_out_every_row_is_named():
    # 400 moons, 320 left after the test split, 0.999 of them held out: training on none ended in
    # 'internal error: ZeroDivisionError'
    err = _err("train", EX["moons_mlp.yaml"], "--no-save", "--epochs", "1", "--set", "train.validation_split=0.999")
    assert err == ("error: --set train.validation_split=0.999: train.validation_split: 0.999 of 320 training rows "
                   "holds out every row for validation and leaves none to train on; 0.998 keeps one"), err
    assert cli("train", EX["moons_mlp.yaml"], "--no-save", "--epochs", "1", "--set",
               "train.validation_split=0.998")[0] == 0


def test_the_fraction_that_keeps_one_row_does_keep_one():
    from nngraph.data.datasets import keeps_one

    # 0.95 of 10 rounds to all 10 (half to even), so 0.949 is the largest that keeps one
    assert keeps_one(10) == 0.949 and keeps_one(12) == 0.958 and keeps_one(400) == 0.998
    for n in range(1, 2001):
        assert round(n * keeps_one(n)) < n <= round(n * (keeps_one(n) + 0.001)), n


def test_a_validation_split_of_every_row_is_refused_in_python_too():
    import nngraph
    from nngraph.errors import DataError

    plan = nngraph.compile(EX["moons_mlp.yaml"])
    x = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(DataError, match=r"^fit\(validation_split=\.\.\.\): train\.validation_split: 0\.95 of 10 training rows holds out every row "
                                        r"for validation and leaves none to train on; 0\.949 keeps one$"):
        plan.fit(x, (x[:, 0] > 0).astype(int), validation_split=0.95, epochs=1)


def test_a_loss_whose_targets_the_data_cannot_give_is_named():
    err = _err("train", EX["fast_food_learn.yaml"], "--no-save", "--epochs", "1", "--set", "nodes.1.activation=sigmoid",
               "--set", "train.loss=binary_cross_entropy")
    assert err == ("error: --set train.loss=binary_cross_entropy: train.loss: binary_cross_entropy needs targets from "
                   "0 to 1 (a probability or a class 0/1); the data's go from 1.75 to 15.25: for numbers like these "
                   "use loss mse with a linear output"), err


@pytest.mark.parametrize("example", ["moons_mlp.yaml", "fast_food_learn.yaml"])
def test_no_test_rows_is_said_not_an_internal_error(example):
    # data.test_split: 0 is valid; evaluating the empty test set ended in 'internal error: ValueError'
    code, out, err = cli("train", EX[example], "--no-save", "--epochs", "1", "--set", "data.test_split=0")
    assert code == 0, err
    assert "test: no test samples to evaluate (data.test_split holds none out)" in out, out


def test_a_batch_over_the_memory_limit_is_named(monkeypatch):
    # a batch_size above the rows is the whole data (not an error); one over the batch memory limit is
    monkeypatch.setenv("NNGRAPH_MAX_BATCH_BYTES", "1000")
    err = _err("train", EX["moons_mlp.yaml"], "--no-save", "--epochs", "1", "--set", "train.batch_size=100")
    assert err.startswith("--set train.batch_size=100: train.batch_size: a batch of 100 rows needs 100 x 19 neurons"), err
