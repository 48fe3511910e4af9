"""Load a spec from a file or text: parse strictly, validate into frozen models, explain errors."""
from __future__ import annotations

import difflib
import gc
import json
import os
import stat
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..errors import Diagnostic, NNGraphError, SpecError
from ..limits import Limits, as_limits
from . import models
from .models import Spec
from .source import Source, _plain_scalar, format_path, parse


def load(spec, *, limits: Limits | None = None, format: str | None = None) -> Spec:
    """Load and validate a spec.

    Parameters
    ----------
    spec : str, os.PathLike, dict or Spec
        A path to a ``.yaml``/``.yml``/``.json`` file, spec text (anything containing a newline or
        starting with ``{``), an already parsed mapping, or a Spec (returned as is).
    limits : Limits, optional
        Bounds on document size and nesting (default: :func:`nngraph.limits.default_limits`).
    format : {"yaml", "json"}, optional
        Overrides the format guessed from the file suffix or the text.

    Returns
    -------
    Spec
        The validated, frozen spec. Cross-references, shapes and cycles are checked by
        :func:`nngraph.graph.build` (``nngraph validate`` runs both).

    Raises
    ------
    SpecError
        With one :class:`~nngraph.errors.Diagnostic` per problem, each located in the text.

    Examples
    --------
    >>> spec = load("nngraph: 1\\nname: n\\nnodes: [{name: x, role: input}, {name: y, role: output}]\\n"
    ...             "edges: [{from: x, to: y, weight: 2}]\\n")
    >>> spec.edges[0].weight
    2.0
    """
    limits = as_limits(limits)
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        src = Source(None, "<dict>", "json", data=spec)
        return validate_data(spec, src, None)
    src, base_dir = read_source(spec, limits, format)
    data = parse(src, limits)
    return validate_data(data, src, base_dir)


def read_source(spec, limits: Limits, format: str | None = None):
    """Return the :class:`Source` (text, display name, format) and the folder files resolve in."""
    if not isinstance(spec, (str, os.PathLike)):
        hint = " (decode bytes first: text.decode('utf-8'))" if isinstance(spec, (bytes, bytearray)) else ""
        raise SpecError([Diagnostic("<argument>", 0, 0, "", "bad_argument", "a spec is a file path, YAML/JSON text or a "
                                    f"dict; found {type(spec).__name__}{hint}")])
    is_text = isinstance(spec, str) and (not spec.strip() or "\n" in spec or spec.lstrip().startswith(("{", "[")))
    if is_text:
        text, name, base_dir = spec, "<string>", None
    else:
        path = Path(os.fspath(spec))
        name = str(spec)
        text = _read_regular_file(path, name, limits)
        base_dir = path.resolve().parent
        if format is None and path.suffix.lower() == ".json":
            format = "json"
    if format is None:
        format = "json" if text.lstrip().startswith("{") else "yaml"
    if format not in ("yaml", "json"):
        raise NNGraphError(f"unknown format {format!r}; use yaml or json")
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(text, name, format), base_dir


def _read_regular_file(path: Path, name: str, limits: Limits) -> str:
    """The text of a spec file. A FIFO, a device such as /dev/zero or a socket is refused from its
    metadata before anything is read (opened non-blocking, so a FIFO never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        from ..errors import similar_file

        raise SpecError([Diagnostic(name, 0, 0, "", "no_file", "no such file" + similar_file(path))]) from None
    except IsADirectoryError:
        raise SpecError([Diagnostic(name, 0, 0, "", "not_regular", "is a folder, not a spec file")]) from None
    except OSError as exc:
        raise SpecError([Diagnostic(name, 0, 0, "", "unreadable", exc.strerror or str(exc))]) from None
    st = os.fstat(fd)
    with os.fdopen(fd, "rb", closefd=True) if not stat.S_ISDIR(st.st_mode) else _closing(fd) as f:
        if stat.S_ISDIR(st.st_mode):
            raise SpecError([Diagnostic(name, 0, 0, "", "not_regular", "is a folder, not a spec file")])
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                    or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
            raise SpecError([Diagnostic(name, 0, 0, "", "not_regular", f"is {kind}, not a regular file; a spec "
                                        "is read from a regular .yaml or .json file")])
        if st.st_size > limits.max_document_bytes:
            raise SpecError([Diagnostic(name, 0, 0, "", "document_too_large",
                                        f"the spec is {st.st_size:,} bytes, over the limit of "
                                        f"{limits.max_document_bytes:,}; {Limits.how_to_raise('max_document_bytes')}")])
        try:
            data = f.read(limits.max_document_bytes + 1)
        except OSError as exc:
            raise SpecError([Diagnostic(name, 0, 0, "", "unreadable", exc.strerror or str(exc))]) from None
    try:
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise SpecError([Diagnostic(name, 0, 0, "", "encoding", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None


class _closing:
    """Closes a raw descriptor that cannot become a file object (a folder's)."""

    def __init__(self, fd):
        self.fd = fd

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        os.close(self.fd)


def validate_data(data, src: Source, base_dir) -> Spec:
    if not isinstance(data, dict):
        found = "an empty document" if data is None else f"a {_type_name(data)}"
        raise SpecError([Diagnostic(src.name, 1, 1, "", "not_mapping",
                                    f"a spec is a mapping with keys nngraph, name, nodes, edges...; found {found}")])
    paused = gc.isenabled()
    gc.disable()  # as in parse(): hundreds of thousands of new models, no cycles among them
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        error = SpecError(_diagnostics(exc, data, src))
        error.partial_spec = _without_unknown_keys(exc, data, src, base_dir)
        raise error from None
    except (RecursionError, MemoryError) as exc:  # pragma: no cover - bounded by parse()
        raise SpecError([Diagnostic(src.name, 1, 1, "", "too_large", str(exc))]) from None
    finally:
        if paused:
            gc.enable()
    spec._source = src
    spec._base_dir = base_dir
    return spec


# Values that can be left out of a copy of the spec without changing any other check's answer:
# the graph's checks then run on the rest, so one `validate` reports every independent error.
_REPAIRABLE = {
    "nodes": {"activation", "bias", "labels", "dropout", "trainable", "description", "l1", "l2", "max_norm"},
    "edges": {"weight", "weights", "init", "trainable", "description", "l1", "l2"},
}
_TOP_LEVEL_DEFAULTS = {"nngraph": 1, "name": "spec"}  # required: replaced; other top-level keys: dropped
_NODE_STANDINS = {"size": 1, "role": "hidden"}  # a failed size or role: a stand-in, and the node is marked
_EDGE_SHAPE = {"from", "to", "pattern", "connections", "density", "seed"}


class Repair:
    """What a repaired copy of a spec (see :func:`_repaired_copy`) stands in for, so that the
    graph's checks skip whatever would only echo an error already reported: edges into a node
    without a valid size are not checked for shapes, a reference close to an invalid node name
    is not called unknown, an edge whose endpoints or pattern failed is not resolved."""

    def __init__(self):
        self.nodes = {}  # node index -> failed fields among name, size, role, or "*" (not a mapping)
        self.bad_names = []  # the invalid node names as written (None: a node without a usable name)
        self.edges = {}  # edge index -> [from usable, to usable]: the edge is left out
        self.no_edges = False  # the edges list itself failed
        self.no_table = False  # the edge table failed and is left out

    @property
    def structural(self) -> bool:
        """Something that changes the graph was left out (flow checks would only echo it)."""
        return bool(self.nodes or self.edges or self.no_edges or self.no_table)

    def unnamed(self, index: int) -> bool:
        return bool(self.nodes.get(index, set()) & {"name", "*"})

    def unsized(self, index: int) -> bool:
        return bool(self.nodes.get(index, set()) & {"size", "*"})

    def role_unknown(self) -> bool:
        return any(f & {"role", "*"} for f in self.nodes.values())

    def may_name(self, name: str) -> bool:
        """Could ``name`` be meant for a node whose own name is invalid? Then it is not 'unknown'."""
        for bad in self.bad_names:
            if bad is None:
                return True
            if difflib.SequenceMatcher(None, name.lower(), str(bad).lower()).ratio() >= 0.6:
                return True
        return False


def _without_unknown_keys(exc: ValidationError, data, src, base_dir):
    """A copy of the spec for the graph's checks, so that they report their own findings in the
    same pass; every error stays reported. Unknown keys and values that failed on their own (a
    wrong activation, a bias of the wrong type, a bad ``train`` or ``data`` section...) are left
    out; a node's failed name, size or role gets a stand-in and the node is marked; an edge whose
    endpoints, pattern or pattern fields failed is kept only as a mark; a failed edge table is left
    out (see :class:`Repair`). None when the node list itself failed."""
    repaired = json.loads(json.dumps(data))
    repair = Repair()
    for e in exc.errors(include_url=False):
        path, _ = _real_path(e["loc"], data)
        if e["type"] == "extra_forbidden":
            parent = repaired
            for part in path[:-1]:  # the key's mapping may be left out already (its other error)
                parent = parent[part] if isinstance(parent, (dict, list)) and _has(parent, part) else None
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        elif len(path) >= 1 and isinstance(path[0], str) and path[0] not in ("nodes", "edges"):
            if path[0] in _TOP_LEVEL_DEFAULTS:
                repaired[path[0]] = _TOP_LEVEL_DEFAULTS[path[0]]
            else:
                repaired.pop(path[0], None)
                repair.no_table = repair.no_table or path[0] == "edge_table"
        elif len(path) >= 3 and path[0] in _REPAIRABLE and path[2] in _REPAIRABLE[path[0]] and \
                isinstance(repaired.get(path[0]), list) and isinstance(repaired[path[0]][path[1]], dict):
            repaired[path[0]][path[1]].pop(path[2], None)
        elif len(path) >= 2 and path[0] == "nodes" and isinstance(repaired.get("nodes"), list):
            _stand_in_node(repaired["nodes"], path, data["nodes"], repair)
        elif path == ("edges",):
            repaired["edges"], repair.no_edges = [], True
        elif len(path) >= 2 and path[0] == "edges" and isinstance(repaired.get("edges"), list):
            usable = repair.edges.setdefault(path[1], [True, True])  # settled below, once per edge
            if len(path) >= 3 and path[2] in ("from", "to"):
                usable[path[2] == "to"] = False
            elif len(path) >= 3 and path[2] not in _EDGE_SHAPE:
                return None
        else:
            return None
    for i, (from_ok, to_ok) in repair.edges.items():
        edge = data["edges"][i] if isinstance(data["edges"][i], dict) else {}
        from_ok = from_ok and isinstance(edge.get("from"), str)
        to_ok = to_ok and isinstance(edge.get("to"), str)
        repair.edges[i] = [from_ok, to_ok]
        repaired["edges"][i] = {"from": edge["from"] if from_ok else "_", "to": edge["to"] if to_ok else "_"}
    try:
        spec = Spec.model_validate(repaired)
    except ValidationError:
        return None
    spec._source, spec._base_dir = src, base_dir
    spec._repaired = True
    spec._repair = repair
    return spec


def _stand_in_name(i: int) -> str:
    return f"__invalid_node_{i}__"  # never shown: the graph's checks do not list unnamed nodes


def _stand_in_node(nodes: list, path, original: list, repair: Repair) -> None:
    i = path[1]
    field = path[2] if len(path) >= 3 and isinstance(nodes[i], dict) else "*"
    if field not in ("name", "size", "role", "*"):
        field = "*"
    marks = repair.nodes.setdefault(i, set())
    if field in marks:
        return
    marks.add(field)
    if field == "*":  # not a mapping (a bare name, most likely) or a mapping that failed as a whole
        was = original[i]
        written = was if isinstance(was, str) else was.get("name") if isinstance(was, dict) else None
        nodes[i] = {"name": _stand_in_name(i)}
        marks.update(("name", "size"))
        repair.bad_names.append(written if isinstance(written, str) else None)
    elif field == "name":
        written = original[i].get("name")
        nodes[i]["name"] = _stand_in_name(i)
        repair.bad_names.append(written if isinstance(written, str) else None)
    else:
        nodes[i][field] = _NODE_STANDINS[field]


def _has(container, part) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(part, int) and 0 <= part < len(container)


def _type_name(value) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "integer", float: "number",
            bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _real_path(loc, data):
    """Drop pydantic's union tags from ``loc``, keeping only steps that exist in the data."""
    path, node = [], data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and part in _ALL_FIELDS:
            path.append(part)  # a missing field: point at its mapping, name the field
            node = None
        # anything else is a union member tag such as 'list[float]' or 'function-after[...]'
    return tuple(path), node


# the sections a key can belong to, for a key written in the wrong one (checkpoint under data)
_SECTIONS = (("train", models.Train), ("train.optimizer", models.Optimizer),
             ("train.optimizer.schedule", models.Schedule), ("train.early_stopping", models.EarlyStopping),
             ("train.checkpoint", models.Checkpoint), ("data", models.Data))


def _elsewhere(key) -> str:
    """`` (it belongs in train)`` for a key of one or two other sections (not ``name``: every one has it)."""
    if key == "name":
        return ""
    homes = [f"in {section}" for section, model in _SECTIONS if key in _field_names(model)]
    if key in _field_names(Spec):
        homes.append("at the top level of the spec")
    return f" (it belongs {' or '.join(homes)})" if 0 < len(homes) <= 2 else ""


def _models_at(path, root=None) -> list[type[BaseModel]]:
    """The model classes that can sit at ``path`` in a Spec, or in ``root`` (for valid-key suggestions)."""
    current: list = [root or Spec]
    for part in path:
        nxt = []
        for tp in current:
            if isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
                for fname, f in tp.model_fields.items():
                    if part in (fname, f.alias):
                        nxt.extend(_unwrap(f.annotation))
            elif isinstance(part, int):
                origin = typing.get_origin(tp)
                if origin in (list, tuple):
                    for arg in typing.get_args(tp):
                        nxt.extend(_unwrap(arg))
        current = nxt
    return [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]


def _unwrap(tp) -> list:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin is typing.Union:
        return [x for a in typing.get_args(tp) for x in _unwrap(a)]
    return [tp]


def _field_names(model) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


_ALL_FIELDS = {n for m in (models.Spec, models.Node, models.Edge, models.Data, models.Train, models.Optimizer,
                           models.EarlyStopping, models.Activation, models.Initializer) for n in _field_names(m)}


# Keys users bring from Keras, PyTorch and scikit-learn, and the spec's own name for each: suggested
# when the key is not valid where it stands and its counterpart is (never accepted in its place).
KEY_ALIASES = {
    "lr": "learning_rate", "learningrate": "learning_rate", "eta": "learning_rate", "step_size": "learning_rate",
    "mu": "momentum", "momentum_rate": "momentum",
    "beta_1": "beta1", "beta_2": "beta2", "eps": "epsilon", "alpha": "rho",
    "weight_decay": "l2", "l2_reg": "l2", "l2_regularization": "l2", "kernel_regularizer": "l2",
    "l1_reg": "l1", "l1_regularization": "l1",
    "clipnorm": "clip_norm", "max_grad_norm": "clip_norm", "gradient_clip_val": "clip_norm", "clip_grad_norm": "clip_norm",
    "maxnorm": "max_norm", "max_norm_constraint": "max_norm", "kernel_constraint": "max_norm",
    "batch": "batch_size", "batchsize": "batch_size", "minibatch": "batch_size", "mini_batch_size": "batch_size",
    "epoch": "epochs", "n_epochs": "epochs", "num_epochs": "epochs", "max_epochs": "epochs", "nb_epoch": "epochs",
    "max_iter": "epochs", "optim": "optimizer", "opt": "optimizer", "solver": "optimizer",
    "criterion": "loss", "loss_fn": "loss", "objective": "loss", "random_state": "seed", "random_seed": "seed",
    "val_split": "validation_split", "validation_fraction": "validation_split", "valid_split": "validation_split",
    "test_size": "test_split", "test_fraction": "test_split",
    "units": "size", "neurons": "size", "n_neurons": "size", "width": "size", "rate": "dropout",
    "dropout_rate": "dropout", "p": "dropout",
}


def suggest(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` or ``""``; case does not count (``Relu`` suggests ``relu``)."""
    word = str(word)
    by_lower = {}
    for c in choices:
        by_lower.setdefault(str(c).lower(), str(c))
    same = by_lower.get(word.lower())
    if same is not None:
        return f" (did you mean '{same}'?)" if same != word else ""
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def _message(err, path, value, data, root=None) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("too_long", "too_short", "missing") and len(path) >= 2 and path[-2] in ("connections", "edge_table"):
        shape = "[i, j, w] (or [i, j] with init)" if path[-2] == "connections" else '["from[i]", "to[j]", weight]'
        return "wrong_shape", f"each row of {path[-2]} is {shape}; found {_short(value)}"
    if kind in ("lone_surrogate", "string_unicode") and isinstance(value, str) and models.lone_surrogate(value):
        return "lone_surrogate", models.lone_surrogate(value)  # names are refused by pydantic before our check
    if kind == "extra_forbidden":
        key = path[-1]
        valid = sorted({k for m in _models_at(path[:-1], root) for k in _field_names(m)})
        if key == "max_norm" and path[0] == "edges":  # the norm is over all of a neuron's connections
            return "unknown_key", ("an edge takes no max_norm: it bounds each neuron's incoming weights over all "
                                   "its connections; set max_norm on the node the edge leads to")
        alias = KEY_ALIASES.get(str(key).lower())
        hint = f" (did you mean '{alias}'?)" if alias in valid else suggest(key, valid) or _elsewhere(key)
        return "unknown_key", f"unknown key '{key}'{hint}; valid keys: {', '.join(valid)}"
    if kind == "missing":
        return "missing", f"required key '{err['loc'][-1]}' is missing"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
        return "invalid_choice", f"{value!r} is not one of {', '.join(choices)}{suggest(value, choices)}"
    if kind == "string_pattern_mismatch":
        if path and path[-1] in ("from", "to") or (len(path) >= 2 and path[-2] in (0, 1) and "edge_table" in path):
            return "bad_reference", (f"{value!r} is not a neuron reference; write a node name, name[i] or "
                                     "name[i:j] (e.g. hidden1, hidden1[3], hidden1[0:64])")
        if path and path[-1] == "name" and len(path) > 1:
            return "bad_name", (f"{value!r} is not a valid name; use letters, digits and _ (no spaces or other "
                                "characters), starting with a letter or _ (so it can be referenced as name[i])")
        if path == ("name",):
            return "bad_name", (f"{value!r} is not a valid network name; use letters, digits, _, . and - (no spaces "
                                "or other characters), starting with a letter, digit or _, at most 128 characters")
        return "bad_text", f"{_short(value)} is not in the form this key takes"
    if kind.endswith("_type") or kind in ("model_type", "model_attributes_type", "dict_type", "list_type"):
        expected = {"int_type": "a whole number", "float_type": "a number", "string_type": "a string",
                    "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
                    "model_type": "a mapping", "model_attributes_type": "a mapping", "tuple_type": "a list",
                    "int_from_float": "a whole number"}.get(kind, kind.replace("_type", ""))
        return "wrong_type", f"expected {expected}, found {_type_name(value)} {_short(value)}"
    if kind == "value_error":
        return "invalid_value", str(ctx.get("error", err["msg"]))
    if kind == "union_tag_invalid":
        return "wrong_type", f"found {_type_name(value)} {_short(value)}: {err['msg']}"
    return kind, err["msg"][0].lower() + err["msg"][1:]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_MAX_SHOWN = 100  # problems composed and located per round; a spec with thousands gets a count


def _diagnostics(exc: ValidationError, data, src: Source, root=None) -> list[Diagnostic]:
    """One diagnostic per problem of ``data`` (a spec, or with ``root`` a part of one: a Train, a
    Node, ...), located in ``src``, with the valid keys and choices."""
    found = []
    seen = set()
    errors = exc.errors(include_url=False)
    tail = None
    for n, err in enumerate(errors):
        if len(found) >= _MAX_SHOWN:  # each message costs a did-you-mean: bound the work
            rest = len(errors) - n
            first = _real_path(err["loc"], data)[0]
            tail = (first, f"and {rest:,} more problems like those above (not checked one by one): "
                    "fix those first")
            break
        path, value = _real_path(err["loc"], data)
        code, message = _message(err, path, value if value is not None else err.get("input"), data, root)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        key = err["type"] == "extra_forbidden"
        found.append((path, code, message, key))
    # a union that failed in every member yields one error per member: keep the first per path
    by_path = {}
    for path, code, message, key in found:
        by_path.setdefault(path, []).append((code, message, key))
    # a row that fits one tuple form (a 3-element [i, j, w]) but fails inside it: the inner error
    # says what is wrong; "each row is [i, j, w] (or [i, j])" from the other form would mislead
    parents = {p[:-1] for p in by_path if p}
    for path in [p for p, items in by_path.items() if p in parents and items[0][0] == "wrong_shape"]:
        del by_path[path]
    value_paths = [p for p, items in by_path.items() if not items[0][2]]
    key_paths = [p for p, items in by_path.items() if items[0][2]]
    if tail is not None:
        value_paths.append(tail[0])
    pos = src.locate(value_paths) if value_paths else {}
    pos.update(src.locate(key_paths, key=True) if key_paths else {})
    out = []
    for path, items in by_path.items():
        line, col = pos.get(path, (1, 1))
        shown = items if all(i[0] in ("unknown_key", "missing") for i in items) else items[:1]
        for code, message, _ in shown:
            out.append(Diagnostic(src.name, line, col, format_path(path), code, message))
    if tail is not None:
        out.append(Diagnostic(src.name, *pos.get(tail[0], (1, 1)), format_path(tail[0]), "more", tail[1]))
    return out


def dump(spec: Spec, format: str = "yaml") -> str:
    """Write a spec as YAML (one line per node and edge) or JSON; ``load(dump(s)) == s``.

    Examples
    --------
    >>> s = load("nngraph: 1\\nname: n\\nnodes: [{name: x, role: input}, {name: y, role: output}]\\n")
    >>> load(dump(s)) == s
    True
    """
    if not isinstance(spec, Spec):
        raise NNGraphError(f"dump writes a Spec (from nngraph.load); found {type(spec).__name__}")
    if format not in ("yaml", "json"):
        raise NNGraphError(f"unknown format {format!r}; use yaml or json")
    data = spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True, mode="json")
    data = {"nngraph": 1, **data}
    for node in data.get("nodes", []):
        if isinstance(node.get("activation"), dict) and list(node["activation"]) == ["name"]:
            node["activation"] = node["activation"]["name"]
    if format == "json":
        return json.dumps(data, indent=2) + "\n"
    lines = []
    for key, value in data.items():
        if key in ("nodes", "edges", "edge_table") and value:
            lines.append(f"{key}:")
            for item in value:
                lines.append("  - " + _flow(item))
        elif isinstance(value, (dict, list)):
            lines.append(f"{key}: {_flow(value)}")
        else:
            lines.append(_flow({key: value})[1:-1])
    return "\n".join(lines) + "\n"


def _flow(value) -> str:
    import yaml

    return yaml.dump(value, Dumper=_dumper(), default_flow_style=True, width=10**9, sort_keys=False).strip()


_DUMPER = []  # made on first dump: loading a JSON spec needs no PyYAML


def _dumper():
    """PyYAML's SafeDumper, quoting as the spec reader reads (see :func:`_represent_str`)."""
    if not _DUMPER:
        import yaml

        class _Dumper(yaml.SafeDumper):
            """PyYAML decides quoting by YAML 1.1 rules; specs are read by YAML 1.2 core rules (see
            :mod:`nngraph.spec.source`), where ``1e3`` is a number and ``012`` is refused. Quote every
            string that our reader would not read back as the same string."""

        _Dumper.add_representer(str, _represent_str)
        _DUMPER.append(_Dumper)
    return _DUMPER[0]


def _represent_str(dumper, text):
    errors = []
    plain = _plain_scalar(text, (0, 0), None, errors) if text else None
    if not text.isprintable():  # line breaks such as U+0085, tabs, BOMs: escaped, in double quotes
        style = '"'
    else:
        style = "'" if errors or plain != text or not isinstance(plain, str) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)
