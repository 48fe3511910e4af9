"""A misspelt command names the closest one; a count of one value is singular."""
import pytest

from helpers import EX, cli


def test_misspelt_command_suggests_the_closest():
    code, out, err = cli("trian", "x.yaml")
    assert code == 2 and "No such command 'trian' (did you mean 'train'?)" in err
    code, out, err = cli("valdiate")
    assert code == 2 and "(did you mean 'validate'?)" in err
    code, out, err = cli("zzzzzz")
    assert code == 2 and "No such command 'zzzzzz'." in err and "did you mean" not in err


def test_one_value_for_a_node_of_two():
    code, out, err = cli("run", EX["xor.yaml"], "--input", "x=1")
    assert code == 2 and "--input x: 1 value for a node of 2 neurons" in err


def test_misspelt_choice_lists_the_choices_and_the_closest():
    code, out, err = cli("draw", EX["xor.yaml"], "--view", "neurons")
    assert code == 2
    assert "'neurons' is not one of 'auto', 'neuron', 'layer', 'stage' (did you mean 'neuron'?)" in err
    code, out, err = cli("data", "download", "mnsit")
    assert code == 2 and "(did you mean 'mnist'?)" in err


@pytest.mark.parametrize("command", [["run"], ["run", "--trace"], ["draw", "-o", "OUT"]])
@pytest.mark.parametrize("pair, message", [("y=1", "--input y: not an input; inputs: x, a, b"),
                                           ("x=1,abc", "--input x=1,abc: '1,abc' is not a number")])
def test_a_bad_input_option_is_a_usage_error_like_the_others(tmp_path, command, pair, message):
    args = [a.replace("OUT", str(tmp_path / "d.svg")) for a in command]
    code, out, err = cli(args[0], EX["xor.yaml"], *args[1:], "--input", pair)
    assert code == 2 and f"Error: {message}" in err and out == ""
    assert cli("draw", EX["xor.yaml"], "--view", "neurons")[0] == 2  # as an option's bad choice is
