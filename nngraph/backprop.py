"""Backpropagation over a plan's stages: losses, their output gradients, and the gradient of
every trainable array (dense blocks, CSR blocks' stored entries, biases).

Backprop runs over the very blocks the forward pass uses (dense and CSR; absent connections stay
absent, frozen ones stay put), so there is no second model to keep in step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import blas
from .activations import FROM_INPUT, grad as activation_grad, grad_from_z
from .compile import Plan

# -- losses ------------------------------------------------------------------------------------


def loss_value(name: str, out: np.ndarray, target: np.ndarray) -> float:
    """Mean loss over the batch. ``target`` has the output's shape (one-hot for classes)."""
    n = out.shape[0]
    eps = 1e-12 if out.dtype == np.float64 else 1e-7
    if name == "mse":
        return float(np.mean((out - target) ** 2))
    if name == "cross_entropy":
        return float(-np.sum(target * np.log(np.clip(out, eps, 1.0))) / n)
    if name == "binary_cross_entropy":
        p = np.clip(out, eps, 1 - eps)
        return float(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)))
    raise KeyError(name)


def loss_grad(name: str, out: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/d(output activations)."""
    n = out.shape[0]
    eps = 1e-12 if out.dtype == np.float64 else 1e-7
    if name == "mse":
        return 2.0 * (out - target) / out.size
    if name == "cross_entropy":
        return -target / np.clip(out, eps, 1.0) / n
    if name == "binary_cross_entropy":
        p = np.clip(out, eps, 1 - eps)
        return (p - target) / (p * (1 - p)) / out.size
    raise KeyError(name)


# -- gradients ---------------------------------------------------------------------------------


@dataclass
class Tensor:
    """A trainable array of the plan (a dense block, a CSR block's data, or a stage's bias)."""

    value: np.ndarray
    keep: np.ndarray | None  # 1 where trainable and present, 0 elsewhere (None: all)
    weight: bool  # L2 applies to weights, not biases


def trainable_tensors(plan: Plan) -> list:
    out = []
    for st in plan.stages[1:]:
        for b in st.blocks:
            keep = None
            if b.sparse:
                if b.frozen is not None:
                    keep = (~b.frozen).astype(plan.dtype)
                out.append(Tensor(b.W.data, keep, True))
            else:
                if b.mask is not None or b.frozen is not None:
                    k = np.ones(b.W.shape, dtype=bool) if b.mask is None else b.mask.copy()
                    if b.frozen is not None:
                        k &= ~b.frozen
                    keep = k.astype(plan.dtype)
                out.append(Tensor(b.W, keep, True))
        keep = None if st.bias_frozen is None else (~st.bias_frozen).astype(plan.dtype)
        out.append(Tensor(st.bias, keep, False))
    return out


# -- the weight-gradient product with an addend ------------------------------------------------

def gemm_available(dtype) -> bool:
    """Whether :func:`backward` can add to a prefilled weight gradient inside the product."""
    return blas.available(dtype)


class Workspace:
    """Buffers :func:`backward` reuses from step to step: each stage's dL/dA per batch size,
    and each dense tensor's gradient (so the optimizer reads the same arrays every step)."""

    def __init__(self, plan: Plan, tensors: list):
        self.plan = plan
        self.grads = [np.empty_like(t.value) for t in tensors]
        self.dA = {}

    def stage_grads(self, batch: int) -> list:
        dA = self.dA.get(batch)
        if dA is None:
            if len(self.dA) > 4:  # the training batch and the last, smaller one
                self.dA.clear()
            dA = self.dA[batch] = [None] + [np.empty((batch, s.width), dtype=self.plan.dtype)
                                            for s in self.plan.stages[1:]]
        return dA


def backward(plan: Plan, acts: list, d_out: np.ndarray, fused: dict, masks: dict,
             work: Workspace | None = None, addends: dict | None = None) -> list:
    """Gradients of every trainable tensor (order of :func:`trainable_tensors`).

    ``d_out``: dL/d(output activations), or for ``fused`` output segments dL/dz directly.
    With ``work``, the gradients are written into its buffers (valid until the next call).
    ``addends`` (with ``work``): {tensor index: beta} for dense weight tensors whose buffer already
    holds some P: their gradient comes out as the product plus ``beta * P``, added inside the
    product (so a penalty's gradient costs no pass of its own).
    Each stage's dL/dA is written by its first consumer's product (``out=``) and accumulated by
    the others; the input layer's is never formed.
    """
    batch = acts[0].shape[0]
    if work is None:
        dA = [None] + [np.empty((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]]
        grad_out = None
    else:
        dA, grad_out = work.stage_grads(batch), work.grads
    written = set()
    at = 0
    for (name, size), where in zip(plan.outputs, plan._out_index):
        for s, cols, local in where:
            if s not in written:
                if local is None and cols.start == 0 and cols.stop == plan.stages[s].width:
                    np.copyto(dA[s], d_out[:, at:at + size])
                    written.add(s)
                    continue
                dA[s].fill(0)
                written.add(s)
            if local is None:
                dA[s][:, cols] += d_out[:, at:at + size]
            else:
                dA[s][:, cols] += d_out[:, at + local]
        at += size
    grads_by_stage = {}
    transposed = {}  # each source stage's activations, transposed once for its sparse blocks
    k = len(plan.stages[1:]) + sum(len(st.blocks) for st in plan.stages[1:])  # tensors, counted from the end
    for st in reversed(plan.stages[1:]):
        k -= len(st.blocks) + 1
        A, dZ = acts[st.index], dA[st.index]
        if st.index not in written:  # nothing reads this stage: its gradient is 0
            dZ.fill(0)
        if st.index in masks:  # dropout: A = f(z) * m, so dL/df = dL/dA * m and f(z) = A / m
            m = masks[st.index]
            dZ *= m
            A = np.divide(A, m, out=np.zeros_like(A), where=m > 0)
        for name, alpha, lo, hi in st.segments:
            if (st.index, lo) in fused or name == "linear":
                continue
            if name == "relu" and lo == 0 and hi == dZ.shape[1]:
                np.multiply(dZ, A > 0, out=dZ)
            elif name in FROM_INPUT:
                dZ[:, lo:hi] = grad_from_z(name, _weighted_sums(st, acts, lo, hi), dZ[:, lo:hi])
            else:
                dZ[:, lo:hi] = activation_grad(name, A[:, lo:hi], dZ[:, lo:hi], alpha)
        block_grads = []
        dZT = None
        for i, b in enumerate(st.blocks):
            src = acts[b.src] if b.rows is None else acts[b.src][:, b.rows]
            back = None
            if b.sparse:  # b.W holds W transposed: (stage width, source columns)
                if dZT is None:
                    dZT = np.ascontiguousarray(dZ.T)
                if b.src not in transposed:
                    transposed[b.src] = np.ascontiguousarray(acts[b.src].T)
                AT = transposed[b.src] if b.rows is None else transposed[b.src][b.rows]
                g = _sparse_weight_grad(b, AT, dZT)
                if b.src > 0:
                    back = (b.W.T @ dZT).T
            else:
                beta = None if addends is None or grad_out is None else addends.get(k + i)
                if beta is None:
                    g = np.matmul(src.T, dZ, out=None if grad_out is None else grad_out[k + i])
                else:
                    g = grad_out[k + i]
                    if not blas.gemm_add(src, dZ, g, beta, trans_a=True):  # a layout BLAS cannot take as it is
                        pre = g * beta
                        np.matmul(src.T, dZ, out=g)
                        g += pre
                if b.src > 0 and b.rows is None and b.src not in written:
                    np.matmul(dZ, b.W.T, out=dA[b.src])  # the first consumer writes it
                    written.add(b.src)
                elif b.src > 0:
                    back = dZ @ b.W.T
            if back is not None:
                if b.src not in written:
                    dA[b.src].fill(0)
                    written.add(b.src)
                if b.rows is None:
                    dA[b.src] += back
                else:
                    dA[b.src][:, b.rows] += back
            block_grads.append(g)
        bias = np.sum(dZ, axis=0, out=None if grad_out is None else grad_out[k + len(st.blocks)])
        grads_by_stage[st.index] = block_grads + [bias]
    out = []
    for st in plan.stages[1:]:
        out += grads_by_stage[st.index]
    return out


def _weighted_sums(stage, acts, lo, hi):
    """The stage's weighted sums z for columns lo:hi, recomputed from its inputs (the activations
    the forward pass read, dropout applied) for derivatives that need z itself."""
    z = np.zeros((acts[0].shape[0], hi - lo), dtype=acts[0].dtype)
    for b in stage.blocks:
        src = acts[b.src] if b.rows is None else acts[b.src][:, b.rows]
        z += (b.W[lo:hi] @ src.T).T if b.sparse else src @ b.W[:, lo:hi]
    if stage.bias is not None:
        z += stage.bias[lo:hi]
    return z


def _sparse_weight_grad(block, AT, dZT, chunk_elems=1 << 22):
    """dL/dW at the stored entries only: sum over the batch of A[:, i] * dZ[:, j], in chunks so
    the gathered rows never exceed ``chunk_elems`` numbers."""
    if not hasattr(block, "_coo"):
        W = block.W
        block._coo = (W.indices.astype(np.int64), np.repeat(np.arange(W.shape[0]), np.diff(W.indptr)))
    src, dst = block._coo
    out = np.empty(len(src), dtype=AT.dtype)
    step = max(1, chunk_elems // max(AT.shape[1], 1))
    for k in range(0, len(src), step):
        out[k:k + step] = np.einsum("kb,kb->k", AT[src[k:k + step]], dZT[dst[k:k + step]])
    return out


def _fused_segments(plan: Plan, loss: str) -> dict:
    """Output segments whose loss gradient w.r.t. z is taken directly (softmax+CE, sigmoid+BCE)."""
    fused = {}
    pair = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(loss)
    feeds = {c.src for c in plan.graph.connections}
    for node, where in zip(plan.graph.outputs, plan._out_index):
        if node.activation[0] != pair or node.index in feeds or len(where) != 1 or where[0][2] is not None:
            continue
        s, cols, _ = where[0]
        if any(lo == cols.start and hi == cols.stop for _, _, lo, hi in plan.stages[s].segments):
            fused[(s, cols.start)] = True  # the node is exactly one activation segment
    return fused


def output_grad(plan, loss: str, out: np.ndarray, target: np.ndarray, fused: dict) -> np.ndarray:
    """The gradient handed to :func:`backward`: dL/dz for fused output segments, dL/da elsewhere.

    Fused softmax + cross-entropy: dL/dz = (a * sum(t) - t) / batch per node (a - t for one-hot
    targets); fused sigmoid + binary cross-entropy: (a - t) / size. Both are exact and stable.
    """
    if not fused:
        return loss_grad(loss, out, target)
    parts = [where[0][2] is None and (where[0][0], where[0][1].start) in fused for where in plan._out_index]
    d = np.empty_like(out) if all(parts) else loss_grad(loss, out, target)
    at = 0
    for (name, size), where, part in zip(plan.outputs, plan._out_index, parts):
        if part:
            a, t = out[:, at:at + size], target[:, at:at + size]
            if loss == "cross_entropy":
                d[:, at:at + size] = (a * t.sum(axis=1, keepdims=True) - t) / out.shape[0]
            else:
                d[:, at:at + size] = (a - t) / out.size
        at += size
    return d
