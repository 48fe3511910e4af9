"""nngraph benchmarks: every figure is a ratio against a baseline measured in the same run.

    python benchmarks/run.py                 # everything, 1 and 2 BLAS threads
    python benchmarks/run.py --quick         # fewer repeats, smaller scaling runs
    python benchmarks/run.py --only forward,irregular --write-docs
    python benchmarks/run.py --only load --add && python benchmarks/run.py --docs-only   # in steps
    NNGRAPH_BENCH_CALLGRIND=1 python benchmarks/run.py --only startup --add --write-docs  # + instruction counts

Baselines: hand-written numpy, onnxruntime and PyTorch CPU where installed (install them in
the benchmark's environment: pip install onnx onnxruntime torch), neat-python's
FeedForwardNetwork (pip install neat-python; a loop in its style otherwise), the naive
reference evaluator, and PyYAML's C loader. Results go to benchmarks/results/latest.json and,
with --write-docs, to docs/performance.md.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import nngraph  # noqa: E402
from nngraph.compile import compile  # noqa: E402
import legacy  # noqa: E402
from netgen import irregular_spec, mlp_spec, neat_activate, neat_genome_spec, neat_style_network  # noqa: E402

RESULTS = {}
LOAD = []  # (section, 1-minute load average before, after)


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over from
    the parent across fork and exec, so a child would report the benchmark runner's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def best_of(fn, repeat=5, number=1):
    """Smallest time per call over ``repeat`` rounds: the least disturbed by a shared machine."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return min(times)


def interleaved(candidates: dict, rounds=7, target=0.05, clock=time.perf_counter, warm=False):
    """Time every candidate once per round, rounds interleaved so a busy neighbour hurts all alike.
    Each timing repeats the call for about ``target`` seconds. Returns name -> (median, min, max)
    seconds per call over the rounds. ``clock=time.process_time``: CPU time, for candidates that
    run on one thread (what a neighbour's load changes least). ``warm``: one untimed call before
    each timing. Thread pools keep spinning for a while after a call (onnxruntime's and
    OpenBLAS's do), so with several threads the first call after another candidate competes
    with that candidate's spinning pool for the cores: 2-thread timings of a 50 ms call were
    seen up to 1.9x slower for whichever candidate came next."""
    numbers = {}
    for name, fn in candidates.items():
        fn()
        t = clock()
        fn()
        numbers[name] = max(1, int(target / max(clock() - t, 1e-7)))
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            k = numbers[name]
            if warm:
                fn()
            t = clock()
            for _ in range(k):
                fn()
            times[name].append((clock() - t) / k)
    return {name: (float(np.median(v)), min(v), max(v)) for name, v in times.items()}


def spread(found, name, scale=1.0, fmt="{:,.0f}"):
    """'median (min–max)' of ``scale / time``: a rate, so min and max swap."""
    med, lo, hi = found[name]
    return f"{fmt.format(scale / med)} ({fmt.format(scale / hi)}–{fmt.format(scale / lo)})"


def us(found, name):
    med, lo, hi = found[name]
    return f"{med * 1e6:.1f} ({lo * 1e6:.1f}–{hi * 1e6:.1f})"


def loadavg():
    return os.getloadavg()[0]


def table(title, header, rows):
    print(f"\n## {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    return {"title": title, "header": header, "rows": rows}


def threads_ctx(n):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(n)


# -- forward pass of the MNIST MLP -------------------------------------------------------------------


def bench_forward(threads_list, quick):
    sizes, batch = (784, 256, 256, 10), 10_000
    plan = compile(mlp_spec(sizes), dtype=np.float32)
    p = plan.parameters()
    W = [p[f"edges/{a}->{b}"].astype(np.float32) for a, b in (("x", "h1"), ("h1", "h2"), ("h2", "y"))]
    b = [p[f"nodes/{n}/bias"].astype(np.float32) for n in ("h1", "h2", "y")]
    x = np.random.default_rng(0).random((batch, 784), dtype=np.float32)

    def numpy_plain():
        h = np.maximum(x @ W[0] + b[0], 0)
        h = np.maximum(h @ W[1] + b[1], 0)
        z = h @ W[2] + b[2]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    bufs = [np.empty((batch, s), np.float32) for s in sizes[1:]]

    def numpy_inplace():
        h1, h2, z = bufs
        np.matmul(x, W[0], out=h1)
        h1 += b[0]
        np.maximum(h1, 0, out=h1)
        np.matmul(h1, W[1], out=h2)
        h2 += b[1]
        np.maximum(h2, 0, out=h2)
        np.matmul(h2, W[2], out=z)
        z += b[2]
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z.copy()

    def gemms_alone():  # the products only, no bias or activation: OpenBLAS's share of the work
        np.matmul(x, W[0], out=bufs[0])
        np.matmul(bufs[0], W[1], out=bufs[1])
        np.matmul(bufs[1], W[2], out=bufs[2])

    np.testing.assert_allclose(plan.forward(x), numpy_plain(), rtol=1e-4, atol=1e-6)
    plan.forward(x)  # the second call of a batch size builds its one-call stages (and loads their BLAS) now
    ort = _onnx_session(W, b)
    ort_gemms = _onnx_session(W, b, products_only=True)
    torch_model = _torch_model(W, b)
    rows = []
    for n in threads_list:
        with threads_ctx(n):
            candidates = {"nngraph": lambda: plan.forward(x), "numpy (plain)": numpy_plain,
                          "numpy (in-place buffers)": numpy_inplace}
            if ort is not None:
                sess = ort(n)
                candidates["onnxruntime"] = lambda: sess.run(None, {"x": x})[0]
            if torch_model is not None:
                import torch

                torch.set_num_threads(n)
                xt = torch.from_numpy(x)

                def run_torch():
                    with torch.inference_mode():
                        return torch_model(xt)
                candidates["PyTorch"] = run_torch
            candidates["the 3 products alone: numpy (OpenBLAS)"] = gemms_alone
            if ort_gemms is not None:
                products = ort_gemms(n)
                candidates["the 3 products alone: onnxruntime (MLAS)"] = lambda: products.run(None, {"x": x})[0]
            # interleaved rounds: a noisy neighbour hurts every candidate alike; CPU time at 1
            # thread (every candidate runs on one), wall time at more
            found = interleaved(candidates, 5 if quick else 9, 0.2,
                                clock=time.process_time if n == 1 else time.perf_counter, warm=n > 1)
            ours = found["nngraph"][0]
            for name in candidates:
                med = found[name][0]
                rows.append([n, name, spread(found, name, scale=batch),
                             "1.00" if name == "nngraph" else f"{med / ours:.2f}x"])
    RESULTS["forward"] = table(
        "Forward pass, MNIST MLP 784-256-256-10, batch 10,000, float32: samples/s, median (min–max) of "
        "interleaved rounds (CPU time at 1 thread, wall at 2)",
        ["threads", "implementation", "samples/s", "nngraph speed relative to it"], rows)


def _mlp_peers(sizes, dtype=np.float32):
    """A compiled MLP and its weights as hand-written numpy and onnxruntime run them."""
    plan = compile(mlp_spec(sizes), dtype=dtype)
    p = plan.parameters()
    names = ["x"] + [f"h{i + 1}" for i in range(len(sizes) - 2)] + ["y"]
    W = [p[f"edges/{a}->{b}"].astype(dtype) for a, b in zip(names, names[1:])]
    b = [p[f"nodes/{n}/bias"].astype(dtype) for n in names[1:]]

    def numpy_forward(x):  # the shortest fast hand-written numpy: fresh arrays, in-place bias/ReLU
        h = x
        for w, bias in zip(W[:-1], b[:-1]):
            h = h @ w
            h += bias
            np.maximum(h, 0, out=h)
        z = h @ W[-1]
        z += b[-1]
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z
    return plan, W, b, numpy_forward


def bench_latency(threads_list, quick):
    """Small batches: the per-call cost. "before" is the previous runtime (benchmarks/legacy.py)."""
    sizes = (784, 256, 128, 10)
    plan, W, b, numpy_forward = _mlp_peers(sizes)
    ort = _onnx_session(W, b)
    rng = np.random.default_rng(0)
    rows = []
    for n in threads_list:
        with threads_ctx(n):
            sess = ort(n) if ort is not None else None
            for batch in (1, 100) if quick else (1, 100, 10_000):
                x = rng.random((batch, sizes[0]), dtype=np.float32)
                np.testing.assert_allclose(plan.forward(x), numpy_forward(x), rtol=1e-4, atol=1e-6)
                np.testing.assert_allclose(plan.forward(x), legacy.forward(plan, x), rtol=1e-5, atol=1e-7)
                predict = plan.bind(batch)
                np.testing.assert_array_equal(predict(x), plan.forward(x))
                cands = {"nngraph plan.forward": lambda: plan.forward(x),
                         "nngraph plan.bind() (prebound)": lambda: predict(x),
                         "before: previous runtime": lambda: legacy.forward(plan, x),
                         "numpy, hand-written": lambda: numpy_forward(x)}
                if sess is not None:
                    cands["onnxruntime"] = lambda: sess.run(None, {"x": x})[0]
                # CPU time at 1 thread (every candidate runs on the calling thread; what a busy
                # neighbour changes least), wall at 2 (the second thread's time is not this one's)
                found = interleaved(cands, 5 if quick else 9, clock=time.process_time if n == 1 else time.perf_counter,
                                    warm=n > 1)
                ours = found["nngraph plan.forward"][0]
                for name in cands:
                    rows.append([n, f"{batch:,}", name, us(found, name), f"{found[name][0] / ours:.2f}"])
    RESULTS["latency"] = table(
        "Forward latency, MLP 784-256-128-10, float32: µs per call, median (min–max) of interleaved rounds "
        "(CPU time at 1 thread, wall at 2)",
        ["threads", "batch", "implementation", "µs per call", "nngraph speed relative to it"], rows)


def bench_threads(threads_list, quick):
    """Many Python threads sharing one plan (BLAS at 1 thread each): throughput, exact results."""
    from concurrent.futures import ThreadPoolExecutor

    sizes = (784, 256, 128, 10)
    plan, *_ = _mlp_peers(sizes)
    rng = np.random.default_rng(0)
    batches = [rng.random((32, sizes[0]), dtype=np.float32) for _ in range(64)]
    rows = []
    with threads_ctx(1):
        expected = [plan.forward(x) for x in batches]  # serial, with the same BLAS thread count
        pools = {k: ThreadPoolExecutor(k) for k in (1, 2, 4)}

        def serve(k):
            return lambda: list(pools[k].map(plan.forward, batches))
        for k in pools:
            got = serve(k)()
            assert all(np.array_equal(a, e) for a, e in zip(got, expected)), "threaded results differ"
        found = interleaved({k: serve(k) for k in pools}, 5 if quick else 9)
        for k in pools:
            rows.append([k, spread(found, k, scale=32 * len(batches)), f"{found[1][0] / found[k][0]:.2f}"])
        for p in pools.values():
            p.shutdown()
    RESULTS["threads"] = table(
        "One plan served by a pool of Python threads (BLAS 1 thread each), MLP 784-256-128-10, batch 32; "
        "every result equal to the serial one",
        ["Python threads", "samples/s, median (min–max)", "speed-up over 1 thread"], rows)


def _onnx_session(W, b, products_only=False):
    """session(threads) running the MLP (Gemm with bias, Relu, Softmax), or with
    ``products_only`` its matrix products alone (MatMul, no bias or activation)."""
    try:
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    nodes, inits, prev = [], [], "x"
    for i, (w, bias) in enumerate(zip(W, b)):
        if products_only:
            inits.append(numpy_helper.from_array(w, f"W{i}"))
            nodes.append(helper.make_node("MatMul", [prev, f"W{i}"], [f"z{i}" if i < len(W) - 1 else "y"]))
            prev = f"z{i}"
            continue
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(bias, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"b{i}"], [f"z{i}"]))
        prev = f"z{i}"
        if i < len(W) - 1:
            nodes.append(helper.make_node("Relu", [prev], [f"a{i}"]))
            prev = f"a{i}"
    if not products_only:
        nodes.append(helper.make_node("Softmax", [prev], ["y"], axis=1))
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, W[0].shape[0]])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, W[-1].shape[1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    data = model.SerializeToString()

    def session(threads):
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    return session


def _torch_model(W, b):
    try:
        import torch
    except ImportError:
        return None
    layers = []
    for i, (w, bias) in enumerate(zip(W, b)):
        lin = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(bias))
        layers.append(lin)
        layers.append(torch.nn.ReLU() if i < len(W) - 1 else torch.nn.Softmax(dim=1))
    return torch.nn.Sequential(*layers).eval()


# -- irregular neuron graph ---------------------------------------------------------------------------


def _neat_network(graph, params):
    """neat-python's FeedForwardNetwork of the graph, built in destination order (fair), or
    a loop in its style when neat-python is not installed. Returns (name, activate(sample))."""
    inputs, outputs, evals = neat_style_network(graph, params)
    try:
        import neat
        from neat.nn import FeedForwardNetwork
    except ImportError:
        net = (inputs, outputs, evals)
        return "per-sample per-neuron loop in neat-python's style", lambda s: neat_activate(net, s)
    acts = neat.activations.ActivationFunctionSet()
    # neat's own sigmoid/tanh are scaled (5z, 2.5z); the work per neuron is the same
    fmap = {"tanh": acts.get("tanh"), "relu": acts.get("relu"), "sigmoid": acts.get("sigmoid")}
    node_of = {g: n for n in graph.nodes for g in range(n.offset, n.offset + n.size)}
    evals = [(g, fmap[node_of[g].activation[0]], sum, bias, 1.0, links) for g, _, bias, links in evals]
    net = FeedForwardNetwork(inputs, outputs, evals)
    return "neat-python FeedForwardNetwork, built in destination order (per sample)", net.activate


def bench_irregular(threads_list, quick):
    """Irregular graphs vs hand-written per-level evaluators (dense and CSR), neat-python and the
    naive reference; batches 1k and 10k; at 2 threads the plan splits the batch (plan.threads)."""
    from nngraph import reference
    from peers import PerLevelCSR, PerLevelDense

    by_threads = {}
    graphs = [("500 neurons / 20k edges", irregular_spec(500, 20_000)),
              ("2,000 neurons / 100k edges", irregular_spec(2000, 100_000)),
              ("sparse genome, 320 neurons / 3k edges", neat_genome_spec())]
    rows = []
    for label, spec in graphs:
        graph = nngraph.build(spec)
        plan = compile(graph, dtype=np.float32)
        params = plan.parameters()
        dense, csr = PerLevelDense(graph, params), PerLevelCSR(graph, params)
        rng = np.random.default_rng(1)
        blocks = [b for st in plan.stages for b in st.blocks]
        shape = (f"{graph.n_neurons:,} neurons, {graph.n_weights:,} edges, {len(plan.stages) - 1} stages, "
                 f"{len(blocks)} blocks ({sum(b.sparse for b in blocks)} CSR)")
        for batch in (1000,) if quick else (1000, 10_000):
            x = rng.normal(size=(batch, plan.input_width)).astype(np.float32)
            y = plan.forward(x)
            np.testing.assert_allclose(dense(x), y, rtol=1e-3, atol=1e-4)
            np.testing.assert_allclose(csr(x), y, rtol=1e-3, atol=1e-4)

            def ours(k):
                def run():
                    plan.threads = k
                    plan.forward(x)
                return run
            for n in threads_list:
                with threads_ctx(n):
                    # one thread: CPU time (every candidate runs on one thread; a busy machine
                    # changes it least). More: wall time, with the plan at 1 thread in the same
                    # rounds for nngraph's own speed-up.
                    cands = {"nngraph": ours(n), "per-level dense": lambda: dense(x), "per-level CSR": lambda: csr(x)}
                    if n > 1:
                        cands["nngraph, 1 thread"] = ours(1)
                    found = interleaved(cands, 3 if quick else 7, target=0.2,
                                        clock=time.process_time if n == 1 else time.perf_counter)
                    plan.threads = 1
                best = min(("per-level dense", "per-level CSR"), key=lambda k: found[k][0])
                mine = found["nngraph"][0]
                if n > 1:
                    by_threads[(label, batch, n)] = (found["nngraph, 1 thread"], found["nngraph"])
                rows.append([label, f"{batch:,}", f"{n} (wall)" if n > 1 else "1 (CPU time)", spread(found, "nngraph", batch),
                             spread(found, best, batch), best.split()[-1], f"{found[best][0] / mine:.2f}"])
        if label.startswith("2,000"):
            name, activate = _neat_network(graph, params)
            xs = [list(map(float, s)) for s in rng.normal(size=(10 if quick else 30, plan.input_width))]
            xb = rng.normal(size=(1000, plan.input_width)).astype(np.float32)
            with threads_ctx(1):
                found = interleaved({"neat": lambda: [activate(s) for s in xs], "nngraph": lambda: plan.forward(xb),
                                     "reference": lambda: reference.evaluate(graph, params, xb[:5])},
                                    3, target=0.3)
            t_neat, t_ours, t_ref = found["neat"][0] / len(xs), found["nngraph"][0] / 1000, found["reference"][0] / 5
            RESULTS["neat"] = table(
                f"Per-sample evaluators vs the plan at batch 1,000, irregular graph {shape}, 1 thread",
                ["implementation", "samples/s", "nngraph speed relative to it"],
                [["nngraph compiled plan, batch 1,000", f"{1 / t_ours:,.0f}", "1"],
                 [name, f"{1 / t_neat:,.0f}", f"{t_neat / t_ours:,.0f}x"],
                 ["naive reference evaluator (nngraph.reference)", f"{1 / t_ref:,.0f}", f"{t_ref / t_ours:,.0f}x"]])
        rows.append([label, "", "", shape, "", "", ""])
    RESULTS["irregular"] = table(
        "Forward pass, irregular graphs, float32: samples/s, median (min–max) of interleaved rounds",
        ["graph", "batch", "threads", "nngraph", "best hand-written per-level evaluator", "which",
         "nngraph speed relative to it"], rows)
    if by_threads:
        b = max(n for *_, n in by_threads)
        speedup = [[label, f"{batch:,}", spread({0: one}, 0, batch), spread({0: more}, 0, batch),
                    f"{one[0] / more[0]:.2f}"]
                   for (label, batch, n), (one, more) in by_threads.items() if n == b]
        RESULTS["irregular_threads"] = table(
            f"Irregular graphs, nngraph at {b} threads against 1 (plan.threads; wall time, both timed in the same "
            f"interleaved rounds, {b} BLAS threads)",
            ["graph", "batch", "samples/s, 1 thread", f"samples/s, {b} threads", "speed-up"], speedup)


MODEL_FLOOR = "numpy, yaml and one pydantic model"


def bench_startup(threads_list, quick):
    """Whole processes: the interpreter alone, the imports a command cannot do without, and the
    commands themselves. Wall time, and the CPU time of each process (user + system, from
    getrusage of the children): a busy machine stretches wall time far more than CPU time."""
    import resource

    exe = Path(sys.executable).with_name("nngraph")
    small = HERE.parent / "examples" / "xor.yaml"
    py = sys.executable
    model = "import numpy, yaml\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    x: int"
    # validate pauses the collector while pydantic and the models load and freezes what they made
    # (nngraph.cli.spec_cmds): the same floor so treated, with click, is what its own work adds to
    paused = "import gc\ngc.disable()\nimport click\n" + model + "\ngc.freeze()\ngc.enable()"
    cmds = {"python -c pass": [py, "-c", "pass"],
            "python -c 'import click'": [py, "-c", "import click"],
            "nngraph --help": [str(exe), "--help"],
            "nngraph --version": [str(exe), "--version"],
            "python -c 'import numpy'": [py, "-c", "import numpy"],
            "python -c 'import numpy, yaml, pydantic'": [py, "-c", "import numpy, yaml, pydantic"],
            f"{MODEL_FLOOR} (class M(BaseModel): x: int)": [py, "-c", model],
            f"{MODEL_FLOOR} + click, collector paused as validate pauses it": [py, "-c", paused],
            "nngraph validate examples/xor.yaml": [str(exe), "validate", str(small)]}
    # as a user runs them: with compiled bytecode cached (an environment may switch the cache off)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for cmd in cmds.values():
        subprocess.run(cmd, capture_output=True, check=True, env=env)
    wall, cpu = {k: [] for k in cmds}, {k: [] for k in cmds}
    for _ in range(7 if quick else 15):  # interleaved: a busy neighbour hurts every command alike
        for k, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            wall[k].append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

    def ms(v):
        return f"{np.median(v) * 1000:.0f} ({min(v) * 1000:.0f}–{max(v) * 1000:.0f})"
    base_wall, base_cpu = np.median(wall["python -c pass"]), np.median(cpu["python -c pass"])
    rows = [[k, ms(wall[k]), ms(cpu[k]), f"{np.median(wall[k]) / base_wall:.1f}",
             f"{(np.median(cpu[k]) - base_cpu) * 1000:.0f}"] for k in cmds]
    header = ["command", "wall ms", "CPU ms (user + system)", "wall relative to python -c pass",
              "CPU ms above python -c pass"]
    if os.environ.get("NNGRAPH_BENCH_CALLGRIND") and shutil.which("valgrind"):
        # instructions executed in user space: the same on a quiet or a busy machine (a few
        # minutes: valgrind runs each command some 50x slower)
        counts = {k: _instructions(cmd, env) for k, cmd in cmds.items()}
        for row in rows:
            row.append(f"{counts[row[0]] / 1e6:,.0f}")
        header.append("instructions, millions (callgrind)")
    RESULTS["startup"] = table("Start-up: whole processes, median (min–max) of interleaved rounds", header, rows)


def _instructions(cmd, env):
    out = subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null",
                          *cmd], capture_output=True, text=True, env=env, check=True).stderr
    return int([line for line in out.splitlines() if "Collected :" in line][-1].split()[-1])


# -- compile time, scaling, memory --------------------------------------------------------------------


def _compile_child(edges):
    """Run in a child process: build+compile+run the irregular graph; print times and peak RSS."""
    neurons = max(200, edges // 50)
    spec = irregular_spec(neurons, edges)
    t0 = time.perf_counter()
    s = nngraph.load(spec)
    t1 = time.perf_counter()
    g = nngraph.build(s)
    t2 = time.perf_counter()
    plan = compile(g)
    t3 = time.perf_counter()
    x = np.zeros((1000, plan.input_width), np.float32)
    plan.forward(x)
    t4 = time.perf_counter()
    print(json.dumps({"edges": edges, "neurons": neurons, "validate_models": t1 - t0, "build": t2 - t1,
                      "compile": t3 - t2, "forward_1000": t4 - t3,
                      "peak_rss_mib": peak_rss_mib()}))


def _hand_child(edges):
    """Run in a child process: the hand-written numpy/scipy build of the same graph and a first
    forward at batch 1,000 (benchmarks/handbuild.py); print the time and peak RSS."""
    from handbuild import hand_build

    neurons = max(200, edges // 50)
    spec = irregular_spec(neurons, edges)
    t0 = time.perf_counter()
    forward = hand_build(spec)
    t1 = time.perf_counter()
    forward(np.zeros((1000, spec["nodes"][0]["size"]), np.float32))
    print(json.dumps({"edges": edges, "build": t1 - t0, "peak_rss_mib": peak_rss_mib()}))


def bench_compile(threads_list, quick):
    spec = mlp_spec((784, 256, 256, 10))
    t_mlp = best_of(lambda: compile(spec), 5)
    path = HERE.parent / "specs" / "mnist_mlp.yaml"
    t_mlp_file = best_of(lambda: compile(path, use_file=False), 5)
    g = nngraph.build(irregular_spec(2000, 100_000))
    t_irr = best_of(lambda: compile(g), 3)
    t_irr_build = best_of(lambda: nngraph.build(irregular_spec(2000, 100_000)), 2)
    rows = [["MNIST MLP (dict -> plan: validate, build, compile, initialise 269k weights)", f"{t_mlp * 1000:.1f} ms"],
            ["specs/mnist_mlp.yaml (read, parse, validate, build, compile)", f"{t_mlp_file * 1000:.1f} ms"],
            ["irregular 2,000 neurons / 100k edges: build (validate, prove acyclic, depth)", f"{t_irr_build * 1000:.0f} ms"],
            ["irregular 2,000 neurons / 100k edges: compile (layout, blocks, weights)", f"{t_irr * 1000:.0f} ms"]]
    RESULTS["compile"] = table("Compile time", ["what", "time"], rows)
    scaling = []
    for edges in ([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]):
        out = subprocess.run([sys.executable, __file__, "--child-compile", str(edges)], capture_output=True,
                             text=True, check=True).stdout
        r = json.loads(out)
        hand = json.loads(subprocess.run([sys.executable, __file__, "--child-hand", str(edges)], capture_output=True,
                                         text=True, check=True).stdout)
        total = r["validate_models"] + r["build"] + r["compile"]
        scaling.append([f"{edges:,}", f"{r['neurons']:,}", f"{r['validate_models']:.2f}", f"{r['build']:.2f}",
                        f"{r['compile']:.2f}", f"{total / edges * 1e6:.1f}", f"{r['forward_1000']:.3f}",
                        f"{r['peak_rss_mib']:.0f}", f"{hand['peak_rss_mib']:.0f}",
                        f"{r['peak_rss_mib'] / hand['peak_rss_mib']:.2f}"])
    RESULTS["scaling"] = table("Scaling with edges (irregular graphs, one process each; the same spec dict built "
                               "by nngraph and by hand-written numpy/scipy)",
                               ["edges", "neurons", "validate s", "build s", "compile s", "µs per edge (total)",
                                "first forward, batch 1,000 (s)", "peak RSS MiB", "hand-written peak RSS MiB",
                                "nngraph / hand-written memory"], scaling)


# -- loading --------------------------------------------------------------------------------------------


def _edge_spec_text(n_edges, fmt, compact=False):
    rng = np.random.default_rng(0)
    codes = np.sort(rng.choice(300 * 700, size=n_edges, replace=False))
    src, dst = np.divmod(codes, 700)
    w = np.round(rng.normal(size=len(src)), 3)
    head = {"nngraph": 1, "name": "big", "nodes": [{"name": "h1", "role": "input", "size": 300},
                                                   {"name": "out", "role": "output", "size": 700}]}
    if fmt == "json":
        key = "edge_table" if compact else "edges"
        rows = ([[f"h1[{a}]", f"out[{b}]", float(c)] for a, b, c in zip(src, dst, w)] if compact else
                [{"from": f"h1[{a}]", "to": f"out[{b}]", "weight": float(c)} for a, b, c in zip(src, dst, w)])
        return json.dumps({**head, key: rows}), len(src)
    lines = ["nngraph: 1", "name: big", "nodes:", "  - {name: h1, role: input, size: 300}",
             "  - {name: out, role: output, size: 700}"]
    if compact:
        lines.append("edge_table:")
        lines += [f'  - ["h1[{a}]", "out[{b}]", {c}]' for a, b, c in zip(src, dst, w)]
    else:
        lines.append("edges:")
        lines += [f'  - {{from: "h1[{a}]", to: "out[{b}]", weight: {c}}}' for a, b, c in zip(src, dst, w)]
    return "\n".join(lines) + "\n", len(src)


def _cpu_rounds(candidates: dict, rounds: int):
    """CPU seconds of one call of each candidate per round, rounds interleaved: name -> (median,
    min, max). CPU time of this process (time.process_time), not wall time: on a shared machine
    the wall clock also counts the turns the other processes get. The cyclic garbage collector
    is emptied before every call, so each starts from the same heap."""
    for fn in candidates.values():
        fn()
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            gc.collect()
            t = time.process_time()
            fn()
            times[name].append(time.process_time() - t)
    return {name: (float(np.median(v)), min(v), max(v)) for name, v in times.items()}


def bench_load(threads_list, quick):
    """Load + build of explicit edges against the parsers alone. The baselines are timed as a
    user calls them (garbage collector on) and with the collector paused: nngraph pauses it while
    it parses and validates (a spec's data has no cycles), and most of PyYAML's time on 100k
    mappings is the collector's, so the paused figure is the stricter yardstick."""
    import yaml

    n = 20_000 if quick else 100_000
    yaml_text, count = _edge_spec_text(n, "yaml")
    json_text, _ = _edge_spec_text(n, "json")
    table_text, _ = _edge_spec_text(n, "yaml", compact=True)
    table_json, _ = _edge_spec_text(n, "json", compact=True)

    def paused(fn):
        def run():
            gc.disable()
            try:
                return fn()
            finally:
                gc.enable()
        return run

    def ours(text, fmt):
        return lambda: nngraph.build(nngraph.load(text, format=fmt))

    cands = {
        "PyYAML C loader alone (baseline)": lambda: yaml.load(yaml_text, Loader=yaml.CSafeLoader),
        "PyYAML C loader alone, garbage collector paused": paused(lambda: yaml.load(yaml_text, Loader=yaml.CSafeLoader)),
        "json.loads alone (baseline)": lambda: json.loads(json_text),
        "json.loads alone, garbage collector paused": paused(lambda: json.loads(json_text)),
        "nngraph load + build, YAML edge mappings": ours(yaml_text, "yaml"),
        "nngraph load + build, JSON edge mappings": ours(json_text, "json"),
        "nngraph load + build, YAML edge_table rows": ours(table_text, "yaml"),
        "nngraph load + build, JSON edge_table rows": ours(table_json, "json"),
    }
    found = _cpu_rounds(cands, 3 if quick else 5)
    bases = [found[k][0] for k in ("PyYAML C loader alone (baseline)", "PyYAML C loader alone, garbage collector paused",
                                   "json.loads alone (baseline)", "json.loads alone, garbage collector paused")]
    rows = []
    for name, (med, lo, hi) in found.items():
        rows.append([name, f"{med:.3f} ({lo:.3f}–{hi:.3f})"] + [f"{med / b:.2f}" for b in bases])
    t_mlp = best_of(lambda: nngraph.build(HERE.parent / "specs" / "mnist_mlp.yaml"), 5)
    rows.append(["specs/mnist_mlp.yaml, dense 784-256-256-10 (load + build, wall)", f"{t_mlp * 1000:.1f} ms",
                 "-", "-", "-", "-"])
    RESULTS["load"] = table(
        f"Loading and validating {count:,} explicit edges: CPU seconds, median (min–max) of {3 if quick else 5} "
        "interleaved rounds, and each median over each baseline's",
        ["what", "CPU s", "/ PyYAML C loader", "/ C loader, gc paused", "/ json.loads", "/ json.loads, gc paused"],
        rows)


# -- training -----------------------------------------------------------------------------------------


def bench_train(threads_list, quick):
    """Each trainer in its own process, epochs interleaved (benchmarks/train_compare.py); the
    products of one step alone, numpy's BLAS against PyTorch's (benchmarks/train_gemm.py)."""
    from train_compare import compare

    rows = []
    datasets = ["mnist"]
    from nngraph.data.datasets import _find_idx, SYSTEM_DIRS

    if any(_find_idx(d) for d in SYSTEM_DIRS["fashion_mnist"]):
        datasets.append("fashion_mnist")
    trainers = ["nngraph", "numpy"]
    try:
        import torch  # noqa: F401
        trainers.append("torch")
    except ImportError:
        pass

    def med(values):
        values = values[1:] or values  # the first epoch warms up
        return float(np.median(values)), min(values), max(values)
    for data in datasets:
        for n in threads_list:
            found = compare(trainers, data, n, 4 if quick else 6)
            ours_wall, ours_cpu = med(found["nngraph"]["epoch_seconds"])[0], med(found["nngraph"]["epoch_cpu_seconds"])[0]
            for trainer, r in found.items():
                wall, cpu = med(r["epoch_seconds"]), med(r["epoch_cpu_seconds"])
                rows.append([data, r["n_train"], n, trainer, f"{wall[0]:.2f} ({wall[1]:.2f}–{wall[2]:.2f})",
                             f"{cpu[0]:.2f}", f"{ours_wall / wall[0]:.2f}", f"{ours_cpu / cpu[0]:.2f}",
                             f"{100 * r['accuracy']:.1f}", f"{r['peak_rss_mib']:.0f}"])
    RESULTS["train"] = table(
        "Training 784-256-128-10, Adam 1e-3, batch 128, float32 (median epoch after the first)",
        ["data", "train samples", "threads", "trainer", "s/epoch, wall (min–max)", "s/epoch, CPU",
         "nngraph time / this, wall", "nngraph time / this, CPU", "test acc %", "peak RSS MiB"], rows)
    if "torch" in trainers:
        from train_gemm import SHAPES, measure

        rows = []
        for n in threads_list:
            found = measure(n, 5 if quick else 9)
            for (label, m, k, cols, _), a, b in zip(SHAPES, found["numpy"], found["torch"]):
                rows.append([n, label, f"{m}x{k} @ {k}x{cols}", f"{a * 1e6:.0f}", f"{b * 1e6:.0f}", f"{a / b:.2f}"])
            a, b = sum(found["numpy"]), sum(found["torch"])
            rows.append([n, "**one step's products**", "", f"{a * 1e6:.0f}", f"{b * 1e6:.0f}", f"{a / b:.2f}"])
        RESULTS["train_gemm"] = table(
            "The matrix products of one training step alone, numpy's BLAS vs PyTorch's (µs; CPU time at 1 thread, wall at 2)",
            ["threads", "product", "shape", "numpy (OpenBLAS)", "PyTorch", "numpy time / PyTorch"], rows)


def bench_train_features(threads_list, quick):
    """What l1 + max_norm + a schedule, and a checkpoint every epoch, add to an epoch
    (benchmarks/train_features.py), on Fashion-MNIST when it is installed: seconds per epoch
    (medians over rounds), and the ratio to base in the same round (median, min-max)."""
    import statistics

    from nngraph.data.datasets import _find_idx, SYSTEM_DIRS
    from train_features import load, measure, ratios

    name = "fashion_mnist" if any(_find_idx(d) for d in SYSTEM_DIRS["fashion_mnist"]) else "mnist"
    data = load(name)
    rows = []
    labels = {"reg": "l1 + max_norm + cosine schedule (train section)", "nodes": "the same set per node and edge",
              "ckpt": "a checkpoint every epoch"}
    for n in threads_list:
        times = measure(data, n, 3 if quick else 7, 2)
        wall = {c: statistics.median(t[0] for t in v) for c, v in times.items()}
        cpu = {c: statistics.median(t[1] for t in v) for c, v in times.items()}
        for c, label in labels.items():
            rw, rc = ratios(times, c, 0), ratios(times, c, 1)
            rows.append([name, n, label, f"{wall['base']:.2f}", f"{wall[c]:.2f}",
                         f"{statistics.median(rw):.3f} ({min(rw):.2f}–{max(rw):.2f})", f"{cpu['base']:.2f}",
                         f"{cpu[c]:.2f}", f"{statistics.median(rc):.3f} ({min(rc):.2f}–{max(rc):.2f})"])
    RESULTS["train_features"] = table(
        "What regularizers, a schedule and checkpoints add to a training epoch (784-256-128-10, Adam, batch 128)",
        ["data", "threads", "added", "base s/epoch, wall", "with it", "ratio, wall (min–max)", "base s/epoch, CPU",
         "with it", "ratio, CPU (min–max)"], rows)


# -- sparse threshold -----------------------------------------------------------------------------------


def bench_sparse(threads_list, quick):
    import scipy.sparse as sp

    rows = []
    rng = np.random.default_rng(0)
    m = n = 1000
    a = rng.random((1000, m), dtype=np.float32)
    at = np.ascontiguousarray(a.T)  # the runtime transposes each source stage once per pass
    for threads in threads_list:
        with threads_ctx(threads):
            for density in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5):
                w = sp.random_array((m, n), density=density, format="csr", dtype=np.float32, rng=rng)
                dense = w.toarray()
                wt = w.T.tocsr()
                out = np.empty((1000, n), np.float32)
                t_dense = best_of(lambda: np.matmul(a, dense, out=out), 5)

                def sparse_product():
                    out[...] = (wt @ at).T  # as nngraph runs a CSR block
                t_sparse = best_of(sparse_product, 5)
                rows.append([threads, f"{density:.1%}", f"{t_dense * 1000:.2f}", f"{t_sparse * 1000:.2f}",
                             "sparse" if t_sparse < t_dense else "dense"])
    RESULTS["sparse"] = table("Dense vs CSR block (stored transposed), 1000x1000 weights, batch 1,000, float32 (ms)",
                              ["threads", "density", "dense matmul", "CSR", "faster"], rows)


# -- drawing ---------------------------------------------------------------------------------------------


def bench_draw(threads_list, quick):
    from nngraph.draw import render

    rows = []
    with tempfile.TemporaryDirectory() as d:
        spec_path = HERE.parent / "specs" / "mnist_mlp.yaml"
        for view in ("neuron", "layer", "stage"):
            for fmt in ("svg", "png"):
                t = best_of(lambda: render(spec_path, Path(d) / f"m.{fmt}", view=view), 2)
                rows.append(["specs/mnist_mlp.yaml", view, fmt, f"{t:.2f}"])
        irr = Path(d) / "irr.json"
        irr.write_text(json.dumps(irregular_spec(2000, 100_000)))
        for view in ("layer", "stage"):
            t = best_of(lambda: render(irr, Path(d) / "i.svg", view=view), 1)
            rows.append(["irregular 2,000 neurons, 100k edges (JSON)", view, "svg", f"{t:.2f}"])
    RESULTS["draw"] = table("Drawing (whole command: load, build, lay out, render)",
                            ["spec", "view", "format", "seconds"], rows)


SECTIONS = {"latency": bench_latency, "threads": bench_threads, "forward": bench_forward, "irregular": bench_irregular, "compile": bench_compile, "load": bench_load,
            "train": bench_train, "train_features": bench_train_features, "sparse": bench_sparse, "draw": bench_draw,
            "startup": bench_startup}


# The page's own parts, written from this file and the two texts beside it; every other '## '
# section of the page is a table of figures.
SHORT, GUIDE, TARGETS, METHOD = ("In short", "How to run fast", "Targets: what nngraph aims for, and this run",
                                 "How the figures were measured")
PAGE_PARTS = {SHORT, GUIDE, TARGETS, METHOD, "Goals and where this run stands"}
# The tables in the order a reader needs them (matched on how a title starts), each with
# a sentence on what it shows.
TABLES = [
    ("Forward pass, MNIST", "A layered network on a large batch: nngraph against the same network and weights in "
     "hand-written numpy, onnxruntime and PyTorch. \"The 3 products alone\" rows time only the three matrix "
     "products, in numpy's kernel (OpenBLAS, which nngraph uses) and in onnxruntime's (MLAS): no implementation "
     "built on a kernel is faster than its products alone."),
    ("Forward latency, MLP", "Small batches: the time of one call. \"before: previous runtime\" is an earlier "
     "version of nngraph's forward pass, kept to show that single-thread calls did not get slower."),
    ("One plan served", "A server's case: Python threads share one compiled plan, each call a batch of 32."),
    ("Forward pass, irregular", "NEAT-style and sparse graphs against the fastest way to write them by hand: "
     "neurons ordered by depth, one weight matrix per depth level, dense (BLAS) or CSR (scipy), whichever is "
     "faster (\"which\"). The rows without figures describe each graph's compiled plan."),
    ("Irregular graphs, nngraph", "What a second thread (`plan.threads = 2`) gives on irregular graphs."),
    ("Per-sample evaluators vs", "Evaluating neuron by neuron and sample by sample, as NEAT libraries do, against "
     "the compiled plan on a batch."),
    ("Dense vs CSR", "One block of weights stored dense or sparse (CSR). nngraph stores a block as CSR below 8% "
     "density, and below 22% in stages narrower than 128 neurons, where dense products are far from BLAS's "
     "peak; `nngraph inspect` shows which blocks are sparse."),
    ("Training 784-256-128-10, Adam", "One training epoch by nngraph, by the same training written in numpy, and "
     "by PyTorch, each in its own process. \"nngraph time / this\" below 1 means nngraph is faster."),
    ("What regularizers, a", "What training features cost: an epoch with the feature over one without, timed "
     "in the same rounds. The optimizer's compiled step takes the L1 term and max-norm's norms in its own pass "
     "(see [design.md](design.md#training)); on a shared machine the rounds spread widely, and "
     "`benchmarks/train_features.py --breakdown`, which times each part of a step by thread CPU in interleaved "
     "blocks, is the steadier view of what the three together add to a step."),
    ("The matrix products", "Only the matrix products of one training step, in numpy's BLAS and in PyTorch's: "
     "the part of a difference from PyTorch that is the kernel, which the code around it cannot change."),
    ("Start-up: whole processes", "How long a command takes, as a whole process, against the Python interpreter "
     "alone; the rows between are the imports a command cannot do without."),
    ("Compile time", "Turning a spec into a runnable plan."),
    ("Loading and validating", "Reading a big spec: 100,000 connections written out one by one, against the "
     "parsers alone."),
    ("Scaling with edges", "Time and memory as irregular graphs grow, each size in a fresh process, against a "
     "hand-written numpy/scipy build of the same graph."),
    ("Drawing (whole command:", "`nngraph draw` as a whole command: load, build, lay out, render."),
]


def _table_entry(title):
    return next((i for i, (start, _) in enumerate(TABLES) if title.startswith(start)), len(TABLES))


def _earlier_sections(path):
    """The '## ' sections of an existing performance page, by title (kept when not re-measured): of
    a table, its table lines only (the sentence above it is written anew each time)."""
    if not path.exists():
        return {}
    out, title = {}, None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            title = line[3:].removesuffix(" (from an earlier run)")
            out[title] = []
        elif title is not None and (title in PAGE_PARTS or line.startswith("|")):
            out[title].append(line)
    return {t: (body if t in PAGE_PARTS else [""] + body + [""]) for t, body in out.items()}


def _rows(body):
    """A markdown table's rows as dicts by column name."""
    table = [[c.strip() for c in line.strip().strip("|").split("|")] for line in body if line.startswith("|")]
    return [dict(zip(table[0], row)) for row in table[2:]] if len(table) > 2 else []


def _in_short(sections, goals):
    """The page's opening: what is fast, what is not, each figure quoted from the tables below (a
    point whose table or row is missing is left out)."""
    def rows(start):
        return next(_rows(body) for title, body in sections if title.startswith(start))

    def fig(start, column, **match):  # a table's cell without its (min–max)
        found = next(r for r in rows(start) if all(r.get(k) == v for k, v in match.items()))
        return found[column].split()[0]

    def goal(start):
        return next(g[2] for g in goals if g[0].startswith(start)).removesuffix(" (earlier run)")

    speed = "nngraph speed relative to it"
    mlp = partial(fig, "Forward pass, MNIST")
    lat = partial(fig, "Forward latency", implementation="nngraph plan.forward")
    bound = partial(fig, "Forward latency", implementation="nngraph plan.bind() (prebound)")
    other = partial(fig, "Forward latency", speed, threads="1", batch="1")
    epoch = partial(fig, "Training 784-256-128-10", "s/epoch, wall (min–max)", data="fashion_mnist",
                    trainer="nngraph")
    extra = partial(fig, "What regularizers", "ratio, CPU (min–max)")
    regularized = "l1 + max_norm + cosine schedule (train section)"
    start = partial(fig, "Start-up", "wall ms")
    loaded = partial(fig, "Loading and validating", "CPU s")
    big = partial(fig, "Scaling with edges", edges="1,000,000")

    def irregular():
        ratios = sorted((r[speed] for r in rows("Forward pass, irregular") if r.get(speed)),
                        key=lambda t: float(t.rstrip("x")))
        per = rows("Per-sample evaluators")
        neat = next(r[speed] for r in per if r["implementation"].startswith("neat-python"))
        naive = next(r[speed] for r in per if r["implementation"].startswith("naive"))
        return ("**Irregular graphs** (NEAT-style, sparse, skip connections). The compiled plan runs "
                f"{ratios[0]} to {ratios[-1]}x the speed of the best hand-written per-level evaluator, "
                f"{neat} the speed of neat-python's own evaluator (one sample, one neuron at a time) and "
                f"{naive} that of a naive per-neuron loop, at batch 1,000.")
    fast = [
        lambda: ("**Layered networks, large batches.** The MNIST network (784-256-256-10) scores "
                 f"{mlp('samples/s', threads='1', implementation='nngraph')} samples/s on one thread at batch "
                 f"10,000 ({mlp('samples/s', threads='2', implementation='nngraph')} on two): "
                 f"{mlp(speed, threads='1', implementation='numpy (in-place buffers)')} the speed of the best "
                 f"hand-written numpy, about onnxruntime's ({mlp(speed, threads='1', implementation='onnxruntime')}) "
                 f"and {mlp(speed, threads='1', implementation='PyTorch')} PyTorch's."),
        lambda: (f"**One sample at a time.** A call at batch 1 takes {lat('µs per call', threads='1', batch='1')} µs "
                 f"on one thread ({bound('µs per call', threads='1', batch='1')} µs through `plan.bind()`): {other(implementation='numpy, hand-written')}x the speed of "
                 f"hand-written numpy and {other(implementation='onnxruntime')}x onnxruntime's. One call on a whole "
                 "batch is still far cheaper per sample than a call per sample."),
        irregular,
        lambda: ("**Training.** One epoch of Fashion-MNIST (60,000 images, 784-256-128-10, Adam, batch 128) takes "
                 f"{epoch(threads='1')} s on one thread and {epoch(threads='2')} s on two: "
                 f"{goal('training on Fashion-MNIST, 1 thread: nngraph vs hand-written numpy')}x the speed of the "
                 f"same training in numpy and {goal('training on Fashion-MNIST, 1 thread: nngraph vs PyTorch')}x "
                 "PyTorch's (one thread, CPU time)."),
        lambda: ("**Big specs.** 100,000 connections load and validate in "
                 f"{loaded(what='nngraph load + build, JSON edge mappings')} s of CPU from JSON and "
                 f"{loaded(what='nngraph load + build, YAML edge mappings')} s from YAML. A graph of a million "
                 f"connections loads, compiles and runs its first batch in {big('peak RSS MiB')} MiB at most "
                 f"({big('nngraph / hand-written memory')}x a hand-written numpy build of it)."),
        lambda: f"**Commands start quickly.** `nngraph --help` answers in {start(command='nngraph --help')} ms.",
    ]
    slow = [
        lambda: (f"**`nngraph validate` takes about {start(command='nngraph validate examples/xor.yaml')} ms** even "
                 "for a tiny spec: importing numpy, PyYAML and pydantic and building one pydantic model take "
                 f"{start(command=MODEL_FLOOR + ' (class M(BaseModel): x: int)')} ms alone. Check many specs in "
                 "one command (`nngraph validate a.yaml b.yaml ...`) or from Python."),
        lambda: ("**Batches of about 100 on one thread**: onnxruntime is faster (nngraph at "
                 f"{fig('Forward latency', speed, threads='1', batch='100', implementation='onnxruntime')} of its "
                 "speed)."),
        lambda: ("**Regularizers and schedules** make an epoch longer: L1, max-norm and a cosine schedule "
                 f"together {extra(threads='1', added=regularized)}x on one thread, "
                 f"{extra(threads='2', added=regularized)}x on two (CPU time); a checkpoint every epoch "
                 f"{extra(threads='1', added='a checkpoint every epoch')}x."),
        lambda: (f"**A second thread helps large batches only.** At batch 1 a call takes "
                 f"{lat('µs per call', threads='1', batch='1')} µs on one thread and "
                 f"{lat('µs per call', threads='2', batch='1')} µs on two; at batch 10,000 two threads score "
                 f"{mlp('samples/s', threads='2', implementation='nngraph')} samples/s against "
                 f"{mlp('samples/s', threads='1', implementation='nngraph')} on one."),
    ]

    def written(points):
        out = []
        for point in points:
            try:
                out.append("- " + point())
            except (StopIteration, KeyError, IndexError, ValueError):
                pass
        return out
    fast, slow = written(fast), written(slow)
    if not fast and not slow:
        return []
    return ([f"## {SHORT}", "", f"Figures from the tables below, on a {os.cpu_count()}-core machine shared with other "
             "work. What is fast, against hand-written code and the common libraries:", ""] + fast
            + (["", "What is slower, or not faster:", ""] + slow if slow else [])
            + ["", "Data larger than memory and Dask clusters: [scaling.md](scaling.md).", ""])


def _targets():
    """The goals of this page, each with the figure measured in this run: met or not met."""
    def num(text):
        return float(str(text).split()[0].replace(",", "").rstrip("x"))

    out = []

    def goal(what, target, figure, ok):
        out.append([what, target, figure, "met" if ok else "**not met**"])
    for row in RESULTS.get("latency", {}).get("rows", []):
        if str(row[0]) == "1" and row[1] == "1" and row[2] in ("onnxruntime", "numpy, hand-written"):
            goal(f"MLP batch 1, 1 thread: plan.forward vs {row[2]}", "≥ 1.00 (speed ratio)", row[4], num(row[4]) >= 1.0)
    for row in RESULTS.get("forward", {}).get("rows", []):
        if row[1] in ("onnxruntime", "numpy (in-place buffers)"):
            target = 0.95 if row[1] == "onnxruntime" else 1.0
            goal(f"MLP batch 10,000, {row[0]} thread{'s' if str(row[0]) != '1' else ''}: nngraph vs {row[1]}"
                 f" ({'CPU' if str(row[0]) == '1' else 'wall'})", f"≥ {target:.2f} (speed ratio)", row[3],
                 num(row[3]) >= target)
    start = {r[0]: num(r[1]) for r in RESULTS.get("startup", {}).get("rows", [])}
    if start:
        click = start.get("python -c 'import click'")
        goal("`nngraph --help`, wall", "≤ 100 ms", f"{start['nngraph --help']:.0f} ms (python -c pass: "
             f"{start['python -c pass']:.0f} ms" + (f", import click alone: {click:.0f} ms)" if click else ")"),
             start["nngraph --help"] <= 100)
        key = next(k for k in start if k.startswith("nngraph validate"))
        floor = next((k for k in start if k.startswith(MODEL_FLOOR)), None) or next(k for k in start if "pydantic" in k)
        goal(f"`{key}`, wall", "≤ 200 ms", f"{start[key]:.0f} ms ({floor.split(' (')[0].removeprefix('python -c ')}"
             f" alone: {start[floor]:.0f} ms)", start[key] <= 200)
    for row in RESULTS.get("load", {}).get("rows", []):
        if len(row) == 6 and row[0] == "nngraph load + build, JSON edge mappings":
            goal("load + build of 100k JSON edges vs json.loads", "≤ 3.0×",
                 f"{row[4]}× in CPU time ({row[5]}× json.loads with its garbage collector paused)", num(row[4]) <= 3.0)
        if len(row) == 6 and row[0] == "nngraph load + build, YAML edge mappings":
            goal("load + build of 100k YAML edges vs PyYAML's C loader", "≤ 0.20×",
                 f"{row[2]}× in CPU time ({row[3]}× the C loader with its garbage collector paused)", num(row[2]) <= 0.2)
    for row in RESULTS.get("scaling", {}).get("rows", []):
        if row[0] == "1,000,000" and len(row) > 9:
            goal("1M-edge load + build + compile + first forward: peak memory vs hand-written", "≤ 1.20×",
                 f"{row[9]}× ({row[7]} vs {row[8]} MiB)", num(row[9]) <= 1.2)
    for row in RESULTS.get("irregular_threads", {}).get("rows", []):
        if row[0].startswith("2,000") and row[1] == "10,000":
            goal("irregular 2,000 / 100k, batch 10k: 2 threads vs 1", "≥ 1.50×", f"{row[4]}×", num(row[4]) >= 1.5)
    irr = [r for r in RESULTS.get("irregular", {}).get("rows", []) if r[1]]
    if irr:
        low = min(irr, key=lambda r: num(r[6]))
        n = str(low[2]).split()[0]
        goal("irregular graphs vs the best hand-written per-level evaluator (every row)", "≥ 1.00",
             f"lowest {low[6]} ({low[0]}, batch {low[1]}, {n} thread{'s' if n != '1' else ''})",
             all(num(r[6]) >= 1.0 for r in irr))
    for row in RESULTS.get("train", {}).get("rows", []):
        if row[0] == "fashion_mnist" and row[3] in ("torch", "numpy") and len(row) > 7:
            target = 1.0 if row[3] == "torch" else 0.95
            clock = 7 if str(row[2]) == "1" else 6  # CPU time at 1 thread, wall at 2
            speed = 1 / num(row[clock])
            goal(f"training on Fashion-MNIST, {row[2]} thread{'s' if str(row[2]) != '1' else ''}: nngraph vs "
                 f"{'PyTorch' if row[3] == 'torch' else 'hand-written numpy'} ({'CPU' if clock == 7 else 'wall'})",
                 f"≥ {target:.2f} (speed ratio)", f"{speed:.2f}", speed >= target)
    for row in RESULTS.get("train_features", {}).get("rows", []):
        if row[2] != "the same set per node and edge":
            limit = 1.05 if row[2].startswith("l1") else 1.03
            goal(f"{row[0]} epoch, {row[1]} thread{'s' if str(row[1]) != '1' else ''}: {row[2]} vs without (CPU)",
                 f"≤ {limit:.2f}×", f"{num(row[8]):.3f}× (rounds {str(row[8]).partition(' ')[2].strip('()') or '–'}, wall "
                 f"{num(row[5]):.3f}×)", num(row[8]) <= limit)
    return out


def _libraries(info) -> str:
    """threadpoolctl's native libraries in words, each field only when it is known:
    ``openblas 0.3.31 (SkylakeX, pthreads); OpenMP: libgomp (from torch)``."""
    blas, other = [], []
    for i in info:
        name = i.get("internal_api") or i.get("prefix") or "unknown"
        if i.get("user_api") == "openmp":
            name = i.get("prefix") or name
        words = [name] + ([str(i["version"])] if i.get("version") else [])
        detail = [str(i[k]) for k in ("architecture", "threading_layer") if i.get(k)]
        parts = Path(i.get("filepath") or "").parts
        if "site-packages" in parts and parts.index("site-packages") + 1 < len(parts):
            package = parts[parts.index("site-packages") + 1].split(".")[0]  # numpy.libs -> numpy
            detail.append(f"from {package}")
        text = " ".join(words) + (f" ({', '.join(detail)})" if detail else "")
        if i.get("user_api") == "blas":
            blas.append(text)
        else:
            other.append(f"{'OpenMP' if i.get('user_api') == 'openmp' else i.get('user_api', 'library')}: {text}")
    return "; ".join(list(dict.fromkeys(blas)) or ["not found"]) + "".join(f"; {t}" for t in dict.fromkeys(other))


def write_docs():
    from threadpoolctl import threadpool_info

    blas = _libraries(threadpool_info())
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    load = RESULTS.get("_load", [])
    page = HERE.parent / "docs" / "performance.md"
    earlier = _earlier_sections(page)
    # the load averages of sections measured earlier stay beside this run's
    before = re.search(r"^How busy the machine was \(.*?\): (.*)\.$", page.read_text() if page.exists() else "", re.M)
    now = {name for name, _, _ in load}
    kept = [e for e in (before.group(1).split("; ") if before else []) if e.split(" ")[0] not in now and "→" in e]
    latest = {name: (a, b) for name, a, b in load}  # a section measured again: its last run's
    busy = "; ".join(kept + [f"{name} {a:.1f} → {b:.1f}" for name, (a, b) in latest.items()])
    goals = _targets()
    measured = {g[0] for g in goals}
    for line in earlier.get(TARGETS, earlier.get("Goals and where this run stands", [])):  # goals not measured now stay
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("goal", *measured) and set(cells[0]) != {"-"}:
            goals.append([cells[0], cells[1], cells[2] + ("" if cells[2].endswith("(earlier run)") else " (earlier run)"),
                          cells[3]])
    fresh = []  # (title, lines) of the sections measured in this run
    for key in ["latency", "threads", "forward", "irregular", "irregular_threads", "neat", "startup", "compile", "scaling", "load",
                "train", "train_gemm", "train_features", "sparse", "draw"]:
        if key not in RESULTS:
            continue
        r = RESULTS[key]
        fresh.append((r["title"], ["", "| " + " | ".join(r["header"]) + " |",
                                   "|" + "|".join("---" for _ in r["header"]) + "|"]
                      + ["| " + " | ".join(str(c) for c in row) + " |" for row in r["rows"]] + [""]))

    def same(a, b):  # a section's title keeps its first words when its details change
        return a == b or a.split()[:3] == b.split()[:3]
    sections, placed = [], set()  # (title as shown, body)
    for title, body in earlier.items():  # sections this run did not measure stay, marked
        if title in PAGE_PARTS:
            continue
        match = next((i for i, (t, _) in enumerate(fresh) if same(t, title)), None)
        if match is None:
            sections.append((f"{title} (from an earlier run)", body))
        elif match not in placed:
            sections.append(fresh[match])
            placed.add(match)
    sections += [section for i, section in enumerate(fresh) if i not in placed]
    sections.sort(key=lambda s: _table_entry(s[0]))

    lines = ["# Performance", "",
             "What speed to expect from nngraph, how to get it, and the measurements behind both: every figure "
             "compares nngraph with another implementation timed in the same run on the same machine (see "
             f"[{METHOD}](#how-the-figures-were-measured)).", ""]
    lines += _in_short(sections, goals)
    guide = (HERE / "guide.md").read_text() if (HERE / "guide.md").exists() else ""
    if guide:
        lines += [f"## {GUIDE}", "", guide.strip(), ""]
    if goals:
        lines += [f"## {TARGETS}", "",
                  "The speed nngraph is held to, each goal a ratio against a baseline timed in the same run (or a "
                  "time on this machine), with what this run measured; a goal missed is marked as such.", "",
                  "| goal | target | measured | |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(g) + " |" for g in goals]
        lines.append("")
    for title, body in sections:
        entry = _table_entry(title)
        lines += [f"## {title}", ""] + ([TABLES[entry][1]] if entry < len(TABLES) else []) + body
    lines += [f"## {METHOD}", "",
              f"The machine: {os.cpu_count()} cores shared with other work, Python {platform.python_version()}, "
              f"numpy {np.__version__}, BLAS: {blas}" + (f", OPENBLAS_CORETYPE={coretype}" if coretype else "") + ".", "",
              f"How busy the machine was (1-minute load average before → after each section): {busy or 'not recorded'}.",
              ""]
    if load:
        lines += [f"While this run measured, the load average was {min(min(a, b) for _, a, b in load):.1f} to "
                  f"{max(max(a, b) for _, a, b in load):.1f} on {os.cpu_count()} cores: wall times (start-up, "
                  "latency) and 2-thread speed-ups are not what a quiet machine gives; the ratios of candidates "
                  "timed in the same rounds hold.", ""]
    notes = (HERE / "notes.md").read_text() if (HERE / "notes.md").exists() else ""
    if notes:
        lines += [notes.strip(), ""]
    page.write_text("\n".join(lines).rstrip() + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--threads", default="1,2", help="BLAS thread counts to measure (default 1,2)")
    ap.add_argument("--write-docs", action="store_true", help="write docs/performance.md")
    ap.add_argument("--docs-only", action="store_true", help="rewrite docs/performance.md from the last results")
    ap.add_argument("--add", action="store_true", help="add to the last results instead of replacing them "
                    "(measure sections in separate runs, then --docs-only)")
    ap.add_argument("--child-compile", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-hand", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_compile:
        return _compile_child(args.child_compile)
    if args.child_hand:
        return _hand_child(args.child_hand)
    if args.docs_only:
        RESULTS.update(json.loads((HERE / "results" / "latest.json").read_text()))
        return write_docs()
    threads = [int(t) for t in args.threads.split(",")]
    if args.add and (HERE / "results" / "latest.json").exists():
        RESULTS.update(json.loads((HERE / "results" / "latest.json").read_text()))
        LOAD.extend(tuple(x) for x in RESULTS.pop("_load", []))
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    (HERE / "results").mkdir(exist_ok=True)
    for name in chosen:
        before = loadavg()
        SECTIONS[name](threads, args.quick)
        LOAD.append((name, before, loadavg()))
        RESULTS["_load"] = LOAD  # saved after every section, so a long run keeps what it measured
        (HERE / "results" / "latest.json").write_text(json.dumps(RESULTS, indent=2))
    if args.write_docs:
        write_docs()


if __name__ == "__main__":
    main()
