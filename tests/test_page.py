"""The HTML page in a real browser (Debian's chromium, driven headless by selenium): inputs typed
into the page give the outputs plan.forward gives, hover and click work, and nothing is fetched."""
import json
import os
import re
import shutil
import tempfile

import numpy as np
import pytest

from nngraph.compile import compile
from nngraph.draw import render

from helpers import EX
from randomnets import SMOOTH, random_spec

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# skipped without a browser, except in CI (.ci/run sets NNGRAPH_REQUIRE_BROWSER), which must have one
pytestmark = pytest.mark.skipif((CHROMIUM is None or DRIVER is None) and not os.environ.get("NNGRAPH_REQUIRE_BROWSER"),
                                reason="chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="nngraph-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(browser, path):
    browser.get_log("performance")  # forget what the browser did before this page
    browser.get_log("browser")
    browser.get(path.as_uri())
    assert browser.execute_script("return document.body.dataset.ready") == "1", browser.get_log("browser")


def _fetched(browser, page):
    """Every request the page made (the page itself excluded), and any to the network at all
    (the browser's own chrome:// pages, such as the new tab it starts with, are not the page's)."""
    sent = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    requests = [m["params"] for m in sent if m["method"] == "Network.requestWillBeSent"]
    return [r["request"]["url"] for r in requests if r["request"]["url"] != page.as_uri()
            and (r.get("documentURL") == page.as_uri() or r["request"]["url"].startswith(("http", "ws", "ftp")))]


def _shown_outputs(browser, n):
    from selenium.webdriver.common.by import By

    return [float(browser.find_element(By.ID, f"out{k}").text) for k in range(n)]


def test_typed_inputs_give_plan_forward_outputs(browser, tmp_path):
    from selenium.webdriver.common.by import By

    for name, x in (("perceptron.yaml", [7, 3]), ("xor.yaml", [1, 0]), ("irregular.yaml", [0.3, -1.2, 2.5])):
        page = tmp_path / f"{name}.html"
        render(EX[name], page)
        _open(browser, page)
        fields = browser.find_elements(By.CSS_SELECTOR, "input.x")
        assert len(fields) == len(x)
        for field, v in zip(fields, x):
            field.clear()
            field.send_keys(str(v))
        plan = compile(EX[name])
        expected = plan.forward(np.array([x], dtype=np.float32))[0]
        np.testing.assert_allclose(_shown_outputs(browser, len(expected)), expected, rtol=1e-5, atol=1e-5)
        assert _fetched(browser, page) == [] and browser.get_log("browser") == []


def test_js_forward_equals_python_on_random_specs(browser, tmp_path):
    for seed in range(5):
        spec = tmp_path / f"r{seed}.json"
        spec.write_text(json.dumps(random_spec(seed, activations=SMOOTH)))
        page = tmp_path / f"r{seed}.html"
        render(spec, page)
        _open(browser, page)
        plan = compile(spec)
        x = np.random.default_rng(seed).normal(0, 1.5, (3, plan.input_width)).astype(np.float32)
        for row in x:
            got = browser.execute_script("return nngraph.forward(arguments[0]).outputs", row.tolist())
            np.testing.assert_allclose(got, plan.forward(row[None])[0], rtol=1e-5, atol=1e-5)


def test_mnist_page_is_small_and_recomputes(browser, tmp_path):
    page = tmp_path / "mnist.html"
    render(EX["mnist_mlp.yaml"], page)
    assert page.stat().st_size < 2 * 2**20
    _open(browser, page)
    plan = compile(EX["mnist_mlp.yaml"])
    x = np.random.default_rng(1).random((1, plan.input_width)).astype(np.float32)
    browser.execute_script("nngraph.setInputs(arguments[0])", x[0].tolist())
    np.testing.assert_allclose(_shown_outputs(browser, 10), plan.forward(x)[0], rtol=1e-5, atol=1e-5)
    text = page.read_text()
    assert "⋮ 773 more" in text and 'id="pad"' in text  # wide layers collapsed; a 28x28 pad
    assert _fetched(browser, page) == []


def test_hover_and_click(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    page = tmp_path / "xor.html"
    render(EX["xor.yaml"], page)
    _open(browser, page)
    node = browser.find_element(By.ID, "n2")  # hidden[0]
    ActionChains(browser).move_to_element(node).perform()
    info = browser.find_element(By.ID, "info").text
    assert "hidden[0] (or): b = -0.5" in info and "activation = 0" in info
    node.click()
    on = browser.execute_script("return Array.from(document.querySelectorAll('g.edge.on'), "
                                "e => e.dataset.from + '>' + e.dataset.to).sort()")
    assert on == ["n0>n2", "n1>n2", "n2>n4"]  # its fan-in from x and fan-out to out
    assert browser.execute_script("return nngraph.selected") == "n2"


def test_hostile_labels_stay_text_in_the_page(browser, tmp_path):
    labels = ['<img src=x onerror="window.pwned=1">', "</script><script>window.pwned=2</script>",
              "\u2028'\";window.pwned=3;//"]
    spec = tmp_path / "h.json"
    spec.write_text(json.dumps({"nngraph": 1, "name": "h", "description": "<b onmouseover=alert(1)>hi</b>",
                                "nodes": [{"name": "x", "role": "input", "size": 3, "labels": labels},
                                          {"name": "y", "role": "output", "size": 3, "labels": labels}],
                                "edges": [{"from": "x", "to": "y", "weights": np.eye(3).tolist()}]}))
    page = tmp_path / "h.html"
    render(spec, page)
    _open(browser, page)
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.execute_script("return document.querySelectorAll('img, b').length") == 0
    assert labels[0] in browser.page_source.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert _fetched(browser, page) == []


def test_every_activation_has_a_javascript_formula():
    import re
    from importlib import resources

    from nngraph.activations import FORWARD

    script = resources.files("nngraph.draw").joinpath("page.js").read_text()
    table = script[script.index("const ACT = {"):script.index("function softmax")]
    assert set(FORWARD) - {"softmax"} == set(re.findall(r"^\s+(\w+): ", table, re.M))


def test_pages_over_the_limits_are_refused_with_advice(tmp_path, monkeypatch):
    from nngraph import draw as drawmod
    from nngraph.draw import page as pagemod

    monkeypatch.setattr(pagemod, "MAX_PAGE_WEIGHTS", 100)
    with pytest.raises(drawmod.DrawError, match=r"269,322 parameters; a page embeds at most 100 .*\(\.svg\)"):
        render(EX["mnist_mlp.yaml"], tmp_path / "m.html")
    with pytest.raises(drawmod.DrawError, match="neuron view"):
        render(EX["xor.yaml"], tmp_path / "x.html", view="layer")
    assert not list(tmp_path.iterdir())


def test_the_page_routes_skip_connections_around_neurons(browser, tmp_path, monkeypatch):
    """The page's connections, as the browser holds them after a recompute, pass no neuron they do
    not touch and do not coincide: the static view's routes, checked by the same geometry."""
    from nngraph import draw as drawmod

    from test_draw_geometry import check_geometry, _write

    monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    specs = [EX["irregular.yaml"]] + [_write(tmp_path, seed) for seed in range(4)]
    skipping = 0
    for k, spec in enumerate(specs):
        page = tmp_path / f"p{k}.html"
        render(spec, page)
        _open(browser, page)
        n = browser.execute_script("return document.querySelectorAll('input.x').length")
        x = [0.7 * (-1) ** i for i in range(n)]
        browser.execute_script("nngraph.setInputs(arguments[0])", x)
        shown = browser.execute_script("return new XMLSerializer().serializeToString(document.getElementById('diagram'))")
        edges = check_geometry(shown)
        skipping += sum(len(body) > 2 for _, _, body, _ in edges)
        # the static view of the same input has the same routes and the same arrowheads: the same
        # ends and lanes, and each head sized for its line's new width (the line stops at its base)
        static, _ = render(spec, tmp_path / f"p{k}.svg", view="neuron", inputs=np.array([x]))
        drawn = check_geometry(static.read_text(encoding="utf-8"))
        assert len(drawn) == len(edges)
        widths = [float(w) for w in re.findall(r'<polyline[^>]*stroke-width="([0-9.]+)"', shown)]
        assert len(set(widths)) > 2  # the recompute did change the widths, so the heads had to follow
        for got, want in zip(edges, drawn):
            assert got[:2] == want[:2]
            np.testing.assert_allclose(np.array(got[2] + got[3]), np.array(want[2] + want[3]), atol=0.11)
    assert skipping >= 3  # h[1] -> y in the irregular network, and the random specs' skips
