"""Hostile or careless inputs at the edges (data files, edge files, --inputs, --set, outputs, disks):
each is a located error with the fix, exit 1, never an internal error, and nothing is written."""
import errno
import io
import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

from nngraph.cli import main

BASE = {"nngraph": 1, "name": "n",
        "nodes": [{"name": "x", "role": "input", "size": 2}, {"name": "out", "role": "output", "activation": "sigmoid"}],
        "edges": [{"from": "x", "to": "out", "weights": [[1], [1]]}]}
TRAIN = {**BASE, "edges": [{"from": "x", "to": "out"}], "train": {"loss": "mse", "epochs": 1}, "data": {"source": "xor"}}
BIG = "1" * 5000


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    text = result.stdout + result.stderr
    assert "internal error" not in text and "Traceback" not in text, text
    return result.exit_code, text


def spec(tmp_path, name="s.json", **changes):
    path = tmp_path / name
    path.write_text(json.dumps({**BASE, **changes}))
    return path


def train_spec(tmp_path, name="t.json", **changes):
    path = tmp_path / name
    path.write_text(json.dumps({**TRAIN, **changes}))
    return path


def corrupt_npz(path, **arrays):
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    raw = bytearray(buf.getvalue())
    start = raw.find(b"PK\x03\x04") + 30 + len(next(iter(arrays))) + 4 + 10
    for k in range(start, start + 20):
        raw[k] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


# -- numbers that Python cannot convert, or that no node has -------------------------------------


def test_integers_of_thousands_of_digits_are_located(tmp_path):
    (tmp_path / "a.yaml").write_text(f"nngraph: 1\nname: n\nnodes:\n  - {{name: x, role: input, size: {BIG}}}\n"
                                     "  - {name: y, role: output}\nedges: [{from: x, to: y}]\n")
    (tmp_path / "b.json").write_text(json.dumps(BASE).replace('"size": 2', f'"size": {BIG}'))
    code, text = run("validate", tmp_path / "a.yaml", tmp_path / "b.json")
    assert code == 1
    assert "a.yaml:4:34: a number of 5,000 digits" in text and "b.json:1:78: a number of 5,000 digits" in text
    code, text = run("run", train_spec(tmp_path), "--no-save", "--set", f"train.epochs={BIG}")
    assert code == 1 and f"--set train.epochs={BIG[:37]}...: train.epochs: a number of 5,000 digits" in text


def test_neuron_indices_beyond_int64_are_located(tmp_path):
    s = spec(tmp_path, edges=[{"from": "x[0]", "to": "out", "weight": 1},
                              {"from": "x[99999999999999999999]", "to": "out", "weight": 1}])
    code, text = run("validate", s)
    assert code == 1 and "edges[1].from: 'x[99999999999999999999]': a neuron index beyond any node's size" in text
    (tmp_path / "e.csv").write_text("from,to,weight\nx[0],out,1\nx[123456789012345678901],out,1\n")
    code, text = run("validate", spec(tmp_path, "e.json", edges=[], edge_file="e.csv"))
    assert code == 1 and "edge_file: e.csv:3: 'x[1234567890123" in text


def test_set_into_a_string_or_list(tmp_path):
    s = train_spec(tmp_path)
    code, text = run("train", s, "--no-save", "--set", "train.loss.x=5")
    assert code == 1 and "--set train.loss.x=5: train.loss.x: 'train.loss' is a string, not a mapping" in text
    code, text = run("train", s, "--no-save", "--set", "name.a.b=5")
    assert code == 1 and "--set name.a.b=5: name.a.b: 'a': the value above it is a string, not a mapping" in text


# -- parameters files --------------------------------------------------------------------------


def test_parameters_symlink_loop_and_corrupt_deflate(tmp_path):
    os.symlink("loop.npz", tmp_path / "loop.npz")
    code, text = run("run", spec(tmp_path, parameters="loop.npz"), "--input", "x=1,2")
    assert code == 1 and "parameters: 'loop.npz' cannot be resolved (a loop of symbolic links)" in text
    corrupt_npz(tmp_path / "c.npz", **{"nodes/out/bias": np.zeros(1), "edges/x->out": np.ones((2, 1))})
    code, text = run("run", spec(tmp_path, parameters="c.npz"), "--input", "x=1,2")
    assert code == 1 and "c.npz: not a readable .npz parameters file (Error -3 while decompressing" in text


@pytest.mark.parametrize("target", ["folder.npz", ".", "sub/"])
def test_parameters_path_that_is_a_folder_is_refused_before_training(tmp_path, target, monkeypatch):
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "sub").mkdir()
    import nngraph.training

    def never(*a, **k):
        raise AssertionError("trained although the parameters file cannot be written")
    monkeypatch.setattr(nngraph.training, "train", never)
    for cmd in ("train", "run"):
        code, text = run(cmd, train_spec(tmp_path, parameters=target))
        assert code == 1 and f"parameters: '{target}' is a folder; name a file in it" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.npz", "sub", "t.json"]
    assert not list(tmp_path.parent.glob("*.tmp"))


def test_read_only_target_refused_before_training(tmp_path, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if str(p) == str(tmp_path) else real(p, mode, **k))
    code, text = run("train", train_spec(tmp_path, parameters="p.npz"))
    assert code == 1 and "parameters: cannot write 'p.npz': permission denied" in text and "--no-save" in text
    code, text = run("run", spec(tmp_path), "--input", "x=1,2", "--output", tmp_path / "o.csv")
    assert code == 1 and "o.csv: permission denied" in text


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_full_disk_or_failing_write_keeps_the_old_file(tmp_path, monkeypatch, err):
    s = train_spec(tmp_path, parameters="p.npz")
    code, _ = run("train", s)
    good = (tmp_path / "p.npz").read_bytes()

    def full(*a, **k):
        raise OSError(err, os.strerror(err))
    monkeypatch.setattr(np, "savez", full)
    code, text = run("train", s)
    assert code == 1 and "p.npz: cannot write it: " in text
    assert ("no space left on the device; nothing was changed" in text) == (err == errno.ENOSPC)
    assert (tmp_path / "p.npz").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.npz", "t.json"]
    monkeypatch.setattr(np, "save", full)
    code, text = run("run", spec(tmp_path), "--input", "x=1,2", "--output", tmp_path / "o.npy")
    assert code == 1 and "o.npy: cannot write it" in text and not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("args", [["run", "S", "--input", "x=1,2", "--output", "D/o.csv"],
                                  ["run", "S", "--input", "x=1,2", "--trace", "--output", "D/o.csv"],
                                  ["schema", "-o", "D/s.json"], ["draw", "S", "-o", "D/o.svg"],
                                  ["train", "T", "--no-save", "--plot", "D/p.png"],
                                  ["train", "T", "--no-save", "--log", "D/l.csv"],
                                  ["export", "S", "-o", "D/n.onnx"], ["import", "S", "-o", "D/n.yaml"],
                                  ["plot", "regions", "S", "-o", "D/r.png"],
                                  ["sweep", "T", "--grid", "train.epochs=1", "--no-save", "--csv", "D/t.csv"]])
def test_output_into_a_missing_folder(tmp_path, args):
    s, t = spec(tmp_path), train_spec(tmp_path)
    args = [{"S": s, "T": t}.get(a, a.replace("D/", str(tmp_path / "nodir") + "/")) for a in args]
    code, text = run(*args)
    assert code == 1 and "nodir" in text and ("does not exist" in text or "no such file or folder" in text)
    assert not (tmp_path / "nodir").exists()


# -- data files ----------------------------------------------------------------------------------


CSV_CASES = {
    "empty": (b"", "d.csv:1: empty file; the first row names the columns"),
    "header only": (b"a,b,t\n", "d.csv: no data rows after the header"),
    "inf target": (b"a,b,t\n0,0,1\n0,1,inf\n", "d.csv:3: column 't': inf is not a finite number"),
    "nan feature": (b"a,b,t\n0,nan,1\n", "d.csv:2: column 'b': nan is not a finite number"),
    "not utf-8": ("a,b,t\n0,0,1\n1,1,\xe9\n".encode("latin-1"), "d.csv:3: not UTF-8 text (byte 0xe9 at offset 16)"),
    "ragged": (b"a,b,t\n0,0\n", "d.csv:2: 2 values; the header has 3 columns"),
    "word": (b"a,b,t\n0,zero,1\n", "d.csv:2: column 'b': 'zero' is not a number"),
    "huge class": (b"a,b,t\n0,0,1\n1,1,100000000000\n", "d.csv:3: column 't': target 100000000000 would make 100,000,000,001 classes"),
    "blank lines": (b"a,b,t\n\n0,0,1\n\n  \n1,1,1e11\n", "d.csv:6: column 't': target 100000000000 would make"),
    "cr endings": (b"a,b,t\r0,0,1\r\r0,x,1\r", "d.csv:4: column 'b': 'x' is not a number"),
    "nan after blanks": (b"a,b,t\n\n\n0,0,1\n0,nan,1\n", "d.csv:5: column 'b': nan is not a finite number"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_data_csv(tmp_path, case):
    raw, message = CSV_CASES[case]
    (tmp_path / "d.csv").write_bytes(raw)
    code, text = run("run", train_spec(tmp_path, data={"source": "csv", "path": "d.csv", "target": "t"}), "--no-save")
    assert code == 1 and message in text


def test_inline_class_bomb_is_refused_before_allocating(tmp_path):
    data = {"source": "inline", "columns": ["a", "b", "t"], "target": "t", "rows": [[0, 0, 1e11], [1, 1, 0]]}
    code, text = run("run", train_spec(tmp_path, data=data), "--no-save")
    assert code == 1 and "data.rows (target 't'): row 0: target 100000000000 would make" in text
    assert "NNGRAPH_MAX_CLASSES" in text
    code, _ = run("run", train_spec(tmp_path, data=data), "--no-save", env={"NNGRAPH_MAX_CLASSES": "2"})
    assert code == 1


NPZ_CASES = {
    "pickled": (dict(x=np.array([{}, 1], dtype=object), y=np.array([0, 1])), "array 'x': has dtype object"),
    "0-d": (dict(x=np.array(3.0), y=np.array(1)), "array 'x' is a single number (0-d)"),
    "text": (dict(x=np.array(["a", "b"]), y=np.array([0, 1])), "array 'x': has dtype <U1; expected numbers"),
    "rows differ": (dict(x=np.zeros((4, 2)), y=np.zeros(3)), "'x' has 4 rows but 'y' has 3"),
    "no rows": (dict(x=np.zeros((0, 2)), y=np.zeros(0)), "'x' has no rows"),
    "inf target": (dict(x=np.zeros((2, 2)), y=np.array([0, np.inf])), "(array 'y'): row 1: target inf is not"),
    "missing": (dict(a=np.zeros(2)), "needs arrays 'x' and 'y'"),
}


@pytest.mark.parametrize("case", list(NPZ_CASES))
def test_data_npz(tmp_path, case):
    arrays, message = NPZ_CASES[case]
    np.savez(tmp_path / "d.npz", **arrays)
    code, text = run("run", train_spec(tmp_path, data={"source": "npz", "path": "d.npz"}), "--no-save")
    assert code == 1 and "d.npz" in text and message in text


def test_data_npz_corrupt_deflate_and_huge_header(tmp_path):
    corrupt_npz(tmp_path / "d.npz", x=np.zeros((50, 2)), y=np.zeros(50))
    code, text = run("run", train_spec(tmp_path, data={"source": "npz", "path": "d.npz"}), "--no-save")
    assert code == 1 and "d.npz: not a readable .npz file (Error -3 while decompressing" in text
    _huge_npz(tmp_path / "d.npz", "x", width=2)  # as wide as the network: only its size is wrong
    code, text = run("run", train_spec(tmp_path, data={"source": "npz", "path": "d.npz"}), "--no-save")
    assert code == 1 and "array 'x': declares 1,600,000,000,000 bytes (shape (100000000000, 2)), over the limit" in text


def _huge_npz(path, name, dtype="<f8", width=1):
    """An .npz whose member's header declares 800 GB while holding 8 bytes."""
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": (10**11, width)})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name + ".npy", header.getvalue() + b"\0" * 8)
        zf.writestr("y.npy", header.getvalue() + b"\0" * 8)


# -- edge files ----------------------------------------------------------------------------------


EDGE_CASES = {
    "e.csv": [(b"", "e.csv:1: the first row must be the header from,to,weight"),
              (b"from,to,weight\n", "e.csv: no connections after the header"),
              (b"from,to,weight\nx[0],out,abc\n", "e.csv:2: weight 'abc' is not a number"),
              (b"from,to,weight\nx[0],out,1e999\n", "e.csv:2: weight '1e999' is not a finite number"),
              (b"from,to,weight\nx[0],out\n", "e.csv:2: expected 3 columns"),
              ("from,to,weight\nx[0],out,1\xe9\n".encode("latin-1"), "e.csv:2: not UTF-8 text"),
              (b"from,to,weight\n\nx[0],out,1\n\n\nx[1],out,\n", "e.csv:6: weight '' is not a number"),
              (b"from,to,weight\r\nx[0],out,1\r\n\r\nq[1],out,1\r\n", "e.csv:4: unknown node 'q'"),
              (b"from,to,weight\nx[0],out,1\nx[7],out,1\n", "e.csv:3: neuron index 7 is out of range for 'x'"),
              (b"from,to,weight\nx[0]\0,out,1\n", "e.csv:2: 'x[0]\\x00' holds a NUL character"),
              (b"from,to,weight\nx[0],out\0\0,1\n", "e.csv:2: 'out\\x00\\x00' holds a NUL character"),
              (b"from,to,weight\nx[0],out,1\nx[0],x[1],1\n", "e.csv:3: 'x[1]' is in an input node")],
    "e.npz": [(dict(frm=np.array([1], dtype=object), to=np.array(["out"]), weight=np.array([1.0])),
               "array 'from': has dtype object"),
              (dict(frm=np.array("x[0]"), to=np.array("out"), weight=np.array(1.0)), "must be 1-d arrays of one length"),
              (dict(frm=np.array(["x[0]", "x[1]"]), to=np.array(["out"]), weight=np.array([1.0])), "of one length"),
              (dict(frm=np.array([], dtype=str), to=np.array([], dtype=str), weight=np.array([])), "no connections"),
              (dict(to=np.array(["out"]), weight=np.array([1.0])), "lacks arrays ['from']"),
              (dict(frm=np.array(["x[0]", "x\0[1]"]), to=np.array(["out", "out"]), weight=np.ones(2)),
               "e.npz: array 'from' row 2: 'x\\x00[1]' holds a NUL character"),
              (dict(frm=np.array(["x[0]", "x[1]"]), to=np.array(["out", "nope"]), weight=np.ones(2)),
               "e.npz: row 2: unknown node 'nope'")],
}


@pytest.mark.parametrize("name,k", [(n, k) for n, cases in EDGE_CASES.items() for k in range(len(cases))])
def test_malformed_edge_files(tmp_path, name, k):
    content, message = EDGE_CASES[name][k]
    if isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    else:
        np.savez(tmp_path / name, **{("from" if a == "frm" else a): v for a, v in content.items()})
    s = spec(tmp_path, edges=[], edge_file=name)
    code, text = run("validate", s)
    assert code == 1 and f"{s}:1:" in text and "edge_file: " in text and message in text
    code, text = run("run", s, "--input", "x=1,2")
    assert code == 1 and message in text


def test_edge_npz_header_is_checked_before_reading(tmp_path):
    _huge_npz(tmp_path / "e.npz", "weight")
    code, text = run("validate", spec(tmp_path, edges=[], edge_file="e.npz"))
    assert code == 1 and "e.npz: array 'weight': declares 800,000,000,000 bytes" in text
    corrupt_npz(tmp_path / "e.npz", **{"from": np.array(["x[0]"] * 50), "to": np.array(["out"] * 50),
                                       "weight": np.ones(50)})
    code, text = run("validate", spec(tmp_path, edges=[], edge_file="e.npz"))
    assert code == 1 and "e.npz: not a readable .npz file (Error -3" in text


# -- --inputs / --input ---------------------------------------------------------------------------


INPUT_CASES = {
    "0d.npy": (np.array(1.0), "holds a single number (a 0-d array); inputs are rows of 2 values"),
    "0row.npy": (np.zeros((0, 2)), "holds no rows (shape (0, 2))"),
    "str.npy": (np.array(["a", "b"]), "has dtype <U1; expected numbers"),
    "0d.npz": (np.array(1.0), "holds a single number"),
    "latin.csv": ("x\xe9,b\n1,2\n".encode("latin-1"), "latin.csv:1: not UTF-8 text"),
    "empty.csv": (b"", "empty.csv: empty file"),
    "header.csv": (b"x[0],x[1]\n", "no rows of values after the header"),
    "ragged.csv": (b"1,2\n3\n", "ragged.csv:2: 1 values; the first row has 2"),
    "inf.csv": (b"1,2\n1e999,1\n", "inf.csv:2:1: row 2, column 1: '1e999' is not finite; inputs must be finite numbers"),
    "blank.csv": (b"x[0],x[1]\n\n1,2\n \n\n3,x\n", "blank.csv:6:3: row 2, column 2: 'x' is not a number"),
    "cr.csv": (b"1,2\r3,4\r\r5\r", "cr.csv:4: 1 values; the first row has 2"),
    "quoted.csv": (b'x[0],x[1]\n"1\n",2\n3,"a\nb"\n', "quoted.csv:4: row 2, column 2: 'a\\nb' is not a number"),
    "longfield.csv": (b"1," + b"9" * 200_000 + b"\n", "longfield.csv:1: not readable as CSV (field larger than"),
    "word.csv": (b"x[0],x[1]\n1,two\n", "word.csv:2:3: row 1, column 2: 'two' is not a number"),
}


@pytest.mark.parametrize("name", list(INPUT_CASES))
def test_inputs_files(tmp_path, name):
    content, message = INPUT_CASES[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif name.endswith(".npz"):
        np.savez(path, x=content)
    else:
        np.save(path, content)
    code, text = run("run", spec(tmp_path), "--inputs", path)
    assert code == 1 and f"{path}" in text and message in text


def test_pickled_inputs_file_never_runs(tmp_path):
    np.save(tmp_path / "p.npy", np.array([1, None], dtype=object), allow_pickle=True)
    code, text = run("run", spec(tmp_path), "--inputs", tmp_path / "p.npy")
    assert code == 1 and "has dtype object" in text


def test_non_finite_input_value(tmp_path):
    code, text = run("run", spec(tmp_path), "--input", "x=1e999,1")
    assert code == 2 and "--input x=1e999,1: inputs must be finite numbers" in text


# -- several files in validate ---------------------------------------------------------------------


def test_validate_checks_every_file_even_after_an_unexpected_failure(tmp_path, monkeypatch):
    import nngraph.graph as graph_pkg

    real = graph_pkg.build
    monkeypatch.setattr(graph_pkg, "build", lambda p, *a, **k: (_ for _ in ()).throw(ZeroDivisionError("boom"))
                        if str(p).endswith("a.json") else real(p, *a, **k))
    a, b = spec(tmp_path, "a.json"), spec(tmp_path, "b.json")
    result = CliRunner().invoke(main, ["validate", str(a), str(b)])
    assert result.exit_code == 1
    assert f"{a}: internal error: ZeroDivisionError: boom" in result.stderr
    assert f"{b}: ok" in result.stdout


@pytest.mark.parametrize("name", ["y.npy", "y.csv", "y.zarr"])
def test_streamed_outputs_into_a_missing_folder_are_refused_in_python_and_the_cli_alike(tmp_path, name):
    from nngraph import load
    from nngraph.compile import compile
    from nngraph.errors import FileAccessError
    from nngraph.stream import open_inputs, score_to

    np.save(tmp_path / "x.npy", np.ones((5, 2)))
    target = tmp_path / "nodir" / name
    plan = compile(load(spec(tmp_path)))
    with pytest.raises(FileAccessError, match=f"{target}: the folder '{tmp_path / 'nodir'}' does not exist "
                                              r"\(create it first\)"):
        score_to(plan, open_inputs(tmp_path / "x.npy", 2), target, chunk_rows=2)
    code, text = run("run", spec(tmp_path), "--inputs", tmp_path / "x.npy", "--chunk-rows", 2, "--output", target)
    assert code == 1 and f"--output {target}: the folder '{tmp_path / 'nodir'}' does not exist" in text
    (tmp_path / "nodir").write_text("a file, not a folder")
    code, text = run("run", spec(tmp_path), "--inputs", tmp_path / "x.npy", "--chunk-rows", 2, "--output", target)
    assert code == 1 and "is not a folder" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nodir", "s.json", "x.npy"]


def test_lone_surrogates_in_file_names_and_labels(tmp_path):
    """JSON can spell a lone surrogate ("\\ud800"), which no file name or file encoding can hold:
    refused where the spec is loaded, in file names and labels alike, all in one round."""
    s = spec(tmp_path, "p.json", parameters="p\ud800.npz", edge_file="e\ud800.csv")
    code, text = run("validate", s)
    assert code == 1
    for key, name in (("parameters", "p\\ud800.npz"), ("edge_file", "e\\ud800.csv")):
        assert text.count(f"{key}: '{name}' holds a lone surrogate (\\ud800, character 2)") == 1, text
    t = train_spec(tmp_path, data={"source": "csv", "path": "d\ud800.csv", "target": "t"})
    code, text = run("train", t, "--no-save")
    assert code == 1 and "data.path: 'd\\ud800.csv' holds a lone surrogate" in text
    labelled = spec(tmp_path, "l.json", nodes=[BASE["nodes"][0], {**BASE["nodes"][1], "labels": ["q\udfff"]}])
    code, text = run("run", labelled, "--input", "x=1,2", "--output", tmp_path / "o.csv")
    assert code == 1 and "nodes[1].labels[0]: 'q\\udfff' holds a lone surrogate (\\udfff, character 2)" in text
    assert not (tmp_path / "o.csv").exists()


def test_parameters_beyond_float32_are_refused_not_made_infinite(tmp_path):
    np.savez(tmp_path / "p.npz", **{"edges/x->out": np.full((2, 1), 1e300)})
    s = spec(tmp_path, parameters="p.npz")
    code, text = run("run", s, "--input", "x=1,2")
    assert code == 1 and "'edges/x->out' (parameters from p.npz) holds 1e+300, which float32 cannot hold" in text
    assert "run in float64 (--float64)" in text
    code, text = run("run", s, "--input", "x=1,2", "--float64")
    assert code == 0


def test_duplicate_key_before_a_json_syntax_error_is_located(tmp_path):
    (tmp_path / "d.json").write_text('{"nngraph": 1, "name": "f", "data": {"path": "d.csv", "path": "x"}, "train#: {}}')
    code, text = run("validate", tmp_path / "d.json")
    assert code == 1 and "d.json:1:55: duplicate key 'path'; each key may appear once" in text


@pytest.mark.parametrize("args, message", [
    (["--input", "x=１,0"], r"--input x=１,0: '１,0' is not a number"),  # a full-width digit: float() reads 1
    (["--input", "x=1_0,0"], r"--input x=1_0,0: '1_0,0' is not a number"),  # float() reads 10
    (["--input", "x=٣,0"], r"is not a number"),
    (["--input", "x=1,0", "--input", "x=0,0"], r"--input x=0,0: x is given twice; give each input once"),
    (["--input", "a=1", "--input", "x=1,0"], r"--input x=1,0: --input a=\.\.\. already gives a; give each input once"),
    (["--input", "a=1", "--input", "a=0"], r"--input a=0: a is given twice"),
])
def test_command_line_inputs_read_numbers_as_the_csv_readers_do_and_each_input_once(tmp_path, args, message):
    # before, the last of two --input for one neuron won silently, and '１' or '1_0' were read as numbers
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**BASE, "nodes": [{"name": "x", "role": "input", "size": 2, "labels": ["a", "b"]},
                                                  BASE["nodes"][1]]}))
    code, text = run("run", path, *args)
    assert code == 2  # a usage error of --input
    assert re.search(message, text), text


@pytest.mark.parametrize("stream", [False, True])
def test_an_npz_holding_only_targets_is_not_scored_as_inputs(tmp_path, stream):
    path = spec(tmp_path)
    np.savez(tmp_path / "labels.npz", y=np.zeros((4, 2)))
    np.savez(tmp_path / "plain.npz", np.ones((4, 2)))  # numpy names it arr_0: the only array, taken as inputs
    extra = ["--output", tmp_path / "o.npy"] if stream else []
    code, text = run("run", path, "--inputs", tmp_path / "labels.npz", *extra)
    assert code == 1 and "labels.npz: holds 'y'; inputs are read from an array named 'x'" in text, text
    code, text = run("run", path, "--inputs", tmp_path / "plain.npz", *extra)
    assert code == 0, text


def test_outputs_never_replace_their_inputs_nor_a_folder_that_is_not_a_zarr_array(tmp_path):
    path = spec(tmp_path)
    np.save(tmp_path / "in.npy", np.ones((3, 2)))
    (tmp_path / "sh").mkdir()
    np.save(tmp_path / "sh" / "a.npy", np.ones((3, 2)))
    (tmp_path / "precious.zarr").mkdir()
    (tmp_path / "precious.zarr" / "thesis.txt").write_text("years of work")
    cases = [
        (["--output", tmp_path / "precious.zarr"], "is a folder that is not a zarr array"),
        (["--output", tmp_path / "in.npy"], "is --inputs itself; writing it would replace the inputs"),
        (["--output", tmp_path / "in.npy", "--chunk-rows", "1"], "is --inputs itself"),
    ]
    for extra, message in cases:
        code, text = run("run", path, "--inputs", tmp_path / "in.npy", *extra)
        assert code == 1 and message in text, (extra, text)
    code, text = run("run", path, "--inputs", tmp_path / "sh", "--output", tmp_path / "sh" / "out.npy")
    assert code == 1 and "lies inside the --inputs folder" in text, text
    code, text = run("run", path, "--inputs", str(tmp_path / "sh" / "*.npy"), "--output", tmp_path / "sh" / "o.npy")
    assert code == 1 and "the next run would read it as inputs" in text, text
    assert (tmp_path / "precious.zarr" / "thesis.txt").read_text() == "years of work"
    assert np.load(tmp_path / "in.npy").shape == (3, 2) and sorted(os.listdir(tmp_path / "sh")) == ["a.npy"]
    code, text = run("run", path, "--inputs", tmp_path / "in.npy", "--output", tmp_path / "out.zarr")
    assert code == 0, text
    code, text = run("run", path, "--inputs", tmp_path / "in.npy", "--output", tmp_path / "out.zarr")
    assert code == 0, text  # a zarr array nngraph wrote is replaced by the new one


def test_sweep_refuses_a_csv_that_would_replace_a_file_and_a_grid_too_large_before_making_it(tmp_path):
    import time

    from nngraph.distributed import trials, parse_grid

    path = tmp_path / "t.json"
    path.write_text(json.dumps(TRAIN))
    code, text = run("sweep", path, "--grid", "train.epochs=1", "--csv", path)
    assert code == 2 and "name one ending in .csv" in text
    code, text = run("sweep", path, "--grid", "train.epochs=1,1")
    assert code == 1 and "1 listed twice" in text, text
    grid = parse_grid([f"train.{k}={','.join(map(str, range(1, 1001)))}" for k in ("epochs", "batch_size", "seed")])
    t0 = time.process_time()
    with pytest.raises(Exception, match="the grid has 1,000,000,000 combinations; at most 100,000"):
        trials(grid)
    assert len(trials(grid, 3)) == 3
    assert time.process_time() - t0 < 5  # a billion combinations were made before (11 GB, minutes)


@pytest.mark.parametrize("ext", ["npy", "csv"])  # zarr writes a file per chunk, each under any such limit
def test_a_streamed_output_that_outgrows_the_disk_is_a_located_error_and_the_old_output_stays(tmp_path, ext):
    # a file-size limit stands in for a full disk: writes fail with an OSError past it (CSV and zarr
    # outputs printed a traceback; the CSV writer's buffered rows failed again while it was removed)
    import resource
    import signal
    import subprocess
    import sys

    path = spec(tmp_path)
    np.save(tmp_path / "small.npy", np.ones((3, 2)))
    np.save(tmp_path / "big.npy", np.random.default_rng(0).random((100_000, 2)))
    out = tmp_path / f"o.{ext}"
    cli = [sys.executable, "-m", "nngraph.cli", "run", str(path), "--output", str(out), "--chunk-rows", "1000"]
    first = subprocess.run(cli + ["--inputs", str(tmp_path / "small.npy")], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    result = subprocess.run(cli + ["--inputs", str(tmp_path / "big.npy")], capture_output=True, text=True,
                            preexec_fn=limited)
    assert result.returncode == 1, result.stderr
    assert f"o.{ext}: cannot write it" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no temporary left behind
