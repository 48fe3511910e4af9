"""A plan as plain data: what `nngraph inspect` prints and `--json` gives."""
from __future__ import annotations

import numpy as np


def stage_contents(plan, stage, node_of=None) -> list[str]:
    """'hidden1 (256, relu)' or 'h[3:7] (4, tanh)' for each node part the stage computes."""
    graph = plan.graph
    if node_of is None:
        node_of = _node_of(graph)
    out = []
    ids = stage.neurons
    nodes = node_of[ids]
    for k in dict.fromkeys(nodes.tolist()):
        node = graph.nodes[k]
        local = np.sort(ids[nodes == k] - node.offset)
        act = node.activation[0] if node.role != "input" else "input"
        if len(local) == node.size:
            what = node.name
        elif len(local) == 1:
            what = f"{node.name}[{local[0]}]"
        elif local[-1] - local[0] == len(local) - 1:
            what = f"{node.name}[{local[0]}:{local[-1] + 1}]"
        else:  # neurons scattered over the node: say how many of how many, in words
            out.append(f"{node.name} ({len(local)} of its {node.size} neurons, {act})")
            continue
        out.append(f"{what} ({len(local)}, {act})")
    return out


def _node_of(graph):
    return np.repeat(np.arange(len(graph.nodes)), [n.size for n in graph.nodes])


def plan_summary(plan) -> dict:
    stages = []
    node_of = _node_of(plan.graph)  # once, not once per stage
    for st in plan.stages:
        blocks = []
        for b in st.blocks:
            rows, cols = b.shape
            blocks.append({"from_stage": b.src, "kind": "sparse" if b.sparse else "dense", "shape": [rows, cols],
                           "nonzeros": b.nnz, "density": b.nnz / max(rows * cols, 1),
                           "rows_read": None if b.rows is None else int(len(b.rows))})
        n_bias = 0 if st.index == 0 else st.width
        stages.append({"stage": st.index, "neurons": st.width, "computes": stage_contents(plan, st, node_of), "blocks": blocks,
                       "activations": [f"{a}[{lo}:{hi}]" for a, _, lo, hi in st.segments],
                       "parameters": sum(b["nonzeros"] for b in blocks) + n_bias, "macs": st.macs})
    return {"name": plan.spec.name, "dtype": str(plan.dtype), "inputs": plan.input_width,
            "outputs": plan.output_width, "neurons": int(plan.graph.n_neurons),
            "parameters": plan.n_parameters, "macs": plan.macs, "parameters_from": plan.params_file,
            "parameters_description": plan.params_origin,
            "stages": stages}


def summary_text(plan) -> str:
    """The table of :func:`plan_summary` as plain text (``print(plan.summary())``)."""
    info = plan_summary(plan)
    head = ("stage", "neurons", "computes", "reads", "parameters", "MACs/sample")
    rows = []
    for st in info["stages"]:
        reads = [f"stage {b['from_stage']}: {b['kind']} {b['shape'][0]}x{b['shape'][1]}"
                 + (f" ({b['density']:.1%})" if b["density"] < 1 else "")
                 + (f" rows {b['rows_read']}" if b["rows_read"] is not None else "") for b in st["blocks"]] or ["-"]
        computes = st["computes"]
        for k in range(max(len(reads), len(computes))):
            first = k == 0
            rows.append((str(st["stage"]) if first else "", f"{st['neurons']:,}" if first else "",
                         computes[k] if k < len(computes) else "", reads[k] if k < len(reads) else "",
                         f"{st['parameters']:,}" if first else "", f"{st['macs']:,}" if first else ""))
    rows.append(("total", f"{info['neurons']:,}", "", "", f"{info['parameters']:,}", f"{info['macs']:,}"))
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    right = {0, 1, 4, 5}

    def line(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    rule = "-" * len(line(head))
    from .plan import stage_count

    title = f"{info['name']}: {stage_count(len(info['stages']) - 1)} ({info['dtype']}), {info['parameters_description']}"
    return "\n".join([title, line(head), rule] + [line(r) for r in rows[:-1]] + [rule, line(rows[-1])])


SMALL_NETWORK = 20  # parameters: a network this small has its learned values printed after training


def learned_values(plan, limit: int = SMALL_NETWORK) -> list | None:
    """Each weight and bias of a small network, named by the neurons it joins (input labels where
    the spec gives them): ``("burgers -> cost", 3.5, True)``, ``("bias of cost", 0.0, False)``
    (the last item: whether training moves it). None for a network of more than ``limit``
    parameters, whose values are too many to read this way."""
    if plan.n_parameters > limit:
        return None
    graph, values = plan.graph, plan.parameters()

    def neuron(node, i):
        labels = node.spec.labels
        return str(labels[i]) if labels else node.name if node.size == 1 else f"{node.name}[{i}]"

    out = []
    for c in graph.connections:
        src, dst, v = graph.nodes[c.src], graph.nodes[c.dst], values[c.key].reshape(-1)
        pairs = ((r, q) for r in range(c.m) for q in range(c.n)) if c.dense else zip(c.rows.tolist(), c.cols.tolist())
        out += [(f"{neuron(src, c.src_lo + r)} -> {neuron(dst, c.dst_lo + q)}", float(w), c.trainable)
                for (r, q), w in zip(pairs, v)]
    from .params import bias_key

    for node in graph.nodes:
        if node.role != "input":
            out += [(f"bias of {neuron(node, i)}", float(b), node.spec.trainable)
                    for i, b in enumerate(values[bias_key(node.name)].reshape(-1))]
    return out
