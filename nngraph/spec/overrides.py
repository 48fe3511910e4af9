"""``--set KEY=VALUE``: spec values given on the command line, and errors located at the option.

A mistake in an override is the option's, not the spec file's: it is reported as
``--set KEY=VALUE: spec.path: message``, whether it is found while the override is applied
(an unknown key, a value of the wrong type) or later, by the graph's or training's checks on the
spec it produced (an edge pointing at a node that does not exist). See :func:`with_overrides` and
:func:`located_at_options`.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import (DataError, Diagnostic, FileAccessError, NNGraphError, ParameterFileError, SpecError, TrainingError,
                      _position)
from ..limits import as_limits
from .models import Spec
from .source import Source, _plain_scalar, format_path, parse

MAX_SET_CHARS = 10_000  # a --set value longer than this belongs in the spec file
SHOWN_VALUE = 40  # characters of a value shown where an error names its option
MAX_KEY_PARTS = 64  # no spec path is this deep (values take at most 64 levels of nesting too)
SHOWN_KEY = 120  # characters of a key shown where an error names its option


def _index(part: str) -> bool:
    """Whether a key part is a list index: ASCII digits only (``str.isdigit`` is also true for
    '²', which int() refuses, and for '١', which it reads as 1: a guess the spec reader never makes)."""
    return part.isascii() and part.isdigit()


def _kind(value) -> str:
    return {str: "a string", list: "a list", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)


def option_label(text: str, option: str = "--set") -> str:
    """``--set train.epochs=3`` as the place an error is reported at (a long value shortened)."""
    key, sep, raw = text.partition("=")
    raw = raw.strip()
    if len(key) > SHOWN_KEY:
        key = key[:SHOWN_KEY - 3] + "..."
    if len(raw) > SHOWN_VALUE:
        raw = raw[:SHOWN_VALUE - 3] + "..."
    return f"{option} {key}{sep}{raw}"


@dataclass
class OverriddenSource(Source):
    """The source of a spec with ``--set`` overrides: located like the file it came from, and
    remembering which spec paths the options replaced (``(path, label)``, the last one wins)."""

    overrides: tuple = ()
    base: object = None  # the file's own Source

    def diag(self, path, message, code, *, key=False, severity="error", position=None) -> Diagnostic:
        """A finding about a value an option set is the option's (a parameters file it named that
        cannot be written), not the file's line the option replaced."""
        label = _option_for(format_path(path), self.overrides)
        if label is not None:
            return Diagnostic(label, 0, 0, format_path(path), code, message, severity)
        return super().diag(path, message, code, key=key, severity=severity, position=position)


def _parse(path: str) -> tuple:
    """``edges[3].to`` -> ``("edges", 3, "to")`` (the inverse of :func:`format_path`)."""
    return tuple(int(i) if i else name for i, name in re.findall(r"\[([0-9]+)\]|([^.\[\]]+)", path))


def _key_path(key: str) -> tuple:
    return tuple(int(p) if _index(p) else p for p in key.split("."))


def _set_value(label: str, key: str, raw: str):
    """A --set value: a YAML scalar, or (starting with ``{``, ``[``, a quote, or a tag or anchor
    mark, which are refused) a YAML flow mapping, list or quoted string, read by the spec's own
    strict reader (no tags, anchors or duplicate keys, finite numbers, bounded depth)."""
    if raw[:1] not in ("{", "[", "'", '"', "!", "&", "*"):
        errors = []
        value = _plain_scalar(raw, (0, 0), None, errors)
        if errors:
            raise SpecError([Diagnostic(label, 0, 0, key, errors[0][1], errors[0][2])])
        return value
    if len(raw) > MAX_SET_CHARS:
        raise SpecError([Diagnostic(label, 0, 0, key, "too_long", f"a value of {len(raw):,} characters; --set "
                                    f"takes values of at most {MAX_SET_CHARS:,} (write longer ones in the spec)")])
    try:
        return parse(Source(raw, label, "yaml"), as_limits(None))
    except SpecError as exc:  # positions inside one argument: the key says where
        raise SpecError([Diagnostic(label, 0, 0, key, d.code, d.message) for d in exc.diagnostics]) from None


def _not_here(label, key, node, part, above) -> SpecError:
    """An override path that does not exist: say what is there instead (indices, names)."""
    where = ".".join(above) or "the spec"
    if isinstance(node, list):
        if _index(part):
            why = (f"'{where}' has {len(node)} entries, numbered 0 to {len(node) - 1}" if node else f"'{where}' is empty")
        else:
            names = [e.get("name") for e in node if isinstance(e, dict) and isinstance(e.get("name"), str)]
            hint = (f": '{part}' is {where}.{names.index(part)}" if part in names else
                    f" (0 to {len(node) - 1})" if node else "")
            why = f"'{where}' is a list: give an entry's number, not a name{hint}"
        return SpecError([Diagnostic(label, 0, 0, key, "bad_override", why)])
    return SpecError([Diagnostic(label, 0, 0, key, "bad_override",
                                 f"'{part}': the value above it is {_kind(node)}, not a mapping")])


def with_overrides(spec: Spec, assignments, option: str = "--set") -> Spec:
    """A copy of ``spec`` with ``key.path=value`` assignments (``train.epochs=3``), re-validated.

    Values are read with the spec's own strict YAML rules, so ``train.epochs=three`` is refused
    with the same message a spec file would get. A value in YAML flow style sets a mapping or a
    list, replacing the old value as a whole: ``train.optimizer.schedule={name: cosine}``,
    ``nodes.0.labels=[sleep, study]``; quotes keep a string (``description='[draft]'``).

    Errors name the assignment (``--set train.epochs=three: train.epochs: ...``; ``option`` is the
    word shown before it). The copy remembers its assignments, so errors found later by the
    graph's checks are located at them too: see :func:`located_at_options`.
    """
    data = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    done = []
    for text in assignments:
        key, sep, raw = text.partition("=")
        label = option_label(text, option)
        if not sep or not key:
            raise SpecError([Diagnostic(f"{option} {text}", 0, 0, "", "bad_override", "write key.path=value")])
        if key.count(".") >= MAX_KEY_PARTS:
            raise SpecError([Diagnostic(label, 0, 0, "", "bad_override", f"a key of {key.count('.') + 1:,} parts; "
                                        f"spec paths are at most {MAX_KEY_PARTS} deep")])
        value = _set_value(label, key, raw.strip())
        where = format_path(_key_path(key))
        first = next((shown for path, shown in done if path == where), None)
        if first is not None:  # the last one would win silently; --grid refuses a key twice as well
            raise SpecError([Diagnostic(label, 0, 0, key, "bad_override",
                                        f"set twice ({first} first); give it once")])
        node = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list) and _index(part) and int(part) < len(node):
                node = node[int(part)]
                continue
            if not isinstance(node, dict):
                raise _not_here(label, key, node, part, parts[:i])
            if isinstance(node.get(part), str) and part in ("optimizer", "activation"):
                node[part] = {"name": node[part]}
            node = node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list) and _index(last) and int(last) < len(node):
            node[int(last)] = value
        elif isinstance(node, dict):
            node[last] = value
        elif isinstance(node, list):
            raise _not_here(label, key, node, last, parts[:-1])
        else:
            raise SpecError([Diagnostic(label, 0, 0, key, "bad_override",
                                        f"'{'.'.join(parts[:-1])}' is {_kind(node)}, not a mapping: it has no '{last}'")])
        done.append((format_path(_key_path(key)), label))
    return _revalidated(spec, data, done, option)


def _revalidated(spec: Spec, data: dict, done, option: str, base=None) -> Spec:
    """``data`` (``spec`` dumped, then edited at the spec paths ``done`` names, each with the label
    its errors are located at) validated as a spec; the copy remembers the labels."""
    from .load import validate_data

    base = base or getattr(spec.source, "base", None) or spec.source
    overrides = tuple(getattr(spec.source, "overrides", ())) + tuple(done)
    try:
        out = validate_data(data, Source(json.dumps(data), option, "json"), spec.base_dir)
    except SpecError as exc:  # positions in generated text mean nothing to the user: the option's
        raise SpecError([_at_option(d, overrides, base) for d in exc.diagnostics]) from None
    out._source = None  # built in code, as the spec it came from
    if base is not None:
        out._source = OverriddenSource(base.text, base.name, base.format, base.data, overrides=overrides, base=base)
    return out


# -- editing in Python: model_copy(update=...) and frozen attributes ------------------------------

def _plain(value):
    """A value given in Python as the JSON value a spec file would hold (models dumped as a file
    writes them, numpy numbers and arrays as numbers and lists)."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist") and type(value).__module__ == "numpy":
        return value.tolist()
    return value


def _update_label(key) -> str:
    shown = repr(key) if len(repr(key)) <= SHOWN_KEY else repr(key)[:SHOWN_KEY - 3] + "..."
    return f"model_copy(update={{{shown}: ...}})"


def copied_with(model, update) -> object:
    """``model.model_copy(update=...)``: the edited copy validated as a spec file is, with the same
    messages (the valid keys, did-you-mean), each located at the key of ``update`` that caused it;
    a part of a spec (a Node, the Train section) against its own kind's keys. As for a loaded
    file, the network's checks (references, sizes, cycles) come when the copy is built,
    compiled or validated, located at the edit."""
    from pydantic import ValidationError

    if not isinstance(update, dict):
        raise SpecError([Diagnostic("model_copy(update=...)", 0, 0, "", "wrong_type",
                                    f"update is a dict of key -> new value; found {type(update).__name__}")])
    fields = type(model).model_fields
    keys = {k: (fields[k].alias or k) if k in fields else k for k in update}
    data = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    for k, v in update.items():
        data.pop(k, None)
        data[keys[k]] = _plain(v)
    done = [(format_path((keys[k],)), _update_label(k)) for k in update]
    if isinstance(model, Spec):
        # The network's checks (references, sizes, cycles) are the graph step's, run by build,
        # compile and validate on this copy as on a loaded file, located at the edit (its
        # options); calling them from here would make the spec step reach up the pipeline.
        return _revalidated(model, data, done, _update_label(next(iter(update))),
                            base=None if model.source is not None else Source(None, "<python>", "json", data=data))
    from .load import _diagnostics

    try:
        new = type(model).model_validate(data)
    except ValidationError as exc:
        found = _diagnostics(exc, data, Source(None, "<python>", "json", data=data), root=type(model))
        raise SpecError([Diagnostic(_option_for(d.path, done) or ", ".join(label for _, label in done), 0, 0,
                                    d.path, d.code, d.message, d.severity) for d in found]) from None
    for name, value in (model.__pydantic_private__ or {}).items():
        setattr(new, name, value)
    return new


# how a part of a spec is reached from the spec, to show the edit that replaces a frozen value
_PLACES = {"Spec": "", "Train": "train", "Data": "data", "Optimizer": "train.optimizer",
           "EarlyStopping": "train.early_stopping", "Node": "nodes.N", "Edge": "edges.N"}


def frozen_error(model, name: str, value) -> NNGraphError:
    """What assigning ``model.name = value`` says: a spec is frozen, and how to make an edited copy."""
    kind = type(model).__name__
    place = _PLACES.get(kind)
    try:
        plain = _plain(value)
        shown, text = repr(plain), plain if isinstance(plain, str) else json.dumps(plain)
    except (TypeError, ValueError):
        shown = text = "VALUE"
    shown, text = (v if len(v) <= SHOWN_VALUE else "VALUE" for v in (shown, text))
    one = f"{{{name!r}: {shown}}}"
    if place == "":
        how = f"spec.model_copy(update={one})"
    elif place in ("train", "data"):
        how = f"spec.model_copy(update={{'{place}': spec.{place}.model_copy(update={one})}})"
    else:
        how = f"{kind.lower()}.model_copy(update={one}), put in the spec with spec.model_copy(update=...)"
    sets = f", or nngraph.spec.with_overrides(spec, [{(place + '.' if place else '') + name + '=' + text!r}])" \
        if place is not None else ""
    return FrozenSpecError(f"{kind} is frozen: '{name}' cannot be assigned (a validated spec never changes, so it "
                           f"stays valid). Make an edited copy, validated as a spec file is: {how}{sets}")


class FrozenSpecError(NNGraphError, AttributeError):
    """An attribute of a validated (frozen) spec was assigned or deleted."""


def _covers(a: str, b: str) -> bool:
    """Whether spec path ``a`` is ``b`` or one of its parents (``edges[0]`` covers ``edges[0].to``)."""
    return b == a or (b.startswith(a) and b[len(a)] in ".[")


def _option_for(spec_path: str, overrides):
    """The label of the last option that set ``spec_path`` (or a value inside it, or the whole entry
    it is part of), or None."""
    for path, label in reversed(overrides):
        if _covers(path, spec_path) or (spec_path and _covers(spec_path, path)):
            return label
    return None


def _at_option(d: Diagnostic, overrides, base) -> Diagnostic:
    """``d`` located at the option that set its value (or one inside it, or the whole entry it is
    part of); a finding no option touched stays in the file, naming the options it came with."""
    label = _option_for(d.path, overrides)
    if label is not None:
        return Diagnostic(label, 0, 0, d.path, d.code, d.message, d.severity)
    line, col, file = 0, 0, base.name if base is not None else overrides[-1][1] if overrides else d.file
    if base is not None and d.path:
        path = _parse(d.path)
        line, col = base.locate([path]).get(path, (0, 0))
    shown = ", ".join(dict.fromkeys(label for _, label in overrides))
    return Diagnostic(file, line, col, d.path, d.code, f"{d.message} (with {shown})" if shown else d.message, d.severity)


_SHAPE_KEYS = ("size", "role", "name", "labels")  # what of a node the data and the parameters file must match


def _may_cause(exc: NNGraphError, path: str) -> bool:
    """Whether an option that set spec ``path`` can have made the spec disagree in the way ``exc``
    says: the data or inputs with the network's inputs and outputs, the parameters file with its
    shapes, training with its settings, a file with the path it was given."""
    parts = _parse(path)
    top = parts[0] if parts else ""
    node_shape = top == "nodes" and (len(parts) < 3 or parts[2] in _SHAPE_KEYS)
    if isinstance(exc, ParameterFileError):
        return top in ("parameters", "edges") or node_shape
    if isinstance(exc, DataError):
        return top == "data" or node_shape
    if isinstance(exc, TrainingError):  # a loss that diverged, a checkpoint: not the number of epochs
        return (top == "train" and parts[1:2] != ("epochs",)) or (top == "nodes" and parts[2:3] == ("activation",))
    if isinstance(exc, FileAccessError):
        return top in ("data", "parameters", "train")
    return False


def _named_at_options(exc: NNGraphError, overrides) -> str | None:
    """The message of ``exc`` (not a SpecError: it has no diagnostics) naming the options it comes
    of: at the option when it begins with the spec path that option set, else with the options that
    can have caused it at its end; None to leave it as it is."""
    if len(exc.args) != 1 or not isinstance(exc.args[0], str):
        return None
    message = exc.args[0]
    labels = [label for _, label in overrides]
    if message.startswith(tuple(labels)) or "(with " + labels[0].split(" ", 1)[0] in message:  # named already
        return None
    head = re.match(r"([A-Za-z_][\w.\[\]]*): ", message)
    label = _option_for(head.group(1), overrides) if head else None
    if label is not None:
        return f"{label}: {message}"
    shown = list(dict.fromkeys(label for path, label in overrides if _may_cause(exc, path)))
    return f"{message} (with {', '.join(shown)})" if shown else None


@contextmanager
def located_at_options(spec):
    """Within this block, a :class:`SpecError` about a spec made by :func:`with_overrides` is
    located at the options that set the values it is about (``--set edges.0.to=z: edges[0].to:
    unknown node 'z'``), not at the file's lines those values replaced. Another error of nngraph
    found later (the data, the inputs or the parameters file disagreeing with what the options
    made) names the options that can have caused it: ``targets have 1 columns; the network has
    2 outputs (with --set nodes.2.size=2)``."""
    try:
        yield
    except NNGraphError as exc:
        if getattr(exc, "at_options", False):  # located already, by an inner block (build's own)
            raise
        src = getattr(spec, "source", None)
        overrides = getattr(src, "overrides", ())
        if not overrides:
            raise
        exc.at_options = True
        if isinstance(exc, SpecError):
            exc.diagnostics = sorted((_at_option(d, overrides, src.base) if d.file == src.name else d
                                      for d in exc.diagnostics), key=_position)
            exc.args = ("\n".join(d.format() for d in exc.diagnostics),)
        else:
            message = _named_at_options(exc, overrides)
            if message is not None:
                exc.args = (message,)
        raise
