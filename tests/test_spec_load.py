"""Loading: syntax, strict types, unknown keys, located messages, and the spec language itself."""
import json
import time

import pytest

import nngraph
from nngraph import LimitError, SpecError
from nngraph.limits import Limits

from helpers import EX, EXAMPLES, SPECS, diagnostics_of, only_diagnostic, spec_text

BASE = """\
nngraph: 1
name: t
nodes:
  - {name: x, role: input, size: 2}
  - {name: y, role: output, activation: sigmoid}
edges:
  - {from: x, to: y}
"""


def errors(text, **kw):
    return diagnostics_of(nngraph.load, text, **kw)


def one(text, **kw):
    return only_diagnostic(nngraph.load, text, **kw)


@pytest.mark.parametrize("path", EXAMPLES + SPECS, ids=lambda p: p.name)
def test_every_example_loads(path):
    spec = nngraph.load(EX[path.name])
    assert spec.nngraph == 1 and spec.nodes


def test_design_examples_load_exactly_as_written():
    perceptron = nngraph.load(spec_text("""
        nngraph: 1                    # format version: required, so the format can evolve
        name: exam-perceptron
        description: Above or below the class average, from hours of sleep and study.
        nodes:
          - {name: sleep, role: input}
          - {name: study, role: input}
          - {name: verdict, role: output, activation: sign, bias: -24}
        edges:
          - {from: sleep, to: verdict, weight: 3}
          - {from: study, to: verdict, weight: 4}
        """))
    assert perceptron.nodes[2].bias == -24.0 and perceptron.edges[1].weight == 4.0
    mlp = nngraph.load(spec_text("""
        nngraph: 1
        name: mnist-mlp
        nodes:
          - {name: pixels, role: input, size: 784}
          - {name: hidden1, size: 256, activation: relu}
          - {name: hidden2, size: 256, activation: relu}
          - {name: digit, role: output, size: 10, activation: softmax, labels: ["0","1","2","3","4","5","6","7","8","9"]}
        edges:
          - {from: pixels, to: hidden1, init: he_normal}
          - {from: hidden1, to: hidden2, init: he_normal}
          - {from: hidden2, to: digit, init: he_normal}
        parameters: mnist_mlp.params.npz   # learned weights, written by training, next to the spec
        data: {source: mnist}
        train: {loss: cross_entropy, optimizer: {name: adam, learning_rate: 0.001}, batch_size: 128, epochs: 10, seed: 0}
        """))
    assert mlp.train.optimizer.name == "adam" and mlp.edges[0].init.name == "he_normal"


def test_spec_is_frozen():
    spec = nngraph.load(BASE)
    with pytest.raises(Exception):
        spec.name = "other"


def test_unknown_key_names_location_and_suggests():
    d = one(BASE.replace("{from: x, to: y}", "{from: x, to: y, wieght: 2}"))
    assert (d.line, d.column, d.path, d.code) == (7, 22, "edges[0].wieght", "unknown_key")
    assert "did you mean 'weight'?" in d.message and "valid keys:" in d.message


def test_unknown_activation_suggests():
    d = one(BASE.replace("sigmoid", "sigmiod"))
    assert d.path == "nodes[1].activation" and d.line == 5
    assert "did you mean 'sigmoid'?" in d.message and "relu" in d.message


def test_every_independent_error_reported_sorted_by_line():
    text = BASE.replace("size: 2}", "size: 2, colour: red}").replace("sigmoid", "sigmoidd") \
               .replace("{from: x, to: y}", "{from: x, to: y, weight: \"5\"}")
    found = errors(text)
    assert [d.line for d in found] == [4, 5, 7]
    assert [d.path for d in found] == ["nodes[0].colour", "nodes[1].activation", "edges[0].weight"]


@pytest.mark.parametrize("value, found", [('"5"', "string"), ("5.5", "number"), ("true", "boolean")])
def test_strict_size(value, found):
    d = one(BASE.replace("size: 2}", f"size: {value}}}"))
    assert d.path == "nodes[0].size" and "expected a whole number" in d.message and found in d.message


def test_yaml_11_surprises_are_not_made():
    d = one(BASE.replace("sigmoid", "no"))  # YAML 1.1 would read `no` as false
    assert d.path == "nodes[1].activation" and "'no' is not one of" in d.message
    spec = nngraph.load(BASE.replace("{from: x, to: y}", "{from: x, to: y, init: {name: constant, value: 1e3}}"))
    assert spec.edges[0].init.value == 1000.0  # a number, never the string '1e3'
    d = one(BASE.replace("size: 2", "size: 012"))
    assert d.code == "ambiguous_number" and (d.line, d.column) == (4, 34)


@pytest.mark.parametrize("literal", [".nan", ".inf", "-.Inf", ".NaN"])
def test_yaml_non_finite_refused(literal):
    d = one(BASE.replace("{from: x, to: y}", f"{{from: x, to: y, init: {{name: constant, value: {literal}}}}}"))
    assert d.code == "not_finite" and d.line == 7


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1E+400", "2" + "0" * 400 + ".5"])
def test_json_non_finite_refused(literal):
    text = '{"nngraph": 1, "name": "t", "nodes": [{"name": "x", "role": "input"}, {"name": "y", ' \
           f'"role": "output", "bias": {literal}}}]}}'
    d = one(text)
    assert d.code == "not_finite" and d.line == 1 and d.column == text.index(literal.lstrip("-")) + 1 - literal.startswith("-")


def test_yaml_duplicate_keys_name_both_lines():
    d = one(BASE + "name: again\n")
    assert d.code == "duplicate_key" and d.line == 8 and "first at line 2" in d.message


def test_json_duplicate_keys():
    d = one('{"nngraph": 1,\n "name": "a",\n "name": "b", "nodes": []}')
    assert d.code == "duplicate_key" and (d.line, d.column) == (3, 2)


def test_python_tag_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    text = BASE + f"description: !!python/object/apply:os.system ['touch {marker}']\n"
    d = one(text)
    assert d.code == "tag" and d.line == 8 and "never name code" in d.message
    assert not marker.exists()


def test_alias_bomb_refused_fast():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    start = time.perf_counter()
    found = errors(bomb)
    assert time.perf_counter() - start < 0.5
    assert {d.code for d in found} <= {"anchor", "alias"} and found[0].line == 1


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_deep_nesting_is_a_clean_error(fmt):
    text = "[" * 5000 + "]" * 5000
    if fmt == "yaml":
        text = "a: " + text
    with pytest.raises(LimitError) as info:
        nngraph.load(text if fmt == "json" else text + "\n", format=fmt)
    assert info.value.diagnostics[0].code == "too_deep"


def test_document_size_limit_at_n_and_n_plus_1(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    n = len(BASE.encode())
    assert nngraph.load(path, limits=Limits(max_document_bytes=n)).name == "t"
    with pytest.raises(SpecError) as info:
        nngraph.load(path, limits=Limits(max_document_bytes=n - 1))
    assert info.value.diagnostics[0].code == "document_too_large" and "max_document_bytes" in str(info.value)


def test_yaml_syntax_error_located_with_quoting_hint():
    d = one(BASE.replace("{from: x, to: y}", "{from: x[0], to: y}"))
    assert d.code == "yaml_syntax" and d.line == 7 and 'must be quoted: "h1[3]"' in d.message


def test_json_syntax_error_located():
    d = one('{"nngraph": 1,\n  "name": "t",\n  "nodes": [,]}')
    assert (d.code, d.line, d.column) == ("json_syntax", 3, 13)


@pytest.mark.parametrize("text, code", [("", "not_mapping"), ("[1, 2]\n", "not_mapping"),
                                        ("a: 1\n---\nb: 2\n", "many_documents")])
def test_document_shape(text, code):
    assert errors(text)[0].code == code


def test_missing_required_keys():
    found = errors("nngraph: 1\n")
    assert {d.message for d in found} == {"required key 'name' is missing", "required key 'nodes' is missing"}


def test_format_version_required_and_checked():
    d = one(BASE.replace("nngraph: 1", "nngraph: 2"))
    assert d.path == "nngraph" and "1" in d.message


def test_bad_reference_syntax():
    d = one(BASE.replace("{from: x, to: y}", '{from: "x[", to: y}'))
    assert d.code == "bad_reference" and "name[i:j]" in d.message


def test_edge_field_combinations():
    d = one(BASE.replace("{from: x, to: y}", "{from: x, to: y, pattern: sparse}"))
    assert "pattern sparse needs 'connections'" in d.message and d.path == "edges[0]"
    d = one(BASE.replace("{from: x, to: y}", "{from: x, to: y, weight: 1, init: zeros}"))
    assert "either weight or init" in d.message


def test_sparse_connection_rows():
    d = errors(BASE.replace("{from: x, to: y}", "{from: x, to: y, pattern: sparse, connections: [[0, 0, 1], [1]]}"))[0]
    assert d.path == "edges[0].connections[1]" and "[i, j, w]" in d.message


def test_missing_file_is_a_spec_error(tmp_path):
    d = one(tmp_path / "nope.yaml")
    assert d.code == "no_file"


@pytest.mark.parametrize("path", EXAMPLES + SPECS, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_round_trip_is_lossless(path, fmt):
    spec = nngraph.load(EX[path.name])
    again = nngraph.load(nngraph.dump(spec, fmt), format=fmt)
    assert again == spec
    assert nngraph.dump(again, fmt) == nngraph.dump(spec, fmt)


def test_schema_describes_every_field():
    schema = nngraph.spec.json_schema()
    json.dumps(schema)
    assert schema["properties"]["nngraph"]["description"]
    for name, model in schema["$defs"].items():
        for field, info in model.get("properties", {}).items():
            assert info.get("description"), f"{name}.{field} has no description"


def test_early_stopping_needs_a_validation_split():
    d = one(BASE + "train: {loss: mse, validation_split: 0, early_stopping: {patience: 2}}\n")
    assert d.path == "train" and "set validation_split above 0" in d.message


@pytest.mark.parametrize("literal, value", [("1e308", 1e308), ("1E-320", 1e-320), ("12.5e3", 12500.0),
                                            ("-0.0", -0.0), ("9" * 300, float("9" * 300))])
def test_json_large_and_small_finite_numbers_load(literal, value):
    text = '{"nngraph": 1, "name": "t", "nodes": [{"name": "x", "role": "input"}, {"name": "y", ' \
           f'"role": "output", "bias": {literal}}}]}}'
    assert nngraph.load(text).nodes[1].bias == value


def test_json_integer_too_long_is_located():
    text = '{"nngraph": 1, "name": "t", "nodes": [{"name": "x", "role": "input", "size": ' + "7" * 5000 + '}]}'
    d = one(text)
    assert d.code == "number_too_long" and (d.line, d.column) == (1, text.index("7777") + 1)
