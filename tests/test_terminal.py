"""User strings reach the terminal as text: control characters, bidi overrides and rich markup in
labels, descriptions, unknown keys, column and file names are shown escaped by every command."""
import json

import pytest
from click.testing import CliRunner

from nngraph.cli import main
from nngraph.text import rich_text, terminal

# clear screen, set the window title (OSC ... BEL), 8-bit CSI, rich markup that crashes or
# restyles a table, a right-to-left override, a carriage return that overwrites the line
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x9b31m[/][bold]\u202eevil\r\x00\u2066"
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\r", "\x00", "\u2066"]


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout + result.stderr


def _harmless(text):
    assert "internal error" not in text and "Traceback" not in text, text
    found = [c for c in RAW if c in text]
    assert not found, (found, text)


def test_terminal_escapes_every_control_and_bidi_character():
    assert terminal(HOSTILE) == ("\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m[/][bold]\\u202eevil\\x0d\\x00\\u2066")
    assert terminal("a\nb\tc") == "a\\x0ab\\x09c"
    assert terminal("a\nb\tc", lines=True) == "a\nb\tc"
    assert terminal("naïve 名前 ✓") == "naïve 名前 ✓"
    assert terminal("\ud800") == "\\ud800"  # a lone surrogate cannot even be encoded


def test_rich_text_is_literal_in_a_table():
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200, record=True, color_system=None)
    table = Table(title=rich_text("[/]" + HOSTILE))
    table.add_column(rich_text("[bold]x[/bold] \\"))
    table.add_row(rich_text("[/]"))
    console.print(table)  # unescaped "[/]" raises MarkupError
    out = console.export_text()
    assert "[bold]x[/bold] \\" in out and "[/]" in out
    _harmless(out)


@pytest.fixture
def hostile_spec(tmp_path):
    spec = {"nngraph": 1, "name": "n", "description": "d" + HOSTILE,
            "nodes": [{"name": "x", "role": "input", "size": 2, "labels": ["a" + HOSTILE, "b"]},
                      {"name": "out", "role": "output", "activation": "sigmoid", "labels": ["o" + HOSTILE]}],
            "edges": [{"from": "x", "to": "out", "weights": [[1], [1]]}],
            "train": {"loss": "mse", "epochs": 2},
            "data": {"source": "inline", "columns": ["a" + HOSTILE, "b", "t" + HOSTILE], "target": "t" + HOSTILE,
                     "rows": [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]}}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize("args", [
    ["validate"], ["inspect"], ["dump"], ["dump", "--format", "json"], ["run", "--input", "x=1,2"],
    ["run", "--input", "x=1,2", "--trace"], ["run", "--no-save"], ["train", "--no-save"],
    ["run", "--input", "a" + HOSTILE + "=1"], ["run", "--input", "x" + HOSTILE],
    ["run", "--input", "x=1," + HOSTILE],
])
def test_every_command_shows_hostile_labels_as_text(hostile_spec, args):
    code, text = _run(args[0], hostile_spec, *args[1:])
    assert code in (0, 1, 2), text  # 2: a bad --input is a usage error
    _harmless(text)


def test_unknown_keys_and_file_names_are_escaped(tmp_path):
    name = tmp_path / ("s" + HOSTILE.replace("/", "_").replace("\x00", "") + ".yaml")
    name.write_text("nngraph: 1\nname: n\nnodes:\n  - {name: x, role: input, \"k\\e[2J\\u202e[/]\": 1}\n"
                    "  - {name: y, role: output}\nedges: [{from: x, to: y}]\n")
    code, text = _run("validate", name, tmp_path / ("missing" + "\x1b[2J.yaml"))
    assert code == 1 and "unknown key 'k\\x1b[2J\\u202e[/]'" in text
    _harmless(text)
    for cmd in (["inspect"], ["run", "--input", "x=1"], ["dump"], ["train"], ["draw"]):
        code, text = _run(cmd[0], name, *cmd[1:])
        assert code == 1 and "\\x1b[2J" in text
        _harmless(text)


def test_inputs_and_output_names_are_escaped(hostile_spec, tmp_path):
    bad = tmp_path / ("in\x1b]0;t\x07.csv")
    bad.write_text("q\x1b[2J\u202e[/],b\n1,2\n")
    code, text = _run("run", hostile_spec, "--inputs", bad)
    assert code == 1 and "no column 'a\\x1b[2J" in text
    _harmless(text)
    code, text = _run("run", hostile_spec, "--input", "x=1,2", "--output", tmp_path / "o\x1b[2J.csv")
    assert code == 0 and "o\\x1b[2J.csv" in text
    _harmless(text)
