"""The exception contract: any bytes, any YAML/JSON tree give a Spec (or Graph) or an NNGraphError."""
import json

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

import nngraph
from nngraph import NNGraphError

KEYS = ["nngraph", "name", "nodes", "edges", "from", "to", "size", "role", "activation", "bias", "weights",
        "weight", "pattern", "connections", "init", "labels", "train", "data", "source", "parameters",
        "edge_table", "density", "name", "x", "y", "input", "output", "relu", "softmax", "h[0]", "h[0:2]"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=True),
                    st.sampled_from(KEYS), st.text(max_size=8))
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                      st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)),
                     max_leaves=40)
node = st.fixed_dictionaries({"name": st.sampled_from(["x", "h", "y"]),
                              "role": st.sampled_from(["input", "hidden", "output"])},
                             optional={"size": st.integers(-1, 5), "activation": st.sampled_from(["relu", "softmax", "no"]),
                                       "bias": st.one_of(st.floats(-2, 2), st.lists(st.floats(-2, 2), max_size=4))})
edge = st.fixed_dictionaries({"from": st.sampled_from(["x", "h", "y", "h[0]", "h[1:3]", "y[-1]", "q"]),
                              "to": st.sampled_from(["x", "h", "y", "h[2]", "h[0:1]", "y[0]"])},
                             optional={"weight": st.floats(-2, 2), "pattern": st.sampled_from(["dense", "one_to_one"])})
near_specs = st.fixed_dictionaries({"nngraph": st.just(1), "name": st.just("f"),
                                    "nodes": st.lists(node, min_size=1, max_size=4),
                                    "edges": st.lists(edge, max_size=5)})


def _check(text, fmt=None):
    try:
        spec = nngraph.load(text, format=fmt)
        nngraph.build(spec)
    except NNGraphError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes(data):
    text = data.decode("utf-8", errors="replace") + "\n"
    _check(text, "yaml")
    _check(text, "json")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_random_trees_as_yaml_and_json(tree):
    _check(yaml.safe_dump(tree) + "\n", "yaml")
    _check(json.dumps(tree), "json")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_specs)
def test_nearly_valid_specs(spec):
    _check(yaml.safe_dump(spec, default_flow_style=None) + "\n", "yaml")
    _check(json.dumps(spec), "json")
