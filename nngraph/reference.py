"""The correctness oracle: a naive evaluator that walks neurons and sums ``w * x`` edge by edge.

It shares nothing with the compiler but the resolved graph (references, depth) and the
activation formulas; every compiled result is tested against it.
"""
from __future__ import annotations

import math

import numpy as np

from .graph import Graph


def _act(name, alpha, z):
    """Scalar activation, written out plainly (no shared kernels with the compiled path)."""
    if name == "linear":
        return z
    if name == "step":
        return 1.0 if z > 0 else 0.0
    if name == "sign":
        return 1.0 if z >= 0 else -1.0
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return max(z, 0.0)
    if name == "leaky_relu":
        return z if z >= 0 else (0.01 if alpha is None else alpha) * z
    if name == "elu":
        return z if z > 0 else (1.0 if alpha is None else alpha) * math.expm1(z)
    if name == "softplus":
        return max(z, 0.0) + math.log1p(math.exp(-abs(z)))
    return _neat_act(name, z)


def _neat_act(name, z):
    """The evolved-network activations, as neat-python writes them (scaling and clamps included)."""
    clip = lambda v, lo, hi: max(lo, min(hi, v))  # noqa: E731
    if name == "selu":
        lam, a = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
        return lam * z if z > 0 else lam * a * math.expm1(z)
    if name == "clamped":
        return clip(z, -1.0, 1.0)
    if name == "abs":
        return abs(z)
    if name == "square":
        return z * z
    if name == "cube":
        return z * z * z
    if name == "hat":
        return max(0.0, 1.0 - abs(z))
    if name == "neat_sigmoid":
        return 1.0 / (1.0 + math.exp(-clip(5.0 * z, -60.0, 60.0)))
    if name == "neat_tanh":
        return math.tanh(clip(2.5 * z, -60.0, 60.0))
    if name == "neat_sin":
        return math.sin(clip(5.0 * z, -60.0, 60.0))
    if name == "neat_gauss":
        return math.exp(-5.0 * clip(z, -3.4, 3.4) ** 2)
    if name == "neat_softplus":
        return 0.2 * math.log1p(math.exp(clip(5.0 * z, -60.0, 60.0)))
    if name == "neat_exp":
        return math.exp(clip(z, -60.0, 60.0))
    if name == "neat_log":
        return math.log(max(1e-7, z))
    if name == "neat_inv":
        return 0.0 if z == 0 else 1.0 / z  # neat-python: 0 where the division raises
    raise KeyError(name)


def evaluate(graph: Graph, params: dict, x: np.ndarray) -> np.ndarray:
    """Evaluate one sample at a time, neuron by neuron, in depth order; returns (batch, outputs)."""
    _, values = evaluate_neurons(graph, params, x)
    outs = [g for n in graph.outputs for g in range(n.offset, n.offset + n.size)]
    return values[:, outs]


def evaluate_neurons(graph: Graph, params: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every neuron's pre-activation and activation, (batch, neurons) each, by global index.
    Inputs' pre-activation is the input itself."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    incoming = [[] for _ in range(graph.n_neurons)]  # (source neuron, weight)
    for c in graph.connections:
        w = np.asarray(params[c.key], dtype=np.float64)
        s0 = graph.nodes[c.src].offset + c.src_lo
        d0 = graph.nodes[c.dst].offset + c.dst_lo
        if c.dense:
            for i in range(c.m):
                for j in range(c.n):
                    incoming[d0 + j].append((s0 + i, float(w[i, j])))
        else:
            for k in range(c.count):
                incoming[d0 + int(c.cols[k])].append((s0 + int(c.rows[k]), float(w[k])))
    node_of = np.repeat(np.arange(len(graph.nodes)), [n.size for n in graph.nodes])
    order = np.argsort(graph.neuron_level, kind="stable")
    inputs = [g for n in graph.inputs for g in range(n.offset, n.offset + n.size)]
    pres, values = [], []
    for sample in x:
        value = [0.0] * graph.n_neurons
        pre = [0.0] * graph.n_neurons
        for g, v in zip(inputs, sample):
            value[g] = pre[g] = float(v)
        pending_softmax = {}
        for g in order:
            node = graph.nodes[node_of[g]]
            if node.role == "input":
                continue
            z = float(params[f"nodes/{node.name}/bias"][g - node.offset])
            for src, w in incoming[g]:
                z += w * value[src]
            pre[g] = z
            name, alpha = node.activation
            if name == "softmax":
                pending_softmax.setdefault(node.index, {})[g] = z
                if len(pending_softmax[node.index]) == node.size:  # all of the node's neurons are in
                    zs = pending_softmax.pop(node.index)
                    top = max(zs.values())
                    total = sum(math.exp(v - top) for v in zs.values())
                    for h, v in zs.items():
                        value[h] = math.exp(v - top) / total
            else:
                value[g] = _act(name, alpha, z)
        pres.append(pre)
        values.append(value)
    return np.array(pres).reshape(len(x), graph.n_neurons), np.array(values).reshape(len(x), graph.n_neurons)
