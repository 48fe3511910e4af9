"""Streaming in this process: shards of every kind read a chunk at a time (memory bounded by the
chunk, errors naming shard, line and row), and outputs that replace an old one only when complete.
Apart from the cluster tests, so that no client thread allocates while memory is traced."""
import tracemalloc

import numpy as np
import pytest

from helpers import SMALL_SCORER
from nngraph import DataError, stream
from nngraph.compile import compile

SMALL = SMALL_SCORER


def read_all_traced(source, chunk_rows, expect):
    """Every row of ``source`` read chunk by chunk and compared, keeping nothing; the peak of traced
    memory meanwhile."""
    tracemalloc.start()
    try:
        same = all([np.array_equal(source.read(a, b), expect[a:b]) for a, b in stream.ranges(source.rows, chunk_rows)])
        return same, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["stored.npz", "compressed.npz", "rows.csv"])
def test_npz_and_csv_shards_are_read_in_bounded_chunks(tmp_path, name):
    x = np.random.default_rng(5).integers(-64, 64, size=(24_000, 20)) / 8  # 3.8 MB, exact in text
    path = tmp_path / name
    if name == "stored.npz":
        np.savez(path, x=x)
    elif name == "compressed.npz":
        np.savez_compressed(path, x=x)
    else:
        np.savetxt(path, x, delimiter=",", header=",".join(f"c{i}" for i in range(20)), comments="", fmt="%g")
    source = stream.open_inputs(path, 20)
    assert source.rows == 24_000
    same, peak = read_all_traced(source, 250, x)
    assert same
    chunk = 250 * 20 * 8  # the shard is 96 chunks; reading it all holds a few at most
    assert peak < 10 * chunk, f"peak {peak:,} bytes for {chunk:,}-byte chunks of a {x.nbytes:,}-byte shard"
    # out of order (as workers read): the same rows
    assert np.array_equal(source.read(9000, 9500), x[9000:9500])
    assert np.array_equal(source.read(700, 1200), x[700:1200])
    assert np.array_equal(source.read(23_999, 24_000), x[23_999:])


def _zip(path, members):
    import io
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        for name, x in members:
            buf = io.BytesIO()
            if x is not None:
                np.save(buf, x)
            z.writestr(name, buf.getvalue())


@pytest.mark.parametrize("name, message", [
    ("twice.npz", r"twice\.npz: holds array 'x' twice"),
    ("folder.npz", r"folder\.npz: holds 'x\.npy/', which is not an \.npy array"),
    ("empty.npz", r"empty\.npz: holds no rows; give at least one row of 3 values"),
    ("empty.csv", r"empty\.csv: holds no rows"),
    ("header.csv", r"header\.csv: holds no rows"),
    ("underscore.csv", r"underscore\.csv:2:1: row 2, column 1: '1_0' is not a number"),
    ("quoted.csv", r"quoted\.csv:1: a quoted value runs on past the end of the line"),
    ("short.npz", r"short\.npz: truncated: member 'x' declares shape \(1000, 3\) \(24,128 bytes\), "
                  r"the file ends before them \(1,236 bytes in all\)"),
])
def test_what_the_whole_file_reader_refuses_a_stream_refuses(tmp_path, name, message):
    """Each also refused when the file is read whole (not silently scored as something else)."""
    path = tmp_path / name
    x = np.arange(12.0).reshape(4, 3)
    if name == "twice.npz":
        _zip(path, [("x.npy", x), ("x.npy", x + 1)])
    elif name == "folder.npz":
        _zip(path, [("x.npy/", None), ("y.npy", x)])
    elif name == "empty.npz":
        np.savez(path, x=np.zeros((0, 3)))
    elif name == "short.npz":  # a stored member whose zip entry claims all 24,128 bytes; 1,128 are there
        import io
        import struct
        import zlib
        buf = io.BytesIO()
        np.save(buf, np.zeros((1000, 3)))
        data = buf.getvalue()[:1128]
        crc, n, fname = zlib.crc32(data), 24_128, b"x.npy"
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, n, n, len(fname), 0) + fname
        central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, n, n, len(fname),
                              0, 0, 0, 0, 0, 0) + fname
        at = len(local) + len(data)
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), at, 0)
        path.write_bytes(local + data + central + end)
    else:
        path.write_text({"empty.csv": "", "header.csv": "a,b,c\n", "underscore.csv": "1,2,3\n1_0,2,3\n",
                         "quoted.csv": '1,"2\n",3\n'}[name])
    with pytest.raises(DataError, match=message):
        stream.open_inputs(path, 3).read(0, 4)
    if name not in ("quoted.csv", "short.npz"):  # read whole: a quoted line break is a CSV's right
        from nngraph.io import read_inputs
        plan = compile("nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 3}, {name: y, role: output}]\n"
                       "edges: [{from: x, to: y, weights: [[1], [1], [1]]}]\n")
        with pytest.raises(DataError, match=r"(twice|not a valid|no rows|empty file|'1_0' is not a number)"):
            read_inputs(path, plan)


@pytest.mark.parametrize("name, message", [
    ("compressed.npz", r"compressed\.npz: row 7322: inputs must be finite numbers"),
    ("rows.csv", r"rows\.csv:9002:\d+: row 9001, column 2: 'oops' is not a number"),
    ("short.csv", r"short\.csv:4502: row 4501: 19 values; the network takes 20"),
])
def test_a_bad_row_deep_in_a_streamed_shard_is_located(tmp_path, name, message):
    x = np.random.default_rng(6).normal(size=(10_000, 20))
    path = tmp_path / name
    if name.endswith(".npz"):
        x[7321, 4] = np.inf
        np.savez_compressed(path, x=x)
    else:
        lines = ["a" + ",a" * 19] + [",".join(f"{v:.3f}" for v in row) for row in x]
        if name == "rows.csv":
            lines[9001] = lines[9001].replace(",", ",oops,", 1).rsplit(",", 1)[0]
        else:
            lines[4501] = lines[4501].rsplit(",", 1)[0]
        path.write_text("\n".join(lines) + "\n")
    source = stream.open_inputs(path, 20)
    with pytest.raises(DataError, match=message):
        for a, b in stream.ranges(source.rows, 1000):
            source.read(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("threads", [1, 64])  # a core to spare for the reading thread's check, and none
def test_every_non_finite_value_is_found_whichever_thread_checks(tmp_path, dtype, threads):
    # shards of 300 and 500 rows read in chunks of 200 that straddle them; a NaN, +inf, -inf, and
    # +inf beside -inf (a sum would give NaN, never a finite value); finite values near the dtype's
    # largest make BLAS's row sums overflow without anything being wrong
    big = np.finfo(dtype).max / 2
    x = np.full((800, 6), big, dtype)
    np.save(tmp_path / "a.npy", x[:300])
    np.save(tmp_path / "b.npy", x[300:])
    source = stream.open_inputs(tmp_path, 6)
    with stream.blas_threads(min(threads, stream.current_blas_threads())):
        assert np.array_equal(np.concatenate([y for _, y in stream.read_ahead(
            source, stream.ranges(800, 200), threads=threads)]), x)
    for row, values in ((0, [np.nan]), (299, [np.inf]), (301, [-np.inf]), (799, [np.inf, -np.inf])):
        y = x.copy()
        y[row, 1:1 + len(values)] = values
        np.save(tmp_path / "a.npy", y[:300])
        np.save(tmp_path / "b.npy", y[300:])
        where = f"a.npy: row {row + 1}:" if row < 300 else f"b.npy: row {row - 299}:"
        with pytest.raises(DataError, match=where + " inputs must be finite numbers"):
            list(stream.read_ahead(source, stream.ranges(800, 200), threads=threads))
        with pytest.raises(DataError, match=where):
            source.read(max(0, row - 250), row + 1)


def test_a_failed_run_leaves_an_existing_zarr_output_untouched(tmp_path):
    import zarr

    plan = compile(SMALL)
    x = np.random.default_rng(7).normal(size=(400, 6))
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in/a.npy", x)
    out = tmp_path / "y.zarr"
    stream.score_to(plan, stream.open_inputs(tmp_path / "in", 6), out, chunk_rows=50)
    good = zarr.open_array(str(out), mode="r")[:]
    assert np.array_equal(good, plan.forward(x))
    rows = [",".join(["1"] * 6)] * 300
    rows[250] = "1,2,3,4,5,x"  # a corrupt later shard: found after a.npy's chunks were written
    (tmp_path / "in/b.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"b\.csv:251:11: row 251, column 6: 'x' is not a number"):
        stream.score_to(plan, stream.open_inputs(tmp_path / "in", 6), out, chunk_rows=50)
    assert np.array_equal(zarr.open_array(str(out), mode="r")[:], good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "y.zarr"]
    (tmp_path / "in/b.csv").unlink()
    np.save(tmp_path / "in/b.npy", x[:100] * 2)
    stream.score_to(plan, stream.open_inputs(tmp_path / "in", 6), out, chunk_rows=50)  # replaced as a whole
    assert np.array_equal(zarr.open_array(str(out), mode="r")[:], plan.forward(np.concatenate([x, x[:100] * 2])))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "y.zarr"]


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_csv_shards_with_any_line_ending_stream_like_the_whole_file_reader(tmp_path, ending):
    # a bare \r (old Mac exports) ends a line too: the file is not one over-long line
    x = np.random.default_rng(8).integers(-64, 64, size=(3000, 20)) / 8
    lines = [",".join(f"c{i}" for i in range(20))] + [",".join(f"{v:g}" for v in row) for row in x]
    path = tmp_path / "rows.csv"
    path.write_bytes(ending.join(lines).encode() + ending.encode())
    source = stream.open_inputs(path, 20)
    assert source.rows == 3000
    assert np.array_equal(np.concatenate([source.read(a, b) for a, b in stream.ranges(3000, 700)]), x)
    lines[2001] = lines[2001].replace(",", ",oops,", 1)  # located by its line, as an editor counts them
    path.write_bytes(ending.join(lines).encode() + ending.encode())
    with pytest.raises(DataError, match=r"rows\.csv:2002: row 2001: 21 values; the network takes 20"):
        for a, b in stream.ranges(3000, 700):
            stream.open_inputs(path, 20).read(a, b)
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"oops")] = 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"rows\.csv:2002: row 2001: not UTF-8 text"):
        stream.open_inputs(path, 20).read(1500, 2500)


def test_a_csv_header_names_the_columns_in_any_order(tmp_path):
    # with the plan, columns are matched by name as for a file read whole; extra columns are ignored
    plan = compile(SMALL)
    x = np.random.default_rng(9).integers(-64, 64, size=(500, 6)) / 8
    order = [3, 0, 5, 1, 4, 2]
    header = ["id"] + [f"x[{k}]" for k in order]
    body = [",".join([str(i)] + [f"{v:g}" for v in row[order]]) for i, row in enumerate(x)]
    path = tmp_path / "named.csv"
    path.write_text("\n".join([",".join(header)] + body) + "\n")
    source = stream.open_inputs(path, 6, plan)
    assert np.array_equal(source.read(0, 500), x)
    assert np.array_equal(source.read(120, 130), x[120:130])
    stream.score_to(plan, source, tmp_path / "y.npy", chunk_rows=64)
    from nngraph.io import read_inputs

    assert np.array_equal(read_inputs(path, plan), x)
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.concatenate(
        [plan.forward(x[a:b]) for a, b in stream.ranges(500, 64)]))
    path.write_text("\n".join([",".join(header).replace("x[4]", "x[7]")] + body) + "\n")
    with pytest.raises(DataError, match=r"named\.csv: no column 'x\[4\]'"):
        stream.open_inputs(path, 6, plan)


PEAK_SCRIPT = """
import sys
import numpy as np
from nngraph import stream
from nngraph.cli import main

stream.STREAM_ABOVE_BYTES = 8 << 20  # as if these files were large: streamed by default,
stream.DEFAULT_CHUNK_BYTES = 2 << 20  # in chunks of about 2 MB

def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

spec, small, inputs, output = sys.argv[1:]
main(["run", spec, "--untrained", "--inputs", small, "--output", output + ".warm.npy", "--json"], standalone_mode=False)
before = peak()  # imports, compiling and one small run paid
main(["run", spec, "--untrained", "--inputs", inputs, "--output", output, "--json"], standalone_mode=False)
print(before, peak())
"""


@pytest.mark.parametrize("name", ["compressed.npz", "stored.npz", "rows.csv"])
def test_a_single_large_npz_or_csv_is_streamed_by_run_in_bounded_memory(tmp_path, write_spec, name):
    # a file several times the chunk is scored through `nngraph run` with memory bounded by the
    # chunk: the process's peak RSS grows by far less than the file holds
    import subprocess
    import sys

    spec = write_spec(SMALL.replace("size: 6", "size: 500"))
    plan = compile(spec)
    rows = 24_000 if name.endswith(".npz") else 12_000
    x = np.zeros((rows, 500))  # 96 MB (npz) or 12 MB of CSV text; zeros compress and print fast
    hot = [0, rows // 2, rows - 7]
    x[hot] = np.random.default_rng(10).integers(-8, 8, size=(3, 500))
    path = tmp_path / name
    if name == "compressed.npz":
        np.savez_compressed(path, x=x)
    elif name == "stored.npz":
        np.savez(path, x=x)
    else:
        zero = ",".join(["0"] * 500)
        lines = [",".join(f"{v:g}" for v in x[i]) if i in hot else zero for i in range(rows)]
        path.write_text("\r".join(lines) + "\r")  # bare \r line endings, as old exports write
    small = tmp_path / f"small{path.suffix}"  # for the warm-up run: the same kind, streamed too
    if name.endswith(".npz"):
        np.savez(small, x=np.zeros((2500, 500)))
    else:
        small.write_text(("\n".join([",".join(["0"] * 500)] * 9000)) + "\n")
    out = tmp_path / "y.npy"
    res = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(spec), str(small), str(path), str(out)], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    before, after = map(int, res.stdout.split()[-2:])
    data = rows * 500 * 8
    assert after - before < 40 << 20, f"peak RSS grew by {(after - before) >> 20} MiB for {data >> 20} MiB of inputs"
    y = np.load(out)
    assert y.shape == (rows, plan.output_width)
    assert np.allclose(y[hot], plan.forward(x[hot]), rtol=1e-5, atol=1e-4)  # float32; other chunks, other rounding
    assert np.array_equal(y[1:4], np.repeat(plan.forward(x[1:2]), 3, axis=0))


@pytest.mark.parametrize("threads", [1, 64])  # rows converted and checked in the reading thread, or by the caller
def test_rows_stored_in_another_dtype_score_as_plan_forward_scores_them_in_memory(tmp_path, threads):
    # float64, float16 and integer shards (one integer too large for float64 to hold exactly, so
    # converting through float64 would round it twice) and a CSV; chunks straddle the shards. Each
    # value is converted once to the plan's float32, as plan.forward converts its file's array.
    plan = compile(SMALL)
    rng = np.random.default_rng(11)
    f64 = rng.normal(size=(130, 6)) * 1e3
    f64[5, 2] = 1e300  # finite when stored: not refused, though float32 holds it as infinity
    f16 = rng.normal(size=(70, 6)).astype(np.float16)
    ints = rng.integers(-2**62, 2**62, size=(90, 6))
    ints[3, 0] = 2**60 + 2**36 + 1  # to float32: 2**60 + 2**37; through float64 first: 2**60
    csv_rows = rng.integers(-64, 64, size=(40, 6)) / 8
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in/a.npy", f64)
    np.save(tmp_path / "in/b.npy", f16)
    np.savez(tmp_path / "in/c.npz", x=ints)
    np.savetxt(tmp_path / "in/d.csv", csv_rows, delimiter=",", fmt="%g")
    parts = [f64, f16, ints, csv_rows]
    source = stream.open_inputs(tmp_path / "in", 6)
    with np.errstate(over="ignore"):  # each shard's values converted as plan.forward converts that file's
        expect = [plan.forward(np.concatenate([p[max(a - s, 0):b - s].astype(np.float32)
                                               for p, s in zip(parts, source.starts) if a < s + len(p) and b > s]))
                  for a, b in stream.ranges(source.rows, 64)]
    assert np.float32(ints[3, 0]) != np.float32(np.float64(ints[3, 0]))
    with stream.blas_threads(min(threads, stream.current_blas_threads())):
        got = list(stream.read_ahead(source, stream.ranges(source.rows, 64), threads=threads, dtype=plan.dtype))
        assert all(x.dtype == np.float32 and x.flags.c_contiguous for _, x in got)
        assert np.array_equal(np.concatenate([plan.forward(x) for _, x in got]), np.concatenate(expect),
                              equal_nan=True)
        stream.score_to(plan, source, tmp_path / "y.npy", chunk_rows=64)
    assert np.array_equal(np.load(tmp_path / "y.npy"), np.concatenate(expect), equal_nan=True)
    f64[100, 4] = np.nan  # a value not finite when stored is refused, located in its shard
    np.save(tmp_path / "in/a.npy", f64)
    with pytest.raises(DataError, match=r"a\.npy: row 101: inputs must be finite numbers"):
        list(stream.read_ahead(source, stream.ranges(source.rows, 64), threads=threads, dtype=plan.dtype))


def test_ready_makes_rows_c_ordered_in_the_dtype_and_keeps_rows_that_already_are(tmp_path):
    x = np.random.default_rng(12).normal(size=(50, 6))
    np.save(tmp_path / "x.npy", x)
    source = stream.open_inputs(tmp_path / "x.npy", 6)
    for given in (np.asfortranarray(x), x[::-1], x.astype(np.float32)[:, :].T.copy().T):
        y = source.ready(given, 0, np.float32)
        assert y.dtype == np.float32 and y.flags.c_contiguous and np.array_equal(y, np.ascontiguousarray(given, np.float32))
    mapped = source.read(0, 50, check=False)  # the file's own float64 rows, mapped: used as they are
    assert source.ready(mapped, 0, np.float64) is mapped


def test_npy_outputs_written_in_any_order_are_complete_and_synced(tmp_path):
    # chunks arriving out of order (as a cluster's do) land at their rows; the file is renamed into
    # place only at commit, and a sink that fails midway leaves nothing behind
    plan = compile(SMALL)
    x = np.random.default_rng(13).normal(size=(1000, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    source = stream.open_inputs(tmp_path / "x.npy", 6)
    spans = stream.ranges(1000, 96)
    chunks = [(a, plan.forward(x[a:b])) for a, b in reversed(spans)]
    out = stream.score_to(plan, source, tmp_path / "y.npy", chunk_rows=96, chunks=iter(chunks))["output"]
    assert np.array_equal(np.load(out), np.concatenate([y for _, y in reversed(chunks)]))
    sink = stream.OutputSink(tmp_path / "z.npy", 1000, plan.output_names(), plan.dtype, 96)
    sink.write(0, chunks[-1][1])
    sink.abort()
    sink.abort()  # twice is harmless
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy", "y.npy"]
