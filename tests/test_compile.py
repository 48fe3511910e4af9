"""Compiled plans against the naive reference evaluator, known answers, dtypes, stability."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as hs

import nngraph
from nngraph import reference, runtime
from nngraph.compile import compile
from nngraph.errors import DataError

from helpers import EX, EXAMPLES, ROOT
from randomnets import random_spec



def test_perceptron_verdicts():
    plan = compile(EX["perceptron.yaml"])
    x = np.array([[7, 3], [8, 0], [2, 5], [0, 6], [4, 3]])
    expected = np.where(3 * x[:, 0] + 4 * x[:, 1] - 24 >= 0, 1.0, -1.0)
    assert plan.forward(x)[:, 0].tolist() == expected.tolist() == [1, 1, 1, 1, 1][:0] + expected.tolist()
    assert plan.forward({"sleep": [4.0], "study": [3.0]}).tolist() == [[1.0]]  # 12 + 12 - 24 = 0
    assert plan.forward({"sleep": [4.0], "study": [2.9]}).tolist() == [[-1.0]]


def test_fast_food_prices():
    plan = compile(EX["fast_food.yaml"], dtype=np.float64)
    assert plan.forward([[2, 1, 3], [0, 0, 0], [1, 1, 1]])[:, 0].tolist() == [12.5, 0.0, 6.5]


def test_xor_truth_table():
    plan = compile(EX["xor.yaml"])
    assert plan.forward([[0, 0], [0, 1], [1, 0], [1, 1]])[:, 0].tolist() == [0, 1, 1, 0]


def test_mlp_compiles_to_one_dense_block_per_stage():
    plan = compile(EX["mnist_mlp.yaml"], use_file=False)
    assert [s.width for s in plan.stages] == [784, 256, 256, 10]
    for st in plan.stages[1:]:
        assert len(st.blocks) == 1 and not st.blocks[0].sparse and st.blocks[0].rows is None
        assert st.blocks[0].mask is None
    assert plan.n_parameters == 784 * 256 + 256 + 256 * 256 + 256 + 2560 + 10


def test_skip_connection_reads_the_input_stage():
    plan = compile(EX["skip_connection.yaml"])
    assert [b.src for b in plan.stages[2].blocks] == [0, 1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=hs.integers(0, 2**32 - 1), sparse=hs.sampled_from([0.0, 0.5, 1.01]), batch=hs.integers(1, 6),
       threads=hs.sampled_from([1, 2, 3]))
def test_compiled_equals_reference(seed, sparse, batch, threads):
    # all dense (batch-major route), mixed, all sparse (neuron-major route); batch 1 included;
    # sparse plans run in chunks of 2 samples (odd batches end with a shorter one), taken by up
    # to 3 threads (more threads than chunks too); a second call must not change the first result
    spec = random_spec(seed)
    plan = compile(spec, dtype=np.float64, sparse_below=sparse)
    plan.threads = threads
    x = np.random.default_rng(seed).normal(0, 2, (batch, plan.input_width))
    expected = reference.evaluate(plan.graph, plan.parameters(), x)
    saved, runtime.CHUNK_ROWS = runtime.CHUNK_ROWS, 2
    try:
        y = plan.forward(x)
        plan.forward(x + 1.0)
        predict = plan.bind(batch)  # the prebound route for many calls of one batch size
        np.testing.assert_array_equal(predict(x), y)
        np.testing.assert_array_equal(predict(x), y)
    finally:
        runtime.CHUNK_ROWS = saved
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    acts = runtime._buffers(plan, batch)  # the training route, batch-major activations
    np.testing.assert_allclose(runtime.forward(plan, x, acts), expected, rtol=1e-6, atol=1e-6)


def test_tiny_blocks_of_a_sparse_plan_are_csr():
    """In a plan with CSR blocks, a stage's CSR blocks run as one product: a tiny block kept dense
    would be a product (and a gather) of its own, so with the default thresholds it is CSR too;
    an explicit sparse_below is followed as given. Both agree with the reference."""
    rng = np.random.default_rng(3)
    pairs = rng.choice(16 * 60, size=40, replace=False)
    spec = {"nngraph": 1, "name": "tiny", "nodes": [
        {"name": "x", "role": "input", "size": 16}, {"name": "h", "size": 60, "activation": "tanh"},
        {"name": "y", "role": "output", "size": 2, "activation": "sigmoid"}],
        "edges": [{"from": "x", "to": "h", "pattern": "sparse",
                   "connections": [[int(p // 60), int(p % 60), float(rng.normal())] for p in pairs]},
                  {"from": "h", "to": "y", "init": "he_normal"}, {"from": "x", "to": "y", "init": "he_normal"}]}
    x = rng.normal(size=(7, 16))
    default = compile(spec, dtype=np.float64, use_file=False, seed=1)
    assert default.stages[1].blocks[0].sparse
    assert [(b.src, b.sparse) for b in default.stages[2].blocks] == [(0, True), (1, True)]
    asked = compile(spec, dtype=np.float64, use_file=False, seed=1, sparse_below=0.5)
    assert asked.stages[1].blocks[0].sparse and not any(b.sparse for b in asked.stages[2].blocks)
    expected = reference.evaluate(default.graph, default.parameters(), x)
    for plan in (default, asked):
        np.testing.assert_allclose(plan.forward(x), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_sparse_route_without_the_scipy_kernel(seed, monkeypatch):
    monkeypatch.setattr(runtime, "_csr_matvecs", False)  # False: scipy has no such kernel (None: not loaded yet)
    plan = compile(random_spec(seed), dtype=np.float64, sparse_below=1.01)
    x = np.random.default_rng(seed).normal(0, 2, (5, plan.input_width))
    expected = reference.evaluate(plan.graph, plan.parameters(), x)
    np.testing.assert_allclose(plan.forward(x), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(runtime.forward(plan, x, runtime._buffers(plan, 5)), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_float32_end_to_end(seed):
    plan = compile(random_spec(seed), dtype=np.float32)
    x = np.random.default_rng(seed).normal(size=(4, plan.input_width))  # float64 in
    y = plan.forward(x)
    assert y.dtype == np.float32
    for st in plan.stages[1:]:
        assert st.bias.dtype == np.float32 and all(b.W.dtype == np.float32 for b in st.blocks)
    ref = reference.evaluate(plan.graph, plan.parameters(), x)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("act", ["sigmoid", "softmax", "tanh", "softplus", "elu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_are_stable_at_large_inputs(act, dtype):
    spec = {"nngraph": 1, "name": "s", "nodes": [{"name": "x", "role": "input", "size": 2},
                                                  {"name": "y", "role": "output", "size": 2, "activation": act}],
            "edges": [{"from": "x", "to": "y", "pattern": "one_to_one", "weights": [1.0, 1.0]}]}
    plan = compile(spec, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = plan.forward([[1000.0, -1000.0], [-1000.0, 1000.0]])
    assert np.isfinite(y).all()
    if act == "softmax":
        np.testing.assert_allclose(y, [[1, 0], [0, 1]])
    if act == "sigmoid":
        np.testing.assert_allclose(y, [[1, 0], [0, 1]])


def test_dict_inputs_and_outputs():
    plan = compile(EX["skip_connection.yaml"], dtype=np.float64)
    x = np.arange(8.0).reshape(2, 4)
    out = plan.forward({"x": x}, as_dict=True)
    assert list(out) == ["y"] and out["y"].shape == (2, 3)
    np.testing.assert_allclose(out["y"], plan.forward(x))


def test_wrong_input_width_says_what_was_expected():
    plan = compile(EX["skip_connection.yaml"])
    with pytest.raises(DataError, match=r"shape \(batch, 4\) \(x 4\); found shape \(2, 3\)"):
        plan.forward(np.zeros((2, 3)))
    with pytest.raises(DataError, match="'z' is not an input node"):
        plan.forward({"z": [1]})


def test_buffers_are_reused_and_outputs_are_not_aliased():
    plan = compile(EX["skip_connection.yaml"])
    a = plan.forward(np.ones((3, 4)))
    b = plan.forward(np.zeros((3, 4)))
    assert not np.shares_memory(a, b) and not np.allclose(a, b)
    assert len(plan._buffers) == 1


def test_initializers_are_seeded_and_reproducible():
    a = compile(EX["skip_connection.yaml"]).parameters()
    b = compile(EX["skip_connection.yaml"]).parameters()
    c = compile(EX["skip_connection.yaml"], seed=1).parameters()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["edges/x->hidden"], c["edges/x->hidden"])


def test_random_pattern_is_fixed_by_its_seed():
    spec = {"nngraph": 1, "name": "r", "nodes": [{"name": "x", "role": "input", "size": 50},
                                                  {"name": "y", "role": "output", "size": 40}],
            "edges": [{"from": "x", "to": "y", "pattern": "random", "density": 0.1, "seed": 3}]}
    g1, g2 = nngraph.build(spec), nngraph.build(spec)
    assert g1.connections[0].count == 200
    assert np.array_equal(g1.connections[0].rows, g2.connections[0].rows)


def test_sparse_blocks_chosen_by_density():
    spec = {"nngraph": 1, "name": "r", "nodes": [{"name": "x", "role": "input", "size": 100},
                                                  {"name": "y", "role": "output", "size": 100}],
            "edges": [{"from": "x", "to": "y", "pattern": "random", "density": 0.05}]}
    assert compile(spec).stages[1].blocks[0].sparse
    spec["edges"][0]["density"] = 0.5
    assert not compile(spec).stages[1].blocks[0].sparse


def test_parameters_round_trip_through_set_parameters():
    plan = compile(EX["irregular.yaml"], dtype=np.float64)
    values = {k: v + 1.0 for k, v in plan.parameters().items()}
    plan.set_parameters(values)
    got = plan.parameters()
    assert all(np.array_equal(got[k], values[k]) for k in values)



def test_merged_runs_and_packed_sparse_data_equal_reference():
    # dense blocks reading consecutive stages share one matrix; a stage's CSR blocks share one
    # data array; both are views the parameters and training write through
    seen = {"merged": 0, "packed": 0}
    for seed in range(80):
        for sparse in (0.0, 0.5, 1.01):
            plan = compile(random_spec(seed), dtype=np.float64, sparse_below=sparse)
            merged = [st for st in plan.stages[1:] if st.merged]
            packed = [st for st in plan.stages[1:] if st.sparse_data is not None]
            if not merged and not packed:
                continue
            seen["merged"] += len(merged)
            seen["packed"] += len(packed)
            values = {k: v + 0.25 for k, v in plan.parameters().items()}
            plan.set_parameters(values)  # written through the views
            x = np.random.default_rng(seed).normal(0, 2, (3, plan.input_width))
            expected = reference.evaluate(plan.graph, values, x)
            np.testing.assert_allclose(plan.forward(x), expected, rtol=1e-6, atol=1e-6)
            for st in merged:
                for a, b, W in st.merged:
                    assert all(np.shares_memory(blk.W, W) for blk in st.blocks if a <= blk.src <= b)
    assert seen["merged"] >= 3 and seen["packed"] >= 10
