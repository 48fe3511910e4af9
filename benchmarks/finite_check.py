"""What refusing NaN/inf inputs costs ``plan.forward`` on the MNIST MLP (784-256-256-10, float32).

    python benchmarks/finite_check.py [--rounds 9]

For batches of 1, 1,000 and 10,000 rows, interleaved in rounds (a busy neighbour hurts all
alike), with 1 and 2 BLAS threads: the forward pass alone, each way of checking the input alone,
and ``plan.forward`` without and with ``check=True``. Per call: median (min-max) of the rounds, CPU time
at 1 thread (steadier on a shared machine), wall time at 2. The forward's own BLAS work is the
baseline; the question is how much the check adds to it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nngraph  # noqa: E402
from netgen import mlp_spec  # noqa: E402
from run import interleaved  # noqa: E402  (the same interleaved rounds as the main benchmark)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    from nngraph.runtime import infer

    plan = nngraph.compile(nngraph.load(mlp_spec([784, 256, 256, 10])))
    rng = np.random.default_rng(0)
    print(f"load before: {os.getloadavg()[0]:.1f}")
    for threads in (1, 2):
        clock = time.process_time if threads == 1 else time.perf_counter
        with threadpool_limits(threads):
            for batch in (1, 1_000, 10_000):
                x = rng.random((batch, 784), dtype=np.float32)
                res = interleaved({
                    "forward alone (runtime.infer)": lambda: infer(plan, x),
                    "plan.forward(x)": lambda: plan.forward(x),
                    "plan.forward(x, check=True)": lambda: plan.forward(x, check=True),
                    "check alone: isfinite(x).all()": lambda: np.isfinite(x).all(),
                    "check alone: isfinite(x.sum())": lambda: np.isfinite(np.add.reduce(x, axis=None)),
                    "check alone: dot(x, x) (shipped)": lambda: np.isfinite(np.dot(x.reshape(-1), x.reshape(-1))),
                }, rounds=args.rounds, clock=clock)
                base = res["forward alone (runtime.infer)"][0]
                print(f"\n{threads} thread(s), batch {batch:,} ({'CPU' if threads == 1 else 'wall'} time)")
                for name, (med, lo, hi) in res.items():
                    print(f"  {name:32s} {med * 1e6:10.1f} us  ({lo * 1e6:.1f}-{hi * 1e6:.1f})  "
                          f"{med / base * 100:6.1f}% of the forward")
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
