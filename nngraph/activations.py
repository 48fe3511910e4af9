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
    # exp(min(z, 0)) / (1 + exp(-|z|)): stable for any |z| (no exp of a positive number) and
    # as accurate as the two-branch form, without np.where (twice as fast); ``out`` may be ``z``
    num = np.minimum(z, 0)
    np.exp(num, out=num)
    np.abs(z, out=out)
    np.multiply(out, -1.0, out=out)  # not np.negative: numpy 2.4 miscomputes it in place on column views
    np.exp(out, out=out)
    out += 1.0
    return np.divide(num, out, out=out)


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


# -- the vocabulary of evolved networks (neat-python), reproduced exactly, clamps included ---------
# neat-python scales and clamps inside its activations: sigmoid is 1/(1+exp(-clip(5z, -60, 60))),
# tanh is tanh(clip(2.5z, -60, 60)), and so on. The neat_* activations are those functions
# as they are, so an imported genome keeps its weights and computes the same numbers.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _neat_sigmoid(z, out, alpha):
    # -clip(5z) is clip(-5z) exactly. (numpy 2.4's in-place np.negative on a float32 column view
    # reads the wrong elements, so the sign goes into the product.)
    np.multiply(z, -5.0, out=out)
    np.clip(out, -60.0, 60.0, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _neat_tanh(z, out, alpha):
    np.multiply(z, 2.5, out=out)
    np.clip(out, -60.0, 60.0, out=out)
    return np.tanh(out, out=out)


def _neat_sin(z, out, alpha):
    np.multiply(z, 5.0, out=out)
    np.clip(out, -60.0, 60.0, out=out)
    return np.sin(out, out=out)


def _neat_gauss(z, out, alpha):
    np.clip(z, -3.4, 3.4, out=out)
    np.square(out, out=out)
    out *= -5.0
    return np.exp(out, out=out)


def _neat_softplus(z, out, alpha):
    np.multiply(z, 5.0, out=out)
    np.clip(out, -60.0, 60.0, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out *= 0.2
    return out


def _neat_exp(z, out, alpha):
    np.clip(z, -60.0, 60.0, out=out)
    return np.exp(out, out=out)


def _neat_log(z, out, alpha):
    np.maximum(z, 1e-7, out=out)
    return np.log(out, out=out)


def _neat_inv(z, out, alpha):
    # neat-python returns 0 where 1/z raises (z == 0); 1/z of a tiny z is inf, as in Python
    zero = z == 0
    with np.errstate(divide="ignore", over="ignore"):
        np.reciprocal(z, out=out)
    out[zero] = 0.0
    return out


def _selu(z, out, alpha):
    return _assign(out, np.where(z > 0, SELU_LAMBDA * z, (SELU_LAMBDA * SELU_ALPHA) * np.expm1(np.minimum(z, 0))))


def _clamped(z, out, alpha):
    return np.clip(z, -1.0, 1.0, out=out)


def _abs(z, out, alpha):
    return np.abs(z, out=out)


def _square(z, out, alpha):
    return np.square(z, out=out)


def _cube(z, out, alpha):
    return _assign(out, z * z * z)


def _hat(z, out, alpha):
    np.abs(z, out=out)
    np.subtract(1.0, out, out=out)
    return np.maximum(out, 0.0, out=out)


FORWARD = {"linear": _linear, "step": _step, "sign": _sign, "sigmoid": _sigmoid, "tanh": _tanh,
           "relu": _relu, "leaky_relu": _leaky_relu, "elu": _elu, "softplus": _softplus, "softmax": _softmax,
           "selu": _selu, "clamped": _clamped, "abs": _abs, "square": _square, "cube": _cube, "hat": _hat,
           "neat_sigmoid": _neat_sigmoid, "neat_tanh": _neat_tanh, "neat_sin": _neat_sin, "neat_gauss": _neat_gauss,
           "neat_softplus": _neat_softplus, "neat_exp": _neat_exp, "neat_log": _neat_log, "neat_inv": _neat_inv}

# step and sign have zero gradient almost everywhere: training refuses them (see nngraph.train)
NOT_DIFFERENTIABLE = {"step", "sign"}

# The derivatives of these need the sign of the weighted sum z, which their output does not
# tell: training recomputes z for their columns from the stage's inputs (see grad_from_z).
FROM_INPUT = {"abs", "square", "hat", "neat_sin", "neat_gauss"}


def grad_from_z(name, z, da):
    """dL/dz for the activations in :data:`FROM_INPUT`, from the weighted sum ``z`` and dL/da
    (0 where a clamp holds the output still, and at the kinks of abs and hat)."""
    if name == "abs":
        return da * np.sign(z)
    if name == "square":
        return da * 2 * z
    if name == "hat":
        return da * np.where(np.abs(z) < 1, -np.sign(z), 0).astype(da.dtype, copy=False)
    if name == "neat_sin":
        t = 5 * z
        return da * np.where(np.abs(t) < 60, 5 * np.cos(t), 0).astype(da.dtype, copy=False)
    if name == "neat_gauss":
        return da * np.where(np.abs(z) < 3.4, -10 * z * np.exp(-5 * z * z), 0).astype(da.dtype, copy=False)
    raise KeyError(name)


# Where the clamps of neat_softplus, neat_exp and neat_log hold the output still (gradient 0)
_NEAT_SOFTPLUS_TOP = 0.2 * float(np.log1p(np.exp(60.0)))
_EXP_LOW, _EXP_HIGH = float(np.exp(-60.0)), float(np.exp(60.0))
_LOG_LOW = float(np.log(1e-7))


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
    return _neat_grad(name, a, da)


def _neat_grad(name, a, da):
    """Derivatives of the evolved-network activations, from their outputs (0 where clamped)."""
    if name == "selu":
        return da * np.where(a > 0, SELU_LAMBDA, a + SELU_LAMBDA * SELU_ALPHA).astype(da.dtype, copy=False)
    if name == "clamped":
        return da * (np.abs(a) < 1)
    if name == "cube":  # 3 z^2 with z = cbrt(a)
        return da * 3 * np.cbrt(a) ** 2
    if name == "neat_sigmoid":  # the clamp holds a within 1e-26 of 0 or 1, where 5 a (1 - a) ~ 0
        return da * 5 * a * (1 - a)
    if name == "neat_tanh":
        return da * 2.5 * (1 - a * a)
    if name == "neat_softplus":  # d/dz 0.2 log(1 + e^(5z)) = sigmoid(5z) = 1 - exp(-5a)
        return da * np.where(a < _NEAT_SOFTPLUS_TOP, -np.expm1(-5 * a), 0).astype(da.dtype, copy=False)
    if name == "neat_exp":
        return da * np.where((a > _EXP_LOW) & (a < _EXP_HIGH), a, 0).astype(da.dtype, copy=False)
    if name == "neat_log":  # 1/z = exp(-a) above the clamp at z = 1e-7
        return da * np.where(a > _LOG_LOW, np.exp(-np.maximum(a, _LOG_LOW)), 0).astype(da.dtype, copy=False)
    if name == "neat_inv":  # -1/z^2 = -a^2
        return da * -(a * a)
    if name in NOT_DIFFERENTIABLE:
        return np.zeros_like(da)
    raise KeyError(name)
