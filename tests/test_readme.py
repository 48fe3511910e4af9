"""The README's code is run as written: Python blocks, and every `nngraph` command it shows,
in a scratch copy of the repository (whose outputs, where shown, must match)."""
import glob
import re
import shlex
import shutil

import pytest
from click.testing import CliRunner

from nngraph.cli import main

from helpers import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)
# the spec whose errors the README shows, so the shown lines can be checked
BROKEN = """\
nngraph: 1
name: broken
nodes:
  - {name: x, role: input, size: 2, sise: 3}
  - {name: hidden, size: 4, activation: relu}
  - {name: y, role: output}
edges:
  - {from: x, to: hidden}
  - {from: hiden, to: y}
"""


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    for folder in ("examples", "specs", "docs"):
        # as in a fresh clone: whatever training wrote beside the specs stays out
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.params.npz"))
    (tmp_path / "broken.yaml").write_text(BROKEN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("code", [c for lang, c in BLOCKS if lang == "python"])
def test_python_blocks_run(code, scratch):
    exec(compile(code, "README.md", "exec"), {})


def _commands():
    found = []
    for lang, block in BLOCKS:
        if lang != "console":
            continue
        lines = block.splitlines()
        for i, line in enumerate(lines):
            text = line[2:] if line.startswith("$ ") else line
            if not text.startswith("nngraph "):
                continue
            shown = []
            if line.startswith("$ "):
                for nxt in lines[i + 1:]:
                    if nxt.startswith("$ "):
                        break
                    shown.append(nxt)
            found.append((text.split("#")[0].strip(), shown))
    return found


@pytest.mark.parametrize("command, shown", _commands(), ids=[c for c, _ in _commands()])
def test_console_commands_run(command, shown, scratch):
    if "data download" in command:
        pytest.skip("uses the network (tested against a local server in test_data.py)")
    args = []
    for word in shlex.split(command)[1:]:
        args += sorted(glob.glob(word)) if "*" in word else [word]
    result = CliRunner().invoke(main, args)
    expected_code = 1 if "broken.yaml" in command else 0
    assert result.exit_code == expected_code, result.output
    output = result.stdout + result.stderr
    for line in shown:
        assert line.strip() in output, f"README shows {line!r}; got:\n{output}"
