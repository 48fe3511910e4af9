"""Every --help reads in an 80-column terminal: no line over 80 characters, every command listed
with its whole first sentence (click's listing cut them with '...'), every option explained, the
training options of run and train in their natural order, examples that run as written, and no
line broken at a hyphen (click wraps with textwrap, which split `neat-` from `json`)."""
import re
import shlex
import shutil

import click
import pytest
from click.testing import CliRunner

from nngraph import cli
from nngraph.cli import main

from helpers import ROOT

PATHS = [[], ["data", "download"], ["plot", "regions"]] + [[name] for name in sorted(cli.COMMANDS)]


def help_text(path):
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "nngraph")
def test_help_fits_80_columns_and_lists_commands_whole(path):
    text = help_text(path)
    assert max(len(line) for line in text.splitlines()) <= 80, text
    if "Commands:\n" in text:
        listing = text.split("Commands:\n", 1)[1]
        assert "..." not in listing, listing
        group = main
        for name in path:
            group = group.get_command(None, name)
        for name in group.list_commands(None):
            first = group.get_command(None, name).get_short_help_str(limit=10_000)
            assert first.endswith(".") and first in " ".join(listing.split()), (name, listing)


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "nngraph")
def test_help_lines_never_break_at_a_hyphen(path, width):
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=width)
    lines = result.output.splitlines()
    split = [(line, after) for line, after in zip(lines, lines[1:])
             if re.search(r"\w-$", line) and re.match(r"\s*\w", after)]
    assert not split, split  # were: 'neat-' / 'json', '(two-' / 'input networks)', 'pre-' / 'activation'
    assert "\u2011" not in result.output  # the stand-in used while wrapping is never shown


def _commands(group, path=()):
    for name in group.list_commands(None):
        cmd = group.get_command(None, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


def test_every_option_says_what_it_does():
    missing = [(" ".join(path), p.opts[0]) for path, cmd in _commands(main) for p in cmd.params
               if isinstance(p, click.Option) and not p.help]
    assert not missing, missing  # were: dump --format, draw --view, draw --dpi


@pytest.mark.parametrize("command", ["run", "train"])
def test_training_options_are_listed_in_their_order(command):
    text = help_text([command])
    where = [text.index(f"  {opt} ") for opt in ("--epochs", "--set", "--plot", "--regions", "--regions-every",
                                                   "--json", "--no-save", "--log")]
    assert where == sorted(where), text  # were listed backwards: --log first, --epochs last


def test_the_examples_in_the_help_run(tmp_path, monkeypatch):
    (tmp_path / "examples").mkdir()
    for name in ("xor.yaml", "xor_train.yaml", "xor_inputs.csv"):
        shutil.copy(ROOT / "examples" / name, tmp_path / "examples" / name)
    monkeypatch.chdir(tmp_path)
    ran = []
    for command in ("run", "train", "sweep"):
        text = help_text([command])
        assert "Examples:\n" in text, text
        for line in text.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines():
            words = shlex.split(line)
            if "net.yaml" in words:  # a spec of the reader's own
                continue
            assert words[:2] == ["nngraph", command], line
            result = CliRunner().invoke(main, words[1:])
            assert result.exit_code == 0, (line, result.output)
            ran.append(command)
    assert sorted(set(ran)) == ["run", "sweep", "train"] and len(ran) >= 6, ran
