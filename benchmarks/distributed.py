"""Streaming and Dask benchmarks: every figure a ratio against a baseline timed in the same run.

    python benchmarks/distributed.py               # 1M rows of the MNIST MLP (a 3.1 GB float32 file)
    python benchmarks/distributed.py --rows 200000 --rounds 3
    python benchmarks/distributed.py --skip score,chunks,sweep   # streaming only (part 1)

1. streaming in this process (a .npy read chunk by chunk into an output .npy) vs ``plan.forward``
   over the same rows held in memory (in batches of the same size), 1 and 2 BLAS threads;
2. a LocalCluster of 2 single-threaded workers (threads=1) vs one single-threaded process, scoring,
   with the CPU time of every process (the client's, which also runs the scheduler and the
   nannies, and each worker's) and, for scale, the same forward work split over 2 plain
   processes without Dask (what 2 processes can gain on this machine at this moment);
3. rows/s on the cluster as a function of the chunk size (on the first --chunk-size-rows rows);
4. a sweep of 4 trainings of examples/fashion_mnist_mlp.yaml on full Fashion-MNIST (60,000
   images; --sweep-epochs each), the same 4 one after another in one 1-thread process vs the
   2x1 cluster, with the CPU time of every process, and for scale the same trials split over 2
   plain processes without Dask (each loading the data once, as a worker does) vs 1.

Rounds are interleaved and medians reported with the 1-minute load average, since the machine
may be shared; CPU times (user + system, from the kernel's per-process counters) say where the
work went whatever the load.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder comes first on sys.path, and this file would hide the `distributed` package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from nngraph import distributed as D, stream  # noqa: E402
from nngraph.compile import compile  # noqa: E402

MLP = ROOT / "specs" / "mnist_mlp.yaml"
FASHION = ROOT / "examples" / "fashion_mnist_mlp.yaml"


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def make_file(path, rows, width=784, block=50_000):
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, width))
    rng = np.random.default_rng(0)
    for a, b in stream.ranges(rows, block):
        x[a:b] = rng.random((b - a, width), dtype=np.float32)
    x.flush()


def cpu_seconds(procs) -> dict:
    return {k: sum(p.cpu_times()[:2]) for k, p in procs.items()}


def profiled(fn, procs):
    """(wall seconds, {process: CPU seconds}) of ``fn()``."""
    c0, t0 = cpu_seconds(procs), time.perf_counter()
    fn()
    wall, c1 = time.perf_counter() - t0, cpu_seconds(procs)
    return wall, {k: c1[k] - c0[k] for k in procs}


def breakdown(walls, cpus, one_walls, one_cpus, rows=None):
    """Medians, and the best wall ratio the measured CPU time allows on this machine's cores:
    one process's CPU time over the cluster's, times the cores (if every process were packed
    perfectly onto them)."""
    med = {k: statistics.median(c[k] for c in cpus) for k in cpus[0]}
    total, one_cpu = sum(med.values()), statistics.median(one_cpus)
    out = {"load": os.getloadavg()[0], "cluster_s": statistics.median(walls), "one_s": statistics.median(one_walls),
           "speedup": statistics.median(one_walls) / statistics.median(walls),
           "speedup_range": [min(one_walls) / max(walls), max(one_walls) / min(walls)],
           "cpu_s": {k: round(v, 3) for k, v in med.items()}, "cpu_s_cluster_total": total,
           "cpu_s_one_process": one_cpu, "one_process_cpu_per_wall": one_cpu / statistics.median(one_walls),
           "cpu_bound_speedup": min(2.0, os.cpu_count()) * one_cpu / total}
    if rows:
        out.update(cluster_rows_per_s=rows / out["cluster_s"], one_rows_per_s=rows / out["one_s"])
    return out


def _forward_part(path, spans, ready, go, done):
    with threadpool_limits(1):
        plan = compile(MLP)
        source = stream.open_inputs(path, 784)
        ready.put(1)
        go.wait()  # start together
        for a, b in spans:
            plan.forward(source.read(a, b))
        done.put(1)


def _timed_processes(target, args_per_process):
    """Wall seconds for plain processes (no Dask), one per ``args`` tuple, from the moment all of them
    are ready (their imports and loading done) until the last one is done."""
    ctx = multiprocessing.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, ready, go, done)) for args in args_per_process]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    t = time.perf_counter()
    go.set()
    for _ in procs:
        done.get()
    wall = time.perf_counter() - t
    for p in procs:
        p.join()
    return wall


def plain_processes(path, spans, n):
    """Wall seconds for ``n`` plain processes (no Dask) to read and score ``spans`` between them."""
    return _timed_processes(_forward_part, [(path, spans[i::n]) for i in range(n)])


def _sweep_part(combos, ready, go, done):
    from nngraph import load

    with threadpool_limits(1):
        spec = load(FASHION)
        data = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
        ready.put(1)
        go.wait()
        for c in combos:  # the trials of one process share the data it loaded, as on a worker
            D.run_trial(data, str(spec.base_dir), c, "float32", 1, "plain")
        done.put(1)


def plain_sweep(grid, n):
    """Wall seconds for ``n`` plain processes (no Dask) to run the trials of ``grid`` between them."""
    combos = D.trials(grid)
    return _timed_processes(_sweep_part, [(combos[i::n],) for i in range(n)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk-rows", type=int, default=16_384)
    ap.add_argument("--sweep-epochs", type=int, default=1)
    ap.add_argument("--chunk-size-rows", type=int, default=200_000, help="rows scored per chunk size in part 3")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: stream,score,chunks,sweep (without "
                    "score, chunks and sweep no cluster is started)")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    out = {"load_before": os.getloadavg()[0], "rows": args.rows, "cpus": os.cpu_count()}

    def report(key, value):
        out[key] = value
        print(json.dumps({key: value}), flush=True)

    plan = compile(MLP)
    me = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_file(tmp / "x.npy", args.rows)
        source = stream.open_inputs(tmp / "x.npy", 784)
        ch = args.chunk_rows
        spans = stream.ranges(source.rows, ch)

        # 1. streaming vs in memory, this process, 1 and 2 BLAS threads
        if "stream" not in skip:
            x = np.load(tmp / "x.npy")  # the same rows, in memory

            def in_stream():
                stream.score_to(plan, source, tmp / "y.npy", chunk_rows=ch)

            def in_memory():  # the same batches; the outputs are dropped (the stream writes them)
                for a, b in spans:
                    plan.forward(x[a:b])

            for threads in (1, 2):
                t, c = {in_stream: [], in_memory: []}, {in_stream: [], in_memory: []}
                with threadpool_limits(threads):
                    plan.forward(x[:ch])  # untimed: BLAS's threads started for this count
                    for r in range(args.rounds):  # the order alternates: neither always follows the other
                        for fn in (in_stream, in_memory) if r % 2 == 0 else (in_memory, in_stream):
                            cpu = time.process_time()
                            t[fn].append(timed(fn))
                            c[fn].append(time.process_time() - cpu)
                s_t, m_t, s_c, m_c = t[in_stream], t[in_memory], c[in_stream], c[in_memory]
                report(f"stream_vs_memory_{threads}t", {
                    "load": os.getloadavg()[0], "stream_rows_per_s": args.rows / statistics.median(s_t),
                    "memory_rows_per_s": args.rows / statistics.median(m_t),
                    "ratio": statistics.median(m_t) / statistics.median(s_t),
                    "ratio_range": [min(m_t) / max(s_t), max(m_t) / min(s_t)],
                    "stream_cpu_s": statistics.median(s_c), "memory_cpu_s": statistics.median(m_c)})
            del x

        if {"score", "chunks", "sweep"} <= skip:
            skip.add("cluster")
        with contextlib.nullcontext() if "cluster" in skip else D.connect("local:2") as client:
            if client is None:
                out["load_after"] = os.getloadavg()[0]
                print(json.dumps(out, indent=1))
                return
            workers = client.run(os.getpid)
            procs = {"client+scheduler+nannies": me}
            procs.update({f"worker{i}": psutil.Process(pid) for i, pid in enumerate(sorted(workers.values()))})
            out["worker_blas_threads"] = client.run(stream.current_blas_threads)
            D.score_to(plan, stream.InputSource((source.shards[0],), 784, (0,)), tmp / "y.npy", client,
                       chunk_rows=ch, threads=1)  # warm: the plan compiled on each worker

            # 2. scoring: 2 workers x 1 thread vs one process with 1 thread; 2 plain processes for scale
            if "score" not in skip:
                c_t, c_c, o_t, o_c, p1, p2 = [], [], [], [], [], []
                for _ in range(args.rounds):
                    w, c = profiled(lambda: D.score_to(plan, source, tmp / "y.npy", client, chunk_rows=ch, threads=1),
                                    procs)
                    c_t.append(w)
                    c_c.append(c)
                    with threadpool_limits(1):
                        w, c = profiled(lambda: stream.score_to(plan, source, tmp / "y.npy", chunk_rows=ch),
                                        {"one": me})
                    o_t.append(w)
                    o_c.append(c["one"])
                    p1.append(plain_processes(tmp / "x.npy", spans, 1))
                    p2.append(plain_processes(tmp / "x.npy", spans, 2))
                res = breakdown(c_t, c_c, o_t, o_c, args.rows)
                res["plain_2_processes_vs_1"] = statistics.median(p1) / statistics.median(p2)
                # one process with one thread in all (reading, checking and computing each chunk in
                # turn, no read-ahead thread), as a worker does; it writes no output
                res["speedup_vs_plain_1_process"] = statistics.median(p1) / statistics.median(c_t)
                res["speedup_vs_plain_1_process_range"] = [min(p1) / max(c_t), max(p1) / min(c_t)]
                report("score_cluster_vs_one_process", res)

            # 3. chunk size, on the first rows of the file
            if "chunks" not in skip:
                import dataclasses

                n = min(args.rows, args.chunk_size_rows)
                part = stream.InputSource((dataclasses.replace(source.shards[0], rows=n),), 784, (0,))
                sizes = {}
                for rows in (256, 1024, 4096, 16_384, 65_536):
                    t = [timed(lambda: D.score_to(plan, part, tmp / "y.npy", client, chunk_rows=rows, threads=1))
                         for _ in range(max(1, args.rounds - 1))]
                    sizes[rows] = n / statistics.median(t)
                report("cluster_rows_per_s_by_chunk", dict(sizes, load=os.getloadavg()[0]))

            # 4. a sweep of 4 Fashion-MNIST trainings
            if "sweep" not in skip:
                grid = {"train.optimizer.learning_rate": ["0.0005", "0.001", "0.002", "0.004"],
                        "train.epochs": [str(args.sweep_epochs)]}
                sc, scc, so, soc, q1, q2 = [], [], [], [], [], []
                for _ in range(max(1, args.rounds - 1)):
                    w, c = profiled(lambda: D.sweep(FASHION, grid, client, threads=1), procs)
                    sc.append(w)
                    scc.append(c)
                    with threadpool_limits(1):
                        w, c = profiled(lambda: D.sweep(FASHION, grid), {"one": me})
                    so.append(w)
                    soc.append(c["one"])
                    q1.append(plain_sweep(grid, 1))
                    q2.append(plain_sweep(grid, 2))
                res = breakdown(sc, scc, so, soc)
                res["plain_2_processes_vs_1"] = statistics.median(q1) / statistics.median(q2)
                res["plain_2_processes_vs_1_range"] = [min(q1) / max(q2), max(q1) / min(q2)]
                res["data"] = f"Fashion-MNIST, 60,000 training images, {args.sweep_epochs} epoch(s) per trial"
                report("sweep_cluster_vs_one_process", res)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
