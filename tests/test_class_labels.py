"""Output labels name the classes: plan.predict returns them, fit and evaluate take them as y, and
the CLI's prediction table, confusion matrix and --json use them (escaped where they are printed).
Without labels, classes stay numbers."""
import json

import numpy as np
import pytest

import nngraph
from nngraph import DataError
from nngraph.compile import compile

from helpers import EXAMPLES, cli, spec_text

EX = {p.name: p for p in EXAMPLES}
ROWS = [[0, 0, 0], [0, 1, 1], [1, 0, 2], [0.1, 0, 0], [0, 0.9, 1], [0.9, 0, 2], [0.05, 0.1, 0], [0.1, 1, 1],
        [1, 0.1, 2], [0, 0.05, 0], [0.1, 0.8, 1], [0.8, 0.1, 2]]


def _spec(labels):
    return spec_text(f"""
        nngraph: 1
        name: tri
        nodes:
          - {{name: x, role: input, size: 2, labels: [p, q]}}
          - {{name: h, size: 6, activation: tanh}}
          - {{name: kind, role: output, size: 3, activation: softmax, labels: {json.dumps(labels)}}}
        edges:
          - {{from: x, to: h, init: xavier_uniform}}
          - {{from: h, to: kind, init: xavier_uniform}}
        data: {{source: inline, columns: [p, q, kind], target: kind, test_split: 0.5, rows: {json.dumps(ROWS)}}}
        train: {{loss: cross_entropy, optimizer: {{name: adam, learning_rate: 0.05}}, epochs: 60, batch_size: 4,
                 validation_split: 0, seed: 0}}
    """)


X = np.array([r[:2] for r in ROWS], dtype=float)
IDX = np.array([r[2] for r in ROWS])
COLOURS = np.array(["red", "green", "blue"])


def test_predict_returns_the_declared_labels_and_fit_evaluate_take_them():
    by_label = compile(nngraph.load(_spec(["red", "green", "blue"])), use_file=False)
    by_index = compile(nngraph.load(_spec(["red", "green", "blue"])), use_file=False)
    by_label.fit(X, COLOURS[IDX].tolist())
    by_index.fit(X, IDX)
    assert np.array_equal(by_label.forward(X), by_index.forward(X))  # the same targets, by name
    predicted = by_label.predict(X)
    assert predicted.tolist() == COLOURS[IDX].tolist()
    assert by_label.evaluate(X, COLOURS[IDX])["accuracy"] == 1.0
    named, numbered = by_label.evaluate(X, COLOURS[IDX]), by_label.evaluate(X, IDX)
    assert np.array_equal(named.pop("confusion"), numbered.pop("confusion")) and named == numbered


def test_a_label_that_is_not_a_class_is_named_with_the_valid_ones():
    plan = compile(nngraph.load(_spec(["red", "green", "blue"])), use_file=False)
    with pytest.raises(DataError, match=r"^y row 1: 'gren' is not a class \(did you mean 'green'\?\); the classes "
                                        r"are red, green, blue \(or their numbers 0 to 2\)$"):
        plan.evaluate(X[:3], ["red", "gren", "blue"])


def test_without_labels_classes_stay_indices():
    spec = nngraph.load(EX["xor_train.yaml"])
    plan, _ = nngraph.train(spec, data=(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), [0, 1, 1, 0]), epochs=5)
    assert plan.predict(np.array([[0, 0], [1, 1]])).dtype.kind == "i"


def test_cli_names_classes_by_their_labels_and_escapes_them(tmp_path):
    labels = ["red", "[bold]gr\x1b[2Jeen[/bold]", "blue"]
    path = tmp_path / "tri.yaml"
    path.write_text(_spec(labels))
    code, out, err = cli("train", str(path), "--no-save")
    assert code == 0, err
    table = out[out.index("predictions on the test set"):]
    assert "\x1b" not in out and "1 [bold]gr\\x1b[2Jeen[/bold]" in out  # shown as text, not obeyed
    rows = [line.split("│") for line in table.splitlines() if "✓" in line or "✗" in line]
    assert len(rows) == 6 and all(r[3].strip() in ("red", "blue") or r[3].strip().startswith("[bold]gr") for r in rows)
    assert "0 red" in out and "2 blue" in out  # the confusion matrix's rows
    code, out, _ = cli("train", str(path), "--no-save", "--json", "--epochs", "2")
    assert json.loads(out)["test"]["classes"] == labels


def test_cli_keeps_numbers_without_labels(tmp_path):
    path = tmp_path / "tri.yaml"
    path.write_text(_spec(["red", "green", "blue"]).replace(", labels: [\"red\", \"green\", \"blue\"]", ""))
    code, out, _ = cli("train", str(path), "--no-save", "--json", "--epochs", "2")
    assert code == 0 and "classes" not in json.loads(out)["test"]
    code, out, _ = cli("train", str(path), "--no-save", "--epochs", "2")
    assert "red " not in out and "│ 0 │ 1 │ 0 │ 0 │" in out


def test_run_json_gives_the_predicted_labels_as_the_table_does(tmp_path):
    path = tmp_path / "tri.yaml"
    path.write_text(_spec(["red", "green", "blue"]))
    code, out, err = cli("run", str(path), "--untrained", "--json", "--input", "p=0", "--input", "q=1")
    assert code == 0, err
    result = json.loads(out)
    assert result["outputs"] == ["red", "green", "blue"]
    assert result["predicted"] == [result["outputs"][int(np.argmax(result["values"][0]))]]
    code, table, _ = cli("run", str(path), "--untrained", "--input", "p=0", "--input", "q=1")
    assert result["predicted"][0] in table.splitlines()[-2]


def test_one_hot_rows_are_the_classes_they_mark():
    plan = compile(nngraph.load(_spec(["red", "green", "blue"])), use_file=False)
    one_hot = np.eye(3)[IDX]
    scored = plan.evaluate(X, one_hot)
    assert "accuracy" in scored and "rmse" not in scored  # a classifier's metrics, not a regression's
    named = plan.evaluate(X, COLOURS[IDX])
    assert np.array_equal(scored.pop("confusion"), named.pop("confusion")) and scored == named
    assert "accuracy" in plan.fit(X, one_hot, epochs=1)[-1]
    assert "rmse" in plan.evaluate(X, np.full((12, 3), 1 / 3))  # probabilities stay targets
