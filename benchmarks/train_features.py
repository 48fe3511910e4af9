"""What regularizers, a schedule and checkpoints cost per training epoch, as same-run ratios.

    python benchmarks/train_features.py [--rounds 7] [--epochs 2] [--threads 1 2] [--data mnist] [--breakdown]
                                        [--route numpy]

The 784-256-128-10 ReLU MLP (Adam, batch 128, float32) on Fashion-MNIST where its IDX files are
installed (see benchmarks/train_compare.py), else on MNIST as nngraph loads it offline (the full
set if downloaded, else the bundled 5,000-digit sample); the output says which. ``--data``
chooses. Configurations:

- base: no regularization, constant rate
- reg: l1 + max_norm + a cosine schedule with warm-up
- nodes: the same, set per node and per edge instead of in the train section
- ckpt: base + a checkpoint every epoch (parameters, Adam's two moments, RNG), in a temp folder
- with --breakdown, each part of reg alone: l1, max_norm, schedule

Each round trains every configuration for --epochs epochs, in an order that rotates from round
to round. An epoch is timed from its start to the next one's (a checkpoint written after it
counts), by wall clock and by the process's CPU time; at 1 thread on a shared machine the CPU
time is the steadier figure (a neighbour's load stretches wall time, not it). Figures: the
median over rounds of each configuration's seconds per epoch, and the median over rounds of
its ratio to base in the same round, with their min-max; the 1-minute load average before and
after.

The training step's update is nngraph's compiled one where it is built (the optimizer's step
in one pass, with the L1 or L2 gradient and max-norm's sums of squares taken in it); ``--route numpy``
measures numpy's passes instead (the route of an install without a C compiler). Each line says
which route it measured.

--breakdown also prints where a step's time goes (:func:`parts`): each configuration's steps,
in blocks interleaved between configurations, timed part by part by the thread's CPU time.
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


def load(data_name=None):
    """The data set ``data_name``; None: Fashion-MNIST if installed, else MNIST."""
    import nngraph
    from nngraph.data import load_data
    from nngraph.errors import DataError

    if data_name is None:
        try:
            return load("fashion_mnist")
        except DataError:
            return load("mnist")

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


def ratios(times, config, clock):
    """Per round: ``config``'s seconds per epoch over base's in the same round (clock 0: wall, 1: CPU)."""
    return [a[clock] / b[clock] for a, b in zip(times[config], times["base"])]


PARTS = ("forward", "loss", "backward", "update", "l1 fill", "max-norm", "rest")


def parts(data, threads, blocks=16, block=20, configs=("base", "l1", "max_norm", "reg")):
    """Where a step's time goes: {config: {part: µs per step}} (medians over blocks), and the
    whole step's µs per block. Each configuration trains one epoch untimed (weights as in
    training), then its steps run in blocks of ``block``, the configurations taking turns; the
    first step of a block is untimed (its caches as in training). Parts, by the thread's CPU
    time: forward (the stages), loss (value and output gradient), backward (every gradient,
    the products with the L1 addend included), update (the optimizer; by the compiled route,
    with the penalty and max-norm's sums of squares it takes in its pass), l1 fill (numpy's
    route: the next step's L1 gradient, written in the optimizer's hook, or in full at an
    epoch's start), max-norm (deciding, summing squares in the hook, scaling), rest (the step's Python between them: slicing the batch, buffers)."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import nngraph
    import nngraph.training as training
    from nngraph.graph import build
    from nngraph.regularizers import InProduct, MaxNorm
    from nngraph.optimizers import Optimizer

    spent = {}

    def timed(owner, name, part):
        fn = getattr(owner, name)

        def wrapper(*a, **kw):
            t = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                spent[part] = spent.get(part, 0.0) + time.thread_time() - t
        return fn, wrapper

    patches = [(training, "run_stage", "forward"), (training, "loss_value", "loss"),
               (training, "output_grad", "loss"), (training, "backward", "backward"),
               (Optimizer, "step", "update"), (InProduct, "rows", "l1 in"), (InProduct, "refill", "l1 fill"),
               (MaxNorm, "due", "max-norm"), (MaxNorm, "take", "max-norm in"), (MaxNorm, "settle", "max-norm")]
    runs = {}
    with threadpool_limits(limits=threads):
        for c in configs:
            doc, tr = spec_for(c, 2, None)
            doc["train"] = tr
            graph = build(nngraph.load(doc))
            run = training._Run(nngraph.compile(graph, use_file=False), graph.spec.train, data, 2, training.Callbacks())
            run.one_epoch(1)
            runs[c] = (run, _batches(run))
        saved = []
        try:
            for owner, name, part in patches:
                fn, wrapper = timed(owner, name, part)
                saved.append((owner, name, fn))
                setattr(owner, name, wrapper)
            steps = {c: [] for c in configs}
            split = {c: [] for c in configs}
            for b in range(blocks):
                k = b % len(configs)
                for c in configs[k:] + configs[:k]:
                    run, batches = runs[c]
                    xs = [next(batches) for _ in range(block)]
                    with np.errstate(over="ignore", invalid="ignore"):
                        training._step(run, *xs[0])
                        spent.clear()
                        t = time.thread_time()
                        for xb, tb in xs[1:]:
                            training._step(run, xb, tb)
                        total = time.thread_time() - t
                    got = dict(spent)
                    fill, norms = got.pop("l1 in", 0.0), got.pop("max-norm in", 0.0)  # the hook's, within the step
                    got["update"] = got.get("update", 0.0) - fill - norms
                    got["l1 fill"] = got.get("l1 fill", 0.0) + fill
                    got["max-norm"] = got.get("max-norm", 0.0) + norms
                    got["rest"] = total - sum(got.get(p, 0.0) for p in PARTS if p != "rest")
                    split[c].append({p: got.get(p, 0.0) / (block - 1) * 1e6 for p in PARTS})
                    steps[c].append(total / (block - 1) * 1e6)
        finally:
            for owner, name, fn in saved:
                setattr(owner, name, fn)
    return ({c: {p: statistics.median(s[p] for s in split[c]) for p in PARTS} for c in configs}, steps)


def _batches(run):
    """The run's training batches, epoch after epoch, as its loop draws them."""
    bs = run.bs
    while True:
        idx = run.tr_idx[run.rng.permutation(len(run.tr_idx))]
        for k in range(0, len(idx) - bs + 1, bs):
            sel = idx[k:k + bs]
            yield run.x_all[sel], run.t_all[sel]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--data", default=None, choices=["mnist", "fashion_mnist"],
                    help="default: fashion_mnist where its files are installed, else mnist")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time l1, max_norm and the schedule alone, and each part of a step")
    ap.add_argument("--route", choices=["compiled", "numpy"], default="compiled",
                    help="the training step's update: nngraph's compiled one (where built) or numpy's passes")
    args = ap.parse_args()
    import nngraph.optimizers
    import nngraph.regularizers

    if args.route == "numpy":
        nngraph.optimizers.kernels = nngraph.regularizers.kernels = None
    route = "compiled" if nngraph.optimizers.kernels is not None else "numpy"
    if route != args.route:
        print("the compiled update is not built (no C compiler at install?): measuring numpy's route",
              file=sys.stderr)
    data = load(args.data)
    print(f"data: {data.description}", file=sys.stderr)
    for threads in args.threads:
        before = os.getloadavg()[0]
        times = measure(data, threads, args.rounds, args.epochs, args.breakdown)
        load_avg = [round(before, 2), round(os.getloadavg()[0], 2)]
        for k, clock in ((0, "wall"), (1, "cpu")):
            med = {c: statistics.median(t[k] for t in v) for c, v in times.items()}
            spread = {c: [round(min(t[k] for t in v), 3), round(max(t[k] for t in v), 3)] for c, v in times.items()}
            rel = {c: ratios(times, c, k) for c in times if c != "base"}
            print(json.dumps({"threads": threads, "clock": clock, "route": route, "data": data.description,
                              "rounds": args.rounds,
                              "seconds_per_epoch": med, "min_max": spread,
                              **{f"{c}/base": round(statistics.median(r), 3) for c, r in rel.items()},
                              "ratio_min_max": {c: [round(min(r), 3), round(max(r), 3)] for c, r in rel.items()},
                              "load_average": load_avg}))
        if args.breakdown:
            before = os.getloadavg()[0]
            split, steps = parts(data, threads)
            print(json.dumps({"threads": threads, "clock": "thread cpu", "route": route, "us_per_step": {
                c: {"step": round(statistics.median(steps[c])), "min_max": [round(min(steps[c])), round(max(steps[c]))],
                    **{p: round(v) for p, v in split[c].items()}} for c in split},
                "load_average": [round(before, 2), round(os.getloadavg()[0], 2)]}))


if __name__ == "__main__":
    main()
