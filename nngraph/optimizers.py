"""Optimizers (book ch. 4): SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, updating in place."""
from __future__ import annotations

import math

import numpy as np


class Optimizer:
    """Updates parameter arrays in place from their gradients (book ch. 4: SGD ... Adam).

    Every update is written with in-place numpy operations into one scratch buffer per
    parameter, so a step allocates nothing (for the MNIST MLP this halves an epoch's time).

    Adam keeps its moments unnormalised, ``M = b1 M + g`` and ``V = b2 V + g^2`` (the book's
    ``m = (1 - b1) M`` and ``v = (1 - b2) V``), and folds the constant factors and the bias
    corrections into two numbers per step: ten passes over the parameters instead of twelve.

    Decaying state (momentum's velocity, RMSProp's average, Adam's moments) of a weight whose
    gradient stays 0, e.g. one into a ReLU unit that no longer fires, shrinks geometrically into
    the subnormal numbers, where arithmetic is tens of times slower: on Fashion-MNIST such entries
    made Adam's step nearly twice as slow by the third epoch. So every few steps (:meth:`flush`)
    the state entries below ``FLUSH_BELOW`` times the smallest normal number (about 2e-31 in
    float32) are set to 0 before they can get there; the change such an entry would still make
    to a weight is some 20 orders of magnitude below the weight's own rounding.
    """

    FLUSH_BELOW = 2.0 ** 24

    def __init__(self, config, params: list):
        self.c = config
        self.params = params
        self.t = 0
        self.lr = config.learning_rate  # the schedule sets it before each epoch
        self.state = [[np.zeros_like(p) for _ in range(self._slots())] for p in params]
        self.scratch = [np.empty_like(p) for p in params]
        self.flush_every = self._flush_interval()
        self._small = None

    def _slots(self):
        return {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}[self.c.name]

    def _flush_interval(self) -> int:
        """Steps between flushes (0: no state decays): half the steps the fastest-decaying slot
        takes to shrink by the factor between the threshold and the smallest normal number."""
        c = self.c
        decay = {"momentum": [c.momentum], "nesterov": [c.momentum], "rmsprop": [c.rho],
                 "adam": [c.beta1, c.beta2]}.get(c.name, [])
        decay = [d for d in decay if 0 < d < 1]
        if not decay:
            return 0
        steps = np.log(self.FLUSH_BELOW) / -np.log(min(decay))
        return int(max(1, min(64, steps // 2)))

    def flush(self) -> None:
        """Set the decaying state's entries below the threshold to 0 (see the class notes)."""
        if self._small is None:
            self._small = [np.empty(p.shape, dtype=bool) for p in self.params]
        for p, slots, tmp, small in zip(self.params, self.state, self.scratch, self._small):
            limit = np.finfo(p.dtype).tiny * self.FLUSH_BELOW
            for s in slots:
                np.abs(s, out=tmp)
                np.less(tmp, limit, out=small)
                np.copyto(s, 0, where=small)

    def step_bound(self) -> float | None:
        """The most the last :meth:`step` can have moved any one parameter, when the method bounds
        it whatever the gradients (None for SGD and momentum, whose steps grow with the gradient):
        AdaGrad lr (its sum includes the gradient), RMSProp lr / sqrt(1 - rho), Adam
        ``scale * sqrt(sum of (b1^2 / b2)^k, k < t)`` by Cauchy-Schwarz on M over V; with a
        relative margin of 1e-6 for rounding."""
        c, t = self.c, self.t
        if t == 0 or c.name in ("sgd", "momentum", "nesterov"):
            return None
        # Where the formula has no finite value (beta2 or rho of 0 or 1, a geometric sum that
        # overflows), there is no bound: callers then check every step, as for SGD.
        try:
            if c.name == "adagrad":
                bound = self.lr
            elif c.name == "rmsprop":
                bound = self.lr / math.sqrt(1 - c.rho)
            else:
                r = c.beta1 ** 2 / c.beta2
                total = t if r == 1 else (1 - r ** t) / (1 - r)
                corr2 = math.sqrt((1 - c.beta2 ** t) / (1 - c.beta2))  # math, not numpy: called every step
                bound = self.lr * (1 - c.beta1) * corr2 / (1 - c.beta1 ** t) * math.sqrt(total)
            bound = abs(float(bound)) * (1 + 1e-6)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        return bound if math.isfinite(bound) else None

    def step(self, grads: list):
        c, lr = self.c, self.lr
        self.t += 1
        if self.flush_every and self.t % self.flush_every == 0:
            self.flush()
        if c.name == "adam":
            return self._adam(grads)
        for p, g, s, tmp in zip(self.params, grads, self.state, self.scratch):
            if c.name == "sgd":
                np.multiply(g, lr, out=tmp)
                p -= tmp
            elif c.name == "momentum":  # v = mu v - lr g; p += v
                v = s[0]
                v *= c.momentum
                np.multiply(g, lr, out=tmp)
                v -= tmp
                p += v
            elif c.name == "nesterov":  # the same velocity, applied at the look-ahead point
                v = s[0]
                np.multiply(v, c.momentum, out=tmp)
                p -= tmp  # undo the previous look-ahead ...
                v *= c.momentum
                np.multiply(g, lr, out=tmp)
                v -= tmp
                np.multiply(v, 1 + c.momentum, out=tmp)
                p += tmp  # ... and look ahead along the new velocity
            else:  # adagrad, rmsprop: p -= lr g / (sqrt(G) + eps)
                acc = s[0]
                np.multiply(g, g, out=tmp)
                if c.name == "rmsprop":
                    acc *= c.rho
                    tmp *= 1 - c.rho
                acc += tmp
                np.sqrt(acc, out=tmp)
                tmp += c.epsilon
                np.divide(g, tmp, out=tmp)
                tmp *= lr
                p -= tmp

    def _adam(self, grads):
        """p -= lr m_hat / (sqrt(v_hat) + eps) with m_hat = (1 - b1) M / (1 - b1^t) and
        v_hat = (1 - b2) V / (1 - b2^t): p -= scale M / (sqrt(V) + eps'), where
        eps' = eps sqrt(1 - b2^t) / sqrt(1 - b2) and scale = lr (1 - b1) sqrt(1 - b2^t) /
        ((1 - b1^t) sqrt(1 - b2))."""
        c, t = self.c, self.t
        b1, b2 = c.beta1, c.beta2
        corr2 = np.sqrt((1 - b2 ** t) / (1 - b2))
        eps = c.epsilon * corr2
        scale = self.lr * (1 - b1) * corr2 / (1 - b1 ** t)
        mul, add, sub, div, sqrt = np.multiply, np.add, np.subtract, np.divide, np.sqrt
        for p, g, (m, v), tmp in zip(self.params, grads, self.state, self.scratch):
            mul(m, b1, out=m)
            add(m, g, out=m)
            mul(g, g, out=tmp)
            mul(v, b2, out=v)
            add(v, tmp, out=v)
            sqrt(v, out=tmp)
            add(tmp, eps, out=tmp)
            div(m, tmp, out=tmp)
            mul(tmp, scale, out=tmp)
            sub(p, tmp, out=p)
