"""Writing imported specs and exported models: atomically, weights beside the spec when many."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import NNGraphError
from ..spec import Spec, dump, load

INLINE_WEIGHTS = 1_000  # up to this many parameters stay in the spec; more go to an .npz beside it
EDGE_FILE_ABOVE = 10_000  # more listed connections than this go to an edge file beside the spec


def _atomic_write(path: Path, data: bytes) -> None:
    from ..writes import atomic_write

    atomic_write(path, lambda f: f.write(data))  # into an existing folder: a missing one is refused


def save(spec: Spec, path, *, inline_weights: int = INLINE_WEIGHTS, values: dict | None = None,
         edge_file_above: int = EDGE_FILE_ABOVE) -> list[str]:
    """Write ``spec`` to ``path`` (YAML, or JSON for ``.json``), and its numbers beside it when many.

    With more than ``inline_weights`` parameters, or with ``values`` given (say
    ``plan.parameters()`` after training), weights and biases go to ``<stem>.params.npz`` (named
    as in :mod:`nngraph.params`) and the spec keeps the structure. With more than
    ``edge_file_above`` listed (sparse) connections, those go to ``<stem>.edges.npz`` as an
    ``edge_file`` (neuron references and weights), so the spec stays a few lines and loads fast.
    Returns the files written.

    Every file is written to a temporary name and renamed into place, the spec last, so a spec
    never names a missing or half-written file. The folder must exist (it is never created).
    """
    from ..graph import build
    from ..params import spec_values, write_parameters

    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    graph = build(spec)
    if values is None and graph.n_weights + sum(n.size for n in graph.nodes if n.role != "input") <= inline_weights:
        _atomic_write(path, dump(spec, fmt).encode())
        return [str(path)]
    values = dict(spec_values(graph) if values is None else values)
    data = spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True, mode="json")
    data["nngraph"] = 1
    for node in data["nodes"]:
        node.pop("bias", None)
    written = []
    listed = [e for e in data.get("edges", []) if "connections" in e]
    pairs = [(e["from"], e["to"]) for e in listed]
    if (sum(len(e["connections"]) for e in listed) > edge_file_above and len(set(pairs)) == len(pairs)
            and spec.edge_file is None and not spec.edge_table
            and all("[" not in a and "[" not in b for a, b in pairs)):
        edges_path = path.with_name(path.stem + ".edges.npz")
        _atomic_write(edges_path, _edge_file_bytes(listed, values))
        written.append(str(edges_path))
        for e in listed:  # their weights travel in the edge file
            values.pop(f"edges/{e['from']}->{e['to']}")
        data["edges"] = [e for e in data["edges"] if "connections" not in e]
        data["edge_file"] = edges_path.name
    for edge in data.get("edges", []):
        if "connections" in edge:
            edge["connections"] = [c[:2] for c in edge["connections"]]
        if any(k in edge for k in ("weight", "weights", "connections")):
            edge.pop("weight", None)
            edge.pop("weights", None)
    npz = path.with_name(path.stem + ".params.npz")
    data["parameters"] = npz.name
    moved = load(data)
    write_parameters(npz, values, graph)  # with the activations they compute with
    _atomic_write(path, dump(moved, fmt).encode())
    return written + [str(npz), str(path)]


def _edge_file_bytes(edges, values) -> bytes:
    """An edge file (arrays from, to, weight) of sparse edges between whole nodes."""
    import io

    import numpy as np

    frm, to, weight = [], [], []
    for e in edges:
        rows = np.array([c[:2] for c in e["connections"]], dtype=np.int64).reshape(-1, 2)
        frm.append(np.char.add(f"{e['from']}[", np.char.add(rows[:, 0].astype(str), "]")))
        to.append(np.char.add(f"{e['to']}[", np.char.add(rows[:, 1].astype(str), "]")))
        weight.append(np.asarray(values[f"edges/{e['from']}->{e['to']}"], dtype=np.float64).reshape(-1))
    buf = io.BytesIO()
    np.savez_compressed(buf, **{"from": np.concatenate(frm), "to": np.concatenate(to), "weight": np.concatenate(weight)})
    return buf.getvalue()


def import_file(source, *, kind: str | None = None, name: str | None = None) -> Spec:
    """A spec from a neat-python JSON export or an ONNX model (``kind``: neat-json | onnx, else by content).

    A file that is already an nngraph spec (YAML, or JSON with an ``nngraph`` key) is refused
    saying so, whatever ``kind``: it needs no import."""
    _refuse_spec(source)
    kind = kind or _guess(source)
    if kind == "onnx":
        from .onnx_in import from_onnx

        return from_onnx(source, name=name)
    from .neat import from_neat

    return from_neat(source, name=name)


_SPEC_START = re.compile(rb"^(?:\s*#[^\n]*\n|\s*\n|---\s*\n)*\s*(?:nngraph\s*:|\{\s*\"nngraph\"\s*:)")
_SPEC_KEY = re.compile(rb"^nngraph\s*:", re.MULTILINE)


def _refuse_spec(source) -> None:
    """Refuse a file that is already an nngraph spec: by suffix (.yaml, .yml) or by its first
    lines (a top-level ``nngraph:`` key in YAML, a JSON object whose first key is ``"nngraph"``)."""
    p = Path(source)
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError:
        return  # the reader says why it cannot be read
    yaml_suffix = p.suffix.lower() in (".yaml", ".yml")
    if not (yaml_suffix or _SPEC_START.match(head) or (b"\0" not in head and _SPEC_KEY.search(head))):
        return
    what = "an nngraph spec" if not yaml_suffix or _SPEC_KEY.search(head) else "YAML, as nngraph specs are"
    raise NNGraphError(f"{source}: is already {what}, not a network to import: `nngraph import` reads neat-python "
                       "JSON exports and ONNX models. Use the spec as it is (nngraph validate / run / train / draw "
                       f"{source}), or `nngraph export {source} -o FILE.onnx` to turn it into ONNX")


def _guess(source) -> str:
    p = Path(source)
    if p.suffix.lower() == ".onnx":
        return "onnx"
    if p.suffix.lower() == ".json":
        return "neat-json"
    try:
        with open(p, "rb") as f:
            head = f.read(64).lstrip()
    except OSError as exc:
        raise NNGraphError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    return "neat-json" if head.startswith(b"{") else "onnx"


EXPORT_FORMATS = {".onnx": "onnx", ".json": "neat-json"}


def export_format(path, format: str | None = None) -> str:
    """The export format: ``format`` if given, else from the file's extension (.onnx: onnx, .json:
    neat-json); any other extension is refused rather than guessed."""
    if format is not None:
        return format
    suffix = Path(path).suffix.lower()
    if suffix in EXPORT_FORMATS:
        return EXPORT_FORMATS[suffix]
    raise NNGraphError(f"{path}: cannot tell the export format from the extension "
                       f"'{Path(path).suffix or '(none)'}'; name the file .onnx (ONNX) or .json (neat-python JSON), "
                       "or give the format (--format onnx or --format neat-json)")


def export_file(network, path, *, format: str | None = None) -> str:
    """Write a spec or plan as ONNX (``format="onnx"``) or neat-python JSON (``"neat-json"``), atomically.

    Without ``format``, the extension decides (.onnx or .json); any other is refused."""
    from ..compile import Plan, compile

    format = export_format(path, format)
    path = Path(path)
    if format == "onnx":
        from .onnx_out import to_onnx

        plan = network if isinstance(network, Plan) else compile(network)
        _atomic_write(path, to_onnx(plan).SerializeToString())
    elif format == "neat-json":
        from .neat_out import to_neat

        _atomic_write(path, (json.dumps(to_neat(network), indent=2) + "\n").encode())
    else:
        raise NNGraphError(f"unknown export format '{format}'; choose onnx or neat-json")
    return str(path)

