"""Regularization in the training step (book ch. 2-3): L1 and L2 penalties, gradient clipping,
and the max-norm constraint on each neuron's incoming weights.

- L2 adds ``l2/2 * sum(w^2)`` to the loss, so ``l2 * w`` to the gradient; L1 adds
  ``l1 * sum(|w|)``, so ``l1 * sign(w)`` (0 at w = 0). Weights only, never biases.
- ``clip_norm`` rescales the gradient of all trainable parameters together when its L2 norm
  exceeds the bound (as ``torch.nn.utils.clip_grad_norm_``).
- ``max_norm`` (Keras ``MaxNorm``): after every step, each neuron whose incoming weights (over
  every connection into it) have an L2 norm above the bound has them scaled down to the bound.
  Frozen weights count in the norm but are never changed.

Each is set in the train section for the whole network and can be overridden where that is
natural: ``l1`` and ``l2`` by a node (for the weights leading into it) and by an edge (for its own
weights); ``max_norm`` by a node (for its neurons). An edge's value wins over its target node's,
which wins over the train section's; ``l2: 0`` on a node or an edge exempts it.
"""
from __future__ import annotations

import numpy as np

from .optimizers import kernels  # the compiled one-pass fill and sums of squares; None: numpy's passes


def coefficients(plan, tensors, key: str, default: float) -> list:
    """Each tensor's ``l1`` or ``l2`` coefficient (``key``): an edge's own value, else the value of
    the node its weights lead into, else ``default`` (the train section's). Per tensor: a float
    when uniform (0.0 for biases and unpenalized blocks), else an array shaped like the tensor."""
    graph = plan.graph
    offsets = np.array([n.offset for n in graph.nodes])
    node_vals = np.array([default if getattr(n.spec, key, None) is None else getattr(n.spec, key)
                          for n in graph.nodes], dtype=np.float64)
    edges = graph.spec.edges
    edge_vals = None
    if any(getattr(e, key) is not None for e in edges):
        edge_vals = np.array([np.nan if getattr(e, key) is None else getattr(e, key) for e in edges])
    out, at = [], 0
    for st in plan.stages[1:]:
        col_val = node_vals[np.searchsorted(offsets, st.neurons, side="right") - 1]
        for b in st.blocks:
            t = tensors[at]
            at += 1
            if b.sparse:
                coef = col_val[np.repeat(np.arange(b.W.shape[0]), np.diff(b.W.indptr))]
            else:
                coef = np.broadcast_to(col_val, b.W.shape).copy()
            if edge_vals is not None:
                _edge_overrides(graph, b, coef, edge_vals)
            out.append(_uniform(coef, t.value.dtype))
        out.append(0.0)  # the stage's bias
        at += 1
    return out


def _edge_overrides(graph, block, coef, edge_vals):
    """Write the edges' own coefficients (NaN: none) over ``coef`` at their entries."""
    target = coef if block.sparse else coef.reshape(-1)
    for ci, kind, a, b in block.places:
        c = graph.connections[ci]
        if c.path[0] != "edges":
            continue  # edge tables and edge files: the node's value
        if c.row_paths is not None:  # single-weight edges, one connection per node pair
            vals = edge_vals[c.row_paths[b]]
            has = ~np.isnan(vals)
            target[a[has]] = vals[has]
            continue
        v = edge_vals[c.path[1]]
        if np.isnan(v):
            continue
        if kind == "rect":
            sub = np.ix_(a, b) if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) else \
                (a[:, None], b) if isinstance(a, np.ndarray) else (a, b)
            coef[sub] = v
        else:
            target[a] = v


def _uniform(coef, dtype):
    if coef.size == 0 or coef.min() == coef.max():
        return float(coef.flat[0]) if coef.size else 0.0
    return coef.astype(dtype)


def _per_tensor(value, n):
    return value if isinstance(value, list) else [float(value)] * n


def add_penalties(tensors, grads, l1, l2, scratch=None) -> None:
    """Add the L1 and L2 gradients to the weight gradients, in place. ``l1``, ``l2``: one number
    for every weight, or per tensor (see :func:`coefficients`)."""
    l1s, l2s = _per_tensor(l1, len(tensors)), _per_tensor(l2, len(tensors))
    for i, (t, g, c1, c2) in enumerate(zip(tensors, grads, l1s, l2s)):
        if not t.weight or (_zero(c1) and _zero(c2)):
            continue
        tmp = scratch[i] if scratch is not None else np.empty_like(g)
        if not _zero(c2):
            np.multiply(t.value, c2, out=tmp)
            g += tmp
        if isinstance(c1, np.ndarray):
            np.sign(t.value, out=tmp)
            tmp *= c1
            g += tmp
        elif c1:
            _scaled_sign(t.value, c1, tmp)
            g += tmp


def in_update(tensors, l1, l2, clip: bool) -> tuple[dict, list, list]:
    """The penalties the optimizer's compiled update adds to the gradient in its own pass (see
    :meth:`nngraph.optimizers.Optimizer.step`, ``fused``): ``{tensor index: (mode, c)}``, mode
    1 for ``c * sign(w)`` (L1), 2 for ``c * w`` (L2), one per tensor, then the ``l1`` and ``l2``
    left for the other routes (:class:`InProduct`, :func:`add_penalties`).

    Taken: uniform coefficients of dense weight tensors without frozen entries (whose gradient
    is masked after the penalty is added), L1 before L2 when a tensor has both. None when the
    gradient is clipped: clipping scales the whole gradient, penalty included, before the step."""
    n = len(tensors)
    l1s, l2s = list(_per_tensor(l1, n)), list(_per_tensor(l2, n))
    taken = {}
    if clip:
        return taken, l1s, l2s
    for i, t in enumerate(tensors):
        if not t.weight or t.keep is not None or t.value.ndim != 2:
            continue
        for mode, cs in ((1, l1s), (2, l2s)):
            c = cs[i]
            if not isinstance(c, np.ndarray) and c:
                taken[i] = (mode, float(c))
                cs[i] = 0.0
                break
    return taken, l1s, l2s


class InProduct:
    """The L1 or L2 gradient of the dense weight tensors, added inside the weight-gradient product
    (``backward``'s ``addends``) instead of in passes of their own: the gradient buffer is filled
    with P, the penalty's gradient itself, and the product adds to it (BLAS ``beta = 1``, which
    also spares BLAS the pass that clears the buffer before a plain product).

    - L1: P = ``l1 * sign(w)``, exactly (0 at w = 0, ``±l1`` at subnormal w): the sign bit of
      each weight onto the bits of ``l1`` (two integer passes at memory speed, where ``np.sign``
      and ``np.copysign`` are several times slower), and, only where the tensor holds a weight
      exactly 0 (one fast check finds whether it does), those entries set to 0.
    - L2 (when the tensor has no L1 of its own): P = ``l2 * w``, one product.

    P is written right after the optimizer updates each slice of the weights, while they are in
    cache (:meth:`rows`, called from the optimizer's hook), for the next step's product.

    Only uniform coefficients (one number for the tensor) are taken here; per-entry coefficients,
    sparse blocks, the tensors in ``skip`` and whatever is left (a tensor's L2 beside its L1)
    stay with :func:`add_penalties` (:attr:`rest`)."""

    def __init__(self, tensors, l1, l2, enabled: bool = True, skip=()):
        n = len(tensors)
        l1s, l2s = list(_per_tensor(l1, n)), list(_per_tensor(l2, n))
        self.parts = {}  # tensor index -> ("l1", the bits of l1 as the tensor's type) or ("l2", l2)
        for i, t in enumerate(tensors):
            if not enabled or i in skip or not t.weight or t.value.ndim != 2 or t.value.dtype not in (np.float32, np.float64):
                continue
            c1, c2 = l1s[i], l2s[i]
            if not isinstance(c1, np.ndarray) and c1:
                self.parts[i] = ("l1", _sign_bits(t.value.dtype, c1))
                l1s[i] = 0.0
            elif not isinstance(c2, np.ndarray) and c2:
                self.parts[i] = ("l2", float(c2))
                l2s[i] = 0.0
        self.rest = (l1s, l2s)
        self.addends = {i: 1.0 for i in self.parts}
        self.ready = False  # whether the buffers hold P for the weights as they are (see prefill)
        self._bound = {}  # tensor index -> (weights, gradient buffer, for L1 their views; see refill)

    def __bool__(self):
        return bool(self.parts)

    def fill(self, i, w, g) -> None:
        """Write P for weights ``w`` of taken tensor ``i`` into ``g`` (the same rows of its
        gradient buffer): the whole tensor or a slice of its rows."""
        kind, c = self.parts[i]
        if kind == "l1":
            _signed(w, c, g)
        else:
            np.multiply(w, c, out=g)

    def prefill(self, tensors, grads) -> dict:
        """Write each taken tensor's P into its gradient buffer, unless :attr:`ready` says the
        last optimizer step already did (:meth:`rows` on each slice it updated, while in
        cache); return ``backward``'s addends. Whoever sets weights otherwise sets
        :attr:`ready` to False."""
        if not self.ready:
            for i in self.parts:
                self.refill(i, tensors[i].value, grads[i])
        self.ready = False  # the product consumes P
        return self.addends

    def refill(self, i, w, g) -> None:
        """:meth:`fill` the whole of taken tensor ``i`` (weights ``w``, gradient buffer ``g``),
        and keep what :meth:`rows` needs of it: views of both, and whether a weight is -0."""
        self.fill(i, w, g)
        kind, c = self.parts[i]
        views = None
        if kind == "l1":
            ints = c[0]
            negative_zero = bool(np.signbit(w[w == 0]).any())
            views = (w.view(ints), g.view(ints), w.view(np.uint32 if ints is np.int32 else np.uint64), negative_zero,
                     int(c[1]), int(c[2]))  # Python numbers: numpy's own scalars take longer to dispatch
        self._bound[i] = (w, g, views)

    def columns(self, i, w, g, cols) -> None:
        """P again for columns ``cols`` of taken tensor ``i`` (None: all of it, :meth:`refill`),
        after they were set from elsewhere (max-norm scaled those neurons)."""
        bound = self._bound.get(i)
        if cols is None or bound is None or bound[0] is not w or bound[1] is not g:
            self.refill(i, w, g)
            return
        sub = w[:, cols]
        out = np.empty_like(sub)
        self.fill(i, sub, out)
        g[:, cols] = out
        views = bound[2]
        if views is not None and not views[3] and np.signbit(sub[sub == 0]).any():  # scaling made a -0
            self._bound[i] = (w, g, views[:3] + (True,) + views[4:])

    def rows(self, i, lo, hi) -> None:
        """P for rows ``lo:hi`` of taken tensor ``i``, just updated by the optimizer (its hook),
        from the arrays of the last :meth:`refill`. A weight exactly 0 needs its P set to 0;
        the optimizers' updates (``p - d``, ``p + v``) give -0 only from -0, so where the tensor
        held no -0 at its last refill, +0 is the only zero there can be, and the minimum of the
        weights' bits read as unsigned integers is 0 exactly when there is one: one fast
        reduction instead of a comparison written out and searched."""
        w, g, views = self._bound[i]
        if kernels is not None and w.flags.c_contiguous and g.flags.c_contiguous:  # one pass, the same numbers
            kind, c = self.parts[i]
            kernels.after(w[lo:hi], g[lo:hi], w.shape[1], 1 if kind == "l1" else 2,
                          float(c[3]) if kind == "l1" else c, None)
            return
        if views is None:
            np.multiply(w[lo:hi], self.parts[i][1], out=g[lo:hi])
            return
        w_ints, g_ints, w_bits, negative_zero, sign, bits = views
        out = g_ints[lo:hi]
        _and(w_ints[lo:hi], sign, out=out)
        _or(out, bits, out=out)
        if negative_zero or _lowest(w_bits[lo:hi], axis=None) == 0:
            zero = w[lo:hi] == 0
            if zero.any():
                g[lo:hi][zero] = 0


_and, _or, _lowest = np.bitwise_and, np.bitwise_or, np.minimum.reduce  # called per slice: no lookups


def _sign_bits(dtype, c: float):
    """What :func:`_signed` needs for ``c`` (> 0) in arrays of float ``dtype``: the integer type
    of its width, the sign bit alone, the bits of ``c`` rounded to ``dtype``, and ``c``."""
    ints = np.int32 if np.dtype(dtype) == np.float32 else np.int64
    return ints, ints(np.iinfo(ints).min), np.array(c, dtype=dtype).view(ints)[()], c


def _signed(w, bits, out) -> None:
    """``out = c * sign(w)``, exactly (``bits``: :func:`_sign_bits`): w's sign bit onto c's bits
    (integer operations run at memory speed where np.sign does not: half the time of
    sign-then-multiply), then the entries where w is zero set to 0 (they are rare: one fast
    check finds whether there are any)."""
    ints, sign, c, _ = bits
    o = out.view(ints)
    np.bitwise_and(w.view(ints), sign, out=o)
    np.bitwise_or(o, c, out=o)
    zero = w == 0
    if zero.any():
        out[zero] = 0


def _scaled_sign(w, c: float, out) -> None:
    """``out = c * sign(w)``, c > 0, exactly (see :func:`_signed`)."""
    _signed(w, _sign_bits(w.dtype, c), out)


def _zero(c) -> bool:
    return not isinstance(c, np.ndarray) and c == 0


def penalty(tensors, l1, l2) -> float:
    """The penalty the gradients of :func:`add_penalties` belong to (for tests and reports)."""
    total = 0.0
    for t, c1, c2 in zip(tensors, _per_tensor(l1, len(tensors)), _per_tensor(l2, len(tensors))):
        if t.weight:
            w = t.value if t.keep is None else t.value * (t.keep > 0)
            total += float(np.sum(c1 * np.abs(w))) + float(np.sum(c2 / 2 * w * w))
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
    """Keeps every neuron's incoming weight vector within an L2 norm: its node's ``max_norm``, else
    ``bound`` (the train section's; None: no bound).

    The norms take a pass over the weights. When the optimizer can bound how far one step moves
    any single weight (Adam, AdaGrad, RMSProp: :meth:`~nngraph.optimizers.Optimizer.step_bound`),
    a neuron's norm can grow by at most that bound times the square root of its number of
    incoming weights per step; the pass is skipped while those upper bounds, grown from the
    last computed norms, stay below every neuron's bound (with a margin for rounding), so the
    constraint holds after every step all the same, and the weights are the same. That test is
    one subtraction per stage: when the norms are computed, the stage's budget is the sum of
    step bounds the nearest neuron can take before it could reach its bound,
    ``min((bound / (1 + margin) - norm) / sqrt(count))``, and each step spends its bound.

    In training, the pass is not one of its own: before the step, :meth:`due` says which stages
    need their norms; the optimizer's hook adds each slice of their weights to the sums of
    squares right after updating it, while it is in cache (:meth:`take`); :meth:`settle` then
    scales. :meth:`apply` does the three at once, for use outside a step."""

    MARGIN = 1e-3  # relative: the computed norms' rounding is far below it

    def __init__(self, plan, tensors, bound: float | None):
        graph = plan.graph
        offsets = np.array([n.offset for n in graph.nodes])
        node_bound = np.array([n.spec.max_norm if n.role != "input" and n.spec.max_norm is not None
                               else (bound if bound is not None else np.inf) for n in graph.nodes])
        self.stages = []  # per bounded stage: its bounds, and [(tensor, sparse, row of each stored entry)]
        self._limits = []  # per bounded stage: bounds / (1 + margin), the neurons with incoming weights,
        # and the square roots of their counts of incoming weights (see _spare)
        self._where = {}  # tensor index -> (bounded stage, its part)
        at = 0
        for st in plan.stages[1:]:
            parts, places = [], []
            counts = np.zeros(st.width)
            for b in st.blocks:
                t = tensors[at]
                rows = None
                if b.sparse:
                    rows = np.repeat(np.arange(b.W.shape[0]), np.diff(b.W.indptr))
                    counts += np.diff(b.W.indptr)
                else:
                    counts += b.W.shape[0]
                places.append(at)
                parts.append((t, b.sparse, rows))
                at += 1
            at += 1  # the stage's bias
            bounds = node_bound[np.searchsorted(offsets, st.neurons, side="right") - 1]
            if np.isfinite(bounds).any():
                for i, part in zip(places, parts):
                    self._where[i] = (len(self.stages), part)
                self.stages.append((bounds, parts))
                has = counts > 0
                self._limits.append((bounds / (1 + self.MARGIN), has, np.sqrt(counts[has])))
        self._sums = [np.zeros(len(bounds)) for bounds, _ in self.stages]
        self._due = []
        self.forget()

    def __bool__(self):
        return bool(self.stages)

    def forget(self) -> None:
        """Drop the norms' upper bounds (the weights were set from elsewhere): the next
        :meth:`apply` computes every norm."""
        self._budget = [-1.0] * len(self.stages)

    def norms(self) -> list:
        """Each bounded stage's per-neuron incoming-weight norms."""
        return [self._norm(parts, len(bounds)) for bounds, parts in self.stages]

    @staticmethod
    def _norm(parts, n):
        sq = np.zeros(n)
        for t, sparse, rows in parts:
            sq += MaxNorm._squares(t.value, sparse, rows, n)
        return np.sqrt(sq)

    @staticmethod
    def _squares(w, sparse, rows, n):
        """The sums of squares per neuron of weights ``w`` (stored entries ``rows`` of a sparse block)."""
        if sparse:
            return np.bincount(rows, weights=w * w, minlength=n)
        return np.einsum("ij,ij->j", w, w)

    def bounds(self) -> list:
        return [bounds for bounds, _ in self.stages]

    def _spare(self, k, norm) -> float:
        """The sum of step bounds stage ``k`` can take before any neuron could reach its bound
        (neurons without incoming weights never can)."""
        limit, has, roots = self._limits[k]
        slack = limit - np.minimum(norm, self.stages[k][0])
        return float(np.min(slack[has] / roots)) if roots.size else np.inf

    def due(self, step_bound: float | None) -> bool:
        """Before a step that can move any one weight by at most ``step_bound`` (None: unknown):
        spend it from each stage's budget, and note the stages whose norms must be taken after
        the step (:meth:`take` each updated slice of their tensors, then :meth:`settle`).
        Whether there are any."""
        self._due = []
        for k in range(len(self.stages)):
            if step_bound is not None:
                self._budget[k] -= step_bound
                if self._budget[k] >= 0:
                    continue
            self._due.append(k)
            self._sums[k].fill(0)
        return bool(self._due)

    def sums_for(self, i):
        """The sums of squares that rows of dense tensor ``i`` are added to, when its stage is due
        (see :meth:`take`); None when not due, not bounded, or sparse."""
        where = self._where.get(i)
        if where is None or where[0] not in self._due or where[1][1]:
            return None
        return self._sums[where[0]]

    def take(self, i, lo, hi) -> None:
        """Add rows ``lo:hi`` of tensor ``i`` to its stage's sums of squares, when the stage is due."""
        where = self._where.get(i)
        if where is None or where[0] not in self._due:
            return
        k, (t, sparse, rows) = where
        n = len(self._sums[k])
        w = t.value
        if kernels is not None and not sparse and n > 1 and w.flags.c_contiguous:  # one pass, the same sums
            kernels.after(w[lo:hi], w[lo:hi], w.shape[1], 0, 0.0, self._sums[k])  # (checks sums: one per column)
            return
        self._sums[k] += self._squares(t.value[lo:hi], sparse, None if rows is None else rows[lo:hi], n)

    PARTIAL = 4  # scale only the neurons over their bound when at most 1/PARTIAL of a stage's are

    def settle(self) -> dict:
        """After the step: the due stages' norms from their sums; neurons over their bound scaled
        down to it. Returns {index of a tensor whose weights were scaled: the neurons scaled
        (an array of columns), or None for every neuron of the tensor}.

        When few neurons are over (at most 1/:attr:`PARTIAL` of the stage's), only their
        weights are multiplied, the columns of a dense block and the entries of a sparse one;
        otherwise the whole tensor is, the others by 1.0. The weights come out the same, bit
        for bit: a number times 1.0 is itself."""
        changed = {}
        for k in self._due:
            bounds, parts = self.stages[k]
            norm = np.sqrt(self._sums[k])
            self._budget[k] = self._spare(k, norm)
            over = norm > bounds
            if not over.any():
                continue
            scale = np.where(over, bounds / np.where(over, norm, 1.0), 1.0)
            cols = np.flatnonzero(over)
            if len(cols) * self.PARTIAL > len(over):
                cols = None
            for t, sparse, rows in parts:
                if cols is None:
                    _scale(t, scale[rows] if sparse else scale[None, :], None)
                elif sparse:  # a CSR block's entries are stored neuron by neuron
                    lo, hi = np.searchsorted(rows, cols), np.searchsorted(rows, cols, side="right")
                    at = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]) if len(cols) else cols
                    _scale(t, scale[rows[at]], at)
                else:
                    _scale(t, scale[cols][None, :], (slice(None), cols))
            changed.update((i, cols) for i, (stage, _) in self._where.items() if stage == k)
        self._due = []
        return changed

    def apply(self, step_bound: float | None = None) -> list:
        """Scale down every neuron over its bound. ``step_bound``: the most the last step can have
        moved any one weight (None: unknown, compute every norm). Returns the indices of the
        tensors whose weights were scaled."""
        if not self.due(step_bound):
            return []
        for i, (k, (t, _, _)) in self._where.items():
            self.take(i, 0, len(t.value))
        return list(self.settle())


def _scale(t, s, at) -> None:
    """Multiply tensor ``t``'s weights at ``at`` (None: all) by ``s`` (float64, shaped like
    them, or broadcasting), in the weights' type; frozen and absent entries are left as they are."""
    if t.keep is not None:
        s = np.where((t.keep if at is None else t.keep[at]) > 0, s, 1.0)
    s = s.astype(t.value.dtype)
    if at is None:
        t.value *= s
    else:
        t.value[at] *= s
