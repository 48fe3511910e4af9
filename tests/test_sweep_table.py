"""The sweep table reads in an 80-column terminal: short headers (explained in the caption) that are
never broken, each failed trial's error in full under the table, and one line per trial, wrapped
between its values, when the columns cannot fit."""
import io
import re

from rich.console import Console

from nngraph.cli.distributed_cmds import _TrialTable

ERROR = "TrainingError: the loss is not finite at epoch 3; lower train.optimizer.learning_rate (it was 10)"


def render(keys, width=80):
    console = Console(width=width, file=io.StringIO(), soft_wrap=True, highlight=False)  # as the CLI's
    table = _TrialTable(keys, quiet=False, console=console)
    with table:
        for i in range(11):
            table.add({"trial": i, "overrides": {k: f"{10.0 ** -i:g}" for k in keys}, "loss": 0.123456,
                       "val_loss": 1.2345e-5, "val_accuracy": 0.95, "test_accuracy": 1.0, "seconds": 1234.56})
        table.add({"trial": 11, "overrides": {k: "10" for k in keys}, "error": ERROR, "seconds": 0.5})
    lines = console.file.getvalue().splitlines()
    assert lines and max(len(line) for line in lines) <= width, lines
    return lines


def words(lines):
    return " ".join(lines).split()


def test_nine_columns_fit_80_with_whole_headers():
    lines = render(["train.optimizer.learning_rate", "train.epochs"])
    header = next(line for line in lines if line.lstrip().startswith("#"))
    assert header.split() == ["#", "learning_rate", "epochs", "loss", "val_loss", "val_acc", "test_acc", "secs"]
    assert any(line.split() == ["0", "1", "1", "0.1235", "1.234e-05", "95.00%", "100.00%", "1234.6"] for line in lines), lines
    assert any(line.split() == ["11", "10", "10", "failed", "0.5"] for line in lines), lines
    text = " ".join(words(lines))
    assert "learning_rate = train.optimizer.learning_rate; epochs = train.epochs; val_acc = val_accuracy; " \
           "test_acc = test_accuracy; secs = seconds" in text
    assert f"trial 11 failed: {ERROR}" in text  # whole: wrapped only between words


def test_more_keys_than_columns_fit_give_a_line_per_trial():
    keys = ["train.optimizer.learning_rate", "train.epochs", "train.batch_size", "nodes.1.activation"]
    lines = render(keys)
    tokens = words(lines)
    for value in ("learning_rate=0.01", "epochs=0.01", "batch_size=0.01", "activation=0.01", "loss=0.1235",
                  "val_loss=1.234e-05", "val_acc=95.00%", "test_acc=100.00%", "secs=1234.6"):
        assert value in tokens, (value, lines)  # never broken inside a value
    assert f"trial 11 failed: {ERROR}" in " ".join(tokens)
    assert not any(re.match(r"\s*#\s", line) for line in lines)  # no table header squeezed in


def test_caption_is_left_aligned_and_breaks_only_between_entries():
    # this grid's caption was centred and broke inside "learning_rate = / train.optimizer.learning_rate"
    lines = render(["train.optimizer.name", "train.optimizer.learning_rate"])
    start = lines.index("name = train.optimizer.name; learning_rate = train.optimizer.learning_rate;")
    assert lines[start + 1] == "val_acc = val_accuracy; test_acc = test_accuracy; secs = seconds"
