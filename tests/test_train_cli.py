"""What `nngraph train` prints and writes: short epoch lines, metrics, prediction tables, --log."""
import csv
import json
import shutil

import pytest
from click.testing import CliRunner

from nngraph.cli import main

from helpers import EXAMPLES

EX = {p.name: p for p in EXAMPLES}


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_xor_prints_accuracy_and_its_truth_table_in_few_lines(tmp_path):
    spec = tmp_path / "xor.yaml"
    shutil.copy(EX["xor_train.yaml"], spec)
    code, out, err = run("train", spec, "--no-save")
    assert code == 0, err
    epoch_lines = [line for line in err.splitlines() if line.startswith("epoch")]
    assert 15 <= len(epoch_lines) <= 22 and epoch_lines[-1].startswith("epoch 300")
    assert "acc 100.00%" in epoch_lines[-1]  # training accuracy beside the loss
    assert "test accuracy: 100.00% (4 samples)" in out and "F1 1.000" in out
    rows = [line for line in out.splitlines() if "✓" in line or "✗" in line]
    assert [r.split("│")[1:4] for r in rows] == [[" 0 ", " 0 ", "     0 "], [" 0 ", " 1 ", "     1 "],
                                                 [" 1 ", " 0 ", "     1 "], [" 1 ", " 1 ", "     0 "]]
    assert all("✓" in r for r in rows)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_log_has_one_row_per_epoch_with_the_rate(tmp_path, suffix):
    log = tmp_path / f"run{suffix}"
    code, out, err = run("train", EX["xor_train.yaml"], "--no-save", "--epochs", "7", "--log", log,
                         "--set", "train.optimizer.schedule.name=exponential", "--set",
                         "train.optimizer.schedule.gamma=0.5", "--json")
    assert code == 0, err
    if suffix == ".csv":
        rows = list(csv.DictReader(log.open()))
    else:
        rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [int(r["epoch"]) for r in rows] == list(range(1, 8))
    assert [float(r["learning_rate"]) for r in rows] == [0.05 * 0.5 ** k for k in range(7)]
    history = json.loads(out)["history"]
    assert [h["learning_rate"] for h in history] == [float(r["learning_rate"]) for r in rows]


def test_log_refuses_other_suffixes(tmp_path):
    code, _, err = run("train", EX["xor_train.yaml"], "--no-save", "--log", tmp_path / "run.txt")
    assert (code, err) == (1, f"error: --log {tmp_path / 'run.txt'}: an epoch log is written as .csv or .jsonl, "
                              "not .txt\n")  # as --plot's and --regions' wrong suffixes: not a click usage error


def test_regression_metrics_are_printed():
    code, out, err = run("train", EX["fast_food_learn.yaml"], "--no-save", "--epochs", "3")
    assert code == 0, err
    assert "MAE " in out and "RMSE " in out and "R² " in out
