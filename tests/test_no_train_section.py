"""A spec with data but no train section: train, run --retrain, the Python API and fit all say
where the section goes and which loss fits the outputs, instead of failing inside."""
import numpy as np
import pytest

import nngraph
from nngraph import TrainingError, compile, load
from nngraph.graph import build
from nngraph.trainchecks import suggested_loss

from helpers import XOR_TRAIN, cli

PERC = """\
nngraph: 1
name: perc2
parameters: perc2.params.npz
data: {source: and}
nodes:
  - {name: a, role: input}
  - {name: b, role: input}
  - {name: y, role: output, activation: sigmoid}
edges:
  - {from: a, to: y}
  - {from: b, to: y}
"""


@pytest.mark.parametrize("extra", [[], ["--epochs", "5"]])
def test_train_without_train_section_is_one_located_error(tmp_path, extra):
    path = tmp_path / "perc2.yaml"
    path.write_text(PERC)
    code, out, err = cli("train", path, "--no-save", *extra)
    assert code == 1 and "internal error" not in err
    assert err.strip().splitlines()[-1] == (
        f"{path}:4:1: train: the spec has no train section, so there is nothing to train with: add one, e.g. "
        "train: {loss: binary_cross_entropy, epochs: 100} (loss binary_cross_entropy fits its outputs)")


def test_python_train_gives_the_same_loss_hint(tmp_path):
    path = tmp_path / "perc2.yaml"
    path.write_text(PERC)
    with pytest.raises(TrainingError, match=r"perc2.yaml:4:1: train: .*loss: binary_cross_entropy, epochs"):
        nngraph.train(str(path))


@pytest.mark.parametrize("act,size,loss", [("sigmoid", 1, "binary_cross_entropy"), ("softmax", 3, "cross_entropy"),
                                           ("linear", 1, "mse"), ("tanh", 2, "mse")])
def test_suggested_loss_follows_the_outputs(tmp_path, act, size, loss):
    path = tmp_path / "n.yaml"
    path.write_text(PERC.replace("activation: sigmoid}", f"activation: {act}, size: {size}}}"))
    graph = build(load(path))
    assert suggested_loss(graph) == loss
    with pytest.raises(TrainingError, match=f"loss='{loss}'"):
        compile(graph, use_file=False, dtype="float64").fit(np.zeros((2, 2)), np.zeros((2, size)))


def test_run_retrain_without_train_section_refuses_instead_of_ignoring_it(tmp_path):
    trained = tmp_path / "xor.yaml"
    trained.write_text(XOR_TRAIN)
    assert cli("train", trained)[0] == 0  # writes p.npz
    bare = tmp_path / "bare.yaml"
    bare.write_text(XOR_TRAIN.replace(XOR_TRAIN.splitlines()[-1], ""))
    code, out, err = cli("run", bare)  # evaluating still works, without advice to retrain
    assert code == 0 and "--retrain" not in err
    code, out, err = cli("run", bare, "--retrain")
    assert code == 1 and f"{bare}:11:1: train: the spec has no train section" in err
    assert "loss: binary_cross_entropy" in err
