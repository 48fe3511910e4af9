"""Limits read strictly from the environment; graph algorithms near-linear; random patterns in O(k) memory."""
import numpy as np
import pytest

from nngraph.errors import NNGraphError
from nngraph.graph import build
from nngraph.graph import edges as edges_mod
from nngraph.graph.edges import random_pairs
from nngraph.limits import Limits


@pytest.mark.parametrize("raw, value", [("1000", 1000), ("1e9", 10**9), ("2.5e3", 2500), ("1E2", 100), ("0", 0)])
def test_env_limit_accepts_integers_and_exact_scientific(monkeypatch, raw, value):
    monkeypatch.setenv("NNGRAPH_MAX_WEIGHTS", raw)
    assert Limits.from_env().max_weights == value


@pytest.mark.parametrize("raw", ["1_000", " 5 ", "-1", "abc", "1.5e0", "1e400", "", "+3", "5.0"])
def test_env_limit_refuses_everything_else(monkeypatch, raw):
    monkeypatch.setenv("NNGRAPH_MAX_NEURONS", raw)
    with pytest.raises(NNGraphError, match=r"NNGRAPH_MAX_NEURONS=.*is not a limit.*digits \(1000000\).*\(1e6\)"):
        Limits.from_env()


def _chain(tmp_path, n):
    p = tmp_path / "chain.yaml"
    p.write_text(f"nngraph: 1\nname: chain\nnodes: [{{name: x, role: input, size: 1}}, {{name: h, size: {n}, role: output}}]\n"
                 f"edges: [{{from: x, to: 'h[0]', weight: 1}}, "
                 f"{{from: 'h[0:{n - 1}]', to: 'h[1:{n}]', pattern: one_to_one, weight: 1}}]\n")
    return p


def test_long_chain_levels(tmp_path):
    # 20,000 levels: the old per-level rescans took seconds here; the levels must be exactly 1..n
    n = 20_000
    g = build(_chain(tmp_path, n))
    assert g.neuron_level[1:].tolist() == list(range(1, n + 1))


def test_chain_with_a_wide_fan_out_mixes_scalar_and_vector_steps(tmp_path):
    p = tmp_path / "mix.yaml"
    p.write_text("nngraph: 1\nname: mix\nnodes: [{name: x, role: input, size: 1}, {name: h, size: 300},"
                 " {name: y, size: 1, role: output}]\n"
                 "edges: [{from: x, to: 'h[0]', weight: 1}, {from: 'h[0]', to: 'h[1:200]'},"
                 " {from: 'h[1:199]', to: 'h[2:200]', pattern: one_to_one, weight: 1},"
                 " {from: 'h[199]', to: 'h[200:300]'}, {from: h, to: y}]\n")
    g = build(p)
    h = g.nodes[1]
    level = g.neuron_level[h.offset:h.offset + h.size]
    # h[0] at 1; h[i] (1 <= i < 200) is fed by h[0] and by h[i-1]: depth i + 1; h[200:] after h[199]
    assert level[:200].tolist() == list(range(1, 201))
    assert (level[200:] == 201).all()
    assert g.neuron_level[-1] == 202


def test_random_pairs_small_population_keeps_numpy_pattern():
    expected = np.sort(np.random.default_rng(7).choice(1000, size=100, replace=False))
    assert random_pairs(1000, 100, 7).tolist() == expected.tolist()


def test_random_pairs_blocked_is_exact_and_uniform(monkeypatch):
    monkeypatch.setattr(edges_mod, "_PAIR_BLOCK", 64)
    pop, k = 1000, 500
    counts = np.zeros(pop)
    for seed in range(200):
        a = random_pairs(pop, k, seed)
        assert len(a) == k and (np.diff(a) > 0).all() and a[0] >= 0 and a[-1] < pop
        counts[a] += 1
    # each index is chosen with probability 1/2: 200 draws give 100 +- 7 (5 sigma bound ~ 35)
    assert abs(counts - 100).max() < 40
    assert random_pairs(pop, k, 3).tolist() == random_pairs(pop, k, 3).tolist()


_TINY = """\
nngraph: 1
name: tiny
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 8, activation: tanh}
  - {name: y, role: output, size: 3, activation: softmax}
edges:
  - {from: x, to: h, init: {name: normal, std: 0.5, seed: 1}}
  - {from: h, to: y, init: {name: normal, std: 0.5, seed: 2}}
data: {source: blobs, samples: 150, seed: 2}
train: {loss: cross_entropy, optimizer: adam, epochs: 1,
        batch_size: 16}
"""
# 2 + 8 + 3 = 13 neurons in all stages, float32: 52 bytes a row to run, 104 to train


def test_forward_over_the_batch_limit_runs_in_exact_chunks(tmp_path, monkeypatch):
    from nngraph.compile import compile
    p = tmp_path / "tiny.yaml"
    p.write_text(_TINY)
    x = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    expected = compile(p, use_file=False).forward(x)
    monkeypatch.setenv("NNGRAPH_MAX_BATCH_BYTES", str(52 * 10))
    plan = compile(p, use_file=False)
    assert np.array_equal(plan.forward(x[:10]), expected[:10])   # N rows: one batch
    assert np.array_equal(plan.forward(x[:11]), expected[:11])   # N + 1: two chunks, same numbers
    assert np.array_equal(plan.forward(x), expected)
    monkeypatch.setenv("NNGRAPH_MAX_BATCH_BYTES", "51")  # not even one row fits
    plan = compile(p, use_file=False)
    with pytest.raises(NNGraphError, match=r"tiny.yaml: a batch of 1 rows needs 1 x 13 neurons .* over the limit "
                       r"of 51 bytes .*NNGRAPH_MAX_BATCH_BYTES"):
        plan.forward(x[:1])


@pytest.mark.parametrize("limit, ok", [(104 * 16, True), (104 * 16 - 1, False)])
def test_training_batch_bounded_before_allocation(tmp_path, monkeypatch, limit, ok):
    from nngraph.training import train
    p = tmp_path / "tiny.yaml"
    p.write_text(_TINY)
    monkeypatch.setenv("NNGRAPH_MAX_BATCH_BYTES", str(limit))
    if ok:
        train(p)
        return
    with pytest.raises(NNGraphError, match=r"tiny.yaml:12:21: train.batch_size: a batch of 16 rows needs 16 x 13 "
                       r"neurons .* x 2 = 1,664 bytes of activations and gradients, over the limit of 1,663 bytes "
                       r"\(at most 15 rows\).*NNGRAPH_MAX_BATCH_BYTES"):
        train(p)


def test_threaded_forward_stays_within_the_batch_bound(tmp_path, monkeypatch):
    """plan.threads > 1 splits a large batch of a sparse plan across threads: the parts' buffers
    together must respect NNGRAPH_MAX_BATCH_BYTES exactly as one thread's do."""
    from nngraph import runtime
    from nngraph.compile import compile
    p = tmp_path / "tiny.yaml"
    p.write_text(_TINY)
    x = np.random.default_rng(1).normal(size=(4096, 2)).astype(np.float32)
    expected = compile(p, use_file=False, sparse_below=1.01).forward(x)
    built = []
    real = runtime._program
    monkeypatch.setattr(runtime, "_program", lambda plan, batch, programs: built.append(batch) or
                        real(plan, batch, programs))
    monkeypatch.setenv("NNGRAPH_MAX_BATCH_BYTES", str(52 * 1000))  # 1,000 rows fit
    plan = compile(p, use_file=False, sparse_below=1.01)
    assert plan._sparse_plan
    plan.threads = 2
    assert np.array_equal(plan.forward(x), expected)
    assert built and max(built) <= 1000, built
    monkeypatch.setenv("NNGRAPH_MAX_BATCH_BYTES", "51")  # not even one row fits
    plan = compile(p, use_file=False, sparse_below=1.01)
    plan.threads = 2
    with pytest.raises(NNGraphError, match=r"tiny.yaml: a batch of 4,096 rows needs .* over the limit of 51 bytes "
                       r".*NNGRAPH_MAX_BATCH_BYTES"):
        plan.forward(x)


def test_a_cycle_through_100k_nodes_is_named_in_a_short_message():
    """The cycle report maps each vertex to its node by binary search and collects connections once
    (it scanned every node per vertex: quadratic, minutes at this size)."""
    from nngraph.errors import CycleError
    n = 100_000
    spec = {"nngraph": 1, "name": "ring", "nodes": [{"name": "x", "role": "input"}, {"name": "y", "role": "output"}]
            + [{"name": f"n{i}"} for i in range(n)],
            "edge_table": [["x", "n0", 1.0], [f"n{n - 1}", "y", 1.0]] + [[f"n{i}", f"n{(i + 1) % n}", 1.0]
                                                                         for i in range(n)]}
    with pytest.raises(CycleError) as info:
        build(spec)
    [d] = info.value.diagnostics
    assert d.path == "edge_table[2]" and d.code == "cycle"
    assert ("not feed-forward: n0 -> n1 -> n2 -> n3 -> n4 -> n5 -> n6 -> n7 -> n8 -> ... -> n99998 -> n99999 "
            "-> n0 (100,000 neurons); through edge_table[2], edge_table[3]") in d.message  # a dict has no lines
    assert "edge_table[10], ... 99,989 more ..., edge_table[100000], edge_table[100001]; " \
        "remove or redirect" in d.message and len(d.message) < 1000
    assert info.value.cycle_neurons == [f"n{i}" for i in range(n)]  # all of them, for drawings
    assert len(info.value.cycle_connections) == n


_SIZED = """\
nngraph: 1
name: sized
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 4}
  - {name: y, role: output, size: 3}
edges:
  - {from: x, to: h, init: zeros}
  - {from: h, to: y, init: zeros}
edge_table:
  - ["x[0]", "y[0]", 0.5]
"""
# 9 neurons; weights: 2 x 4 = 8, then 4 x 3 = 12 (total 20), then one table row (21)


@pytest.mark.parametrize("var, n, where, message", [
    ("NNGRAPH_MAX_NODE_SIZE", 4, "sized.yaml:5:21: nodes[1].size", "size 4 is over the limit of 3 neurons per node "
     "(set by NNGRAPH_MAX_NODE_SIZE=3); raise it with Limits(max_node_size=...) or the environment variable "
     "NNGRAPH_MAX_NODE_SIZE"),
    ("NNGRAPH_MAX_NEURONS", 9, "sized.yaml:6:35: nodes[2].size", "this node's 3 neurons bring the total to 9, over "
     "the limit of 8 neurons in all (set by NNGRAPH_MAX_NEURONS=8); raise it with Limits(max_neurons=...) or the "
     "environment variable NNGRAPH_MAX_NEURONS"),
    ("NNGRAPH_MAX_WEIGHTS", 21, "sized.yaml:11:5: edge_table[0]", "this row's 1 weight (one row) bring the total to "
     "21, over the limit of 20 weights in all (set by NNGRAPH_MAX_WEIGHTS=20); raise it with Limits(max_weights=...) "
     "or the environment variable NNGRAPH_MAX_WEIGHTS"),
])
def test_limit_messages_name_the_number_its_place_the_limit_and_the_variable(tmp_path, monkeypatch, var, n, where,
                                                                             message):
    from nngraph.errors import LimitError
    p = tmp_path / "sized.yaml"
    p.write_text(_SIZED)
    monkeypatch.setenv(var, str(n))
    build(p)  # exactly at the limit: accepted
    monkeypatch.setenv(var, str(n - 1))
    with pytest.raises(LimitError) as info:
        build(p)
    assert [d.format() for d in info.value.diagnostics] == [f"{p.parent}/{where}: {message}"]


def test_the_weight_limit_names_the_edge_that_passes_it(tmp_path, monkeypatch):
    from nngraph.errors import LimitError
    p = tmp_path / "sized.yaml"
    p.write_text(_SIZED)
    monkeypatch.setenv("NNGRAPH_MAX_WEIGHTS", "8")  # the first edge fits exactly, the second passes the limit
    with pytest.raises(LimitError) as info:
        build(p)
    [d] = info.value.diagnostics
    assert (d.line, d.column, d.path) == (9, 5, "edges[1]")
    assert d.message.startswith("this edge's 12 weights (4 x 3, dense) bring the total to 20 (21 with the rest), "
                                "over the limit of 8 weights in all (set by NNGRAPH_MAX_WEIGHTS=8)")
    with pytest.raises(LimitError, match=r"over the limit of 7 weights in all \(set in code by "
                       r"Limits\(max_weights=7\)\)"):
        build(p, limits=Limits(max_weights=7))
