"""A misspelt command names the closest one; a count of one value is singular."""
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
    assert code == 1 and "--input x: 1 value for a node of 2 neurons" in err
