"""The generated 2-d toy sets (two moons, two circles, three blobs), made with numpy alone.

Each follows scikit-learn's ``make_moons``, ``make_circles`` and ``make_blobs`` step for step
(same draws from ``np.random.RandomState(seed)`` in the same order), so a seed gives the very
points scikit-learn gives (the tests compare them bit for bit); importing scikit-learn for them
cost about 2.5 s per command. Returns ``(x, y)``: float64 points (n, 2) and int class numbers.
"""
from __future__ import annotations

import numpy as np


def _two_arcs(n: int, rng, noise: float, arc) -> tuple[np.ndarray, np.ndarray]:
    """Class 0's half of the points on ``arc(k, 0)``, class 1's on ``arc(k, 1)``, shuffled, plus
    Gaussian noise."""
    outer = n // 2
    inner = n - outer
    (x0, y0), (x1, y1) = arc(outer, 0), arc(inner, 1)
    x = np.vstack([np.append(x0, x1), np.append(y0, y1)]).T
    y = np.hstack([np.zeros(outer, dtype=np.intp), np.ones(inner, dtype=np.intp)])
    x, y = _shuffled(rng, x, y)
    x += rng.normal(scale=noise, size=x.shape)
    return x, y


def _shuffled(rng, x, y):
    order = np.arange(len(x))
    rng.shuffle(order)
    return x[order], y[order]


def moons(n: int, noise: float, seed: int):
    """Two interleaving half circles: the upper one centred on (0, 0), the lower on (1, 0.5)."""
    def arc(k, which):
        t = np.linspace(0, np.pi, k)
        return (np.cos(t), np.sin(t)) if which == 0 else (1 - np.cos(t), 1 - np.sin(t) - 0.5)
    return _two_arcs(n, np.random.RandomState(seed), noise, arc)


def circles(n: int, noise: float, seed: int, factor: float = 0.5):
    """A unit circle (class 0) around a circle ``factor`` times its size (class 1)."""
    def arc(k, which):
        t = np.linspace(0, 2 * np.pi, k, endpoint=False)
        scale = 1.0 if which == 0 else factor
        return np.cos(t) * scale, np.sin(t) * scale
    return _two_arcs(n, np.random.RandomState(seed), noise, arc)


def blobs(n: int, std: float, seed: int, centers: int = 3):
    """``centers`` Gaussian blobs of spread ``std`` around centres drawn uniformly in [-10, 10]²,
    as near equal in size as ``n`` allows (the first ones get the remainder)."""
    rng = np.random.RandomState(seed)
    middles = rng.uniform(-10.0, 10.0, size=(centers, 2))
    sizes = [n // centers + (i < n % centers) for i in range(centers)]
    x = np.empty((n, 2), dtype=np.float64)
    y = np.empty(n, dtype=int)
    start = 0
    for i, size in enumerate(sizes):
        x[start:start + size] = rng.normal(loc=middles[i], scale=std, size=(size, 2))
        y[start:start + size] = i
        start += size
    return _shuffled(rng, x, y)
