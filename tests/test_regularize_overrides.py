"""l1, l2 and max_norm set per node and per edge: the first steps by hand, the penalty gradients
against finite differences of an independent penalty, and the located refusals."""
import numpy as np
import pytest

import nngraph
from nngraph.compile import compile
from nngraph.regularizers import MaxNorm, add_penalties, coefficients
from nngraph.training import Callbacks, train, trainable_tensors

from randomnets import random_spec

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -1.5]])
T = np.array([[1.0, 0.5], [-1.0, 2.0], [2.0, -0.5]])
W0 = np.array([[0.5, 0.8], [-0.3, 0.9]])  # columns: into y1, into y2

SINGLE = """\
nngraph: 1
name: overrides
nodes:
  - {name: x0, role: input}
  - {name: x1, role: input}
  - {name: y1, role: output, max_norm: 0.5}
  - {name: y2, role: output, l1: 0.05}
edges:
  - {from: x0, to: y1, weight: 0.5, l1: 0.2}
  - {from: x1, to: y1, weight: -0.3}
  - {from: x0, to: y2, weight: 0.8, l2: 0}
  - {from: x1, to: y2, weight: 0.9}
train: {loss: mse, optimizer: {name: sgd, learning_rate: 0.1}, batch_size: 3, epochs: 3, l2: 0.1,
        validation_split: 0, shuffle: false}
"""

# the same network with one two-neuron input and a dense edge into each output; here an edge's
# value covers its whole column, so x0->y2's l2: 0 becomes the node's l2: 0 (and x1->y2 takes it too)
DENSE = """\
nngraph: 1
name: overrides
nodes:
  - {name: x, role: input, size: 2}
  - {name: y1, role: output, max_norm: 0.5}
  - {name: y2, role: output, l1: 0.05, l2: 0}
edges:
  - {from: x, to: y1, weights: [[0.5], [-0.3]], l1: 0.2}
  - {from: x, to: y2, weights: [[0.8], [0.9]]}
train: {loss: mse, optimizer: {name: sgd, learning_rate: 0.1}, batch_size: 3, epochs: 3, l2: 0.1,
        validation_split: 0, shuffle: false}
"""


def _by_hand(l1, l2, steps=3, lr=0.1, bound=0.5):
    """Full-batch SGD on mse with per-weight l1 and l2, then y1's incoming norm kept within bound."""
    w, b = W0.copy(), np.zeros(2)
    for _ in range(steps):
        err = X @ w + b - T
        gw, gb = 2 * X.T @ err / err.size, 2 * err.sum(axis=0) / err.size
        w, b = w - lr * (gw + l1 * np.sign(w) + l2 * w), b - lr * gb
        norm = np.linalg.norm(w[:, 0])
        if norm > bound:
            w[:, 0] *= bound / norm
    return w, b


@pytest.mark.parametrize("text, l1, l2", [
    (SINGLE, np.array([[0.2, 0.05], [0.0, 0.05]]), np.array([[0.1, 0.0], [0.1, 0.1]])),
    (DENSE, np.array([[0.2, 0.05], [0.2, 0.05]]), np.array([[0.1, 0.0], [0.1, 0.0]])),
], ids=["single-weight-edges", "dense-edges"])
@pytest.mark.parametrize("sparse_below", [0.0, 1.01], ids=["dense", "csr"])
def test_per_node_and_per_edge_first_steps_by_hand(text, l1, l2, sparse_below):
    plan = compile(text, dtype=np.float64, sparse_below=sparse_below, use_file=False)
    assert plan.stages[1].blocks[0].sparse is (sparse_below > 1)
    train(text, (X, T), plan=plan)
    weights = plan.parameters()
    if text is DENSE:
        got = np.hstack([weights["edges/x->y1"], weights["edges/x->y2"]])
    else:
        got = np.array([[weights[f"connections/x{i}->y{j}"].item() for j in (1, 2)] for i in (0, 1)])
    want, bias = _by_hand(l1, l2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([weights["nodes/y1/bias"].item(), weights["nodes/y2/bias"].item()], bias, rtol=1e-12)
    assert np.linalg.norm(want[:, 0]) == pytest.approx(0.5)  # y1's bound was active ...
    assert np.linalg.norm(want[:, 1]) > 0.5  # ... and y2 has none
    assert not np.allclose(want, _by_hand(np.full((2, 2), 0.05), np.full((2, 2), 0.1))[0], rtol=1e-6)


def _with_overrides(seed):
    """A random spec whose nodes and edges set their own l1, l2 (some 0) and max_norm at random."""
    doc = random_spec(seed)
    rng = np.random.default_rng(1000 + seed)
    for node in doc["nodes"]:
        if node.get("role") != "input":
            for key in ("l1", "l2"):
                if rng.random() < 0.5:
                    node[key] = float(rng.choice([0.0, rng.uniform(0.01, 0.5)]))
            if rng.random() < 0.5:
                node["max_norm"] = float(rng.uniform(0.2, 1.0))
    for edge in doc["edges"]:
        for key in ("l1", "l2"):
            if rng.random() < 0.4:
                edge[key] = float(rng.choice([0.0, rng.uniform(0.01, 0.5)]))
        if rng.random() < 0.15:
            edge["trainable"] = False
    doc["train"] = {"loss": "mse", "l1": 0.03, "l2": 0.2, "max_norm": 1.5, "validation_split": 0}
    return doc


def _oracle_penalty(plan, defaults):
    """sum(l1 |w| + l2/2 w^2) over every trainable connection, each weight's coefficients looked
    up in the spec directly: its edge's own, else its target node's, else the train section's."""
    spec, total = plan.spec, 0.0
    params = plan.parameters()
    for c in plan.graph.connections:
        if not c.trainable:
            continue
        w = params[c.key].reshape(-1)
        node = plan.graph.nodes[c.dst].spec
        for key, default in defaults.items():
            coef = np.full(w.shape, default if getattr(node, key) is None else getattr(node, key))
            if c.path[0] == "edges":
                rows = c.row_paths if c.row_paths is not None else np.full(w.shape, c.path[1])
                for k, r in enumerate(rows):
                    own = getattr(spec.edges[int(r)], key)
                    if own is not None:
                        coef[k] = own
            total += float(np.sum(coef * np.abs(w))) if key == "l1" else float(np.sum(coef / 2 * w * w))
    return total


@pytest.mark.parametrize("seed", range(8))
def test_override_gradients_equal_finite_differences_of_an_independent_penalty(seed):
    doc = _with_overrides(seed)
    plan = compile(doc, dtype=np.float64, sparse_below=1.01 if seed % 2 else 0.0)
    tensors = trainable_tensors(plan)
    rng = np.random.default_rng(seed)
    for t in tensors:  # move weights off zero so |w| is differentiable where we probe
        t.value[...] = rng.normal(size=t.value.shape) * (t.keep if t.keep is not None else 1)
    l1 = coefficients(plan, tensors, "l1", 0.03)
    l2 = coefficients(plan, tensors, "l2", 0.2)
    grads = [np.zeros_like(t.value) for t in tensors]
    add_penalties(tensors, grads, l1, l2)
    probed = 0
    for t, g in zip(tensors, grads):
        flat, gflat = t.value.reshape(-1), g.reshape(-1)
        live = np.flatnonzero(t.keep.reshape(-1) > 0) if t.keep is not None else np.arange(flat.size)
        for k in rng.choice(live, min(6, len(live)), replace=False):
            old, h = flat[k], 1e-6
            flat[k] = old + h
            up = _oracle_penalty(plan, {"l1": 0.03, "l2": 0.2})
            flat[k] = old - h
            down = _oracle_penalty(plan, {"l1": 0.03, "l2": 0.2})
            flat[k] = old
            assert gflat[k] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8)
            probed += 1
        if not t.weight:
            assert not g.any()  # biases are not penalised
    assert probed > 0


class _Watch(Callbacks):
    def __init__(self, plan, default):
        """Per neuron: its node's max_norm, else the default; recomputed from the spec, not MaxNorm."""
        self.plan, self.steps, self.at_bound = plan, 0, 0
        self.bound = np.array([n.spec.max_norm or default for n in plan.graph.nodes for _ in range(n.size)])

    def step(self, epoch, step, loss):
        sq = np.zeros(self.plan.graph.n_neurons)
        params = self.plan.parameters()
        for c in self.plan.graph.connections:  # frozen weights count too
            w = params[c.key]
            dst = self.plan.graph.nodes[c.dst].offset
            if c.dense:
                sq[dst + c.dst_lo:dst + c.dst_hi] += (w * w).sum(axis=0)
            else:
                np.add.at(sq, dst + c.dst_lo + c.cols, w * w)
        computed = np.array([n.role != "input" for n in self.plan.graph.nodes for _ in range(n.size)])
        norms, bound = np.sqrt(sq[computed]), self.bound[computed]
        assert (norms <= bound * (1 + 1e-12)).all(), (epoch, step)
        self.at_bound += int(np.sum(np.isclose(norms, bound, rtol=1e-9)))
        self.steps += 1


@pytest.mark.parametrize("seed", range(4))
def test_per_node_max_norm_holds_after_every_step(seed):
    doc = _with_overrides(seed)
    for edge in doc["edges"]:
        edge.pop("trainable", None)  # a frozen edge may hold a neuron above its bound for good
    doc["train"].update(optimizer={"name": "adam", "learning_rate": 0.2}, batch_size=8, epochs=3, max_norm=0.8)
    plan = compile(doc, dtype=np.float64, sparse_below=1.01 if seed % 2 else 0.0)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(40, plan.input_width)), rng.normal(size=(40, plan.output_width)) * 5
    watch = _Watch(plan, 0.8)
    train(doc, (x, y), plan=plan, callbacks=watch)
    assert watch.steps == 15 and watch.at_bound > 0


def test_max_norm_only_where_a_node_sets_it():
    doc = _with_overrides(3)
    doc["train"].pop("max_norm")
    for node in doc["nodes"]:
        node.pop("max_norm", None)
    plan = compile(doc, use_file=False)
    assert not MaxNorm(plan, trainable_tensors(plan), None)  # nothing bounded: no work per step
    doc["nodes"][-1]["max_norm"] = 0.5
    plan = compile(doc, use_file=False)
    constraint = MaxNorm(plan, trainable_tensors(plan), None)
    assert [np.isfinite(b).sum() for b in constraint.bounds()] == [doc["nodes"][-1]["size"]]


def test_uniform_overrides_stay_one_number():
    """Coefficients that do not vary within a block are kept as one number (no per-weight array)."""
    plan = compile(DENSE, use_file=False)
    tensors = trainable_tensors(plan)
    l1 = coefficients(plan, tensors, "l1", 0.0)
    assert isinstance(l1[0], np.ndarray) and l1[1] == 0.0  # the block mixes 0.2 and 0.05; the bias
    same = DENSE.replace("l1: 0.2", "l1: 0.05")
    plan = compile(same, use_file=False)
    assert coefficients(plan, trainable_tensors(plan), "l1", 0.0)[0] == 0.05


@pytest.mark.parametrize("edit, where, message", [
    (("nodes", 0, "l2", 0.1), "nodes[0].l2", "input nodes take no l2: no weights lead into them"),
    (("nodes", 0, "max_norm", 1.0), "nodes[0].max_norm", "input nodes take no max_norm"),
    (("edges", 1, "max_norm", 1.0), "edges[1].max_norm", "an edge takes no max_norm: it bounds each neuron's "
                                                         "incoming weights over all its connections"),
    (("edges", 1, "l1", -0.1), "edges[1].l1", "greater than or equal to 0"),
    (("nodes", 3, "max_norm", 0), "nodes[3].max_norm", "greater than 0"),
])
def test_bad_overrides_are_located(edit, where, message):
    part, i, key, value = edit
    lines = SINGLE.splitlines()
    at = lines.index(part + ":") + 1 + i
    lines[at] = lines[at][:-1] + f", {key}: {value}}}"
    with pytest.raises(nngraph.SpecError) as info:
        nngraph.build(nngraph.load("\n".join(lines)))
    text = str(info.value)
    assert f":{at + 1}:" in text and where in text and message in text, text


def test_penalty_on_a_frozen_edge_is_a_located_warning():
    from nngraph.trainchecks import findings

    text = SINGLE.replace("weight: -0.3}", "weight: -0.3, trainable: false, l2: 0.5}")
    errors, warnings = findings(nngraph.build(nngraph.load(text)))
    assert not errors
    assert [(w.path, w.line, w.message) for w in warnings] == [
        ("edges[1].l2", 10, "l2 on a frozen edge (trainable: false) changes nothing: its weights never move")]
