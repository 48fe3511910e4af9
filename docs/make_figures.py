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


def main():
    OUT.mkdir(exist_ok=True)
    trained = trained_mnist()
    for fmt in ("svg", "png"):
        path, _ = render(trained, OUT / f"mnist_mlp.trained.neuron.{fmt}", view="neuron", dpi=96)
        print("wrote", path.relative_to(ROOT))
    for spec, view in FIGURES:
        name = f"{Path(spec).stem}.{view}"
        for fmt in ("svg", "png"):
            path, notes = render(ROOT / spec, OUT / f"{name}.{fmt}", view=view, dpi=96)
            for n in notes:
                print(n)
            print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
