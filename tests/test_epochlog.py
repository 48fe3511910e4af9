"""--log with --resume: the log is continued (checked against the checkpoint's run, rewritten
atomically, rows appended), and an interrupted run names its checkpoint and its log."""
import csv
import json
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from nngraph.cli import main

from test_checkpoint import _spec


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _rows(log):
    if log.suffix == ".csv":
        return list(csv.DictReader(log.open(newline="")))
    return [json.loads(line) for line in log.read_text().splitlines()]


def _wipe_checkpoints(tmp_path):
    for f in (tmp_path / "ck.checkpoints").glob("*"):
        f.unlink()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resume_continues_the_log_as_an_uninterrupted_run_writes_it(tmp_path, suffix):
    path, log, whole = _spec(tmp_path), tmp_path / f"run{suffix}", tmp_path / f"whole{suffix}"
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 6, "--log", whole)
    assert code == 0, err
    _wipe_checkpoints(tmp_path)
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 3, "--log", log)
    assert code == 0, err
    before = log.read_text().splitlines()
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 6, "--resume", "--log", log)
    assert code == 0 and "resumed after epoch 3" in err, err
    after = log.read_text().splitlines()
    assert after[:len(before)] == before  # the first run's rows, exactly as written
    rows, expected = _rows(log), _rows(whole)
    assert [int(r["epoch"]) for r in rows] == list(range(1, 7))
    assert [r["loss"] for r in rows] == [r["loss"] for r in expected]  # bit for bit, as the weights are
    assert [r["val_loss"] for r in rows] == [r["val_loss"] for r in expected]


def test_rows_after_the_checkpoint_and_a_cut_row_are_replaced(tmp_path):
    path, log = _spec(tmp_path), tmp_path / "run.csv"
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 4, "--log", log)
    assert code == 0, err
    (tmp_path / "ck.checkpoints" / "epoch-000004.npz").unlink()  # as if killed before epoch 4's checkpoint
    text = log.read_text()
    log.write_text(text + text.splitlines()[-1][:9])  # and while writing a row
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 4, "--resume", "--log", log)
    assert code == 0 and "resumed after epoch 3" in err, err
    assert log.read_text() .count("\n") == 5 and [int(r["epoch"]) for r in _rows(log)] == [1, 2, 3, 4]
    assert [r["loss"] for r in _rows(log)] == [r["loss"] for r in list(csv.DictReader(text.splitlines()))]
    assert not list(tmp_path.glob(".run.csv.*"))  # no temporary file left


@pytest.mark.parametrize("suffix, line, message", [
    (".csv", 2, "row 2 (loss 0.5) is not epoch 2 of the run in {} (loss {})"),
    (".jsonl", 1, "row 2 (loss 0.5) is not epoch 2 of the run in {} (loss {})"),
    (".csv", 0, "not an epoch log of nngraph (its first line has no 'epoch' column)"),
    (".jsonl", 0, "not an epoch log of nngraph (line 1 is not a JSON object)"),
])
def test_a_log_of_another_run_is_refused_and_left_alone(tmp_path, suffix, line, message):
    path, log = _spec(tmp_path), tmp_path / f"run{suffix}"
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 3, "--log", log)
    assert code == 0, err
    rows = log.read_text().splitlines()
    loss = str(_rows(log)[1]["loss"])
    rows[line] = rows[line].replace(loss, "0.5") if line else ("when,what" if suffix == ".csv" else "[1, 2]")
    log.write_text("\n".join(rows) + "\n")
    before = log.read_bytes()
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 5, "--resume", "--log", log)
    assert code == 1 and f"error: {log}: " in err, err
    assert message.format(tmp_path / "ck.checkpoints" / "epoch-000003.npz", loss) in err, err
    assert "give another --log file, or delete it" in err
    assert log.read_bytes() == before


def test_resume_without_a_log_writes_the_whole_history(tmp_path):
    path, log = _spec(tmp_path), tmp_path / "later.jsonl"
    assert cli("train", path, "--float64", "--no-save", "--epochs", 2)[0] == 0
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", 3, "--resume", "--log", log)
    assert code == 0, err
    assert [r["epoch"] for r in _rows(log)] == [1, 2, 3]


def test_ctrl_c_names_the_checkpoint_and_the_log_and_resume_continues_them(tmp_path):
    path, log = _spec(tmp_path, epochs=2000), tmp_path / "run.csv"
    # no early stop: it ended this run after about 50 epochs (half a second on a quiet machine)
    path.write_text(path.read_text().replace("early_stopping: {patience: 50}", "early_stopping: {patience: 2000}"))
    proc = subprocess.Popen([sys.executable, "-m", "nngraph.cli", "train", str(path), "--float64", "--log", str(log)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while (not log.exists() or log.read_text().count("\n") < 4) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    ended_first = proc.poll() is not None
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (ended_first, log.read_text().count("\n") if log.exists() else None, err)
    rows = len(_rows(log))
    checkpoint = max((tmp_path / "ck.checkpoints").glob("epoch-*.npz"))
    assert int(checkpoint.stem.split("-")[1]) in (rows - 1, rows)  # the row is written just before the checkpoint
    assert f"the last checkpoint is {checkpoint}; continue with --resume" in err, err
    assert f"the epoch log {log} holds epochs 1 to {rows}" in err, err
    assert "the parameters file was not written" in err and not (tmp_path / "ck.npz").exists()
    code, _, err = cli("train", path, "--float64", "--no-save", "--epochs", rows + 2, "--resume", "--log", log)
    assert code == 0, err
    assert [int(r["epoch"]) for r in _rows(log)] == list(range(1, rows + 3))


def test_an_interrupt_after_training_names_the_checkpoint_and_the_log(tmp_path, monkeypatch):
    import nngraph.cli.run_cmds as run_cmds

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmds, "_print_test", interrupted)  # after the parameters were saved
    path, log = _spec(tmp_path), tmp_path / "run.csv"
    code, _, err = cli("train", path, "--epochs", 3, "--log", log)
    assert code == 130
    last = tmp_path / "ck.checkpoints" / "epoch-000003.npz"
    assert f"interrupted; already written: {log}, {last}, {tmp_path / 'ck.npz'}" in err, err
