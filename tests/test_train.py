"""Training: gradients against finite differences, optimizer steps by hand, convergence."""
import numpy as np
import pytest

import nngraph
from nngraph import TrainingError
from nngraph.compile import compile
from nngraph.data import Dataset, load_data
from nngraph.runtime import _buffers, run_stage
from nngraph.spec import Optimizer as OptimizerConfig
from nngraph.optimizers import Optimizer
from nngraph.training import (_fused_segments, backward, evaluate, loss_value, output_grad, targets_for,
                           train, trainable_tensors)

from helpers import EX, EXAMPLES, ROOT
from randomnets import random_spec

LOSSES = [("mse", None), ("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")]


def _analytic(plan, x, t, loss):
    acts = _buffers(plan, x.shape[0])
    acts[0] = x
    for st in plan.stages[1:]:
        run_stage(st, acts, acts[st.index])
    out = plan.gather_outputs(acts)
    fused = _fused_segments(plan, loss)
    return backward(plan, acts, output_grad(plan, loss, out, t, fused), fused, {})


def _targets(plan, loss, rng, n):
    if loss == "mse":
        return rng.normal(size=(n, plan.output_width))
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (n, plan.output_width)).astype(float)
    t, at = np.zeros((n, plan.output_width)), 0
    for _, size in plan.outputs:  # one-hot per softmax node
        t[np.arange(n), at + rng.integers(0, size, n)] = 1
        at += size
    return t


@pytest.mark.parametrize("loss, out_act", LOSSES)
@pytest.mark.parametrize("seed", range(12))
def test_gradients_equal_finite_differences(seed, loss, out_act):
    plan = compile(random_spec(seed, output_activation=out_act), dtype=np.float64,
                   sparse_below=1.01 if seed % 2 else 0.0)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, plan.input_width))
    t = _targets(plan, loss, rng, 5)
    grads = _analytic(plan, x, t, loss)
    for tensor, g in zip(trainable_tensors(plan), grads):
        flat, gflat = tensor.value.reshape(-1), g.reshape(-1)
        for k in rng.choice(flat.size, min(5, flat.size), replace=False):
            old, h = flat[k], 1e-6
            flat[k] = old + h
            up = loss_value(loss, plan.forward(x), t)
            flat[k] = old - h
            down = loss_value(loss, plan.forward(x), t)
            flat[k] = old
            assert gflat[k] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)


def _opt(name, **kw):
    return OptimizerConfig(name=name, learning_rate=0.1, **kw)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_optimizer_first_two_steps_by_hand(name):
    p = np.array([1.0, -2.0])
    g1, g2 = np.array([0.5, -1.0]), np.array([0.25, 2.0])
    opt = Optimizer(_opt(name), [p])
    opt.step([g1.copy()])
    opt.step([g2.copy()])
    lr, mu, rho, b1, b2, eps = 0.1, 0.9, 0.9, 0.9, 0.999, 1e-8
    q = np.array([1.0, -2.0])
    if name == "sgd":
        q -= lr * g1 + lr * g2
    elif name == "momentum":
        v1 = -lr * g1
        v2 = mu * v1 - lr * g2
        q += v1 + v2
    elif name == "nesterov":
        v1 = -lr * g1
        q += (1 + mu) * v1
        v2 = mu * v1 - lr * g2
        q += -mu * v1 + (1 + mu) * v2
    elif name == "adagrad":
        q -= lr * g1 / (np.sqrt(g1 ** 2) + eps)
        q -= lr * g2 / (np.sqrt(g1 ** 2 + g2 ** 2) + eps)
    elif name == "rmsprop":
        e1 = (1 - rho) * g1 ** 2
        q -= lr * g1 / (np.sqrt(e1) + eps)
        e2 = rho * e1 + (1 - rho) * g2 ** 2
        q -= lr * g2 / (np.sqrt(e2) + eps)
    else:
        m1, v1 = (1 - b1) * g1, (1 - b2) * g1 ** 2
        q -= lr * (m1 / (1 - b1)) / (np.sqrt(v1 / (1 - b2)) + eps)
        m2, v2 = b1 * m1 + (1 - b1) * g2, b2 * v1 + (1 - b2) * g2 ** 2
        q -= lr * (m2 / (1 - b1 ** 2)) / (np.sqrt(v2 / (1 - b2 ** 2)) + eps)
    np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)


def test_xor_converges_from_random_init():
    plan, history = train(EX["xor_train.yaml"])
    assert plan.forward(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))[:, 0].round().tolist() == [0, 1, 1, 0]
    assert history[-1]["loss"] < 0.05


def test_delta_rule_learns_the_prices():
    plan, _ = train(EX["fast_food_learn.yaml"], dtype=np.float64)
    np.testing.assert_allclose(plan.parameters()["edges/meal->cost"][:, 0], [3.5, 1.75, 1.25], atol=1e-3)


def test_mnist_spec_trains_to_a_stated_accuracy():
    spec = nngraph.load(EX["mnist_mlp.yaml"])
    data = load_data(spec)
    plan, history = train(spec, data, epochs=3)
    acc = evaluate(plan, data.x_test, data.y_test, data.classes, "cross_entropy")["accuracy"]
    assert acc >= 0.88, acc  # a broken trainer stays near 10%
    assert history[-1]["val_accuracy"] >= 0.85


def test_same_seed_same_weights_bit_for_bit():
    a, _ = train(EX["xor_train.yaml"], epochs=20)
    b, _ = train(EX["xor_train.yaml"], epochs=20)
    pa, pb = a.parameters(), b.parameters()
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)


def _tiny(extra_edge="", node_extra="", train_extra=""):
    return f"""\
nngraph: 1
name: tiny
nodes:
  - {{name: x, role: input, size: 4}}
  - {{name: h, size: 6, activation: tanh{node_extra}}}
  - {{name: y, role: output, size: 3, activation: softmax}}
edges:
  - {{from: x, to: h{extra_edge}}}
  - {{from: h, to: y}}
data: {{source: blobs, samples: 150, seed: 2}}
train: {{loss: cross_entropy, optimizer: {{name: adam, learning_rate: 0.05}}, epochs: 5, batch_size: 16{train_extra}}}
"""


def _blobs_4d(spec):
    ds = load_data(nngraph.load(spec))
    pad = lambda x: np.hstack([x, x[:, :2] * 0.5])  # noqa: E731  (4 features from blobs' 2)
    return Dataset(pad(ds.x_train), ds.y_train, pad(ds.x_test), ds.y_test, "blobs", ds.classes)


def test_frozen_edges_do_not_move():
    spec = _tiny(extra_edge=", trainable: false")
    before = compile(spec, use_file=False).parameters()
    plan, _ = train(spec, _blobs_4d(spec))
    after = plan.parameters()
    assert np.array_equal(before["edges/x->h"], after["edges/x->h"])
    assert not np.array_equal(before["edges/h->y"], after["edges/h->y"])


def test_absent_connections_stay_absent():
    spec = _tiny(extra_edge=", pattern: random, density: 0.3, seed: 4")
    plan, _ = train(spec, _blobs_4d(spec))
    g = plan.graph.connections[0]
    block = plan.stages[1].blocks[0]
    dense = block.dense()
    present = np.zeros((4, 6), dtype=bool)
    present[g.rows, g.cols] = True
    assert np.all(dense[~present] == 0) and np.any(dense[present] != 0)


def test_dropout_and_l2_train():
    spec = _tiny(node_extra=", dropout: 0.2", train_extra=", l2: 0.001")
    plan, history = train(spec, _blobs_4d(spec), epochs=10)
    assert history[-1]["loss"] < history[0]["loss"]


def test_early_stopping_restores_the_best_epoch():
    spec = _tiny(train_extra=", early_stopping: {patience: 1}, validation_split: 0.3")
    plan, history = train(spec, _blobs_4d(spec), epochs=200)
    best = min(r["val_loss"] for r in history)
    assert len(history) < 200 and history[-1].get("stopped_early")
    assert best < history[-1]["val_loss"] or len(history) == 2


def test_non_finite_loss_stops_with_epoch_and_step_and_keeps_good_values():
    spec = nngraph.spec.with_overrides(nngraph.load(EX["fast_food_learn.yaml"]),
                                       ["train.optimizer.learning_rate=1e10", "train.epochs=50"])
    with pytest.raises(TrainingError, match=r"at epoch 1, step \d+; training stopped") as info:
        train(spec)
    assert "lower the learning rate" in str(info.value)
    kept = info.value.plan.parameters()["edges/meal->cost"]
    assert np.isfinite(kept).all() and np.all(kept == 0)  # the initial values: no epoch finished


def test_step_activation_refused():
    with pytest.raises(TrainingError, match=r"cannot train through step \(\w+\): its gradient is zero almost everywhere"):
        train(EX["xor.yaml"].read_text() + "data: {source: xor}\ntrain: {loss: mse}\n")


def test_cross_entropy_needs_softmax():
    text = EX["xor_train.yaml"].read_text().replace("binary_cross_entropy", "cross_entropy")
    with pytest.raises(TrainingError, match="softmax"):
        train(text)


def test_targets_one_hot():
    plan = compile(EX["mnist_mlp.yaml"], use_file=False)
    t = targets_for(plan, np.array([3, 0]), [str(i) for i in range(10)])
    assert t.shape == (2, 10) and t[0, 3] == 1 and t.sum() == 2
