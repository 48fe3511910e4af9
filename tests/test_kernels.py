"""The compiled update (nngraph/_kernels.c) against nngraph's numpy route: Adam's step in one
pass with a penalty's gradient read in and max-norm's sums of squares taken, the one-pass L1/L2
fill and sums, bit for bit; its refusals of arrays it cannot take; and training by either route.

Where the module is not built (no C compiler at install), these tests are skipped, except in CI
(.ci/run sets NNGRAPH_REQUIRE_KERNELS), which must build it."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nngraph
import nngraph.optimizers as optimizers
import nngraph.regularizers as regularizers
import nngraph.training as training
from nngraph.optimizers import Optimizer
from nngraph.regularizers import _scaled_sign
from nngraph.spec.models import Optimizer as OptimizerConfig

KERNELS = optimizers.kernels
pytestmark = pytest.mark.skipif(KERNELS is None and not os.environ.get("NNGRAPH_REQUIRE_KERNELS"),
                                reason="nngraph._kernels was not built (no C compiler at install)")


def test_the_module_is_built():
    assert KERNELS is not None, "nngraph._kernels was not built: is a C compiler installed?"
    assert regularizers.kernels is KERNELS


def _awkward(rng, dtype, shape, finite=True):
    """Ordinary numbers with +0, -0, subnormals and the smallest normal mixed in (and infinities
    and NaN where ``finite`` is False)."""
    info = np.finfo(dtype)
    w = rng.normal(size=shape).astype(dtype)
    special = [0.0, -0.0, info.smallest_subnormal, -info.smallest_subnormal, -info.smallest_normal, 1e-30]
    if not finite:
        special += [np.inf, -np.inf, np.nan]
    flat = w.reshape(-1)
    at = rng.choice(flat.size, size=min(flat.size, len(special)), replace=False)
    flat[at] = np.array(special[:len(at)], dtype=dtype)
    return w


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _penalty(w, mode, c):
    out = np.empty_like(w)
    if mode == 1:
        _scaled_sign(w, c, out)
    else:
        np.multiply(w, c, out=out)
    return out


OPTIMIZERS = {"sgd": {}, "momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.8},
              "adagrad": {"epsilon": 1e-7}, "rmsprop": {"rho": 0.9}, "adam": {}}


@settings(max_examples=120, deadline=None)
@given(name=st.sampled_from(sorted(OPTIMIZERS)), dtype=st.sampled_from([np.float32, np.float64]),
       rows=st.integers(1, 9), cols=st.integers(1, 12), mode=st.sampled_from([0, 1, 2]),
       squares=st.booleans(), chunk=st.sampled_from([1, 7, 32768]), seed=st.integers(0, 2**31 - 1))
def test_compiled_step_equals_numpy_steps_bit_for_bit(name, dtype, rows, cols, mode, squares, chunk, seed):
    """Three steps of each optimizer by the compiled pass (penalty read in, sums taken, slices
    of ``chunk`` numbers) and by numpy's passes with the penalty added to the gradient first:
    the same weights, state and sums, bit for bit (the sums of a one-column tensor are summed
    in order by the pass, pairwise by numpy's einsum: equal to rounding)."""
    rng = np.random.default_rng(seed)
    config = OptimizerConfig(name=name, learning_rate=0.01, **OPTIMIZERS[name])
    w0 = _awkward(rng, dtype, (rows, cols))
    grads = [_awkward(rng, dtype, (rows, cols)) for _ in range(3)]
    c = float(rng.choice([1e-4, 0.05, 3.0]))
    fast, slow = Optimizer(config, [w0.copy()]), Optimizer(config, [w0.copy()])
    for opt in (fast, slow):  # a state that is not all zeros from the first step
        for x in opt.state[0]:
            x[...] = np.abs(_awkward(rng, dtype, (rows, cols))) if name != "momentum" else x + 0.5
    for a, b in zip(fast.state[0], slow.state[0]):
        b[...] = a
    assert fast.fuses
    slow.kernel = None
    fast.CHUNK = slow.CHUNK = chunk
    for g in grads:
        sums = np.full(cols, 0.25) if squares else None
        fast.step([g.copy()], fused={0: (mode, c, sums)})
        want = g + _penalty(slow.params[0], mode, c) if mode else g.copy()
        seen = []
        slow.step([want], lambda i, lo, hi: seen.append(np.einsum("ij,ij->j", slow.params[0][lo:hi],
                                                                  slow.params[0][lo:hi])))
        assert np.array_equal(_bits(fast.params[0]), _bits(slow.params[0]))
        for a, b in zip(fast.state[0], slow.state[0]):
            assert np.array_equal(_bits(a), _bits(b))
        if squares:
            expected = np.full(cols, 0.25)
            for part in seen:
                expected += part
            if cols > 1:
                assert np.array_equal(sums, expected)
            else:
                np.testing.assert_allclose(sums, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", [0, 1, 2])
def test_one_pass_fill_and_squares_equal_numpy(dtype, mode):
    """The fill the product's route writes after each slice (L1: c * sign(w), 0 at +-0, +-c at
    subnormals and infinities, NaN's sign; L2: c * w) and max-norm's sums, in one pass."""
    rng = np.random.default_rng(3)
    w = _awkward(rng, dtype, (11, 6), finite=False)
    w[~np.isfinite(w)] = 1.5 if mode == 0 else w[~np.isfinite(w)]  # squares of inf/NaN: not compared
    g = np.full_like(w, 9.0)
    sums = np.zeros(6)
    KERNELS.after(w, g, 6, mode, 0.125, sums)
    if mode:
        assert np.array_equal(_bits(g), _bits(_penalty(w, mode, 0.125)))
    else:
        assert (g == 9.0).all()  # mode 0 writes nothing
        assert np.array_equal(sums, np.einsum("ij,ij->j", w, w).astype(np.float64))


def test_refusals_are_errors_not_crashes():
    a, b = np.zeros((4, 3)), np.zeros((4, 3))
    m, v = np.zeros((4, 3)), np.zeros((4, 3))
    step = KERNELS.step
    k = (0.9, 0.999, 1e-8, 1e-3)
    good = ("adam", a, b, (m, v), 3, k, 1, 0.1, None)
    step(*good)
    step("sgd", a, b, (), 3, (0.1,), 0, 0.0, np.zeros(3))
    cases = [
        (("adam", a, b.astype(np.float32), (m, v)) + good[4:], TypeError),  # mixed types
        (("adam", a, np.zeros((4, 2)), (m, v)) + good[4:], ValueError),  # lengths differ
        (("adam", a, a, (m, v)) + good[4:], ValueError),  # the same array twice
        (("adam", a, b, (m, a)) + good[4:], ValueError),
        (("adam", a[:, :2], b, (m, v)) + good[4:], (BufferError, ValueError)),  # not contiguous
        (good[:4] + (5,) + good[5:], ValueError),  # columns do not divide the length
        (good[:4] + (0,) + good[5:], ValueError),
        (good[:6] + (7, 0.1, None), ValueError),  # no such mode
        (good[:8] + (np.zeros(2),), ValueError),  # sums not one per column
        (good[:8] + (np.zeros(3, np.float32),), ValueError),
        (good[:5], TypeError),  # too few arguments
        (("adam", a.astype(np.int64), b, (m, v)) + good[4:], TypeError),
        (("adamw",) + good[1:], ValueError),  # no such optimizer
        (("adam", a, b, (m,)) + good[4:], TypeError),  # adam keeps two state arrays
        (("sgd", a, b, (m,)) + good[4:], TypeError),
        (good[:5] + ((1, 2, 3, 4, 5),) + good[6:], TypeError),  # up to four numbers
        (good[:5] + (("x",),) + good[6:], TypeError),
    ]
    for args, error in cases:
        with pytest.raises(error):
            step(*args)
    overlapping = np.zeros(24)
    with pytest.raises(ValueError, match="overlap"):
        step("adam", overlapping[:12], overlapping[6:18], (m.reshape(-1), v.reshape(-1)), 3, k, 1, 0.1, None)
    KERNELS.after(a, a, 3, 0, 0.0, np.zeros(3))  # sums only: the weights may be the gradient's place


MLP = """\
nngraph: 1
name: dense
nodes:
  - {name: x, role: input, size: 6}
  - {name: h, size: 16, activation: relu}
  - {name: y, role: output, size: 3, activation: softmax}
edges:
  - {from: x, to: h}
  - {from: h, to: y}
train: {loss: cross_entropy, optimizer: {name: OPT, learning_rate: 0.05}, batch_size: 8, epochs: 3,
        validation_split: 0, seed: 4EXTRA}
"""


def _fit(extra, opt, dtype, route, monkeypatch):
    """Train the dense net by ``route``: "compiled" (Adam's pass and the one-pass fill) or "numpy"."""
    monkeypatch.setattr(optimizers, "kernels", KERNELS if route == "compiled" else None)
    monkeypatch.setattr(regularizers, "kernels", KERNELS if route == "compiled" else None)
    taken = []
    real = training.in_update
    monkeypatch.setattr(training, "in_update", lambda *a: taken.append(real(*a)) or taken[-1])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    spec = nngraph.load(MLP.replace("OPT", opt).replace("EXTRA", extra))
    plan, _ = training.train(spec, (x, y), dtype=dtype)
    weights = [t.value.copy() for t in training.trainable_tensors(plan)]
    return weights, (taken[0][0] if taken else {})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_training_by_either_route_gives_the_same_weights(opt, dtype, monkeypatch):
    """Without penalties, the compiled step (max-norm's squares taken in it) and numpy's passes
    train the same weights, bit for bit."""
    fast, _ = _fit(", max_norm: 0.9", opt, dtype, "compiled", monkeypatch)
    slow, _ = _fit(", max_norm: 0.9", opt, dtype, "numpy", monkeypatch)
    for a, b in zip(fast, slow):
        assert np.array_equal(_bits(a), _bits(b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("extra, opt", [
    (", l1: 0.01", "adam"), (", l2: 0.03", "adam"), (", l1: 0.01, l2: 0.03, max_norm: 0.9", "adam"),
    (", l1: 0.01, max_norm: 0.9", "sgd"), (", l1: 0.01, l2: 0.02, max_norm: 1.2", "momentum"),
    (", l2: 0.02", "rmsprop"),
])
def test_penalties_read_into_the_step_match_the_products_route(extra, opt, dtype, monkeypatch):
    """The compiled step adds the penalty's gradient as it reads the gradient; numpy's route adds
    it inside the weight-gradient product. The two differ only in the order of one addition."""
    fast, taken = _fit(extra, opt, dtype, "compiled", monkeypatch)
    assert sorted(taken) == [0, 2] and {mode for mode, _ in taken.values()} == {1 if "l1" in extra else 2}
    slow, none = _fit(extra, opt, dtype, "numpy", monkeypatch)
    assert none == {}
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_a_module_built_from_an_older_source_is_left_alone():
    """An editable install not rebuilt after the C source changed keeps an old module: it is not
    called (its functions may take other arguments), and the user is told how to rebuild it."""
    import subprocess
    import sys

    code = ("import sys, types, warnings\n"
            "sys.modules['nngraph._kernels'] = types.ModuleType('nngraph._kernels')  # no API number\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    warnings.simplefilter('always')\n"
            "    import nngraph.optimizers as o, nngraph.regularizers as r\n"
            "print(o.kernels, r.kernels, [str(w.message) for w in seen])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("None None [") and "rebuild it with pip install -e ." in out
