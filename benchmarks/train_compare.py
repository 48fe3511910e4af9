"""One training run, in its own process so its peak memory is its own; prints a JSON line.

    python benchmarks/train_compare.py nngraph|numpy|torch --data mnist|fashion_mnist --threads 2
    python benchmarks/train_compare.py compare --data fashion_mnist --threads 1 --epochs 6

The three trainers do the same thing: the 784-256-128-10 ReLU MLP (He-normal init, softmax
cross-entropy), Adam lr 1e-3, batch 128, shuffled each epoch, float32, no validation split.

``compare`` starts one process per trainer and runs their epochs interleaved: each process waits
(blocked on its standard input, using no CPU) while another runs its epoch, so on a shared
machine a busy neighbour slows all trainers alike and they never compete with each other. Each
epoch is timed by wall clock and by the process's CPU time (all its threads).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SIZES = (784, 256, 128, 10)


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(name):
    import nngraph
    from nngraph.data import load_data

    spec = nngraph.load({"nngraph": 1, "name": "d", "nodes": [{"name": "x", "role": "input", "size": 784},
                                                               {"name": "y", "role": "output", "size": 10}],
                         "edges": [{"from": "x", "to": "y"}], "data": {"source": name, "normalize": "scale"}})
    return load_data(spec)


def spec_dict(epochs, data):
    from netgen import mlp_spec

    spec = mlp_spec(SIZES)
    spec["data"] = {"source": data, "normalize": "scale"}
    spec["train"] = {"loss": "cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.001},
                     "batch_size": 128, "epochs": epochs, "seed": 0, "validation_split": 0.0}
    return spec


class Clock:
    """Times each epoch (wall and process CPU); with ``gate``, waits for a line on standard input
    before each epoch and reports the epoch's times on standard output after it."""

    def __init__(self, gate=False):
        self.gate, self.wall, self.cpu = gate, [], []

    def start(self):
        if self.gate:
            sys.stdin.readline()
        self.t, self.c = time.perf_counter(), time.process_time()

    def stop(self):
        self.wall.append(time.perf_counter() - self.t)
        self.cpu.append(time.process_time() - self.c)
        if self.gate:
            print(json.dumps({"wall": self.wall[-1], "cpu": self.cpu[-1]}), flush=True)


def run_nngraph(ds, epochs, data, clock):
    import nngraph
    from nngraph.training import evaluate, train

    class Hooks:
        def epoch_start(self, e, s):
            clock.start()

        def step(self, *a):
            pass

        def epoch_end(self, r):
            clock.stop()

    plan, _ = train(nngraph.load(spec_dict(epochs, data)), ds, callbacks=Hooks())
    return evaluate(plan, ds.x_test, ds.y_test, ds.classes, None)["accuracy"]


def run_numpy(ds, epochs, data, clock):
    """Hand-written numpy: the code a careful person writes for this one network."""
    rng = np.random.default_rng(0)
    Ws = [rng.normal(0, np.sqrt(2 / a), (a, b)).astype(np.float32) for a, b in zip(SIZES, SIZES[1:])]
    bs = [np.zeros(b, np.float32) for b in SIZES[1:]]
    params = Ws + bs
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    x_all, y_all = ds.x_train, ds.y_train
    eye = np.eye(10, dtype=np.float32)
    t = 0
    for _ in range(epochs):
        clock.start()
        order = rng.permutation(len(x_all))
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            x, y = x_all[idx], eye[y_all[idx]]
            h1 = np.maximum(x @ Ws[0] + bs[0], 0)
            h2 = np.maximum(h1 @ Ws[1] + bs[1], 0)
            z = h2 @ Ws[2] + bs[2]
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            dz = (p - y) / len(idx)
            g2 = h2.T @ dz
            dh2 = (dz @ Ws[2].T) * (h2 > 0)
            g1 = h1.T @ dh2
            dh1 = (dh2 @ Ws[1].T) * (h1 > 0)
            g0 = x.T @ dh1
            grads = [g0, g1, g2, dh1.sum(0), dh2.sum(0), dz.sum(0)]
            t += 1
            for k, (q, g) in enumerate(zip(params, grads)):
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.999 * v[k] + 0.001 * g * g
                q -= 0.001 * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
        clock.stop()
    h = ds.x_test
    for W, b in zip(Ws[:-1], bs[:-1]):
        h = np.maximum(h @ W + b, 0)
    return float(np.mean((h @ Ws[-1] + bs[-1]).argmax(1) == ds.y_test))


def run_torch(ds, epochs, data, clock):
    import torch

    torch.manual_seed(0)
    layers = []
    for a, b in zip(SIZES, SIZES[1:]):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all, y_all = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        clock.start()
        order = torch.randperm(len(x_all), generator=gen)
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(x_all[idx]), y_all[idx])
            loss.backward()
            opt.step()
        clock.stop()
    with torch.no_grad():
        return float((model(torch.from_numpy(ds.x_test)).argmax(1).numpy() == ds.y_test).mean())


def compare(trainers, data, threads, epochs):
    """Run ``trainers`` in their own processes, epochs interleaved (the order rotating each round).
    Returns trainer -> the child's final JSON record, with per-epoch ``epoch_seconds`` (wall) and
    ``epoch_cpu_seconds``."""
    import subprocess

    procs = {t: subprocess.Popen([sys.executable, __file__, t, "--data", data, "--epochs", str(epochs),
                                  "--threads", str(threads), "--gate"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for t in trainers}
    times = {t: ([], []) for t in trainers}
    try:
        for epoch in range(epochs):
            k = epoch % len(trainers)
            for t in trainers[k:] + trainers[:k]:
                procs[t].stdin.write("go\n")
                procs[t].stdin.flush()
                rec = json.loads(procs[t].stdout.readline())
                times[t][0].append(rec["wall"])
                times[t][1].append(rec["cpu"])
        out = {}
        for t, p in procs.items():
            p.stdin.close()
            out[t] = json.loads(p.stdout.read().strip().splitlines()[-1])
            if p.wait():
                raise RuntimeError(f"{t} failed")
            out[t]["epoch_seconds"], out[t]["epoch_cpu_seconds"] = times[t]
        return out
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trainer", choices=["nngraph", "numpy", "torch", "compare"])
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gate", action="store_true", help="wait for a line on standard input before each epoch")
    ap.add_argument("--trainers", default="nngraph,numpy,torch", help="for compare")
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    if args.trainer == "compare":
        found = compare(args.trainers.split(","), args.data, args.threads, args.epochs)
        for t, r in found.items():
            print(f"{t:8s} wall {np.median(r['epoch_seconds'][1:]):.3f} s/epoch, "
                  f"CPU {np.median(r['epoch_cpu_seconds'][1:]):.3f} s/epoch, accuracy {r['accuracy']:.4f}")
        return

    if args.trainer == "torch":
        import torch

        torch.set_num_threads(args.threads)
    ds = load(args.data)
    base = peak_rss_mib()
    clock = Clock(args.gate)
    with threadpool_limits(args.threads):
        acc = {"nngraph": run_nngraph, "numpy": run_numpy, "torch": run_torch}[args.trainer](
            ds, args.epochs, args.data, clock)
    peak = peak_rss_mib()
    print(json.dumps({"trainer": args.trainer, "data": args.data, "threads": args.threads,
                      "n_train": int(len(ds.x_train)), "epoch_seconds": clock.wall,
                      "epoch_cpu_seconds": clock.cpu, "accuracy": acc,
                      "peak_rss_mib": peak, "peak_rss_before_training_mib": base}))


if __name__ == "__main__":
    main()
