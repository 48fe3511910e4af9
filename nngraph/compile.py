"""Compile a neuron graph into matrix stages: ``Z = sum_s A_s[:, rows_s] @ W_s + b``, then activations.

A stage holds every neuron of one depth (see :mod:`nngraph.graph.order`), its columns ordered
by activation so each activation runs once per stage on a contiguous column range (softmax
once per node). A stage reads each earlier stage it depends on through one weight block, dense
or CSR by measured density (``SPARSE_BELOW``); skip connections are just blocks from older
stages. A dense edge between two whole layers is copied into its block as one matrix: nothing
is ever expanded per connection unless the graph itself is irregular there.

``compile(spec)`` returns a :class:`Plan`; ``plan.forward(x)`` runs it (:mod:`nngraph.runtime`).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .errors import NNGraphError
from .graph import Graph, build
from .params import initial_values_and_untrained
from .plan import _groups, Plan

# Below this fraction of present connections a block is stored as CSR (of its transpose), if it
# is not tiny. Measured by `benchmarks/run.py --only sparse` (1000x1000 block, batch 1,000,
# float32): CSR wins below about 8% density with 2 BLAS threads and 14% with one (scipy's
# product is single-threaded); on the 2,000-neuron irregular graph (90x90 blocks at 5%) CSR is
# 1.3x faster than dense too. Narrow stages (under NARROW_WIDTH neurons) make thin matrix
# products, where BLAS is far from its peak: there CSR wins up to about 20-25% density (the
# 500-neuron/20k-edge graph, 25-wide stages at 17%, runs 1.3x faster with CSR blocks).
# Blocks of under 256 entries stay dense: both are instant there.
SPARSE_BELOW = 0.08
SPARSE_BELOW_NARROW = 0.22
NARROW_WIDTH = 128
SPARSE_MIN_ENTRIES = 256


# Bumped whenever a block's or a stage's attribute is assigned (not when arrays are written in
# place, as set_parameters and training do): the runtime's prebuilt programs, which hold the
# arrays, are then rebuilt.
GENERATION = [0]


class _Tracked:
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        GENERATION[0] += 1


@dataclass
class Block(_Tracked):
    """One weight block: source stage ``src`` (its columns ``rows``, None = all) into a stage."""

    src: int
    rows: np.ndarray | None
    # dense: an ndarray of shape (len(rows), width). sparse: a CSR array of the *transpose*,
    # (width, len(rows)): a sparse product is fast when it runs over contiguous rows of the
    # transposed activations (see runtime.run_stage), ten times faster than dense @ csr.
    W: object
    sparse: bool
    mask: np.ndarray | None = None  # dense blocks with absent connections: True where present
    frozen: np.ndarray | None = None  # True where the connection is not trainable (dense: matrix; CSR: data)

    @property
    def shape(self):
        """(source columns read, stage width), whatever the storage."""
        return (self.W.shape[1], self.W.shape[0]) if self.sparse else self.W.shape

    @property
    def nnz(self):
        return int(self.W.nnz) if self.sparse else int(self.mask.sum() if self.mask is not None else self.W.size)

    def dense(self) -> np.ndarray:
        """The block as a dense (source columns, stage width) matrix (for inspection and tests)."""
        return self.W.toarray().T if self.sparse else self.W


@dataclass
class Stage(_Tracked):
    index: int
    neurons: np.ndarray  # global neuron ids, in column order
    blocks: list = field(default_factory=list)
    bias: np.ndarray | None = None
    bias_frozen: np.ndarray | None = None
    segments: list = field(default_factory=list)  # (activation, alpha, lo, hi)
    dropout: np.ndarray | None = None  # per-column dropout rate (training only)
    # runs of dense blocks reading consecutive source stages, each stored as one matrix:
    # (first source stage, last source stage, W over their columns); the blocks' W are row
    # slices (views) of it, so one product serves the whole run (see runtime)
    merged: list = field(default_factory=list)
    # the data of all its CSR blocks, one array; each block's W.data is a slice (view) of it,
    # so the runtime can gather them for one CSR product over every source at once
    sparse_data: np.ndarray | None = None

    @property
    def width(self):
        return len(self.neurons)

    @property
    def macs(self):
        return sum(b.nnz for b in self.blocks)


# ------------------------------------------------------------------------------------------
# compiling


def compile(spec, *, params: dict | None = None, dtype=np.float32, use_file: bool = True, seed: int | None = None,
            sparse_below: float | None = None) -> Plan:
    """Compile a spec (or a built :class:`~nngraph.graph.Graph`) into a runnable :class:`Plan`.

    Parameters
    ----------
    spec : Spec, Graph, path or text
    params : dict, optional
        Parameter values by name; default: the parameters file where it exists, else the spec's
        literal weights and seeded initializers.
    dtype : numpy dtype
        float32 (default) or float64, used end to end.
    use_file : bool
        Read the spec's parameters file when it exists (default True).
    seed : int, optional
        Seed for initializers (default ``train.seed``).
    sparse_below : float, optional
        Density below which a block is stored sparse (default :data:`SPARSE_BELOW`, or
        :data:`SPARSE_BELOW_NARROW` for stages narrower than :data:`NARROW_WIDTH`).

    Returns
    -------
    Plan

    Raises
    ------
    SpecError, ParameterFileError

    Examples
    --------
    >>> plan = compile("nngraph: 1\\nname: n\\nnodes: [{name: x, role: input}, {name: y, role: output}]\\n"
    ...                "edges: [{from: x, to: y, weight: 2}]\\n")
    >>> plan.forward([[1.5]])
    array([[3.]], dtype=float32)
    """
    graph = spec if isinstance(spec, Graph) else build(spec)
    asked = dtype
    try:
        dtype = np.dtype(dtype) if dtype is not None else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype not in (np.float32, np.float64):
        raise NNGraphError(f"dtype must be float32 or float64, not {asked!r}")
    if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)
                             or not 0 <= seed < 2**63):
        raise NNGraphError(f"seed must be a whole number from 0 to 2**63 - 1, or None (train.seed), not {seed!r}")
    if sparse_below is not None and (not isinstance(sparse_below, numbers.Real) or isinstance(sparse_below, bool)
                                     or not 0 <= sparse_below < float("inf")):
        raise NNGraphError(f"sparse_below is a density (blocks below it are stored sparse; above 1: all), or None "
                           f"for the measured defaults; not {sparse_below!r}")
    untrained = []
    if params is None:
        params, origin, untrained = initial_values_and_untrained(graph, seed, use_file)
    else:
        origin = "parameters given in code"
    threshold = sparse_below  # None: the measured defaults, by stage width
    stages, col_of = _layout(graph, dtype)
    _fill_blocks(graph, stages, col_of, dtype, threshold)
    _merge_dense_runs(stages, dtype)
    _pack_sparse_data(stages)
    plan = Plan(graph, stages, col_of, dtype, origin)
    plan.untrained = untrained
    plan.set_parameters(params)
    return plan


def _layout(graph: Graph, dtype):
    """Group neurons into stages by depth; order each stage's columns by activation, then node."""
    level = graph.neuron_level
    n_stages = int(level.max()) + 1 if graph.n_neurons else 1
    node_of = np.repeat(np.arange(len(graph.nodes)), [n.size for n in graph.nodes])
    act_keys = {}
    for n in graph.nodes:
        act_keys.setdefault(n.activation, len(act_keys))
    act_rank = np.array([act_keys[n.activation] for n in graph.nodes])[node_of]
    col_of = np.zeros(graph.n_neurons, dtype=np.int64)
    # stage 0: the inputs, in spec order (that is what the user's x columns are)
    inputs = np.concatenate([np.arange(n.offset, n.offset + n.size) for n in graph.inputs])
    col_of[inputs] = np.arange(len(inputs))
    stages = [Stage(0, inputs)]
    order = np.lexsort((np.arange(graph.n_neurons), node_of, act_rank, level))
    sorted_levels = level[order]
    bounds = np.searchsorted(sorted_levels, np.arange(1, n_stages + 1)).tolist()
    # per node, looked up per stage below (a small genome has a stage per neuron or two: the
    # per-stage work is a few array lookups, not a pass over the nodes)
    rate_of = np.array([n.spec.dropout or 0.0 for n in graph.nodes])
    frozen_of = np.array([not n.spec.trainable for n in graph.nodes])
    for k in range(1, n_stages):
        neurons = order[bounds[k - 1]:bounds[k]]
        col_of[neurons] = np.arange(len(neurons))
        nodes_here = node_of[neurons]
        cuts = ((nodes_here[1:] != nodes_here[:-1]).nonzero()[0] + 1).tolist()
        segments = []
        for lo, hi, i in zip([0, *cuts], [*cuts, len(neurons)], nodes_here[[0, *cuts]].tolist()):
            name, alpha = graph.nodes[i].activation
            last = segments[-1] if segments else None
            if last and last[0] == name and last[1] == alpha and last[3] == lo and name != "softmax":
                segments[-1] = (name, alpha, last[2], hi)
            else:
                segments.append((name, alpha, lo, hi))
        rates, frozen = rate_of[nodes_here], frozen_of[nodes_here]
        stages.append(Stage(k, neurons, bias=np.zeros(len(neurons), dtype=dtype), segments=segments,
                            dropout=rates if rates.any() else None, bias_frozen=frozen if frozen.any() else None))
    return stages, col_of


def _fill_blocks(graph: Graph, stages, col_of, dtype, threshold):
    """Place every connection into the block (source stage -> stage) it belongs to."""
    level = graph.neuron_level
    rects, pairs = {}, {}
    for ci, c in enumerate(graph.connections):
        s0, d0 = graph.nodes[c.src].offset + c.src_lo, graph.nodes[c.dst].offset + c.dst_lo
        if c.dense:
            sg, dg = np.arange(s0, s0 + c.m), np.arange(d0, d0 + c.n)
            if (level[sg] == level[s0]).all() and (level[dg] == level[d0]).all():
                rects.setdefault((int(level[s0]), int(level[d0])), []).append((ci, col_of[sg], col_of[dg]))
                continue
            src, dst = np.repeat(sg, c.n), np.tile(dg, c.m)
        else:  # listed connections: their neurons, without a range to gather from
            src, dst = c.rows + s0, c.cols + d0
        key_s, key_d = level[src], level[dst]
        width = int(key_s.max()) + 1 if len(src) else 1
        for code, sel in _groups(key_d.astype(np.int64) * width + key_s):  # one sort, not a scan per pair
            d_st, s_st = divmod(code, width)
            pairs.setdefault((s_st, d_st), []).append((ci, col_of[src[sel]], col_of[dst[sel]], sel))
    made = {}
    for s_st, d_st in sorted(set(rects) | set(pairs)):
        made[s_st, d_st] = _make_block(graph, stages, s_st, d_st, rects.get((s_st, d_st), []),
                                       pairs.get((s_st, d_st), []), dtype, threshold)
    if threshold is None and any(b.sparse for b in made.values()):
        # A plan with CSR blocks runs all of a stage's CSR blocks as one product; a tiny block
        # kept dense there is a product of its own (and a gather of its source columns): in such
        # a plan tiny blocks are CSR too (the sparse genome's output stage read 9 of them).
        for (s_st, d_st), b in made.items():
            if not b.sparse and b.W.size < SPARSE_MIN_ENTRIES:
                made[s_st, d_st] = _make_block(graph, stages, s_st, d_st, rects.get((s_st, d_st), []),
                                               pairs.get((s_st, d_st), []), dtype, 2.0)
    for (s_st, d_st), b in made.items():
        stages[d_st].blocks.append(b)
    for st in stages[1:]:
        st.blocks.sort(key=lambda b: b.src)


def _make_block(graph, stages, s_st, d_st, rects, pairs, dtype, threshold):
    width_src, width_dst = stages[s_st].width, stages[d_st].width
    seen = np.zeros(width_src, dtype=bool)  # the source columns read, as np.unique finds them, in one pass
    for part in rects + pairs:
        seen[part[1]] = True
    used = seen.nonzero()[0]
    nnz = sum(len(r[1]) * len(r[2]) for r in rects) + sum(len(p[1]) for p in pairs)
    # read the whole source stage unless a small part of it is used (a gather costs a copy)
    rows = None if len(used) > 0.5 * width_src else used
    n_rows = width_src if rows is None else len(rows)
    row_pos = np.arange(width_src) if rows is None else np.full(width_src, -1, dtype=np.int64)
    if rows is not None:
        row_pos[rows] = np.arange(len(rows))
    if threshold is None:
        threshold = SPARSE_BELOW_NARROW if width_dst < NARROW_WIDTH else SPARSE_BELOW
        big_enough = n_rows * width_dst >= SPARSE_MIN_ENTRIES
    else:
        big_enough = n_rows * width_dst >= SPARSE_MIN_ENTRIES or threshold > 1
    sparse = nnz < threshold * n_rows * width_dst and big_enough
    block = Block(s_st, rows, None, sparse=sparse)
    block.places = []  # (connection index, kind, ...) for the parameter index
    frozen_conns = {ci for ci, *_ in rects + pairs if not graph.connections[ci].trainable}
    if not block.sparse:
        W = _aligned_zeros((n_rows, width_dst), dtype)
        present = np.zeros((n_rows, width_dst), dtype=bool)
        frozen = np.zeros((n_rows, width_dst), dtype=bool) if frozen_conns else None
        for ci, sc, dc in rects:
            rsel, csel = _as_index(row_pos[sc]), _as_index(dc)
            present[rsel, csel] = True
            if frozen is not None and ci in frozen_conns:
                frozen[rsel, csel] = True
            block.places.append((ci, "rect", rsel, csel))
        for ci, sc, dc, pos in pairs:
            flat = row_pos[sc] * width_dst + dc
            present.ravel()[flat] = True
            if frozen is not None and ci in frozen_conns:
                frozen.ravel()[flat] = True
            block.places.append((ci, "flat", flat, pos))
        block.W = W
        block.mask = None if present.all() else present
        block.frozen = frozen
        return block
    # CSR of the transpose, built directly (connections are unique, so no duplicates to sum)
    coo_r, coo_c, owner, ppos = [], [], [], []
    for ci, sc, dc in rects:
        rr = np.repeat(row_pos[sc], len(dc))
        cc = np.tile(dc, len(sc))
        coo_r.append(rr), coo_c.append(cc), owner.append(np.full(len(rr), ci)), ppos.append(np.arange(len(rr)))
    for ci, sc, dc, pos in pairs:
        coo_r.append(row_pos[sc]), coo_c.append(dc), owner.append(np.full(len(sc), ci)), ppos.append(pos)
    coo_r, coo_c = np.concatenate(coo_r), np.concatenate(coo_c)
    owner, ppos = np.concatenate(owner), np.concatenate(ppos)
    order = np.lexsort((coo_r, coo_c))  # by stage column, then source column
    indptr = np.zeros(width_dst + 1, dtype=np.int64)
    np.cumsum(np.bincount(coo_c, minlength=width_dst), out=indptr[1:])
    data = np.zeros(len(order), dtype=dtype)
    index_type = np.int32 if n_rows < 2**31 else np.int64
    import scipy.sparse as sp  # here, not at the top: a plan of dense blocks never pays scipy's import (0.4 s)

    block.W = sp.csr_array((data, coo_r[order].astype(index_type), indptr), shape=(width_dst, n_rows))
    block.W.has_sorted_indices = True
    # the parameter index holds two positions per connection for the plan's life: 4 bytes each
    # when they fit (a million-connection block keeps 8 MB, not 16)
    data_pos = np.empty(len(order), dtype=index_type)
    data_pos[order] = np.arange(len(order))
    if len(ppos) and ppos.max() < 2**31:
        ppos = ppos.astype(np.int32)
    for ci in np.unique(owner):
        sel = owner == ci
        block.places.append((int(ci), "flat", data_pos[sel], ppos[sel]))
    if frozen_conns:
        block.frozen = np.isin(owner[order], list(frozen_conns))
    return block


def _aligned_zeros(shape, dtype, align=64) -> np.ndarray:
    """Zeros whose data starts on a cache-line boundary. numpy's large arrays start 16 bytes past
    one, so a one-sample product's vector loads of each weight row cross cache lines: the
    MNIST MLP's three products at batch 1 take about 12% longer (benchmarks/run.py --only latency)."""
    dtype = np.dtype(dtype)
    nbytes = int(math.prod(shape)) * dtype.itemsize
    raw = np.zeros(nbytes + align, dtype=np.uint8)
    start = -raw.ctypes.data % align
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def _merge_dense_runs(stages, dtype):
    """Store each run of dense blocks that read whole, consecutive source stages as one matrix
    (blocks keep their W as views of it): one product for the run instead of one per block."""
    for st in stages[1:]:
        dense = {b.src: b for b in st.blocks if not b.sparse and b.rows is None}
        run = []
        for src in sorted(dense) + [None]:
            if run and (src is None or src != run[-1] + 1):
                if len(run) > 1:
                    blocks = [dense[s] for s in run]
                    W = _aligned_zeros((sum(b.W.shape[0] for b in blocks), st.width), dtype)
                    at = 0
                    for b in blocks:
                        W[at:at + b.W.shape[0]] = b.W
                        b.W = W[at:at + b.W.shape[0]]
                        at += b.W.shape[0]
                    st.merged.append((run[0], run[-1], W))
                run = []
            if src is not None:
                run.append(src)


def _pack_sparse_data(stages):
    """Put the data of each stage's CSR blocks into one array, the blocks' data views of it."""
    for st in stages[1:]:
        sparse = [b for b in st.blocks if b.sparse]
        if len(sparse) < 2:
            continue
        st.sparse_data = np.concatenate([b.W.data for b in sparse])
        at = 0
        for b in sparse:
            n = len(b.W.data)
            b.W.data = st.sparse_data[at:at + n]
            at += n


def _as_index(cols):
    """A slice when the columns are contiguous and ascending (a view, not a gather)."""
    if len(cols) and cols[-1] - cols[0] == len(cols) - 1 and (np.diff(cols) == 1).all():
        return slice(int(cols[0]), int(cols[-1]) + 1)
    return cols if len(cols) != 1 else slice(int(cols[0]), int(cols[0]) + 1)


__all__ = ["compile", "Plan", "Stage", "Block", "SPARSE_BELOW", "SPARSE_MIN_ENTRIES"]


class _CallableModule(type(np)):
    """``nngraph.compile(spec)`` is ``nngraph.compile.compile(spec)``: the package attribute is this
    module (Python's import sets it), so calling it must not fail with "'module' is not callable"."""

    def __call__(self, *args, **kwargs) -> Plan:
        return compile(*args, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
