"""Writes that tell the truth: what an interrupted command says it left, temporary files of a
killed writer, the order of plot and parameters, and the parameters file's permissions."""
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from helpers import XOR_TRAIN, cli
from nngraph.params import write_parameters





@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(XOR_TRAIN)
    return path


def test_an_interrupt_after_the_save_says_what_was_written(spec, tmp_path, monkeypatch):
    import nngraph.cli.run_cmds as run_cmds

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmds, "_print_test", interrupted)  # right after the parameters were saved
    code, out, err = cli("train", spec)
    assert code == 130 and (tmp_path / "p.npz").exists()
    assert f"interrupted; already written: {tmp_path / 'p.npz'}" in err and "nothing was written" not in err


def test_an_interrupt_before_any_write_says_nothing_was_written(spec, tmp_path, monkeypatch):
    import nngraph.training as training

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "evaluate", interrupted)
    code, out, err = cli("train", spec)
    assert code == 130 and "interrupted; nothing was written" in err and not (tmp_path / "p.npz").exists()


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_writers_temporary_files_are_removed_by_the_next_save(tmp_path):
    target = tmp_path / "p.npz"
    dead = tmp_path / f".p.npz.nngraph-{_dead_pid()}-0123abcd.tmp"
    alive = tmp_path / f".p.npz.nngraph-{os.getpid()}-89abcdef.tmp"  # a writer that is running now
    other_target = tmp_path / f".q.npz.nngraph-{_dead_pid()}-0123abcd.tmp"
    not_ours = [tmp_path / "p.npz.tmp", tmp_path / f".p.npz.nngraph-{_dead_pid()}-zz.tmp", tmp_path / "notes.tmp"]
    for f in [dead, alive, other_target] + not_ours:
        f.write_bytes(b"partial")
    write_parameters(target, {"a": np.ones(2)})
    assert not dead.exists()
    assert alive.exists() and other_target.exists() and all(f.exists() for f in not_ours)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".npz")) == ["p.npz"]


def test_a_save_killed_with_sigkill_leaves_only_a_recognisable_temporary_file(tmp_path):
    target = tmp_path / "p.npz"
    code = ("import os, numpy as np, nngraph.params as p\n"
            "np.savez_orig = np.savez\n"
            "def stop(f, **kw):\n"
            "    f.write(b'half'); f.flush(); os.kill(os.getpid(), 9)\n"
            "np.savez = stop\n"
            f"p.write_parameters({str(target)!r}, {{'a': np.ones(3)}})\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".p.npz.nngraph-") and left[0].endswith(".tmp")
    write_parameters(target, {"a": np.ones(3)})
    assert [p.name for p in tmp_path.iterdir()] == ["p.npz"]


def test_a_plot_path_that_cannot_be_written_fails_before_training(spec, tmp_path):
    code, out, err = cli("train", spec, "--plot", tmp_path / "missing" / "curves.png")
    assert code == 1 and f"error: --plot {tmp_path / 'missing' / 'curves.png'}: the folder" in err
    assert not (tmp_path / "p.npz").exists()


def test_a_failing_plot_leaves_the_old_parameters(spec, tmp_path, monkeypatch):
    assert cli("train", spec)[0] == 0
    good = (tmp_path / "p.npz").read_bytes()
    import nngraph.plot

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(nngraph.plot, "plot_history", broken)
    code, out, err = cli("train", spec, "--set", "train.seed=5", "--plot", tmp_path / "c.png")
    assert code == 1 and (tmp_path / "p.npz").read_bytes() == good


def test_plot_on_a_trained_spec_says_it_does_not_train(spec, tmp_path):
    assert cli("run", spec)[0] == 0
    code, out, err = cli("run", spec, "--plot", tmp_path / "c.png")
    assert code == 2 and "--plot applies only when training, and this run does not train" in err and "--retrain" in err


def test_retraining_keeps_the_parameters_files_mode_and_new_files_follow_the_umask(spec, tmp_path):
    old = os.umask(0o022)
    try:
        assert cli("train", spec)[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / "p.npz").st_mode) == 0o644
        os.chmod(tmp_path / "p.npz", 0o640)
        assert cli("train", spec, "--set", "train.seed=3")[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / "p.npz").st_mode) == 0o640
    finally:
        os.umask(old)


_SLOW_WRITER = """
import sys, time
import numpy as np
import nngraph.io, nngraph.params, nngraph.writes
def slow(f, *a, **k):
    f.write(b"half a file"); f.flush(); print("writing", flush=True); time.sleep(60)
np.save = np.savez = slow
nngraph.io.csv.writer = lambda text: slow(text.detach())
nngraph.writes.os.fsync = lambda fd: slow(open(fd, "wb", closefd=False))  # after the whole text, before the rename
target, kind = sys.argv[1], sys.argv[2]
if kind == "outputs":
    nngraph.io.write_outputs(target, np.ones((2, 2)), ["a", "b"])
elif kind == "parameters":
    nngraph.params.write_parameters(target, {"a": np.ones(2)})
else:
    nngraph.io.write_text_atomic(target, "{}")
"""


@pytest.mark.parametrize("name,kind", [("o.npy", "outputs"), ("o.csv", "outputs"), ("p.npz", "parameters"),
                                       ("s.json", "text")])
def test_every_writer_leaves_the_old_file_after_kill_9_and_the_next_write_cleans_up(tmp_path, name, kind):
    import signal

    from nngraph.io import write_outputs

    target = tmp_path / name
    target.write_bytes(b"the old file")
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target), kind], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"  # mid-write: the temporary is open and half full
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.stdout.close()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert target.read_bytes() == b"the old file" and len(left) == 2
    stale = next(p for p in left if p != name)
    assert stale.startswith(f".{name}.nngraph-{proc.pid}-") and stale.endswith(".tmp")
    if kind == "parameters":
        write_parameters(target, {"a": np.ones(2)})
    elif kind == "text":
        from nngraph.io import write_text_atomic

        write_text_atomic(target, "{}")
    else:
        write_outputs(target, np.ones((1, 2)), ["a", "b"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
