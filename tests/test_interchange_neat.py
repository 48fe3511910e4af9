"""neat-python genomes in and out, checked against neat-python's own FeedForwardNetwork."""
import copy
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nngraph.compile import compile
from nngraph.interchange import NeatImportError, from_neat, save, to_neat
from nngraph.reference import evaluate

from neatnets import neat_config, network_and_json, random_genome

neat = pytest.importorskip("neat")


def _neat_outputs(net, x):
    return np.array([net.activate(list(map(float, row))) for row in x])


def _close(ours, theirs):
    # same values, NaN and infinities where neat-python has them (inv, log, exp can make them)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, equal_nan=True)


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return neat_config(tmp_path_factory.mktemp("neat"))


@pytest.mark.parametrize("seed", range(40))
def test_random_genomes_compute_what_neat_python_computes(config, seed):
    genome = random_genome(config, seed, mutations=seed % 15)
    net, text = network_and_json(config, genome)
    spec = from_neat(text)
    plan = compile(spec, dtype=np.float64)
    x = np.random.default_rng(seed).normal(0, 1.5, (16, 4))
    expected = _neat_outputs(net, x)
    _close(plan.forward(x), expected)
    _close(evaluate(plan.graph, plan.parameters(), x[:4]), expected[:4])  # and the per-neuron oracle


def test_every_activation_and_both_aggregations_are_exercised(config):
    seen_act, seen_agg = set(), set()
    for seed in range(40):
        data = json.loads(network_and_json(config, random_genome(config, seed, seed % 15))[1])
        seen_act |= {n["activation"]["name"] for n in data["nodes"] if n["type"] != "input"}
        seen_agg |= {n["aggregation"]["name"] for n in data["nodes"] if n["type"] != "input"}
    assert seen_agg == {"sum", "mean"}
    assert len(seen_act) == 18, sorted(seen_act)


def test_larger_genome_with_disabled_connections(tmp_path):
    config = neat_config(tmp_path, inputs=8, outputs=2, hidden=10, initial="full_direct")
    genome = random_genome(config, 3, 40)
    assert any(not c.enabled for c in genome.connections.values())  # disabled genes are left out by neat
    net, text = network_and_json(config, genome)
    x = np.random.default_rng(0).normal(size=(32, 8))
    _close(compile(from_neat(text), dtype=np.float64).forward(x), _neat_outputs(net, x))


def _handmade():
    def node(i, kind, act="identity", agg="sum", bias=0.0, response=1.0):
        return {"id": i, "type": kind, "activation": {"name": act, "custom": False},
                "aggregation": {"name": agg, "custom": False}, "bias": bias, "response": response}

    return {
        "format_version": "1.0", "network_type": "feedforward", "metadata": {"fitness": 1.5},
        "topology": {"num_inputs": 3, "num_outputs": 2, "input_keys": [-1, -2, -3], "output_keys": [0, 1]},
        "nodes": [node(-1, "input"), node(-2, "input"), node(-3, "input"),  # -3 is used by nothing
                  node(5, "hidden", "tanh", "mean", 0.3, 0.7), node(6, "hidden", "sigmoid", bias=-0.2),
                  node(9, "hidden", "exp", bias=0.1),  # feeds no output
                  node(0, "output", "lelu", response=2.0), node(1, "output", "gauss", bias=0.4)],
        "connections": [
            {"from": -1, "to": 5, "weight": 0.5, "enabled": True},
            {"from": -2, "to": 5, "weight": -1.25, "enabled": True},
            {"from": -1, "to": 6, "weight": 2.0, "enabled": False},  # disabled: no connection
            {"from": 5, "to": 6, "weight": 1.5, "enabled": True},
            {"from": 6, "to": 0, "weight": 0.75, "enabled": True},
            {"from": 5, "to": 0, "weight": -0.5, "enabled": True},
            {"from": 5, "to": 9, "weight": 1.0, "enabled": True},
        ]}


def _by_hand(x):
    def sigmoid(z):
        return 1 / (1 + np.exp(-np.clip(5 * z, -60, 60)))
    h5 = np.tanh(np.clip(2.5 * (0.3 + 0.7 * (0.5 * x[:, 0] - 1.25 * x[:, 1]) / 2), -60, 60))
    h6 = sigmoid(-0.2 + 1.5 * h5)
    z0 = 2.0 * (0.75 * h6 - 0.5 * h5)
    out0 = np.where(z0 > 0, z0, 0.005 * z0)
    out1 = np.full(len(x), np.exp(-5 * 0.4 ** 2))  # an output nothing reaches: activation(bias)
    return np.stack([out0, out1], axis=1)


def test_disabled_connections_dead_nodes_unused_inputs_and_a_constant_output():
    spec = from_neat(_handmade())
    x = np.random.default_rng(1).normal(size=(9, 3))
    _close(compile(spec, dtype=np.float64).forward(x), _by_hand(x))
    assert "depends on no input" in spec.description


def test_labels_keep_neat_keys_and_groups_follow_activations():
    spec = from_neat(_handmade())
    nodes = {n.name: n for n in spec.nodes}
    assert nodes["inputs"].labels == ["-1", "-2", "-3"]
    assert [n.role for n in spec.nodes].count("output") == 2  # lelu and gauss outputs: two runs
    assert sorted(lab for n in spec.nodes if n.role == "hidden" for lab in n.labels) == ["5", "6", "9"]


@pytest.mark.parametrize("seed", range(8))
def test_spec_to_neat_json_to_spec_keeps_every_weight_bit_for_bit(config, seed):
    spec = from_neat(network_and_json(config, random_genome(config, seed, 10))[1])
    back = from_neat(json.dumps(to_neat(spec)))
    a, b = compile(spec, dtype=np.float64), compile(back, dtype=np.float64)
    assert _triples(a) == _triples(b)
    x = np.random.default_rng(seed).normal(size=(8, 4))
    np.testing.assert_allclose(a.forward(x), b.forward(x), rtol=1e-12)  # sums may run in another order


def _triples(plan):
    """{(neat key of source, neat key of target): weight} and biases by neat key, exactly."""
    graph, params = plan.graph, plan.parameters()
    label = {n.offset + i: n.spec.labels[i] for n in graph.nodes for i in range(n.size)}
    out = {}
    for c in graph.connections:
        s0, d0 = graph.nodes[c.src].offset + c.src_lo, graph.nodes[c.dst].offset + c.dst_lo
        for r, q, w in zip(c.rows, c.cols, params[c.key]):
            out[(label[s0 + r], label[d0 + q])] = float(w).hex()
    for n in graph.nodes:
        if n.role != "input":
            for i, b in enumerate(params[f"nodes/{n.name}/bias"]):
                out[label[n.offset + i]] = float(b).hex()
    return out


def test_exported_json_runs_in_neat_python(tmp_path):
    """neat-python evaluates what to_neat writes (its own activations, node order as written)."""
    from neat.activations import ActivationFunctionSet
    from neat.aggregations import AggregationFunctionSet
    from neat.nn import FeedForwardNetwork

    spec_text = """
nngraph: 1
name: small
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 3, activation: neat_sigmoid, bias: [0.1, -0.2, 0.3]}
  - {name: k, size: 2, activation: selu, bias: [0.5, 0.0]}
  - {name: y, role: output, size: 2, activation: cube, bias: 0.25}
edges:
  - {from: x, to: h, weights: [[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]]}
  - {from: h, to: k, weights: [[1.0, 0.5], [-0.5, 1.0], [2.0, -1.0]]}
  - {from: k, to: y, weights: [[0.3, -0.6], [0.9, 0.1]]}
  - {from: "x[0]", to: "y[1]", weight: -0.7}
"""
    plan = compile(spec_text, dtype=np.float64)
    data = to_neat(plan)
    acts, aggs = ActivationFunctionSet(), AggregationFunctionSet()
    links = {}
    for c in data["connections"]:
        links.setdefault(c["to"], []).append((c["from"], c["weight"]))
    evals = [(n["id"], acts.get(n["activation"]["name"]), aggs.get(n["aggregation"]["name"]), n["bias"],
              n["response"], links.get(n["id"], [])) for n in data["nodes"] if n["type"] != "input"]
    net = FeedForwardNetwork(data["topology"]["input_keys"], data["topology"]["output_keys"], evals)
    x = np.random.default_rng(2).normal(size=(10, 2))
    _close(plan.forward(x), _neat_outputs(net, x))


def test_to_neat_refuses_what_neat_python_cannot_compute():
    spec = "nngraph: 1\nname: s\nnodes: [{name: x, role: input}, {name: y, role: output, activation: sigmoid}]\n" \
           "edges: [{from: x, to: y, weight: 1}]\n"
    with pytest.raises(Exception, match=r"node 'y': neat-python has no activation that computes sigmoid exactly"):
        to_neat(spec)


def test_many_weights_go_to_a_parameters_file(config, tmp_path):
    import nngraph

    cfg = neat_config(tmp_path, inputs=30, outputs=5, hidden=40, initial="full_direct")
    genome = random_genome(cfg, 0, 2)
    net, text = network_and_json(cfg, genome)
    written = save(from_neat(text), tmp_path / "big.yaml")
    assert [p.split("/")[-1] for p in written] == ["big.params.npz", "big.yaml"]
    plan = compile(tmp_path / "big.yaml", dtype=np.float64)
    assert plan.params_origin.startswith("parameters from")
    x = np.random.default_rng(0).normal(size=(5, 30))
    _close(plan.forward(x), _neat_outputs(net, x))
    assert nngraph.load(tmp_path / "big.yaml").parameters == "big.params.npz"
    # past edge_file_above listed connections, they go to an edge file: the spec stays short
    written = save(from_neat(text), tmp_path / "e.yaml", edge_file_above=100)
    assert [p.split("/")[-1] for p in written] == ["e.edges.npz", "e.params.npz", "e.yaml"]
    text_of_spec = (tmp_path / "e.yaml").read_text()
    assert "edge_file: e.edges.npz" in text_of_spec and "connections" not in text_of_spec
    _close(compile(tmp_path / "e.yaml", dtype=np.float64).forward(x), _neat_outputs(net, x))


# -- hostile files --------------------------------------------------------------------------


def _refused(data, tmp_path, match):
    path = tmp_path / "genome.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    with pytest.raises(NeatImportError, match=match):
        from_neat(path)


def _edit(fn):
    data = _handmade()
    fn(data)
    return data


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["nodes"][3].update(colour="red"), r"genome\.json: nodes\[3\]\.colour: unknown key"),
    (lambda d: d.update(extras=1), r"genome\.json: extras: unknown key"),
    (lambda d: d["connections"][1].update(weight=float("nan")), r"genome\.json: connections\[1\]\.weight: nan is not"),
    (lambda d: d["nodes"][4].update(bias=float("inf")), r"genome\.json: nodes\[4\]\.bias: inf is not"),
    (lambda d: d["nodes"][4].update(id=5), r"genome\.json: nodes\[4\]\.id: id 5 is already used by nodes\[3\]"),
    (lambda d: d["connections"][4].update(to=7), r"genome\.json: connections\[4\]\.to: node 7 is not declared"),
    (lambda d: d["connections"].append({"from": 6, "to": 5, "weight": 1.0, "enabled": True}),
     r"genome\.json: connections\[(3|7)\]: the connections form a cycle \((5 -> 6 -> 5|6 -> 5 -> 6)\)"),
    (lambda d: d["connections"].append({"from": 5, "to": 6, "weight": 1.0, "enabled": True}),
     r"connections\[7\]: connection 5 -> 6 is already given at connections\[3\]"),
    (lambda d: d.update(network_type="recurrent"), r"network_type: 'recurrent' networks keep state"),
    (lambda d: d["nodes"][3]["aggregation"].update(name="product"),
     r"nodes\[3\]\.aggregation\.name: node 5 aggregates with 'product': a product of the inputs is not a weighted sum"),
    (lambda d: d["nodes"][4]["activation"].update(name="sigmoidd"),
     r"nodes\[4\]\.activation\.name: 'sigmoidd' is not a neat-python activation \(did you mean 'sigmoid'\?\)"),
    (lambda d: d["nodes"][4]["activation"].update(custom=True), r"nodes\[4\]\.activation\.name: 'sigmoid' is a custom"),
    (lambda d: d["nodes"][4].update(bias="0.5"), r"nodes\[4\]\.bias: "),
    (lambda d: d["connections"][0].update(to=-2), r"connections\[0\]\.to: node -2 is an input"),
    (lambda d: d["topology"].update(num_inputs=2), r"topology\.input_keys: 3 keys, but num_inputs is 2"),
])
def test_hostile_genomes_are_refused_with_their_json_path(tmp_path, edit, match):
    _refused(_edit(edit), tmp_path, match)


def test_hostile_texts(tmp_path):
    _refused('{"a": 1, "a": 2}', tmp_path, r"genome\.json: duplicate key 'a'")
    text = json.dumps(_handmade()).replace('"weight": 0.75,', '"weight": 0.75, "weight": 9.0,')
    _refused(text, tmp_path, r"genome\.json: duplicate key 'weight'")
    escaped = json.dumps(_handmade()).replace('"fitness": 1.5', '"note": "a\\u003ab", "fitness": 1.5, "fitness": 2')
    _refused(escaped, tmp_path, r"genome\.json: duplicate key 'fitness'")  # an escaped colon hides nothing
    bad = _handmade()
    bad["connections"][2] = {"from": -1, "to": 6, "weight": 2.0}
    _refused(bad, tmp_path, r"genome\.json: connections\[2\]\.enabled: Field required")
    bad["connections"][2] = {"from": -1, "to": 6, "weight": 2.0, "enabled": True, "innovation": 4}
    _refused(bad, tmp_path, r"connections\[2\]\.innovation: unknown key \(valid keys: from, to, weight, enabled\)")
    bad["connections"][2] = {"from": -1, "to": 6, "weight": True, "enabled": True}
    _refused(bad, tmp_path, r"connections\[2\]\.weight: Input should be a valid number")
    _refused("{" * 100_000, tmp_path, r"genome\.json(:1:\d+: not valid JSON| JSON nested too deeply)")
    _refused("[1, 2]", tmp_path, r"genome\.json: expected a JSON object")
    _refused('{"format_version": "1.0"', tmp_path, r"genome\.json:1:\d+: not valid JSON")


def test_size_limit_is_checked_before_parsing(tmp_path):
    from nngraph import Limits

    path = tmp_path / "genome.json"
    path.write_text(json.dumps(_handmade()))
    size = path.stat().st_size
    from_neat(path, limits=Limits(max_document_bytes=size))
    with pytest.raises(NeatImportError, match=f"genome.json: {size:,} bytes, over the limit of {size - 1:,}"):
        from_neat(path, limits=Limits(max_document_bytes=size - 1))


def _overflowing():
    # neat-python computes response * sum(w_i * x_i); folding response into the weight 6 -> 0 overflows
    data = _handmade()
    data["nodes"][6]["response"] = 1e308  # output 0
    data["connections"][4]["weight"] = 1e10  # (6, 0)
    data["connections"][5]["weight"] = -1e10  # (5, 0), also -inf once folded
    return data


OVERFLOW = (r"connections\[4\]: connection \(6, 0\): weight 10000000000\.0 × node 0's response 1e\+308 is inf in "
            r"float64 \(1 more connection too\); nngraph folds each node's response into its incoming weights, and "
            r"a weight must be a finite number$")


def test_a_weight_that_folding_the_response_overflows_names_the_genome_connection(tmp_path):
    import warnings

    path = tmp_path / "genome.json"
    path.write_text(json.dumps(_overflowing()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning would fail the test
        with pytest.raises(NeatImportError, match=r"^" + re.escape(str(path)) + ": " + OVERFLOW):
            from_neat(path)
        with pytest.raises(NeatImportError, match=r"^<dict>: " + OVERFLOW):
            from_neat(_overflowing())
        mean = _overflowing()  # mean aggregation folds response / fan-in: named too
        mean["nodes"][6]["aggregation"]["name"] = "mean"
        mean["connections"][4]["weight"] = 1e300
        mean["connections"][5]["weight"] = 0.5
        with pytest.raises(NeatImportError, match=r"^<dict>: connections\[4\]: connection \(6, 0\): weight 1e\+300 × "
                           r"node 0's response 1e\+308 / fan-in \(mean aggregation\) is inf in float64;"):
            from_neat(mean)
        fine = _overflowing()  # the largest products that fit are kept
        fine["connections"][4]["weight"] = fine["connections"][5]["weight"] = 1.5
        folded = [float(v) for e in from_neat(fine).edges if e.connections is not None for v in e.connections.values]
        assert folded.count(1.5e308) == 2


def test_overflowing_import_on_the_command_line_is_one_located_error(tmp_path):
    import subprocess
    import sys

    (tmp_path / "genome.json").write_text(json.dumps(_overflowing()))
    proc = subprocess.run([sys.executable, "-m", "nngraph.cli", "import", "genome.json", "-o", "net.yaml"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert re.fullmatch(r"error: genome\.json: " + OVERFLOW + "\n", proc.stderr), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genome.json"]


def test_refused_import_on_the_command_line_writes_nothing(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    bad = _edit(lambda d: d["connections"][4].update(to=7))
    (tmp_path / "g.json").write_text(json.dumps(bad))
    result = CliRunner().invoke(main, ["import", str(tmp_path / "g.json"), "-o", str(tmp_path / "net.yaml")])
    assert result.exit_code == 1 and "connections[4].to: node 7 is not declared" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json"]
    good = copy.deepcopy(_handmade())
    (tmp_path / "g.json").write_text(json.dumps(good))
    result = CliRunner().invoke(main, ["import", str(tmp_path / "g.json"), "-o", str(tmp_path / "net.yaml")])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["run", str(tmp_path / "net.yaml"), "--input", "-1=0.5", "--input", "-2=1",
                                       "--input", "-3=0", "--json"])
    assert result.exit_code == 0, result.output


def test_imported_genome_is_drawn_with_its_activations(tmp_path):
    import shutil

    from click.testing import CliRunner

    from nngraph.cli import main

    if shutil.which("neato") is None:
        pytest.skip("graphviz is not installed")
    save(from_neat(_handmade()), tmp_path / "net.yaml")
    result = CliRunner().invoke(main, ["draw", str(tmp_path / "net.yaml"), "-o", str(tmp_path / "net.svg")])
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "net.svg").read_text()
    assert "neat_tanh" in svg and "neat_sigmoid" in svg and "neat_gauss" in svg


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    yield path


@settings(max_examples=300, deadline=None)
@given(where=st.integers(0, 10_000), value=_values, junk=_values)
def test_any_json_gives_a_spec_or_a_located_refusal(where, value, junk):
    """The exception contract: a genome with any one value replaced, or any JSON at all, gives a
    spec or a NeatImportError naming the source."""
    data = _handmade()
    paths = list(_leaves(data))
    path = paths[where % len(paths)]
    if path:
        target = data
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value
    try:
        from_neat(json.dumps(data))
    except NeatImportError as exc:
        assert str(exc).startswith("<text>: ")
    try:
        from_neat({"doc": junk} if not isinstance(junk, dict) else junk)
    except NeatImportError as exc:
        assert str(exc).startswith("<dict>: ")


def test_cli_round_trip_through_neat_json_keeps_keys_and_weights(tmp_path, config):
    from click.testing import CliRunner

    from nngraph.cli import main

    (tmp_path / "g.json").write_text(network_and_json(config, random_genome(config, 5, 12))[1])
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(tmp_path / "g.json"), "-o", str(tmp_path / "a.yaml")]).exit_code == 0
    result = runner.invoke(main, ["export", str(tmp_path / "a.yaml"), "-o", str(tmp_path / "b.json"),
                                  "--format", "neat-json"])
    assert result.exit_code == 0, result.output
    first, second = json.loads((tmp_path / "g.json").read_text()), json.loads((tmp_path / "b.json").read_text())
    assert second["topology"] == first["topology"]
    assert {n["id"] for n in second["nodes"]} == {n["id"] for n in first["nodes"]}
    a = compile(tmp_path / "a.yaml", dtype=np.float64)
    b = compile(from_neat(tmp_path / "b.json"), dtype=np.float64)
    assert _triples(a) == _triples(b)


@pytest.mark.parametrize("where, message", [
    (lambda d: d["nodes"][0].update(id=2**63), r"nodes\[0\]\.id: Input should be less than or equal to"),
    (lambda d: d["topology"]["input_keys"].__setitem__(0, -2**70), r"topology\.input_keys\[0\]: Input should be "
                                                                   r"greater than or equal to"),
])
def test_node_ids_beyond_64_bits_are_located_not_an_overflow(where, message):
    from helpers import ROOT

    d = json.loads((ROOT / "examples" / "neat" / "moons_genome.json").read_text())
    where(d)
    with pytest.raises(NeatImportError, match=message):
        from_neat(d)
