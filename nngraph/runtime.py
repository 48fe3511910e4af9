"""Run a compiled plan: one product per weight block, one call per activation segment.

Two routes over the same blocks (no weight is ever copied, so parameter writes and training
steps are seen at once):

- :func:`infer`, behind ``Plan.forward``: per thread and batch size it builds a *program* once
  (buffers plus one prebound function per stage) and then only runs it, so a call at batch 1
  costs little more than its matrix products. Plans without sparse blocks keep activations
  batch-major, ``(batch, width)``, written by ``matmul(..., out=)`` with bias and activation in
  place, as hand-written in-place numpy does; from FUSED_MIN_ROWS rows a stage of one block is
  one BLAS gemm over its buffer filled with the bias. Plans with sparse blocks keep them neuron-major,
  ``(width, batch)``: every CSR block (stored as the transpose of W) then multiplies contiguous
  rows directly and accumulates into the stage's buffer (scipy's CSR kernel with an output
  argument), with no transposed copies and no temporaries. A large batch of such a plan runs
  in chunks of samples that stay in the processor's cache through all stages; with
  ``plan.threads = 2`` two threads take the chunks (scipy's CSR kernel is single-threaded and
  releases the GIL), each running its chunk through every stage on its own.
- :func:`forward` / :func:`run_stage`, used by training, which needs every stage's activations
  batch-major (``acts``) and applies dropout between stages.

Each thread has its own buffers (``Plan._buffers``), so threads can share one plan.
"""
from __future__ import annotations

import numpy as np

from functools import partial
from itertools import count

from . import blas
from .activations import FORWARD
from .compile import GENERATION
from .limits import batch_limit_error, batch_rows_allowed

_csr_matvecs = None  # scipy's CSR kernel, loaded by _csr_kernel() when a plan with CSR blocks is first run


def _csr_kernel():
    """Y += A @ X for CSR A into a given Y (the kernel behind scipy's own csr @ dense), or None:
    imported when a plan with CSR blocks first runs, so dense plans never import scipy."""
    global _csr_matvecs
    if _csr_matvecs is None:
        try:
            from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
        except ImportError:  # pragma: no cover - a scipy without it: use the public product
            _csr_matvecs = False
    return _csr_matvecs or None


# Plans with sparse blocks run a large batch in chunks of samples, each chunk through every
# stage before the next. A chunk's activations (all stages, neuron-major) take at most
# CHUNK_BYTES, so they stay in the processor's cache from stage to stage instead of going out
# to memory and back at every stage (1.3-1.5x faster at batch 10,000 on the 2,000-neuron graph;
# benchmarks/run.py --only irregular). With plan.threads > 1 a batch is cut into about two
# chunks per thread (none under CHUNK_MIN_MACS multiply-adds: below that a chunk's Python
# calls show), and the threads take chunks from one counter, each running its chunk through
# all stages with its own buffers: no hand-off or barrier between stages, and a thread slowed
# by another process on its core simply takes fewer chunks. Chunks are exact: every sample's
# numbers are computed by the same calls in the same order whatever the chunk. Dense plans use
# BLAS threads instead.
CHUNK_BYTES = 8 << 20
CHUNK_MIN_MACS = 1 << 20
CHUNK_ROWS = None  # a fixed largest chunk instead, and no least one (tests use tiny ones to run every route)
# Dense stages of programs of at least FUSED_MIN_ROWS rows compute Z = b + A @ W as one BLAS call
# over Z prefilled with the bias (nngraph.blas.gemm_add on numpy's own BLAS). Below it, numpy's
# matmul: the ctypes call costs a few microseconds more. Tests set it to 1 to run this route on
# small batches.
FUSED_MIN_ROWS = 256
SOFTMAX_COLUMNS = 64  # softmax segments up to this wide, in programs of FUSED_MIN_ROWS rows: _softmax_columns
_POOL = None


def infer(plan, x: np.ndarray) -> np.ndarray:
    """Forward pass of ``x`` (batch, inputs), already in the plan's dtype; returns (batch, outputs)."""
    batch = x.shape[0]
    if plan._sparse_plan and batch > 1:
        n, workers = _chunk_count(plan, batch)
        if n > 1:
            return _chunks(plan, x, n, workers)
    programs = plan._buffers
    prog = programs.get(("program", batch))
    if prog is None or prog.generation != GENERATION[0]:
        rows = batch_rows_allowed(plan)
        if batch > rows:  # too many rows for one set of buffers: rows are independent, so chunks are exact
            return _chunked(plan, x, rows)
        prog = _program(plan, batch, programs)
    return prog(x)


def bind(plan, batch: int):
    """``predict(x)``: :func:`infer` for arrays of exactly (batch, inputs) in the plan's dtype,
    from the thread that bound it, with the program looked up once instead of on every call.
    Anything else (another shape, dtype or thread) goes through ``plan.forward``."""
    from threading import get_ident

    owner, shape, dtype, generation = get_ident(), (batch, plan.input_width), plan.dtype, GENERATION
    forward = plan.forward
    held = [None]

    def predict(x):
        if type(x) is not np.ndarray or x.shape != shape or x.dtype != dtype or get_ident() != owner:
            return forward(x)
        prog = held[0]
        if prog is None or prog.generation != generation[0]:
            prog = plan._buffers.get(("program", batch))
            if (prog is None or prog.generation != generation[0]
                    or plan._sparse_plan and batch > 1 and _chunk_count(plan, batch)[0] > 1):
                return infer(plan, x)  # builds the program (or runs chunks, or a batch over the limit)
            held[0] = prog
        return prog(x)
    return predict


def _chunk_count(plan, batch):
    """(chunks, threads) for a batch of a plan with sparse blocks (see CHUNK_BYTES)."""
    if CHUNK_ROWS:
        most, least = CHUNK_ROWS, 1
    else:
        sizes = plan.__dict__.get("_chunk_rows")
        if sizes is None:  # once per plan: its widths and connections are fixed
            per_row = sum(s.width for s in plan.stages) * plan.dtype.itemsize
            sizes = plan._chunk_rows = (max(CHUNK_BYTES // max(per_row, 1), 1),
                                        max(CHUNK_MIN_MACS // max(plan.macs, 1), 1))
        most, least = sizes
    n = -(-batch // most)
    threads = plan._threads
    if threads > 1:
        n = max(n, min(2 * threads, batch // least))
    return n, min(threads, 8, n)


def _chunked(plan, x, rows):
    if rows < 1 or x.shape[0] * plan.output_width * plan.dtype.itemsize > plan.graph.limits.max_batch_bytes:
        raise batch_limit_error(plan, x.shape[0])
    out = np.empty((x.shape[0], plan.output_width), dtype=plan.dtype)
    for lo in range(0, x.shape[0], rows):
        out[lo:lo + rows] = infer(plan, x[lo:lo + rows])
    return out


def _chunks(plan, x, n, workers):
    """A plan with sparse blocks on a batch of ``n`` chunks (as equal as can be): each chunk through
    all stages, chunks taken from one counter by ``workers`` threads (the caller among them).
    Every thread holds at most two programs (the two chunk sizes), so their buffers together
    stay within NNGRAPH_MAX_BATCH_BYTES (more, smaller chunks where they would not)."""
    batch = x.shape[0]
    rows = batch_rows_allowed(plan)
    if rows < 1 or batch * plan.output_width * plan.dtype.itemsize > plan.graph.limits.max_batch_bytes:
        raise batch_limit_error(plan, batch)
    workers = max(1, min(workers, rows // 2))
    n = min(batch, max(n, -(-batch // max(rows // (2 * workers), 1)) if rows > 1 else batch))
    bounds = [batch * i // n for i in range(n + 1)]
    out = np.empty((batch, plan.output_width), dtype=plan.dtype)
    counter = count()
    if workers == 1:
        _run_chunks(plan, x, out, bounds, counter)
        return out
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=7, thread_name_prefix="nngraph")
    futures = [_POOL.submit(_run_chunks, plan, x, out, bounds, counter) for _ in range(workers - 1)]
    try:
        _run_chunks(plan, x, out, bounds, counter)
    finally:
        for f in futures:  # one not started yet (the pool busy with other calls) has nothing left to do
            if not f.cancel():
                f.result()
    return out


def _run_chunks(plan, x, out, bounds, counter):
    """Take chunk numbers from ``counter`` until none is left; run each with this thread's programs
    (weights gathered once per program and call, not per chunk)."""
    programs, mine = plan._buffers, {}
    n = len(bounds) - 1
    for i in counter:
        if i >= n:
            return
        lo, hi = bounds[i], bounds[i + 1]
        prog = mine.get(hi - lo)
        if prog is None:
            prog = programs.get(("program", hi - lo))
            if prog is None or prog.generation != GENERATION[0]:
                prog = _program(plan, hi - lo, programs)
            prog.prepare()
            mine[hi - lo] = prog
        prog.into(x[lo:hi], out[lo:hi])


def _program(plan, batch, programs):
    if batch > batch_rows_allowed(plan):  # every route allocates its buffers here: none passes the bound
        raise batch_limit_error(plan, batch)
    if len(programs) > 8:  # a few batch sizes at most (training + evaluation + last batch)
        programs.clear()
    if plan._sparse_plan:
        prog = _neuron_major(plan, batch)
    else:
        prog = _batch_major(plan, batch, fused=batch >= FUSED_MIN_ROWS and blas.available(plan.dtype))
    prog.generation = GENERATION[0]
    programs[("program", batch)] = prog
    return prog


# -- batch-major: dense plans ------------------------------------------------------------------


def _stage_buffers(plan, batch, transposed):
    """Every stage's activation buffer. When some stage reads merged runs of source stages,
    all buffers are column ranges (rows, neuron-major) of one array, so a run's sources are one
    contiguous slice; ``whole`` is that array and ``offsets`` the stages' first columns."""
    widths = [s.width for s in plan.stages]
    offsets = np.concatenate([[0], np.cumsum(widths)]).tolist()
    shape = (offsets[-1], batch) if transposed else (batch, offsets[-1])
    whole = np.empty(shape, dtype=plan.dtype)
    bufs = [whole[a:b] if transposed else whole[:, a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    return bufs, whole, offsets


def _batch_major(plan, batch, fused=False):
    """A flat list of calls with their arrays bound: at batch 1 nearly all the time is numpy's.
    ``fused``: stages as one gemm over the bias where they can (see _fusable)."""
    merged = [st.merged for st in plan.stages[1:] if st.merged]
    if merged:
        bufs, whole, offsets = _stage_buffers(plan, batch, transposed=False)
    else:
        bufs, whole, offsets = [None] + [np.empty((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]], None, None
    copy_input = any(run[0] == 0 for runs in merged for run in runs)
    ops = []
    for st in plan.stages[1:]:
        ops += _dense_stage(st, bufs, whole, offsets, fused)
    ops = tuple(ops)
    gather, _ = _gather(plan, bufs, transposed=False)
    X = bufs[0]

    def run(x):
        if copy_input:
            np.copyto(X, x)
        else:
            bufs[0] = x
        for op in ops:
            op()
        if not copy_input:
            bufs[0] = None  # keep no reference to the caller's array
        return gather()
    run.bufs = bufs  # for inspection and tests
    return run


def _dense_stage(stage, bufs, whole, offsets, fused=False):
    """The calls computing one stage in place: products, bias, activations. One sample at a
    time (batch 1) the calls are the cheapest numpy has: ``np.dot`` with a positional output,
    bias and activations on the 1-D view of the row (same-shape ufunc loops, no broadcasting)."""
    Z = bufs[stage.index]
    one = Z.shape[0] == 1 and Z.flags.c_contiguous
    in_run = {s for a, b, _ in stage.merged for s in range(a, b + 1)}
    blocks = [b for b in stage.blocks if b.src not in in_run]
    runs = [(whole[:, offsets[a]:offsets[b + 1]], W) for a, b, W in stage.merged]
    matmul = np.matmul
    if fused and _fusable(stage, blocks, runs, Z):
        return _fused_stage(stage, blocks[0], bufs, Z) + _activations(stage, Z, transposed=False)
    if len(blocks) == 1 and not runs and blocks[0].rows is None:
        W, src = blocks[0].W, blocks[0].src
        if one and W.dtype == Z.dtype:
            dot = np.dot
            if src == 0:  # the input changes every call
                products = [lambda: dot(bufs[0], W, Z)]
            else:
                products = [partial(dot, bufs[src], W, Z)]
        elif src == 0:
            products = [lambda: matmul(bufs[0], W, out=Z)]
        else:
            products = [partial(matmul, bufs[src], W, out=Z)]
    else:
        def product():
            first = True
            for A, W in runs:
                if first:
                    matmul(A, W, out=Z)
                    first = False
                else:
                    np.add(Z, A @ W, out=Z)
            for block in blocks:
                A = bufs[block.src]
                if block.rows is not None:
                    A = A[:, block.rows]
                if first:
                    matmul(A, block.W, out=Z)
                    first = False
                else:
                    np.add(Z, A @ block.W, out=Z)
            if first:
                Z.fill(0)
        products = [product]
    row = Z.reshape(-1) if one else Z
    if one:
        assert np.shares_memory(row, Z)
    bias = [partial(np.add, row, stage.bias, row)] if stage.bias is not None else []
    return products + bias + _activations(stage, row if one else Z, transposed=False)


def _fusable(stage, blocks, runs, Z) -> bool:
    """Whether this stage can be computed as bias + product in one gemm: one block over all its
    source's columns, a bias, a C-contiguous stage buffer and W of the buffer's dtype."""
    if (len(blocks) != 1 or runs or blocks[0].rows is not None
            or stage.bias is None or not Z.flags.c_contiguous):
        return False
    W = blocks[0].W
    return type(W) is np.ndarray and W.dtype == Z.dtype and W.flags.c_contiguous


def _fused_stage(stage, block, bufs, Z):
    """Z = b + A @ W: Z filled with the bias rows, then one gemm with beta = 1 adding the
    product in place. An input whose rows are not contiguous (or of another dtype) is copied
    first, as matmul would copy it."""
    W, src, bias = block.W, block.src, stage.bias
    fill = partial(np.copyto, Z, bias)
    gemm_add = blas.gemm_add

    def product():
        A = bufs[src]
        if not gemm_add(A, W, Z):
            A = np.ascontiguousarray(A, dtype=Z.dtype)
            if not gemm_add(A, W, Z):  # pragma: no cover - an empty product: Z keeps the bias
                np.add(Z, A @ W, out=Z)
    if src == 0:  # the input changes every call
        return [fill, product]
    A = bufs[src]
    if blas._rows(A):
        return [fill, partial(gemm_add, A, W, Z)]
    return [fill, product]


def _activations(stage, Z, transposed):
    """One bound call per activation segment, in place (common ones straight to the ufunc).
    ``Z`` is (batch, width), or (width, batch) when ``transposed``, or the 1-D row of one sample.

    ReLU takes its 0 as an array of the segment's shape: numpy's maximum against a scalar runs
    three to four times slower than against an array. Zeros cost no memory until written (and
    these never are)."""
    calls = []
    if Z.ndim == 1:
        rows, width = 1, Z.shape[0]
    else:
        rows, width = (Z.shape[1], Z.shape[0]) if transposed else Z.shape
    for name, alpha, lo, hi in stage.segments:
        if name == "linear":
            continue
        full = lo == 0 and hi == width
        v = Z if full else (Z[lo:hi] if transposed or Z.ndim == 1 else Z[:, lo:hi])
        if name == "relu":
            calls.append(partial(np.maximum, v, np.zeros(v.shape, dtype=v.dtype), out=v))
        elif name == "sigmoid":
            calls.append(partial(_sigmoid, v))
        elif name == "tanh":
            calls.append(partial(np.tanh, v, v))
        elif name == "softmax" and rows == 1 and not transposed and hi - lo <= SOFTMAX_COLUMNS:
            row = v.reshape(-1)
            assert np.shares_memory(row, v)
            calls.append(partial(_softmax_row, row, np.empty((), dtype=v.dtype), np.empty((), dtype=v.dtype)))
        elif name == "softmax" and rows == 1:
            calls.append(partial(_softmax_one, v.reshape(-1)))
        elif name == "softmax" and not transposed and rows >= FUSED_MIN_ROWS and hi - lo <= SOFTMAX_COLUMNS:
            calls.append(partial(_softmax_columns, v, np.empty((hi - lo, rows), dtype=v.dtype),
                                 np.empty(rows, dtype=v.dtype), np.empty(rows, dtype=v.dtype)))
        elif name == "softmax" and transposed:
            calls.append(partial(FORWARD[name], v.T, v.T, alpha))  # over a node's neurons: rows here
        else:
            calls.append(partial(FORWARD[name], v, v, alpha))
    return calls


def _sigmoid(v, multiply=np.multiply, exp=np.exp, add=np.add, reciprocal=np.reciprocal, errstate=np.errstate):
    """1 / (1 + exp(-v)) in place, in four passes without temporaries (the shared, two-exp form
    takes seven and a temporary), as accurate (a few units in the last place). Far below zero
    exp(-v) overflows to inf and the result is exactly 0, as it should round (below about -88
    in float32 the exact value is under the smallest normal float); that overflow is expected,
    so it is not reported. Not np.negative: numpy 2.4 miscomputes it in place on column views."""
    multiply(v, -1, v)
    with errstate(over="ignore"):
        exp(v, v)
    add(v, 1, v)
    reciprocal(v, v)


def _softmax_columns(v, T, top, total, copyto=np.copyto, maximum=np.maximum.reduce, add=np.add.reduce):
    """Softmax of each row of a batch-major ``v`` (many rows, few columns: a classifier's
    outputs) through a neuron-major copy ``T``, where each step is one pass along contiguous
    rows: reducing ten numbers per row, row after row, costs numpy more than the whole
    transposed pass (0.4 ms instead of 1.4 ms at 10,000 rows of 10). The sums add the columns in
    order instead of numpy's pairwise order: the results may differ from the row-wise softmax's
    in the last place."""
    copyto(T, v.T)
    maximum(T, axis=0, out=top)
    np.subtract(T, top, T)
    np.exp(T, T)
    add(T, axis=0, out=total)
    np.divide(T, total, T)
    copyto(v, T.T)


def _softmax_row(v, top, total, tolist=np.ndarray.tolist, subtract=np.subtract, exp=np.exp,
                 add=np.add.reduce, divide=np.divide):
    """Softmax of one sample's few outputs (a classifier's), in place, rounded exactly as the
    batched softmax rounds each row (the sum is numpy's, in its order: a one-row chunk of a large
    batch gets the same numbers). The max is taken in Python (exact) and written, like the sum,
    into a 0-d array that the next call reads: numpy turns a Python or numpy number operand into
    an array on every call. At batch 1 each numpy call costs far more than its arithmetic, and
    what it touches competes with the weights for the processor's cache."""
    top[()] = max(tolist(v))
    subtract(v, top, v)
    exp(v, v)
    add(v, None, None, total)
    divide(v, total, v)


def _softmax_one(v, tolist=np.ndarray.tolist, total=np.add.reduce):
    """Softmax of one sample's 1-D row in place, rounded exactly as the batched softmax rounds
    each row. A few neurons (a classifier's outputs): the max in Python (exact, and cheaper than
    numpy's reduction at this size)."""
    np.subtract(v, max(tolist(v)) if v.shape[0] <= 64 else v.max(), v)
    np.exp(v, v)
    np.divide(v, total(v), v)


# -- neuron-major: plans with sparse blocks -----------------------------------------------------


def _neuron_major(plan, batch):
    """A flat list of prebound calls over neuron-major buffers, plus ``prepare`` (gathers each
    stage's CSR weights into the order of its merged product: once per call, not per chunk) and
    ``into(x, out)`` (runs a chunk, writing its outputs into ``out``)."""
    bufs, whole, offsets = _stage_buffers(plan, batch, transposed=True)
    prepares, ops = [], []
    for st in plan.stages[1:]:
        p, o = _mixed_stage(st, bufs, whole, offsets)
        prepares += p
        ops += o
    prepares, ops = tuple(prepares), tuple(ops)
    gather, put = _gather(plan, bufs, transposed=True)
    XT = bufs[0]
    copyto = np.copyto

    def prepare():
        for p in prepares:
            p()

    def into(x, out):
        copyto(XT, x.T)
        for op in ops:
            op()
        put(out)

    def run(x):
        for p in prepares:
            p()
        copyto(XT, x.T)
        for op in ops:
            op()
        return gather()
    run.bufs = bufs  # for inspection and tests
    run.prepare, run.into = prepare, into
    return run


def _mixed_stage(stage, bufs, whole, offsets):
    """(prepare calls, calls) for one stage: ZT = W_dense.T @ AT + ..., then CSR blocks
    accumulate into ZT, then the bias, then activations on rows, all in place."""
    ZT = bufs[stage.index]
    batch = ZT.shape[1]
    in_run = {s for a, b, _ in stage.merged for s in range(a, b + 1)}
    runs = [(whole[offsets[a]:offsets[b + 1]], W) for a, b, W in stage.merged]
    dense = [b for b in stage.blocks if not b.sparse and b.src not in in_run]
    sparse = [b for b in stage.blocks if b.sparse]
    Zflat = ZT.reshape(-1)
    assert np.shares_memory(Zflat, ZT)  # the kernel writes through this flat view
    prepares, ops = [], []
    if runs or dense:
        def products():
            first = True
            for AT, W in runs:
                if first:
                    np.matmul(W.T, AT, out=ZT)
                    first = False
                else:
                    np.add(ZT, W.T @ AT, out=ZT)
            for block in dense:
                AT = bufs[block.src]
                if block.rows is not None:
                    AT = AT[block.rows]
                if first:
                    np.matmul(block.W.T, AT, out=ZT)
                    first = False
                else:
                    np.add(ZT, block.W.T @ AT, out=ZT)
        ops.append(products)
    else:
        ops.append(partial(ZT.fill, 0))
    merged = _merged_sparse(stage, sparse, whole, offsets, Zflat) if _csr_kernel() is not None else None
    if merged:
        prepares.append(merged[0])
        ops.append(merged[1])
    else:
        ops += [_sparse_kernel(b, bufs, Zflat, ZT, batch) for b in sparse]
    if stage.bias is not None:  # last, as in the exported ONNX graph: the same float32 roundings
        ops.append(partial(np.add, ZT, stage.bias[:, None], ZT))
    ops += _activations(stage, ZT, transposed=True)
    return prepares, ops


def _merged_sparse(stage, sparse, whole, offsets, Zflat):
    """One CSR product for all of a stage's CSR blocks, over the whole activation array:
    (gather, kernel). The blocks' data (one array, ``stage.sparse_data``) is gathered into the
    merged order by ``gather`` (one pass over the weights, once per call); the index arrays are
    built once."""
    data = stage.sparse_data
    if data is None or any(not np.shares_memory(b.W.data, data) for b in sparse):
        return None
    rows, cols = [], []
    for b in sparse:
        W = b.W
        rows.append(np.repeat(np.arange(W.shape[0]), np.diff(W.indptr)))
        local = W.indices if b.rows is None else np.asarray(b.rows)[W.indices]
        cols.append(offsets[b.src] + local.astype(np.int64))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.lexsort((cols, rows))
    n_rows, n_cols, batch = stage.width, whole.shape[0], whole.shape[1]
    index_type = np.int32 if max(n_cols, len(order)) < 2**31 else np.int64
    indptr = np.zeros(n_rows + 1, dtype=index_type)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    indices = cols[order].astype(index_type)
    perm = order.astype(np.intp)
    gathered = np.empty(len(order), dtype=data.dtype)
    Xflat = whole.reshape(-1)
    assert np.shares_memory(Xflat, whole)
    # mode="clip": with an output and the default mode numpy gathers into a temporary first
    gather = partial(np.take, data, perm, None, gathered, "clip")
    kernel = partial(_csr_matvecs, n_rows, n_cols, batch, indptr, indices, gathered, Xflat, Zflat)
    return gather, kernel


def _sparse_kernel(block, bufs, Zflat, ZT, batch):
    """ZT += W @ AT for one CSR block, reading the full source buffer: a block that reads some
    source columns (``rows``) has its column indices mapped to the source's, once per index array."""
    AT = bufs[block.src]
    Aflat = AT.reshape(-1)
    n_src = AT.shape[0]
    cache = {}

    def indices(W):
        if block.rows is None:
            return W.indices
        if cache.get("of") is not W.indices:
            cache["of"] = W.indices
            cache["mapped"] = np.asarray(block.rows, dtype=W.indptr.dtype)[W.indices]
        return cache["mapped"]

    if _csr_kernel() is None:
        def fallback():
            W = block.W
            np.add(ZT, W @ (AT if block.rows is None else AT[block.rows]), out=ZT)
        return fallback

    def kernel():
        W = block.W
        idx = indices(W)
        if W.indptr.dtype != idx.dtype:
            idx = idx.astype(W.indptr.dtype)
        _csr_matvecs(W.shape[0], n_src, batch, W.indptr, idx, W.data, Aflat, Zflat)
    return kernel


# -- outputs ---------------------------------------------------------------------------------------


def _gather(plan, bufs, transposed):
    """(gather, put): the output array (batch, outputs) as a fresh array on every call, and the
    same written into a given (batch, outputs) array."""
    where = plan._out_index
    dtype = plan.dtype
    batch = bufs[1].shape[1] if transposed else bufs[1].shape[0]
    if len(where) == 1 and len(where[0]) == 1 and where[0][0][2] is None:
        s, cols, _ = where[0][0]
        src = bufs[s]
        view = src[cols].T if transposed else src[:, cols]  # the buffers stay put: bind the view once
        if transposed:
            gather = lambda: view.copy(order="C")  # noqa: E731  a fresh C-ordered array, even when a view would do
        else:
            gather = view.copy
        return gather, partial(np.copyto, src=view)
    sizes = [size for _, size in plan.outputs]
    width = sum(sizes)

    def put(out):
        at = 0
        for size, parts in zip(sizes, where):
            for s, cols, local in parts:
                part = bufs[s][cols].T if transposed else bufs[s][:, cols]
                if local is None:
                    out[:, at:at + size] = part
                else:
                    out[:, at + local] = part
            at += size

    def gather():
        out = np.empty((batch, width), dtype=dtype)
        put(out)
        return out
    return gather, put


# -- the training route --------------------------------------------------------------------------


def forward(plan, x: np.ndarray, acts: list | None = None, training_mask=None) -> np.ndarray:
    """Forward pass of ``x`` (batch, inputs) in the plan's dtype; returns (batch, outputs).

    ``acts``, if given, receives every stage's activations, batch-major (used by training).
    ``training_mask`` is a callable(stage, A) applying dropout in place during training.
    Without either, this is :func:`infer`.
    """
    if acts is None and training_mask is None:
        return infer(plan, x)
    bufs = acts if acts is not None else _buffers(plan, x.shape[0])
    bufs[0] = x
    transposed = {}
    for stage in plan.stages[1:]:
        run_stage(stage, bufs, bufs[stage.index], transposed)
        if training_mask is not None and stage.dropout is not None:
            training_mask(stage, bufs[stage.index])
    return plan.gather_outputs(bufs)


def run_stage(stage, bufs, Z, transposed=None, activate=True):
    """Z = activation(sum of A_src @ W + b), in place, batch-major. Sparse blocks multiply the
    transposed activations (contiguous rows for scipy's kernel); ``transposed`` caches them per
    forward pass so each source stage is transposed once, however many blocks read it.
    ``activate=False`` stops at the sums (a traced pass keeps them, then activates)."""
    first = True
    sparse_sum = None
    for block in stage.blocks:
        if block.sparse:
            AT = _transposed(bufs, block.src, transposed)
            if block.rows is not None:
                AT = AT[block.rows]
            if sparse_sum is None:
                sparse_sum = block.W @ AT  # (width, batch)
            elif _csr_kernel() is not None and sparse_sum.flags.c_contiguous:
                W = block.W
                _csr_matvecs(W.shape[0], W.shape[1], AT.shape[1], W.indptr, W.indices, W.data,
                             AT.reshape(-1), sparse_sum.reshape(-1))
            else:
                sparse_sum += block.W @ AT
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
    for name, alpha, lo, hi in stage.segments if activate else ():
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
    """This thread's batch-major buffers for ``batch`` rows (training's route)."""
    buffers = plan._buffers
    bufs = buffers.get(batch)
    if bufs is None:
        if batch > batch_rows_allowed(plan):
            raise batch_limit_error(plan, batch)
        if len(buffers) > 8:
            buffers.clear()
        bufs = [None] + [np.empty((batch, s.width), dtype=plan.dtype) for s in plan.stages[1:]]
        buffers[batch] = bufs
    return bufs
