"""Speed of seeing inside a network: traced forward, the HTML page, decision regions, deep chains.

    python benchmarks/seeing.py            # 1 and 2 BLAS threads, rounds interleaved, medians
    python benchmarks/seeing.py --quick    # without the 100,000-neuron chain

Every figure comes with its baseline from the same run: the traced forward against the untraced
one, the page's recompute against nothing (it is measured in the browser), the regions plot's
forward pass against the whole plot, the chain's scene against its graph build.
"""
from __future__ import annotations

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


def _median_us(fn, repeat=200, rounds=5):
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(repeat):
            fn()
        out.append((time.perf_counter() - t) / repeat * 1e6)
    return statistics.median(out)


def forward_vs_trace(threads):
    from threadpoolctl import threadpool_limits

    plan = compile(ROOT / "specs" / "mnist_mlp.yaml")
    x = np.random.default_rng(0).random((1, plan.input_width)).astype(np.float32)
    plan.forward(x), plan.trace(x)
    with threadpool_limits(threads):
        fwd, tr = [], []
        for _ in range(5):  # interleaved rounds
            fwd.append(_median_us(lambda: plan.forward(x), rounds=1))
            tr.append(_median_us(lambda: plan.trace(x), rounds=1))
    f, t = statistics.median(fwd), statistics.median(tr)
    return {"threads": threads, "forward_us": round(f, 1), "trace_us": round(t, 1), "trace_over_forward": round(t / f, 2)}


def regions_200():
    from nngraph.plot import regions

    spec = ROOT / "examples" / "xor_train.yaml"
    plan = compile(spec)
    grid = np.random.default_rng(0).random((200 * 200, 2)).astype(np.float32)
    fwd = statistics.median(_time(lambda: plan.forward(grid)) for _ in range(5))
    with tempfile.TemporaryDirectory() as d:
        regions(spec, Path(d) / "r.png", resolution=200)  # matplotlib's import and font cache, once
        total = statistics.median(_time(lambda: regions(spec, Path(d) / "r.png", resolution=200)) for _ in range(3))
        cpu = statistics.median(_time(lambda: regions(spec, Path(d) / "r.png", resolution=200), time.process_time)
                                for _ in range(3))
    return {"forward_40k_s": round(fwd, 4), "regions_png_s": round(total, 3), "regions_png_cpu_s": round(cpu, 3)}


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
    results = {"forward_vs_trace": [forward_vs_trace(1), forward_vs_trace(2)], "regions_200x200": regions_200(),
               "mnist_page": page(), "chain": [chain(20_000)] + ([] if quick else [chain(100_000)])}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
