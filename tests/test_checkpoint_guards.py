"""Checkpoints are never lost silently: a fresh run refuses to replace an unfinished run's, a spec
not read from a file never takes a spec file's, a run whose validation loss overflowed resumes, a
file where the folder goes is refused before training, and changed data is refused on --resume."""
import json

import numpy as np
import pytest

import nngraph
from nngraph import TrainingError
from nngraph.training import train

from helpers import cli

from test_checkpoint_runs import SPEC as _RUNS_SPEC

SPEC = _RUNS_SPEC.replace("name: n", "name: g").replace("keep: 3", "keep: 2")


class _Stop:
    """Callbacks: Ctrl-C at the end of epoch ``at``; ``replaced`` notes what a run replaced."""

    def __init__(self, at=None):
        self.at, self.replaced_paths = at, []

    def epoch_end(self, record):
        if record["epoch"] == self.at:
            raise KeyboardInterrupt

    def replaced(self, paths):
        self.replaced_paths.append([p.name for p in paths])

    def __getattr__(self, name):
        return lambda *args: None


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _interrupted(tmp_path, at=4):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    with pytest.raises(TrainingError, match=f"interrupted during epoch {at}"):
        train(spec, callbacks=_Stop(at))
    return spec, tmp_path / "g.checkpoints"


def test_a_fresh_run_refuses_to_replace_an_unfinished_runs_checkpoints_before_any_work(tmp_path, monkeypatch):
    spec, folder = _interrupted(tmp_path)
    kept = _files(folder)
    (tmp_path / "run.csv").write_text("an older log\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("train", spec, "--epochs", 1, "--no-save", "--log", "run.csv")
    assert code != 0
    assert (f"{folder / 'epoch-000003.npz'} is the newest checkpoint of a run that did not finish (it stopped after "
            "epoch 3): starting afresh would delete it; continue it with nngraph train --resume") in " ".join(err.split()), err
    assert "--restart" in err and "epoch 1 " not in err
    assert _files(folder) == kept and (tmp_path / "run.csv").read_text() == "an older log\n"
    with pytest.raises(TrainingError, match="ask for one of them"):
        train(spec, resume=True, restart=True)
    # --restart starts over, and says, once, which checkpoints its first one replaced
    code, _, err = cli("train", spec, "--epochs", 1, "--no-save", "--restart")
    assert code == 0, err
    assert f"replaced the earlier run's checkpoints in {folder} (epoch-000002.npz to epoch-000003.npz)" in \
        " ".join(err.split())
    assert sorted(p.name for p in folder.glob("epoch-*")) == ["epoch-000001.npz"]
    # that run finished: the next fresh run replaces its checkpoints without being asked, saying so
    stop = _Stop()
    train(spec, epochs=2, callbacks=stop)
    assert stop.replaced_paths == [["epoch-000001.npz"]]


def test_an_unfinished_run_of_another_spec_version_offers_restart_not_resume(tmp_path):
    spec, folder = _interrupted(tmp_path)
    spec.write_text(SPEC.replace("seed: 1", "seed: 2"))
    with pytest.raises(TrainingError, match=r"epoch-000003\.npz is the newest checkpoint of a run that did not finish.*"
                                            r"cannot be resumed as it is; start over with nngraph train --restart"):
        train(spec, epochs=2)
    _, history = train(spec, epochs=2, restart=True)
    assert len(history) == 2 and sorted(p.name for p in folder.glob("epoch-*")) == ["epoch-000001.npz", "epoch-000002.npz"]


def test_a_spec_not_read_from_a_file_never_takes_a_spec_files_checkpoints(tmp_path):
    spec = tmp_path / "a.yaml"
    spec.write_text(SPEC)
    folder = tmp_path / "g.checkpoints"
    train(spec, epochs=3)
    kept = _files(folder)
    text = nngraph.load(SPEC.replace("size: 3", "size: 4"))
    text._base_dir = tmp_path  # (as a spec read from text in that folder)
    for resume in (False, True):
        with pytest.raises(TrainingError, match=r"g\.checkpoints holds checkpoints of a spec file \(epoch-000003\.npz, "
                                                r"written for \.\./a\.yaml\)"):
            train(text, epochs=2, resume=resume)
    assert _files(folder) == kept
    _, history = train(spec, epochs=5, resume=True)  # still a.yaml's run
    assert len(history) == 5
    # the other way round: a spec file meets checkpoints of a spec not read from a file
    for f in folder.iterdir():
        f.unlink()
    train(text, epochs=2)
    with pytest.raises(TrainingError, match=r"\(epoch-000002\.npz, written for a spec not read from a file\)"):
        train(spec, epochs=2)


def test_a_run_whose_validation_loss_overflowed_resumes_and_logs_valid_json(tmp_path, monkeypatch):
    rows = [[i / 10, 2 * i / 10] for i in range(30)]
    rows[2] = [1e30, 5.0]  # in the validation rows (seed 3): its squared error overflows float32
    (tmp_path / "vi.yaml").write_text(f"""nngraph: 1
name: vi
nodes: [{{name: x, role: input, size: 1}}, {{name: out, role: output, activation: linear}}]
edges: [{{from: x, to: out, init: zeros}}]
data: {{source: inline, columns: [x, y], target: y, test_split: 0, rows: {json.dumps(rows)}}}
train: {{loss: mse, epochs: 4, validation_split: 0.5, seed: 3, optimizer: {{name: sgd, learning_rate: 0.01}},
  checkpoint: {{every: 1}}}}
""")
    monkeypatch.chdir(tmp_path)

    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))

    code, _, err = cli("train", "vi.yaml", "--epochs", 3, "--log", "run.jsonl")
    assert code == 0, err
    logged = [strict(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["val_loss"] for r in logged] == [None, None, None]
    code, out, err = cli("train", "vi.yaml", "--resume", "--json", "--log", "run.jsonl")
    assert code == 0, err
    assert [r["val_loss"] for r in strict(out)["history"]] == [None] * 4
    assert len((tmp_path / "run.jsonl").read_text().splitlines()) == 4
    for history in (tmp_path / "vi.checkpoints").glob("history-*.jsonl"):  # the checkpoints' history: JSON too
        assert [strict(line)["val_loss"] for line in history.read_text().splitlines()] == ["inf"] * 4
    _, whole = train("vi.yaml", restart=True)
    _, resumed = train("vi.yaml", epochs=2), train("vi.yaml", resume=True)[1]
    assert [r["loss"] for r in resumed] == [r["loss"] for r in whole] and resumed[-1]["val_loss"] == np.inf


def test_a_file_where_the_checkpoint_folder_goes_is_refused_before_training(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("data:", "parameters: s.npz\ndata:"))
    (tmp_path / "g.checkpoints").write_text("x\n")
    code, out, err = cli("validate", spec)
    assert code != 0 and "s.yaml:12:" in out + err and "train.checkpoint: the checkpoint folder 'g.checkpoints' is " \
        "a file, not a folder" in " ".join((out + err).split()), out + err
    stop = _Stop(at=1)  # an epoch would be interrupted: none begins
    with pytest.raises(TrainingError, match=r"train\.checkpoint: the checkpoint folder 'g\.checkpoints' is a file"):
        train(spec, callbacks=stop)
    assert not (tmp_path / "s.npz").exists()


def _csv(tmp_path, seed, rows, col):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2))
    y = (x[:, 0] * x[:, col] > 0).astype(int)
    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(x, y)))


@pytest.mark.parametrize("rows", [40, 20], ids=["same-count", "other-count"])
def test_resume_refuses_data_that_changed_since_the_checkpoint(tmp_path, rows):
    spec = tmp_path / "c.yaml"
    spec.write_text(SPEC.replace("data: {source: xor}", "data: {source: csv, path: d.csv, target: y}"))
    _csv(tmp_path, 0, 40, 1)
    train(spec, epochs=3)
    _csv(tmp_path, 1, rows, 0)
    with pytest.raises(TrainingError, match=r"epoch-000003\.npz was written for other training data: the data differ"
                       r".* nngraph train --restart instead of --resume"):
        train(spec, resume=True)
    _csv(tmp_path, 0, 40, 1)  # the same data again: it resumes
    _, history = train(spec, resume=True)
    assert len(history) == 8


def _record_bytes(path):
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.getinfo("__meta__.npy").file_size


def test_a_checkpoint_costs_the_same_at_every_epoch_and_resumes_the_whole_history(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    folder = tmp_path / "g.checkpoints"
    _, whole = train(spec, epochs=120)
    sizes = {p.name: _record_bytes(p) for p in folder.glob("epoch-*.npz")}
    assert sorted(sizes) == ["epoch-000119.npz", "epoch-000120.npz"]
    train(spec, epochs=3, restart=True)
    early = _record_bytes(folder / "epoch-000003.npz")
    assert max(sizes.values()) <= early + 64  # the record holds no history: its size does not grow with the epochs
    # the history is the run's file, one row an epoch; a resumed run continues it as the uninterrupted one did
    (history,) = folder.glob("history-*.jsonl")
    assert len(history.read_text().splitlines()) == 3
    for f in folder.iterdir():
        f.unlink()
    with pytest.raises(TrainingError, match="interrupted during epoch 81"):
        train(spec, epochs=120, callbacks=_Stop(81))
    with next(folder.glob("history-*.jsonl")).open("a") as f:  # a kill between a row and its checkpoint
        f.write('{"epoch": 81, "loss": 1.0, "learning_rate": 0.1, "seconds": 0.0}\n{"epoch": 8')
    _, resumed = train(spec, epochs=120, resume=True)
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in resumed] == \
        [{k: v for k, v in r.items() if k != "seconds"} for r in whole]
    (history,) = folder.glob("history-*.jsonl")
    assert [json.loads(line)["epoch"] for line in history.read_text().splitlines()] == list(range(1, 121))


def test_a_checkpoint_whose_history_file_is_damaged_is_refused_by_name(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    folder = tmp_path / "g.checkpoints"
    with pytest.raises(TrainingError, match="interrupted"):
        train(spec, callbacks=_Stop(5))
    (history,) = folder.glob("history-*.jsonl")
    rows = history.read_text().splitlines()
    history.write_text("\n".join(rows[:2]) + "\n")
    with pytest.raises(TrainingError, match=rf"epoch-000004\.npz: not a readable checkpoint \(its history file "
                                            rf"{history.name} holds 2 of its 4 epochs' rows\); delete it"):
        train(spec, resume=True)
    history.unlink()
    with pytest.raises(TrainingError, match=rf"\(its history file {history.name} is missing\)"):
        train(spec, resume=True)
