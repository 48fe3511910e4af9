"""Validation in one round: every independent error of a spec in one report, each located, with
did-you-mean where a name is close; an error never drags in errors that only follow from it."""
import json

import pytest
from click.testing import CliRunner

import nngraph
from nngraph.cli import main

from helpers import diagnostics_of, spec_text

MANY = spec_text("""
    nngraph: 1
    name: many
    nodes:
      - {name: x, role: input, size: 2}
      - {name: h, size: 3, activation: relu}
      - {name: h, size: 2}
      - {name: z, size: -1}
      - {name: y, role: output}
    edges:
      - {from: x, to: hh, init: zeros}
      - {from: h, to: y, pattern: dnse}
      - {from: x, to: z, init: zeros}
      - {from: z, to: y, weight: 1}
      - {from: "h[5]", to: y, init: zeros}
      - {from: qq, to: y, pattern: sparse}
    """)

# (line, column, spec path, code, words of the message); nothing about edges[2] or edges[3], whose
# only fault is that z has no valid size, and no "unreachable output" from the edges left out
EXPECTED = [
    (6, 12, "nodes[2].name", "duplicate_name", "node name 'h' is already used by nodes[1]"),
    (7, 21, "nodes[3].size", "greater_than_equal", "greater than or equal to 1"),
    (10, 19, "edges[0].to", "unknown_node", "unknown node 'hh' (did you mean 'h'?)"),
    (11, 31, "edges[1].pattern", "invalid_choice", "'dnse' is not one of dense, one_to_one, sparse, random "
     "(did you mean 'dense'?)"),
    (14, 12, "edges[4].from", "out_of_range", "neuron index 5 is out of range for 'h'"),
    (15, 5, "edges[5]", "invalid_value", "pattern sparse needs 'connections'"),
    (15, 12, "edges[5].from", "unknown_node", "unknown node 'qq'"),
]


def _check(found):
    got = [(d.line, d.column, d.path, d.code) for d in found]
    assert got == [e[:4] for e in EXPECTED], got
    for d, e in zip(found, EXPECTED):
        assert e[4] in d.message, (d.message, e[4])


def test_every_independent_error_in_one_round_through_the_python_api():
    _check(diagnostics_of(nngraph.build, MANY))
    with pytest.raises(nngraph.SpecError) as info:
        nngraph.compile(MANY)
    assert [d.path for d in info.value.diagnostics] == [e[2] for e in EXPECTED]


def test_every_independent_error_in_one_round_through_the_cli(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(MANY)
    run = CliRunner().invoke(main, ["validate", str(path)])
    assert run.exit_code == 1, run.output
    lines = run.stderr.strip().splitlines()
    assert [ln.split(": ")[0] for ln in lines] == [f"{path}:{e[0]}:{e[1]}" for e in EXPECTED], lines
    assert "edges[0].to: unknown node 'hh' (did you mean 'h'?)" in lines[2]
    run = CliRunner().invoke(main, ["validate", "--json", str(path)])
    found = json.loads(run.stdout)
    assert [d["path"] for d in found if d["severity"] == "error"] == [e[2] for e in EXPECTED]


@pytest.mark.parametrize("node, ref, expected", [
    # a node whose name is invalid: a reference close to it is not reported as unknown (it may be
    # meant), a reference to something else still is
    ("{name: hid den}", "hidden", ["nodes[1].name"]),
    ("{name: hid den}", "other", ["nodes[1].name", "edges[0].to"]),
    # a node whose size is invalid: edges into it are not checked for shapes or ranges
    ("{name: hidden, size: 0}", "'hidden[4]'", ["nodes[1].size"]),
    ("{name: hidden, size: [3]}", "hidden", ["nodes[1].size"]),
    # a node that is not a mapping at all: no reference can be judged unknown
    ("hidden", "hidden", ["nodes[1]"]),
    # a role that is not valid: "no input/output node" would only echo it
    ("{name: hidden, role: inptu}", "hidden", ["nodes[1].role"]),
])
def test_no_cascade_from_a_node_that_failed_on_its_own(node, ref, expected):
    text = spec_text(f"""
        nngraph: 1
        name: n
        nodes:
          - {{name: x, role: input}}
          - {node}
          - {{name: y, role: output}}
        edges:
          - {{from: x, to: {ref}, init: zeros}}
          - {{from: x, to: y, weight: 1}}
          - {{from: x, to: yy, weight: 1}}
        """)
    found = [d.path for d in diagnostics_of(nngraph.build, text)]
    assert found == sorted(expected + ["edges[2].to"], key=lambda p: (p.startswith("edges"), p)), found


def test_many_bad_single_weight_edges_are_all_reported():
    """Single-neuron edges are resolved together: one unknown name must not hide the others."""
    text = spec_text("""
        nngraph: 1
        name: n
        nodes:
          - {name: x, role: input, size: 2}
          - {name: y, role: output, size: 2}
        edges:
          - {from: "x[0]", to: "y[0]", weight: 1}
          - {from: "x[1]", to: "yy[1]", weight: 1}
          - {from: "xx[1]", to: "y[1]", weight: 1}
          - {from: "x[0]", to: "y[7]", weight: 1}
          - {from: "x[1]", to: "y[0]", weight: 1}
          - {from: "x[1]", to: "y[0]", weight: 2}
        """)
    found = [(d.path, d.code) for d in diagnostics_of(nngraph.build, text)]
    assert found == [("edges[1].to", "unknown_node"), ("edges[2].from", "unknown_node"),
                     ("edges[3].to", "out_of_range"), ("edges[5]", "duplicate_connection")], found


def test_every_bad_reference_in_an_edge_file_is_named_and_the_other_rows_still_checked(tmp_path):
    (tmp_path / "n.yaml").write_text(spec_text("""
        nngraph: 1
        name: n
        nodes:
          - {name: x, role: input, size: 2}
          - {name: y, role: output, size: 1, activation: linear, bias: 0}
        edges: []
        edge_file: e.csv
        """))
    (tmp_path / "e.csv").write_text("from,to,weight\nx[0],y[0],1\nx[9],y[0],2\nx[a],y[0],3\nx[1,y[0],1\n"
                                    "x[1]],y[0],1\nx[99999999999999999999999],y[0],1\nzz[0],y[0],1\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "n.yaml")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    expected = ["e.csv:3: neuron index 9 is out of range for 'x' (size 2: valid 0 to 1)",
                "e.csv:4: 'x[a]' is not a single-neuron reference (write name[i])",
                "e.csv:5: 'x[1' is not a single-neuron reference (write name[i])",  # never read as x[1]
                "e.csv:6: 'x[1]]' is not a single-neuron reference (write name[i])",
                "e.csv:7: 'x[99999999999999999999999]': a neuron index beyond any node's size",
                "e.csv:8: unknown node 'zz'; nodes are: x, y"]
    for want in expected:
        assert sum(line.endswith("edge_file: " + want) for line in lines) == 1, (want, result.output)
    assert "np.str_" not in result.output and len(lines) == len(expected)
