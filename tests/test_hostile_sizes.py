"""Every number that sets a cost, written as an attacker or a careless user would write it, ends in
a located NNGraphError: the file, line and column, and the spec path where the value sits."""
import pytest

import nngraph
from nngraph.errors import LimitError, SpecError

from helpers import spec_text

BASE = spec_text("""
    nngraph: 1
    name: hostile
    nodes:
      - {name: x, role: input, size: 2}
      - {name: h, size: SIZE}
      - {name: y, role: output}
    edges:
      - {from: x, to: h, init: zeros}
      - {from: h, to: y, init: zeros}
      - EDGE
    train: {loss: mse, batch_size: BATCH, epochs: EPOCHS}
    """)
GOOD = {"SIZE": "3", "EDGE": "{from: x, to: y, init: zeros}", "BATCH": "4", "EPOCHS": "2"}
BAD_NUMBERS = ["1e400", "-1e400", "-1", "0", str(2**63), str(2**64), "1" + "0" * 500, '"5"', "true", "false",
               "null", "[2]", "[[2]]", "{a: 1}", "2.5", "5e0", ".nan", "-.inf", "0x7fffffffffffffffff"]

VALID = {"connections": {"0"}, "seed": {"0", "null"}}  # values that are fine where they stand
CASES = [(slot, v, path, line, v) for slot, path, line in (("SIZE", "nodes[1].size", 5),
                                                         ("BATCH", "train.batch_size", 11),
                                                         ("EPOCHS", "train.epochs", 11)) for v in BAD_NUMBERS] + \
    [("EDGE", "{from: x, to: y, pattern: sparse, connections: [[%s, 0, 1.0]]}" % v, "edges[2].connections[0][0]", 10, v)
     for v in BAD_NUMBERS if v not in VALID["connections"]] + \
    [("EDGE", "{from: x, to: y, pattern: random, density: %s, init: zeros}" % v, "edges[2].density", 10, v)
     for v in BAD_NUMBERS] + \
    [("EDGE", "{from: x, to: y, pattern: random, density: 0.5, seed: %s, init: zeros}" % v, "edges[2].seed", 10, v)
     for v in BAD_NUMBERS if v not in VALID["seed"]] + \
    [("EDGE", "{from: 'x[%s]', to: y, weight: 1}" % v, "edges[2].from", 10, v) for v in (str(2**63), "9" * 500, "-3")] + \
    [("EDGE", "{from: 'x[0:%s]', to: y, init: zeros}" % v, "edges[2].from", 10, v) for v in (str(2**70), "3")]
# written as a parse error (no value to sit at a path yet): located by line and column only
PARSE_ERRORS = {"1e400", "-1e400", "1" + "0" * 500, ".nan", "-.inf"}


@pytest.mark.parametrize("slot, value, path, line, number", CASES, ids=[f"{c[2]}={c[4][:24]}" for c in CASES])
def test_hostile_numbers_end_in_a_located_error(tmp_path, slot, value, path, line, number):
    text = BASE
    for key, good in GOOD.items():
        text = text.replace(key, value if key == slot else good)
    spec = tmp_path / "hostile.yaml"
    spec.write_text(text)
    with pytest.raises(SpecError) as info:
        nngraph.build(spec, limits=nngraph.Limits(max_node_size=1000))
    found = info.value.diagnostics
    assert found and all(d.file == str(spec) and d.line > 0 and d.column > 0 for d in found), found
    if number in PARSE_ERRORS:  # refused while reading, before it is a value at a path
        assert [(d.line, d.code) for d in found] in ([(line, "not_finite")], [(line, "number_too_long")]), found
    else:  # at its path, or (a missing value) at its mapping
        assert any((d.path == path or (d.path and path.startswith(d.path))) and d.line == line for d in found), found
    if slot == "SIZE" and number in (str(2**63), str(2**64), "0x7fffffffffffffffff"):
        assert isinstance(info.value, LimitError) and "NNGRAPH_MAX_NODE_SIZE" in str(info.value)
