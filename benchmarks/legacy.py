"""The forward pass as it was before the lean path and per-thread buffers: the "before" in the
benchmarks' before/after rows. Frozen on purpose; do not optimise it. It shares one set of
buffers per plan and batch size between calls (not thread-safe), as the old runtime did."""
from __future__ import annotations

import numpy as np

from nngraph.activations import FORWARD

_BUFFERS: dict = {}


def forward(plan, x):
    x = _as_input(plan, x)
    bufs = _buffers(plan, x.shape[0])
    bufs[0] = x
    transposed = {}
    for stage in plan.stages[1:]:
        _run_stage(stage, bufs, bufs[stage.index], transposed)
    return _gather_outputs(plan, bufs)


def _as_input(plan, x):
    x = np.asarray(x)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != plan.input_width:
        raise ValueError(x.shape)
    if x.dtype != plan.dtype or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=plan.dtype)
    return x


def _gather_outputs(plan, acts):
    parts = []
    for (name, size), where in zip(plan.outputs, plan._out_index):
        if len(where) == 1 and where[0][2] is None:
            s, cols, _ = where[0]
            parts.append(acts[s][:, cols])
        else:
            out = np.empty((acts[0].shape[0], size), dtype=plan.dtype)
            for s, cols, local in where:
                out[:, local] = acts[s][:, cols]
            parts.append(out)
    if len(parts) == 1:
        return parts[0].copy()
    return np.concatenate(parts, axis=1)


def _run_stage(stage, bufs, Z, transposed):
    first = True
    sparse_sum = None
    for block in stage.blocks:
        if block.sparse:
            if block.src not in transposed:
                transposed[block.src] = np.ascontiguousarray(bufs[block.src].T)
            AT = transposed[block.src]
            if block.rows is not None:
                AT = AT[block.rows]
            part = block.W @ AT
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


def _buffers(plan, batch):
    key = (id(plan), batch)
    bufs = _BUFFERS.get(key)
    if bufs is None:
        if len(_BUFFERS) > 8:
            _BUFFERS.clear()
        bufs = [None] + [np.empty((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]]
        _BUFFERS[key] = bufs
    return bufs
