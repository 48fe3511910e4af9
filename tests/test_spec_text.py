"""Text in a spec must be text: a lone surrogate (JSON can spell one, "\\ud800") is refused at load,
located, in every string field, as it is in names."""
import json
import re
import typing

import pytest
from pydantic import BaseModel

import nngraph
from nngraph.spec import models
from nngraph.spec import with_overrides

BASE = {"nngraph": 1, "name": "n",
        "nodes": [{"name": "x", "role": "input", "size": 2}, {"name": "out", "role": "output"}],
        "edges": [{"from": "x", "to": "out", "weights": [[1], [1]]}]}
BAD = "a\ud800b"  # json.dumps writes it as the escape "a\ud800b", as a hand-written file would
MESSAGE = ("holds a lone surrogate (\\ud800, character 2), which is not a character: no file or terminal "
           "can hold it; write the character itself (JSON escapes beyond U+FFFF come in pairs, "
           "\\ud83d\\ude00) or remove it")

# every string field of the spec language, with a spec that puts BAD there
CASES = {
    "$schema": {"$schema": BAD},
    "name": {"name": BAD},
    "description": {"description": BAD},
    "edge_file": {"edge_file": BAD},
    "parameters": {"parameters": BAD},
    "nodes[1].name": {"nodes": [BASE["nodes"][0], {**BASE["nodes"][1], "name": BAD}]},
    "nodes[1].labels[0]": {"nodes": [BASE["nodes"][0], {**BASE["nodes"][1], "labels": [BAD]}]},
    "nodes[1].description": {"nodes": [BASE["nodes"][0], {**BASE["nodes"][1], "description": BAD}]},
    "edges[0].from": {"edges": [{**BASE["edges"][0], "from": BAD}]},
    "edges[0].to": {"edges": [{**BASE["edges"][0], "to": BAD}]},
    "edges[0].description": {"edges": [{**BASE["edges"][0], "description": BAD}]},
    "edge_table[0][0]": {"edge_table": [[BAD, "out[0]", 1.0]]},
    "data.path": {"data": {"source": "csv", "path": BAD, "target": "t"}},
    "data.directory": {"data": {"source": "mnist", "directory": BAD}},
    "data.target": {"data": {"source": "csv", "path": "d.csv", "target": BAD}},
    "data.columns[1]": {"data": {"source": "inline", "columns": ["a", BAD], "rows": [[1, 2]], "target": "a"}},
    "train.checkpoint.directory": {"train": {"loss": "mse", "checkpoint": {"directory": BAD}}},
}


def _string_fields(model, prefix, seen):
    """Spec paths (with [] for list items) of every field that holds a string."""
    if model in seen:
        return set()
    seen = seen | {model}
    out = set()
    for name, field in model.model_fields.items():
        key = field.alias or name
        stack = [(field.annotation, f"{prefix}{key}")]
        while stack:
            tp, path = stack.pop()
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if tp is str:
                out.add(path)
            elif isinstance(tp, type) and issubclass(tp, BaseModel):
                out |= _string_fields(tp, path + ".", seen)
            elif origin in (list, tuple):
                stack += [(a, path + "[]") for a in args if a is not Ellipsis]
            elif args:  # Annotated, Optional, Union, Literal (its args are values, not types)
                stack += [(a, path) for a in args if isinstance(a, type) or typing.get_origin(a)]
    return out


def test_the_cases_cover_every_string_field():
    fields = _string_fields(models.Spec, "", frozenset())
    assert {re.sub(r"\[[0-9]+\]", "[]", p) for p in CASES} == fields


@pytest.mark.parametrize("path", sorted(CASES))
def test_a_lone_surrogate_is_refused_where_it_is_written(tmp_path, path):
    text = json.dumps({**BASE, **CASES[path]}, indent=1)
    (tmp_path / "s.json").write_text(text)
    assert "\\ud800" in text
    offset = text.index('"a\\ud800b"')
    line = text.count("\n", 0, offset) + 1
    col = offset - text.rfind("\n", 0, offset)
    with pytest.raises(nngraph.SpecError) as info:
        nngraph.load(tmp_path / "s.json")
    shown = [d.format() for d in info.value.diagnostics]
    assert f"{tmp_path / 's.json'}:{line}:{col}: {path}: 'a\\ud800b' {MESSAGE}" in shown, shown


def test_every_lone_surrogate_is_reported_in_one_round(tmp_path):
    nodes = [{**BASE["nodes"][0], "labels": ["p", "q\udfff"]}, {**BASE["nodes"][1], "description": BAD}]
    (tmp_path / "s.json").write_text(json.dumps({**BASE, "description": "\ud83d", "nodes": nodes}, indent=1))
    code_paths = {}
    with pytest.raises(nngraph.SpecError) as info:
        nngraph.load(tmp_path / "s.json")
    for d in info.value.diagnostics:
        code_paths[d.path] = d.code
    assert code_paths == {"description": "lone_surrogate", "nodes[0].labels[1]": "lone_surrogate",
                          "nodes[1].description": "lone_surrogate"}
    assert "(\\udfff, character 2)" in str(info.value) and "(\\ud83d, character 1)" in str(info.value)


def test_a_pair_of_escapes_is_one_character_and_loads(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({**BASE, "description": "\U0001f600 ok"}))  # "\ud83d\ude00 ok"
    assert nngraph.load(tmp_path / "s.json").description == "\U0001f600 ok"


def test_python_dicts_set_and_edits_are_refused_alike(tmp_path):
    with pytest.raises(nngraph.SpecError, match=r"<dict>: nodes\[1\]\.labels\[0\]: 'a\\ud800b' holds a lone"):
        nngraph.load({**BASE, **CASES["nodes[1].labels[0]"]})
    spec = nngraph.load(BASE)
    with pytest.raises(nngraph.SpecError, match=r"--set description=a\\ud800b: description: 'a\\ud800b' holds a lone surrogate"):
        with_overrides(spec, [f"description={BAD}"])
    with pytest.raises(nngraph.SpecError, match=r"description: 'a\\ud800b' holds a lone surrogate"):
        spec.model_copy(update={"description": BAD})
