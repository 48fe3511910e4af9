"""Speed of seeing inside a network: traced forward, the HTML page, decision regions, deep chains.

    python benchmarks/seeing.py            # 1 and 2 BLAS threads, rounds interleaved, medians
    python benchmarks/seeing.py --quick    # without the 100,000-neuron chain
    python benchmarks/seeing.py --only forward_vs_trace,regions_200x200

Every figure comes with its baseline from the same run: the traced forward against the untraced
one, the page's recompute against nothing (it is measured in the browser), the regions plot's
forward pass against the whole plot, the chain's scene against its graph build.
"""
from __future__ import annotations

import builtins
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nngraph.compile import compile  # noqa: E402


def _median_us(fn, repeat=200, rounds=5, clock=time.perf_counter):
    out = []
    for _ in range(rounds):
        t = clock()
        for _ in range(repeat):
            fn()
        out.append((clock() - t) / repeat * 1e6)
    return statistics.median(out)


def forward_vs_trace(threads):
    from threadpoolctl import threadpool_limits

    plan = compile(ROOT / "specs" / "mnist_mlp.yaml")
    x = np.random.default_rng(0).random((1, plan.input_width)).astype(np.float32)
    plan.forward(x), plan.trace(x)
    with threadpool_limits(threads):
        rows = {"forward_us": [], "trace_us": [], "forward_cpu_us": [], "trace_cpu_us": []}
        for _ in range(9):  # interleaved rounds; CPU time too, as a busy machine inflates the wall clock
            rows["forward_us"].append(_median_us(lambda: plan.forward(x), rounds=1))
            rows["trace_us"].append(_median_us(lambda: plan.trace(x), rounds=1))
            rows["forward_cpu_us"].append(_median_us(lambda: plan.forward(x), rounds=1, clock=time.process_time))
            rows["trace_cpu_us"].append(_median_us(lambda: plan.trace(x), rounds=1, clock=time.process_time))
    out = {"threads": threads, **{k: round(statistics.median(v), 1) for k, v in rows.items()}}
    out["trace_over_forward"] = round(out["trace_us"] / out["forward_us"], 2)
    out["trace_over_forward_cpu"] = round(out["trace_cpu_us"] / out["forward_cpu_us"], 2)
    return out


BARE_IMSHOW = """
import numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 5))
ax.imshow(np.random.default_rng(0).random((200, 200)), origin="lower", cmap="RdBu")
fig.savefig(PATH, dpi=110)
plt.close(fig)
"""


def regions_200():
    """The regions plot against a bare imshow of the same 200×200 grid (same figure size and dpi),
    both in a warm process and as a fresh process (the command, against importing matplotlib and
    drawing the bare imshow); wall and CPU, rounds interleaved."""
    import subprocess

    from nngraph.plot import regions

    spec = ROOT / "examples" / "xor_train.yaml"
    plan = compile(spec)
    grid = np.random.default_rng(0).random((200 * 200, 2)).astype(np.float32)
    fwd = statistics.median(_time(lambda: plan.forward(grid)) for _ in range(5))
    bare = builtins.compile(BARE_IMSHOW, "bare", "exec")
    with tempfile.TemporaryDirectory() as d:
        out, base = Path(d) / "r.png", Path(d) / "b.png"
        regions(spec, out, resolution=200)  # matplotlib's import and font cache, once
        rows = {"regions_s": [], "regions_cpu_s": [], "bare_s": [], "bare_cpu_s": [], "cli_s": [], "cli_cpu_s": [],
                "cli_bare_s": [], "cli_bare_cpu_s": []}
        for _ in range(5):
            rows["regions_s"].append(_time(lambda: regions(spec, out, resolution=200)))
            rows["regions_cpu_s"].append(_time(lambda: regions(spec, out, resolution=200), time.process_time))
            rows["bare_s"].append(_time(lambda: exec(bare, {"PATH": str(base)})))
            rows["bare_cpu_s"].append(_time(lambda: exec(bare, {"PATH": str(base)}), time.process_time))
            cli = [sys.executable, "-m", "nngraph.cli", "plot", "regions", str(spec), "-o", str(out)]
            for key, cmd in (("cli", cli), ("cli_bare", [sys.executable, "-c", f"PATH = {str(base)!r}" + BARE_IMSHOW])):
                cpu = _children_cpu()
                rows[f"{key}_s"].append(_time(lambda: subprocess.run(cmd, check=True, capture_output=True)))
                rows[f"{key}_cpu_s"].append(_children_cpu() - cpu)
    result = {"forward_40k_s": round(fwd, 4)}
    result.update({k: round(statistics.median(v), 3) for k, v in rows.items()})
    result["regions_over_bare"] = round(result["regions_s"] / result["bare_s"], 2)
    result["cli_over_bare"] = round(result["cli_s"] / result["cli_bare_s"], 2)
    result["cli_cpu_over_bare"] = round(result["cli_cpu_s"] / result["cli_bare_cpu_s"], 2)
    return result


def _children_cpu():
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time(fn, clock=time.perf_counter):
    t = clock()
    fn()
    return clock() - t


def chain(n):
    from nngraph.draw import render
    from nngraph.graph import build

    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "chain.yaml"
        spec.write_text(f"nngraph: 1\nname: chain\nnodes:\n  - {{name: x, role: input}}\n  - {{name: h, size: {n}}}\n"
                        f"  - {{name: y, role: output}}\nedges:\n  - {{from: x, to: 'h[0]', weight: 1}}\n"
                        f"  - {{from: 'h[0:{n - 1}]', to: 'h[1:{n}]', pattern: one_to_one, "
                        f"init: {{name: constant, value: 1}}}}\n  - {{from: 'h[{n - 1}]', to: y, weight: 1}}\n")
        t_build = _time(lambda: build(spec))
        t_focus = _time(lambda: render(spec, Path(d) / "c.svg", view="neuron", focus=f"h[{n // 2}]", radius=3))
        t_auto = _time(lambda: render(spec, Path(d) / "a.svg"))
    return {"neurons": n, "build_s": round(t_build, 2), "draw_focus_s": round(t_focus, 2),
            "draw_auto_layer_s": round(t_auto, 2)}


def page():
    from nngraph.draw import render

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        return {"skipped": "chromium and chromedriver are not installed"}
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    d = Path(tempfile.mkdtemp())
    html = d / "mnist.html"
    t_write = _time(lambda: render(ROOT / "specs" / "mnist_mlp.yaml", html))
    size = html.stat().st_size
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={d / 'profile'}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        opens, recompute = [], []
        for _ in range(5):
            browser.get("about:blank")
            t = time.perf_counter()
            browser.get(html.as_uri())  # returns after the load event; the page is interactive then
            assert browser.execute_script("return document.body.dataset.ready") == "1"
            opens.append(time.perf_counter() - t)
            x = np.random.default_rng(len(opens)).random(784).tolist()
            for _ in range(10):
                browser.execute_script("nngraph.setInputs(arguments[0])", x)
                recompute.append(browser.execute_script("return nngraph.lastMs"))
    finally:
        browser.quit()
        shutil.rmtree(d, ignore_errors=True)
    return {"bytes": size, "write_s": round(t_write, 2),
            "open_interactive_s": round(statistics.median(opens), 3),
            "recompute_ms": round(statistics.median(recompute), 2)}


def main():
    quick = "--quick" in sys.argv  # without the 100k chain (its graph build alone takes minutes today)
    parts = {"forward_vs_trace": lambda: [forward_vs_trace(1), forward_vs_trace(2)], "regions_200x200": regions_200,
             "mnist_page": page, "chain": lambda: [chain(20_000)] + ([] if quick else [chain(100_000)])}
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else list(parts)
    results = {name: parts[name]() for name in only}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
