"""Streaming and Dask benchmarks: every figure a ratio against a baseline timed in the same run.

    python benchmarks/distributed.py               # 1M rows of the MNIST MLP (a 3.1 GB float32 file)
    python benchmarks/distributed.py --rows 200000 --rounds 3

1. streaming in this process (a memory-mapped .npy read chunk by chunk into an output .npy)
   vs ``plan.forward`` over the same rows held in memory (in batches of the same size);
2. a LocalCluster of 2 single-threaded workers (threads=1) vs one single-threaded process, on scoring and on
   a sweep of 4 trainings (the bundled 5,000-digit MNIST sample: Fashion-MNIST is not available
   offline here);
3. rows/s on the cluster as a function of the chunk size (on the first --chunk-size-rows rows).

Rounds are interleaved and medians reported with the 1-minute load average, since the machine
may be shared.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder comes first on sys.path, and this file would hide the `distributed` package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from nngraph import distributed as D, stream  # noqa: E402
from nngraph.compile import compile  # noqa: E402

MLP = ROOT / "specs" / "mnist_mlp.yaml"


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk-rows", type=int, default=16_384)
    ap.add_argument("--sweep-epochs", type=int, default=2)
    ap.add_argument("--chunk-size-rows", type=int, default=200_000, help="rows scored per chunk size in part 3")
    args = ap.parse_args()
    out = {"load_before": os.getloadavg()[0], "rows": args.rows, "cpus": os.cpu_count()}
    plan = compile(MLP)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_file(tmp / "x.npy", args.rows)
        source = stream.open_inputs(tmp / "x.npy", 784)
        x = np.load(tmp / "x.npy")  # the same rows, in memory
        ch = args.chunk_rows

        # 1. streaming vs in memory, this process, 1 and 2 BLAS threads
        for threads in (1, 2):
            s_t, m_t = [], []
            with threadpool_limits(threads):
                for _ in range(args.rounds):
                    s_t.append(timed(lambda: stream.score_to(plan, source, tmp / "y.npy", chunk_rows=ch)))
                    m_t.append(timed(lambda: [plan.forward(x[a:b]) for a, b in stream.ranges(len(x), ch)]))
            out[f"stream_vs_memory_{threads}t"] = {"load": os.getloadavg()[0],
                "stream_rows_per_s": args.rows / statistics.median(s_t),
                "memory_rows_per_s": args.rows / statistics.median(m_t),
                "ratio": statistics.median(m_t) / statistics.median(s_t)}
            print(json.dumps({f"stream_vs_memory_{threads}t": out[f"stream_vs_memory_{threads}t"]}), flush=True)
        del x

        with D.connect("local:2") as client:
            # 2a. scoring: 2 workers x 1 thread vs one process with 1 thread
            c_t, o_t = [], []
            for _ in range(args.rounds):
                c_t.append(timed(lambda: D.score_to(plan, source, tmp / "y.npy", client, chunk_rows=ch, threads=1)))
                with threadpool_limits(1):
                    o_t.append(timed(lambda: stream.score_to(plan, source, tmp / "y.npy", chunk_rows=ch)))
            speedup = statistics.median(o_t) / statistics.median(c_t)
            out["score_cluster_vs_one_process"] = {"load": os.getloadavg()[0],
                                                   "cluster_rows_per_s": args.rows / statistics.median(c_t),
                                                   "one_rows_per_s": args.rows / statistics.median(o_t),
                                                   "speedup": speedup, "per_worker_efficiency": speedup / 2}
            print(json.dumps({"score_cluster_vs_one_process": out["score_cluster_vs_one_process"]}), flush=True)

            # 3. chunk size, on the first rows of the file
            import dataclasses

            n = min(args.rows, args.chunk_size_rows)
            part = stream.InputSource((dataclasses.replace(source.shards[0], rows=n),), 784, (0,))
            sizes = {}
            for rows in (256, 1024, 4096, 16_384, 65_536):
                t = [timed(lambda: D.score_to(plan, part, tmp / "y.npy", client, chunk_rows=rows, threads=1))
                     for _ in range(max(1, args.rounds - 1))]
                sizes[rows] = n / statistics.median(t)
            out["cluster_rows_per_s_by_chunk"] = dict(sizes, load=os.getloadavg()[0])
            print(json.dumps({"cluster_rows_per_s_by_chunk": sizes}), flush=True)

            # 2b. a sweep of 4 trainings
            grid = {"train.optimizer.learning_rate": ["0.0005", "0.001", "0.002", "0.004"],
                    "train.epochs": [str(args.sweep_epochs)]}
            sc, so = [], []
            for _ in range(max(1, args.rounds - 1)):
                sc.append(timed(lambda: D.sweep(MLP, grid, client, threads=1)))
                with threadpool_limits(1):
                    so.append(timed(lambda: D.sweep(MLP, grid)))
            speedup = statistics.median(so) / statistics.median(sc)
            out["sweep_cluster_vs_one_process"] = {"load": os.getloadavg()[0], "cluster_s": statistics.median(sc),
                                                   "one_s": statistics.median(so),
                                                   "speedup": speedup, "per_worker_efficiency": speedup / 2,
                                                   "data": "mnist 5,000-digit sample (4,000 to train)"}
            print(json.dumps({"sweep_cluster_vs_one_process": out["sweep_cluster_vs_one_process"]}), flush=True)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
