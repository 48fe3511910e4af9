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
    assert code == 1 and "train.checkpoint.directory: 'ck' resolves to a folder outside" in text, text


def _trained(folder):
    """s.yaml with trained parameters p.npz beside it, and inputs in.csv."""
    s = write(folder)
    code, text = run("train", s)
    assert code == 0, text
    (folder / "in.csv").write_text("a,b\n0,1\n1,0\n")
    return s


@pytest.mark.parametrize("args, output, what", [
    (["export", "s.yaml", "--format", "onnx"], "s.yaml", "the spec itself"),
    (["export", "s.yaml", "--format", "onnx"], "p.npz", "the parameters file"),
    (["export", "s.yaml", "--format", "neat-json"], "d.csv", "the data file"),
    (["run", "s.yaml", "--inputs", "in.csv", "--trace"], "in.csv", "--inputs itself"),
    (["run", "s.yaml", "--inputs", "in.csv", "--trace"], "d.csv", "the data file"),
    (["run", "s.yaml", "--inputs", "in.csv"], "p.npz", "the parameters file"),
    (["run", "s.yaml", "--inputs", "in.csv", "--chunk-rows", "1"], "s.yaml", "the spec itself"),
    (["draw", "s.yaml", "--format", "svg"], "s.yaml", "the spec itself"),
])
def test_outputs_never_replace_the_spec_its_files_or_the_inputs(folder, args, output, what):
    _trained(folder)
    kept = unchanged(folder, "s.yaml", "p.npz", "d.csv", "in.csv")
    code, text = run(*args, "-o", output)
    assert code != 0, text
    assert what in text and output in text, text
    assert unchanged(folder, "s.yaml", "p.npz", "d.csv", "in.csv") == kept


def test_import_never_replaces_its_source(folder):
    genome = folder / "g.json"
    genome.write_bytes((__import__("pathlib").Path(__file__).parent.parent / "examples" / "neat" /
                        "moons_genome.json").read_bytes())
    kept = genome.read_bytes()
    for output in ("g.json", "g.yaml"):  # g.yaml would put its numbers in g.params.npz, not the source
        code, text = run("import", "g.json", "-o", output)
        if output == "g.json":
            assert code == 2 and "-o g.json: writes g.json, which is the file being imported" in text, text
        assert genome.read_bytes() == kept


def test_sweep_best_parameters_never_replace_the_data(folder):
    (folder / "s.best.params.npz").write_bytes(b"")
    np.savez(folder / "s.best.params.npz", x=np.zeros((4, 2)), y=np.zeros(4))
    (folder / "s.yaml").write_text(CSV_SPEC.format(params="p.npz", extra="").replace(
        "{source: csv, path: d.csv, target: y}", "{source: npz, path: s.best.params.npz}"))
    kept = unchanged(folder, "s.best.params.npz")
    code, text = run("sweep", "s.yaml", "--grid", "train.epochs=1,2")
    assert code == 2 and "is the data file" in text, text
    assert unchanged(folder, "s.best.params.npz") == kept


def test_outputs_never_replace_the_edge_file(folder):
    (folder / "e.csv").write_text("from,to,weight\nx[0],out[0],0.5\nx[1],out[0],0.25\n")
    (folder / "s.yaml").write_text("nngraph: 1\nname: e\nnodes:\n  - {name: x, role: input, size: 2}\n"
                                   "  - {name: out, role: output}\nedge_file: e.csv\n")
    kept = unchanged(folder, "e.csv")
    for args in (["export", "s.yaml", "--format", "onnx", "-o", "e.csv"],
                 ["run", "s.yaml", "--input", "x=1,0", "-o", "e.csv"]):
        code, text = run(*args)
        assert code == 2 and "-o e.csv is the edge file (e.csv)" in text.replace("--output", "-o"), text
    assert unchanged(folder, "e.csv") == kept
