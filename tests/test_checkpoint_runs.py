"""A new run never mixes with an older run's checkpoints: it replaces them (its own are not pruned
as "oldest by name"), --resume continues the newest run, and a spec file never takes or prunes the
checkpoints of another spec file of the same name."""
import numpy as np
import pytest

from nngraph import TrainingError
from nngraph.training import train

SPEC = """\
nngraph: 1
name: n
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 3, activation: tanh}
  - {name: out, role: output, activation: sigmoid}
edges:
  - {from: x, to: h}
  - {from: h, to: out}
data: {source: xor}
train: {loss: binary_cross_entropy, batch_size: 4, epochs: 8, seed: 1, checkpoint: {every: 1, keep: 3}}
"""



class _Resumed:
    """Callbacks noting the epoch a run resumed after."""

    def __init__(self, seen):
        self.seen = seen

    def resumed(self, path, epoch):
        self.seen.append(epoch)

    def __getattr__(self, name):
        return lambda *args: None

def _names(folder):
    return sorted(p.name for p in folder.glob("epoch-*.npz"))


def test_a_new_run_replaces_the_older_runs_checkpoints_and_resume_continues_it(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    folder = tmp_path / "n.checkpoints"
    train(spec, epochs=8)
    assert _names(folder) == ["epoch-000006.npz", "epoch-000007.npz", "epoch-000008.npz"]
    _, newer = train(spec, epochs=3)
    assert _names(folder) == ["epoch-000001.npz", "epoch-000002.npz", "epoch-000003.npz"]
    seen = []
    _, history = train(spec, epochs=5, resume=True, callbacks=_Resumed(seen))
    assert seen == [3]
    assert [r["loss"] for r in history[:3]] == [r["loss"] for r in newer]
    _, whole = train(spec, epochs=5)  # the same as a run of 5 from the start
    assert np.allclose([r["loss"] for r in history], [r["loss"] for r in whole], rtol=1e-5)


def test_two_spec_files_of_the_same_name_never_share_checkpoints(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(SPEC)
    b.write_text(SPEC)
    folder = tmp_path / "n.checkpoints"
    train(a, epochs=4)
    kept = {p.name: p.read_bytes() for p in folder.iterdir()}
    for resume in (False, True):
        with pytest.raises(TrainingError, match=r"n.checkpoints holds checkpoints of another spec file "
                                                r"\(epoch-000004.npz, written for .*a.yaml\); name a folder"):
            train(b, epochs=2, resume=resume)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == kept


def test_resume_never_replaces_parameters_written_after_an_unfinished_run_without_saying_so(tmp_path):
    import os

    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("data:", "parameters: s.npz\ndata:"))

    class CtrlC:
        def epoch_end(self, record):
            if record["epoch"] == 4:
                raise KeyboardInterrupt

        def __getattr__(self, name):
            return lambda *args: None

    with pytest.raises(TrainingError, match="interrupted during epoch 4"):
        train(spec, epochs=8, callbacks=CtrlC())
    newest = tmp_path / "n.checkpoints" / "epoch-000003.npz"
    os.utime(newest, (1_000_000_000, 1_000_000_000))
    plan, _ = train(spec.read_text().replace("checkpoint: {every: 1, keep: 3}", "checkpoint: null"), epochs=2)
    plan.save(tmp_path / "s.npz")  # another run's parameters, written after the unfinished run's checkpoint
    kept = (tmp_path / "s.npz").read_bytes()
    with pytest.raises(TrainingError, match=r"epoch-000003\.npz is the newest checkpoint, of a run that did not "
                                            r"finish, and s\.npz was written after it by another run"):
        train(spec, epochs=8, resume=True)
    assert (tmp_path / "s.npz").read_bytes() == kept
    (tmp_path / "s.npz").unlink()
    _, history = train(spec, epochs=8, resume=True)  # without them: resumed after epoch 3
    assert len(history) == 8


def test_a_project_folder_moved_whole_still_resumes(tmp_path):
    """Each checkpoint names its spec file relative to the checkpoint folder, never by an absolute
    path: the folder moved or copied with its spec resumes as before."""
    import json
    import shutil

    first = tmp_path / "a"
    first.mkdir()
    (first / "s.yaml").write_text(SPEC.replace("epochs: 8", "epochs: 4"))
    train(first / "s.yaml", epochs=2)
    meta = json.loads(np.load(first / "n.checkpoints" / "epoch-000002.npz")["__meta__"].tobytes())
    assert meta["spec"] == "../s.yaml"
    moved = tmp_path / "b"
    shutil.move(first, moved)
    seen = []
    train(moved / "s.yaml", epochs=4, resume=True, callbacks=_Resumed(seen))
    assert seen == [2]
