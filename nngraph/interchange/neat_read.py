"""Reading neat-python's JSON network export (format 1.0) strictly: every key, type and number
checked, duplicate keys refused, sizes bounded before they are paid, errors located by JSON path.

neat-python itself is not needed: the format is read here.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from ..errors import NNGraphError
from ..limits import Limits, default_limits
from ..spec import suggest

FORMAT_VERSION = "1.0"


class NeatImportError(NNGraphError):
    """A neat-python export that cannot be imported; the message names the file and the JSON path."""


# -- strict models of the JSON ---------------------------------------------------------------

Number = StrictFloat  # ints are taken as floats; bools and strings are refused
NodeId = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]  # neat's keys; kept as int64 arrays


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class _Function(_Strict):
    name: StrictStr
    custom: StrictBool = False


class _Node(_Strict):
    id: NodeId
    type: Literal["input", "hidden", "output"]
    activation: _Function
    aggregation: _Function
    bias: Number = 0.0
    response: Number = 1.0


class _Connection(_Strict):
    from_: StrictInt = Field(alias="from")
    to: StrictInt
    weight: Number
    enabled: StrictBool


class _Topology(_Strict):
    num_inputs: Annotated[StrictInt, Field(ge=1)]
    num_outputs: Annotated[StrictInt, Field(ge=1)]
    input_keys: list[NodeId]
    output_keys: list[NodeId]


class _Export(_Strict):
    format_version: StrictStr
    network_type: StrictStr
    metadata: dict[str, Any] = {}
    topology: _Topology
    nodes: list[_Node]
    connections: list[Any]  # checked column by column (they can be 100k): see _columns


def _where(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reject(name, message):
    raise NeatImportError(f"{name}: {message}")


def read(source, limits: Limits | None = None, *, label: str | None = None) -> tuple[_Export, tuple, str]:
    """Parse and validate a neat-python JSON export (path, JSON text or dict).

    Returns the validated export, its connections as (from, to, weight, enabled) arrays, and the
    name errors give the source (``label`` for a dict, if given)."""
    limits = limits or default_limits()
    if isinstance(source, dict):
        data, name = source, label or "<dict>"
    else:
        text, name = _read_text(source, limits)
        data = _parse(text, name)
    if not isinstance(data, dict):
        _reject(name, f"expected a JSON object (neat-python's export), found {type(data).__name__}")
    if "nngraph" in data and "format_version" not in data:
        _reject(name, "is already an nngraph spec (it has the key 'nngraph'), not a neat-python export: use it as "
                "it is (nngraph.load)")
    for key, limit in (("connections", "max_weights"), ("nodes", "max_neurons")):
        items = data.get(key)
        if isinstance(items, list) and len(items) > getattr(limits, limit):
            _reject(name, f"{key}: {len(items):,} {key}, over the limit of {getattr(limits, limit):,}; "
                    f"{Limits.how_to_raise(limit)}")
    try:
        export = _Export.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(err["loc"])
        if err["type"] == "extra_forbidden":
            model = _model_at(err["loc"])
            valid = ", ".join(f.alias or k for k, f in model.model_fields.items()) if model else ""
            _reject(name, f"{where}: unknown key{suggest(str(err['loc'][-1]), valid.split(', '))}"
                    f"{f' (valid keys: {valid})' if valid else ''}")
        more = f" ({exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        _reject(name, f"{where}: {err['msg']}{more}")
    columns = _columns(export.connections, name)
    if export.format_version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        _reject(name, f"format_version: '{export.format_version}' is not a version this reader knows "
                f"({FORMAT_VERSION})")
    if export.network_type != "feedforward":
        _reject(name, f"network_type: '{export.network_type}' networks keep state between activations; "
                "nngraph specs are feed-forward (export a FeedForwardNetwork)")
    return export, columns, name


_CONNECTION_KEYS = {"from", "to", "weight", "enabled"}


def _columns(conns, name):
    """(from, to, weight, enabled) arrays of the connections, each checked as _Connection would.

    The common case (every item a dict with exactly the four keys, ints, numbers and booleans)
    is checked in bulk; the first item that is not is validated alone for its located message.
    """
    def slow(i):
        try:
            _Connection.model_validate(conns[i])
        except ValidationError as exc:
            err = exc.errors()[0]
            where = _where(("connections", i) + tuple(err["loc"]))
            if err["type"] == "extra_forbidden":
                _reject(name, f"{where}: unknown key{suggest(str(err['loc'][-1]), sorted(_CONNECTION_KEYS))} "
                        "(valid keys: from, to, weight, enabled)")
            _reject(name, f"{where}: {err['msg']}")

    shaped = [type(c) is dict and len(c) == 4 for c in conns]
    if not all(shaped):
        slow(shaped.index(False))
    try:  # four keys each, and each of these: exactly the four
        frm = [c["from"] for c in conns]
        to = [c["to"] for c in conns]
        weight = [c["weight"] for c in conns]
        enabled = [c["enabled"] for c in conns]
    except KeyError:
        slow(next(i for i, c in enumerate(conns) if c.keys() != _CONNECTION_KEYS))
    for column in (frm, to):
        ok = [type(v) is int for v in column]
        if not all(ok):
            slow(ok.index(False))
    ok = [type(v) is float or type(v) is int for v in weight]
    if not all(ok):
        slow(ok.index(False))
    ok = [type(v) is bool for v in enabled]
    if not all(ok):
        slow(ok.index(False))
    try:
        return (np.array(frm, dtype=np.int64), np.array(to, dtype=np.int64), np.array(weight, dtype=np.float64),
                np.array(enabled, dtype=bool))
    except OverflowError:
        big = next(i for i, c in enumerate(conns) if abs(c["from"]) >= 2**63 or abs(c["to"]) >= 2**63)
        _reject(name, f"connections[{big}]: node ids must fit in 64 bits")


def _model_at(loc):
    model = _Export
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = {**{k: f for k, f in model.model_fields.items()},
                 **{f.alias: f for f in model.model_fields.values() if f.alias}}.get(part)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", None)
        ann = args[0] if args else ann
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _read_text(source, limits):
    if isinstance(source, str) and source.lstrip().startswith("{"):
        if len(source) > limits.max_document_bytes:
            raise NeatImportError(f"<text>: {len(source):,} characters, over the limit of "
                                  f"{limits.max_document_bytes:,}; {Limits.how_to_raise('max_document_bytes')}")
        return source, "<text>"
    path = Path(source)
    name = str(source)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise NeatImportError(f"{name}: not a regular file")
        if size > limits.max_document_bytes:
            raise NeatImportError(f"{name}: {size:,} bytes, over the limit of {limits.max_document_bytes:,}; "
                                  f"{Limits.how_to_raise('max_document_bytes')}")
        return path.read_bytes().decode("utf-8"), name
    except FileNotFoundError:
        raise NeatImportError(f"{name}: no such file") from None
    except UnicodeDecodeError as exc:
        raise NeatImportError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise NeatImportError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def _parse(text, name):
    """JSON with duplicate keys refused. The text is parsed at C speed; a count of its colons
    (one per key, plus those inside strings) tells whether any key was repeated, and only then
    is it parsed again with a hook that names the key. orjson, where installed, parses twice as
    fast; anything it refuses (NaN, bad syntax) is parsed again by json for a located message."""
    try:
        import orjson

        data = orjson.loads(text)
    except (ImportError, ValueError, RecursionError):
        data = _parse_json(text, name)
    if "\\u" in text or text.count(":") != _colons(data):
        _parse_checking_keys(text, name)
    return data


def _parse_json(text, name):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NeatImportError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise NeatImportError(f"{name}: JSON nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts
        raise _long_number(text, name) from None


def _long_number(text, name):
    """The error for a number too long to convert (Python refuses integers of over 4,300 digits)."""
    import re
    import sys

    limit = sys.get_int_max_str_digits() or 4300
    m = re.search(r"[0-9]{%d,}" % (limit + 1), text)
    if m is None:
        return NeatImportError(f"{name}: a number too long to read")
    line = text.count("\n", 0, m.start()) + 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return NeatImportError(f"{name}:{line}:{col}: a number of {m.end() - m.start():,} digits, more than the {limit:,} "
                           "Python reads; node keys fit in 64 bits")


def _colons(value) -> int:
    """Keys, plus colons inside keys and strings: the colons a JSON text of ``value`` holds."""
    if type(value) is dict:
        return len(value) + sum(k.count(":") for k in value) + sum(_colons(v) for v in value.values())
    if type(value) is list:
        if value and all(type(v) is dict for v in value):
            flat = [v for d in value for v in d.values()]
            if all(type(v) in (int, float, bool) or v is None for v in flat):  # connections: scalars only
                return sum(map(len, value)) + sum(k.count(":") for d in value for k in d)
        return sum(_colons(v) for v in value)
    if type(value) is str:
        return value.count(":")
    return 0


def _parse_checking_keys(text, name):
    def pairs(items):
        out = dict(items)
        if len(out) != len(items):
            seen = set()
            dup = next(k for k, _ in items if k in seen or seen.add(k))
            raise NeatImportError(f"{name}: duplicate key '{dup}' in one JSON object")
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise NeatImportError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise NeatImportError(f"{name}: JSON nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts
        raise _long_number(text, name) from None
