"""Editing a spec in Python is validated as a spec file is: model_copy(update=...) gets the loader's
messages and did-you-mean, located at the key of the update; a whole spec gets the graph's checks
(references, sizes) at once; assigning to a frozen spec says how to edit; fit's keywords are
located at the keyword or in the spec's file, never in generated text."""
import numpy as np
import pytest

import nngraph
from nngraph import NNGraphError, SpecError
from nngraph.compile import compile

from helpers import EXAMPLES, spec_text

EX = {p.name: p for p in EXAMPLES}
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


def test_an_unknown_key_gets_the_loaders_message_and_did_you_mean():
    spec = nngraph.load(EX["xor_train.yaml"])
    with pytest.raises(SpecError) as from_file:
        nngraph.load(EX["xor_train.yaml"].read_text() + "trian: {}\n")
    with pytest.raises(SpecError) as edited:
        spec.model_copy(update={"trian": {}})
    said = from_file.value.diagnostics[0].message
    assert "(did you mean 'train'?)" in said
    assert str(edited.value) == f"model_copy(update={{'trian': ...}}): trian: {said}"


def test_a_part_of_a_spec_gets_the_keys_of_its_own_kind():
    spec = nngraph.load(EX["xor_train.yaml"])
    with pytest.raises(SpecError, match=r"^model_copy\(update=\{'epochz': \.\.\.\}\): epochz: unknown key 'epochz' "
                                        r"\(did you mean 'epochs'\?\); valid keys: batch_size, "):
        spec.train.model_copy(update={"epochz": 3})
    with pytest.raises(SpecError, match=r"optimizer.name: 'adamm' is not one of sgd, .* \(did you mean 'adam'\?\)"):
        spec.train.model_copy(update={"optimizer": {"name": "adamm"}})


def test_a_whole_spec_gets_the_graphs_checks_located_in_its_file():
    spec = nngraph.load(EX["xor_train.yaml"])
    cut = spec.model_copy(update={"nodes": spec.nodes[:1]})  # the models' checks pass; the graph's come at build
    with pytest.raises(SpecError) as info:
        nngraph.build(cut)
    text = str(info.value)
    assert "xor_train.yaml:10:19: edges[0].to: unknown node 'hidden'; nodes are: x (with model_copy(update=" \
           "{'nodes': ...}))" in text
    assert "model_copy(update={'nodes': ...}): nodes: no node has role: output" in text
    with pytest.raises(SpecError, match=r"^model_copy\(update=\{'edges': \.\.\.\}\): edges\[0\]\.to: unknown node 'zz'"):
        nngraph.build(spec.model_copy(update={"edges": [spec.edges[0].model_copy(update={"to": "zz"}), spec.edges[1]]}))


def test_a_spec_built_in_code_is_located_at_the_edit():
    spec = nngraph.load({"nngraph": 1, "name": "n", "nodes": [{"name": "x", "role": "input"},
                                                              {"name": "y", "role": "output"}],
                         "edges": [{"from": "x", "to": "y", "weight": 1.0}]})
    with pytest.raises(SpecError, match=r"model_copy\(update=\{'edges': \.\.\.\}\): edges\[0\]\.from: unknown node 'w'"):
        nngraph.build(spec.model_copy(update={"edges": [{"from": "w", "to": "y", "weight": 1.0}]}))


def test_valid_edits_still_work_and_keep_the_folder():
    spec = nngraph.load(EX["xor_train.yaml"])
    wider = [spec.nodes[0], spec.nodes[1].model_copy(update={"size": 8}), spec.nodes[2]]
    edited = spec.model_copy(update={"nodes": wider, "train": {"loss": "binary_cross_entropy", "epochs": 2}})
    assert edited.nodes[1].size == 8 and edited.train.epochs == 2 and edited.base_dir == spec.base_dir
    assert compile(edited, use_file=False).forward(X).shape == (4, 1)


@pytest.mark.parametrize("target, name, value, hint", [
    ("train", "epochs", 5, "spec.model_copy(update={'train': spec.train.model_copy(update={'epochs': 5})}), or "
                           "nngraph.spec.with_overrides(spec, ['train.epochs=5'])"),
    ("spec", "name", "x", "spec.model_copy(update={'name': 'x'}), or nngraph.spec.with_overrides(spec, ['name=x'])"),
])
def test_assigning_to_a_frozen_spec_says_how_to_edit(target, name, value, hint):
    spec = nngraph.load(EX["xor_train.yaml"])
    obj = spec if target == "spec" else getattr(spec, target)
    with pytest.raises(NNGraphError) as info:
        setattr(obj, name, value)
    assert str(info.value).endswith(hint) and "is frozen" in str(info.value) and "pydantic" not in str(info.value)
    with pytest.raises(NNGraphError, match="is frozen"):
        delattr(obj, name)
    edited = nngraph.spec.with_overrides(spec, [f"{'' if target == 'spec' else target + '.'}{name}={value}"])
    assert getattr(edited if target == "spec" else getattr(edited, target), name) == value
    assert getattr(obj, name) != value  # the original never changed


def test_fit_keywords_are_located_at_the_keyword_or_in_the_file():
    plan = compile(nngraph.load(EX["xor.yaml"]))
    with pytest.raises(SpecError) as info:
        plan.fit(X, Y, loss="binary_cross_entropy")
    text = str(info.value)
    assert "<string>" not in text
    assert "xor.yaml:9:43: nodes[2].activation: loss binary_cross_entropy needs sigmoid outputs; out is step " \
           "(with fit(loss=...))" in text
