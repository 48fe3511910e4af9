"""Training mistakes a hostile or careless user makes: each refused (or warned of) before training,
located, in nngraph's own words, never a traceback nor a silently useless run."""
import re
import warnings

import numpy as np
import pytest

import nngraph
from nngraph import DataError, SpecError
from nngraph.compile import compile

import helpers
from helpers import write_spec  # noqa: F401  (fixture)

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


def _xor(text=helpers.XOR_TRAIN):
    spec = nngraph.load(text)
    return spec, compile(spec, use_file=False)


def test_dropout_on_an_output_is_refused_located(write_spec):
    path = write_spec("""
        nngraph: 1
        name: v
        nodes:
          - {name: x, role: input, size: 2}
          - {name: h, size: 4, activation: tanh, dropout: 0.5}
          - {name: out, role: output, activation: sigmoid, dropout: 0.5}
        edges:
          - {from: x, to: h, init: xavier_uniform}
          - {from: h, to: out, init: xavier_uniform}
    """)
    d = helpers.only_diagnostic(nngraph.build, str(path))
    assert (d.line, d.column, d.path, d.code) == (6, 61, "nodes[2].dropout", "output_dropout")
    assert d.message.startswith("output nodes take no dropout: while training it would zero the network's own "
                                "predictions")
    assert "put it on a hidden node" in d.message


@pytest.mark.parametrize("schedule", ["{name: cosine, min_rate: 5}", "{name: plateau, min_rate: 1, patience: 1}"])
def test_a_schedule_that_would_raise_the_rate_is_refused(write_spec, schedule):
    path = write_spec(helpers.XOR_TRAIN.replace("learning_rate: 0.05}", "learning_rate: 0.01, schedule: "
                                                f"{schedule}}}").replace("source: xor", "source: moons"))
    code, _, err = helpers.cli("validate", path)
    assert code == 1
    name = schedule.split(",")[0][7:]
    floor = schedule.split("min_rate: ")[1].split(",")[0].rstrip("}")
    assert err.strip().endswith(f"train.optimizer.schedule.min_rate: min_rate {floor} is above the learning rate 0.01: "
                                f"the {name} schedule would raise the rate to {floor} instead of lowering it; give a "
                                "min_rate below 0.01 (e.g. 0.0001) or raise learning_rate")
    assert ":12:" in err  # the train line
    # and in Python, whose data comes in code (the data checks are left out, this one is not)
    spec, plan = _xor()
    with pytest.raises(SpecError, match="min_rate 5 is above the learning rate 0.05"):
        plan.fit(X, Y, epochs=2, optimizer={"name": "adam", "learning_rate": 0.05,
                                            "schedule": {"name": "cosine", "min_rate": 5}})


def test_a_schedule_whose_floor_is_its_rate_is_a_warning(write_spec):
    path = write_spec(helpers.XOR_TRAIN.replace("learning_rate: 0.05}", "learning_rate: 0.05, schedule: "
                                                "{name: cosine, min_rate: 0.05}}"))
    code, _, err = helpers.cli("validate", path)
    assert code == 0 and "warning: train.optimizer.schedule.min_rate: min_rate 0.05 equals the learning rate: the " \
                         "cosine schedule never changes the rate" in err


def test_callbacks_need_only_the_methods_they_use():
    seen = []

    class OnlyEnd:
        def epoch_end(self, record):
            seen.append(record["epoch"])

    nngraph.train(helpers.XOR_TRAIN, epochs=3, callbacks=OnlyEnd())
    assert seen == [1, 2, 3]
    nngraph.train(helpers.XOR_TRAIN, epochs=1, callbacks=object())  # none at all: nothing is called


def test_numpy_integers_are_taken_for_threads_as_for_epochs():
    pytest.importorskip("threadpoolctl")
    _, history = nngraph.train(helpers.XOR_TRAIN, data=(X, Y), epochs=np.int64(2), threads=np.int64(1))
    assert len(history) == 2
    plan = compile(nngraph.load(helpers.XOR_TRAIN), use_file=False)
    plan.threads = np.int32(2)
    assert plan.threads == 2 and type(plan.threads) is int
    with pytest.raises(nngraph.TrainingError, match="threads must be a whole number of at least 1, not np.int64"):
        nngraph.train(helpers.XOR_TRAIN, data=(X, Y), threads=np.int64(0))


def test_fit_with_a_test_x_but_no_test_y_says_so():
    _, plan = _xor()
    with pytest.raises(DataError, match=r"^fit: X_test is given without y_test; a test set needs both "
                                        r"\(plan.fit\(X, y, X_test, y_test\)\), or leave both out$"):
        plan.fit(X, Y, X)
    with pytest.raises(DataError, match="^fit: y_test is given without X_test"):
        plan.fit(X, Y, y_test=Y)


def test_fit_takes_inputs_by_label_as_forward_does():
    spec, plan = _xor(helpers.XOR_TRAIN.replace("size: 2}", "size: 2, labels: [a, b]}"))
    by_label = {"a": X[:, 0], "b": X[:, 1]}
    twin = compile(spec, use_file=False)
    got = plan.fit(by_label, Y, epochs=3, seed=1)
    want = twin.fit(X, Y, epochs=3, seed=1)
    assert [r["loss"] for r in got] == [r["loss"] for r in want]
    with pytest.raises(DataError, match="'c' is not an input node"):
        plan.fit({"c": X[:, 0]}, Y, epochs=1)
    _, history = nngraph.train(spec, data=(by_label, Y, {"x": X}, Y), epochs=3)  # and train, by label or node
    assert [r["loss"] for r in history] == [r["loss"] for r in nngraph.train(spec, data=(X, Y, X, Y), epochs=3)[1]]


TINY = """\
nngraph: 1
name: tiny
nodes:
  - {name: x, role: input, size: 1}
  - {name: out, role: output, activation: sigmoid}
edges:
  - {from: x, to: out, init: xavier_uniform}
data: {source: inline, columns: [x, y], target: y, test_split: 0, rows: [[0,0],[1,1],[2,1],[3,1],[-1,0],[-2,0],[-3,0],[0.5,1],[-0.5,0]]}
train: {loss: binary_cross_entropy, epochs: 3, validation_split: 0.3, early_stopping: {patience: 2}, optimizer: {name: sgd, learning_rate: 0.1, schedule: {name: plateau, patience: 1}}}
"""
NO_VALIDATION = ("train.validation_split: 0.3 of 9 training rows: no row is held out for validation (that takes at "
                 "least 10 training rows), so early stopping and the plateau schedule will not act: they watch the "
                 "validation loss; give more rows, or set validation_split: 0 and remove early stopping and the "
                 "plateau schedule")


def test_too_few_rows_for_validation_is_said_by_validate_and_train(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    code, _, err = helpers.cli("validate", path)
    assert code == 0 and f"tiny.yaml:9:66: warning: {NO_VALIDATION}" in err
    code, _, err = helpers.cli("train", path, "--no-save")
    assert code == 0 and err.count(NO_VALIDATION) == 1
    with pytest.warns(nngraph.TrainingWarning, match="tiny.yaml:9:66: warning: train.validation_split: 0.3 of 9"):
        nngraph.train(str(path))
    # arrays given in code are counted when given; a fraction that rounds to no row is said too
    x = np.linspace(-1, 1, 40).reshape(-1, 1)
    with pytest.warns(nngraph.TrainingWarning, match=r"0.01 of 40 training rows rounds to no row held out for "
                                                     r"validation, so early stopping will not act"):
        nngraph.train(TINY.replace("0.3", "0.01").replace(", schedule: {name: plateau, patience: 1}", ""),
                      data=(x, (x[:, 0] > 0).astype(int)))


def test_too_few_rows_counted_in_a_small_csv_and_never_for_the_default_fraction(tmp_path):
    (tmp_path / "d.csv").write_text("x1,x2,label\n" + "0,0,0\n0,1,1\n1,0,1\n1,1,0\n" * 2)
    path = tmp_path / "net.yaml"
    path.write_text(helpers.XOR_CSV.replace("epochs: 3}", "epochs: 3, early_stopping: {patience: 1}}"))
    code, _, err = helpers.cli("validate", path)
    assert code == 0 and "0.1 of 6 training rows: no row is held out for validation" in err  # 8 rows, 2 to test
    path.write_text(helpers.XOR_CSV)  # the default fraction and nothing watching it: nothing to say
    code, _, err = helpers.cli("validate", path)
    assert code == 0 and "validation" not in err
    with warnings.catch_warnings():
        warnings.simplefilter("error", nngraph.TrainingWarning)
        nngraph.train(helpers.XOR_TRAIN, data=(X, Y))  # 4 rows, the default fraction



EPS = helpers.XOR_TRAIN.replace("learning_rate: 0.05}", "learning_rate: 0.05, epsilon: 1e-50}")


def test_an_epsilon_that_is_zero_in_float32_is_refused_with_the_float64_way_out(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(EPS)
    code, _, err = helpers.cli("validate", path)
    assert code == 1
    assert err.strip().endswith(
        "e.yaml:12:91: train.optimizer.epsilon: epsilon 1e-50 is below the smallest normal float32 number (1.2e-38): "
        "in float32 it is 0 or all but 0, so adam would divide 0 by 0 for a weight whose gradient is 0 and the loss "
        "would become nan; use 1e-8 (the default) or more, or train in float64 (nngraph train --float64; in Python "
        "dtype=np.float64)")
    code, _, err = helpers.cli("train", path, "--no-save")
    assert code == 1 and "epsilon 1e-50 is below the smallest normal float32 number" in err
    code, _, err = helpers.cli("train", path, "--no-save", "--float64")  # where it is a number: trains
    assert code == 0, err
    with pytest.raises(SpecError, match="epsilon 1e-50 is below"):
        nngraph.train(EPS, data=(X, Y))
    nngraph.train(EPS, data=(X, Y), dtype=np.float64)
    with pytest.raises(SpecError, match=r"epsilon 1e-310 is below the smallest normal float64 number \(2.2e-308\)"
                                        r".*or more$"):
        nngraph.train(EPS.replace("1e-50", "1e-310"), dtype=np.float64)


def test_a_penalty_that_overflows_is_refused_located(write_spec):
    path = write_spec(helpers.XOR_TRAIN.replace("epochs: 2}", "epochs: 2, l2: 1e308}").replace(
        "{from: x, to: h, init: he_normal}", "{from: x, to: h, init: he_normal, l1: 1e30}"))
    found = helpers.diagnostics_of(nngraph.train, str(path))
    assert [(d.path, d.code) for d in found] == [("edges[0].l1", "penalty_overflow"), ("train.l2", "penalty_overflow")]
    assert found[1].message == ("l2 1e+308 overflows float32: its gradient (l2 times a weight) squared is beyond "
                                "float32's largest number (3.4e+38), so the loss would become nan; penalties are "
                                "small numbers (1e-4 to 1e-2 as a rule)")
    assert found[0].message.endswith("or train in float64 (nngraph train --float64; in Python dtype=np.float64)")
    nngraph.train(helpers.XOR_TRAIN.replace("epochs: 2}", "epochs: 2, l2: 1e3}"))  # large, but a number: trains


def test_values_too_large_for_float32_are_refused_where_they_are(tmp_path):
    with pytest.raises(DataError, match=r"^X row 1, column 1 \(x\[1\]\): 1e\+300 is too large for float32 \(at most "
                                        r"about 3.4e\+38\), the precision the network trains in: it would become inf; "
                                        r"scale the inputs down, or train in float64 \(dtype=np.float64\)$"):
        nngraph.train(helpers.XOR_TRAIN, data=(X * 1e300, Y))
    nngraph.train(helpers.XOR_TRAIN, data=(X * 1e300, Y), dtype=np.float64, epochs=1)  # in float64 it is a number
    (tmp_path / "d.csv").write_text("x1,x2,label\n0,0,0\n0,1,1\n1,1e39,1\n1,1,0\n")
    path = tmp_path / "net.yaml"
    path.write_text(helpers.XOR_CSV)
    message = ("d.csv:4: column 'x2': 1e+39 is too large for float32 (at most about 3.4e38), the precision nngraph "
               "keeps data in (it would become inf); scale the column down")
    with pytest.raises(DataError) as info:
        nngraph.train(str(path))
    assert str(info.value) == message
    code, _, err = helpers.cli("train", path, "--no-save")
    assert code == 1 and message in err and "RuntimeWarning" not in err
    with pytest.raises(DataError, match=r"^data.rows\[2\]: column 'b': -1e\+39 is too large for float32"):
        nngraph.train(TINY.replace("columns: [x, y]", "columns: [b, y]").replace("[2,1]", "[-1e39,1]"))
    np.savez(tmp_path / "d.npz", x=X * 1e300, y=Y)
    path.write_text(helpers.XOR_CSV.replace("source: csv, path: d.csv, target: label", "source: npz, path: d.npz"))
    with pytest.raises(DataError, match=r"^d.npz: 'x' row 1, column 1: 1e\+300 is too large for float32"):
        nngraph.train(str(path))


HUGE = """\
nngraph: 1
name: huge
nodes:
  - {name: x, role: input}
  - {name: h, activation: relu}
  - {name: out, role: output}
edges:
  - {from: x, to: h, weight: 1e20}
  - {from: h, to: out, weight: 1e20}
"""


def test_numpy_floating_point_warnings_are_said_in_nngraphs_words(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE)
    code, out, err = helpers.cli("run", path, "--input", "x=1e10")
    assert code == 0 and "inf" in out
    assert "RuntimeWarning" not in err and "encountered" not in err
    assert err.strip() == ("warning: some numbers overflowed while computing (they became inf): values beyond the "
                           "precision's range (about 3.4e38 in float32) came up; scale the inputs down, or use "
                           "--float64 where the command takes it")


REGRESSION = """\
nngraph: 1
name: reg
nodes:
  - {name: x, role: input}
  - {name: out, role: output}
edges:
  - {from: x, to: out, init: zeros}
data: {source: inline, columns: [x, y], target: y, test_split: TEST, rows: ROWS}
train: {loss: mse, epochs: 2, validation_split: 0.5, seed: 3, optimizer: {name: sgd, learning_rate: 0.01}}
"""


def test_a_validation_loss_that_overflows_is_said_once_with_its_cause(tmp_path):
    rows = [[i / 10, i / 5] for i in range(30)]
    rows[2] = [1e30, 5.0]  # a float32 number, whose square is not
    path = tmp_path / "reg.yaml"
    path.write_text(REGRESSION.replace("TEST", "0").replace("ROWS", str(rows)))
    code, _, err = helpers.cli("train", path, "--no-save")
    assert code == 0 and "RuntimeWarning" not in err
    note = ("the validation loss is inf: the network's values overflow float32 (whose largest number is about "
            "3.4e+38) for some rows (the largest input is 1e+30); scale the data down, or train in float64 "
            "(--float64; in Python dtype=np.float64)")
    assert err.count(note) == 1 and "note: after epoch 1 the validation loss is inf" in err
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _, history = nngraph.train(str(path))
    assert [str(w.message) for w in seen] == [f"after epoch 1 {note}"]
    assert seen[0].category is nngraph.TrainingWarning and history[-1]["val_loss"] == np.inf


def test_r2_of_a_single_test_row_is_undefined_and_says_why(tmp_path):
    rows = [[i / 10, i / 5] for i in range(12)]
    path = tmp_path / "reg.yaml"
    path.write_text(REGRESSION.replace("TEST", "0.05").replace("ROWS", str(rows)).replace("0.5, seed", "0, seed"))
    why = ("R² is undefined for a single sample: it compares the errors with the spread of the targets around their "
           "mean, and one target has none")
    code, out, _ = helpers.cli("train", path, "--no-save")
    assert code == 0 and f"R² undefined ({why})" in out
    code, out, _ = helpers.cli("train", path, "--no-save", "--json")
    import json

    test = json.loads(out)["test"]
    assert test["n"] == 1 and test["r2"] is None and test["r2_undefined"] == why
    from nngraph import metrics

    two = metrics.regression(np.array([[1.0], [2.0]]), np.array([[1.5], [2.5]]))
    assert two["r2"] == 0.0 and "r2_undefined" not in two  # two samples: defined, 1 - 0.5 / 0.5


def test_a_nan_loss_that_no_learning_rate_cures_says_so(tmp_path):
    rows = [[i / 10, i / 5] for i in range(30)]
    rows[2] = [1e30, 5.0]  # in the training rows now: w * 1e30 squared overflows once w moves off 0
    with pytest.raises(nngraph.TrainingError) as info:
        nngraph.train(REGRESSION.replace("TEST", "0").replace("ROWS", str(rows)).replace("0.5, seed", "0, seed"))
    message = str(info.value)
    assert message.startswith("the loss became inf at epoch 2, step 1;")
    assert message.endswith("the learning rate is not the cause: with the kept parameters the loss of this batch is "
                            "not finite either: the network's values overflow float32 (whose largest number is about "
                            "3.4e+38) for some rows (the largest input is 1e+30); scale the data down, or train in "
                            "float64 (--float64; in Python dtype=np.float64)")
    assert "lower the learning rate" not in message


@pytest.mark.parametrize("rows, said", [([[0, 0], [1]], "row 1 has 1 value, row 0 has 2 values"),
                                        ([[0, 0], [1, 1], 5, [0, 1]], "row 2 is a single number, row 0 has 2 values")])
def test_ragged_rows_are_refused_naming_the_row(rows, said):
    with pytest.raises(DataError, match=rf"^X is not a rectangular array \({said}\); every row needs the same number "
                                        "of values$"):
        nngraph.train(helpers.XOR_TRAIN, data=(rows, Y[:len(rows)]))


def test_a_test_set_given_to_train_is_checked_though_train_does_not_score_it():
    with pytest.raises(DataError, match=r"^X_test has 3 values per row; the network has 2 inputs \(x 2\): give rows "
                                        r"of 2$"):
        nngraph.train(helpers.XOR_TRAIN, data=(X, Y, np.zeros((4, 3)), Y))
    with pytest.raises(DataError, match=r"^X_test row 0, column 1 \(x\[1\]\): 1e\+300 is too large for float32"):
        nngraph.train(helpers.XOR_TRAIN, data=(X, Y, [[0, 1e300]], [1]))


def test_a_penalty_on_a_frozen_node_and_a_step_never_taken_are_warnings(write_spec):
    path = write_spec("""
        nngraph: 1
        name: v
        nodes:
          - {name: x, role: input, size: 2}
          - {name: h, size: 4, activation: tanh, l2: 0.3, max_norm: 2}
          - {name: out, role: output, activation: sigmoid, l2: 0.1}
        edges:
          - {from: x, to: h, init: xavier_uniform, trainable: false}
          - {from: h, to: out, init: xavier_uniform}
        data: {source: moons, samples: 200}
        train: {loss: binary_cross_entropy, epochs: 5, optimizer: {name: sgd, schedule: {name: step, step_size: 4, warmup: 1}}}
    """)
    code, _, err = helpers.cli("validate", path)
    assert code == 0
    found = [line.split(": warning: ")[1] for line in err.splitlines() if ": warning: " in line]
    assert found == [
        "nodes[1].l2: l2 on h changes nothing: every connection into it is frozen (trainable: false), so its weights "
        "never move",
        "nodes[1].max_norm: max_norm on h changes nothing: every connection into it is frozen (trainable: false), so "
        "its weights never move",
        "train.optimizer.schedule.step_size: step_size 4: the first step would come at epoch 6, after the 5 epochs "
        "of training, so the rate never changes"]
    path.write_text(path.read_text().replace("epochs: 5", "epochs: 6").replace(", trainable: false", ""))
    code, _, err = helpers.cli("validate", path)
    assert code == 0 and "warning" not in err


def test_a_plan_refuses_inputs_its_precision_cannot_hold():
    _, plan = _xor()
    said = (r"^inputs row 1, column 0: -1e\+300 is too large for float32 \(at most about 3.4e\+38\), the plan's "
            r"precision: it would become inf; scale the inputs down, or compile in float64")
    big = np.array([[0, 1], [-1e300, 0]])
    for call in (lambda: plan.forward(big), lambda: plan.predict(big), lambda: plan.evaluate(big, [1, 0])):
        with pytest.raises(DataError, match=said):  # evaluate scored inf silently (accuracy 1.0)
            call()
    wide = compile(nngraph.load(helpers.XOR_TRAIN), dtype="float64", use_file=False)
    assert np.isfinite(wide.forward(big)).all()
    assert plan.forward(big[:1]).shape == (1, 1)  # (what fits is cast as before)


def test_a_refused_non_finite_input_brings_no_floating_point_warning(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(HUGE.replace("weight: 1e20", "init: zeros").replace("{name: x, role: input}",
                                                                     "{name: x, role: input, size: 2}"))
    x = np.ones((50, 2))
    x[3] = [np.inf, -np.inf]  # the finiteness check's own sum is nan: what it looks for, not news
    np.save(tmp_path / "in.npy", x)
    code, _, err = helpers.cli("run", path, "--inputs", tmp_path / "in.npy", "--chunk-rows", 10,
                               "--output", tmp_path / "o.npy")
    assert code == 1 and err.strip() == f"error: {tmp_path / 'in.npy'}: row 4: inputs must be finite numbers"


@pytest.mark.parametrize("dtype", [np.int32, np.float16])
def test_a_dtype_that_training_does_not_take_is_refused_as_such(dtype):
    with pytest.raises(nngraph.NNGraphError, match=rf"^dtype must be float32 or float64, not <class "
                                                   rf"'numpy.{dtype.__name__}'>$"):
        nngraph.train(helpers.XOR_TRAIN, data=(X, Y), dtype=dtype)


def test_rows_validate_cannot_count_are_counted_when_training(tmp_path):
    rows = "".join(f"{i / 1000:.6f},{int(i > 5000)}\n" for i in range(10_000))  # over 64 KiB: not read by validate
    (tmp_path / "many.csv").write_text("x,y\n" + rows)
    path = tmp_path / "many.yaml"
    path.write_text(TINY.replace("epochs: 3", "epochs: 1, batch_size: 1000").replace("0.3", "0.00002").replace(
        TINY.split("data: ")[1].split("\n")[0], "{source: csv, path: many.csv, target: y, test_split: 0}"))
    code, _, err = helpers.cli("validate", path)
    assert code == 0 and "validation_split" not in err
    code, _, err = helpers.cli("train", path, "--no-save")
    said = ("warning: train.validation_split: 2e-05 of 10,000 training rows rounds to no row held out for validation, "
            "so early stopping and the plateau schedule will not act")
    assert code == 0 and err.count(said) == 1 and "TrainingWarning" not in err
    assert re.search(r"many\.yaml:9:\d+: " + re.escape(said), err)
