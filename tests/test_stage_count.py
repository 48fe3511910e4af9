"""Every user-facing count of stages says the same number the same way: the stages after the
inputs (the network's depth); ``plan.stages`` holds stage 0, the inputs, besides."""
from click.testing import CliRunner

import nngraph
from nngraph.cli import main

from helpers import EX


def test_xor_stage_counts_agree_everywhere():
    path = str(EX["xor.yaml"])
    plan = nngraph.compile(nngraph.build(nngraph.load(path)))
    validate = CliRunner().invoke(main, ["validate", path])
    inspect = CliRunner().invoke(main, ["inspect", path])
    assert validate.exit_code == 0 and inspect.exit_code == 0
    said = "2 stages after the inputs"
    assert f"6 weights, {said})" in validate.output
    assert inspect.output.splitlines()[0] == f"xor: {said} (float32)"
    assert plan.summary().splitlines()[0].startswith(f"xor: {said} (float32)")
    assert repr(plan) == f"Plan('xor': {said}, 2 inputs -> 1 output, 9 parameters, float32)"
    assert len(plan.stages) == 3 and plan.stages[0].index == 0


def test_one_stage_and_one_node_are_singular(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("nngraph: 1\nname: one\nnodes:\n  - {name: x, role: input}\n"
                    "  - {name: y, role: output, bias: 0.5}\nedges:\n  - {from: x, to: y, weight: 2}\n")
    out = CliRunner().invoke(main, ["validate", str(path)]).output
    assert "ok (2 nodes, 2 neurons, 1 weight, 1 stage after the inputs)" in out
    plan = nngraph.compile(nngraph.build(nngraph.load(str(path))))
    assert repr(plan) == "Plan('one': 1 stage after the inputs, 1 input -> 1 output, 2 parameters, float32)"
