"""A Ctrl-C during a sweep stops it at once: no next trial, no best parameters, no CSV, status 130.
(Training turns the Ctrl-C into "interrupted during epoch N", an NNGraphError; a trial must not take
it for a failed trial.)"""
import pytest
from click.testing import CliRunner

from nngraph.cli import main
from nngraph.distributed import sweep
from nngraph.errors import NNGraphError

SPEC = """\
nngraph: 1
name: s
nodes:
  - {name: x, role: input, size: 2}
  - {name: out, role: output, activation: sigmoid}
edges:
  - {from: x, to: out, init: xavier_uniform}
data: {source: xor}
train: {loss: binary_cross_entropy, epochs: 3, seed: 1}
"""


@pytest.fixture
def ctrl_c(monkeypatch):
    """The first epoch of every training run receives a Ctrl-C; counts the runs started."""
    from nngraph import training

    started = []

    def loop(self):
        started.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(training._Run, "loop", loop)
    return started


def test_an_interrupted_trial_stops_the_sweep(tmp_path, ctrl_c):
    (tmp_path / "s.yaml").write_text(SPEC)
    with pytest.raises(NNGraphError, match="sweep interrupted during the trial train.epochs=3") as info:
        sweep(tmp_path / "s.yaml", {"train.epochs": [3, 4]})
    assert info.value.exit_code == 130
    assert len(ctrl_c) == 1  # the second trial never started


def test_the_command_exits_130_and_writes_nothing(tmp_path, ctrl_c, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(SPEC)
    result = CliRunner().invoke(main, ["sweep", "s.yaml", "--grid", "train.epochs=3,4", "--csv", "t.csv"])
    assert result.exit_code == 130, result.output
    assert "sweep interrupted during the trial train.epochs=3; nothing was written" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
    assert len(ctrl_c) == 1


def test_the_interruption_travels_from_a_worker_as_itself():
    import pickle

    from nngraph.distributed import _interruption, _stopped

    error = pickle.loads(pickle.dumps(_interruption({"train.epochs": 3})))  # as a worker's error reaches the client
    assert error.exit_code == 130 and _stopped(error)
