"""The generated toy sets are scikit-learn's own points, made without importing scikit-learn."""
import subprocess
import sys

import numpy as np
import pytest
from sklearn import datasets as skd

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


def test_training_on_moons_does_not_import_scikit_learn():
    code = ("import sys, nngraph\nfrom nngraph.data import load_data\n"
            f"ds = load_data(nngraph.load({str(ROOT / 'examples' / 'moons_mlp.yaml')!r}))\n"
            "assert len(ds.x_train) + len(ds.x_test) == 400\n"
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
