"""Cross-reference rules, limits, cycles and file containment: each asserts message and location."""
import os

import pytest

from nngraph import CycleError, LimitError
from nngraph.graph import build
from nngraph.limits import Limits

from helpers import EX, EXAMPLES, SPECS, diagnostics_of, only_diagnostic

NET = """\
nngraph: 1
name: t
nodes:
  - {name: x, role: input, size: 3}
  - {name: hidden, size: 4, activation: relu}
  - {name: y, role: output, size: 2}
edges:
  - {from: x, to: hidden}
  - {from: hidden, to: y}
"""


def diags(text, **kw):
    return diagnostics_of(build, text, **kw)


def one(text, **kw):
    return only_diagnostic(build, text, **kw)


@pytest.mark.parametrize("path", EXAMPLES + SPECS, ids=lambda p: p.name)
def test_every_example_validates_without_warnings(path):
    assert build(EX[path.name]).warnings == []


def test_unknown_node_suggests():
    d = one(NET.replace("{from: hidden, to: y}", "{from: hiden, to: y}"))
    assert (d.line, d.column, d.path, d.code) == (9, 12, "edges[1].from", "unknown_node")
    assert "did you mean 'hidden'?" in d.message


def test_slice_out_of_range():
    d = one(NET.replace("{from: hidden, to: y}", '{from: "hidden[0:9]", to: y}'))
    assert d.path == "edges[1].from" and "out of range" in d.message and "size 4" in d.message


def test_duplicate_names():
    found = diags(NET.replace("  - {name: y, role: output, size: 2}",
                              "  - {name: y, role: output, size: 2}\n  - {name: y, size: 1}"))
    dup = [d for d in found if d.code == "duplicate_name"]
    assert dup and dup[0].path == "nodes[3].name" and "nodes[2]" in dup[0].message


def test_duplicate_dense_edges():
    d = one(NET + '  - {from: "x[1]", to: "hidden[2:4]"}\n')
    assert d.code == "duplicate_connection" and d.path == "edges[2]" and "edges[0]" in d.message


def test_duplicate_sparse_connections():
    d = one(NET.replace("{from: hidden, to: y}", "{from: hidden, to: y, pattern: sparse, "
                        "connections: [[0, 1, 1.0], [0, 1, 2.0]]}"))
    assert d.code == "duplicate_connection" and "hidden[0] -> y[1]" in d.message


def test_duplicate_between_sparse_and_dense():
    d = one(NET + "  - {from: x, to: hidden, pattern: sparse, connections: [[2, 3, 1.0]]}\n")
    assert d.code == "duplicate_connection" and "x[2] -> hidden[3]" in d.message and d.path == "edges[2]"


def test_edge_into_input():
    d = one(NET + "  - {from: hidden, to: x}\n")
    assert d.code == "edge_into_input" and d.path == "edges[2].to"


@pytest.mark.parametrize("attr", ["activation: relu", "bias: 1", "dropout: 0.5"])
def test_inputs_take_no_activation_bias_dropout(attr):
    d = one(NET.replace("{name: x, role: input, size: 3}", f"{{name: x, role: input, size: 3, {attr}}}"))
    assert d.code.startswith("input_") and d.path == f"nodes[0].{attr.split(':')[0]}"


def test_unused_node_is_a_warning():
    g = build(NET.replace("  - {name: y", "  - {name: spare, size: 2}\n  - {name: y") + "  - {from: x, to: spare}\n")
    found = [w for w in g.warnings if w.code != "no_weights"]  # NET's edges give no weights (a warning of its own)
    assert [w.code for w in found] == ["unused_node"] and found[0].path == "nodes[2]"


def test_unreachable_output_is_an_error():
    d = one(NET.replace("  - {from: hidden, to: y}\n", ""))
    assert d.code == "unreachable_output" and d.path == "nodes[2]"


@pytest.mark.parametrize("role", ["input", "output"])
def test_missing_role(role):
    text = "nngraph: 1\nname: t\nnodes:\n  - {name: a, role: %s}\n" % ("output" if role == "input" else "input")
    assert any(d.code == f"no_{role}" for d in diags(text))


def test_weight_matrix_shape():
    d = one(NET.replace("{from: hidden, to: y}", "{from: hidden, to: y, weights: [[1, 2], [3, 4]]}"))
    assert d.code == "weights_shape" and "4 rows" in d.message and "2 columns" in d.message
    assert d.path == "edges[1].weights"


def test_scalar_weight_needs_one_to_one_neuron():
    d = one(NET.replace("{from: hidden, to: y}", "{from: hidden, to: y, weight: 2}"))
    assert d.code == "weight_shape" and "'hidden' has 4 neurons" in d.message and d.path == "edges[1].from"


def test_bias_list_length():
    d = one(NET.replace("activation: relu}", "activation: relu, bias: [1, 2]}"))
    assert d.code == "bias_length" and d.path == "nodes[1].bias"


def test_one_to_one_sizes():
    d = one(NET.replace("{from: hidden, to: y}", "{from: hidden, to: y, pattern: one_to_one}"))
    assert d.code == "one_to_one_sizes"


def test_softmax_may_not_feed_itself():
    text = NET.replace("size: 2}", "size: 2, activation: softmax}") + '  - {from: "y[0]", to: "y[1]", weight: 1}\n'
    d = one(text)
    assert d.code == "softmax_feeds_itself" and d.path == "edges[2]"


def test_node_cycle_acyclic_per_neuron_is_valid():
    g = build(EX["irregular.yaml"])
    assert g.node_graph.has_edge(1, 2) and g.node_graph.has_edge(2, 1)  # h <-> g at node level
    levels = {g.neuron_name(i): int(lv) for i, lv in enumerate(g.neuron_level)}
    assert levels["h[0]"] < levels["h[1]"] < levels["h[2]"] < levels["g[0]"] < levels["h[3]"] < levels["y"]


def test_cycle_reported_neuron_by_neuron_with_locations():
    text = NET.replace(
        "  - {from: hidden, to: y}\n", '  - {from: "hidden[0]", to: "hidden[1]", weight: 1}\n'
        '  - {from: "hidden[1]", to: "y[0]", weight: 1}\n  - {from: "y[0]", to: "hidden[0]", weight: 1}\n'
        '  - {from: hidden, to: "y[1]"}\n')
    with pytest.raises(CycleError) as info:
        build(text)
    d = info.value.diagnostics[0]
    assert d.code == "cycle" and d.line == 9
    assert "hidden[0] -> hidden[1] -> y[0] -> hidden[0]" in d.message
    assert "edges[1] (line 9), edges[2] (line 10), edges[3] (line 11)" in d.message


def test_cycle_inside_one_node_names_every_edge():
    # single-neuron edges between the same two nodes are gathered into one connection; the
    # message must still name each spec edge of the cycle, the one to remove among them
    text = NET.replace("  - {from: hidden, to: y}\n", '  - {from: "hidden[0]", to: "hidden[1]", weight: 1}\n'
                       '  - {from: "hidden[1]", to: "hidden[0]", weight: 1}\n  - {from: hidden, to: y}\n')
    with pytest.raises(CycleError) as info:
        build(text)
    d = info.value.diagnostics[0]
    assert "hidden[0] -> hidden[1] -> hidden[0]; through edges[1] (line 9), edges[2] (line 10);" in d.message


def test_cycle_in_edge_table_names_each_row():
    text = NET.replace("  - {from: hidden, to: y}\n", "  - {from: hidden, to: y}\nedge_table:\n"
                       '  - ["hidden[0]", "hidden[1]", 1]\n  - ["hidden[2]", "hidden[3]", 1]\n'
                       '  - ["hidden[1]", "hidden[0]", 1]\n')
    with pytest.raises(CycleError) as info:
        build(text)
    msg = info.value.diagnostics[0].message
    assert "hidden[0] -> hidden[1] -> hidden[0]; through edge_table[0] (line 11), edge_table[2] (line 13);" in msg


def test_self_loop_on_one_neuron_is_a_cycle():
    with pytest.raises(CycleError, match=r"hidden\[2\] -> hidden\[2\]"):
        build(NET + '  - {from: "hidden[2]", to: "hidden[2]", weight: 1}\n')


@pytest.mark.parametrize("limit, value, ok", [("max_node_size", 4, True), ("max_node_size", 3, False),
                                               ("max_neurons", 9, True), ("max_neurons", 8, False),
                                               ("max_weights", 20, True), ("max_weights", 19, False)])
def test_limits_at_n_and_n_plus_1(limit, value, ok):
    limits = Limits(**{limit: value})
    if ok:
        build(NET, limits=limits)
    else:
        with pytest.raises(LimitError) as info:
            build(NET, limits=limits)
        assert limit in str(info.value)


def test_huge_declared_sizes_refused_before_allocation():
    text = NET.replace("size: 4", "size: 900000").replace("size: 2}", "size: 900000}")
    with pytest.raises(LimitError, match="max_weights"):
        build(text)  # 810 billion weights: refused from the declared sizes alone


def test_edge_table_and_file(tmp_path):
    table = NET + 'edge_table:\n  - ["x[0]", "y[1]", 0.5]\n  - ["hidden[3]", "hidden[0]", 0.25]\n'
    g = build(table.replace("  - {from: hidden, to: y}\n", '  - {from: "hidden[0:3]", to: y}\n'))
    assert {c.key for c in g.connections} >= {"edge_table/x->y", "edge_table/hidden->hidden"}
    (tmp_path / "edges.csv").write_text("from,to,weight\nx[0],y[1],0.5\nhidden[3],hidden[0],0.25\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(NET.replace("  - {from: hidden, to: y}\n", '  - {from: "hidden[0:3]", to: y}\n')
                    + "edge_file: edges.csv\n")
    assert {c.key for c in build(spec).connections} >= {"edge_file/x->y", "edge_file/hidden->hidden"}


def test_edge_table_unknown_neuron():
    d = one(NET + 'edge_table:\n  - ["x[0]", "yy[1]", 0.5]\n')
    assert d.code == "unknown_node" and d.path == "edge_table[0][1]" and "did you mean 'y'?" in d.message


# -- files a spec names -----------------------------------------------------------------------------


def _with_file(tmp_path, key, name):
    spec = tmp_path / "net" / "s.yaml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(NET + f"{key}: {name}\n")
    return spec


@pytest.mark.parametrize("name, word", [("/etc/passwd", "absolute"), ("../outside.npz", "leaves"),
                                        ("sub/../../x.npz", "leaves")])
def test_referenced_paths_stay_inside(tmp_path, name, word):
    d = one(_with_file(tmp_path, "parameters", name))
    assert d.code == "unsafe_path" and d.path == "parameters" and word in d.message


def test_symlink_out_refused(tmp_path):
    (tmp_path / "secret.npz").write_bytes(b"")
    spec = _with_file(tmp_path, "parameters", "link.npz")
    os.symlink(tmp_path / "secret.npz", spec.parent / "link.npz")
    d = one(spec)
    assert d.code == "unsafe_path" and "outside" in d.message


def test_non_regular_edge_file_refused(tmp_path):
    spec = _with_file(tmp_path, "edge_file", "sub")
    (spec.parent / "sub").mkdir()
    d = one(spec)
    assert d.path == "edge_file" and "not a regular file" in d.message


def test_unknown_keys_and_graph_errors_in_one_pass():
    found = diags(NET.replace("size: 3}", "size: 3, sise: 3}").replace("{from: hidden, to: y}", "{from: hiden, to: y}"))
    assert [(d.line, d.code) for d in found] == [(4, "unknown_key"), (9, "unknown_node")]


def test_output_neuron_without_connections_is_a_warning():
    g = build(NET.replace("{from: hidden, to: y}", '{from: hidden, to: "y[0]"}'))
    assert [(w.code, w.path) for w in g.warnings if w.code != "no_weights"] == [("unfed_output", "nodes[2]")]
    assert "y[1]" in g.warnings[0].message


def test_strong_components_match_networkx():
    import networkx as nx
    import numpy as np

    from nngraph.graph.order import strong_components

    rng = np.random.default_rng(0)
    for trial in range(40):
        n = int(rng.integers(1, 30))
        pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(int(rng.integers(0, 3 * n + 1)), 2))}
        succ = [[] for _ in range(n)]
        for a, b in sorted(pairs):
            succ[a].append(b)
        comps = strong_components(n, succ)
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(pairs)
        assert sorted(map(sorted, comps)) == sorted(sorted(c) for c in nx.strongly_connected_components(g))
        where = {v: i for i, c in enumerate(comps) for v in c}
        assert all(where[a] <= where[b] for a, b in pairs)  # sources first: a topological order
    # a long chain: no recursion limit
    comps = strong_components(100_000, [[i + 1] for i in range(99_999)] + [[]])
    assert comps[0] == [0] and comps[-1] == [99_999]


def test_weights_shape_message_counts_one_column_in_the_singular():
    d = one("nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 2}, {name: y, role: output}]\n"
            "edges: [{from: x, to: y, weights: [[1, 2, 3]]}]\n")
    assert d.path == "edges[0].weights" and d.message == ("weights must be a matrix of 2 rows (from x) by 1 column "
                                                          "(to y); found 1 x 3")
