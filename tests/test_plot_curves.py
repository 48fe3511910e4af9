"""Training curves: a marker per epoch only while they stay apart (300 marked epochs were a blob);
the overfitting example's comment gives the tutorial's dropout."""
import re

import pytest

from helpers import EX, ROOT


def _history(n, acc=True):
    return [{"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, **({"val_accuracy": 0.5} if acc else {}),
             "learning_rate": 0.1} for e in range(1, n + 1)]


@pytest.mark.parametrize("epochs, marker", [(40, "o"), (41, "None"), (300, "None")])
def test_markers_only_for_few_epochs(epochs, marker):
    from nngraph.plot import history_figure

    fig = history_figure(_history(epochs), "t")
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert len(lines) == 3 and {line.get_marker() for line in lines} == {marker}


def test_plot_option_writes_the_curves(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    out = tmp_path / "c.png"
    result = CliRunner().invoke(main, ["train", str(EX["xor_train.yaml"]), "--no-save", "--epochs", "50",
                                       "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overfit_comment_gives_the_tutorials_dropout():
    comment = (ROOT / "examples" / "overfit.yaml").read_text()
    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    said = re.findall(r"--set nodes\.\d\.dropout=[0-9.]+", comment)
    assert said and " ".join(said) in tutorial
