"""Benchmark networks: the book's MNIST MLP and irregular neuron-level graphs of a given size."""
from __future__ import annotations

import numpy as np


def mlp_spec(sizes=(784, 256, 256, 10)) -> dict:
    nodes = [{"name": "x", "role": "input", "size": sizes[0]}]
    for i, s in enumerate(sizes[1:-1]):
        nodes.append({"name": f"h{i + 1}", "size": s, "activation": "relu"})
    nodes.append({"name": "y", "role": "output", "size": sizes[-1], "activation": "softmax"})
    edges = [{"from": a["name"], "to": b["name"], "init": "he_normal"} for a, b in zip(nodes, nodes[1:])]
    return {"nngraph": 1, "name": "mlp", "nodes": nodes, "edges": edges}


def irregular_spec(neurons=2000, edges=100_000, hidden_nodes=10, n_in=None, n_out=None, seed=0) -> dict:
    """A NEAT-like graph: hidden nodes whose first half feeds their second half (edges inside a
    node), connections from every earlier node (skip connections), depth about 2 per node."""
    rng = np.random.default_rng(seed)
    n_in = n_in or max(4, neurons // 20)
    n_out = n_out or max(4, neurons // 20)
    hsize = (neurons - n_in - n_out) // hidden_nodes
    nodes = [{"name": "x", "role": "input", "size": n_in}]
    acts = ["tanh", "relu", "sigmoid"]
    for i in range(hidden_nodes):
        nodes.append({"name": f"h{i}", "size": hsize, "activation": acts[i % 3]})
    nodes.append({"name": "y", "role": "output", "size": n_out, "activation": "sigmoid"})
    # candidate blocks: (src node, dst node, src range, dst range)
    blocks = []
    for j in range(1, len(nodes)):
        for i in range(j):
            blocks.append((i, j, (0, nodes[i]["size"]), (0, nodes[j]["size"])))
        if nodes[j].get("role") != "output":
            half = nodes[j]["size"] // 2
            blocks.append((j, j, (0, half), (half, nodes[j]["size"])))
    sizes = np.array([(b[2][1] - b[2][0]) * (b[3][1] - b[3][0]) for b in blocks], dtype=float)
    share = np.floor(sizes / sizes.sum() * edges).astype(int)
    share[np.argmax(sizes)] += edges - share.sum()
    out = []
    for (i, j, (a0, a1), (b0, b1)), k in zip(blocks, share):
        m, n = a1 - a0, b1 - b0
        k = min(int(k), m * n)
        if k <= 0:
            continue
        flat = rng.choice(m * n, size=k, replace=False)
        r, c = np.divmod(flat, n)
        w = rng.normal(0, 1.0 / np.sqrt(max(1, k / n)), k)
        src = nodes[i]["name"] + (f"[{a0}:{a1}]" if (a0, a1) != (0, nodes[i]["size"]) else "")
        dst = nodes[j]["name"] + (f"[{b0}:{b1}]" if (b0, b1) != (0, nodes[j]["size"]) else "")
        out.append({"from": src, "to": dst, "pattern": "sparse",
                    "connections": [[int(p), int(q), float(v)] for p, q, v in zip(r, c, w)]})
    return {"nngraph": 1, "name": f"irregular-{neurons}-{edges}", "nodes": nodes, "edges": out}


def neat_genome_spec(n_in=16, hidden=300, n_out=4, edges=3000, depth=8, seed=0) -> dict:
    """A sparse evolved-genome-like network: single hidden neurons (one node of ``hidden``
    neurons, each in one of ``depth`` layers), random connections from inputs and lower layers."""
    rng = np.random.default_rng(seed)
    layer = np.sort(rng.integers(0, depth, hidden))
    # candidate (source, destination) pairs: x -> h, x -> y, lower h layer -> h, h -> y
    cands = {("x", "h"): [(i, j) for i in range(n_in) for j in range(hidden)],
             ("h", "h"): [(i, j) for i in range(hidden) for j in range(hidden) if layer[i] < layer[j]],
             ("h", "y"): [(i, j) for i in range(hidden) for j in range(n_out)],
             ("x", "y"): [(i, j) for i in range(n_in) for j in range(n_out)]}
    total = sum(len(v) for v in cands.values())
    out = []
    for (a, b), pairs in cands.items():
        k = min(len(pairs), max(1, round(edges * len(pairs) / total)))
        pick = rng.choice(len(pairs), size=k, replace=False)
        conns = [[int(pairs[p][0]), int(pairs[p][1]), float(rng.normal())] for p in np.sort(pick)]
        out.append({"from": a, "to": b, "pattern": "sparse", "connections": conns})
    nodes = [{"name": "x", "role": "input", "size": n_in},
             {"name": "h", "size": hidden, "activation": "tanh"},
             {"name": "y", "role": "output", "size": n_out, "activation": "sigmoid"}]
    return {"nngraph": 1, "name": f"genome-{hidden}-{edges}", "nodes": nodes, "edges": out}


def _edge_arrays(graph, params):
    """Every connection of a built graph as global (source, destination, weight) arrays."""
    src, dst, w = [], [], []
    for c in graph.connections:
        s0 = graph.nodes[c.src].offset + c.src_lo
        d0 = graph.nodes[c.dst].offset + c.dst_lo
        r, q = (np.repeat(np.arange(c.m), c.n), np.tile(np.arange(c.n), c.m)) if c.dense else (c.rows, c.cols)
        src.append(s0 + np.asarray(r)), dst.append(d0 + np.asarray(q))
        w.append(np.asarray(params[c.key], dtype=np.float64).reshape(-1))
    return np.concatenate(src), np.concatenate(dst), np.concatenate(w)


def neat_style_network(graph, params):
    """The graph as neat-python's FeedForwardNetwork holds it: per neuron (bias, act, [(src, w)]),
    neurons in evaluation order. Built the fast way, in destination order: each neuron's links
    are made together, in the order they are evaluated, as ``FeedForwardNetwork.create`` makes
    them (links scattered across memory make neat-python's loop several times slower)."""
    import math

    src, dst, w = _edge_arrays(graph, params)
    funcs = {"tanh": math.tanh, "relu": lambda z: z if z > 0 else 0.0,
             "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0, "linear": lambda z: z}
    order = np.argsort(graph.neuron_level, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    by_dst = np.lexsort((src, rank[dst]))
    src, dst, w = src[by_dst], dst[by_dst], w[by_dst]
    starts = np.searchsorted(rank[dst], np.arange(len(order) + 1))
    node_of = np.repeat(np.arange(len(graph.nodes)), [n.size for n in graph.nodes])
    evals = []
    for g in order:
        node = graph.nodes[node_of[g]]
        if node.role == "input":
            continue
        lo, hi = starts[rank[g]], starts[rank[g] + 1]
        links = list(zip(src[lo:hi].tolist(), w[lo:hi].tolist()))
        evals.append((int(g), funcs[node.activation[0]], float(params[f"nodes/{node.name}/bias"][g - node.offset]),
                      links))
    inputs = [g for n in graph.inputs for g in range(n.offset, n.offset + n.size)]
    outputs = [g for n in graph.outputs for g in range(n.offset, n.offset + n.size)]
    return inputs, outputs, evals


def neat_activate(net, sample):
    """neat-python's FeedForwardNetwork.activate, in its own style: one sample, neuron by neuron."""
    inputs, outputs, evals = net
    values = dict(zip(inputs, sample))
    for node, act, bias, links in evals:
        s = 0.0
        for i, w in links:
            s += values[i] * w
        values[node] = act(bias + s)
    return [values[i] for i in outputs]
