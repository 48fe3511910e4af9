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


@pytest.mark.parametrize("name, message", [
    ("compressed.npz", r"compressed\.npz: row 7322: inputs must be finite numbers"),
    ("rows.csv", r"rows\.csv: line 9002 \(row 9001\): not all numbers"),
    ("short.csv", r"short\.csv: line 4502 \(row 4501\): 19 values; the network takes 20"),
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
    with pytest.raises(DataError, match=r"b\.csv: line 251 \(row 251\): not all numbers"):
        stream.score_to(plan, stream.open_inputs(tmp_path / "in", 6), out, chunk_rows=50)
    assert np.array_equal(zarr.open_array(str(out), mode="r")[:], good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "y.zarr"]
    (tmp_path / "in/b.csv").unlink()
    np.save(tmp_path / "in/b.npy", x[:100] * 2)
    stream.score_to(plan, stream.open_inputs(tmp_path / "in", 6), out, chunk_rows=50)  # replaced as a whole
    assert np.array_equal(zarr.open_array(str(out), mode="r")[:], plan.forward(np.concatenate([x, x[:100] * 2])))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "y.zarr"]
