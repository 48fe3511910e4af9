"""Regularizers, gradient clipping and learning-rate schedules: first steps by hand, penalty
gradients against finite differences, and the max-norm constraint after every step."""
import math

import numpy as np
import pytest

import nngraph
from nngraph.compile import compile
from nngraph.regularizers import MaxNorm, add_penalties, penalty
from nngraph.schedules import Schedule
from nngraph.spec import Train
from nngraph.training import Callbacks, train, trainable_tensors

from randomnets import random_spec

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5]])
T = np.array([1.0, -1.0, 2.0])
W0, B0 = np.array([0.5, -0.3]), 0.1


def _neuron(train_extra="", epochs=2, lr=0.1):
    """One linear neuron with two inputs, literal starting weights, full-batch SGD on mse."""
    return f"""\
nngraph: 1
name: neuron
nodes:
  - {{name: x, role: input, size: 2}}
  - {{name: y, role: output, bias: {B0}}}
edges:
  - {{from: x, to: y, weights: [[{W0[0]}], [{W0[1]}]]}}
train: {{loss: mse, optimizer: {{name: sgd, learning_rate: {lr}}}, batch_size: 3, epochs: {epochs},
         validation_split: 0, shuffle: false{train_extra}}}
"""


def _by_hand(steps, lr=0.1, l1=0.0, l2=0.0, clip=None, max_norm=None, rates=None):
    w, b = W0.copy(), B0
    for k in range(steps):
        err = X @ w + b - T
        gw, gb = 2 * X.T @ err / len(T), 2 * err.mean()
        gw = gw + l2 * w + l1 * np.sign(w)
        if clip is not None:
            norm = math.sqrt(gw @ gw + gb * gb)
            if norm > clip:
                gw, gb = gw * clip / norm, gb * clip / norm
        rate = rates[k] if rates else lr
        w, b = w - rate * gw, b - rate * gb
        if max_norm is not None and np.linalg.norm(w) > max_norm:
            w = w * max_norm / np.linalg.norm(w)
    return w, b


def _trained(text, epochs=2):
    plan, history = train(text, (X, T), dtype=np.float64, epochs=epochs)
    p = plan.parameters()
    return p["edges/x->y"][:, 0], p["nodes/y/bias"][0], history


@pytest.mark.parametrize("extra, kw", [
    (", l2: 0.3", {"l2": 0.3}),
    (", l1: 0.2", {"l1": 0.2}),
    (", l1: 0.05, l2: 0.1", {"l1": 0.05, "l2": 0.1}),
    (", clip_norm: 0.5", {"clip": 0.5}),
    (", max_norm: 0.4", {"max_norm": 0.4}),
    (", l1: 0.1, clip_norm: 1.0, max_norm: 0.55", {"l1": 0.1, "clip": 1.0, "max_norm": 0.55}),
])
def test_first_steps_by_hand(extra, kw):
    w, b, _ = _trained(_neuron(extra))
    hw, hb = _by_hand(2, **kw)
    np.testing.assert_allclose(w, hw, rtol=1e-12)
    assert b == pytest.approx(hb, rel=1e-12)
    assert not np.allclose(hw, _by_hand(2)[0])  # the regularizer did change the step


@pytest.mark.parametrize("seed", range(6))
def test_penalty_gradients_equal_finite_differences(seed):
    plan = compile(random_spec(seed), dtype=np.float64, sparse_below=1.01 if seed % 2 else 0.0)
    tensors = trainable_tensors(plan)
    rng = np.random.default_rng(seed)
    for t in tensors:  # move weights off zero so |w| is differentiable where we probe
        t.value[...] = rng.normal(size=t.value.shape) * (t.keep if t.keep is not None else 1)
    l1, l2 = 0.03, 0.2
    grads = [np.zeros_like(t.value) for t in tensors]
    add_penalties(tensors, grads, l1, l2)
    for t, g in zip(tensors, grads):
        flat, gflat = t.value.reshape(-1), g.reshape(-1)
        if t.keep is not None:
            gflat = gflat * t.keep.reshape(-1)
        for k in rng.choice(flat.size, min(5, flat.size), replace=False):
            old, h = flat[k], 1e-6
            flat[k] = old + h
            up = penalty(tensors, l1, l2)
            flat[k] = old - h
            down = penalty(tensors, l1, l2)
            flat[k] = old
            assert gflat[k] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)
        if not t.weight:
            assert not g.any()  # biases are not penalised


class _Watch(Callbacks):
    def __init__(self, constraint, bound):
        self.constraint, self.bound, self.steps, self.at_bound = constraint, bound, 0, 0

    def step(self, epoch, step, loss):
        norms = np.concatenate(self.constraint.norms())
        assert norms.max() <= self.bound * (1 + 1e-12), (epoch, step, norms.max())
        self.at_bound += int(np.sum(np.isclose(norms, self.bound, rtol=1e-9)))
        self.steps += 1


@pytest.mark.parametrize("seed", range(4))
def test_max_norm_holds_after_every_step(seed):
    doc = random_spec(seed, literal=False)
    doc["train"] = {"loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.2}, "batch_size": 8,
                    "epochs": 3, "max_norm": 0.3, "validation_split": 0}
    plan = compile(doc, dtype=np.float64, sparse_below=1.01 if seed % 2 else 0.0, use_file=False)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(40, plan.input_width)), rng.normal(size=(40, plan.output_width)) * 5
    watch = _Watch(MaxNorm(plan, trainable_tensors(plan), 0.3), 0.3)
    train(doc, (x, y), plan=plan, callbacks=watch)
    assert watch.steps == 15 and watch.at_bound > 0  # the constraint was active, and it held


@pytest.mark.parametrize("betas", [{"beta2": 0.0}, {"beta1": 0.99, "beta2": 0.01}, {"beta1": 0.0, "beta2": 0.5}])
def test_max_norm_with_adam_betas_whose_step_bound_has_no_finite_value(betas):
    # beta2 = 0 divides by 0 in the Cauchy-Schwarz bound, beta1^2 / beta2 > 1 overflows its
    # geometric sum after a few hundred steps: no bound then, every norm is checked, and it holds
    doc = random_spec(1, literal=False)
    doc["train"] = {"loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.05, **betas}, "batch_size": 1,
                    "epochs": 20, "max_norm": 0.3, "validation_split": 0}
    plan = compile(doc, dtype=np.float64, use_file=False)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, plan.input_width)), rng.normal(size=(40, plan.output_width)) * 5
    watch = _Watch(MaxNorm(plan, trainable_tensors(plan), 0.3), 0.3)
    train(doc, (x, y), plan=plan, callbacks=watch)
    assert watch.steps == 800 and watch.at_bound > 0


def _sched(**kw):
    return Train(loss="mse", optimizer={"name": "sgd", "learning_rate": 0.1, "schedule": kw}).optimizer.schedule


@pytest.mark.parametrize("kw, rates", [
    ({"name": "constant"}, [0.1] * 5),
    ({"name": "step", "step_size": 2, "gamma": 0.5}, [0.1, 0.1, 0.05, 0.05, 0.025]),
    ({"name": "exponential", "gamma": 0.9}, [0.1, 0.09, 0.081, 0.0729, 0.06561]),
    ({"name": "cosine", "period": 4, "min_rate": 0.02}, [0.1, 0.02 + 0.08 * (1 + math.cos(math.pi / 4)) / 2, 0.06,
                                                        0.02 + 0.08 * (1 + math.cos(3 * math.pi / 4)) / 2, 0.02]),
    ({"name": "step", "warmup": 2, "step_size": 1, "gamma": 0.5}, [0.05, 0.1, 0.1, 0.05, 0.025]),
    ({"name": "constant", "warmup": 4}, [0.025, 0.05, 0.075, 0.1, 0.1]),
])
def test_schedule_rates_by_hand(kw, rates):
    s = Schedule(_sched(**kw), 0.1, 5)
    np.testing.assert_allclose([s.rate(e) for e in range(1, 6)], rates, rtol=1e-12)


def test_cosine_default_period_is_the_epochs_after_warmup():
    s = Schedule(_sched(name="cosine", warmup=1), 0.1, 5)
    np.testing.assert_allclose([s.rate(e) for e in (1, 2, 4, 5)], [0.1, 0.1, 0.05, 0.1 * (1 + math.cos(3 * math.pi / 4)) / 2])


def test_plateau_decays_after_patience_and_not_below_min_rate():
    s = Schedule(_sched(name="plateau", patience=2, factor=0.5, min_rate=0.03), 0.1, 10)
    rates = []
    for epoch, val in enumerate([1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.8, 0.85, 0.86, 0.9], start=1):
        rates.append(s.rate(epoch))
        s.observe(epoch, val)
    assert rates == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03]


def test_schedule_drives_the_optimizer_and_the_history():
    _, _, history = _trained(_neuron(", optimizer: {name: sgd, learning_rate: 0.1, schedule: {name: step, "
                                     "step_size: 1, gamma: 0.5}}").replace(
        "optimizer: {name: sgd, learning_rate: 0.1}, ", ""), epochs=3)
    assert [r["learning_rate"] for r in history] == [0.1, 0.05, 0.025]
    w, b, _ = _trained(_neuron(", optimizer: {name: sgd, learning_rate: 0.1, schedule: {name: step, "
                               "step_size: 1, gamma: 0.5}}").replace("optimizer: {name: sgd, learning_rate: 0.1}, ", ""),
                       epochs=3)
    hw, hb = _by_hand(3, rates=[0.1, 0.05, 0.025])
    np.testing.assert_allclose(w, hw, rtol=1e-12)
    assert b == pytest.approx(hb, rel=1e-12)


def test_plateau_needs_validation():
    with pytest.raises(nngraph.SpecError, match="plateau watches the validation loss"):
        nngraph.load(_neuron().replace("optimizer: {name: sgd, learning_rate: 0.1}",
                                       "optimizer: {name: sgd, schedule: plateau}"))


def test_unknown_schedule_is_located():
    with pytest.raises(nngraph.SpecError) as info:
        nngraph.load(_neuron().replace("learning_rate: 0.1}", "learning_rate: 0.1, schedule: cosin}"))
    assert "train.optimizer.schedule" in str(info.value) and "cosine" in str(info.value)


@pytest.mark.parametrize("seed, dtype, pen", [
    (5, np.float64, {"l1": 0.01}), (6, np.float64, {"l2": 0.05}), (7, np.float64, {"l1": 0.01, "l2": 0.05}),
    (8, np.float32, {"l1": 0.01}), (9, np.float32, {"l1": 0.02, "l2": 0.03}), (10, np.float32, {"l2": 0.04}),
])
def test_penalties_inside_the_product_equal_penalties_added_after(seed, dtype, pen, monkeypatch):
    """Uniform L1/L2 of dense weights are added inside the weight-gradient product (one BLAS call
    with a prefilled buffer); the weights come out as with the penalties added in passes of
    their own, up to rounding (the order of two additions), over dense and sparse blocks, with
    node overrides and a weight exactly 0 (sign 0) in the mix; with and without Adam's
    compiled update (which takes penalties only of tensors without masked entries)."""
    import nngraph.optimizers as optimizers
    import nngraph.training as training
    from nngraph.backprop import gemm_available

    reachable = gemm_available(dtype)  # numpy's own BLAS; without it every penalty is added after
    compiled = optimizers.kernels
    doc = random_spec(seed, literal=False)
    doc["nodes"][-1]["l1"] = 0.003  # a node override: its own coefficient, still uniform per tensor
    doc["train"] = {"loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.01}, "batch_size": 8,
                    "epochs": 2, "validation_split": 0, "seed": seed, **pen}
    rng = np.random.default_rng(seed)
    results, in_product, in_update = [], [], []
    real_product, real_update = training.InProduct, training.in_update
    for route in ("update", "product", "after"):
        monkeypatch.setattr(optimizers, "kernels", compiled if route == "update" else None)
        monkeypatch.setattr(training, "gemm_available", lambda dt, a=route != "after": a)
        plan = compile(doc, dtype=dtype, sparse_below=0.9 if seed % 2 else 0.0, use_file=False)
        first = trainable_tensors(plan)[0].value
        first.reshape(-1)[0] = 0.0
        x, y = rng.normal(size=(24, plan.input_width)), rng.normal(size=(24, plan.output_width))
        seen, taken = [], []
        monkeypatch.setattr(training, "InProduct", lambda *a, **k: seen.append(real_product(*a, **k)) or seen[-1])
        monkeypatch.setattr(training, "in_update", lambda *a: taken.append(real_update(*a)) or taken[-1])
        train(doc, (x, y), plan=plan)
        in_product.append(len(seen[0].parts))
        in_update.append(len(taken[0][0]) if taken else 0)
        results.append([t.value.copy() for t in trainable_tensors(plan)])
        rng = np.random.default_rng(seed)
    # tensors with absent or frozen entries (whose gradient is masked after the penalty's is
    # added) are left by the compiled update to the product; it takes the others
    assert in_update[1:] == [0, 0] and (compiled is not None or in_update[0] == 0)
    assert (in_product[1] > 0) == reachable and in_product[2] == 0
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
