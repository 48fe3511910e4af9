"""Keys users bring from Keras and PyTorch are refused, located, with the spec's own name suggested."""
import pytest
from click.testing import CliRunner

import nngraph
from nngraph import SpecError
from nngraph.cli import main

from helpers import EX

SPEC = """\
nngraph: 1
name: t
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 3, activation: relu, NODE}
  - {name: y, role: output}
edges:
  - {from: x, to: h, init: normal}
  - {from: h, to: y, init: normal}
data: {source: xor}
train: {loss: mse, TRAIN, optimizer: {name: momentum, OPT}}
"""


@pytest.mark.parametrize("where, key, meant", [
    ("OPT", "lr", "learning_rate"), ("OPT", "mu", "momentum"), ("OPT", "eps", "epsilon"),
    ("OPT", "beta_1", "beta1"), ("TRAIN", "weight_decay", "l2"), ("TRAIN", "batch", "batch_size"),
    ("TRAIN", "num_epochs", "epochs"), ("TRAIN", "clipnorm", "clip_norm"), ("TRAIN", "random_state", "seed"),
    ("NODE", "dropout_rate", "dropout"), ("NODE", "units", "size"),
])
def test_alias_is_refused_with_the_specs_name(where, key, meant):
    text = SPEC.replace(f"{where}", f"{key}: 1").replace(", NODE", "").replace(", TRAIN", "").replace(", OPT", "")
    with pytest.raises(SpecError) as info:
        nngraph.load(text)
    d = info.value.diagnostics[0]
    assert d.code == "unknown_key" and d.path.endswith(f".{key}")
    assert d.message.startswith(f"unknown key '{key}' (did you mean '{meant}'?); valid keys: ")


def test_lr_on_the_command_line_is_refused_at_the_option():
    result = CliRunner().invoke(main, ["train", str(EX["xor_train.yaml"]), "--no-save", "--set",
                                       "train.optimizer.lr=0.1"])
    assert result.exit_code != 0
    assert "--set train.optimizer.lr=0.1: train.optimizer.lr: unknown key 'lr' (did you mean 'learning_rate'?)" \
        in result.stderr


def test_an_alias_is_not_suggested_where_its_counterpart_is_not_valid():
    text = SPEC.replace("NODE", "lr: 1").replace(", TRAIN", "").replace(", OPT", "")
    with pytest.raises(SpecError) as info:
        nngraph.load(text)
    assert "did you mean 'learning_rate'" not in info.value.diagnostics[0].message
