"""Streaming scoring and Dask: a real LocalCluster (2 worker processes, 1 thread each, 127.0.0.1),
started once for this module and shared by every cluster test (the worker-kill test comes last,
so nobody waits for the killed worker's restart). Results must equal the in-process ones bit for
bit; faults (a killed worker, a silent scheduler, bad shards) must end in a complete output or a
located error with nothing under the output's name."""
import os
import signal
import socket
import time
from dataclasses import dataclass

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from helpers import SMALL_SCORER, spec_text
from nngraph import DataError, distributed as D, stream
from nngraph.compile import compile

distributed = pytest.importorskip("distributed")  # the test install includes nngraph[distributed]

WIDE = spec_text("""
    nngraph: 1
    name: wide
    nodes:
      - {name: x, role: input, size: 500}
      - {name: h, size: 16, activation: tanh}
      - {name: y, role: output, size: 3, activation: softmax}
    edges:
      - {from: x, to: h, init: he_normal}
      - {from: h, to: y, init: he_normal}
    train: {loss: mse, seed: 3}
""")
SMALL = SMALL_SCORER
XOR = spec_text("""
    nngraph: 1
    name: xor
    nodes:
      - {name: x, role: input, size: 2}
      - {name: hidden, size: 4, activation: tanh}
      - {name: out, role: output, activation: sigmoid}
    edges:
      - {from: x, to: hidden}
      - {from: hidden, to: out}
    data: {source: xor}
    train: {loss: binary_cross_entropy, optimizer: {name: adam, learning_rate: 0.05}, batch_size: 4, epochs: 20, seed: 1}
""")
# Each worker's memory limit; the out-of-core test scores 3x this. A worker idles at ~80 MiB, and
# holds what the other tests leave in it.
LIMIT = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def client():
    import dask

    # no pausing near the limit (a paused worker would hang the test, not fail it); the nanny
    # still kills a worker that passes 95% of it
    with dask.config.set({"distributed.worker.memory.pause": False}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None, memory_limit=LIMIT)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def reference(plan, x, chunk_rows, threads=1):
    """In-process, with as many BLAS threads as the workers are told to use, same chunks."""
    with threadpool_limits(threads):
        return np.concatenate([plan.forward(x[a:b]) for a, b in stream.ranges(len(x), chunk_rows)])


def peak_rss():
    """This process's peak resident memory in bytes (VmHWM: unlike ru_maxrss, not inherited from the
    process that forked it)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def test_out_of_core_scoring_stays_under_the_worker_memory_limit(client, tmp_path):
    # first in the module: the workers' peak RSS is measured since they started
    plan = compile(WIDE)
    rows = 3 * LIMIT // (500 * 8)
    x = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float64, shape=(rows, 500))
    # the file is sparse (zeros) but for these chunks (checked below with one more, of zeros)
    spots = (0, rows // 2 // 4000 * 4000, (rows - 4000) // 4000 * 4000)
    for k, a in enumerate(spots):
        x[a:a + 4000] = np.random.default_rng(k).normal(size=(4000, 500))
    x.flush()
    del x
    source = stream.open_inputs(tmp_path / "big.npy", 500)
    D.score_to(plan, source, tmp_path / "y.npy", client, chunk_rows=4000, threads=1)
    peak = client.run(peak_rss)
    assert max(peak.values()) < LIMIT, peak
    print(f"peak worker RSS {max(peak.values()) / 2**20:.0f} MiB under a {LIMIT / 2**20:.0f} MiB limit")
    y = np.load(tmp_path / "y.npy", mmap_mode="r")
    x = np.load(tmp_path / "big.npy", mmap_mode="r")
    for a in spots + (rows // 4 // 4000 * 4000,):
        assert np.array_equal(y[a:a + 4000], reference(plan, np.asarray(x[a:a + 4000]), 4000))


def test_score_on_cluster_equals_in_process_bit_for_bit(client, tmp_path):
    plan = compile(WIDE)  # wide enough that OpenBLAS rounds differently with 1 and 2 threads
    x = np.random.default_rng(1).normal(size=(1001, 500))
    expect = {t: reference(plan, x, 250, t) for t in (1, 2)}
    for t in (1, 2):  # the workers use the BLAS threads they are told to
        assert np.array_equal(D.score(plan, x, client, chunk_rows=250, threads=t), expect[t])
    with threadpool_limits(1):  # by default, as many as this process uses
        assert np.array_equal(D.score(plan, x, client, chunk_rows=250), expect[1])
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert np.array_equal(D.score(plan, mm, client, chunk_rows=250, threads=1), expect[1])
    import dask.array as da

    lazy = D.score(plan, da.from_array(x, chunks=(250, 500)), threads=2)
    assert lazy.shape == (1001, 3) and lazy.dtype == plan.dtype
    assert np.array_equal(client.compute(lazy).result(), expect[2])
    assert np.array_equal(D.score(plan, x, chunk_rows=250, threads=1), expect[1])  # in this process


def test_shards_stream_into_npy_csv_and_zarr_alike(client, tmp_path):
    plan = compile(SMALL)
    x = np.random.default_rng(2).normal(size=(2500, 6))
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in/a.npy", x[:1000].astype(np.float32))
    np.savez(tmp_path / "in/b.npz", x=x[1000:2000])
    np.savetxt(tmp_path / "in/c.csv", x[2000:], delimiter=",", header=",".join(plan.input_names()), comments="")
    source = stream.open_inputs(tmp_path / "in", 6)
    assert source.rows == 2500 and [s.kind for s in source.shards] == ["npy", "npz", "csv"]
    xs = np.concatenate([x[:1000].astype(np.float32).astype(np.float64), x[1000:2000],
                         np.loadtxt(tmp_path / "in/c.csv", delimiter=",", skiprows=1)])
    expect = reference(plan, xs, 700)
    D.score_to(plan, source, tmp_path / "y.npy", client, chunk_rows=700, threads=1)
    assert np.array_equal(np.load(tmp_path / "y.npy"), expect)
    import zarr

    D.score_to(plan, source, tmp_path / "y.zarr", client, chunk_rows=700, threads=1)
    assert np.array_equal(zarr.open_array(str(tmp_path / "y.zarr"), mode="r")[:], expect)
    zarr.save_array(str(tmp_path / "x.zarr"), x)  # a zarr array in, CSV out, in this process
    with threadpool_limits(1):
        stream.score_to(plan, stream.open_inputs(tmp_path / "x.zarr", 6), tmp_path / "y.csv", chunk_rows=700)
    got = np.loadtxt(tmp_path / "y.csv", delimiter=",", skiprows=1)
    assert np.array_equal(got, reference(plan, x, 700))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "x.zarr", "y.csv", "y.npy", "y.zarr"]  # no temp left


def test_a_scheduler_that_does_not_answer_is_a_clear_error_in_time():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(D.ClusterError, match=rf"no Dask scheduler answered at tcp://127.0.0.1:{port} within 0.5 s"):
        with D.connect(f"tcp://127.0.0.1:{port}", timeout=0.5):
            pass
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize("bad, message", [
    ("wide.npy", r"b\.npy: 7 values per row; the network takes 6"),
    ("truncated.npy", r"b\.npy: truncated: the header declares shape \(50, 6\)"),
    ("nan.npy", r"b\.npy: row 18: inputs must be finite numbers"),
    ("text.csv", r"b\.csv:4:5: row 3, column 3: 'x' is not a number"),
    ("garbage.npz", r"b\.npz: not a readable \.npz file"),
])
def test_a_bad_shard_is_located_and_nothing_is_written(client, tmp_path, bad, message):
    plan = compile(SMALL)
    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "a.npy", np.zeros((30, 6)))
    kind, ext = bad.split(".")
    target = folder / f"b.{ext}"
    if kind == "wide":
        np.save(target, np.zeros((5, 7)))
    elif kind == "truncated":
        np.save(target, np.zeros((50, 6)))
        target.write_bytes(target.read_bytes()[:-100])
    elif kind == "nan":
        x = np.zeros((50, 6))
        x[17, 3] = np.nan
        np.save(target, x)
    elif kind == "text":
        target.write_text("a,b,c,d,e,f\n1,2,3,4,5,6\n1,2,3,4,5,6\n1,2,x,4,5,6\n")
    else:
        target.write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out" / "y.npy"
    out.parent.mkdir()  # outputs go to an existing folder (a missing one is refused, never created)
    with pytest.raises(DataError, match=message):
        D.score_to(plan, stream.open_inputs(folder, 6), out, client, chunk_rows=10)
    assert list(out.parent.iterdir()) == []


def test_cli_streams_a_folder_and_refuses_a_bad_shard_without_output(tmp_path, write_spec):
    from click.testing import CliRunner

    from nngraph.cli import main

    spec = write_spec(SMALL)
    x = np.random.default_rng(4).normal(size=(300, 6))
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in/a.npy", x[:100])
    np.save(tmp_path / "in/b.npy", x[100:])
    r = CliRunner().invoke(main, ["run", str(spec), "--inputs", str(tmp_path / "in"), "--output",
                                  str(tmp_path / "y.npy"), "--json"])
    assert r.exit_code == 1 and "refusing to run on untrained weights" in r.output  # as the in-memory run
    r = CliRunner().invoke(main, ["run", str(spec), "--untrained", "--inputs", str(tmp_path / "in"), "--output",
                                  str(tmp_path / "y.npy"), "--json"])
    assert r.exit_code == 0, r.output
    assert np.array_equal(np.load(tmp_path / "y.npy"), compile(spec).forward(x))
    r = CliRunner().invoke(main, ["run", str(spec), "--untrained", "--inputs", str(tmp_path / "in/a.npy"), "--output",
                                  str(tmp_path / "y1.npy"), "--threads", "1", "--json"])
    assert r.exit_code == 0, r.output
    with threadpool_limits(1):
        assert np.array_equal(np.load(tmp_path / "y1.npy"), compile(spec).forward(x[:100]))
    np.save(tmp_path / "in/c.npy", np.zeros((3, 5)))
    r = CliRunner().invoke(main, ["run", str(spec), "--untrained", "--inputs", str(tmp_path / "in"), "--output",
                                  str(tmp_path / "z.npy")])
    assert r.exit_code == 1 and "c.npy: 5 values per row; the network takes 6" in r.output
    assert not (tmp_path / "z.npy").exists()
    r = CliRunner().invoke(main, ["run", str(spec), "--untrained", "--inputs", str(tmp_path / "in/a.npy"),
                                  "--cluster", "local:x",
                                  "--output", str(tmp_path / "z.npy")])
    assert r.exit_code == 1 and "write local or local:N" in r.output


def output_sum(plan):
    """A population's fitness: module level, so workers can import it."""
    return float(plan.forward(np.linspace(-1, 1, 12).reshape(2, 6)).sum())


def test_map_networks_on_cluster_equals_in_process(client):
    population = [SMALL.replace("seed: 1", f"seed: {k}") for k in range(6)]
    here = D.map_networks(output_sum, population)
    assert len(set(here)) == 6  # different networks, different fitness
    assert D.map_networks(output_sum, population, client) == here
    assert D.map_networks(output_sum, population, client, threads=1) == D.map_networks(output_sum, population,
                                                                                         threads=1)


def blas_threads_seen(plan):
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_each_task_runs_with_the_blas_threads_it_is_given(client):
    # whatever the worker's own setting (Dask's nannies start workers with 1 BLAS thread), in every
    # BLAS the worker has loaded (numpy's, and scipy's own once an earlier test imported scipy there)
    plan = compile(SMALL)
    for t in (2, 1):
        assert D.map_networks(blas_threads_seen, [plan] * 2, client, threads=t) == [{t}, {t}]
    with threadpool_limits(2):  # by default, as many as this process uses
        assert D.map_networks(blas_threads_seen, [plan], client) == [{2}]


def test_a_local_cluster_that_would_oversubscribe_the_cores_says_how_not_to(monkeypatch):
    from nngraph import stream as S

    monkeypatch.setattr(S, "_cores", lambda: 4)
    monkeypatch.setattr(D, "current_blas_threads", lambda: 4)  # this process's BLAS threads
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    note = D.oversubscribed("local:2")
    assert note.startswith("2 workers x 4 BLAS threads each on 4 cores: --threads 2 computes faster")
    assert D.oversubscribed("local", threads=3).startswith("2 workers x 3 BLAS threads")
    assert D.oversubscribed("local:3", threads=1) is None
    assert D.oversubscribed("local:2", threads=2) is None
    assert D.oversubscribed("tcp://127.0.0.1:8786") is None  # its cores are not known here
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "local:8")
    assert D.oversubscribed(None, threads=1) == ("8 workers on 4 cores: each waits for a core; local:4 computes "
                                                 "as fast with less memory")  # not the --threads already given
    assert "8 workers x 2 BLAS threads each on 4 cores: --threads 1" in D.oversubscribed(None, threads=2)
    for refused in ("local:99999", "local:0", "local:²", "local:١"):  # the cluster's own error says why
        assert D.oversubscribed(refused) is None


def test_sweep_on_cluster_equals_in_process_and_reports_a_failed_trial(client, tmp_path):
    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR)
    grid = D.parse_grid(["train.optimizer.learning_rate=0.01,0.1", "train.loss=binary_cross_entropy,cross_entropy"])
    seen = []
    remote = D.sweep(spec, grid, client, on_result=seen.append, threads=1)
    assert sorted(r["trial"] for r in seen) == [0, 1, 2, 3]
    with threadpool_limits(1):
        here = D.sweep(spec, grid)
    for a, b in zip(remote, here):
        assert a["overrides"] == b["overrides"]
        assert ("error" in a) == ("error" in b)
        if "error" not in a:
            assert a["loss"] == b["loss"]
            assert all(np.array_equal(a["parameters"][k], b["parameters"][k]) for k in a["parameters"])
    failed = [r for r in remote if "error" in r]
    assert failed and all(r["overrides"]["train.loss"] == "cross_entropy" for r in failed)
    assert D.best(remote)["overrides"]["train.loss"] == "binary_cross_entropy"


def test_the_trials_of_a_sweep_load_their_data_once_per_process(tmp_path, monkeypatch):
    # read and decompressed once per process for the whole sweep, read-only, and the same results
    import nngraph.data
    from nngraph import load

    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR)
    grid = D.parse_grid(["train.optimizer.learning_rate=0.01,0.1,0.2"])
    loads, load_data = [], nngraph.data.load_data
    monkeypatch.setattr(nngraph.data, "load_data", lambda *a, **k: loads.append(1) or load_data(*a, **k))
    shared = D.sweep(spec, grid, threads=1)
    assert len(loads) == 1 and not D._DATA  # forgotten once the sweep is done
    data = spec.read_text()
    alone = [D.run_trial(load(spec).model_dump(by_alias=True, exclude_none=True, mode="json"), str(tmp_path),
                         r["overrides"], threads=1) for r in shared]
    assert len(loads) == 4 and spec.read_text() == data
    for a, b in zip(shared, alone):
        assert "error" not in a and a["loss"] == b["loss"]
        assert all(np.array_equal(a["parameters"][k], b["parameters"][k]) for k in a["parameters"])
    grid = D.parse_grid(["data.samples=2,3", "train.epochs=1,2"])  # the data differs: loaded again
    D.sweep(spec, grid, threads=1)
    assert len(loads) == 6


@dataclass(frozen=True)
class GatedSource(stream.InputSource):
    """Rows after the first chunk wait for a cluster-wide event, so that a worker can be killed while
    it holds chunks (running and queued), with no sleeping."""

    gate: str = ""

    def read(self, start, stop, check=True):
        if start > 0:  # held until the kill; a short backstop bound (with 60 s, the wait was seen to last
            distributed.Event(self.gate).wait(timeout=8)  # all 60 s, 40% of the suite, though the event was set)
        return super().read(start, stop, check)


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(client, tmp_path):
    # last of the cluster tests: the nanny restarts the killed worker while the others run
    plan = compile(SMALL)
    x = np.random.default_rng(3).normal(size=(2000, 6))
    np.save(tmp_path / "x.npy", x)
    src = stream.open_inputs(tmp_path / "x.npy", 6)
    gated = GatedSource(src.shards, src.width, src.starts, gate=f"go-{os.getpid()}-{id(tmp_path)}")
    pids = client.run(os.getpid)
    killed = []

    def progress(done, total):
        if not killed:  # the first chunk is in; every other chunk is held at the gate
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            distributed.Event(gated.gate, client=client).set()

    D.score_to(plan, gated, tmp_path / "y.npy", client, chunk_rows=100, progress=progress, threads=1)
    assert killed
    assert np.array_equal(np.load(tmp_path / "y.npy"), reference(plan, x, 100))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy", "y.npy"]


def test_sweep_cli_writes_the_best_parameters_atomically(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR)
    r = CliRunner().invoke(main, ["sweep", str(spec), "--grid", "train.optimizer.learning_rate=0.001,0.1",
                                  "--grid", "train.epochs=2,30", "--random", "3", "--json", "--csv",
                                  str(tmp_path / "t.csv")])
    assert r.exit_code == 0, r.output
    import json

    out = json.loads(r.output)
    assert len(out["trials"]) == 3 and out["parameters"].endswith("xor.best.params.npz")
    best = min(out["trials"], key=lambda t: t["loss"])
    assert out["best"] == best["trial"]
    plan = compile(spec)
    plan.load(tmp_path / "xor.best.params.npz")  # checked against the spec's shapes
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "xor.best.params.npz", "xor.yaml"]


def test_sweep_prints_a_command_that_runs_the_best_network(tmp_path):
    import shlex

    from click.testing import CliRunner

    from nngraph.cli import main

    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR)
    r = CliRunner().invoke(main, ["sweep", str(spec), "--grid", "nodes.1.activation=tanh,sigmoid",
                                  "--grid", "train.epochs=2,3"])
    assert r.exit_code == 0, r.output
    lines = r.stderr.splitlines()
    at = lines.index(f"its parameters written to {tmp_path / 'xor.best.params.npz'}; use them with:")
    command = shlex.split(lines[at + 1])
    assert command[:2] == ["nngraph", "run"] and "parameters=xor.best.params.npz" in command
    assert "train.epochs" not in lines[at + 1] and "nodes.1.activation=" in lines[at + 1]  # what runs, only
    ran = CliRunner().invoke(main, command[1:])
    assert ran.exit_code == 0, ran.output
    assert "parameters from xor.best.params.npz" in ran.stderr and "test accuracy:" in ran.stdout


def test_sweep_table_headers_are_the_keys_shortest_distinct_tails():
    from nngraph.cli.distributed_cmds import short_headers

    assert short_headers(["train.optimizer.learning_rate", "train.optimizer.name", "train.epochs"]) == [
        "learning_rate", "name", "epochs"]
    assert short_headers(["train.optimizer.name", "nodes.1.name", "name"]) == ["optimizer.name", "1.name", "name"]
    assert short_headers(["nodes.1.activation", "nodes.2.activation"]) == ["1.activation", "2.activation"]


def test_sweep_table_names_columns_by_their_short_keys(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR)
    r = CliRunner().invoke(main, ["sweep", str(spec), "--grid", "train.optimizer.learning_rate=0.001,0.1",
                                  "--grid", "train.epochs=2"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    table = r.output[:r.output.index("learning_rate = train.optimizer.learning_rate; epochs = train.epochs")]
    assert "train" not in table and "imizer" not in table  # the keys' heads are in the caption, not the columns


def test_population_example_scores_every_genome(capsys):
    import importlib.util

    from helpers import ROOT

    spec = importlib.util.spec_from_file_location("population_example", ROOT / "examples" / "population.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    scores = example.main(size=12, seed=5)
    rng = np.random.default_rng(5)
    population = [example.genome(rng, int(rng.integers(1, 6))) for _ in range(12)]
    assert scores == [example.fitness(compile(g)) for g in population]
    assert "12 networks evaluated" in capsys.readouterr().out


def test_without_dask_the_commands_say_what_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(D.ClusterError, match=r'pip install "nngraph\[distributed\]"'):
        with D.connect("local:2"):
            pass


def test_import_nngraph_and_the_cli_stay_free_of_dask():
    import subprocess
    import sys

    code = ("import sys, nngraph, nngraph.stream, nngraph.distributed, nngraph.cli; "
            "print(sorted(m for m in ('dask', 'distributed', 'zarr') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_chunk_stream_finalised_after_its_client_closed_is_quiet(client, tmp_path):
    # Ctrl-C while scoring on a cluster: the client closes first, and the chunk generator is
    # finalised later; its clean-up must not raise ('IOLoop is closed', printed as 'Exception
    # ignored in: <generator object _chunks>' after the interrupt message)
    plan = compile(WIDE)
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(400, 500)))
    own = distributed.Client(client.cluster)
    chunks = D._chunks(plan, stream.open_inputs(tmp_path / "x.npy", 500), own, 50, 1)
    first, y = next(chunks)
    assert y.shape == (50, plan.output_width)
    own.close()
    chunks.close()  # raised RuntimeError before
