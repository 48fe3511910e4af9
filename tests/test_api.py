"""The Python API: train on arrays, plan.fit/evaluate/predict, input labels, pickling and copying,
summaries, validated edits, and threads that are honoured or refused."""
import copy
import multiprocessing
import pickle
import sys

import numpy as np
import pytest

import nngraph
from nngraph import DataError, SpecError, TrainingError
from nngraph.compile import compile

from helpers import EXAMPLES, ROOT

EX = {p.name: p for p in EXAMPLES}
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


def test_train_on_arrays_and_keras_like_plan_methods():
    spec = nngraph.load(EX["xor_train.yaml"])
    plan, history = nngraph.train(spec, data=(X, Y), epochs=300)
    assert plan.predict(X).tolist() == [0, 1, 1, 0]
    result = plan.evaluate(X, Y)
    assert result["accuracy"] == 1.0 and result["loss"] == pytest.approx(history[-1]["loss"], abs=0.05)
    fresh = compile(spec, use_file=False)
    assert fresh.predict(X).tolist() != [0, 1, 1, 0] or fresh.evaluate(X, Y)["loss"] > 0.3
    hist = fresh.fit(X, Y, X, Y, epochs=150, optimizer={"name": "adam", "learning_rate": 0.1})
    assert len(hist) == 150 and fresh.predict(X).tolist() == [0, 1, 1, 0]


def test_fit_overrides_are_validated():
    plan = compile(EX["xor_train.yaml"], use_file=False)
    with pytest.raises(SpecError, match=r"train.epochz: unknown key 'epochz' \(did you mean 'epochs'\?\)"):
        plan.fit(X, Y, epochz=3)
    with pytest.raises(SpecError, match="train.l1"):
        plan.fit(X, Y, l1=-1.0)


@pytest.mark.parametrize("kw, message", [
    ({"epochs": 0}, "fit(epochs=...): train.epochs: input should be greater than or equal to 1"),
    ({"optimizer": {"name": "adam", "learning_rate": -1}},
     "fit(optimizer=...): train.optimizer.learning_rate: input should be greater than 0"),
    ({"learning_rate": 0.1}, "fit(learning_rate=...): train.learning_rate: unknown key 'learning_rate'"),
    ({"learning_rate": 0.1}, "the learning rate belongs to the optimizer: fit(optimizer={'name': 'adam', "
                             "'learning_rate': 0.1})"),
    ({"validation_split": 0, "early_stopping": {"patience": 2}},
     "fit(validation_split=..., early_stopping=...): train: early_stopping watches the validation loss"),
    ({"epochs": object()}, "fit(epochs=...): train.epochs: a value of type object cannot be in a spec"),
])
def test_fit_errors_name_the_keyword_typed(kw, message):
    plan = compile(EX["xor_train.yaml"], use_file=False)
    with pytest.raises(SpecError) as info:
        plan.fit(X, Y, **kw)
    assert message in str(info.value) and "<string>" not in str(info.value)


def test_fit_takes_numpy_numbers():
    plan = compile(EX["xor_train.yaml"], use_file=False)
    assert len(plan.fit(X, Y, epochs=np.int64(3), l2=np.float32(0.5))) == 3


@pytest.mark.parametrize("data, message", [
    ((X, Y[:3]), r"^y has 3 rows but X has 4; give one target per row of X$"),
    ((X,), r"\(X, y\) or \(X, y, X_test, y_test\)"),
    ((X, np.array([0, 1, 2.5, 0])), r"^y row 2: 2.5 is not a class; the classes are the whole numbers 0 to 1$"),
    ((np.array([["a", "b"]] * 4), Y), r"^X row 0, column 0: 'a' is not a number; inputs are numbers \(a, b\)$"),
    ((np.array([[0, np.nan]] * 4), Y), r"^X row 0, column 1 \(b\): nan is not a finite number"),
    ((X[:, :1], Y), r"^X has 1 value per row; the network has 2 inputs \(x 2\): give rows of 2$"),
])
def test_bad_arrays_are_refused(data, message):
    with pytest.raises(DataError, match=message):
        nngraph.train(EX["xor_train.yaml"], data=data, epochs=1)


def test_forward_accepts_input_labels_as_the_cli_does():
    plan = compile(EX["xor_train.yaml"], use_file=False)
    by_label = plan.forward({"a": X[:, 0], "b": X[:, 1]})
    assert np.array_equal(by_label, plan.forward(X))
    with pytest.raises(DataError, match="input 'x' needs every label: b missing"):
        plan.forward({"a": [1.0]})
    with pytest.raises(DataError, match="'c' is not an input node"):
        plan.forward({"a": [1.0], "b": [0.0], "c": [1.0]})


def _forward(args):
    plan, x = args
    return plan.forward(x)


def test_plans_pickle_and_copy_without_their_buffers():
    plan, _ = nngraph.train(EX["xor_train.yaml"], epochs=50)
    plan.forward(np.zeros((20000, 2)))  # fills this thread's scratch buffers
    blob = pickle.dumps(plan)
    assert len(blob) < 64_000  # the spec and parameters, not 20,000-row buffers
    clone = pickle.loads(blob)
    assert np.array_equal(clone.forward(X), plan.forward(X)) and clone.params_origin == "trained"
    twin = copy.deepcopy(plan)
    twin.fit(X, Y, epochs=5, optimizer={"name": "sgd", "learning_rate": 1.0})
    assert not np.array_equal(twin.forward(X), plan.forward(X))  # the copy trains alone
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_forward, [(plan, X[:2]), (plan, X[2:])])
    assert np.array_equal(np.concatenate(results), plan.forward(X))


def test_sparse_plan_pickle_stays_small_after_training():
    spec = nngraph.load(EX["xor_train.yaml"])
    plan = compile(spec, use_file=False, sparse_below=1.01)
    before = len(pickle.dumps(plan))
    plan.fit(X, Y, epochs=3)
    assert len(pickle.dumps(plan)) <= before + 200


def test_summary_is_the_inspect_table():
    plan = compile(EX["xor_train.yaml"], use_file=False)
    text = plan.summary()
    lines = text.splitlines()
    assert lines[0].startswith("xor-trained: 2 stages after the inputs (float32), initial")
    assert lines[1].split() == ["stage", "neurons", "computes", "reads", "parameters", "MACs/sample"]
    assert "hidden (4, tanh)" in text and "stage 0: dense 2x4" in text
    assert lines[-1].split() == ["total", "7", "17", "12"]


def test_editing_a_spec_validates_every_change():
    spec = nngraph.load(EX["xor_train.yaml"])
    edited = spec.model_copy(update={"train": spec.train.model_copy(update={"l1": 0.01})})
    assert edited.train.l1 == 0.01 and edited.base_dir == spec.base_dir
    with pytest.raises(SpecError, match=r"^model_copy\(update={'l1': \.\.\.}\): l1: input should be greater than or equal to 0$"):
        spec.train.model_copy(update={"l1": -1})
    with pytest.raises(SpecError, match="nodes"):
        spec.model_copy(update={"nodes": []})


def test_threads_are_honoured_or_refused(monkeypatch):
    a, _ = nngraph.train(EX["xor_train.yaml"], epochs=5, threads=1)
    b, _ = nngraph.train(EX["xor_train.yaml"], epochs=5)
    assert all(np.array_equal(v, b.parameters()[k]) for k, v in a.parameters().items())
    with pytest.raises(TrainingError, match="threads must be a whole number of at least 1, not 0"):
        nngraph.train(EX["xor_train.yaml"], epochs=1, threads=0)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    with pytest.raises(TrainingError, match=r"needs threadpoolctl"):
        nngraph.train(EX["xor_train.yaml"], epochs=1, threads=2)


def test_threads_limit_blas_while_training():
    from threadpoolctl import threadpool_info

    seen = []

    class Spy(nngraph.training.Callbacks):
        def epoch_end(self, record):
            seen.append({i["internal_api"]: i["num_threads"] for i in threadpool_info()})

    nngraph.train(EX["xor_train.yaml"], epochs=1, threads=1, callbacks=Spy())
    assert seen and all(n == 1 for n in seen[0].values())


@pytest.mark.parametrize("data, message", [
    ((X, np.full(4, 10**12)), r"y row 0 holds class 1000000000000, but the network's 1 output neuron gives classes 0 to 1"),
    ((X, np.full(4, 2**64 - 1, dtype=np.uint64)), r"y row 0 holds class 18446744073709551615,"),  # not -1 as an int64
    ((X, np.full(4, 2)), r"y row 0 holds class 2, but the network's 1 output neuron gives classes 0 to 1"),
    ((X, Y, X, -Y), r"^y_test row 1: -1 is not a class; the classes are the whole numbers 0 to 1$"),
    ((np.ones(4), Y), r"^X has shape \(4,\); the network reads 2 inputs per sample \(x 2\), so give one row per sample"),
    ((np.ones((0, 2)), Y[:0]), r"^X holds no samples"),
    ((np.float64(1.0), Y[:1]), r"^X is a single number; give one row per sample, shape \(samples, 2\)"),
])
def test_arrays_that_cannot_train_the_network_are_refused_before_anything_is_paid(data, message):
    # a class index of 10**12 made training build a list of 10**12 class names
    with pytest.raises(DataError, match=message):
        nngraph.train(nngraph.load(EX["xor_train.yaml"]), data=data, epochs=1)


def test_whole_number_targets_of_a_regression_beyond_its_outputs_get_regression_metrics(tmp_path):
    # a count predicted by one linear output with mse: the data's whole numbers made it a 2-class
    # task, and the confusion matrix failed with an IndexError at the end of training
    from click.testing import CliRunner

    from nngraph.cli import main

    result = CliRunner().invoke(main, ["train", str(EX["fast_food_learn.yaml"]), "--set", "data.target=burgers",
                                       "--epochs", "2", "--no-save"])
    assert result.exit_code == 0, result.output
    assert "MAE" in result.output and "R²" in result.output and "acc" not in result.output


def test_binary_cross_entropy_refuses_targets_outside_0_to_1():
    # log(1 - y) of a target above 1 rewards outputs past it: training ran, silently, towards nonsense
    spec = nngraph.load(EX["xor_train.yaml"])
    assert spec.train.loss == "binary_cross_entropy"
    y = np.array([0.0, 1.5, 1.0, 0.25])
    with pytest.raises(DataError, match=r"^y row 1, column 0: 1.5 is outside 0 to 1: binary_cross_entropy needs targets from 0 to 1"):
        nngraph.train(spec, data=(X, y.reshape(-1, 1)), epochs=1)
    nngraph.train(spec, data=(X, np.array([[0.0], [0.75], [1.0], [0.25]])), epochs=1)  # probabilities are fine


def test_a_shallow_copy_of_a_plan_trains_alone():
    # copy.copy shared the weight arrays: fitting the copy changed the original
    plan = compile(EX["xor_train.yaml"], use_file=False)
    before = plan.forward(X).copy()
    twin = copy.copy(plan)
    assert np.array_equal(twin.forward(X), before) and twin.spec is plan.spec
    twin.fit(X, Y, epochs=5, optimizer={"name": "sgd", "learning_rate": 1.0})
    assert not np.array_equal(twin.forward(X), before)
    assert np.array_equal(plan.forward(X), before)  # the original kept its weights
    assert all(np.array_equal(v, compile(EX["xor_train.yaml"], use_file=False).parameters()[k])
               for k, v in plan.parameters().items())
