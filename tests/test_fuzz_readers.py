"""The exception contract for every reader beside the spec loader, and for the CLI's options.

Random and mutated bytes and structures go to each reader: inputs files (.csv/.npy/.npz), edge
files, data files (CSV, NPZ, IDX raw and gzip), parameters files, spec files, ``--input`` and
``--set`` values. Each must either succeed or raise an ``NNGraphError`` whose message names where
the problem is (the file, the option, the spec key); never another exception, never "internal
error". Whole classes of hostile input are generated, so a fix must hold for the class.
"""
import gzip
import io
import os
import struct
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

import nngraph
from nngraph import NNGraphError
from nngraph.compile import compile
from nngraph.data import load_data
from nngraph.io import parse_input_args, read_inputs
from nngraph.spec import with_overrides

from helpers import EX

EXAMPLES = int(os.environ.get("NNGRAPH_FUZZ_EXAMPLES", "40"))  # raise it for a long hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

# -- generators of hostile content ---------------------------------------------------------------

TOKENS = ["1", "-2.5", "0", "3", "1e400", "-1e400", "nan", "inf", "-inf", "x", "", " ", "1_0", "0x10", "\x00",
          "a\x00", '"', '"a\nb"', "\u202e", "\x1b[2J", "9" * 5000, "1" * 30, "\u0661", "a,b", "from", "to",
          "weight", "x", "y", "x[0]", "x[2]", "y[1]", "x[99999999999999999999]", "x[-1]", "[/]", "1e5", "-0"]
field = st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))
newline = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\n \n"])


@st.composite
def csv_text(draw, header=None):
    rows = draw(st.lists(st.lists(field, max_size=5), max_size=6))
    if header is not None and draw(st.booleans()):
        rows.insert(0, header)
    nl = draw(newline)
    text = nl.join(",".join(r) for r in rows) + draw(st.sampled_from(["", "\n", nl]))
    enc = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(enc, errors="replace")


@st.composite
def mutated(draw, base: bytes):
    """``base`` with a few random edits: flipped or inserted bytes, a cut, a repeated slice."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "cut", "repeat", "zero"]))
        pos = draw(st.integers(0, max(len(data), 1)))
        if op == "flip" and data:
            data[min(pos, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "cut":
            del data[pos:]
        elif op == "repeat" and data:
            data[pos:pos] = data[max(0, pos - 32):pos] * draw(st.integers(1, 3))
        elif op == "zero" and data:
            data[min(pos, len(data) - 1)] = 0
    return bytes(data)


DTYPES = ["<f8", "<f4", "<i8", "|u1", "|b1", "<U3", "<c16", "O", "<M8[s]", "|V4", ">f8"]
SHAPES = [(), (0,), (1,), (3,), (2, 2), (0, 2), (3, 2), (2, 3, 1), (4, 3)]


@st.composite
def npy_bytes(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from(SHAPES))
    n = int(np.prod(shape))
    if dtype == "O":
        arr = np.array([None] * n, dtype=object).reshape(shape)
    elif dtype == "<U3":
        arr = np.array(draw(st.lists(st.sampled_from(["x[0]", "y[1]", "a\x00", "", "x[9]", "y"]), min_size=n,
                                     max_size=n)), dtype="<U3").reshape(shape)
    else:
        vals = draw(st.lists(st.sampled_from([0, 1, 2, -1, 0.5, 1e300, float("nan"), float("inf")]),
                             min_size=n, max_size=n))
        with np.errstate(all="ignore"):
            try:
                arr = np.array(vals, dtype=np.float64).astype(dtype).reshape(shape)
            except (ValueError, TypeError, OverflowError):
                arr = np.zeros(shape, dtype=dtype)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    raw = buf.getvalue()
    return draw(mutated(raw)) if draw(st.booleans()) else raw


MEMBERS = ["x", "y", "x_test", "y_test", "from", "to", "weight", "w", "../a", "b/", "x"]


@st.composite
def npz_bytes(draw, names=MEMBERS):
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name in draw(st.lists(st.sampled_from(names), max_size=4)):
            suffix = draw(st.sampled_from([".npy", ".npy", ""]))
            data = draw(st.one_of(npy_bytes(), st.binary(max_size=20)))
            zf.writestr(name + suffix, data)
    raw = buf.getvalue()
    return draw(mutated(raw)) if draw(st.booleans()) else raw


@st.composite
def idx_bytes(draw):
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07, 0x00]))
    dims = draw(st.lists(st.sampled_from([0, 1, 2, 3, 10, 2**31, 2**32 - 1]), max_size=4))
    head = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    raw = head + draw(st.binary(max_size=40))
    raw = draw(mutated(raw)) if draw(st.booleans()) else raw
    return gzip.compress(raw) if draw(st.booleans()) else raw


def _contract(call, *where):
    """``call()`` succeeds, or raises an NNGraphError that names one of ``where``."""
    try:
        return call()
    except NNGraphError as exc:
        message = str(exc)
        assert "internal error" not in message
        assert any(w in message for w in where), f"no location ({' or '.join(where)}) in: {message}"
        return None


# -- readers through the Python API --------------------------------------------------------------

NET = ("nngraph: 1\nname: n\nnodes:\n  - {name: x, role: input, size: 2, labels: [a, b]}\n"
       "  - {name: y, role: output, size: 2}\nedges: [{from: x, to: y, weights: [[1, 2], [3, 4]]}]\n")


@pytest.fixture(scope="module")
def plan():
    return compile(nngraph.load(NET))


@FUZZ
@given(suffix=st.sampled_from([".csv", ".npy", ".npz"]), data=st.data())
def test_inputs_files(tmp_path, plan, suffix, data):
    raw = data.draw({".csv": csv_text(header=["x[0]", "x[1]"]), ".npy": npy_bytes(), ".npz": npz_bytes()}[suffix])
    path = tmp_path / ("in" + suffix)
    path.write_bytes(raw)
    x = _contract(lambda: read_inputs(path, plan), str(path))
    if x is not None:
        assert x.ndim == 2 and x.shape[1] == 2 and np.isfinite(x).all()
        plan.forward(x)


@FUZZ
@given(pairs=st.lists(st.tuples(st.sampled_from(["x", "a", "b", "y", "", "x=", "\x1b"]),
                                st.lists(field, min_size=1, max_size=3)), max_size=3))
def test_input_values(plan, pairs):
    given_pairs = [f"{k}={','.join(v)}" for k, v in pairs] + (["a"] if len(pairs) == 2 else [])
    _contract(lambda: parse_input_args(given_pairs, plan), "--input")


EDGE_SPEC = ("nngraph: 1\nname: e\nnodes:\n  - {name: x, role: input, size: 3}\n  - {name: y, role: output, size: 2}\n"
             "edges: []\nedge_file: {file}\n")


@FUZZ
@given(suffix=st.sampled_from([".csv", ".npz"]), data=st.data())
def test_edge_files(tmp_path, suffix, data):
    raw = data.draw(csv_text(header=["from", "to", "weight"]) if suffix == ".csv"
                    else npz_bytes(["from", "to", "weight", "x"]))
    (tmp_path / ("e" + suffix)).write_bytes(raw)
    spec_path = tmp_path / "e.yaml"
    spec_path.write_text(EDGE_SPEC.replace("{file}", "e" + suffix))
    graph = _contract(lambda: nngraph.build(nngraph.load(spec_path)), "e" + suffix)
    if graph is not None:
        _contract(lambda: compile(graph).forward(np.ones((1, 3))), "e" + suffix)


DATA_SPEC = ("nngraph: 1\nname: d\nnodes:\n  - {name: x, role: input, size: 2}\n  - {name: y, role: output}\n"
             "edges: [{from: x, to: y, init: zeros}]\ndata: {source: {source}, path: {file}, target: y}\n")


@FUZZ
@given(suffix=st.sampled_from([".csv", ".npz"]), data=st.data())
def test_data_files(tmp_path, suffix, data):
    raw = data.draw(csv_text(header=["a", "b", "y"]) if suffix == ".csv" else npz_bytes())
    (tmp_path / ("d" + suffix)).write_bytes(raw)
    spec_path = tmp_path / "d.yaml"
    spec_path.write_text(DATA_SPEC.replace("{source}", suffix[1:]).replace("{file}", "d" + suffix))
    spec = nngraph.load(spec_path)
    ds = _contract(lambda: load_data(spec), "d" + suffix)
    if ds is not None:
        assert len(ds.x_train) + len(ds.x_test) > 0 and np.isfinite(ds.x_train).all()


IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@FUZZ
@given(which=st.sampled_from(IDX_FILES), gz=st.booleans(), raw=idx_bytes())
def test_idx_files(tmp_path, which, gz, raw):
    folder = tmp_path / "idx"
    folder.mkdir(exist_ok=True)
    for f in folder.iterdir():
        f.unlink()
    for name in IDX_FILES:  # three good files beside the hostile one
        good = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 2) + bytes(8) if "images" in name else \
            bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes([0, 1])
        (folder / name).write_bytes(good)
    (folder / which).unlink()
    (folder / (which + (".gz" if gz else ""))).write_bytes(raw)
    spec_path = tmp_path / "m.yaml"
    spec_path.write_text("nngraph: 1\nname: m\nnodes:\n  - {name: x, role: input, size: 4}\n"
                         "  - {name: y, role: output, size: 2}\nedges: [{from: x, to: y, init: zeros}]\n"
                         "data: {source: mnist, directory: idx}\n")
    _contract(lambda: load_data(nngraph.load(spec_path)), which, "idx")


PARAM_NAMES = ["edges/x->y", "nodes/y/bias", "nodes/y", "edges/x->y/../..", "w"]


@FUZZ
@given(raw=npz_bytes(PARAM_NAMES))
def test_parameters_files(tmp_path, raw):
    (tmp_path / "p.npz").write_bytes(raw)
    spec_path = tmp_path / "p.yaml"
    spec_path.write_text("nngraph: 1\nname: p\nparameters: p.npz\nnodes:\n  - {name: x, role: input, size: 2}\n"
                         "  - {name: y, role: output, size: 2}\nedges: [{from: x, to: y, init: zeros}]\n")
    graph = nngraph.build(nngraph.load(spec_path))
    plan = _contract(lambda: compile(graph), "p.npz")
    if plan is not None:
        assert np.isfinite(plan.forward(np.ones((1, 2)))).all()


@FUZZ
@given(example=st.sampled_from(["xor.yaml", "irregular.yaml", "skip_connection.yaml", "perceptron.json"]), data=st.data())
def test_spec_files_mutated(tmp_path, example, data):
    raw = data.draw(mutated(EX[example].read_bytes()))
    path = tmp_path / example
    path.write_bytes(raw)
    _contract(lambda: nngraph.build(nngraph.load(path)), example)


SET_KEYS = ["train.epochs", "train.optimizer", "train.optimizer.learning_rate", "train.batch_size", "name",
            "nodes.0.size", "nodes.1.activation", "nodes.9.size", "edges.0.weight", "edges.0", "nodes",
            "data.source", "train.loss", "nodes.0.name.x", "train.optimizer.name", "edges.0.from", "parameters",
            "nngraph", "train", ".", "..", "nodes.-1.size", "edges.0.weights.0.0"]


@FUZZ
@given(sets=st.lists(st.tuples(st.one_of(st.sampled_from(SET_KEYS), st.text(max_size=8)),
                               st.one_of(field, st.sampled_from(["[1, 2]", "{a: 1}", "3", "relu", "true", "~"]))),
                     min_size=1, max_size=3))
def test_set_values(sets):
    spec = nngraph.load(EX["xor.yaml"])
    s = _contract(lambda: with_overrides(spec, [f"{k}={v}" for k, v in sets]), "--set")
    if s is not None:
        _contract(lambda: nngraph.build(s), "--set", "xor.yaml")


# -- the same through the CLI: exit 0, 1 or 2, one message, never an internal error ---------------


@settings(max_examples=EXAMPLES * 5 // 8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from([".csv", ".npy", ".npz"]), data=st.data(),
       sets=st.lists(st.tuples(st.sampled_from(SET_KEYS[:8]), field), max_size=2),
       output=st.sampled_from([None, "out.csv", "out.npy", "missing/out.csv", "out.txt", "."]),
       chunk_rows=st.sampled_from([None, None, "1", "3"]))
def test_cli_run_with_hostile_options(tmp_path, suffix, data, sets, output, chunk_rows):
    from nngraph.cli import main

    spec = tmp_path / "n.yaml"
    spec.write_text(NET)
    raw = data.draw({".csv": csv_text(header=["a", "b"]), ".npy": npy_bytes(), ".npz": npz_bytes()}[suffix])
    (tmp_path / ("in" + suffix)).write_bytes(raw)
    args = ["run", str(spec), "--inputs", str(tmp_path / ("in" + suffix))]
    args += [a for k, v in sets for a in ("--set", f"{k}={v}")]
    if output:
        args += ["--output", str(tmp_path / output)]
    if chunk_rows:
        args += ["--chunk-rows", chunk_rows]  # the streaming readers
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    assert "internal error" not in result.output and "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.stderr.lstrip().startswith(("error: ", str(tmp_path), "--set", "n.yaml")), result.stderr


def test_fuzz_generators_make_hostile_content():
    """The generators above reach the cases they exist for (else the tests above prove little)."""
    seen = set()

    @settings(max_examples=200, database=None, deadline=None, derandomize=True)  # a fixed sample: never flaky
    @given(npy_bytes(), idx_bytes(), csv_text(header=["x"]))
    def probe(npy, idx, text):
        if b"\x93NUMPY" in npy and b"|O" in npy:
            seen.add("pickled")
        if len(idx) > 2 and idx[:2] == b"\x1f\x8b":
            seen.add("gzip")
        if b"\r" in text:
            seen.add("cr")
        if b"\x00" in text:
            seen.add("nul")
    probe()
    assert seen == {"pickled", "gzip", "cr", "nul"}


FULL_SPEC = {"nngraph": 1, "name": "f", "parameters": "p.npz", "edge_file": "e.csv",
             "nodes": [{"name": "x", "role": "input", "size": 2}, {"name": "y", "role": "output"}], "edges": [],
             "data": {"source": "csv", "path": "d.csv", "target": "t"},
             "train": {"loss": "mse", "epochs": 1, "batch_size": 2}}
GOOD = {"e.csv": b"from,to,weight\nx[0],y,1\nx[1],y,2\n", "d.csv": b"a,b,t\n0,0,0.5\n1,1,1.5\n0,1,0.25\n1,0,2\n",
        "in.csv": b"1,2\n3,4\n"}
COMMANDS = [["validate", "S"], ["inspect", "S"], ["dump", "S"], ["run", "S", "--input", "x=1,2", "--untrained"],
            ["run", "S", "--inputs", "in.csv", "--untrained"], ["train", "S", "--no-save"],
            ["draw", "S", "-o", "out.svg"], ["run", "S", "--no-save"]]


@settings(max_examples=EXAMPLES * 5 // 8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["s.json", "p.npz", "e.csv", "d.csv", "in.csv"]), command=st.sampled_from(COMMANDS),
       data=st.data())
def test_cli_commands_with_one_hostile_file(tmp_path, kind, command, data):
    """Every command over a spec whose one named file (or the spec itself) is hostile: exit 0, 1 or 2,
    a message naming the file, never an internal error or a traceback."""
    import json

    from nngraph.cli import main

    for f in tmp_path.iterdir():
        f.unlink()
    spec_bytes = json.dumps(FULL_SPEC).encode()
    for name, raw in GOOD.items():
        (tmp_path / name).write_bytes(raw)
    (tmp_path / "s.json").write_bytes(spec_bytes)
    hostile = {"s.json": mutated(spec_bytes), "p.npz": npz_bytes(["edge_file/x->y", "nodes/y/bias", "w"]),
               "e.csv": csv_text(header=["from", "to", "weight"]), "d.csv": csv_text(header=["a", "b", "t"]),
               "in.csv": csv_text()}[kind]
    (tmp_path / kind).write_bytes(data.draw(hostile))
    args = [str(tmp_path / a) if a in ("S", "in.csv", "out.svg") else a for a in command]
    args = [str(tmp_path / "s.json") if a == str(tmp_path / "S") else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    if result.exit_code == 1:  # located: names a file or the option
        assert any(w in result.stderr for w in ("s.json", "p.npz", "e.csv", "d.csv", "in.csv", "out.svg", "--input")), \
            result.stderr


def test_inputs_beyond_the_plans_precision_are_refused_at_their_row(tmp_path, plan):
    """A finite float64 input too large for a float32 plan (it would become inf) is refused where
    it is in the file, before the forward pass (which would say it without the file)."""
    from nngraph.errors import DataError

    path = tmp_path / "in.npy"
    np.save(path, np.array([[0.0, 1.0], [2.0, 1e300]]))
    with pytest.raises(DataError, match=r"in\.npy: row 2, column 2: 1e\+300 is too large for float32"):
        read_inputs(path, plan)
