"""Interchange benchmarks: import speed, exported models on onnxruntime, neat-python vs nngraph.

    python benchmarks/interchange.py            # everything, 1 and 2 threads
    python benchmarks/interchange.py --quick    # fewer rounds
    python benchmarks/interchange.py --population   # only: a small NEAT population, per genome

Every figure is a ratio against a baseline measured in the same run, rounds interleaved, medians
reported. Needs the interchange extra (onnx, onnxruntime, neat-python) and threadpoolctl.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from nngraph.compile import compile  # noqa: E402
from nngraph.interchange import from_neat, from_onnx, to_onnx  # noqa: E402
from netgen import irregular_spec, mlp_spec  # noqa: E402
from run import interleaved  # noqa: E402


def median_time(fn, rounds):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), min(times), max(times)


def neat_genome(folder: Path, inputs=450, hidden=450, outputs=10):
    """A neat-python genome of about 100k connections: full initial connectivity, then mutations."""
    import neat
    from neat.export import export_network_json
    from neatnets import neat_config, random_genome

    config = neat_config(folder, inputs=inputs, outputs=outputs, hidden=hidden, initial="full_direct",
                         activations="sigmoid tanh relu", aggregations="sum", conn_add=0.9, node_add=0.9)
    random.seed(0)
    genome = random_genome(config, 0, 20)
    t = time.perf_counter()
    net = neat.nn.FeedForwardNetwork.create(genome, config)
    create = time.perf_counter() - t
    path = folder / "genome.json"
    export_network_json(net, filepath=str(path))
    return net, path, create


def session(model, threads):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def forward_vs_onnxruntime(label, plan, batches, threads_list, rounds, results):
    from threadpoolctl import threadpool_limits

    model = to_onnx(plan)
    name = plan.inputs[0][0]
    assert len(plan.inputs) == 1
    for threads in threads_list:
        sess = session(model, threads)
        for batch in batches:
            x = np.random.default_rng(0).normal(size=(batch, plan.input_width)).astype(np.float32)
            with threadpool_limits(threads):
                t = interleaved({"plan.forward": lambda: plan.forward(x),
                                 "onnxruntime": lambda: sess.run(None, {name: x})}, rounds=rounds)
            ratio = t["onnxruntime"][0] / t["plan.forward"][0]
            results.append({"what": label, "threads": threads, "batch": batch,
                            "plan_forward_s": t["plan.forward"][0], "onnxruntime_s": t["onnxruntime"][0],
                            "onnxruntime_time_over_plan": ratio})
            print(f"{label:28s} threads={threads} batch={batch:5d}  plan.forward {t['plan.forward'][0] * 1e3:8.3f} ms"
                  f"  onnxruntime {t['onnxruntime'][0] * 1e3:8.3f} ms  ort/plan time {ratio:5.2f}")


def population(rounds, size=150, rows_list=(4, 100, 1000)):
    """A population of small XOR genomes (2 inputs, 1 output, a few hidden nodes), as a NEAT run
    evaluates every generation: CPU time per genome of neat-python's own
    ``FeedForwardNetwork.create`` + ``activate`` on every row, against nngraph's
    ``from_neat(genome, config)`` + ``compile`` + ``forward`` of all rows (one thread, rounds
    interleaved). Returns rows -> {candidate: (median, min, max) seconds per genome}."""
    import os

    import neat
    from threadpoolctl import threadpool_limits

    from neatnets import neat_config, random_genome

    with tempfile.TemporaryDirectory() as tmp:
        config = neat_config(Path(tmp), inputs=2, outputs=1, hidden=0, activations="sigmoid", aggregations="sum",
                             initial="full_direct")
    genomes = [random_genome(config, s, 2 + s % 10) for s in range(size)]
    conns = [sum(c.enabled for c in g.connections.values()) for g in genomes]
    out = {}
    for n_rows in rows_list:
        x = np.random.default_rng(0).integers(0, 2, (n_rows, 2)).astype(float)
        rows = x.tolist()
        specs = [from_neat(g, config) for g in genomes]
        plans = [compile(s) for s in specs]

        def neat_all():
            for g in genomes:
                net = neat.nn.FeedForwardNetwork.create(g, config)
                for r in rows:
                    net.activate(r)

        def nngraph_all():
            for g in genomes:
                compile(from_neat(g, config)).forward(x)

        with threadpool_limits(1):
            t = interleaved({"neat-python create + activate": neat_all,
                             "nngraph from_neat + compile + forward": nngraph_all,
                             "  of which from_neat": lambda: [from_neat(g, config) for g in genomes],
                             "  of which compile": lambda: [compile(s) for s in specs],
                             "  of which forward": lambda: [p.forward(x) for p in plans]},
                            rounds=rounds, target=0.3, clock=time.process_time)
        out[n_rows] = {k: tuple(v / size for v in vals) for k, vals in t.items()}
        base = out[n_rows]["neat-python create + activate"][0]
        print(f"population of {size} XOR genomes ({min(conns)}-{max(conns)} connections), {n_rows} rows each, "
              f"CPU per genome, 1 thread, load average {os.getloadavg()[0]:.1f}:")
        for k, (med, lo, hi) in out[n_rows].items():
            print(f"  {k:40s} {med * 1e3:8.3f} ms (min {lo * 1e3:.3f}, max {hi * 1e3:.3f})  {med / base:6.2f}x neat")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--population", action="store_true", help="Only the small-population case.")
    ap.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = ap.parse_args()
    rounds = 3 if args.quick else 7
    if args.population:
        population(rounds)
        return
    results = {"import": [], "forward": [], "neat": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # -- imports -------------------------------------------------------------------------
        net, genome_path, create_s = neat_genome(tmp)
        n_conn = len(json.loads(genome_path.read_text())["connections"])
        spec = from_neat(genome_path)
        t = median_time(lambda: from_neat(genome_path), rounds)
        tc = median_time(lambda: compile(from_neat(genome_path), dtype=np.float64), rounds)
        results["import"].append({"what": f"neat genome, {n_conn:,} connections", "import_s": t[0],
                                  "import_and_compile_s": tc[0]})
        print(f"import neat genome ({n_conn:,} connections, {len(spec.nodes)} spec nodes): {t[0]:.3f} s "
              f"(min {t[1]:.3f}); with compile {tc[0]:.3f} s; neat-python's FeedForwardNetwork.create took "
              f"{create_s:.1f} s")
        mlp = compile(mlp_spec((784, 256, 256, 10)))
        onnx_path = tmp / "mlp.onnx"
        onnx_path.write_bytes(to_onnx(mlp).SerializeToString())
        t = median_time(lambda: from_onnx(onnx_path), rounds)
        results["import"].append({"what": "ONNX MLP 784-256-256-10", "import_s": t[0]})
        print(f"import ONNX MLP 784-256-256-10 ({onnx_path.stat().st_size:,} bytes): {t[0]:.3f} s (min {t[1]:.3f})")
        # -- exported models on onnxruntime vs plan.forward ---------------------------------
        forward_vs_onnxruntime("MNIST MLP 784-256-256-10", mlp, [1, 128, 1000], [1, 2], rounds, results["forward"])
        irregular = compile(irregular_spec(2000, 100_000))
        forward_vs_onnxruntime("irregular 2,000 / 100k edges", irregular, [1, 1000], [1, 2], rounds,
                               results["forward"])
        neat_plan = compile(spec)
        forward_vs_onnxruntime(f"neat genome {n_conn // 1000}k conn.", neat_plan, [1, 1000], [1, 2], rounds,
                               results["forward"])
        # -- neat-python vs nngraph, samples per second --------------------------------------
        from threadpoolctl import threadpool_limits

        x = np.random.default_rng(0).normal(size=(1000, neat_plan.input_width))
        rows = [list(map(float, r)) for r in x[:20]]
        with threadpool_limits(1):
            t = interleaved({"neat": lambda: [net.activate(r) for r in rows],
                             "nngraph batch 1000": lambda: neat_plan.forward(x),
                             "nngraph one sample at a time": lambda: [neat_plan.forward(x[i:i + 1]) for i in range(20)]},
                            rounds=rounds, target=0.2)
        neat_sps = 20 / t["neat"][0]
        batch_sps = 1000 / t["nngraph batch 1000"][0]
        single_sps = 20 / t["nngraph one sample at a time"][0]
        results["neat"].append({"neat_samples_per_s": neat_sps, "nngraph_batch_samples_per_s": batch_sps,
                                "nngraph_single_samples_per_s": single_sps})
        print(f"neat-python FeedForwardNetwork.activate: {neat_sps:,.0f} samples/s; nngraph (1 thread) batch 1000: "
              f"{batch_sps:,.0f} samples/s ({batch_sps / neat_sps:,.0f}x), one sample at a time: "
              f"{single_sps:,.0f} samples/s ({single_sps / neat_sps:,.1f}x)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
