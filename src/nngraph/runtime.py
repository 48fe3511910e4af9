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
    for stage in plan.stages[1:]:
        run_stage(stage, bufs, bufs[stage.index])
        if training_mask is not None and stage.dropout is not None:
            training_mask(stage, bufs[stage.index])
    return plan.gather_outputs(bufs)


def run_stage(stage, bufs, Z):
    first = True
    for block in stage.blocks:
        A = bufs[block.src]
        if block.rows is not None:
            A = A[:, block.rows]
        if block.sparse:
            P = block.W.T.dot(A.T).T if A.shape[0] else np.zeros((0, Z.shape[1]), Z.dtype)
            if first:
                Z[...] = P
            else:
                Z += P
        elif first:
            np.matmul(A, block.W, out=Z)
        else:
            Z += A @ block.W
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


def _buffers(plan, batch: int) -> list:
    bufs = plan._buffers.get(batch)
    if bufs is None:
        if len(plan._buffers) > 4:  # a few batch sizes at most (training + evaluation + last batch)
            plan._buffers.clear()
        bufs = [None] + [np.empty((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]]
        plan._buffers[batch] = bufs
    return bufs
