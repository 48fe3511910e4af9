"""Run a compiled plan: one matmul per weight block, one call per activation segment.

Buffers are allocated once per batch size and reused: a stage's pre-activations are written
straight into its buffer (``matmul(..., out=)``), the bias is added and the activation applied
in place, as hand-written in-place numpy would do.
"""
from __future__ import annotations

import numpy as np

from .activations import FORWARD


def forward(plan, x: np.ndarray, acts: list | None = None, training_mask=None) -> np.ndarray:
    """Forward pass of ``x`` (batch, inputs) in the plan's dtype; returns (batch, outputs).

    ``acts``, if given, receives every stage's activations (used by training). ``training_mask``
    is a callable(stage, A) applying dropout in place during training.
    """
    bufs = acts if acts is not None else _buffers(plan, x.shape[0])
    bufs[0] = x
    transposed = {}
    for stage in plan.stages[1:]:
        run_stage(stage, bufs, bufs[stage.index], transposed)
        if training_mask is not None and stage.dropout is not None:
            training_mask(stage, bufs[stage.index])
    return plan.gather_outputs(bufs)


def run_stage(stage, bufs, Z, transposed=None):
    """Z = activation(sum of A_src @ W + b), in place. Sparse blocks multiply the transposed
    activations (contiguous rows for scipy's kernel); ``transposed`` caches them per forward pass
    so each source stage is transposed once, however many blocks read it."""
    first = True
    sparse_sum = None
    for block in stage.blocks:
        if block.sparse:
            AT = _transposed(bufs, block.src, transposed)
            if block.rows is not None:
                AT = AT[block.rows]
            part = block.W @ AT  # (width, batch)
            if sparse_sum is None:
                sparse_sum = part
            else:
                sparse_sum += part
            continue
        A = bufs[block.src]
        if block.rows is not None:
            A = A[:, block.rows]
        if first:
            np.matmul(A, block.W, out=Z)
        else:
            Z += A @ block.W
        first = False
    if sparse_sum is not None:
        if first:
            Z[...] = sparse_sum.T
        else:
            Z += sparse_sum.T
        first = False
    if first:
        Z[...] = 0
    if stage.bias is not None:
        Z += stage.bias
    for name, alpha, lo, hi in stage.segments:
        if name == "linear":
            continue
        if lo == 0 and hi == Z.shape[1]:
            FORWARD[name](Z, Z, alpha)
        else:
            view = Z[:, lo:hi]
            FORWARD[name](view, view, alpha)


def _transposed(bufs, src, cache):
    if cache is None:
        return np.ascontiguousarray(bufs[src].T)
    if src not in cache:
        cache[src] = np.ascontiguousarray(bufs[src].T)
    return cache[src]


def _buffers(plan, batch: int) -> list:
    bufs = plan._buffers.get(batch)
    if bufs is None:
        if len(plan._buffers) > 4:  # a few batch sizes at most (training + evaluation + last batch)
            plan._buffers.clear()
        bufs = [None] + [np.empty((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]]
        plan._buffers[batch] = bufs
    return bufs
