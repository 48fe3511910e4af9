"""Activation functions: a closed registry of numerically stable, in-place numpy kernels.

Each activation has ``forward(z, out, alpha)`` (``out`` may be ``z``) and
``grad(name, a, da, alpha)`` -> dL/dz from its output ``a`` and the upstream gradient ``da``. Softmax works over
the rows of a 2-D block that holds one node's neurons.
"""
from __future__ import annotations

import numpy as np


def _linear(z, out, alpha):
    if out is not z:
        out[...] = z
    return out


def _step(z, out, alpha):
    return np.greater(z, 0, out=out) if out.dtype == bool else _assign(out, z > 0)


def _sign(z, out, alpha):
    # the book's perceptron: -1 below zero, +1 at or above it
    return _assign(out, np.where(z >= 0, 1.0, -1.0))


def _assign(out, value):
    out[...] = value
    return out


def _sigmoid(z, out, alpha):
    # stable for any |z|: exp of a non-positive number never overflows
    e = np.exp(-np.abs(z))
    pos = z >= 0
    np.divide(np.where(pos, 1.0, e), 1.0 + e, out=out)
    return out


def _tanh(z, out, alpha):
    return np.tanh(z, out=out)


def _relu(z, out, alpha):
    return np.maximum(z, 0, out=out)


def _leaky_relu(z, out, alpha):
    a = 0.01 if alpha is None else alpha
    return _assign(out, np.where(z >= 0, z, a * z))


def _elu(z, out, alpha):
    a = 1.0 if alpha is None else alpha
    return _assign(out, np.where(z > 0, z, a * np.expm1(np.minimum(z, 0))))


def _softplus(z, out, alpha):
    return _assign(out, np.logaddexp(0, z))


def _softmax(z, out, alpha):
    m = z.max(axis=1, keepdims=True)
    np.subtract(z, m, out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


FORWARD = {"linear": _linear, "step": _step, "sign": _sign, "sigmoid": _sigmoid, "tanh": _tanh,
           "relu": _relu, "leaky_relu": _leaky_relu, "elu": _elu, "softplus": _softplus, "softmax": _softmax}

# step and sign have zero gradient almost everywhere: training refuses them (see nngraph.train)
NOT_DIFFERENTIABLE = {"step", "sign"}


def grad(name, a, da, alpha=None):
    """dL/dz for one activation block, from its output ``a`` and dL/da.

    Every activation's derivative is written in terms of its output, so the forward pass can
    overwrite pre-activations in place and training keeps one buffer per stage.
    """
    if name == "linear":
        return da
    if name == "sigmoid":
        return da * a * (1 - a)
    if name == "tanh":
        return da * (1 - a * a)
    if name == "relu":
        return da * (a > 0)
    if name == "leaky_relu":
        slope = 0.01 if alpha is None else alpha
        return da * np.where(a >= 0, 1.0, slope).astype(da.dtype, copy=False)
    if name == "elu":
        return da * np.where(a > 0, 1.0, a + (1.0 if alpha is None else alpha)).astype(da.dtype, copy=False)
    if name == "softplus":
        return da * -np.expm1(-a)  # sigmoid(z) = 1 - exp(-softplus(z))
    if name == "softmax":
        return a * (da - (da * a).sum(axis=1, keepdims=True))
    if name in NOT_DIFFERENTIABLE:
        return np.zeros_like(da)
    raise KeyError(name)
