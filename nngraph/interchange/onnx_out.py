"""Write a compiled plan as an ONNX graph, stage by stage.

Stage 0 is the input nodes concatenated (one named graph input per input node). Each later
stage is ``sum over its blocks of Gather(stage src, rows) @ W + b`` (MatMul, Add), then its
activations by column segment (Slice, the activation's operators, Concat); each output node is
gathered from the stages that hold its neurons into a graph output of its own name. Blocks are
stored dense (sparse ones included: onnxruntime has no sparse MatMul for this product), in the
plan's dtype, so a float64 plan keeps every weight bit for bit.
"""
from __future__ import annotations

import numpy as np

from ..errors import NNGraphError
from ..limits import Limits, default_limits

OPSET = 17


class _Builder:
    def __init__(self, dtype):
        from onnx import TensorProto, helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.dtype = np.dtype(dtype)
        self.elem = TensorProto.DOUBLE if self.dtype == np.float64 else TensorProto.FLOAT
        self.nodes, self.inits, self.consts = [], [], {}
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"nngraph/{hint}/{self.count}"

    def init(self, hint, array, dtype=None):
        name = self.name(hint)
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(array, dtype=dtype or self.dtype), name))
        return name

    def const(self, value):
        """A shared scalar constant in the plan's dtype."""
        if value not in self.consts:
            self.consts[value] = self.init("const", np.array(value))
        return self.consts[value]

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


def to_onnx(plan, *, limits: Limits | None = None, opset: int = OPSET):
    """An ONNX model computing ``plan.forward``: one graph input per input node, one output per output node.

    Parameters
    ----------
    plan : Plan
        A compiled plan (:func:`nngraph.compile.compile`); its dtype (float32 or float64) is the model's.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker``.

    Raises
    ------
    NNGraphError
        When a block stored dense would exceed ``limits.max_array_bytes``.
    """
    from ..errors import require

    onnx = require("onnx", "ONNX export")
    limits = limits or default_limits()
    b = _Builder(plan.dtype)
    h = b.helper
    graph_inputs = [h.make_tensor_value_info(name, b.elem, ["batch", size]) for name, size in plan.inputs]
    if len(plan.inputs) == 1:
        stage_out = {0: b.op("Identity", [plan.inputs[0][0]], "stage0")}
    else:
        stage_out = {0: b.op("Concat", [n for n, _ in plan.inputs], "stage0", axis=1)}
    for stage in plan.stages[1:]:
        stage_out[stage.index] = _stage(b, stage, stage_out, limits)
    graph_outputs = []
    for node in plan.graph.outputs:
        _output(b, plan, node, stage_out)
        graph_outputs.append(h.make_tensor_value_info(node.name, b.elem, ["batch", node.size]))
    graph = h.make_graph(b.nodes, plan.spec.name, graph_inputs, graph_outputs, b.inits)
    model = h.make_model(graph, producer_name="nngraph", opset_imports=[h.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases of the last years
    if plan.spec.description:
        model.doc_string = plan.spec.description
    onnx.checker.check_model(model)
    return model


def _stage(b, stage, stage_out, limits):
    terms = []
    for block in stage.blocks:
        rows, width = block.shape
        nbytes = rows * width * b.dtype.itemsize
        if nbytes > limits.max_array_bytes:
            raise NNGraphError(f"stage {stage.index}: a block of {rows:,} x {width:,} would take {nbytes:,} bytes "
                               f"stored dense, over the limit of {limits.max_array_bytes:,}; "
                               f"{Limits.how_to_raise('max_array_bytes')}")
        src = stage_out[block.src]
        if block.rows is not None:
            src = b.op("Gather", [src, b.init("rows", np.asarray(block.rows), np.int64)], "gather", axis=1)
        terms.append(b.op("MatMul", [src, b.init(f"W{stage.index}_{block.src}", block.dense())], "matmul"))
    if not terms:  # neurons without incoming connections: zeros of the batch's height, then + bias
        first = stage_out[0]
        zero_row = b.init("zeros", np.zeros((1, stage.width)))
        col = b.op("ReduceSum", [b.op("Mul", [first, b.const(0.0)]), b.init("axes", np.array([1]), np.int64)],
                   keepdims=1)
        terms.append(b.op("Mul", [col, zero_row]))
    z = terms[0] if len(terms) == 1 else b.op("Sum", terms, "sum")
    if stage.bias is not None:
        z = b.op("Add", [z, b.init(f"b{stage.index}", stage.bias)], f"z{stage.index}")
    segments = stage.segments
    if len(segments) == 1 and segments[0][2] == 0 and segments[0][3] == stage.width:
        return _activation(b, segments[0][0], segments[0][1], z)
    parts = []
    for name, alpha, lo, hi in segments:
        part = b.op("Slice", [z, b.init("lo", np.array([lo]), np.int64), b.init("hi", np.array([hi]), np.int64),
                              b.init("axes", np.array([1]), np.int64)], "slice")
        parts.append(_activation(b, name, alpha, part))
    return b.op("Concat", parts, f"stage{stage.index}", axis=1)


def _activation(b, name, alpha, x):
    """ONNX operators computing nngraph's activation ``name`` (neat_* clamps included)."""
    op, c = b.op, b.const

    def clip(v, lo, hi):
        return op("Clip", [v, c(lo), c(hi)])

    if name == "linear":
        return op("Identity", [x])
    def softplus(v):  # max(v, 0) + log(1 + exp(-|v|)): stable, and onnxruntime has no float64 Softplus
        return op("Add", [op("Relu", [v]), op("Log", [op("Add", [c(1.0), op("Exp", [op("Neg", [op("Abs", [v])])])])])])

    if name in ("sigmoid", "tanh", "relu", "abs"):
        return op({"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "abs": "Abs"}[name], [x])
    if name == "softplus":
        return softplus(x)
    if name == "softmax":
        return op("Softmax", [x], axis=1)
    # onnxruntime runs LeakyRelu and Elu in float32 only: float64 models spell them out
    if name == "leaky_relu":  # nngraph keeps z at z >= 0; LeakyRelu does the same
        a = 0.01 if alpha is None else float(alpha)
        if b.dtype == np.float32:
            return op("LeakyRelu", [x], alpha=a)
        return op("Where", [op("GreaterOrEqual", [x, c(0.0)]), x, op("Mul", [x, c(a)])])
    if name == "elu":
        a = 1.0 if alpha is None else float(alpha)
        if b.dtype == np.float32:
            return op("Elu", [x], alpha=a)
        neg = op("Mul", [op("Sub", [op("Exp", [op("Min", [x, c(0.0)])]), c(1.0)]), c(a)])
        return op("Where", [op("Greater", [x, c(0.0)]), x, neg])
    if name == "step":
        return op("Cast", [op("Greater", [x, c(0.0)])], to=b.elem)
    if name == "sign":
        return op("Where", [op("GreaterOrEqual", [x, c(0.0)]), c(1.0), c(-1.0)])
    if name == "selu":
        from ..activations import SELU_ALPHA, SELU_LAMBDA

        neg = op("Mul", [op("Exp", [op("Min", [x, c(0.0)])]), c(SELU_LAMBDA * SELU_ALPHA)])
        neg = op("Sub", [neg, c(SELU_LAMBDA * SELU_ALPHA)])
        return op("Where", [op("Greater", [x, c(0.0)]), op("Mul", [x, c(SELU_LAMBDA)]), neg])
    if name == "clamped":
        return clip(x, -1.0, 1.0)
    if name == "square":
        return op("Mul", [x, x])
    if name == "cube":
        return op("Mul", [op("Mul", [x, x]), x])
    if name == "hat":
        return op("Relu", [op("Sub", [c(1.0), op("Abs", [x])])])
    if name in ("neat_sigmoid", "neat_tanh", "neat_sin", "neat_softplus"):
        scale = 2.5 if name == "neat_tanh" else 5.0
        t = clip(op("Mul", [x, c(scale)]), -60.0, 60.0)
        if name == "neat_softplus":
            return op("Mul", [softplus(t), c(0.2)])
        return op({"neat_sigmoid": "Sigmoid", "neat_tanh": "Tanh", "neat_sin": "Sin"}[name], [t])
    if name == "neat_gauss":
        t = clip(x, -3.4, 3.4)
        return op("Exp", [op("Mul", [op("Mul", [t, t]), c(-5.0)])])
    if name == "neat_exp":
        return op("Exp", [clip(x, -60.0, 60.0)])
    if name == "neat_log":
        return op("Log", [op("Max", [x, c(1e-7)])])
    if name == "neat_inv":
        return op("Where", [op("Equal", [x, c(0.0)]), c(0.0), op("Reciprocal", [x])])
    raise NNGraphError(f"activation '{name}' has no ONNX form yet")


def _output(b, plan, node, stage_out):
    """Gather an output node's neurons from the stages holding them, into a tensor named after it."""
    g = np.arange(node.offset, node.offset + node.size)
    stages, cols = plan.stage_of[g], plan.col_of[g]
    used = sorted(set(stages.tolist()))
    if len(used) == 1:
        src = stage_out[used[0]]
        index = cols
    else:
        src = b.op("Concat", [stage_out[s] for s in used], "outputs", axis=1)
        offset = dict(zip(used, np.cumsum([0] + [plan.stages[s].width for s in used[:-1]]).tolist()))
        index = cols + np.array([offset[s] for s in stages.tolist()])
    width = plan.stages[used[0]].width if len(used) == 1 else None
    if width == node.size and (index == np.arange(node.size)).all():
        b.nodes.append(b.helper.make_node("Identity", [src], [node.name], name=f"nngraph/output/{node.name}"))
    else:
        b.nodes.append(b.helper.make_node("Gather", [src, b.init("cols", index, np.int64)], [node.name],
                                          name=f"nngraph/output/{node.name}", axis=1))
