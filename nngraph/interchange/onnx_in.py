"""Read an ONNX graph of dense layers into a spec.

Recognised: Gemm (alpha, beta, transB; the data as A with transA=0), MatMul followed by an Add
of a constant (or alone), Relu, Sigmoid, Tanh, LeakyRelu, Elu, Softmax over the last axis,
Identity, and Flatten (axis 1) of a graph input. Every weight is an initializer (or a Constant).
Each dense product becomes an nngraph node whose activation is the operator applied to it next;
an activation applied to something that already has one becomes a node of its own, fed one to
one with weight 1. Anything else is refused with the node's name and the reason.

The file is read by :mod:`.onnx_read`: without following external data, its size bounded before
it is parsed, every initializer's declared size checked against its bytes and the limits.
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import NNGraphError
from ..limits import Limits, default_limits
from ..spec import Spec, load
from .onnx_read import OnnxImportError, read_model, tensor_values

ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu", "Elu": "elu",
               "Softmax": "softmax"}
MIN_OPSET = 7  # Gemm without the old 'broadcast' attribute; Softmax's axis rule is read per opset
SUPPORTED = ("Gemm", "MatMul", "Add", "Identity", "Flatten", "Constant", *ACTIVATIONS)


def from_onnx(source, *, name: str | None = None, limits: Limits | None = None) -> Spec:
    """A spec computing what an ONNX graph of dense layers computes.

    Parameters
    ----------
    source : path, bytes or onnx.ModelProto
    name : str, optional
        The spec's name (default: the graph's name, else the file name).

    Returns
    -------
    Spec
        With literal weights (``nngraph.interchange.save`` moves them to a parameters file).

    Raises
    ------
    OnnxImportError
        Naming the file and the node: operators nngraph cannot map, external data, sizes over
        the limits, cycles, shapes that disagree, non-finite weights, unreadable files.
    """
    limits = limits or default_limits()
    model, where = read_model(source, limits)
    return _Importer(model, where, limits).spec(name)


def _safe_name(text, used, fallback):
    base = re.sub(r"[^A-Za-z0-9_]", "_", text or "")[:100] or fallback
    if not re.match(r"[A-Za-z_]", base):
        base = "n_" + base
    out, k = base, 1
    while out in used:
        k += 1
        out = f"{base}_{k}"
    used.add(out)
    return out


class _Layer:
    """An nngraph node under construction."""

    def __init__(self, name, size, role, onnx_name):
        self.name, self.size, self.role, self.onnx_name = name, size, role, onnx_name
        self.activation = None  # (name, alpha)
        self.bias = None
        self.incoming = []  # (source layer, weights (m, n) or "one_to_one")
        self.latest = onnx_name  # the tensor holding this node's current value


class _Importer:
    def __init__(self, model, where, limits):
        self.model, self.where, self.limits = model, where, limits
        self.graph = model.graph
        self.used_names = set()
        self.next_number = {}  # base -> the next number _hidden_name tries: each name found in O(1)
        self.layers = []
        self.total_weights = 0
        self.total_neurons = 0
        self.listed = {}  # id of a weight array -> its list form, made once however many edges share it

    def fail(self, node, message):
        label = (f"node '{node.name}' ({node.op_type})" if node.name else
                 f"the {node.op_type} node computing '{node.output[0] if node.output else '?'}'")
        raise OnnxImportError(f"{self.where}: {label}: {message}")

    # -- constants --------------------------------------------------------------------------
    def _tensor(self, t, what):
        return tensor_values(t, what, self.where, self.limits)

    # -- the graph ---------------------------------------------------------------------------
    def _order(self):
        """Nodes in an order where each input is produced first; a cycle is refused by name."""
        nodes = list(self.graph.node)
        known = {i.name for i in self.graph.input} | {t.name for t in self.graph.initializer} | {""}
        producer = {}
        for k, n in enumerate(nodes):
            for o in n.output:
                if o in producer or o in known:
                    self.fail(n, f"output '{o}' is produced twice")
                producer[o] = k
        for k, n in enumerate(nodes):
            for i in n.input:
                if i not in known and i not in producer:
                    self.fail(n, f"input '{i}' is not a graph input, an initializer or any node's output")
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(range(len(nodes)))
        g.add_edges_from((producer[i], k) for k, n in enumerate(nodes) for i in n.input if i in producer)
        try:
            order = list(nx.lexicographical_topological_sort(g))
        except nx.NetworkXUnfeasible:
            cycle = nx.find_cycle(g)
            names = " -> ".join(nodes[a].name or nodes[a].op_type for a, _ in cycle)
            raise OnnxImportError(f"{self.where}: the graph has a cycle ({names} -> "
                                  f"{nodes[cycle[0][0]].name or nodes[cycle[0][0]].op_type}); "
                                  "a feed-forward model has none") from None
        return [nodes[k] for k in order]

    def spec(self, name):
        from onnx import AttributeProto

        consts = {}
        opset = _opset(self.model)
        newest = _newest_opset()
        if opset > newest:
            raise OnnxImportError(f"{self.where}: opset {opset}; the installed onnx knows opsets up to {newest} "
                                  "(re-export with an opset it knows, or upgrade onnx)")
        if opset < MIN_OPSET:
            raise OnnxImportError(f"{self.where}: opset {opset}; nngraph reads opset {MIN_OPSET} and later "
                                  "(older Gemm and Softmax mean other things; re-export with a newer opset)")
        for t in self.graph.initializer:
            if t.name in consts:
                raise OnnxImportError(f"{self.where}: initializer '{t.name}' is defined twice; which one "
                                      "a node reads would be a guess")
            consts[t.name] = self._tensor(t, "initializer")
        if not self.graph.output:
            raise OnnxImportError(f"{self.where}: the graph has no outputs; nothing says what the network computes")
        inits = set(consts)
        values = {}  # tensor name -> ("layer", layer, fresh) ; fresh: linear output nobody else reads yet
        consumers = {}
        for n in self.graph.node:
            for i in n.input:
                consumers[i] = consumers.get(i, 0) + 1
        for o in self.graph.output:
            consumers[o.name] = consumers.get(o.name, 0) + 1
        for inp in self.graph.input:
            if inp.name in inits:
                continue  # older exporters list initializers as inputs too
            layer = self._input_layer(inp)
            values[inp.name] = layer
        if not values:
            raise OnnxImportError(f"{self.where}: the graph has no data input")
        for node in self._order():
            if node.domain not in ("", "ai.onnx"):
                self.fail(node, f"its operator is from domain '{node.domain}'; nngraph reads the standard "
                          "ONNX operators (domain ai.onnx) only")
            if node.op_type not in SUPPORTED:
                self.fail(node, f"nngraph maps dense layers only ({', '.join(SUPPORTED[:-6])} and the activations "
                          f"{', '.join(ACTIVATIONS)}); a {node.op_type} has no form as neurons and weights")
            need = 2 if node.op_type in ("Gemm", "MatMul", "Add") else (0 if node.op_type == "Constant" else 1)
            if len(node.input) < need or not node.output:
                self.fail(node, f"a {node.op_type} needs {need} input(s) and an output; "
                          f"it has {len(node.input)} and {len(node.output)}")
            attrs = {a.name: a for a in node.attribute}
            self._known_attributes(node, attrs, opset)
            if node.op_type == "Constant":
                if "value" not in attrs or attrs["value"].type != AttributeProto.TENSOR:
                    self.fail(node, "only Constant nodes holding a tensor (value) are read")
                consts[node.output[0]] = self._tensor(attrs["value"].t, "constant")
                continue
            getattr(self, f"_op_{node.op_type.lower()}")(node, attrs, values, consts, consumers)
        outputs = []
        for o in self.graph.output:
            if o.name not in values:
                raise OnnxImportError(f"{self.where}: graph output '{o.name}' is not computed from the data input")
            layer = values[o.name]
            if layer.latest != o.name:
                raise OnnxImportError(f"{self.where}: graph output '{o.name}' is a value of '{layer.name}' that a later "
                                      "operator changes in place of it; nngraph keeps one value per node")
            if layer.role == "input":
                raise OnnxImportError(f"{self.where}: graph output '{o.name}' is a graph input itself")
            self._check_declared(o, layer.size, "graph output")
            if layer.role == "output":
                raise OnnxImportError(f"{self.where}: graph outputs '{layer.onnx_name}' and '{o.name}' are the same "
                                      "tensor")
            layer.role, layer.onnx_name = "output", o.name
            self.used_names.discard(layer.name)
            layer.name = _safe_name(o.name, self.used_names, "output")
            outputs.append(layer)
        return self._build(name, outputs)

    def _known_attributes(self, node, attrs, opset):
        """Refuse attributes the operator does not define at this opset: ignoring one would be a guess."""
        from onnx import defs

        try:
            allowed = set(defs.get_schema(node.op_type, opset, "").attributes)
        except defs.SchemaError:
            self.fail(node, f"ONNX opset {opset} has no {node.op_type} operator")
        unknown = sorted(set(attrs) - allowed)
        if unknown:
            self.fail(node, f"attribute {unknown[0][:100]!r} is not one a {node.op_type} has at opset {opset} "
                      f"(it has {', '.join(sorted(allowed)) or 'none'})")

    def _check_declared(self, info, size, what):
        shape = info.type.tensor_type.shape
        if info.type.tensor_type.HasField("shape") and len(shape.dim) >= 1:
            last = shape.dim[len(shape.dim) - 1]
            if last.HasField("dim_value") and last.dim_value != size and len(shape.dim) == 2:
                raise OnnxImportError(f"{self.where}: {what} '{info.name}' declares width {last.dim_value}, but the "
                                      f"graph computes {size} values per sample")

    def _input_layer(self, inp):
        tt = inp.type.tensor_type
        if not inp.type.HasField("tensor_type") or not tt.HasField("shape") or len(tt.shape.dim) < 2:
            raise OnnxImportError(f"{self.where}: graph input '{inp.name}' needs a shape (batch, features) "
                                  "with a known number of features")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if any(d is None or d <= 0 for d in dims[1:]):
            raise OnnxImportError(f"{self.where}: graph input '{inp.name}' has dimensions {dims}; all but the "
                                  "batch dimension must be known")
        size = 1
        for d in dims[1:]:
            size *= d
        if size > self.limits.max_node_size:
            raise OnnxImportError(f"{self.where}: graph input '{inp.name}' has {size:,} features, over the limit "
                                  f"of {self.limits.max_node_size:,}; {Limits.how_to_raise('max_node_size')}")
        self.total_neurons += size
        if self.total_neurons > self.limits.max_neurons:
            raise OnnxImportError(f"{self.where}: graph input '{inp.name}' brings the neurons to "
                                  f"{self.total_neurons:,}, {self.limits.over('max_neurons', 'neurons in all')}")
        layer = _Layer(_safe_name(inp.name, self.used_names, "input"), size, "input", inp.name)
        layer.rank = len(dims)
        self.layers.append(layer)
        return layer

    def _data(self, node, values, name):
        if name not in values:
            self.fail(node, f"'{name}' must be the data flowing through the network (it is a constant here)")
        layer = values[name]
        if getattr(layer, "rank", 2) != 2:
            self.fail(node, f"'{name}' has {layer.rank} dimensions; Flatten it (axis 1) first")
        return layer

    def _const(self, node, consts, name, what):
        if name not in consts:
            self.fail(node, f"{what} '{name}' must be an initializer or Constant (a weight), not computed data")
        return consts[name]

    # -- operators ---------------------------------------------------------------------------
    def _dense(self, node, src, W, values):
        if W.ndim != 2 or W.shape[0] != src.size:
            self.fail(node, f"weights of shape {list(W.shape)} do not fit its input of {src.size} values per "
                      f"sample (expected [{src.size}, outputs])")
        self.total_weights += W.size
        if self.total_weights > self.limits.max_weights:
            self.fail(node, f"{self.total_weights:,} weights in all, {self.limits.over('max_weights', 'weights')}")
        self._count_neurons(node, W.shape[1])
        layer = _Layer(self._hidden_name("hidden"), W.shape[1], "hidden", node.output[0])
        layer.origin = node.name
        layer.incoming.append((src, W))
        layer.bias = np.zeros(W.shape[1])
        self.layers.append(layer)
        values[node.output[0]] = layer
        return layer

    def _hidden_name(self, base):
        k = self.next_number.get(base, 1)
        while f"{base}{k}" in self.used_names:
            k += 1
        self.next_number[base] = k + 1
        self.used_names.add(f"{base}{k}")
        return f"{base}{k}"

    def _count_neurons(self, node, size):
        """Count a new node's neurons against the limits before anything of its size is made."""
        if size > self.limits.max_node_size:
            self.fail(node, f"it makes a node of {size:,} neurons, {self.limits.over('max_node_size', 'neurons')}")
        self.total_neurons += size
        if self.total_neurons > self.limits.max_neurons:
            self.fail(node, f"its {size:,} neurons bring the total to {self.total_neurons:,}, "
                      f"{self.limits.over('max_neurons', 'neurons in all')}")

    def _linear_tail(self, name, values, consumers) -> bool:
        """``name`` is a computed node's value before any activation, read by one operator only."""
        layer = values[name]
        return (layer.role != "input" and layer.activation is None and layer.latest == name
                and consumers.get(name, 0) == 1)

    def _bias(self, node, layer, c):
        c = np.asarray(c, dtype=np.float64)
        if c.size == 1:
            return np.full(layer.size, float(c.reshape(-1)[0]))
        if c.shape not in ((layer.size,), (1, layer.size)):
            self.fail(node, f"bias of shape {list(c.shape)} does not fit {layer.size} outputs "
                      f"(expected [{layer.size}] or [1, {layer.size}])")
        return c.reshape(-1)

    def _attr(self, node, attrs, name, kind):
        from onnx import AttributeProto

        a = attrs.get(name)
        if a is not None and a.type != getattr(AttributeProto, kind):
            self.fail(node, f"attribute {name} is of type {AttributeProto.AttributeType.Name(a.type)}; "
                      f"ONNX defines it as {kind}")
        return a

    def _flag(self, node, attrs, name):
        a = self._attr(node, attrs, name, "INT")
        if a is not None and a.i not in (0, 1):
            self.fail(node, f"{name}={a.i}; ONNX allows 0 or 1")
        return a.i if a is not None else 0

    def _float(self, node, attrs, name, default):
        a = self._attr(node, attrs, name, "FLOAT")
        if a is not None and not np.isfinite(a.f):
            self.fail(node, f"{name}={a.f}; a finite number is needed")
        return a.f if a is not None else default

    def _op_gemm(self, node, attrs, values, consts, consumers):
        if len(node.input) < 2:
            self.fail(node, "needs inputs A and B")
        ta = self._flag(node, attrs, "transA")
        tb = self._flag(node, attrs, "transB")
        alpha = self._float(node, attrs, "alpha", 1.0)
        beta = self._float(node, attrs, "beta", 1.0)
        if ta:
            self.fail(node, "transA=1 would transpose the batch of data; nngraph maps Gemm(data, weights)")
        src = self._data(node, values, node.input[0])
        B = self._const(node, consts, node.input[1], "B")
        if B.ndim != 2:
            self.fail(node, f"B has shape {list(B.shape)}; expected a matrix")
        W = (B.T if tb else B) * alpha if alpha != 1.0 else (B.T if tb else B)
        layer = self._dense(node, src, np.ascontiguousarray(W), values)
        if len(node.input) > 2 and node.input[2]:
            c = self._bias(node, layer, self._const(node, consts, node.input[2], "C"))
            layer.bias = c * beta if beta != 1.0 else c

    def _op_matmul(self, node, attrs, values, consts, consumers):
        src = self._data(node, values, node.input[0])
        self._dense(node, src, self._const(node, consts, node.input[1], "B"), values)

    def _op_add(self, node, attrs, values, consts, consumers):
        a, b = node.input[0], node.input[1]
        data, const = (a, b) if a in values else (b, a)
        if data not in values or const in values:
            self.fail(node, "nngraph maps an Add of a MatMul's result and a constant bias (a sum of two data "
                      "tensors has no dense form)")
        layer = values[data]
        if not self._linear_tail(data, values, consumers):
            self.fail(node, f"adds a constant to '{data}', which is not the output of a MatMul or Gemm used "
                      "only here (a bias after an activation has no dense form)")
        layer.bias = layer.bias + self._bias(node, layer, self._const(node, consts, const, "bias"))
        values[node.output[0]] = layer
        layer.latest = node.output[0]

    def _op_identity(self, node, attrs, values, consts, consumers):
        if node.input[0] in consts:
            consts[node.output[0]] = consts[node.input[0]]
            return
        layer = self._data(node, values, node.input[0])
        if layer.latest == node.input[0] and consumers.get(node.input[0], 0) == 1:
            layer.latest = node.output[0]
        values[node.output[0]] = layer

    def _op_flatten(self, node, attrs, values, consts, consumers):
        axis = self._attr(node, attrs, "axis", "INT")
        axis = axis.i if axis is not None else 1
        if node.input[0] not in values:
            self.fail(node, "flattens a constant; nngraph maps Flatten of the data input")
        layer = values[node.input[0]]
        if axis != 1:
            self.fail(node, f"axis={axis}; nngraph maps Flatten with axis 1 (keep the batch, flatten the rest)")
        if getattr(layer, "rank", 2) > 2 and layer.role != "input":
            self.fail(node, "flattens a computed tensor of more than two dimensions")
        if getattr(layer, "rank", 2) > 2:
            layer.rank = 2  # the input's features, flattened in C order, are the spec's input neurons
        if layer.latest == node.input[0] and consumers.get(node.input[0], 0) == 1:
            layer.latest = node.output[0]
        values[node.output[0]] = layer

    def _activation(self, node, attrs, values, consumers, act):
        name = node.input[0]
        layer = self._data(node, values, name)
        if not self._linear_tail(name, values, consumers):
            # its own node, fed one to one with weight 1: f(1 * a + 0) = f(a)
            self._count_neurons(node, layer.size)
            own = _Layer(self._hidden_name(act[0]), layer.size, "hidden", node.output[0])
            own.origin = node.name
            own.incoming.append((layer, "one_to_one"))
            own.bias = np.zeros(layer.size)
            self.layers.append(own)
            layer = own
        layer.activation = act
        layer.latest = node.output[0]
        values[node.output[0]] = layer

    def _simple(op):
        def handler(self, node, attrs, values, consts, consumers):
            alpha = None
            if op in ("LeakyRelu", "Elu"):
                alpha = _f32(self._float(node, attrs, "alpha", 0.01 if op == "LeakyRelu" else 1.0))
            if op == "Softmax":
                self._data(node, values, node.input[0])
                axis = self._attr(node, attrs, "axis", "INT")
                axis = axis.i if axis is not None else (1 if self.model.opset_import and
                                                        _opset(self.model) < 13 else -1)
                if axis not in (1, -1):
                    self.fail(node, f"axis={axis}; nngraph's softmax normalises over a node's neurons "
                              "(axis 1 or -1 of (batch, features))")
            self._activation(node, attrs, values, consumers, (ACTIVATIONS[op], alpha))
        return handler

    _op_relu = _simple("Relu")
    _op_sigmoid = _simple("Sigmoid")
    _op_tanh = _simple("Tanh")
    _op_leakyrelu = _simple("LeakyRelu")
    _op_elu = _simple("Elu")
    _op_softmax = _simple("Softmax")

    # -- the spec -----------------------------------------------------------------------------
    def _build(self, name, outputs):
        nodes, edges = [], []
        for layer in self.layers:
            node = {"name": layer.name, "role": layer.role, "size": layer.size}
            if layer.role != "input":
                if layer.activation is not None:
                    act, alpha = layer.activation
                    node["activation"] = act if alpha is None else {"name": act, "alpha": alpha}
                node["bias"] = layer.bias.tolist()
            if layer.onnx_name != layer.name and layer.role in ("input", "output"):
                node["description"] = f"ONNX tensor '{layer.onnx_name[:100]}'"
            elif getattr(layer, "origin", ""):
                node["description"] = f"ONNX node '{layer.origin[:100]}'"
            nodes.append(node)
            for src, W in layer.incoming:
                if isinstance(W, str):
                    edges.append({"from": src.name, "to": layer.name, "pattern": "one_to_one",
                                  "weights": [1.0] * layer.size})
                else:
                    if id(W) not in self.listed:  # one initializer read by many MatMuls is listed once
                        self.listed[id(W)] = W.tolist()
                    edges.append({"from": src.name, "to": layer.name, "weights": self.listed[id(W)]})
        spec_name = name or _safe_spec_name(self.graph.name) or "onnx-model"
        try:
            return load({"nngraph": 1, "name": spec_name, "description": f"Imported from ONNX ({self.where}).",
                         "nodes": nodes, "edges": edges})
        except NNGraphError as exc:  # located in the built spec: name the model instead of "<dict>"
            text = str(exc).replace("<dict>: ", "")
            raise OnnxImportError(f"{self.where}: the model does not make a valid network: {text}") from None


def _f32(value: float) -> float:
    """An ONNX float attribute as the shortest decimal that is the same float32 (0.01, not 0.0099999998)."""
    return float(repr(np.float32(value)).removeprefix("np.float32(").removesuffix(")"))


def _opset(model) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return 13


def _newest_opset() -> int:
    from onnx import defs

    return defs.onnx_opset_version()


def _safe_spec_name(text):
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", text or "")[:128].lstrip(".-")
    return out or None
