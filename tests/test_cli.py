"""The command line as a user meets it: exit codes, one readable line per error, files written."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from nngraph.cli import main

from helpers import EX, EXAMPLES, ROOT



def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_validate_ok_and_exit_0():
    code, out, err = run("validate", *[EX[p.name] for p in EXAMPLES])
    assert code == 0 and out.count(": ok (") == len(EXAMPLES)


def test_validate_reports_every_error_one_line_each(write_spec):
    path = write_spec("""
        nngraph: 1
        name: t
        nodes:
          - {name: x, role: input, size: 2, sise: 3}
          - {name: y, role: output, activation: sigmoidd}
        edges:
          - {from: x, to: y}
        """)
    code, out, err = run("validate", path)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith(f"{path}:4:37: nodes[0].sise: unknown key 'sise' (did you mean 'size'?)")
    assert lines[1].startswith(f"{path}:5:41: nodes[1].activation:")


def test_validate_json(write_spec):
    path = write_spec("nngraph: 1\nname: t\nnodes: [{name: x, role: input}, {name: y, role: output}]\n"
                      "edges: [{from: x, to: z}]\n")
    code, out, _ = run("validate", "--json", path)
    items = json.loads(out)
    assert code == 1 and items[0]["path"] == "edges[0].to" and items[0]["code"] == "unknown_node"
    assert set(items[0]) == {"file", "line", "column", "path", "code", "message", "severity"}


def test_usage_error_exits_2():
    assert run("validate")[0] == 2
    assert run("draw", EX["xor.yaml"], "--view", "sideways")[0] == 2


def test_schema_is_json():
    code, out, _ = run("schema")
    assert code == 0 and json.loads(out)["title"].startswith("nngraph spec")


def test_schema_to_a_file_says_where_it_wrote(tmp_path):
    code, out, err = run("schema", "-o", tmp_path / "s.json")
    assert code == 0 and out == "" and err == f"wrote {tmp_path / 's.json'}\n"
    assert json.loads((tmp_path / "s.json").read_text())["title"].startswith("nngraph spec")


def test_committed_schema_is_current():
    code, out, _ = run("schema")
    assert json.loads((ROOT / "docs" / "nngraph.schema.json").read_text()) == json.loads(out), \
        "regenerate with: nngraph schema -o docs/nngraph.schema.json"


def test_run_with_named_inputs():
    code, out, _ = run("run", EX["perceptron.yaml"], "--input", "sleep=7", "--input", "study=3")
    assert code == 0 and "verdict" in out and out.splitlines()[4].split("│")[1:4] == ["     7 ", "     3 ", "       1 "]


def test_run_with_labels_and_json():
    code, out, _ = run("run", EX["fast_food.yaml"], "--input", "burgers=2", "--input", "fries=1",
                       "--input", "sodas=3", "--json")
    assert code == 0 and json.loads(out) == {"outputs": ["cost"], "values": [[12.5]]}


def test_run_inputs_file_and_output_file(tmp_path):
    (tmp_path / "x.csv").write_text("b,a\n0,0\n1,0\n0,1\n1,1\n")  # columns in any order, by label
    code, _, err = run("run", EX["xor.yaml"], "--inputs", tmp_path / "x.csv", "--output", tmp_path / "y.npy")
    assert code == 0 and np.load(tmp_path / "y.npy").ravel().tolist() == [0, 1, 1, 0]
    np.save(tmp_path / "x.npy", np.zeros((2, 3)))
    code, _, err = run("run", EX["xor.yaml"], "--inputs", tmp_path / "x.npy")
    assert code == 1 and "3 values per row; the network takes 2 (x 2)" in err


def test_run_missing_input_names_it():
    code, _, err = run("run", EX["perceptron.yaml"], "--input", "sleep=7")
    assert code == 2 and err.strip().endswith("\nError: missing --input for study")  # a usage error, as docs/cli.md says
    code, _, err = run("run", EX["perceptron.yaml"], "--input", "slep=7", "--input", "study=1")
    assert code == 2 and "did you mean 'sleep'?" in err


def test_run_without_data_or_inputs_is_a_usage_error():
    code, _, err = run("run", EX["perceptron.yaml"])
    assert code == 2 and "--input sleep=1" in err


def test_mnist_run_trains_saves_then_evaluates(tmp_path):
    spec = tmp_path / "mnist_mlp.yaml"
    shutil.copy(EX["mnist_mlp.yaml"], spec)
    code, out, err = run("run", spec, "--epochs", "2", "--json")
    result = json.loads(out)
    assert code == 0 and result["test"]["accuracy"] > 0.85 and len(result["history"]) == 2
    assert (tmp_path / "mnist_mlp.params.npz").exists()
    code, out, err = run("run", spec, "--json")  # parameters present: evaluate only, same accuracy
    again = json.loads(out)
    assert code == 0 and "history" not in again
    assert again["test"]["accuracy"] == pytest.approx(result["test"]["accuracy"])


def test_failed_run_does_not_touch_a_good_parameters_file(tmp_path):
    spec = tmp_path / "ff.yaml"
    shutil.copy(EX["fast_food_learn.yaml"], spec)
    assert run("train", spec)[0] == 0
    good = (tmp_path / "fast_food_learn.params.npz").read_bytes()
    code, _, err = run("train", spec, "--set", "train.optimizer.learning_rate=1e10")
    assert code == 1 and "at epoch 1, step" in err and "the parameters file was not written" in err
    assert (tmp_path / "fast_food_learn.params.npz").read_bytes() == good


def test_set_is_type_checked():
    code, _, err = run("train", EX["xor_train.yaml"], "--set", "train.epochs=three")
    assert code == 1 and "train.epochs: expected a whole number, found string 'three'" in err


def test_plot_writes_a_png(tmp_path):
    spec = tmp_path / "x.yaml"
    shutil.copy(EX["xor_train.yaml"], spec)
    code, _, err = run("train", spec, "--epochs", "5", "--plot", tmp_path / "curves.png")
    assert code == 0 and (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inspect_table_and_json():
    code, out, _ = run("inspect", EX["mnist_mlp.yaml"], "--json")
    info = json.loads(out)
    assert code == 0 and [s["neurons"] for s in info["stages"]] == [784, 256, 256, 10]
    assert info["macs"] == 784 * 256 + 256 * 256 + 256 * 10
    code, out, _ = run("inspect", EX["irregular.yaml"])
    assert code == 0 and "stage 4: dense" in out


def test_debug_shows_traceback_otherwise_not(write_spec):
    path = write_spec("nngraph: 1\nname: t\nnodes: []\n")
    _, _, err = run("validate", path)
    assert "Traceback" not in err
    proc = subprocess.run([sys.executable, "-m", "nngraph.cli", "--debug", "run", str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_import_nngraph_stays_light():
    code = ("import sys, nngraph, nngraph.spec, nngraph.compile; "
            "print(sorted(m for m in ('matplotlib', 'graphviz', 'rich', 'sklearn', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_and_validate_import_only_what_they_use(tmp_path):
    # `nngraph --help` loads the command table only; proving a network feed-forward needs no networkx
    code = ("import sys, nngraph.cli; "
            "print(sorted(m for m in ('numpy', 'pydantic', 'yaml', 'networkx', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    spec = tmp_path / "n.yaml"
    spec.write_text("nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 2}, {name: h, size: 3},\n"
                    "  {name: y, role: output}]\nedges: [{from: x, to: h}, {from: h, to: y}, {from: x, to: y}]\n")
    code = (f"import sys; from nngraph.cli import main; sys.argv = ['nngraph', 'validate', {str(spec)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('networkx', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]") and ": ok (" in out


def test_a_missing_optional_package_names_the_extra_that_installs_it(tmp_path):
    """Without onnx (the interchange extra), export is a one-line refusal naming the extra, in the
    CLI and in Python; it was 'internal error: ModuleNotFoundError'."""
    import subprocess
    import sys

    spec = tmp_path / "n.yaml"
    spec.write_text("nngraph: 1\nname: n\nnodes:\n  - {name: x, role: input, size: 2}\n"
                    "  - {name: y, role: output, size: 1, activation: linear, bias: 0}\n"
                    "edges:\n  - {from: x, to: y, weights: [[1], [2]]}\n")
    code = ("import sys; sys.modules['onnx'] = None\n"
            "from nngraph.cli import main\n"
            "main(['export', sys.argv[1], '-o', sys.argv[2]], prog_name='nngraph')\n")
    out = subprocess.run([sys.executable, "-c", code, str(spec), str(tmp_path / "m.onnx")],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr == ('error: ONNX export needs the onnx package, which is not installed: '
                          'pip install "nngraph[interchange]"\n')
    assert not (tmp_path / "m.onnx").exists()
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import nngraph; from nngraph.errors import MissingExtraError; from nngraph.interchange import from_onnx\n"
            "try:\n    from_onnx(b'x')\nexcept MissingExtraError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == 'ONNX import needs the onnx package, which is not installed: pip install "nngraph[interchange]"\n'
