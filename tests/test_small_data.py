"""Data too small for its split: said once, before training, with what to do; counts of one are singular."""
from click.testing import CliRunner

from nngraph.cli import main

from helpers import XOR_CSV as XOR


def _train(tmp_path, spec, rows):
    (tmp_path / "d.csv").write_text("x1,x2,label\n" + "".join(f"{a},{b},{a ^ b}\n" for a, b in rows))
    (tmp_path / "s.yaml").write_text(spec)
    result = CliRunner().invoke(main, ["train", str(tmp_path / "s.yaml"), "--no-save"])
    assert result.exit_code == 0, result.output
    return result


def test_four_rows_split_warns_once_and_says_one_sample(tmp_path):
    result = _train(tmp_path, XOR, [(0, 0), (0, 1), (1, 0), (1, 1)])
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warned == ["warning: data.test_split: 0.2 of 4 rows holds out 1 for testing (each one 100% of the test "
                      "score) and trains on the other 3; for data this small set data.test_split: 0 to train "
                      "on every row (there are then no test figures)"]
    assert "(1 sample)" in result.stdout and "(1 samples)" not in result.stdout


def test_the_remedy_trains_on_every_row_without_a_warning(tmp_path):
    spec = XOR.replace("target: label}", "target: label, test_split: 0}")
    result = _train(tmp_path, spec, [(0, 0), (0, 1), (1, 0), (1, 1)])
    assert "warning:" not in result.stderr and "test: no test samples to evaluate" in result.stdout


def test_enough_rows_give_no_warning(tmp_path):
    result = _train(tmp_path, XOR, [(i % 2, (i // 2) % 2) for i in range(50)])
    assert "warning:" not in result.stderr and "(10 samples)" in result.stdout
