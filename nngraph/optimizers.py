"""Optimizers (book ch. 4): SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, updating in place."""
from __future__ import annotations

import math
import warnings

import numpy as np

try:  # the compiled update (nngraph/_kernels.c); where it was not built, the numpy route below
    from . import _kernels as kernels
except ImportError:
    kernels = None
KERNELS_API = 2  # the version of nngraph/_kernels.c's functions this module calls
if kernels is not None and getattr(kernels, "API", None) != KERNELS_API:
    warnings.warn("nngraph's compiled update was built from an older source and is not used (training takes "
                  "numpy's route, with the same results, slower): rebuild it with pip install -e .",
                  RuntimeWarning, stacklevel=2)
    kernels = None


class Optimizer:
    """Updates parameter arrays in place from their gradients (book ch. 4: SGD ... Adam).

    Every update is written with in-place numpy operations into one scratch buffer per
    parameter, so a step allocates nothing (for the MNIST MLP this halves an epoch's time), and
    every number it multiplies or adds is a Python float (numpy computes a float32 array with a
    numpy float64 scalar in float64 and casts back: four times slower). Large parameters are
    updated in slices that stay in cache (:meth:`step`), with a hook after each slice.

    Adam keeps its moments unnormalised, ``M = b1 M + g`` and ``V = b2 V + g^2`` (the book's
    ``m = (1 - b1) M`` and ``v = (1 - b2) V``), and folds the constant factors and the bias
    corrections into two numbers per step: ten passes over the parameters instead of twelve.
    Where nngraph's compiled module is built (:mod:`nngraph._kernels`), each step is one pass
    instead, with the same results bit for bit, and it can take a penalty's gradient and
    max-norm's sums of squares in the same pass (``fused`` in :meth:`step`).

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
        self.kernel = kernels

    @property
    def fuses(self) -> bool:
        """Whether :meth:`step` takes ``fused`` work: a penalty's gradient and max-norm's sums of
        squares in the update's own pass (with the compiled module)."""
        return self.kernel is not None

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

    CHUNK = 32768  # numbers per slice of a parameter updated in one go (see step)

    def step(self, grads: list, after=None, fused=None):
        """Update every parameter from its gradient, in place.

        A large parameter is updated in slices of whole rows, about :attr:`CHUNK` numbers each
        (128 KiB in float32): each update makes several passes over the parameter, its gradient
        and its state, and a slice's arrays stay in the core's cache from one pass to the next,
        where the whole of a large layer's would go out to memory and back each pass (a fifth
        off Adam's step for the MNIST MLP's first layer). The results are the same, number for
        number: every update is elementwise.

        ``after(i, lo, hi)``, when given, is called once rows ``lo:hi`` of parameter ``i`` are
        updated, while they are still in cache (the L1 gradient of the next step and max-norm's
        norms are taken there, see :mod:`nngraph.training`); the slice's gradient rows are no
        longer needed then and may be overwritten.

        ``fused`` (only where :attr:`fuses`): ``{i: (mode, c, sums)}`` for 2-D parameters whose
        extra work the compiled step does in its own pass, instead of ``after``: ``mode`` 1
        adds ``c * sign(w)`` (0 at w = 0) to the gradient as it is read, 2 adds ``c * w``, 0
        nothing (from the weights before the step); ``sums``, when not None, a float64 array
        with one number per column, gets each slice's column sums of squares of the updated
        weights added, as :meth:`nngraph.regularizers.MaxNorm.take` adds them."""
        self.t += 1
        self.lr = float(self.lr)  # a numpy scalar would make float32 passes compute in float64
        if self.flush_every and self.t % self.flush_every == 0:
            self.flush()
        update, k = self._update(), self._constants()
        for i, (p, g, s, tmp) in enumerate(zip(self.params, grads, self.state, self.scratch)):
            n = p.shape[0] if p.ndim else 1
            rows = max(1, self.CHUNK // max(p.size // max(n, 1), 1))
            if self.kernel is not None and self._compiled(i, p, g, s, n, rows, k, fused, after):
                continue
            if p.ndim == 0 or rows >= n:
                update(p, g, s, tmp, k)
                if after is not None:
                    after(i, 0, n)
                continue
            for lo in range(0, n, rows):
                hi = min(lo + rows, n)
                update(p[lo:hi], g[lo:hi], [x[lo:hi] for x in s], tmp[lo:hi], k)
                if after is not None:
                    after(i, lo, hi)

    def _compiled(self, i, p, g, s, n, rows, k, fused, after) -> bool:
        """The step on parameter ``i`` by the compiled module, slice by slice as :meth:`step`
        takes them, with its ``fused`` work; False (nothing done) where the arrays are not
        plain C-ordered float arrays of one type, which the numpy route then takes."""
        if p.ndim not in (1, 2) or p.size == 0 or p.dtype not in (np.float32, np.float64) or not all(
                a.dtype == p.dtype and a.flags.c_contiguous for a in (p, g, *s)):
            return False
        mode, c, sums = fused.get(i, (0, 0.0, None)) if fused else (0, 0.0, None)
        call = None if fused and i in fused else after
        name, numbers, step = self.c.name, self._numbers(k), self.kernel.step
        for lo in range(0, n, rows):
            hi = min(lo + rows, n)
            step(name, p[lo:hi], g[lo:hi], tuple(x[lo:hi] for x in s), p.shape[1] if p.ndim == 2 else hi - lo,
                 numbers, mode, c, sums)
            if call is not None:
                call(i, lo, hi)
        return True

    def _numbers(self, k) -> tuple:
        """The compiled step's numbers, as numpy's route uses them (Python floats, rounded to the
        parameters' type where they meet them): see the step functions below."""
        c, lr = self.c, self.lr
        if c.name == "sgd":
            return (lr,)
        if c.name == "momentum":
            return (c.momentum, lr)
        if c.name == "nesterov":
            return (c.momentum, lr, 1 + c.momentum)
        if c.name == "adagrad":
            return (lr, c.epsilon)
        if c.name == "rmsprop":
            return (c.rho, 1 - c.rho, lr, c.epsilon)
        return (c.beta1, c.beta2) + k  # adam: its folded epsilon and scale

    def step_bound_next(self) -> float | None:
        """:meth:`step_bound` of the coming step (its rate and count), known before it is taken."""
        self.t += 1
        try:
            return self.step_bound()
        finally:
            self.t -= 1

    def _constants(self):
        """The step's numbers shared by every slice (Adam's folded epsilon and scale), as Python
        floats: a numpy float64 scalar would make numpy compute those passes over float32
        arrays in float64 and cast back, four times slower."""
        c, t = self.c, self.t
        if c.name != "adam":
            return None
        b1, b2 = c.beta1, c.beta2  # both below 1 (the spec's bounds)
        corr2 = math.sqrt((1 - b2 ** t) / (1 - b2))
        return float(c.epsilon * corr2), float(self.lr * (1 - b1) * corr2 / (1 - b1 ** t))

    def _update(self):
        return getattr(self, "_" + self.c.name)

    def _sgd(self, p, g, s, tmp, k):
        np.multiply(g, self.lr, out=tmp)
        p -= tmp

    def _momentum(self, p, g, s, tmp, k):  # v = mu v - lr g; p += v
        v = s[0]
        v *= self.c.momentum
        np.multiply(g, self.lr, out=tmp)
        v -= tmp
        p += v

    def _nesterov(self, p, g, s, tmp, k):  # the same velocity, applied at the look-ahead point
        mu, v = self.c.momentum, s[0]
        np.multiply(v, mu, out=tmp)
        p -= tmp  # undo the previous look-ahead ...
        v *= mu
        np.multiply(g, self.lr, out=tmp)
        v -= tmp
        np.multiply(v, 1 + mu, out=tmp)
        p += tmp  # ... and look ahead along the new velocity

    def _adagrad(self, p, g, s, tmp, k):  # p -= lr g / (sqrt(G) + eps)
        acc = s[0]
        np.multiply(g, g, out=tmp)
        acc += tmp
        self._divide(p, g, acc, tmp)

    def _rmsprop(self, p, g, s, tmp, k):
        acc, rho = s[0], self.c.rho
        np.multiply(g, g, out=tmp)
        acc *= rho
        tmp *= 1 - rho
        acc += tmp
        self._divide(p, g, acc, tmp)

    def _divide(self, p, g, acc, tmp):
        np.sqrt(acc, out=tmp)
        tmp += self.c.epsilon
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp

    def _adam(self, p, g, s, tmp, k):
        """p -= lr m_hat / (sqrt(v_hat) + eps) with m_hat = (1 - b1) M / (1 - b1^t) and
        v_hat = (1 - b2) V / (1 - b2^t): p -= scale M / (sqrt(V) + eps'), where
        eps' = eps sqrt(1 - b2^t) / sqrt(1 - b2) and scale = lr (1 - b1) sqrt(1 - b2^t) /
        ((1 - b1^t) sqrt(1 - b2)) (``k``: eps' and scale)."""
        c = self.c
        eps, scale = k
        m, v = s
        mul, add = np.multiply, np.add
        mul(m, c.beta1, out=m)
        add(m, g, out=m)
        mul(g, g, out=tmp)
        mul(v, c.beta2, out=v)
        add(v, tmp, out=v)
        np.sqrt(v, out=tmp)
        add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        mul(tmp, scale, out=tmp)
        np.subtract(p, tmp, out=p)
