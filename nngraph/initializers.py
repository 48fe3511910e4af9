"""Initializers: seeded rules that fill weight matrices and bias vectors."""
from __future__ import annotations

import numpy as np


def fill(init, shape, fan_in: int, fan_out: int, seed: int, dtype=np.float64) -> np.ndarray:
    """Values for a parameter of ``shape`` from an :class:`~nngraph.spec.Initializer` (or None).

    ``None`` means the default: glorot (xavier) uniform for weights with fan-in, zeros otherwise.
    The initializer's own ``seed`` wins over ``seed``.
    """
    name = "xavier_uniform" if init is None else init.name
    rng = np.random.default_rng(init.seed if init is not None and init.seed is not None else seed)
    gain = 1.0 if init is None or init.gain is None else init.gain
    fan_in, fan_out = max(fan_in, 1), max(fan_out, 1)
    if name == "zeros":
        out = np.zeros(shape)
    elif name == "ones":
        out = np.ones(shape)
    elif name == "constant":
        out = np.full(shape, init.value)
    elif name == "normal":
        out = rng.normal(init.mean or 0.0, init.std or 0.05, shape)
    elif name == "uniform":
        low = -0.05 if init.low is None else init.low
        high = 0.05 if init.high is None else init.high
        out = rng.uniform(low, high, shape)
    elif name in ("xavier_normal", "glorot_normal"):
        out = rng.normal(0.0, gain * np.sqrt(2.0 / (fan_in + fan_out)), shape)
    elif name in ("xavier_uniform", "glorot_uniform"):
        limit = gain * np.sqrt(6.0 / (fan_in + fan_out))
        out = rng.uniform(-limit, limit, shape)
    elif name == "he_normal":
        out = rng.normal(0.0, gain * np.sqrt(2.0 / fan_in), shape)
    elif name == "he_uniform":
        limit = gain * np.sqrt(6.0 / fan_in)
        out = rng.uniform(-limit, limit, shape)
    else:  # pragma: no cover - the spec models only admit the names above
        raise KeyError(name)
    return out.astype(dtype, copy=False)
