"""Errors that say what is really wrong: the key that is wrong, the type that was found, the kind
of file, a suggestion whatever the case, a valid name in words; and dump output that loads back."""
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nngraph
from nngraph.spec import dump, suggest

from helpers import diagnostics_of, spec_text

NET = spec_text("""
    nngraph: 1
    name: n
    nodes:
      - {name: x, role: input}
      - {name: y, role: output}
    edges:
      - {from: x, to: y, weight: 1}
    """)


def messages(text):
    return [(d.line, d.column, d.path, d.message) for d in diagnostics_of(nngraph.load, text)]


def test_an_unknown_key_inside_a_bias_initializer_is_named_as_written():
    found = messages(NET.replace("role: output}", "role: output, bias: {a: 1}}"))
    assert (5, 36, "nodes[1].bias.a", "unknown key 'a'; valid keys: gain, high, low, mean, name, seed, std, "
            "value") in found
    assert not any("init" in f[2] or "'init'" in f[3] for f in found)


@pytest.mark.parametrize("value, found", [('"1"', "found string '1'; remove the quotes"), ("1.0", "found number 1.0"),
                                          ("true", "found boolean True"), ("2", None)])
def test_the_format_version_must_be_the_integer_1(value, found):
    [(line, col, path, message)] = messages(NET.replace("nngraph: 1", f"nngraph: {value}"))
    assert (line, col, path) == (1, 10, "nngraph")
    if found:
        assert message == f"must be the whole number 1, {found}"
    else:
        assert message == "2 is not one of 1"


def test_suggestions_ignore_case():
    assert suggest("Relu", ["elu", "relu"]) == " (did you mean 'relu'?)"
    assert suggest("HIDEN", ["hidden", "x"]) == " (did you mean 'hidden'?)"
    assert suggest("relu", ["relu"]) == ""
    [(_, _, path, message)] = messages(NET.replace("role: output}", "role: output, activation: Relu}"))
    assert path == "nodes[1].activation" and message.endswith("(did you mean 'relu'?)")
    [d] = diagnostics_of(nngraph.build, NET.replace("to: y,", "to: Y,"))
    assert (d.line, d.column, d.path) == (7, 19, "edges[0].to") and "(did you mean 'y'?)" in d.message


@pytest.mark.parametrize("where, path", [("name: n", "name"), ("{name: y,", "nodes[1].name")])
def test_a_name_with_a_space_is_explained_in_words(where, path):
    text = NET.replace("name: n\n", "name: my net\n") if path == "name" else NET.replace(where, "{name: 'y y',")
    [(_, _, found_path, message)] = messages(text)
    assert found_path == path and "no spaces" in message and "^" not in message and "[A-Za-z" not in message


def test_special_files_are_refused_by_kind_without_blocking(tmp_path):
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)  # no writer: opening it for reading would block
    [d] = diagnostics_of(nngraph.load, fifo)
    assert (d.file, d.message) == (str(fifo), "is a FIFO (named pipe), not a regular file; a spec is read from a "
                                                "regular .yaml or .json file")
    [d] = diagnostics_of(nngraph.load, "/dev/zero")
    assert d.message.startswith("is a device, not a regular file")
    [d] = diagnostics_of(nngraph.load, tmp_path / "missing.yaml")
    assert d.message == "no such file"
    [d] = diagnostics_of(nngraph.load, tmp_path)
    assert d.message == "is a folder, not a spec file"


TRICKY = ["1e3", "yes", "no", "012", "null", "~", "", "true", "False", "0x1F", "0o17", ".5", "1.", "-.inf", ".nan",
          "+1", "1_000", "#x", "a: b", "- x", "[x]", "{y}", " pad", "é", "'", '"', "\\", "\t", "*a", "&a", "!t", "%"]


def _round_trip(labels, description):
    spec = nngraph.load({"nngraph": 1, "name": "n", "description": description,
                         "nodes": [{"name": "x", "role": "input", "size": len(labels), "labels": labels},
                                   {"name": "y", "role": "output"}],
                         "edges": [{"from": "x", "to": "y", "init": "zeros"}]})
    for fmt in ("yaml", "json"):
        back = nngraph.load(dump(spec, fmt), format=fmt)
        assert back == spec and back.nodes[0].labels == labels and back.description == description


def test_dump_quotes_every_label_that_would_not_load_back_as_itself():
    _round_trip(TRICKY, "1e3")


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(_text, min_size=1, max_size=6, unique=True), _text)
def test_dump_then_load_keeps_any_label_strings(labels, description):
    _round_trip(labels, description)


def test_validation_reports_model_and_graph_errors_in_one_round_sorted_by_line():
    text = spec_text("""
        nngraph: 1
        name: four rounds
        nodes:
          - {name: x, role: input, size: 2}
          - {name: h, size: 3, activation: Relu}
          - {name: h, size: 2}
          - {name: y, role: output, bias: "zero"}
        edges:
          - {from: x, to: h, init: he_normall}
          - {from: h, to: yy}
          - {from: x, to: y, weights: [[1], [2]], trainable: "no"}
        train: {loss: mse, epochs: 0}
        """)
    found = [(d.line, d.path, d.code) for d in diagnostics_of(nngraph.build, text)]
    assert found == [(2, "name", "bad_name"), (5, "nodes[1].activation", "invalid_choice"),
                     (6, "nodes[2].name", "duplicate_name"), (7, "nodes[3].bias", "invalid_choice"),
                     (9, "edges[0].init", "invalid_choice"), (10, "edges[1].to", "unknown_node"),
                     (11, "edges[2].trainable", "wrong_type"), (12, "train.epochs", "greater_than_equal")]


def test_an_error_that_changes_the_graph_still_lets_independent_errors_through():
    text = NET.replace("{name: y, role: output}", "{name: y, role: output, size: 0}").replace("to: y,", "to: yy,")
    found = [(d.path, d.message) for d in diagnostics_of(nngraph.build, text)]
    assert found == [("nodes[1].size", "input should be greater than or equal to 1"),
                     ("edges[0].to", "unknown node 'yy' (did you mean 'y'?); nodes are: x, y")]
    # an edge into the node without a size is not judged: its shape would only echo that error
    assert [d.path for d in diagnostics_of(nngraph.build, text.replace("to: yy,", 'to: "y[3]",'))] == ["nodes[1].size"]
