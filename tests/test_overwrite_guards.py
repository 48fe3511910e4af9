"""Nothing nngraph writes may replace a file the user keeps: the spec, its data, another output,
an input, a folder that is not an output of ours. Each is refused, located, before any work."""
import os

import numpy as np
import pytest
from click.testing import CliRunner

from nngraph.cli import main

CSV_SPEC = """\
nngraph: 1
name: c
parameters: {params}
nodes:
  - {{name: x, role: input, size: 2}}
  - {{name: out, role: output, activation: sigmoid}}
edges:
  - {{from: x, to: out, init: xavier_uniform}}
data: {{source: csv, path: d.csv, target: y}}
train: {{loss: binary_cross_entropy, epochs: 1{extra}}}
"""


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    text = result.stdout + result.stderr
    assert "internal error" not in text and "Traceback" not in text, text
    return result.exit_code, text


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    return tmp_path


def write(folder, params="p.npz", extra=""):
    (folder / "s.yaml").write_text(CSV_SPEC.format(params=params, extra=extra))
    return folder / "s.yaml"


def unchanged(folder, *names):
    return {n: (folder / n).read_bytes() for n in names}


@pytest.mark.parametrize("params, where", [("d.csv", "s.yaml:3:13: parameters:"), ("s.yaml", "s.yaml:3:13: parameters:")])
def test_parameters_naming_the_data_or_the_spec_is_refused_by_validate_and_train(folder, params, where):
    s = write(folder, params)
    before = unchanged(folder, "s.yaml", "d.csv")
    code, text = run("validate", s)
    assert code == 1 and where in text and "is an .npz" in text, text
    code, text = run("train", s)
    assert code == 1 and where in text, text
    assert unchanged(folder, "s.yaml", "d.csv") == before


@pytest.mark.parametrize("value", ["s.yaml", "d.csv", "p.csv"])
def test_parameters_set_on_the_command_line_is_refused_at_the_option(folder, value):
    s = write(folder)
    before = unchanged(folder, "s.yaml", "d.csv")
    code, text = run("train", s, "--set", f"parameters={value}")
    assert code == 1 and f"--set parameters={value}: parameters:" in text and "is an .npz" in text, text
    code, text = run("train", s, "--set", f"parameters={value}", "--log", "p.csv")
    assert code != 0 and ("is an .npz" in text or "--log p.csv is the parameters file" in text), text
    assert unchanged(folder, "s.yaml", "d.csv") == before and not (folder / "p.csv").exists()


def test_parameters_in_the_checkpoint_folder_or_an_npz_data_file_is_refused(folder):
    np.savez(folder / "d.npz", x=np.zeros((4, 2)), y=np.zeros(4))
    s = write(folder, extra=", checkpoint: {directory: ck}")
    (folder / "ck").mkdir()
    code, text = run("train", s, "--set", "parameters=ck/p.npz")
    assert code == 1 and "--set parameters=ck/p.npz" in text and "a file in the checkpoint folder" in text, text
    text_spec = (folder / "s.yaml").read_text().replace("source: csv, path: d.csv, target: y", "source: npz, path: d.npz")
    (folder / "s.yaml").write_text(text_spec.replace("parameters: p.npz", "parameters: d.npz"))
    before = unchanged(folder, "d.npz")
    code, text = run("validate", s)
    assert code == 1 and "s.yaml:3:13: parameters: 'd.npz' is the data file (npz d.npz)" in text, text
    assert unchanged(folder, "d.npz") == before


def test_log_or_plot_naming_the_data_is_refused_before_training(folder):
    s = write(folder)
    before = unchanged(folder, "d.csv")
    code, text = run("train", s, "--log", "d.csv")
    assert code == 2 and "--log d.csv is the data file (csv d.csv)" in text, text
    assert unchanged(folder, "d.csv") == before and not (folder / "p.npz").exists()


def test_bad_plot_suffix_is_refused_before_training(folder):
    s = write(folder)
    code, text = run("train", s, "--plot", "out.txt")
    assert code == 1 and "--plot out.txt: matplotlib cannot write .txt" in text, text
    assert "data:" not in text and not (folder / "p.npz").exists()  # refused before the data is read


@pytest.mark.parametrize("directory, why", [("/tmp", "is an absolute path"), ("../ck", "leaves the spec's folder")])
def test_unsafe_checkpoint_folder_is_located_by_validate_and_train(folder, directory, why):
    s = write(folder, extra=f", checkpoint: {{directory: {directory}}}")
    code, text = run("validate", s)
    assert code == 1 and "s.yaml:10:" in text and f"train.checkpoint.directory: '{directory}' {why}" in text, text
    code, text = run("train", write(folder), "--set", f"train.checkpoint.directory={directory}")
    assert code == 1 and f"--set train.checkpoint.directory={directory}: " in text and why in text, text
    assert not (folder / "p.npz").exists()


def test_checkpoint_folder_through_a_link_out_is_refused(folder, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, folder / "ck")
    code, text = run("validate", write(folder, extra=", checkpoint: {directory: ck}"))
    assert code == 1 and "train.checkpoint.directory: 'ck' resolves to a file outside" in text, text
