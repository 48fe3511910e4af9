"""Reading an ONNX file safely: size bounded before parsing, no external data followed, names
checked as text, and every tensor's declared size checked against the limits and its own bytes
before numpy reads it."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import NNGraphError
from ..limits import Limits


class OnnxImportError(NNGraphError):
    """An ONNX model that cannot be imported; the message names the file and the graph node."""


def read_model(source, limits):
    """An onnx.ModelProto and the name errors give it, from a path, bytes or a model."""
    from ..errors import require

    onnx = require("onnx", "ONNX import")

    if isinstance(source, onnx.ModelProto):
        return source, "<model>"
    if isinstance(source, (bytes, bytearray)):
        data, where = bytes(source), "<bytes>"
    else:
        path, where = Path(source), str(source)
        try:
            if not path.is_file():
                raise OnnxImportError(f"{where}: {'no such file' if not path.exists() else 'not a regular file'}")
            size = path.stat().st_size
            if size > limits.max_array_bytes:
                raise OnnxImportError(f"{where}: {size:,} bytes, over the limit of {limits.max_array_bytes:,}; "
                                      f"{Limits.how_to_raise('max_array_bytes')}")
            data = path.read_bytes()
        except OSError as exc:
            raise OnnxImportError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limits.max_array_bytes:
        raise OnnxImportError(f"{where}: {len(data):,} bytes, over the limit of {limits.max_array_bytes:,}")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)  # never loads external data; protobuf bounds nesting itself
    except Exception as exc:  # DecodeError, RecursionError, ...: all mean "not a model we can read"
        raise OnnxImportError(f"{where}: not a readable ONNX model ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not model.HasField("graph"):
        raise OnnxImportError(f"{where}: not an ONNX model (no graph)")
    _check_names(model.graph, where)
    return model, where


def _check_names(graph, where):
    """protobuf hands back invalid UTF-8 in string fields as bytes: refuse it once, here."""
    texts = [graph.name]
    for n in graph.node:
        texts += [n.name, n.op_type, n.domain, *n.input, *n.output, *(a.name for a in n.attribute)]
    texts += [t.name for t in graph.initializer] + [v.name for v in (*graph.input, *graph.output)]
    for n in graph.node:
        for a in n.attribute:
            if a.HasField("t"):
                texts.append(a.t.name)
    if not all(isinstance(t, str) for t in texts):
        raise OnnxImportError(f"{where}: a name in the graph is not valid UTF-8 text; the file is damaged")


def tensor_values(t, what, where, limits):
    """A float64 array of an initializer or Constant tensor, or a located refusal."""
    from onnx import TensorProto, numpy_helper

    if t.data_location == TensorProto.EXTERNAL or len(t.external_data):
        raise OnnxImportError(f"{where}: {what} '{t.name}' keeps its values in an external file; "
                              "nngraph reads only self-contained models (save with all tensors inside)")
    dtypes = {TensorProto.FLOAT: 4, TensorProto.DOUBLE: 8, TensorProto.FLOAT16: 2, TensorProto.INT64: 8,
              TensorProto.INT32: 4}
    if t.data_type not in dtypes:
        kind = TensorProto.DataType.Name(t.data_type) if t.data_type in TensorProto.DataType.values() \
            else f"number {t.data_type}"
        raise OnnxImportError(f"{where}: {what} '{t.name}' has element type {kind}; weights are float "
                              "or double")
    dims = [int(d) for d in t.dims]
    if any(d < 0 for d in dims) or len(dims) > 4:
        raise OnnxImportError(f"{where}: {what} '{t.name}' has invalid dimensions {dims}")
    count = 1
    for d in dims:
        count *= d
    if any(d > limits.max_weights for d in dims):
        raise OnnxImportError(f"{where}: {what} '{t.name}' declares dimensions {dims}, one of them "
                              f"{limits.over('max_weights', 'values')}")
    if count == 0:
        raise OnnxImportError(f"{where}: {what} '{t.name}' declares dimensions {dims}, which hold no values; "
                              "a weight or bias needs at least one")
    if count > limits.max_weights or count * 8 > limits.max_array_bytes:
        raise OnnxImportError(f"{where}: {what} '{t.name}' declares {count:,} values, over the limit of "
                              f"{limits.max_weights:,}; {Limits.how_to_raise('max_weights')}")
    typed = len(t.float_data) + len(t.double_data) + len(t.int64_data) + len(t.int32_data)
    if t.HasField("raw_data"):  # numpy_helper reads raw_data whenever it is set, even empty
        if typed or len(t.raw_data) % dtypes[t.data_type]:
            raise OnnxImportError(f"{where}: {what} '{t.name}' holds {len(t.raw_data):,} raw bytes"
                                  f"{f' and {typed:,} typed values' if typed else ''}; the file is damaged")
        stored = len(t.raw_data) // dtypes[t.data_type]
    else:
        stored = typed
    if stored != count:
        raise OnnxImportError(f"{where}: {what} '{t.name}' declares shape {dims} ({count:,} values) but "
                              f"holds {stored:,}; the file is damaged")
    arr = numpy_helper.to_array(t).astype(np.float64)
    if not np.isfinite(arr).all():
        raise OnnxImportError(f"{where}: {what} '{t.name}' contains NaN or infinite values")
    return arr
