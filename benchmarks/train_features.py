"""What regularizers, a schedule and checkpoints cost per training epoch, as same-run ratios.

    python benchmarks/train_features.py [--rounds 5] [--epochs 2] [--threads 1 2]

The 784-256-128-10 ReLU MLP (Adam, batch 128, float32) on MNIST as nngraph loads it offline
(the full set if downloaded, else the bundled 5,000-digit sample; the output says which; a
Fashion-MNIST run needs its IDX files, see benchmarks/train_compare.py). Configurations, in
interleaved rounds, medians of the seconds per epoch (checkpoint writes included):

- base: no regularization, constant rate
- reg: l1 + max_norm + a cosine schedule with warm-up
- ckpt: base + a checkpoint every epoch (parameters, Adam's two moments, RNG), in a temp folder
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def spec_for(config, epochs, folder):
    from netgen import mlp_spec

    spec = mlp_spec((784, 256, 128, 10))
    spec["data"] = {"source": "mnist", "normalize": "scale"}
    train = {"loss": "cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 128,
             "epochs": epochs, "seed": 0, "validation_split": 0.0}
    if config == "reg":
        train.update(l1=1e-5, max_norm=3.0)
        train["optimizer"]["schedule"] = {"name": "cosine", "warmup": 1}
    if config == "ckpt":
        train["checkpoint"] = {"every": 1, "keep": 2, "directory": "ckpt"}
    return spec, train


def one(config, epochs, data, threads):
    import nngraph
    from nngraph.training import train

    with tempfile.TemporaryDirectory() as folder:
        doc, tr = spec_for(config, epochs, folder)
        doc["train"] = tr
        spec = nngraph.load(doc)
        spec._base_dir = Path(folder)
        start = time.perf_counter()
        train(spec, data, threads=threads)
        return (time.perf_counter() - start) / epochs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    import nngraph
    from nngraph.data import load_data

    doc, _ = spec_for("base", 1, None)
    doc["train"] = {"loss": "cross_entropy"}
    data = load_data(nngraph.load(doc))
    print(f"data: {data.description}", file=sys.stderr)
    for threads in args.threads:
        times = {c: [] for c in ("base", "reg", "ckpt")}
        one("base", 1, data, threads)  # warm-up
        for _ in range(args.rounds):
            for c in times:
                times[c].append(one(c, args.epochs, data, threads))
        med = {c: statistics.median(v) for c, v in times.items()}
        print(json.dumps({"threads": threads, "data": data.description, "seconds_per_epoch": med,
                          "reg/base": med["reg"] / med["base"], "ckpt/base": med["ckpt"] / med["base"]}))


if __name__ == "__main__":
    main()
