"""Networks in and out: neat-python's JSON export and ONNX graphs become specs; plans become ONNX.

::

    from nngraph.interchange import from_neat, from_onnx, to_onnx, to_neat, save
    spec = from_neat("winner.json")        # a Spec, weights literal
    spec = from_neat(genome, config)       # or a neat-python genome with its Config, or a FeedForwardNetwork
    save(spec, "winner.yaml")             # the spec, and an .npz beside it when weights are many
    onnx_model = to_onnx(nngraph.compile.compile(spec))

This sits above the compiler: it may use spec, graph and compile; nothing below imports it.
onnx is imported only by the ONNX functions; neat-python only when given a genome or network.
"""
from __future__ import annotations

from .neat import from_neat
from .neat_out import to_neat
from .neat_read import NeatImportError
from .onnx_read import OnnxImportError
from .files import export_file, import_file, save


def from_onnx(source, **kwargs):
    """See :func:`nngraph.interchange.onnx_in.from_onnx`."""
    from .onnx_in import from_onnx as _from_onnx

    return _from_onnx(source, **kwargs)


def to_onnx(plan, **kwargs):
    """See :func:`nngraph.interchange.onnx_out.to_onnx`."""
    from .onnx_out import to_onnx as _to_onnx

    return _to_onnx(plan, **kwargs)


__all__ = ["from_neat", "from_onnx", "to_onnx", "to_neat", "save", "import_file", "export_file", "NeatImportError",
           "OnnxImportError"]
