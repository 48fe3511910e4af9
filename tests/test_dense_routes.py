"""The routes of a dense plan's forward pass against the naive reference evaluator: one BLAS call
per stage over the bias (large batches), the column-wise softmax."""
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as hs

from nngraph import reference, runtime
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
    """Count the programs whose stages took the one-call route."""
    runtime._gemm(np.float64)  # load scipy's gemms
    calls = []
    real = dict(runtime._GEMMS)

    def counting(dtype):
        calls.append(np.dtype(dtype))
        return real.get(np.dtype(dtype))
    monkeypatch.setattr(runtime, "_gemm", counting)
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
        assert len(calls) == (3 if batch >= runtime.FUSED_MIN_ROWS else 0)
        assert y.dtype == dtype
        expected = reference.evaluate(plan.graph, plan.parameters(), x)
        np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=tol)
        np.testing.assert_array_equal(plan.forward(x), y)  # the program again, same buffers
        np.testing.assert_array_equal(plan.bind(batch)(x.astype(dtype)), y)


def test_scipys_gemm_is_loaded_at_a_large_programs_second_call(tmp_path):
    """A single large call (a command scoring a file) runs matmul then the bias and loads nothing
    more; the same batch size again runs the one-call stages with scipy's gemm, loaded without
    importing scipy.linalg (whose import costs as much as numpy's)."""
    code = ("import sys, numpy as np; from nngraph import compile, reference, runtime; "
            f"plan = compile({_mlp((12, 8, 10))!r}, dtype=np.float64, seed=5); "
            "x = np.random.default_rng(0).normal(size=(runtime.FUSED_MIN_ROWS, 12)); "
            "first = plan.forward(x); print(runtime._GEMMS is None); "
            "second = plan.forward(x); print(repr(runtime._gemm(np.float64)).split()[-1], "
            "repr(runtime._gemm(np.float32)).split()[-1]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy')); "
            "expected = reference.evaluate(plan.graph, plan.parameters(), x); "
            "print(np.allclose(first, expected, rtol=1e-9, atol=1e-12), np.allclose(second, expected, rtol=1e-9, atol=1e-12))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.split() == ["True", "dgemm>", "sgemm>", "['scipy.linalg._fblas']", "True", "True"]


def test_scipys_blas_follows_the_thread_limits_of_numpys(tmp_path):
    """threadpoolctl limits the BLAS libraries loaded when the limit is set; scipy's, loaded later
    for the one-call stages, takes the threads numpy's BLAS has at each call: inside a limit set
    before it was loaded, and again after that limit ends."""
    code = ("import numpy as np, threadpoolctl; from nngraph import compile, runtime; "
            f"plan = compile({_mlp((12, 8, 10))!r}, seed=5); "
            "x = np.zeros((runtime.FUSED_MIN_ROWS, 12), np.float32)\n"
            "def threads():\n"
            "    return sorted({i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'})\n"
            "ctl = threadpoolctl.ThreadpoolController()\n"
            "with ctl.limit(limits=1):\n"
            "    plan.forward(x); plan.forward(x)\n"
            "    print(runtime._GEMMS is not None, threads())\n"
            "with ctl.limit(limits=2):\n"
            "    plan.forward(x)\n"
            "    print(threads())\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.split("\n")[:2] == ["True [1]", "[2]"]


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
    assert runtime._gemm(dtype) is not None  # loaded: the first call runs the one-call stages too
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
