"""The Python API refuses what it cannot use with an NNGraphError that says what it takes, never a
TypeError or AttributeError from deep inside; and nothing is half done when it refuses."""
import numpy as np
import pytest

import nngraph
from nngraph import Limits, NNGraphError
from nngraph.compile import compile

S = ("nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 2, labels: [red, green]}, {name: y, role: output}]\n"
     "edges: [{from: x, to: y, weights: [[1], [2]]}]\n")
KEY = "edges/x->y"
S2 = ("nngraph: 1\nname: two\nnodes: [{name: a, role: input, size: 2}, {name: b, role: input}, "
      "{name: y, role: output}]\nedges: [{from: a, to: y, weights: [[1], [1]]}, {from: b, to: y, weight: 1}]\n")


@pytest.fixture
def plan():
    return compile(S)


CALLS = [
    (lambda p: nngraph.load(S, limits=5), "limits must be a nngraph.Limits (e.g. Limits(max_weights=10**9)), not int"),
    (lambda p: nngraph.build(S, limits="x"), "limits must be a nngraph.Limits"),
    (lambda p: Limits(max_weights="x"), "Limits(max_weights='x'): a limit is a whole number of at least 0 "
     "(the default is 200,000,000)"),
    (lambda p: Limits(max_neurons=-1), "Limits(max_neurons=-1): a limit is a whole number"),
    (lambda p: Limits(max_weights=1.5), "Limits(max_weights=1.5): a limit is a whole number"),
    (lambda p: Limits(max_weights=None), "Limits(max_weights=None): a limit is a whole number"),
    (lambda p: Limits(max_node_size=True), "Limits(max_node_size=True): a limit is a whole number"),
    (lambda p: nngraph.compile(S, params=5), "parameters are a dict of name -> array (as plan.parameters() gives); "
     "found int"),
    (lambda p: compile(S, params={KEY: "ab"}), "'edges/x->y' is not an array of numbers (could not convert string "
     "to float: 'ab')"),
    (lambda p: compile(S, params={KEY: [[1], [2, 3]]}), "'edges/x->y' is not an array of numbers (setting an array "
     "element with a sequence"),
    (lambda p: compile(S, params={KEY: [[np.nan], [1]]}), "'edges/x->y' contains NaN or infinite values"),
    (lambda p: compile(S, params={"edges/x->yy": [[1], [2]]}), "'edges/x->yy' is not a parameter of this network "
     "(did you mean 'edges/x->y'?)"),
    (lambda p: compile(S, seed="x"), "seed must be a whole number from 0 to 2**63 - 1, or None (train.seed), not 'x'"),
    (lambda p: compile(S, seed=-1), "seed must be a whole number"),
    (lambda p: compile(S, sparse_below="x"), "sparse_below is a density"),
    (lambda p: compile(S, dtype="banana"), "dtype must be float32 or float64, not 'banana'"),
    (lambda p: p.set_parameters([1, 2]), "parameters are a dict of name -> array"),
    (lambda p: p.save(5), "plan.save takes the path of an .npz file to write; found int"),
    (lambda p: p.load(None), "plan.load takes the path of an .npz parameters file; found NoneType"),
    (lambda p: setattr(p, "threads", "2"), "plan.threads must be a whole number from 1 to 64, not '2'"),
    (lambda p: setattr(p, "threads", 0), "plan.threads must be a whole number from 1 to 64, not 0"),
    (lambda p: p.forward({"rde": [1], "green": [2]}), "'rde' is not an input node or label (did you mean 'red'?); "
     "inputs are x, or their labels red, green"),
    (lambda p: p.forward({"xx": [[1, 2]]}), "'xx' is not an input node or label (did you mean 'x'?)"),
    (lambda p: p.forward({1: [1, 2]}), "'1' is not an input node or label"),
    (lambda p: p.forward({"red": [1, 2], "green": [3]}), "the labels of input 'x' give different numbers of "
     "samples ('red' 2, 'green' 1); every label needs one value per sample"),
    (lambda p: p.forward({"red": np.ones((2, 1, 1)), "green": [1, 2]}), "input label 'red' has shape (2, 1, 1); "
     "a label is one value per sample"),
    (lambda p: p.forward({"red": "a", "green": 1}), "input label 'red': expected numbers"),
    (lambda p: compile(S2).forward({"a": np.ones((1, 2)), "b": np.ones((2, 1))}),
     "input 'b' has 2 samples but 'a' has 1; every input needs one row per sample"),
    (lambda p: compile(S2).forward({"a": np.ones((2, 2, 1)), "b": np.ones((2, 1))}),
     "input 'a' has shape (2, 2, 1); give (batch, 2) values"),
    (lambda p: p.forward([[1, 2, 3]]), "expected an array of shape (batch, 2) (x 2); found shape (1, 3)"),
    (lambda p: p.forward(np.zeros((2, 2, 2))), "expected an array of shape (batch, 2) (x 2); found shape (2, 2, 2)"),
    (lambda p: p.forward(np.zeros((1, 2), complex)), "expected numbers, found values of type complex128"),
    (lambda p: p.forward({1, 2}), "expected numbers"),
    (lambda p: nngraph.dump(5), "dump writes a Spec (from nngraph.load); found int"),
    (lambda p: nngraph.dump(nngraph.load(S), format="xml"), "unknown format 'xml'; use yaml or json"),
]


@pytest.mark.parametrize("call, message", CALLS, ids=range(len(CALLS)))
def test_refused_with_what_it_takes(plan, call, message):
    before = plan.parameters()
    with pytest.raises(NNGraphError) as info:
        call(plan)
    assert message in str(info.value)
    assert all(np.array_equal(v, plan.parameters()[k]) for k, v in before.items())  # nothing half written
    assert plan.threads == 1


def test_a_bad_parameter_among_good_ones_writes_none_of_them(plan):
    with pytest.raises(NNGraphError, match="nodes/y/bias"):
        plan.set_parameters({KEY: [[5], [6]], "nodes/y/bias": [np.inf]})
    assert plan.parameters()[KEY].tolist() == [[1.0], [2.0]]


def test_compile_is_callable_from_the_package_and_threads_are_kept():
    plan = nngraph.compile(S)
    plan.threads = 2
    assert plan.threads == 2 and plan.forward([[1, 1]]).tolist() == [[3.0]]
    import pickle
    assert pickle.loads(pickle.dumps(plan)).threads == 2
