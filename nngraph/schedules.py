"""Learning-rate schedules (book ch. 4): the rate for each epoch, from the spec's
``train.optimizer.schedule``.

Epochs count from 1. With ``warmup: W`` the rate climbs linearly, ``rate * e / W`` for e = 1..W,
and the schedule proper starts at epoch W + 1 with its own count k = 0, 1, ...:

- constant: ``rate``
- step: ``rate * gamma ** (k // step_size)``
- exponential: ``rate * gamma ** k``
- cosine: ``min_rate + (rate - min_rate) * (1 + cos(pi * min(k, period) / period)) / 2``
- plateau: ``rate``, times ``factor`` (not below ``min_rate``) whenever the validation loss has
  not improved by ``min_delta`` for ``patience`` epochs; the count of waiting epochs restarts.
"""
from __future__ import annotations

import math


class Schedule:
    """The rate for each epoch. :meth:`rate` before an epoch, :meth:`observe` after it (plateau)."""

    def __init__(self, config, base_rate: float, epochs: int):
        self.c = config
        self.base = float(base_rate)
        self.epochs = epochs
        self.current = self.base  # plateau's running rate
        self.best = math.inf
        self.waited = 0

    def rate(self, epoch: int) -> float:
        """The rate of ``epoch``, to 15 significant digits: the rate trained with is the one the history
        and --json show, 0.005 rather than 0.005000000000000001 (0.05 * 0.1), a change far below
        anything the training can tell."""
        return float(f"{self._rate(epoch):.15g}")

    def _rate(self, epoch: int) -> float:
        c = self.c
        if c is None:
            return self.base
        if epoch <= c.warmup:
            return self.base * epoch / c.warmup
        k = epoch - c.warmup - 1
        if c.name == "step":
            return self.base * c.gamma ** (k // c.step_size)
        if c.name == "exponential":
            return self.base * c.gamma ** k
        if c.name == "cosine":
            period = c.period or max(self.epochs - c.warmup, 1)
            return c.min_rate + (self.base - c.min_rate) * (1 + math.cos(math.pi * min(k, period) / period)) / 2
        if c.name == "plateau":
            return self.current
        return self.base

    def observe(self, epoch: int, val_loss: float | None) -> None:
        """Feed the epoch's validation loss (plateau only; warm-up epochs do not count)."""
        c = self.c
        if c is None or c.name != "plateau" or val_loss is None or epoch <= c.warmup:
            return
        if val_loss < self.best - c.min_delta:
            self.best, self.waited = val_loss, 0
            return
        self.waited += 1
        if self.waited >= c.patience:
            self.current = max(self.current * c.factor, c.min_rate)
            self.waited = 0

    # -- checkpoints ------------------------------------------------------------------------
    def state(self) -> dict:
        return {"current": self.current, "best": self.best, "waited": self.waited}

    def restore(self, state: dict) -> None:
        self.current, self.best, self.waited = float(state["current"]), float(state["best"]), int(state["waited"])
