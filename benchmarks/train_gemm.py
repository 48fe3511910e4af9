"""The matrix products of one training step alone: numpy's BLAS (OpenBLAS) against PyTorch's.

    python benchmarks/train_gemm.py --threads 1 2 [--rounds 7]

One step of the 784-256-128-10 MLP at batch 128 multiplies these shapes (forward, then the
weight gradients and the gradients passed back; the input layer's is never formed). Each
library runs in its own process (two BLAS thread pools in one process would spin against each
other), the two processes taking turns, round by round, each waiting on its standard input while
the other measures. Per round and shape: the mean of many calls into a preallocated output
(numpy ``matmul(..., out=)``, torch ``mm(..., out=)``), operands laid out as each trainer has
them. Times: process CPU time at 1 thread, wall time at 2. Medians over rounds.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

B = 128
# (label, rows, inner, cols, transposed operand: "a" = A is a transposed view, "b" = B is)
SHAPES = [
    ("forward x @ W0", B, 784, 256, ""),
    ("forward h1 @ W1", B, 256, 128, ""),
    ("forward h2 @ W2", B, 128, 10, ""),
    ("grad W2 = h2.T @ dz", 128, B, 10, "a"),
    ("back dz @ W2.T", B, 10, 128, "b"),
    ("grad W1 = h1.T @ dh2", 256, B, 128, "a"),
    ("back dh2 @ W1.T", B, 128, 256, "b"),
    ("grad W0 = x.T @ dh1", 784, B, 256, "a"),
]


def operands(rng, rows, inner, cols, transposed):
    a = rng.standard_normal((inner, rows) if "a" in transposed else (rows, inner)).astype(np.float32)
    b = rng.standard_normal((cols, inner) if "b" in transposed else (inner, cols)).astype(np.float32)
    return (a.T if "a" in transposed else a), (b.T if "b" in transposed else b)


def serve(lib, threads, calls=100):
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    fns = []
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
    for _, rows, inner, cols, tr in SHAPES:
        a, b = operands(rng, rows, inner, cols, tr)
        if lib == "numpy":
            out = np.empty((rows, cols), np.float32)
            fns.append(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))
        else:
            ta, tb = torch.from_numpy(a.base if a.base is not None else a), torch.from_numpy(b.base if b.base is not None else b)
            ta, tb = (ta.T if "a" in tr else ta), (tb.T if "b" in tr else tb)
            tout = torch.empty(rows, cols)
            fns.append(lambda ta=ta, tb=tb, tout=tout: torch.mm(ta, tb, out=tout))
    clock = time.process_time if threads == 1 else time.perf_counter
    with threadpool_limits(threads):
        for fn in fns:
            for _ in range(20):
                fn()
        print("ready", flush=True)
        while sys.stdin.readline():
            times = []
            for fn in fns:
                t = clock()
                for _ in range(calls):
                    fn()
                times.append((clock() - t) / calls)
            print(json.dumps(times), flush=True)


def measure(threads, rounds=7):
    """{lib: [median seconds per shape]} for numpy and torch at ``threads``."""
    procs = {lib: subprocess.Popen([sys.executable, __file__, "--serve", lib, "--threads", str(threads)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for lib in ("numpy", "torch")}
    try:
        for p in procs.values():
            assert p.stdout.readline().strip() == "ready"
        got = {lib: [] for lib in procs}
        for r in range(rounds):
            for lib in (list(procs) if r % 2 == 0 else list(procs)[::-1]):
                procs[lib].stdin.write("go\n")
                procs[lib].stdin.flush()
                got[lib].append(json.loads(procs[lib].stdout.readline()))
        return {lib: [statistics.median(r[i] for r in rounds_) for i in range(len(SHAPES))]
                for lib, rounds_ in got.items()}
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve, args.threads[0])
    for threads in args.threads:
        found = measure(threads, args.rounds)
        for (label, *_), a, b in zip(SHAPES, found["numpy"], found["torch"]):
            print(f"{threads}t {label:24s} numpy {a * 1e6:8.1f} us  torch {b * 1e6:8.1f} us  numpy/torch {a / b:5.2f}")
        a, b = sum(found["numpy"]), sum(found["torch"])
        print(f"{threads}t one step's products: numpy {a * 1e6:.0f} us, torch {b * 1e6:.0f} us, numpy/torch {a / b:.2f}; "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
