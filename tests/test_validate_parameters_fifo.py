"""validate says what run would refuse about the parameters file: a FIFO (or any file that is not
a regular one) is not read (it would block), and is reported at the spec's `parameters` line."""
import os
import sys

import pytest
from click.testing import CliRunner

from nngraph.cli import main

SPEC = """\
nngraph: 1
name: f
nodes:
  - {name: x, role: input, size: 2}
  - {name: out, role: output, activation: sigmoid}
edges:
  - {from: x, to: out, weights: [[1], [1]]}
parameters: f.params.npz
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX FIFOs")
@pytest.mark.parametrize("train, severity, code", [("", "", 1), ("data: {source: xor}\ntrain: {loss: mse, epochs: 1}\n",
                                                                 "warning: ", 0)])
def test_a_fifo_parameters_file_is_reported_as_run_refuses_it(tmp_path, monkeypatch, train, severity, code):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.yaml").write_text(SPEC + train)
    os.mkfifo(tmp_path / "f.params.npz")
    result = CliRunner().invoke(main, ["validate", "f.yaml"])
    assert result.exit_code == code, result.output
    assert f"f.yaml:8:13: {severity}parameters: 'f.params.npz' is not a regular file" in result.stderr
    run = CliRunner().invoke(main, ["run", "f.yaml", "--input", "x=1,0"])
    assert run.exit_code == 1 and "'f.params.npz' is not a regular file" in run.stderr
