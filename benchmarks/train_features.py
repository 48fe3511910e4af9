"""What regularizers, a schedule and checkpoints cost per training epoch, as same-run ratios.

    python benchmarks/train_features.py [--rounds 5] [--epochs 2] [--threads 1 2] [--data fashion_mnist]

The 784-256-128-10 ReLU MLP (Adam, batch 128, float32) on MNIST as nngraph loads it offline
(the full set if downloaded, else the bundled 5,000-digit sample; the output says which; a
Fashion-MNIST run needs its IDX files, see benchmarks/train_compare.py). Configurations, in
interleaved rounds, medians of the seconds per epoch (checkpoint writes included):

- base: no regularization, constant rate
- reg: l1 + max_norm + a cosine schedule with warm-up
- nodes: the same, set per node and per edge instead of in the train section
- ckpt: base + a checkpoint every epoch (parameters, Adam's two moments, RNG), in a temp folder
- with --breakdown, each part of reg alone: l1, max_norm, schedule

Each epoch is timed by wall clock and by the process's CPU time; at 1 thread on a shared
machine the CPU time is the steadier figure (a neighbour's load stretches wall time, not it).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))


def spec_for(config, epochs, folder, data="mnist"):
    from netgen import mlp_spec

    spec = mlp_spec((784, 256, 128, 10))
    spec["data"] = {"source": data, "normalize": "scale"}
    train = {"loss": "cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 128,
             "epochs": epochs, "seed": 0, "validation_split": 0.0}
    if config == "reg":
        train.update(l1=1e-5, max_norm=3.0)
        train["optimizer"]["schedule"] = {"name": "cosine", "warmup": 1}
    if config == "l1":
        train["l1"] = 1e-5
    if config == "max_norm":
        train["max_norm"] = 3.0
    if config == "schedule":
        train["optimizer"]["schedule"] = {"name": "cosine", "warmup": 1}
    if config == "nodes":
        train["optimizer"]["schedule"] = {"name": "cosine", "warmup": 1}
        for node, l1 in zip(spec["nodes"][1:], (1e-5, 2e-5, None)):
            node["max_norm"] = 3.0
            if l1:
                node["l1"] = l1
        spec["edges"][-1]["l1"] = 1e-5
    if config == "ckpt":
        train["checkpoint"] = {"every": 1, "keep": 2, "directory": "ckpt"}
    return spec, train


def one(config, epochs, data, threads):
    """The median (wall, CPU) seconds of the run's epochs, each from its start to the next one's
    (so a checkpoint written after an epoch counts), the set-up before the first left out."""
    import nngraph
    from nngraph.training import Callbacks, train

    class Clock(Callbacks):
        def __init__(self):
            self.starts = []

        def epoch_start(self, epoch, steps):
            self.starts.append((time.perf_counter(), time.process_time()))

    with tempfile.TemporaryDirectory() as folder:
        doc, tr = spec_for(config, epochs, folder)
        doc["train"] = tr
        spec = nngraph.load(doc)
        spec._base_dir = Path(folder)
        clock = Clock()
        train(spec, data, threads=threads, callbacks=clock)
        ends = clock.starts[1:] + [(time.perf_counter(), time.process_time())]
        return tuple(statistics.median(b[k] - a[k] for a, b in zip(clock.starts, ends)) for k in (0, 1))


def load(data_name):
    import nngraph
    from nngraph.data import load_data

    doc, _ = spec_for("base", 1, None, data_name)
    doc["train"] = {"loss": "cross_entropy"}
    return load_data(nngraph.load(doc))


def measure(data, threads, rounds, epochs, breakdown=False):
    """{config: [(wall, CPU) seconds per epoch, one per round]}, configurations interleaved in
    rounds, their order rotating from round to round."""
    configs = ["base", "reg", "nodes", "ckpt"] + (["l1", "max_norm", "schedule"] if breakdown else [])
    times = {c: [] for c in configs}
    one("base", 1, data, threads)  # warm-up
    for r in range(rounds):
        k = r % len(configs)
        for c in configs[k:] + configs[:k]:
            times[c].append(one(c, epochs, data, threads))
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--data", default="mnist", choices=["mnist", "fashion_mnist"])
    ap.add_argument("--breakdown", action="store_true", help="also time l1, max_norm and the schedule alone")
    args = ap.parse_args()
    data = load(args.data)
    print(f"data: {data.description}", file=sys.stderr)
    for threads in args.threads:
        times = measure(data, threads, args.rounds, args.epochs, args.breakdown)
        for k, clock in ((0, "wall"), (1, "cpu")):
            med = {c: statistics.median(t[k] for t in v) for c, v in times.items()}
            print(json.dumps({"threads": threads, "clock": clock, "data": data.description,
                              "seconds_per_epoch": med, **{f"{c}/base": med[c] / med["base"] for c in med if c != "base"},
                              "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
