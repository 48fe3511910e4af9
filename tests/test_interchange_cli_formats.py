"""import refuses a file that is already a spec; export takes its format from -o or --format, never a guess."""
import json

import pytest
import yaml
from click.testing import CliRunner

from nngraph.cli import main
from nngraph.errors import NNGraphError
from nngraph.interchange import NeatImportError, export_file, from_neat, import_file

SPEC = """\
# a comment first
nngraph: 1
name: tiny
nodes:
  - {name: x, role: input, size: 2}
  - {name: y, role: output, activation: neat_sigmoid, bias: 0.5}
edges:
  - {from: x, to: y, weights: [[1.0], [-2.0]]}
"""


@pytest.mark.parametrize("file", ["w.yaml", "w.yml", "w.json", "w.dat"])
def test_import_of_a_spec_says_it_is_a_spec(tmp_path, file):
    src = tmp_path / file
    src.write_text(json.dumps(yaml.safe_load(SPEC)) if file.endswith(".json") else SPEC)
    result = CliRunner().invoke(main, ["import", str(src), "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1, result.output
    assert f"{file}: is already an nngraph spec, not a network to import" in result.output
    assert "reads neat-python JSON exports and ONNX models" in result.output
    assert "Traceback" not in result.output and "DecodeError" not in result.output
    assert not (tmp_path / "x.yaml").exists()
    with pytest.raises(NNGraphError, match="is already an nngraph spec"):
        import_file(src, kind="onnx")  # whatever format is claimed


def test_from_neat_of_a_spec_dict_says_it_is_a_spec():
    with pytest.raises(NeatImportError, match=r"^<dict>: is already an nngraph spec \(it has the key 'nngraph'\)"):
        from_neat(yaml.safe_load(SPEC))


def test_export_refuses_an_unknown_extension_and_writes_nothing(tmp_path):
    spec = tmp_path / "w.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(main, ["export", str(spec), "-o", str(tmp_path / "w.txt")])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '-o' / '--output'" in result.output
    assert "cannot tell the export format from the extension '.txt'; name the file .onnx (ONNX) or .json " \
           "(neat-python JSON), or give the format (--format onnx or --format neat-json)" in result.output
    assert not (tmp_path / "w.txt").exists()
    with pytest.raises(NNGraphError, match=r"w\.bin: cannot tell the export format from the extension '\.bin'"):
        export_file(spec, tmp_path / "w.bin")


def test_export_format_from_the_extension_or_the_option(tmp_path):
    spec = tmp_path / "w.yaml"
    spec.write_text(SPEC)
    runner = CliRunner()
    assert runner.invoke(main, ["export", str(spec), "-o", str(tmp_path / "w.json")]).exit_code == 0
    assert json.loads((tmp_path / "w.json").read_text())["format_version"] == "1.0"  # neat-json, by extension
    assert runner.invoke(main, ["export", str(spec), "-o", str(tmp_path / "w.onnx")]).exit_code == 0
    assert (tmp_path / "w.onnx").read_bytes()[:1] != b"{"
    result = runner.invoke(main, ["export", str(spec), "-o", str(tmp_path / "w.txt"), "--format", "neat-json"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "w.txt").read_text())["network_type"] == "feedforward"
