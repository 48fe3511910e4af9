"""Random valid specs for oracle tests: skip connections, slices, edges inside nodes, node-level
cycles that are acyclic per neuron, mixed activations, softmax outputs, dense/sparse/one_to_one."""
import numpy as np

SMOOTH = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]


def random_spec(seed: int, *, max_hidden=5, max_size=6, activations=SMOOTH, output_activation=None,
                literal=True) -> dict:
    rng = np.random.default_rng(seed)
    nodes = []
    for i in range(rng.integers(1, 3)):
        nodes.append({"name": f"in{i}", "role": "input", "size": int(rng.integers(1, 5))})
    for i in range(rng.integers(1, max_hidden + 1)):
        act = str(rng.choice(activations))
        node = {"name": f"h{i}", "size": int(rng.integers(1, max_size + 1)), "activation": act}
        if act == "leaky_relu" and rng.random() < 0.5:
            node["activation"] = {"name": "leaky_relu", "alpha": float(rng.uniform(0.01, 0.3))}
        nodes.append(node)
    n_out = int(rng.integers(1, 3))
    for i in range(n_out):
        act = output_activation or str(rng.choice(activations + ["softmax"]))
        size = int(rng.integers(2 if act == "softmax" else 1, 5))
        nodes.append({"name": f"out{i}", "role": "output", "size": size, "activation": act})
    for n in nodes:
        if n.get("role") != "input":
            n["bias"] = [float(b) for b in rng.normal(0, 0.5, n["size"])] if rng.random() < 0.7 else float(rng.normal())
    # a random order of all computed neurons; connections only go forward in it, softmax nodes last
    computed = [(k, j) for k, n in enumerate(nodes) if n.get("role") != "input" for j in range(n["size"])]
    soft = [c for c in computed if _act(nodes[c[0]]) == "softmax"]
    rest = [c for c in computed if c not in soft]
    order = [rest[i] for i in rng.permutation(len(rest))] + soft
    rank = {c: r for r, c in enumerate(order)}
    for k, n in enumerate(nodes):
        if n.get("role") == "input":
            for j in range(n["size"]):
                rank[(k, j)] = -1
    used, edges = set(), []

    def ok(src, dst):
        return (rank[src] < rank[dst] and (src, dst) not in used and _act(nodes[src[0]]) != "softmax"
                and nodes[dst[0]].get("role") != "input")

    for _ in range(int(rng.integers(3, 12))):
        a, b = int(rng.integers(len(nodes))), int(rng.integers(len(nodes)))
        _add_edge(rng, nodes, a, b, ok, used, edges, literal)
    inputs = [k for k, n in enumerate(nodes) if n.get("role") == "input"]
    for k, n in enumerate(nodes):  # every output reachable from an input
        if n.get("role") == "output":
            _add_edge(rng, nodes, int(rng.choice(inputs)), k, ok, used, edges, literal, whole=True)
    return {"nngraph": 1, "name": f"random-{seed}", "nodes": nodes, "edges": edges}


def _act(node):
    a = node.get("activation", "linear")
    return a["name"] if isinstance(a, dict) else a


def _ref(node, lo, hi):
    if lo == 0 and hi == node["size"]:
        return node["name"]
    return f"{node['name']}[{lo}]" if hi - lo == 1 and rng_bool(lo) else f"{node['name']}[{lo}:{hi}]"


def rng_bool(x):
    return x % 2 == 0


def _add_edge(rng, nodes, a, b, ok, used, edges, literal, whole=False):
    na, nb = nodes[a], nodes[b]
    if nb.get("role") == "input":
        return
    if whole:
        alo, ahi, blo, bhi = 0, na["size"], 0, nb["size"]
    else:
        alo = int(rng.integers(0, na["size"]))
        ahi = int(rng.integers(alo + 1, na["size"] + 1))
        blo = int(rng.integers(0, nb["size"]))
        bhi = int(rng.integers(blo + 1, nb["size"] + 1))
    pairs = [((a, i), (b, j)) for i in range(alo, ahi) for j in range(blo, bhi)]
    good = [p for p in pairs if ok(*p)]
    if not good:
        return
    edge = {"from": _ref(na, alo, ahi), "to": _ref(nb, blo, bhi)}
    m, n = ahi - alo, bhi - blo
    if len(good) == len(pairs) and rng.random() < 0.6:
        if literal:
            edge["weights"] = [[float(w) for w in row] for row in rng.normal(0, 0.7, (m, n))]
        else:
            edge["init"] = {"name": "normal", "std": 0.7, "seed": int(rng.integers(1000))}
        used.update(pairs)
    elif m == n and all(ok((a, alo + i), (b, blo + i)) for i in range(m)) and rng.random() < 0.3:
        edge["pattern"] = "one_to_one"
        edge["weights"] = [float(w) for w in rng.normal(0, 0.7, m)]
        used.update(((a, alo + i), (b, blo + i)) for i in range(m))
    else:
        keep = [p for p in good if rng.random() < 0.7] or good[:1]
        edge["pattern"] = "sparse"
        edge["connections"] = [[p[0][1] - alo, p[1][1] - blo, float(rng.normal(0, 0.7))] for p in keep]
        used.update(keep)
    edges.append(edge)
