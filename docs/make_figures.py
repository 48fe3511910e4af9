"""Regenerate the pictures in docs/figures from the examples and specs: python docs/make_figures.py"""
from __future__ import annotations

from pathlib import Path

from nngraph.draw import render

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "figures"

FIGURES = [
    ("examples/perceptron.yaml", "neuron"),
    ("examples/fast_food.yaml", "neuron"),
    ("examples/xor.yaml", "neuron"),
    ("examples/skip_connection.yaml", "neuron"),
    ("examples/skip_connection.yaml", "stage"),
    ("examples/irregular.yaml", "neuron"),
    ("examples/irregular.yaml", "stage"),
    ("specs/mnist_mlp.yaml", "neuron"),
    ("specs/mnist_mlp.yaml", "layer"),
]


def trained_mnist():
    """The MNIST MLP with real weights: train it (about a second) in a scratch copy."""
    import shutil
    import tempfile

    from nngraph import train

    folder = Path(tempfile.mkdtemp())
    shutil.copy(ROOT / "specs" / "mnist_mlp.yaml", folder / "mnist_mlp.yaml")
    plan, _ = train(folder / "mnist_mlp.yaml")
    plan.save()
    return folder / "mnist_mlp.yaml"


# what a network computes: neurons coloured by activation for one input, and decision regions
ACTIVATIONS = [
    ("examples/perceptron.yaml", {"sleep": 7, "study": 3}, "perceptron.sleep7_study3"),
    ("examples/xor.yaml", {"x": [1, 0]}, "xor.1_0"),
    ("examples/irregular.yaml", {"x": [1, 0.5, -1]}, "irregular.input"),
    ("examples/irregular.yaml", {"x": [1, 0.5, -1]}, "irregular.input.layer"),
]
REGIONS = [("examples/perceptron.yaml", dict(xlim=(0, 10), ylim=(0, 10))), ("examples/xor.yaml", {})]
PAGES = [("specs/mnist_mlp.yaml", "mnist_mlp.page.png"), ("examples/irregular.yaml", "irregular.page.png")]


def seeing_figures(trained_mnist):
    from nngraph.plot import regions

    for spec, inputs, name in ACTIVATIONS:
        for fmt in ("svg", "png"):
            view = "layer" if name.endswith(".layer") else "neuron"
            path, _ = render(ROOT / spec, OUT / f"{name}.{fmt}", view=view, dpi=96, inputs=inputs)
            print("wrote", path.relative_to(ROOT))
    for spec, limits in REGIONS:
        path = OUT / f"{Path(spec).stem}.regions.png"
        regions(ROOT / spec, path, **limits)
        print("wrote", path.relative_to(ROOT))
    xor = trained_copy("examples/xor_train.yaml")
    regions(xor, OUT / "xor_train.regions.png")
    print("wrote", (OUT / "xor_train.regions.png").relative_to(ROOT))
    training_regions()
    screenshots([(trained_mnist if "mnist" in spec else ROOT / spec, name) for spec, name in PAGES])


def training_regions():
    """The moons network's decision regions as it trains: a frame every 3 epochs, as one GIF."""
    import shutil
    import tempfile

    from nngraph import load, train
    from nngraph.data import load_data
    from nngraph.plot import RegionFrames

    folder = Path(tempfile.mkdtemp())
    shutil.copy(ROOT / "examples" / "moons_mlp.yaml", folder / "moons_mlp.yaml")
    data = load_data(load(folder / "moons_mlp.yaml"))  # the points on top, as `nngraph train --regions` draws them
    frames = RegionFrames(OUT / "moons_mlp.training.gif", every=3, resolution=80,
                          data=(data.x_train, data.y_train, data.x_test, data.y_test))
    train(folder / "moons_mlp.yaml", callbacks=frames)
    print("wrote", frames.close()[0].relative_to(ROOT))


def trained_copy(spec):
    import shutil
    import tempfile

    from nngraph import train

    folder = Path(tempfile.mkdtemp())
    shutil.copy(ROOT / spec, folder / Path(spec).name)
    plan, _ = train(folder / Path(spec).name)
    plan.save()
    return folder / Path(spec).name


def screenshots(pages):
    """The interactive pages, as headless Debian chromium shows them (skipped without chromium)."""
    import shutil
    import tempfile

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        print("chromium and chromedriver not found: page screenshots skipped")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = Path(tempfile.mkdtemp())
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,700",
                f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        for spec, name in pages:
            html = folder / (name + ".html")
            render(spec, html)
            browser.get(html.as_uri())
            if "mnist" in name:  # a digit-like stroke on the pad, so the outputs differ from the bias
                x = [0.0] * 784
                for r in range(6, 22):
                    for c in (13, 14):
                        x[r * 28 + c] = 1.0
                browser.execute_script("nngraph.setInputs(arguments[0])", x)
            else:
                browser.execute_script("nngraph.setInputs([1, 0.5, -1])")
            browser.save_screenshot(str(OUT / name))
            print("wrote", (OUT / name).relative_to(ROOT))
    finally:
        browser.quit()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    OUT.mkdir(exist_ok=True)
    trained = trained_mnist()
    for fmt in ("svg", "png"):
        path, _ = render(trained, OUT / f"mnist_mlp.trained.neuron.{fmt}", view="neuron", dpi=96)
        print("wrote", path.relative_to(ROOT))
    seeing_figures(trained)
    for spec, view in FIGURES:
        name = f"{Path(spec).stem}.{view}"
        for fmt in ("svg", "png"):
            path, notes = render(ROOT / spec, OUT / f"{name}.{fmt}", view=view, dpi=96)
            for n in notes:
                print(n)
            print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
