"""Writing imported specs and exported models: atomically, weights beside the spec when many."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..errors import NNGraphError
from ..spec import Spec, dump, load

INLINE_WEIGHTS = 1_000  # up to this many parameters stay in the spec; more go to an .npz beside it


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(spec: Spec, path, *, inline_weights: int = INLINE_WEIGHTS, values: dict | None = None) -> list[str]:
    """Write ``spec`` to ``path`` (YAML, or JSON for ``.json``); with more than ``inline_weights``
    parameters, or with ``values`` given (say ``plan.parameters()`` after training), weights and
    biases go to ``<stem>.params.npz`` beside it (named as in :mod:`nngraph.params`) and the spec
    keeps the structure. Returns the files written.

    Both files are written to temporary names and renamed into place, the parameters first, so
    a spec never names a missing or half-written parameters file.
    """
    from ..graph import build
    from ..params import spec_values, write_parameters

    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    graph = build(spec)
    if values is None and graph.n_weights + sum(n.size for n in graph.nodes if n.role != "input") <= inline_weights:
        _atomic_write(path, dump(spec, fmt).encode())
        return [str(path)]
    values = spec_values(graph) if values is None else values
    npz = path.with_name(path.stem + ".params.npz")
    data = spec.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True, mode="json")
    data["nngraph"] = 1
    for node in data["nodes"]:
        node.pop("bias", None)
    for edge in data.get("edges", []):
        if "connections" in edge:
            edge["connections"] = [c[:2] for c in edge["connections"]]
            edge["init"] = "zeros"
        elif "weights" in edge and edge.get("pattern", "dense") == "dense":
            edge.pop("weights")
            edge["init"] = "zeros"
        elif "weight" in edge:
            edge.pop("weight")
            edge["init"] = "zeros"
        elif "weights" in edge:
            edge.pop("weights")
            edge["init"] = "zeros"
    data["parameters"] = npz.name
    moved = load(data)
    write_parameters(npz, values)
    _atomic_write(path, dump(moved, fmt).encode())
    return [str(npz), str(path)]


def import_file(source, *, kind: str | None = None, name: str | None = None) -> Spec:
    """A spec from a neat-python JSON export or an ONNX model (``kind``: neat-json | onnx, else by content)."""
    kind = kind or _guess(source)
    if kind == "onnx":
        from .onnx_in import from_onnx

        return from_onnx(source, name=name)
    from .neat import from_neat

    return from_neat(source, name=name)


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


def export_file(network, path, *, format: str = "onnx") -> str:
    """Write a spec or plan as ONNX (``format="onnx"``) or neat-python JSON (``"neat-json"``), atomically."""
    from ..compile import Plan, compile

    path = Path(path)
    if format == "onnx":
        from .onnx_out import to_onnx

        plan = network if isinstance(network, Plan) else compile(network)
        _atomic_write(path, to_onnx(plan).SerializeToString())
    elif format == "neat-json":
        from .neat import to_neat

        _atomic_write(path, (json.dumps(to_neat(network), indent=2) + "\n").encode())
    else:
        raise NNGraphError(f"unknown export format '{format}'; choose onnx or neat-json")
    return str(path)

