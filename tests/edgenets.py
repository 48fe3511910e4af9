"""Random specs made mostly of explicit connections, valid or with a few faults, written as a
dict, as YAML (one flow collection per line, the way long edge lists are written) or as JSON:
for the oracle tests of the column-wise loading of edges (tests/test_spec_columns.py)."""
import json

import numpy as np


def edge_spec(seed: int, faults: int = 0) -> dict:
    """Layers x -> h0..hk -> out; single-neuron ``{from, to, weight}`` edges (the bulk), dense,
    one_to_one and sparse edges, an edge table; ``faults`` random faults of the kinds users make."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 6)) for _ in range(int(rng.integers(1, 4)))]
    nodes = [{"name": "x", "role": "input", "size": int(rng.integers(1, 6))}]
    nodes += [{"name": f"h{i}", "size": s, "activation": str(rng.choice(["tanh", "relu", "sigmoid"]))}
              for i, s in enumerate(sizes)]
    nodes.append({"name": "out", "role": "output", "size": int(rng.integers(1, 4)), "activation": "linear"})
    used, edges, table = set(), [], []

    def ref(k, i):
        n = nodes[k]
        return n["name"] if n["size"] == 1 and rng.random() < 0.5 else f"{n['name']}[{i}]"

    def weight():
        return int(rng.integers(-3, 4)) if rng.random() < 0.1 else round(float(rng.normal()), int(rng.integers(1, 8)))

    for _ in range(int(rng.integers(1, 40))):
        a = int(rng.integers(0, len(nodes) - 1))
        b = int(rng.integers(a + 1, len(nodes)))
        i, j = int(rng.integers(nodes[a]["size"])), int(rng.integers(nodes[b]["size"]))
        if ((a, i), (b, j)) in used:
            continue
        used.add(((a, i), (b, j)))
        kind = rng.random()
        if kind < 0.75:
            keys = ["from", "to", "weight"]
            if rng.random() < 0.2:
                keys = [keys[k] for k in rng.permutation(3)]
            values = {"from": ref(a, i), "to": ref(b, j), "weight": weight()}
            edge = {k: values[k] for k in keys}
            if rng.random() < 0.05:
                edge["trainable"] = False
            edges.append(edge)
        else:
            table.append([f"{nodes[a]['name']}[{i}]", f"{nodes[b]['name']}[{j}]", weight()])
    bulk_only = rng.random() < 0.4  # only single-neuron edges and table rows: the YAML lines read fast
    for b in range(1, len(nodes)):  # every node fed (sparse, dense or one_to_one from the layer below)
        a = b - 1
        m, n = nodes[a]["size"], nodes[b]["size"]
        pairs = [(i, j) for i in range(m) for j in range(n) if ((a, i), (b, j)) not in used]
        one_to_one = m == n and all(((a, i), (b, i)) not in used for i in range(m))
        kind = rng.random()
        if bulk_only or not (kind < 0.5 and pairs or 0.5 <= kind < 0.8 and len(pairs) == m * n
                             or kind >= 0.8 and one_to_one):
            for j in range(n):  # single-neuron edges, one into each neuron
                i = int(rng.integers(m))
                if ((a, i), (b, j)) not in used:
                    used.add(((a, i), (b, j)))
                    edges.append({"from": ref(a, i), "to": ref(b, j), "weight": weight()})
        elif kind < 0.5:
            pick = rng.choice(len(pairs), size=int(rng.integers(1, len(pairs) + 1)), replace=False)
            rows = [[pairs[p][0], pairs[p][1], weight()] for p in sorted(pick)]
            if rng.random() < 0.2:
                edges.append({"from": nodes[a]["name"], "to": nodes[b]["name"], "pattern": "sparse",
                              "connections": [r[:2] for r in rows], "init": {"name": "normal", "seed": 3}})
            else:
                edges.append({"from": nodes[a]["name"], "to": nodes[b]["name"], "pattern": "sparse",
                              "connections": rows})
        elif kind < 0.8:
            edges.append({"from": nodes[a]["name"], "to": nodes[b]["name"],
                          "weights": [[weight() for _ in range(n)] for _ in range(m)]})
        else:
            edges.append({"from": nodes[a]["name"], "to": nodes[b]["name"], "pattern": "one_to_one",
                          "weights": [weight() for _ in range(m)]})
    rng.shuffle(edges)
    spec = {"nngraph": 1, "name": f"edges-{seed}", "nodes": nodes, "edges": edges}
    if table:
        spec["edge_table"] = table
    for _ in range(faults):
        _fault(rng, spec)
    return spec


_BAD_REFS = ["hh0[0]", "h0[99]", "h0[1", "0h", "h 1", "x[-1]", "out[0:9]", "h0[]", "h0[0:1]", "x[00]", "Out[0]",
             "h0[" + "9" * 30 + "]", "", "x" * 300]
_BAD_WEIGHTS = ["0.5", True, None, [1.0], {"a": 1}, 10**400, float("nan"), float("inf")]
_BAD_ROWS = [[-1, 0, 1.0], [0, 0, True], [0.5, 0, 1.0], [0, 0], [0, 0, 1.0, 2.0], [True, 0, 1.0], ["0", 0, 1.0],
             [0, 0, "w"], [2**63, 0, 1.0], [0, 99, 1.0], [0, 0, None], 7]


def _fault(rng, spec):
    edges = spec["edges"]
    singles = [e for e in edges if isinstance(e, dict) and "weight" in e and "pattern" not in e]
    sparse = [e for e in edges if isinstance(e, dict) and e.get("pattern") == "sparse"]
    kind = int(rng.integers(0, 10))
    if kind == 0 and singles:
        bad = str(rng.choice(_BAD_REFS)) if rng.random() < 0.8 else [["x"], {"a": 1}, 3, None][int(rng.integers(4))]
        singles[int(rng.integers(len(singles)))][str(rng.choice(["from", "to"]))] = bad
    elif kind == 1 and singles:
        singles[int(rng.integers(len(singles)))]["weight"] = _BAD_WEIGHTS[int(rng.integers(len(_BAD_WEIGHTS)))]
    elif kind == 2 and singles:
        e = singles[int(rng.integers(len(singles)))]
        e[str(rng.choice(["wieght", "form", "trainable", "l1", "pattern"]))] = str(rng.choice(["x", "0.1"])) \
            if rng.random() < 0.5 else 0.1
    elif kind == 3 and singles:
        e = singles[int(rng.integers(len(singles)))]
        e.pop(str(rng.choice(["from", "to", "weight"])), None)
    elif kind == 4 and singles:
        edges.append(dict(singles[int(rng.integers(len(singles)))]))  # a duplicate connection
    elif kind == 5:
        edges.insert(int(rng.integers(len(edges) + 1)), str(rng.choice(["x -> out", "h0"])))
    elif kind == 6 and sparse:
        rows = sparse[int(rng.integers(len(sparse)))]["connections"]
        rows[int(rng.integers(len(rows)))] = _BAD_ROWS[int(rng.integers(len(_BAD_ROWS)))]
    elif kind == 7:
        edges.append({"from": "out[0]", "to": "x[0]", "weight": 1.0})  # into an input
    elif kind == 8 and spec.get("edge_table"):
        row = spec["edge_table"][int(rng.integers(len(spec["edge_table"])))]
        row[int(rng.integers(3))] = str(rng.choice(_BAD_REFS)) if rng.random() < 0.7 else True
    elif kind == 9:
        spec["edges"].append({"from": "h0[0:1]", "to": "out", "weight": 0.5})  # one weight, many neurons


def _scalar(v) -> str:
    if isinstance(v, str):
        return json.dumps(v) if v and v[0].isalpha() and "[" in v else (v if v.isidentifier() else json.dumps(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float) and v != v:
        return ".nan"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return ".inf" if v > 0 else "-.inf"
    return json.dumps(v)


def _flow(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def as_yaml(spec: dict, seed: int = 0) -> str:
    """Block lists of one flow collection per line (quotes and comments vary with ``seed``)."""
    rng = np.random.default_rng(seed)
    lines = []
    for key, value in spec.items():
        if key in ("nodes", "edges", "edge_table") and isinstance(value, list) and value:
            lines.append(f"{key}:" + (" # the list" if rng.random() < 0.2 else ""))
            indent = "" if rng.random() < 0.2 else "  "
            for item in value:
                text = _flow(item)
                if rng.random() < 0.3:
                    text = text.replace('"', "'")
                if rng.random() < 0.05:
                    lines.append(indent + "# a comment")
                if rng.random() < 0.05:
                    lines.append("")
                lines.append(f"{indent}- {text}")
        else:
            lines.append(f"{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def as_json(spec: dict) -> str:
    return json.dumps(spec, indent=1 if len(spec.get("edges", ())) < 20 else None)
