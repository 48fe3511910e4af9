"""nngraph inspect in 80 columns keeps every node name whole (folded, never cut at its end), and
says in words what a stage holding some of a node's neurons holds."""
from click.testing import CliRunner

from nngraph.cli import main
from nngraph.compile import compile
from nngraph.summary import stage_contents

SPEC = """\
nngraph: 1
name: scattered
nodes:
  - {name: x, role: input, size: 2}
  - {name: hidden_neat_sigmoid_layer_one, size: 3, activation: tanh}
  - {name: hidden_neat_sigmoid_layer_two, size: 1, activation: relu}
  - {name: y, role: output, activation: sigmoid}
edges:
  - {from: "x[0]", to: "hidden_neat_sigmoid_layer_one[0]", weight: 1.0}
  - {from: "x[1]", to: "hidden_neat_sigmoid_layer_one[2]", weight: 1.0}
  - {from: "hidden_neat_sigmoid_layer_one[0]", to: hidden_neat_sigmoid_layer_two, weight: 1.0}
  - {from: hidden_neat_sigmoid_layer_two, to: "hidden_neat_sigmoid_layer_one[1]", weight: 1.0}
  - {from: hidden_neat_sigmoid_layer_one, to: y, weights: [[1.0], [1.0], [1.0]]}
"""


def test_names_are_whole_in_80_columns(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(main, ["inspect", str(spec)], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    cells = "".join(line.split("│")[3].strip() for line in result.output.splitlines() if line.count("│") > 3)
    assert "…" not in result.output
    assert "hidden_neat_sigmoid_layer_two" in cells and "hidden_neat_sigmoid_layer_one" in cells


def test_scattered_neurons_are_said_in_words(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    plan = compile(spec)
    parts = [p for st in plan.stages for p in stage_contents(plan, st)]
    assert "hidden_neat_sigmoid_layer_one (2 of its 3 neurons, tanh)" in parts, parts
