"""Checkpoints: resuming gives bit for bit the weights of an uninterrupted run, even after kill -9."""
import os
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nngraph
from nngraph import TrainingError
from nngraph.training import train

SPEC = """\
nngraph: 1
name: ck
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 8, activation: tanh, dropout: 0.1}
  - {name: out, role: output, activation: sigmoid}
edges:
  - {from: x, to: h}
  - {from: h, to: out}
parameters: ck.npz
data: {source: npz, path: two_classes.npz}
train:
  loss: binary_cross_entropy
  optimizer: {name: adam, learning_rate: 0.01, schedule: {name: plateau, warmup: 2, patience: 2}}
  batch_size: 8
  epochs: EPOCHS
  seed: 3
  l1: 0.001
  max_norm: 1.5
  early_stopping: {patience: 50}
  checkpoint: {every: 1, keep: 2}
"""


def _spec(tmp_path, epochs=12):
    rng = np.random.default_rng(0)  # two noisy classes; a file source keeps the CLI's start-up short
    x = rng.normal(size=(250, 2))
    np.savez(tmp_path / "two_classes.npz", x=x, y=(x[:, 0] * x[:, 1] + 0.3 * rng.normal(size=250) > 0).astype(int))
    path = tmp_path / "ck.yaml"
    path.write_text(SPEC.replace("EPOCHS", str(epochs)))
    return path


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_resume_in_process_equals_uninterrupted(tmp_path):
    spec = nngraph.load(_spec(tmp_path))
    whole, h1 = train(spec, dtype=np.float64)
    for folder in tmp_path.glob("*.checkpoints"):
        for f in folder.iterdir():
            f.unlink()
    train(spec, dtype=np.float64, epochs=5)
    assert sorted(p.name for p in (tmp_path / "ck.checkpoints").glob("epoch-*")) == ["epoch-000004.npz",
                                                                                    "epoch-000005.npz"]
    resumed, h2 = train(spec, dtype=np.float64, resume=True)
    assert _same(whole.parameters(), resumed.parameters())
    assert [r["loss"] for r in h1] == [r["loss"] for r in h2] and len(h2) == 12


def test_a_checkpoint_with_adams_normalised_moments_resumes_the_same_run(tmp_path):
    """Checkpoints written before Adam kept its moments unnormalised hold m and v themselves;
    resuming from one converts them (equal to rounding, not bit for bit)."""
    import json

    path = _spec(tmp_path, epochs=6)
    path.write_text(path.read_text().replace("  early_stopping: {patience: 50}\n", ""))  # the last weights, not the best
    spec = nngraph.load(path)
    whole, _ = train(spec, dtype=np.float64)
    for f in (tmp_path / "ck.checkpoints").iterdir():
        f.unlink()
    train(spec, dtype=np.float64, epochs=3)
    path = tmp_path / "ck.checkpoints" / "epoch-000003.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    assert meta.pop("optimizer_state") == 2
    for k in arrays:
        if k.startswith("opt_"):  # opt_<tensor>_0 is M, opt_<tensor>_1 is V
            arrays[k] = arrays[k] * (1 - 0.9 if k.endswith("_0") else 1 - 0.999)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    resumed, _ = train(spec, dtype=np.float64, resume=True)
    a, b = whole.parameters(), resumed.parameters()
    assert a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in a)


def test_resume_refuses_another_spec_and_a_broken_file(tmp_path):
    path = _spec(tmp_path)
    train(path, dtype=np.float64, epochs=2)
    text = path.read_text()
    path.write_text(text.replace("seed: 3", "seed: 4"))
    with pytest.raises(TrainingError, match="epoch-000002.npz was written for a different spec or dtype"):
        train(path, dtype=np.float64, resume=True)
    path.write_text(text)
    with pytest.raises(TrainingError, match="different spec or dtype"):
        train(path, dtype=np.float32, resume=True)
    (tmp_path / "ck.checkpoints" / "epoch-000002.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(TrainingError, match="not a readable checkpoint"):
        train(path, dtype=np.float64, resume=True)


_FOLDER = []  # the folder of the checkpoint _rewrite changes


def _rows(meta):
    """The history rows a checkpoint counts, put into its record (where records held them) to be changed."""
    import json

    if "history" not in meta:
        lines = (_FOLDER[-1] / meta.pop("history_file")).read_text().splitlines()[:meta["epoch"]]
        meta["history"] = [json.loads(line) for line in lines]
    return meta["history"]


def _rewrite(path, change):
    import json

    _FOLDER.append(path.parent)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    change(arrays, meta)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)


@pytest.mark.parametrize("change, message", [
    # a member of 50M zeros compresses to about 50 KB: refused by its declared size, never inflated
    (lambda a, m: a.update(extra=np.zeros(50_000_000, np.uint8)), r"it holds 'extra', which this run has no place"),
    (lambda a, m: a.update(param_0=np.zeros((3, 1))), r"'param_0' has shape \(3, 1\), this run's has \(2, 8\)"),
    (lambda a, m: a.update(param_0=np.zeros((2000, 8))), r"'param_0' declares [\d,]+ bytes, more than this run's"),
    (lambda a, m: a.pop("opt_0_1"), r"its record is damaged: KeyError: 'opt_0_1'"),
    (lambda a, m: a.update(param_0=a["param_0"] * np.nan), r"'param_0' holds non-finite values"),
    (lambda a, m: a.update(param_0=a["param_0"] * 1j), r"array 'param_0': has dtype complex128"),
    (lambda a, m: m.update(epoch="x"), r"'epoch' is str, not a whole number"),
    (lambda a, m: m.update(rng=None), r"'rng' is not an object of bit_generator, has_uint32, state, uinteger"),
    (lambda a, m: m.update(history="zz"), r"'history' is not a list of 2 epochs' rows"),
    (lambda a, m: m.update(schedule=None), r"'schedule' is not an object of current, best and waited"),
    # a hostile record: each field of the type and range training writes, refused by name
    (lambda a, m: m.update(epoch=-1_000_000_000), r"'epoch' is -1000000000, outside 1 to 12"),
    (lambda a, m: m.update(opt_t=-5), r"'opt_t' is -5, outside 0 to \d+"),
    (lambda a, m: m["rng"]["state"].update(state=-1), r"'rng.state.state' is -1, not a whole number from 0"),
    (lambda a, m: m["rng"].update(bit_generator="MT19937"), r"'rng.bit_generator' is 'MT19937', not 'PCG64'"),
    (lambda a, m: m.update(history=[1, 2]), r"'history\[0\]' is int, not an object"),
    (lambda a, m: [r.pop("loss") for r in _rows(m)], r"'history\[0\].loss' is missing"),
    (lambda a, m: _rows(m)[1].update(loss="nan"), r"'history\[1\].loss' is str, not a number"),
    (lambda a, m: m.update(history_file="../ck.yaml"), r"'history_file' is '../ck.yaml', not a history file's name"),
    (lambda a, m: m.update(stopped="yes"), r"'stopped' is 'yes', not true or false"),
    (lambda a, m: m.update(best_loss="0.1"), r"'best_loss' is str, not a number"),
    (lambda a, m: m.update(pad=" " * 9_000_000), r"'__meta__': its record declares [\d,]+ bytes, more than"),
])
def test_a_damaged_checkpoint_of_the_right_spec_is_refused_by_name_not_an_internal_error(tmp_path, change, message):
    path = _spec(tmp_path)
    train(path, dtype=np.float64, epochs=2)
    _rewrite(tmp_path / "ck.checkpoints" / "epoch-000002.npz", change)
    with pytest.raises(TrainingError, match=r"epoch-000002\.npz: not a readable checkpoint \(.*" + message):
        train(path, dtype=np.float64, resume=True)


def test_a_checkpoint_beyond_the_epochs_asked_for_is_refused_saying_so(tmp_path):
    path = _spec(tmp_path)
    train(path, dtype=np.float64, epochs=4)
    with pytest.raises(TrainingError, match=r"epoch-000004\.npz: written after epoch 4, beyond this run's 3 epochs"):
        train(path, dtype=np.float64, epochs=3, resume=True)


def test_a_checkpoint_of_other_sizes_is_another_spec_not_a_damaged_file(tmp_path):
    path = _spec(tmp_path)
    train(path, dtype=np.float64, epochs=2)
    path.write_text(path.read_text().replace("size: 8", "size: 9"))
    with pytest.raises(TrainingError, match=r"epoch-000002\.npz was written for a different spec or dtype"):
        train(path, dtype=np.float64, resume=True)


def test_an_edge_file_changed_since_the_checkpoint_is_a_different_spec(tmp_path):
    # the spec names the file; a row added inside the same node pair kept every shape but one
    path = _spec(tmp_path)
    (tmp_path / "hx.csv").write_text("from,to,weight\nx[0],out[0],0.5\nx[1],out[0],0.25\n")
    path.write_text(path.read_text().replace("parameters: ck.npz\n", "edge_file: hx.csv\nparameters: ck.npz\n"))
    train(path, dtype=np.float64, epochs=2)
    (tmp_path / "hx.csv").write_text("from,to,weight\nx[0],out[0],0.5\nx[1],out[0],0.75\n")
    with pytest.raises(TrainingError, match="was written for a different spec or dtype"):
        train(path, dtype=np.float64, resume=True)


def test_checkpoint_directory_stays_beside_the_spec(tmp_path):
    path = _spec(tmp_path)
    path.write_text(path.read_text().replace("keep: 2}", "keep: 2, directory: ../elsewhere}"))
    with pytest.raises(TrainingError, match=r"train.checkpoint.directory: '../elsewhere' leaves the spec's folder"):
        train(path, epochs=1)


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "nngraph.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_kill_9_then_resume_is_bit_for_bit(tmp_path):
    path = _spec(tmp_path, epochs=40)
    whole, _ = train(nngraph.load(path), dtype=np.float64)
    expected = whole.parameters()
    folder = tmp_path / "ck.checkpoints"
    rnd = random.Random(11)
    resumed = 0
    for trial in range(3):
        for f in folder.glob("*"):
            f.unlink()
        proc = _cli("train", str(path), "--float64", "--json", cwd=tmp_path)
        deadline = time.monotonic() + 60
        while not any(folder.glob("epoch-*.npz")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rnd.uniform(0.0, 0.3))  # somewhere in the middle of the run (or a checkpoint write)
        sig = signal.SIGINT if trial == 2 else signal.SIGKILL
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            continue  # it finished first: nothing to resume in this trial
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and re.search(r"interrupted (during|after) epoch \d+", err), err
            assert "--resume" in err, err
        done = max(int(p.stem.split("-")[1]) for p in folder.glob("epoch-*.npz"))
        assert done < 40
        (tmp_path / "ck.npz").unlink(missing_ok=True)
        proc = _cli("train", str(path), "--float64", "--resume", cwd=tmp_path)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert f"resumed after epoch {done}" in err
        with np.load(tmp_path / "ck.npz", allow_pickle=False) as z:
            got = {k: z[k] for k in z.files if not k.startswith("meta/")}  # meta/activations: not a parameter
        assert _same(expected, got), trial
        resumed += 1
    assert resumed >= 2  # most trials really were cut short


def test_resume_names_what_changed_since_the_checkpoint(tmp_path):
    path = _spec(tmp_path)
    train(path, dtype=np.float64, epochs=2)
    last = tmp_path / "ck.checkpoints" / "epoch-000002.npz"
    text = path.read_text()
    path.write_text(text.replace("batch_size: 8", "batch_size: 16").replace("seed: 3", "seed: 4"))
    with pytest.raises(TrainingError) as info:
        train(path, dtype=np.float64, resume=True)
    path.write_text(text)
    assert str(info.value) == (
        f"{last} was written for a different spec or dtype (train.batch_size: 8 in the checkpoint, 16 in the spec; "
        "train.seed: 3 in the checkpoint, 4 in the spec); only train.epochs may change between a run and its "
        "resumption: undo the change, or delete the checkpoints to start over")
    with pytest.raises(TrainingError, match=r'\(dtype: "float64" in the checkpoint, "float32" in the spec\)'):
        train(path, dtype=np.float32, resume=True)
    path.write_text(text.replace("activation: tanh", "activation: relu"))
    with pytest.raises(TrainingError, match=r"\(nodes: \(a long value\) in the checkpoint, \(a long value\) in the"):
        train(path, dtype=np.float64, resume=True)
