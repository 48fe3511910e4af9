"""A spec given as a Python dict has no lines: every error about it is located by spec path alone
(``<dict>: edges[3].to: ...``), never by a line and column of some generated text."""
import copy
import re

import numpy as np
import pytest

import nngraph
from nngraph.limits import Limits

BASE = {"nngraph": 1, "name": "n",
        "nodes": [{"name": "x", "role": "input", "size": 2}, {"name": "y", "role": "output"}],
        "edges": [{"from": "x", "to": "y", "weights": [[1], [2]]}]}


def lines_of(error) -> list[str]:
    text = str(error)
    assert not re.search(r"<dict>:[0-9]", text) and "(line " not in text, text
    return text.splitlines()


def changed(edit):
    spec = copy.deepcopy(BASE)
    edit(spec)
    return spec


def test_model_and_graph_errors_are_located_by_path_in_spec_order():
    def edit(s):
        s["nodes"][1]["activation"] = "Relu"
        s["nodes"][0]["size"] = 11
        s["edges"] = [{"from": f"x[{i}]", "to": "y", "weight": 1} for i in range(10)]
        s["edges"][2]["to"] = "yy"
        s["edges"].append({"from": "x[10]", "to": "hiden", "bogus": 1})
    with pytest.raises(nngraph.SpecError) as info:
        nngraph.compile(changed(edit))
    assert lines_of(info.value) == [
        "<dict>: edges[2].to: unknown node 'yy' (did you mean 'y'?); nodes are: x, y",
        "<dict>: edges[10].bogus: unknown key 'bogus'; valid keys: connections, density, description, from, init, "
        "l1, l2, pattern, seed, to, trainable, weight, weights",
        "<dict>: edges[10].to: unknown node 'hiden'; nodes are: x, y",
        "<dict>: nodes[1].activation: 'Relu' is not one of linear, step, sign, sigmoid, tanh, relu, leaky_relu, elu, "
        "softplus, softmax, selu, clamped, abs, square, cube, hat, neat_sigmoid, neat_tanh, neat_sin, neat_gauss, "
        "neat_softplus, neat_exp, neat_log, neat_inv (did you mean 'relu'?)"]
    assert all(d.line == 0 and d.column == 0 and d.file == "<dict>" for d in info.value.diagnostics)


def test_limit_errors_are_located_by_path():
    with pytest.raises(nngraph.LimitError) as info:
        nngraph.build(changed(lambda s: s["nodes"][0].update(size=11)), limits=Limits(max_node_size=10))
    assert lines_of(info.value)[-1].startswith("<dict>: nodes[0].size: size 11 is over the limit of 10 neurons per node")


def test_a_batch_limit_in_training_is_located_by_path():
    spec = changed(lambda s: s.update(edges=[{"from": "x", "to": "y"}], data={"source": "xor"},
                                      train={"loss": "mse", "epochs": 1, "batch_size": 1000}))
    plan = nngraph.compile(nngraph.build(spec, limits=Limits(max_batch_bytes=100)))
    with pytest.raises(nngraph.LimitError) as info:
        plan.fit(np.zeros((100, 2)), np.zeros((100, 1)))
    assert lines_of(info.value)[0].startswith("<dict>: train.batch_size: a batch of ")


def test_a_cycle_is_located_by_path_without_line_numbers():
    def edit(s):
        s["nodes"].append({"name": "h"})
        s["edges"] += [{"from": "y", "to": "h", "weight": 1}, {"from": "h", "to": "y", "weight": 1}]
    with pytest.raises(nngraph.CycleError) as info:
        nngraph.compile(changed(edit))
    assert lines_of(info.value) == [
        "<dict>: edges[1]: the neurons form a cycle, so the network is not feed-forward: y -> h -> y; through "
        "edges[1], edges[2]; remove or redirect one of these connections"]


def test_the_same_spec_as_text_keeps_its_lines(tmp_path):
    import json

    (tmp_path / "s.json").write_text(json.dumps(changed(lambda s: s["edges"][0].update(to="yy")), indent=1))
    with pytest.raises(nngraph.SpecError, match=r"s\.json:18:10: edges\[0\]\.to: unknown node 'yy'"):
        nngraph.compile(tmp_path / "s.json")
