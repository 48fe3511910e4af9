"""The generated toy sets are scikit-learn's own points, and digits its own file, read without importing scikit-learn."""
import subprocess
import sys

import numpy as np
import pytest
from sklearn import datasets as skd

import nngraph
from nngraph.data import toys

from helpers import ROOT

SIZES = [1, 2, 3, 7, 50, 101, 400]
NOISES = [0.0, 0.2, 1.5]
SEEDS = [0, 1, 3, 2**32 - 1]


def _same_bits(ours, theirs):
    (x, y), (sx, sy) = ours, theirs
    assert x.dtype == sx.dtype and x.shape == sx.shape and x.tobytes() == sx.tobytes()
    assert np.array_equal(y, sy)


@pytest.mark.parametrize("seed", SEEDS)
def test_moons_circles_and_blobs_are_bit_for_bit_scikit_learns(seed):
    for n in SIZES:
        for noise in NOISES:
            _same_bits(toys.moons(n, noise, seed), skd.make_moons(n, noise=noise, random_state=seed))
            _same_bits(toys.circles(n, noise, seed), skd.make_circles(n, noise=noise, factor=0.5, random_state=seed))
            _same_bits(toys.blobs(n, noise, seed), skd.make_blobs(n, centers=3, cluster_std=noise, random_state=seed))


def _loads_without_scikit_learn(spec_text, rows):
    """Load the spec's data in a fresh interpreter: all ``rows`` arrive and scikit-learn stays unimported."""
    code = ("import sys, nngraph\nfrom nngraph.data import load_data\n"
            f"ds = load_data(nngraph.load({spec_text!r}))\n"
            f"assert len(ds.x_train) + len(ds.x_test) == {rows}\n"
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_training_on_moons_does_not_import_scikit_learn():
    _loads_without_scikit_learn((ROOT / "examples" / "moons_mlp.yaml").read_text(), 400)


def test_digits_are_scikit_learns_read_without_importing_it():
    from nngraph.data.datasets import _sklearn_digits

    x, y = _sklearn_digits()
    sx, sy = skd.load_digits(return_X_y=True)
    assert x.tobytes() == sx.tobytes() and np.array_equal(y, sy)
    _loads_without_scikit_learn("nngraph: 1\nname: d\nnodes: [{name: x, role: input, size: 64}, {name: y, role: output, "
                                "size: 10, activation: softmax}]\nedges: [{from: x, to: y}]\ndata: {source: digits}\n",
                                1797)


def test_digits_without_scikit_learn_is_a_data_error(monkeypatch):
    import importlib.util

    from nngraph.data.datasets import _sklearn_digits

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(nngraph.DataError, match="digits source .* scikit-learn is not installed; run `pip install "
                                                "scikit-learn`"):
        _sklearn_digits()
