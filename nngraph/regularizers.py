"""Regularization in the training step (book ch. 2-3): L1 and L2 penalties, gradient clipping,
and the max-norm constraint on each neuron's incoming weights.

- L2 adds ``l2/2 * sum(w^2)`` to the loss, so ``l2 * w`` to the gradient; L1 adds
  ``l1 * sum(|w|)``, so ``l1 * sign(w)`` (0 at w = 0). Weights only, never biases.
- ``clip_norm`` rescales the gradient of all trainable parameters together when its L2 norm
  exceeds the bound (as ``torch.nn.utils.clip_grad_norm_``).
- ``max_norm`` (Keras ``MaxNorm``): after every step, each neuron whose incoming weights (over
  every connection into it) have an L2 norm above the bound has them scaled down to the bound.
  Frozen weights count in the norm but are never changed.
"""
from __future__ import annotations

import numpy as np


def add_penalties(tensors, grads, l1: float, l2: float, scratch=None) -> None:
    """Add the L1 and L2 gradients to the weight gradients, in place."""
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not t.weight:
            continue
        if l2:
            g += l2 * t.value
        if l1:
            tmp = scratch[i] if scratch is not None else np.empty_like(g)
            np.sign(t.value, out=tmp)
            tmp *= l1
            g += tmp


def penalty(tensors, l1: float, l2: float) -> float:
    """The penalty the gradients of :func:`add_penalties` belong to (for tests and reports)."""
    total = 0.0
    for t in tensors:
        if t.weight:
            w = t.value if t.keep is None else t.value * (t.keep > 0)
            total += l1 * float(np.abs(w).sum()) + l2 / 2 * float(np.vdot(w, w))
    return total


def clip_by_norm(grads, clip_norm: float) -> float:
    """Scale all gradients by ``clip_norm / norm`` when their joint L2 norm exceeds it; return the norm."""
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    if norm > clip_norm:
        scale = clip_norm / norm
        for g in grads:
            g *= scale
    return norm


class MaxNorm:
    """Keeps every neuron's incoming weight vector within an L2 norm of ``bound``."""

    def __init__(self, plan, tensors, bound: float):
        self.bound = bound
        self.stages = []  # per stage: its width and [(tensor, sparse, row of each stored entry)]
        at = 0
        for st in plan.stages[1:]:
            parts = []
            for b in st.blocks:
                t = tensors[at]
                at += 1
                rows = None
                if b.sparse:
                    rows = np.repeat(np.arange(b.W.shape[0]), np.diff(b.W.indptr))
                parts.append((t, b.sparse, rows))
            at += 1  # the stage's bias
            self.stages.append((st.width, parts))

    def norms(self) -> list:
        """Each stage's per-neuron incoming-weight norms."""
        out = []
        for width, parts in self.stages:
            sq = np.zeros(width)
            for t, sparse, rows in parts:
                if sparse:
                    sq += np.bincount(rows, weights=t.value * t.value, minlength=width)
                else:
                    sq += np.einsum("ij,ij->j", t.value, t.value)
            out.append(np.sqrt(sq))
        return out

    def apply(self) -> None:
        for (width, parts), norm in zip(self.stages, self.norms()):
            over = norm > self.bound
            if not over.any():
                continue
            scale = np.where(over, self.bound / np.where(over, norm, 1.0), 1.0)
            for t, sparse, rows in parts:
                s = scale[rows] if sparse else scale[None, :]
                if t.keep is None:
                    t.value *= s.astype(t.value.dtype)
                else:  # frozen (and absent) entries stay as they are
                    factor = np.where(t.keep > 0, s, 1.0)
                    t.value *= factor.astype(t.value.dtype)
