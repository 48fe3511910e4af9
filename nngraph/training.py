"""Train a compiled plan: backpropagation over its stages, losses, optimizers, minibatches.

Backprop runs over the very blocks the forward pass uses (dense and CSR; absent connections stay
absent, frozen ones stay put), so there is no second model to keep in step.

``train(spec)`` returns ``(plan, history)``; the CLI adds progress bars and writes the file.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .activations import FROM_INPUT, NOT_DIFFERENTIABLE, grad as activation_grad, grad_from_z
from .compile import Plan, compile
from .optimizers import Optimizer
from .errors import DataError, TrainingError
from .graph import Graph, build
from .limits import batch_limit_error, batch_rows_allowed
from .runtime import _buffers, run_stage

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


def backward(plan: Plan, acts: list, d_out: np.ndarray, fused: dict, masks: dict) -> list:
    """Gradients of every trainable tensor (order of :func:`trainable_tensors`).

    ``d_out``: dL/d(output activations), or for ``fused`` output segments dL/dz directly.
    """
    batch = acts[0].shape[0]
    dA = [None] + [np.zeros((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]]
    at = 0
    for (name, size), where in zip(plan.outputs, plan._out_index):
        for s, cols, local in where:
            if local is None:
                dA[s][:, cols] += d_out[:, at:at + size]
            else:
                dA[s][:, cols] += d_out[:, at + local]
        at += size
    grads_by_stage = {}
    transposed = {}  # each source stage's activations, transposed once for its sparse blocks
    for st in reversed(plan.stages[1:]):
        A, dZ = acts[st.index], dA[st.index]
        if st.index in masks:  # dropout: A = f(z) * m, so dL/df = dL/dA * m and f(z) = A / m
            m = masks[st.index]
            dZ *= m
            A = np.divide(A, m, out=np.zeros_like(A), where=m > 0)
        for name, alpha, lo, hi in st.segments:
            if (st.index, lo) in fused or name == "linear":
                continue
            if name in FROM_INPUT:
                dZ[:, lo:hi] = grad_from_z(name, _weighted_sums(st, acts, lo, hi), dZ[:, lo:hi])
            else:
                dZ[:, lo:hi] = activation_grad(name, A[:, lo:hi], dZ[:, lo:hi], alpha)
        block_grads = []
        dZT = None
        for b in st.blocks:
            src = acts[b.src] if b.rows is None else acts[b.src][:, b.rows]
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
                g = src.T @ dZ
                if b.src > 0:
                    back = dZ @ b.W.T
            if b.src > 0:
                if b.rows is None:
                    dA[b.src] += back
                else:
                    dA[b.src][:, b.rows] += back
            block_grads.append(g)
        grads_by_stage[st.index] = block_grads + [dZ.sum(axis=0)]
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


# -- the training loop -------------------------------------------------------------------------


class Callbacks:
    """Progress hooks (the CLI draws bars with them); every method is optional."""

    def epoch_start(self, epoch: int, steps: int): ...

    def step(self, epoch: int, step: int, loss: float): ...

    def epoch_end(self, record: dict): ...


def check_trainable(graph: Graph, loss: str):
    bad = [n.name for n in graph.nodes if n.activation[0] in NOT_DIFFERENTIABLE and n.role != "input"]
    if bad:
        raise TrainingError(f"cannot train through step or sign activations ({', '.join(bad)}): their gradient is "
                            "zero almost everywhere, so backpropagation learns nothing; use sigmoid or tanh "
                            "while training (the book's chapter 2 makes the same switch)")
    outs = graph.outputs
    if loss == "cross_entropy" and not all(n.activation[0] == "softmax" and n.size > 1 for n in outs):
        raise TrainingError("loss cross_entropy needs softmax outputs of two or more neurons; use "
                            "binary_cross_entropy with a sigmoid output for two classes")
    if loss == "binary_cross_entropy" and not all(n.activation[0] == "sigmoid" for n in outs):
        raise TrainingError("loss binary_cross_entropy needs sigmoid outputs")


def targets_for(plan: Plan, y: np.ndarray, classes) -> np.ndarray:
    """Targets shaped like the output: one-hot rows for class indices with several outputs."""
    if classes is not None and plan.output_width > 1:
        n_cls = plan.output_width
        if y.max() >= n_cls:
            raise DataError(f"the data has classes up to {int(y.max())} but the network has {n_cls} outputs")
        t = np.zeros((len(y), n_cls), dtype=plan.dtype)
        t[np.arange(len(y)), y.astype(np.int64)] = 1
        return t
    t = np.asarray(y, dtype=plan.dtype).reshape(len(y), -1)
    if t.shape[1] != plan.output_width:
        raise DataError(f"targets have {t.shape[1]} columns; the network has {plan.output_width} outputs")
    return t


def evaluate(plan: Plan, x, y, classes, loss: str | None, batch_size: int = 4096) -> dict:
    """Loss, accuracy (classifiers) and predictions over a whole set, in batches."""
    outs = [plan.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    out = np.concatenate(outs) if outs else np.zeros((0, plan.output_width), plan.dtype)
    t = targets_for(plan, y, classes)
    result = {"n": len(x)}
    if loss:
        result["loss"] = loss_value(loss, out, t)
    if classes is not None:
        pred = out.argmax(axis=1) if plan.output_width > 1 else (out[:, 0] > 0.5).astype(np.int64)
        truth = y.astype(np.int64).reshape(-1)
        result["accuracy"] = float(np.mean(pred == truth)) if len(truth) else float("nan")
        k = max(plan.output_width, 2)
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (truth, pred), 1)
        result["confusion"] = cm
    return result


def _check_epochs(epochs):
    """``epochs`` is None (the spec's) or a whole number in 1..MAX_EPOCHS, never silently replaced."""
    from .spec.models import MAX_EPOCHS

    if epochs is None:
        return
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
        raise TrainingError(f"epochs must be a whole number, found {type(epochs).__name__} {epochs!r}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise TrainingError(f"epochs must be between 1 and {MAX_EPOCHS:,}, found {epochs:,}")


def train(spec, data=None, *, epochs: int | None = None, callbacks: Callbacks | None = None, dtype=np.float32,
          plan: Plan | None = None, threads: int | None = None):
    """Train the network a spec declares; return ``(plan, history)``.

    Parameters
    ----------
    spec : Spec, Graph, path or text
        Must have a ``train`` section.
    data : Dataset, optional
        Default: :func:`nngraph.data.load_data` of the spec.
    epochs : int, optional
        Overrides ``train.epochs``.
    callbacks : Callbacks, optional
    plan : Plan, optional
        Continue from this plan's parameters instead of the spec's initial values.

    Returns
    -------
    plan : Plan
        With the trained (or, with early stopping, the best) parameters.
    history : list of dict
        Per epoch: epoch, loss, val_loss, val_accuracy (classifiers), seconds.

    Raises
    ------
    TrainingError
        No train section, an untrainable activation, a loss that does not fit the outputs, or a
        non-finite loss (the message names epoch and step; the plan keeps the last good values).
    """
    _check_epochs(epochs)
    graph = spec if isinstance(spec, Graph) else build(spec)
    cfg = graph.spec.train
    if cfg is None:
        raise TrainingError("the spec has no 'train' section; add e.g. train: {loss: cross_entropy, epochs: 5}")
    check_trainable(graph, cfg.loss)
    if data is None:
        from .data import load_data

        data = load_data(graph.spec)
    if plan is None:
        plan = compile(graph, dtype=dtype, use_file=False)
    if data.x_train.shape[1] != plan.input_width:
        raise DataError(f"the data has {data.x_train.shape[1]} features per sample; the network has "
                        f"{plan.input_width} inputs ({', '.join(f'{n} {s}' for n, s in plan.inputs)})")
    epochs = cfg.epochs if epochs is None else epochs
    callbacks = callbacks or Callbacks()
    rng = np.random.default_rng(cfg.seed)

    x_all = np.ascontiguousarray(data.x_train, dtype=plan.dtype)
    t_all = targets_for(plan, data.y_train, data.classes)
    n_val = int(round(len(x_all) * cfg.validation_split)) if len(x_all) >= 10 else 0
    order = rng.permutation(len(x_all))
    val_idx, tr_idx = order[:n_val], order[n_val:]
    x_val, y_val = x_all[val_idx], data.y_train[val_idx]

    tensors = trainable_tensors(plan)
    opt = Optimizer(cfg.optimizer, [t.value for t in tensors])
    fused = _fused_segments(plan, cfg.loss)
    history, best, best_loss, waited = [], None, np.inf, 0
    last_good = [t.value.copy() for t in tensors]
    bs = min(cfg.batch_size, len(tr_idx))
    if bs > batch_rows_allowed(plan, training=True):  # buffers are batch x all stage widths, twice
        raise batch_limit_error(plan, bs, training=True, where="train.batch_size")
    if cfg.shuffle is False:
        tr_idx = np.sort(tr_idx)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        idx = tr_idx[rng.permutation(len(tr_idx))] if cfg.shuffle else tr_idx
        steps = (len(tr_idx) + bs - 1) // bs
        callbacks.epoch_start(epoch, steps)
        total, seen = 0.0, 0
        for step in range(steps):
            sel = idx[step * bs:(step + 1) * bs]
            xb, tb = x_all[sel], t_all[sel]
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is caught just below
                loss = _step(plan, tensors, opt, xb, tb, cfg, fused, rng)
            if not np.isfinite(loss):
                for t, v in zip(tensors, last_good):
                    t.value[...] = v
                error = TrainingError(f"the loss became {loss} at epoch {epoch}, step {step + 1}; training stopped "
                                      "and the parameters of the last good epoch were kept (nothing was written); "
                                      "lower the learning rate")
                error.plan, error.history = plan, history
                raise error
            total += loss * len(sel)
            seen += len(sel)
            callbacks.step(epoch, step + 1, loss)
        record = {"epoch": epoch, "loss": total / max(seen, 1)}
        if n_val:
            ev = evaluate(plan, x_val, y_val, data.classes, cfg.loss)
            record["val_loss"] = ev["loss"]
            if "accuracy" in ev:
                record["val_accuracy"] = ev["accuracy"]
        record["seconds"] = time.perf_counter() - start
        history.append(record)
        callbacks.epoch_end(record)
        for t, v in zip(tensors, last_good):
            v[...] = t.value
        if cfg.early_stopping is not None and n_val:
            es = cfg.early_stopping
            if record["val_loss"] < best_loss - es.min_delta:
                best_loss, waited = record["val_loss"], 0
                if es.restore_best:
                    best = [t.value.copy() for t in tensors]
            else:
                waited += 1
                if waited >= es.patience:
                    record["stopped_early"] = True
                    break
    if best is not None:
        for t, v in zip(tensors, best):
            t.value[...] = v
    plan.params_origin = "trained"
    plan.untrained = []
    return plan, history


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


def _step(plan, tensors, opt, xb, tb, cfg, fused, rng) -> float:
    acts = _buffers(plan, xb.shape[0])
    acts[0] = xb
    masks, transposed = {}, {}
    for st in plan.stages[1:]:
        run_stage(st, acts, acts[st.index], transposed)
        if st.dropout is not None:
            keep = 1.0 - st.dropout
            m = (rng.random(acts[st.index].shape) < keep).astype(plan.dtype) / keep.astype(plan.dtype)
            m[:, st.dropout == 0] = 1
            acts[st.index] *= m
            masks[st.index] = m
    out = plan.gather_outputs(acts)
    loss = loss_value(cfg.loss, out, tb)
    d_out = output_grad(plan, cfg.loss, out, tb, fused)
    grads = backward(plan, acts, d_out.astype(plan.dtype, copy=False), fused, masks)
    if cfg.l2:
        for t, g in zip(tensors, grads):
            if t.weight:
                g += cfg.l2 * t.value
    for t, g in zip(tensors, grads):
        if t.keep is not None:
            g *= t.keep
    opt.step(grads)
    return loss


def output_grad(plan, loss: str, out: np.ndarray, target: np.ndarray, fused: dict) -> np.ndarray:
    """The gradient handed to :func:`backward`: dL/dz for fused output segments, dL/da elsewhere.

    Fused softmax + cross-entropy: dL/dz = (a * sum(t) - t) / batch per node (a - t for one-hot
    targets); fused sigmoid + binary cross-entropy: (a - t) / size. Both are exact and stable.
    """
    d = loss_grad(loss, out, target)
    if not fused:
        return d
    at = 0
    for (name, size), where in zip(plan.outputs, plan._out_index):
        s, cols, local = where[0]
        if local is None and (s, cols.start) in fused:
            a, t = out[:, at:at + size], target[:, at:at + size]
            if loss == "cross_entropy":
                d[:, at:at + size] = (a * t.sum(axis=1, keepdims=True) - t) / out.shape[0]
            else:
                d[:, at:at + size] = (a - t) / out.size
        at += size
    return d
