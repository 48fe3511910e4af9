"""The routes of a dense plan's forward pass against the naive reference evaluator: one BLAS call
per stage over the bias (large batches), the column-wise softmax."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as hs

from nngraph import blas, reference, runtime
from nngraph.compile import compile

from randomnets import random_spec


def _mlp(sizes, softmax=True):
    names = ["x"] + [f"h{i}" for i in range(1, len(sizes) - 1)] + ["y"]
    nodes = [{"name": "x", "role": "input", "size": sizes[0]}]
    nodes += [{"name": n, "size": s, "activation": "relu"} for n, s in zip(names[1:-1], sizes[1:-1])]
    nodes.append({"name": "y", "role": "output", "size": sizes[-1], "activation": "softmax" if softmax else "tanh"})
    edges = [{"from": a, "to": b, "init": "he_normal"} for a, b in zip(names, names[1:])]
    return {"nngraph": 1, "name": "mlp", "nodes": nodes, "edges": edges}


def _spy_gemm(monkeypatch):
    """Count the one-call products (programs built after this see the spy)."""
    calls = []
    real = blas.gemm_add

    def counting(a, b, c, *args, **kw):
        done = real(a, b, c, *args, **kw)
        calls.append(done)
        return done
    monkeypatch.setattr(blas, "gemm_add", counting)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_batch_routes_equal_the_reference(dtype, monkeypatch):
    # batches around FUSED_MIN_ROWS: matmul then bias below it, one gemm over the bias from it on;
    # the softmax of 10 columns runs column-wise from it on
    calls = _spy_gemm(monkeypatch)
    plan = compile(_mlp((30, 20, 16, 10)), dtype=dtype, seed=1)
    rng = np.random.default_rng(0)
    tol = 1e-6 if dtype == np.float64 else 2e-5
    for batch in (runtime.FUSED_MIN_ROWS - 1, runtime.FUSED_MIN_ROWS, 1001):
        calls.clear()
        x = rng.normal(0, 2, (batch, 30))
        y = plan.forward(x)
        assert calls == ([True] * 3 if batch >= runtime.FUSED_MIN_ROWS else [])
        assert y.dtype == dtype
        expected = reference.evaluate(plan.graph, plan.parameters(), x)
        np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=tol)
        np.testing.assert_array_equal(plan.forward(x), y)  # the program again, same buffers
        np.testing.assert_array_equal(plan.bind(batch)(x.astype(dtype)), y)


def test_the_one_call_route_runs_on_numpys_own_blas(tmp_path):
    """The one-call stages use the BLAS numpy already loaded: no second BLAS library (whose thread
    pool would compete with numpy's and escape thread limits), no scipy import, and a thread
    limit set around the call reaches it."""
    code = ("import sys, numpy as np, threadpoolctl; from nngraph import blas, compile, reference, runtime\n"
            "def libs():\n"
            "    return [(i['filepath'], i['num_threads']) for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']\n"
            f"plan = compile({_mlp((12, 8, 10))!r}, dtype=np.float64, seed=5)\n"
            "x = np.random.default_rng(0).normal(size=(runtime.FUSED_MIN_ROWS, 12))\n"
            "before = libs()\n"
            "with threadpoolctl.threadpool_limits(1):\n"
            "    inside = libs(); first = plan.forward(x).copy()\n"
            "second = plan.forward(x)\n"
            "print(blas.available(np.float64), blas.available(np.float32), len(before) == 1, libs() == before, inside[0][1])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
            "expected = reference.evaluate(plan.graph, plan.parameters(), x)\n"
            "print(np.allclose(first, expected, rtol=1e-9, atol=1e-12), np.array_equal(first, second))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.splitlines() == ["True True True True 1", "[]", "True True"]


def test_gemm_add_against_numpy():
    """Every layout gemm_add takes (row strides, the transposed operand) equals numpy's product
    plus the scaled addend; a layout it cannot take is left to the caller, untouched."""
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        tol = 1e-5 if dtype == np.float32 else 1e-12
        wide = rng.normal(size=(40, 30)).astype(dtype)
        a, w = wide[:, 3:20], rng.normal(size=(17, 6)).astype(dtype)
        c = rng.normal(size=(40, 9)).astype(dtype)[:, 2:8]  # a column slice: rows strided
        expected = a @ w + 0.5 * c
        assert blas.gemm_add(a, w, c, 0.5)
        np.testing.assert_allclose(c, expected, rtol=tol, atol=tol)
        d = rng.normal(size=(40, 6)).astype(dtype)
        g = rng.normal(size=(17, 6)).astype(dtype)
        expected = a.T @ d * 2.0 + g
        assert blas.gemm_add(a, d, g, 1.0, alpha=2.0, trans_a=True)
        np.testing.assert_allclose(g, expected, rtol=tol, atol=tol)
        for bad in (np.asfortranarray(a), a[::-1], a.astype(np.float16)):  # columns strided, rows reversed, dtype
            out = np.full((40, 6), 7.0, dtype)
            assert not blas.gemm_add(bad, w, out)
            assert (out == 7.0).all()
        assert not blas.gemm_add(a[:0], w, np.zeros((0, 6), dtype))


def test_gemm_add_finds_each_operand_where_it_starts():
    """Operands as the training step passes them, some readable only through their own array
    object: read-only, offset row slices, transposed views; each result equals numpy's."""
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        tol = 1e-5 if dtype == np.float32 else 1e-12
        a = rng.normal(size=(12, 7)).astype(dtype)
        ro = a.copy()
        ro.setflags(write=False)
        b = rng.normal(size=(12, 5)).astype(dtype)
        big = rng.normal(size=(20, 5)).astype(dtype)
        for left, right, start in ((ro, b, None), (a[2:], b[2:], None), (a, big[4:16], big[:12].copy())):
            c = rng.normal(size=(7, 5)).astype(dtype) if start is None else start[:7]
            expected = left.T @ right + c
            assert blas.gemm_add(left, right, c, 1.0, trans_a=True)
            np.testing.assert_allclose(c, expected, rtol=tol, atol=tol)
        c = rng.normal(size=(12, 12)).astype(dtype)
        expected = a @ a.T + 2.0 * c
        assert blas.gemm_add(a, np.ascontiguousarray(a.T), c, 2.0)
        np.testing.assert_allclose(c, expected, rtol=tol, atol=tol)


def test_parameters_written_in_place_reach_the_one_call_route(monkeypatch):
    monkeypatch.setattr(runtime, "FUSED_MIN_ROWS", 4)
    plan = compile(_mlp((6, 5, 3), softmax=False), dtype=np.float64, seed=2)
    x = np.random.default_rng(1).normal(size=(7, 6))
    before = plan.forward(x)
    plan.set_parameters({k: v * 1.5 - 0.1 for k, v in plan.parameters().items()})  # weights and biases in place
    after = plan.forward(x)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, reference.evaluate(plan.graph, plan.parameters(), x), rtol=1e-9, atol=1e-12)
    plan.stages[1].bias = plan.stages[1].bias + 1.0  # a new array: the program is rebuilt
    np.testing.assert_allclose(plan.forward(x), runtime.forward(plan, x, runtime._buffers(plan, 7)), rtol=1e-12)


def test_inputs_that_are_not_contiguous(monkeypatch):
    monkeypatch.setattr(runtime, "FUSED_MIN_ROWS", 2)
    plan = compile(_mlp((5, 4, 3)), dtype=np.float64, seed=3)
    wide = np.random.default_rng(2).normal(size=(9, 8))
    for x in (wide[:, 1:6], wide[::2, :5], np.asfortranarray(wide[:, :5])):
        np.testing.assert_allclose(plan.forward(x), reference.evaluate(plan.graph, plan.parameters(), x),
                                   rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=hs.integers(0, 2**32 - 1), batch=hs.integers(1, 9), double=hs.booleans())
def test_every_dense_route_equals_the_reference(seed, batch, double):
    # random dense graphs (skips, merged runs, partial blocks, softmax segments) with the one-call
    # stages and the column softmax forced from 1 row on
    dtype = np.float64 if double else np.float32
    assert blas.available(dtype)
    plan = compile(random_spec(seed), dtype=dtype, sparse_below=0.0)
    assert not plan._sparse_plan
    x = np.random.default_rng(seed).normal(0, 2, (batch, plan.input_width))
    expected = reference.evaluate(plan.graph, plan.parameters(), x)
    saved, runtime.FUSED_MIN_ROWS = runtime.FUSED_MIN_ROWS, 1
    try:
        y = plan.forward(x)
        plan.forward(x + 1.0)
        np.testing.assert_array_equal(plan.forward(x), y)
        np.testing.assert_array_equal(plan.bind(batch)(x.astype(dtype)), y)
    finally:
        runtime.FUSED_MIN_ROWS = saved
    tol = 1e-6 if double else 1e-4
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [1, 3, 10, runtime.SOFTMAX_COLUMNS, runtime.SOFTMAX_COLUMNS + 1])
def test_one_sample_softmax_equals_the_reference(dtype, width):
    # one sample: the softmax with its max and sum in Python up to SOFTMAX_COLUMNS outputs,
    # numpy's reductions beyond; logits large enough to overflow exp without the max taken off
    plan = compile(_mlp((12, 9, width)), dtype=dtype, seed=2)
    rng = np.random.default_rng(width)
    tol = 1e-6 if dtype == np.float64 else 2e-6
    for scale in (1.0, 1e4):
        for row in rng.normal(0, scale, (4, 12)):
            x = row[None, :]
            y = plan.forward(x)
            expected = reference.evaluate(plan.graph, plan.parameters(), x)
            assert y.shape == (1, width) and y.dtype == dtype and np.isfinite(y).all()
            np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
            np.testing.assert_allclose(y.sum(), 1.0, rtol=tol)
            np.testing.assert_array_equal(plan.bind()(x.astype(dtype)), y)
    x = np.full((1, 12), np.nan)
    assert np.isnan(plan.forward(x)).all()  # NaN in, NaN out: never a made-up distribution


def test_dense_weights_start_on_a_cache_line():
    # one-sample products read each weight row with vector loads: rows that start on a cache
    # line need no split loads; a merged run (a skip connection's two sources as one matrix) too.
    # Parameters written afterwards land in those same arrays.
    skip = _mlp((30, 20, 7))
    skip["edges"].append({"from": "x", "to": "y", "init": "he_normal"})
    for spec in (_mlp((30, 20, 16, 10)), skip):
        plan = compile(spec, dtype=np.float32, seed=1)
        merged = [W for st in plan.stages[1:] for _, _, W in st.merged]
        alone = [b.W for st in plan.stages[1:] for b in st.blocks if not any(np.shares_memory(b.W, W) for W in merged)]
        assert len(merged) == (spec is skip) and alone
        assert all(W.ctypes.data % 64 == 0 for W in merged + alone)
        x = np.random.default_rng(0).normal(size=(1, 30))
        plan.set_parameters({k: v * 0.5 for k, v in plan.parameters().items()})
        np.testing.assert_allclose(plan.forward(x), reference.evaluate(plan.graph, plan.parameters(), x),
                                   rtol=2e-6, atol=2e-6)
