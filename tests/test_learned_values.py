"""After training, a small network's learned weights and biases are printed by the neurons they
join: the fast-food example's three weights are the prices the tutorial says it learns."""
from click.testing import CliRunner

from nngraph.cli import main

from helpers import EX, ROOT


def _train(name, *extra):
    result = CliRunner().invoke(main, ["train", str(EX[name]), "--no-save", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_fast_food_prints_the_prices_it_learned():
    out = _train("fast_food_learn.yaml")
    block = out[out.index("learned weights and biases:"):].splitlines()[:5]
    assert block == ["learned weights and biases:", "  burgers -> cost  3.5", "  fries -> cost    1.75",
                     "  sodas -> cost    1.25", "  bias of cost     0  (not trained)"]
    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    assert "\n".join(block) in tutorial  # the tutorial shows what the command prints


def test_xor_prints_every_weight_and_bias_by_neuron():
    out = _train("xor_train.yaml", "--epochs", "2")
    lines = out[out.index("learned weights and biases:"):].splitlines()[1:]
    shown = [line.split()[:3] for line in lines if line.startswith("  ")]
    assert len(shown) == 17  # 2x4 weights + 4x1 + 4 + 1 biases
    assert ["a", "->", "hidden[0]"] in shown and ["bias", "of", "out"] in shown


def test_a_larger_network_prints_no_values():
    out = _train("moons_mlp.yaml", "--epochs", "1")
    assert "learned weights and biases" not in out
