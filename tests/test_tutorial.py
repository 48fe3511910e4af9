"""docs/tutorial.md is run as written: every command and program, each held to the figure the
tutorial states (a floor; every example is seeded)."""
import json
import re
import shlex
import shutil

import pytest
from click.testing import CliRunner

from nngraph.cli import main

from helpers import ROOT

TEXT = (ROOT / "docs" / "tutorial.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, re.S)
COMMANDS = [line[2:] for lang, block in BLOCKS if lang == "console" for line in block.splitlines()
            if line.startswith("$ nngraph ")]


def _floor(command, result):
    """What the tutorial states for each command, as a check of its --json result."""
    test, last = result["test"], result["history"][-1]
    if "sigmoid_neuron" in command:
        return test["accuracy"] == 1.0
    if "fast_food_learn" in command:
        return test["r2"] >= 0.99
    if "mnist_logistic" in command:
        return test["accuracy"] >= 0.85
    if "overfit" in command:
        if "--set" not in command:
            return test["loss"] > 1.0
        return test["loss"] < (0.9 if "l1" in command else 0.5)
    if "moons_mlp" in command:
        if "schedule" in command:
            return last["learning_rate"] < 0.5 and last["loss"] < 0.12
        rate = float(command.rsplit("=", 1)[1])
        return {0.001: last["loss"] > 0.35, 0.5: last["loss"] < 0.12 and test["accuracy"] >= 0.95,
                50.0: last["loss"] > 1.0}[rate]
    raise AssertionError(f"the test states no figure for: {command}")


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_command_is_checked():
    assert len(COMMANDS) == 12  # a command added to the tutorial needs its figure in _floor


@pytest.mark.parametrize("command", COMMANDS)
def test_tutorial_command_reaches_its_figure(command, scratch):
    args = shlex.split(command)[1:] + ["--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert _floor(command, data), (command, data["test"], data["history"][-1])
    if "--log" in command:
        assert len((scratch / "mnist.csv").read_text().splitlines()) == 1 + len(data["history"])


@pytest.mark.parametrize("code", [c for lang, c in BLOCKS if lang == "python"])
def test_tutorial_program_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, "tutorial.md", "exec"), scope)
    if "prices" in scope:  # the delta rule learns the menu's prices
        assert abs(scope["prices"] - [3.5, 1.75, 1.25]).max() < 0.01, scope["prices"]
        return
    final = scope["final"]
    assert final["momentum"] < final["sgd"] * 2 / 3 and final["adam"] < final["sgd"] * 0.9, final
    assert (tmp_path / "optimizers.png").stat().st_size > 10_000
