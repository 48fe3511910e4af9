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


def main():
    OUT.mkdir(exist_ok=True)
    for spec, view in FIGURES:
        name = f"{Path(spec).stem}.{view}"
        for fmt in ("svg", "png"):
            path, notes = render(ROOT / spec, OUT / f"{name}.{fmt}", view=view, dpi=96)
            for n in notes:
                print(n)
            print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
