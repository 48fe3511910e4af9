"""The training step's fused parts: the optimizer updating large tensors in slices (the same
numbers as whole), the L1 gradient written right after each slice's update (bit for bit
l1 * sign(w): 0 at w = 0, subnormal weights included), and max-norm's norms summed over the
slices; weights changed between epochs are seen by the next step's penalty."""
import numpy as np
import pytest

from nngraph.compile import compile
from nngraph.optimizers import Optimizer
from nngraph.regularizers import InProduct, MaxNorm, _scaled_sign
from nngraph.spec.models import Optimizer as OptimizerConfig
from nngraph.training import Callbacks, train, trainable_tensors

from randomnets import random_spec


def _awkward(dtype, shape=(9, 7), seed=0):
    """Weights with every kind of sign case: +0, -0, subnormals of both signs, the smallest
    normal, huge and infinite values, and ordinary ones."""
    info = np.finfo(dtype)
    w = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    special = [0.0, -0.0, info.smallest_subnormal, -info.smallest_subnormal, info.smallest_normal / 3,
               -info.smallest_normal, info.max, -np.inf, 1e-30, -1.0]
    w.reshape(-1)[:len(special)] = np.array(special, dtype=dtype)
    w.reshape(-1)[-3:] = 0.0
    return w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("l1", [1e-5, 0.3, 7.0])
def test_l1_fill_is_l1_times_sign_bit_for_bit(dtype, l1):
    w = _awkward(dtype)
    want = dtype(l1) * np.sign(w)  # 0 at +0 and -0, +-l1 at subnormals and infinities
    ip = InProduct([_Tensor(w)], l1, 0.0)
    assert list(ip.parts) == [0] and ip.addends == {0: 1.0}  # added by the product as it is
    got = np.full_like(w, np.nan)
    ip.fill(0, w, got)
    assert np.array_equal(got, want) and not np.signbit(got[w > 0]).any() and np.signbit(got[w < 0]).all()
    got[:] = np.nan
    for lo, hi in ((0, 2), (2, 3), (3, 9)):  # row slices, as the optimizer's hook gives them
        ip.fill(0, w[lo:hi], got[lo:hi])
    assert np.array_equal(got, want)
    plain = np.empty_like(w)
    _scaled_sign(w, l1, plain)  # the same function serves the penalties added after the product
    assert np.array_equal(plain, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_l2_fill_is_l2_times_w(dtype):
    w = np.random.default_rng(1).normal(size=(6, 4)).astype(dtype)
    ip = InProduct([_Tensor(w)], 0.0, 0.25)
    got = np.empty_like(w)
    ip.fill(0, w, got)
    assert np.array_equal(got, w * dtype(0.25))


def test_prefill_fills_only_when_the_last_step_did_not():
    w = _awkward(np.float64)
    ip = InProduct([_Tensor(w)], 0.5, 0.0)
    g = [np.full_like(w, np.nan)]
    assert ip.prefill([_Tensor(w)], g) == {0: 1.0} and np.array_equal(g[0], 0.5 * np.sign(w))
    g[0][:] = 3.0
    ip.ready = True  # the optimizer's hook wrote P after the last update
    ip.prefill([_Tensor(w)], g)
    assert (g[0] == 3.0).all() and ip.ready is False  # taken as it is, and used up


class _Tensor:
    def __init__(self, value):
        self.value, self.keep, self.weight = value, None, True


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_slices_give_the_same_numbers_and_call_the_hook_after_each(name, dtype, monkeypatch):
    rng = np.random.default_rng(2)
    shapes = [(23, 7), (13,), (3, 4, 2), (0, 5)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(3)]
    results = {}
    for chunk in (10 ** 9, 15):
        monkeypatch.setattr(Optimizer, "CHUNK", chunk)
        params = [p.copy() for p in start]
        opt = Optimizer(OptimizerConfig(name=name, learning_rate=0.1), params)
        calls = []

        def after(i, lo, hi):
            p = params[i]
            calls.append((i, lo, hi))
            assert not np.array_equal(p[lo:hi], before[i][lo:hi]) or p[lo:hi].size == 0  # already updated
            assert np.array_equal(p[hi:], before[i][hi:])  # the rows after it not yet

        for g in grads:
            before = [p.copy() for p in params]
            calls.clear()
            opt.step([x.copy() for x in g], after)
            for i, p in enumerate(params):  # each parameter's rows once, in order
                mine = [(lo, hi) for j, lo, hi in calls if j == i]
                assert mine[0][0] == 0 and mine[-1][1] == max(len(p), 0) or len(p) == 0
                assert all(a[1] == b[0] for a, b in zip(mine, mine[1:]))
        results[chunk] = (params, len(calls))
    for a, b in zip(results[10 ** 9][0], results[15][0]):
        assert np.array_equal(a, b)  # elementwise updates: slices change no number
    assert results[15][1] > results[10 ** 9][1]  # and the small slices did slice


def _net(seed, **train_kw):
    doc = random_spec(seed, literal=False)
    doc["train"] = {"loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.05}, "batch_size": 8,
                    "epochs": 3, "validation_split": 0, "seed": seed, **train_kw}
    return doc


@pytest.mark.parametrize("seed", [3, 4])
def test_training_in_small_slices_equals_whole_tensors_and_max_norm_holds(seed, monkeypatch):
    doc = _net(seed, l1=0.01, max_norm=0.5)
    rng = np.random.default_rng(seed)
    results = []
    for chunk in (10 ** 9, 3):
        monkeypatch.setattr(Optimizer, "CHUNK", chunk)
        plan = compile(doc, dtype=np.float64, sparse_below=0.9 if seed % 2 else 0.0, use_file=False)
        x, y = rng.normal(size=(40, plan.input_width)), rng.normal(size=(40, plan.output_width)) * 5
        constraint = MaxNorm(plan, trainable_tensors(plan), 0.5)
        watch = _Watch(constraint)
        train(doc, (x, y), plan=plan, callbacks=watch)
        assert watch.steps == 15 and watch.highest <= 0.5 * (1 + 1e-12) and watch.at_bound
        results.append([t.value.copy() for t in trainable_tensors(plan)])
        rng = np.random.default_rng(seed)
    for a, b in zip(*results):  # the norms summed slice by slice differ in rounding only
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


class _Watch(Callbacks):
    def __init__(self, constraint):
        self.constraint, self.steps, self.highest, self.at_bound = constraint, 0, 0.0, 0

    def step(self, epoch, step, loss):
        norms = np.concatenate(self.constraint.norms())
        self.highest = max(self.highest, float(norms.max()))
        self.at_bound += int(np.isclose(norms, 0.5, rtol=1e-9).sum())
        self.steps += 1


class _Meddle(Callbacks):
    """Sets weights between epochs, as a user's callback may: every sign flipped, some weights
    exactly 0 (their L1 gradient is 0 then)."""

    def begin(self, plan, epochs):
        self.tensors = [t for t in trainable_tensors(plan) if t.weight]

    def epoch_end(self, record):
        for t in self.tensors:
            t.value *= -1
            t.value.reshape(-1)[::3] = 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_set_between_epochs_are_seen_by_the_next_penalty(dtype, monkeypatch):
    """The L1 gradient written after the last update of an epoch is not reused once a callback
    has changed the weights: the run equals one whose penalties are added after the product."""
    import nngraph.training as training

    doc = _net(5, l1=0.02)
    rng = np.random.default_rng(5)
    results = []
    for available in (True, False):
        monkeypatch.setattr(training, "gemm_available", lambda dt, a=available: a)
        plan = compile(doc, dtype=dtype, use_file=False)
        x, y = rng.normal(size=(24, plan.input_width)), rng.normal(size=(24, plan.output_width))
        train(doc, (x, y), plan=plan, callbacks=_Meddle())
        results.append([t.value.copy() for t in trainable_tensors(plan)])
        rng = np.random.default_rng(5)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_after_an_update_zero_the_penalty_of_new_and_kept_zeros(dtype):
    """The hook's fill (rows) finds weights the update made exactly 0, and a tensor that held
    -0 at its last full fill is searched for zeros of both signs."""
    rng = np.random.default_rng(3)
    plain, signed, kept = (rng.normal(size=(9, 7)).astype(dtype) for _ in range(3))
    signed[4, 2] = kept[7, 1] = -0.0
    weights = (plain, signed, kept)
    tensors = [_Tensor(w) for w in weights]
    ip = InProduct(tensors, 0.125, 0.0)
    grads = [np.empty_like(w) for w in weights]
    ip.prefill(tensors, grads)
    for w in (plain, signed):  # as an update would leave them: new +0 entries, the -0 kept
        w[[1, 6], [3, 0]] = 0.0
        w[2, 5] = np.finfo(dtype).smallest_subnormal
    kept[0, 0] = -2.0  # an update elsewhere: the only zero is still the -0
    for i, w in enumerate(weights):
        for lo, hi in ((0, 4), (4, 9)):
            ip.rows(i, lo, hi)
        assert np.array_equal(grads[i], dtype(0.125) * np.sign(w)), i


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_zero_weights_of_a_blank_input_stay_put_under_l1(zero):
    """A weight exactly 0 (+0 or -0) whose data gradient is 0 (its input is always 0) has an L1
    gradient of 0 too, step after step: it never moves."""
    nodes = [{"name": "x", "role": "input", "size": 4}, {"name": "h", "size": 5, "activation": "relu"},
             {"name": "y", "role": "output", "size": 2, "activation": "softmax"}]
    doc = {"nngraph": 1, "name": "blank", "nodes": nodes,
           "edges": [{"from": "x", "to": "h", "init": "he_normal"}, {"from": "h", "to": "y", "init": "he_normal"}],
           "train": {"loss": "cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.05}, "batch_size": 8,
                     "epochs": 3, "validation_split": 0, "seed": 1, "l1": 0.01}}
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 4)), rng.integers(0, 2, 32)
    x[:, :2] = 0.0
    for dtype in (np.float32, np.float64):
        plan = compile(doc, dtype=dtype, use_file=False)
        w = trainable_tensors(plan)[0].value
        w[0] = zero
        train(doc, (x, y), plan=plan)
        assert (w[0] == 0).all() and (np.signbit(w[0]) == np.signbit(zero)).all()
        assert (w[1:] != 0).all()  # the other blank input's weights: moved by their L1 gradient


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_norm_scaling_only_the_neurons_over_equals_scaling_every_one(seed, dtype, monkeypatch):
    """Max-norm multiplies only the columns (dense) or entries (sparse) of the neurons over their
    bound when they are few: the weights come out bit for bit as when every weight is multiplied
    (the others by 1.0), frozen and absent ones untouched; the L1 gradient written again for those
    columns alone equals one written for the whole tensor, also where scaling made a -0."""
    doc = random_spec(seed, literal=False, max_size=9)
    for e in doc["edges"][seed % 3::3]:
        e["trainable"] = False
    results = []
    for partial in (10 ** 9, 0):  # whole tensors always, then only the neurons over always
        monkeypatch.setattr(MaxNorm, "PARTIAL", partial)
        plan = compile(doc, dtype=dtype, sparse_below=1.01 if seed % 2 else 0.0, use_file=False)
        tensors = trainable_tensors(plan)
        rng = np.random.default_rng(seed)
        for t in tensors:
            t.value[...] = rng.normal(size=t.value.shape) * rng.uniform(0.1, 3, size=t.value.shape)
            if t.weight and t.value.size > 1:
                t.value.reshape(-1)[rng.integers(t.value.size)] = -np.finfo(dtype).smallest_subnormal
        before = [t.value.copy() for t in tensors]
        constraint = MaxNorm(plan, tensors, 1.0)
        norms = constraint.norms()
        ip = InProduct(tensors, 0.01, 0.0)
        grads = [np.empty_like(t.value) for t in tensors]
        ip.prefill(tensors, grads)
        constraint.due(None)
        for i, t in enumerate(tensors):
            constraint.take(i, 0, len(t.value))
        changed = constraint.settle()
        for i, cols in changed.items():
            if i in ip.parts:
                ip.columns(i, tensors[i].value, grads[i], cols)
        for i in ip.parts:  # a later update's fill, which must see the -0 scaling may have made
            ip.rows(i, 0, len(tensors[i].value))
            want = np.empty_like(grads[i])
            ip.fill(i, tensors[i].value, want)
            assert np.array_equal(grads[i].view(np.uint8), want.view(np.uint8)), i
        for t, b in zip(tensors, before):
            if t.keep is not None:
                assert np.array_equal(t.value[t.keep == 0], b[t.keep == 0])
        results.append(([t.value.copy() for t in tensors], changed))
    (whole, changed_whole), (part, changed_part) = results
    assert set(changed_whole) == set(changed_part) and all(c is None for c in changed_whole.values())
    assert all(c is not None for c in changed_part.values())
    assert any((n > 1.0).any() for n in norms) and changed_part  # the bound was active
    for a, b in zip(whole, part):
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("seed", [3, 4])
def test_training_with_max_norm_on_the_neurons_over_only_equals_it_on_whole_tensors(seed, monkeypatch):
    doc = _net(seed, l1=0.01, max_norm=0.5)
    results = []
    for partial in (10 ** 9, 0):
        monkeypatch.setattr(MaxNorm, "PARTIAL", partial)
        plan = compile(doc, dtype=np.float32, sparse_below=1.01 if seed % 2 else 0.0, use_file=False)
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(40, plan.input_width)), rng.normal(size=(40, plan.output_width)) * 5
        train(doc, (x, y), plan=plan)
        results.append([t.value.copy() for t in trainable_tensors(plan)])
    for a, b in zip(*results):
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8))
