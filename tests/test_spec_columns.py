"""Edges checked as columns (nngraph.spec.columns) and YAML edge lines read a line at a time
(nngraph.spec.source._row_blocks) against the reference paths they stand in for: pydantic
validating each edge and each connection, and every line through the YAML parser. Same spec,
same plan (weights, order, outputs), same errors with the same positions, paths and messages."""
import json
import pickle
import re

import numpy as np
import pytest
from edgenets import as_json, as_yaml, edge_spec
from hypothesis import given, settings
from hypothesis import strategies as st

import nngraph
from nngraph.compile import compile
from nngraph.errors import NNGraphError, SpecError
from nngraph.limits import default_limits
from nngraph.spec import columns, source
from nngraph.spec.columns import ConnectionTable, EdgeList
from nngraph.spec.models import Edge, Spec
from nngraph.spec.source import Source, _row_blocks, parse_yaml


def _outcome(spec):
    """What a user gets: every diagnostic, or the warnings and the compiled plan's parameters,
    stage layout and outputs."""
    try:
        graph = nngraph.build(spec)
    except NNGraphError as exc:
        return ("error", type(exc).__name__, list(getattr(exc, "diagnostics", [])),
                list(getattr(exc, "warnings", [])), str(exc))
    plan = compile(graph, dtype=np.float64, seed=1)
    params = plan.parameters()
    x = np.random.default_rng(0).normal(size=(3, plan.input_width))
    layout = [(b.src, None if b.rows is None else np.asarray(b.rows).tolist(), b.sparse)
              for st_ in plan.stages for b in st_.blocks]
    return ("ok", list(graph.warnings), {k: v.tolist() for k, v in sorted(params.items())}, layout,
            plan.forward(x).tolist())


def _both(spec, monkeypatch):
    fast = _outcome(spec)
    with monkeypatch.context() as m:
        m.setattr(columns, "FAST", False)
        slow = _outcome(spec)
    return fast, slow


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), faults=st.integers(0, 3))
def test_columns_give_the_plan_and_the_errors_of_the_reference_path(seed, faults, monkeypatch_session):
    spec = edge_spec(seed, faults)
    for given_as in (json.loads(json.dumps(spec)), as_yaml(spec, seed), as_json(spec)):
        fast, slow = _both(given_as, monkeypatch_session)
        assert fast == slow


@pytest.fixture(scope="module")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as m:
        yield m


def test_the_fast_paths_are_taken():
    """The oracle test above compares something: a bulk spec is held as columns and its YAML
    lines are read without the parser; with FAST off, neither happens."""
    seed = next(s for s in range(100) if all("pattern" not in e and "weights" not in e
                                             for e in edge_spec(s)["edges"]))
    spec = edge_spec(seed)
    loaded = nngraph.load(spec)
    assert isinstance(loaded.edges, EdgeList) and len(loaded.edges.columns()[0]) > 0
    assert _row_blocks(as_yaml(spec, seed)) is not None
    sparse = nngraph.load({"nngraph": 1, "name": "s", "nodes": [{"name": "x", "role": "input", "size": 2},
                                                               {"name": "y", "role": "output", "size": 2}],
                           "edges": [{"from": "x", "to": "y", "pattern": "sparse",
                                      "connections": [[0, 1, 0.5], [1, 0, 2]]}]})
    table = sparse.edges[0].connections
    assert isinstance(table, ConnectionTable) and table.rows.tolist() == [0, 1] and table.values.tolist() == [0.5, 2.0]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(columns, "FAST", False)
        assert not isinstance(nngraph.load(spec).edges, EdgeList)
        text = as_yaml(spec, seed)
        assert parse_yaml(Source(text, "s.yaml", "yaml"), default_limits()) == json.loads(json.dumps(spec))


def test_column_held_edges_read_as_the_models_they_stand_for():
    data = {"nngraph": 1, "name": "n", "nodes": [{"name": "x", "role": "input", "size": 3},
                                                {"name": "y", "role": "output", "size": 2}],
            "edges": [{"from": "x[0]", "to": "y[1]", "weight": 2}, {"weight": 0.5, "to": "y[0]", "from": "x[1]"},
                      {"from": "x", "to": "y", "pattern": "sparse", "connections": [[2, 0, 1.5], [2, 1, 3]]}]}
    spec = nngraph.load(data)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(columns, "FAST", False)
        reference = nngraph.load(data)
    assert list(spec.edges) == list(reference.edges)
    assert spec.edges[0] == Edge.model_validate(data["edges"][0]) and spec.edges[0].weight == 2.0
    assert spec.edges[-3].model_fields_set == reference.edges[0].model_fields_set
    assert spec.edges[2].connections == [(2, 0, 1.5), (2, 1, 3.0)] == reference.edges[2].connections
    assert spec.edges[2].connections[1] == (2, 1, 3.0) and list(spec.edges[2].connections)[0] == (2, 0, 1.5)
    assert spec.model_dump() == reference.model_dump()
    assert spec.model_dump(mode="json", by_alias=True) == reference.model_dump(mode="json", by_alias=True)
    assert spec == reference and nngraph.load(nngraph.dump(spec)) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    more = spec.model_copy(update={"edges": spec.edges + [Edge.model_validate({"from": "x[1]", "to": "y[1]", "weight": 1})]})
    assert len(more.edges) == 4 and more.edges[3].weight == 1.0
    with pytest.raises(IndexError):
        spec.edges[3]
    with pytest.raises(ValueError):  # frozen, as the rows of a loaded spec always were
        spec.edges[2].connections.rows[0] = 1
    assert Spec.model_validate(spec.model_dump(by_alias=True)) == spec


def _parsed(text, monkeypatch, fast):
    with monkeypatch.context() as m:
        m.setattr(columns, "FAST", fast)
        try:
            return ("ok", parse_yaml(Source(text, "s.yaml", "yaml"), default_limits()))
        except SpecError as exc:
            return ("error", exc.diagnostics)


HEAD = "nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 2}, {name: y, role: output}]\n"
TRICKY = [
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\n  # a comment\n\n  - {from: \"x[1]\", to: y, weight: -2.5e-3}\n",
    "edges:\n- {from: 'x[0]', to: y, weight: 1}\n- {to: y, from: 'x[1]', weight: .5}\nparameters: p.npz\n",
    "edges: # the list\n  - {from: 'x[0]', to: y, weight: 1}  # one\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 012}\n",  # ambiguous (octal in YAML 1.1): located
    "edges:\n  - {from: 'x[0]', to: y, weight: .nan}\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1e999}\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1, weight: 2}\n",  # a repeated key: located
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\n  - {from: x[1], to: y, weight: 2}\n",  # unquoted [: syntax
    "edges:\n  - {from: 'x[0]', to: y, weight: true}\n  - {from: null, to: ~, weight: 1}\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\nedges:\n  - {from: 'x[1]', to: y, weight: 1}\n",
    "description: \"text\nedges:\n  - {from: 'x[0]', to: y, weight: 1}\n\"\n",  # inside a quoted string
    "description: |\n  text\nedges:\n  - {from: 'x[0]', to: y, weight: 1}\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\n   - {from: 'x[1]', to: y, weight: 1}\n",  # indents differ
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\n  - &a {from: 'x[1]', to: y, weight: 1}\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: !!str 1}\n",
    "edge_table:\n  - ['x[0]', 'y', 0.5]\n  - [\"x[1]\", y, 7]\n",
    "edge_table:\n  - ['x[0]', 'y', 0.5, 1]\n  - [x, y]\n",
    "edge_table:\n  - ['x[0]', 'y', 0x1F]\n  - ['x[1]', 'y', +1.5]\n  - ['x[1]', 'y', -.5]\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\n  - {from: 'x[1]', to: y, weight: 2}\n---\nname: m\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1}\n  - from: 'x[1]'\n    to: y\n    weight: 2\n",
    # libyaml ends a line at these too: what follows one in a comment is an item, not comment
    "edges:\n  - {from: 'x[0]', to: y, weight: 1} # note\u2028  - {from: 'x[1]', to: y, weight: 5}\n",
    "edges: # the list\u2029  - {from: 'x[0]', to: y, weight: 1}\n  - {from: 'x[1]', to: y, weight: 5}\n",
    "edge_table: #\x85  - ['x[1]', y, 3]\n  - ['x[0]', y, 1]\n",
    "edge_table:\r  - ['x[1]', y, 3]\r  - ['x[0]', y, 1]\r",
    # a character YAML refuses, in a comment the line reader would blank out
    "edges:\n  - {from: 'x[0]', to: y, weight: 1} # \x00\n",
    "edge_table:\n  - ['x[0]', y, 1] # bell \x07\n",
    "edges:\n  - {from: 'x[0]', to: y, weight: 1} # \ud800\n",
]


@pytest.mark.parametrize("tail", TRICKY)
def test_yaml_edge_lines_read_as_the_parser_reads_them(tail, monkeypatch):
    text = HEAD + tail
    assert _parsed(text, monkeypatch, True) == _parsed(text, monkeypatch, False)


def test_what_yaml_refuses_is_located_where_it_stands(monkeypatch):
    for tail, at in [("edges:\n  - {from: 'x[0]', to: y, weight: 1} # \x00\n", (5, 40)),
                     ("edges:\n  - {from: 'x[0]', to: y\ud800, weight: 1}\n", (5, 25))]:
        for fast in (True, False):
            kind, (d,) = _parsed(HEAD + tail, monkeypatch, fast)
            assert kind == "error" and (d.line, d.column, d.code) == (*at, "yaml_syntax"), d


def test_thousands_of_problems_are_counted_not_each_composed():
    keys = ", ".join(f"k{i}: v" for i in range(5000))
    with pytest.raises(SpecError) as exc:
        nngraph.load(HEAD + "edges:\n  - {from: 'x[0]', to: y, weight: 1, " + keys + "}\n")
    shown = exc.value.diagnostics
    assert len(shown) == 101 and shown[0].message.startswith("unknown key 'k0'")
    assert shown[-1].code == "more" and "and 4,900 more problems" in shown[-1].message
    assert shown[-1].line == 5 and shown[-1].path == "edges[0].k100"


def test_an_error_deep_in_a_long_edge_list_keeps_its_place_and_suggestion():
    lines = [HEAD.rstrip("\n").replace("size: 2", "size: 2000"), "edges:"]
    lines += [f"  - {{from: 'x[{i}]', to: y, weight: 0.5}}" for i in range(2000)]
    lines[2 + 1234] = "  - {from: 'x[1234]', to: yy, weight: 0.5}"
    text = "\n".join(lines) + "\n"
    assert _row_blocks(text) is not None
    with pytest.raises(SpecError) as exc:
        nngraph.build(text)
    (d,) = exc.value.diagnostics  # HEAD is three lines, 'edges:' the fourth
    assert (d.line, d.column, d.path, d.code) == (5 + 1234, 27, "edges[1234].to", "unknown_node")
    assert "unknown node 'yy' (did you mean 'y'?)" in d.message


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_single_edges_and_table_rows_compute_what_the_same_sparse_edges_compute(seed):
    """Rows resolved in bulk (by distinct reference, grouped per node pair) against the same
    connections written as per-edge sparse lists, which take the other path through the graph."""
    spec = edge_spec(seed)
    listed = {}

    def split(ref):
        name, _, rest = ref.partition("[")
        return name, int(rest[:-1]) if rest else 0

    rows = [(e["from"], e["to"], e["weight"]) for e in spec["edges"] if "pattern" not in e and "weights" not in e
            and e.get("trainable", True)] + [tuple(r) for r in spec.get("edge_table", [])]
    kept = [e for e in spec["edges"] if "pattern" in e or "weights" in e or not e.get("trainable", True)]
    for f, t, w in rows:
        (a, i), (b, j) = split(f), split(t)
        listed.setdefault((a, b), []).append([i, j, float(w)])
    other = dict(spec, edges=kept + [{"from": a, "to": b, "pattern": "sparse", "connections": c}
                                     for (a, b), c in listed.items()])
    other.pop("edge_table", None)
    x = np.random.default_rng(seed % 1000).normal(size=(4, sum(n["size"] for n in spec["nodes"] if n.get("role") == "input")))
    ours = compile(nngraph.build(spec), dtype=np.float64, seed=1).forward(x)
    theirs = compile(nngraph.build(other), dtype=np.float64, seed=1).forward(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# YAML's printable characters without line breaks: what a comment may hold (YAML 1.2, c-printable)
PRINTABLE = re.compile("[\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def test_a_comment_holds_exactly_the_printable_characters():
    comment = re.compile(source._COMMENT + r"\Z")
    probe = list(range(0x10000)) + [0x10000, 0x1F600, 0xEFFFF, 0x10FFFF]
    wrong = [hex(c) for c in probe if bool(comment.match("#" + chr(c))) != bool(PRINTABLE.match(chr(c)))]
    assert not wrong


@pytest.mark.parametrize("char", ["\x08", "\t", "\x1f", " ", "~", "\x7f", "\x9f", "\xa0", "\u2027", "\u202a",
                                  "\ud7ff", "\ue000", "\ufffd", "\ufffe", "\U00010000", "\U0010ffff"])
def test_a_comment_at_each_edge_of_the_printable_ranges_reads_as_the_parser_reads_it(char, monkeypatch):
    text = HEAD + f"edges:\n  - {{from: 'x[0]', to: y, weight: 1}} # a{char}b\n"
    assert _parsed(text, monkeypatch, True) == _parsed(text, monkeypatch, False)
