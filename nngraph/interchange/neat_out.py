"""Writing neat-python's JSON network export (format 1.0, feedforward) from a spec or plan."""
from __future__ import annotations

import numpy as np

from ..errors import NNGraphError
from .neat import TO_NEAT
from .neat_read import FORMAT_VERSION


def to_neat(network, *, metadata: dict | None = None) -> dict:
    """neat-python's JSON export (format 1.0, feedforward) of a spec or compiled plan.

    Every neuron becomes a neat node (inputs keep the keys -1, -2, ...; outputs 0, 1, ...;
    hidden neurons count on from there, or the neat keys kept in ``labels`` by the importer),
    with ``sum`` aggregation and ``response`` 1, so weights are written bit for bit.

    Raises
    ------
    NNGraphError
        For an activation neat-python does not have exactly (softmax, step, sign, nngraph's
        sigmoid and tanh, which neat-python scales and clamps differently).
    """
    from ..compile import Plan, compile

    plan = network if isinstance(network, Plan) else compile(network, dtype=np.float64)
    graph = plan.graph
    params = plan.parameters()
    for node in graph.nodes:
        if node.role != "input" and node.activation not in TO_NEAT:
            name, alpha = node.activation
            raise NNGraphError(f"node '{node.name}': neat-python has no activation that computes {name}"
                               f"{f' (alpha {alpha})' if alpha is not None else ''} exactly; it has "
                               f"{', '.join(sorted({a for a, _ in TO_NEAT}))}")
    keys = _neat_keys(graph)
    nodes, conns = [], []
    level = graph.neuron_level
    computed = [g for g in np.argsort(level, kind="stable").tolist() if level[g] > 0]
    node_of = np.repeat(np.arange(len(graph.nodes)), [n.size for n in graph.nodes])
    incoming = {}
    for c in graph.connections:
        w = params[c.key]
        s0, d0 = graph.nodes[c.src].offset + c.src_lo, graph.nodes[c.dst].offset + c.dst_lo
        if c.dense:
            rows, cols = np.repeat(np.arange(c.m), c.n), np.tile(np.arange(c.n), c.m)
            w = w.reshape(-1)
        else:
            rows, cols = c.rows, c.cols
        for r, q, v in zip((s0 + rows).tolist(), (d0 + cols).tolist(), w.tolist()):
            incoming.setdefault(q, []).append((r, v))
    output_set = {g for n in graph.outputs for g in range(n.offset, n.offset + n.size)}
    for g in computed:
        node = graph.nodes[node_of[g]]
        nodes.append({"id": keys[g], "type": "output" if g in output_set else "hidden",
                      "activation": {"name": TO_NEAT[node.activation], "custom": False},
                      "aggregation": {"name": "sum", "custom": False},
                      "bias": float(params[f"nodes/{node.name}/bias"][g - node.offset]), "response": 1.0})
        for r, v in incoming.get(g, ()):
            conns.append({"from": keys[r], "to": keys[g], "weight": v, "enabled": True})
    inputs = [g for n in graph.inputs for g in range(n.offset, n.offset + n.size)]
    for g in inputs:
        nodes.append({"id": keys[g], "type": "input", "activation": {"name": "identity", "custom": False},
                      "aggregation": {"name": "none", "custom": False}, "bias": 0.0, "response": 1.0})
    outputs = [g for n in graph.outputs for g in range(n.offset, n.offset + n.size)]
    from .. import __version__

    return {"format_version": FORMAT_VERSION, "network_type": "feedforward",
            "metadata": {"exported_by": f"nngraph {__version__}", "name": graph.spec.name, **(metadata or {})},
            "topology": {"num_inputs": len(inputs), "num_outputs": len(outputs),
                         "input_keys": [keys[g] for g in inputs], "output_keys": [keys[g] for g in outputs]},
            "nodes": nodes, "connections": conns}


def _neat_keys(graph) -> dict:
    """A neat key per neuron: the importer's labels when they are neat keys, else -1.. / 0.. / n.."""
    keys = {}
    labelled = all(n.spec.labels is not None and all(_is_int(x) for x in n.spec.labels) for n in graph.nodes)
    if labelled:
        for n in graph.nodes:
            for i, lab in enumerate(n.spec.labels):
                keys[n.offset + i] = int(lab)
        ins = [keys[g] for n in graph.inputs for g in range(n.offset, n.offset + n.size)]
        outs = [keys[g] for n in graph.outputs for g in range(n.offset, n.offset + n.size)]
        if len(set(keys.values())) == len(keys) and all(k < 0 for k in ins) and outs == list(range(len(outs))):
            return keys
        keys = {}
    ins = [g for n in graph.inputs for g in range(n.offset, n.offset + n.size)]
    outs = [g for n in graph.outputs for g in range(n.offset, n.offset + n.size)]
    for i, g in enumerate(ins):
        keys[g] = -(i + 1)
    for j, g in enumerate(outs):
        keys[g] = j
    nxt = len(outs)
    for g in range(graph.n_neurons):
        if g not in keys:
            keys[g] = nxt
            nxt += 1
    return keys


def _is_int(text) -> bool:
    t = text[1:] if text.startswith("-") else text
    return t.isascii() and t.isdigit() and len(t) < 19
