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
    raise KeyError(name)


def evaluate(graph: Graph, params: dict, x: np.ndarray) -> np.ndarray:
    """Evaluate one sample at a time, neuron by neuron, in depth order; returns (batch, outputs)."""
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
    out = []
    for sample in x:
        value = [0.0] * graph.n_neurons
        for g, v in zip(inputs, sample):
            value[g] = float(v)
        pending_softmax = {}
        for g in order:
            node = graph.nodes[node_of[g]]
            if node.role == "input":
                continue
            z = float(params[f"nodes/{node.name}/bias"][g - node.offset])
            for src, w in incoming[g]:
                z += w * value[src]
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
        out.append([value[g] for n in graph.outputs for g in range(n.offset, n.offset + n.size)])
    return np.array(out)
