"""neat-python's JSON network export (format 1.0, feedforward) in and out.

neat-python evaluates a node as ``activation(bias + response * aggregation(w_i * x_i))``. The
importer maps each neat activation to the nngraph activation that computes the same function
(its scaling and clamps included: ``sigmoid`` becomes ``neat_sigmoid``), folds ``response`` into
the node's incoming weights (``response * w_i``) and ``mean`` aggregation into them too
(``response * w_i / n``); other aggregations have no matrix form and are refused. Nodes are
grouped into a few nngraph nodes (inputs, hidden nodes by activation, runs of outputs) whose
``labels`` keep neat-python's node keys; connections become sparse edges between the groups.

The JSON is read strictly by :mod:`.neat_read` (neat-python is not needed to import);
:mod:`.neat_out` writes the format back.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..limits import Limits, as_limits
from ..spec import Spec, load, suggest
from ..spec.columns import ConnectionTable
from .neat_read import NeatImportError, read


# neat-python activation -> (nngraph activation, alpha); identical functions, clamps included
ACTIVATIONS = {
    "sigmoid": ("neat_sigmoid", None), "tanh": ("neat_tanh", None), "sin": ("neat_sin", None),
    "gauss": ("neat_gauss", None), "relu": ("relu", None), "elu": ("elu", None), "lelu": ("leaky_relu", 0.005),
    "selu": ("selu", None), "softplus": ("neat_softplus", None), "identity": ("linear", None),
    "clamped": ("clamped", None), "inv": ("neat_inv", None), "log": ("neat_log", None), "exp": ("neat_exp", None),
    "abs": ("abs", None), "hat": ("hat", None), "square": ("square", None), "cube": ("cube", None),
}
# and back: only exact equivalents (elu with alpha 1, leaky_relu with neat's slope 0.005)
TO_NEAT = {(v[0], 1.0 if v[0] == "elu" else v[1]): k for k, v in ACTIVATIONS.items()}
AGGREGATIONS = ("sum", "mean")
REFUSED_AGGREGATIONS = {
    "product": "a product of the inputs is not a weighted sum",
    "max": "a maximum of the inputs is not a weighted sum", "min": "a minimum of the inputs is not a weighted sum",
    "maxabs": "the input of largest magnitude is not a weighted sum",
    "median": "a median of the inputs is not a weighted sum",
}


# -- import ---------------------------------------------------------------------------------


def from_neat(source, config=None, *, name: str | None = None, limits: Limits | None = None) -> Spec:
    """A spec computing what neat-python's ``FeedForwardNetwork`` computes.

    Parameters
    ----------
    source : genome, FeedForwardNetwork, path, JSON text or dict
        What a neat-python user holds: a genome (with its ``config``), the
        ``neat.nn.FeedForwardNetwork`` made from it, or what ``neat.export.export_network_json``
        wrote (format 1.0, ``network_type: feedforward``) as a path, the JSON text or the parsed
        dict. A network or genome is turned into that export by neat-python's own exporter
        (neat-python is needed only then) and read as strictly as a file.
    config : neat.Config, optional
        The configuration the genome was made with: needed with a genome (it names the
        activation functions and the input and output keys), ignored otherwise.
    name : str, optional
        The spec's name (default: from the file name; ``genome-<key>`` for a genome).

    Returns
    -------
    Spec
        With literal weights and biases; :func:`nngraph.interchange.save` moves many of them to a
        parameters file.

    Raises
    ------
    NeatImportError
        For anything else given as ``source`` (naming what is accepted), a genome without its
        config, recurrent networks; and naming the file and the JSON path: unknown keys, wrong
        types, NaN or infinite numbers (also a weight that folding ``response`` into it makes
        infinite, named by its connection key), colliding ids, connections to missing nodes, cycles,
        custom functions, aggregations that are not weighted sums.
    """
    limits = as_limits(limits)  # once: the export and the spec are read under the same limits
    source, label, default_name = _export_of(source, config)
    export, columns, where = read(source, limits, label=label)
    net = _Network(export, columns, where)
    spec_name = name or default_name or _spec_name(source)
    return net.spec(spec_name, limits)


ACCEPTED = ("a neat-python genome with its config (from_neat(genome, config)), a neat.nn.FeedForwardNetwork, "
            "or neat-python's JSON export (export_network_json) as a path, JSON text or dict")


def _export_of(source, config):
    """(export source for :func:`read`, the name errors give it, the spec's default name)."""
    if isinstance(source, (str, os.PathLike, dict)):
        return source, None, None
    kind = type(source).__name__
    if hasattr(source, "node_evals") and hasattr(source, "input_nodes") and hasattr(source, "output_nodes"):
        if "FeedForward" not in kind:
            raise NeatImportError(f"<{kind}>: a {kind} keeps state between activations; nngraph specs are "
                                  "feed-forward (import a neat.nn.FeedForwardNetwork)")
        net, label, default = source, f"<{kind}>", None
    elif hasattr(source, "nodes") and hasattr(source, "connections") and hasattr(source, "key"):
        if config is None or not hasattr(config, "genome_config"):
            raise NeatImportError(f"<genome {source.key}>: a genome needs the neat.Config it was made with, to "
                                  "name its activations and its input and output keys: from_neat(genome, config)"
                                  + ("" if config is None else f" (got a {type(config).__name__} as config)"))
        import neat

        net = neat.nn.FeedForwardNetwork.create(source, config)
        label, default = f"<genome {source.key}>", f"genome-{source.key}"
    else:
        raise NeatImportError(f"from_neat: cannot import an object of type {kind}; it takes {ACCEPTED}")
    from neat.export.exporters import export_feedforward

    return export_feedforward(net), label, default


def _spec_name(source) -> str:
    import re

    if isinstance(source, (str, Path)) and not (isinstance(source, str) and source.lstrip().startswith("{")):
        stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(source).stem) or "neat"
        return stem if stem[0].isalnum() or stem[0] == "_" else "n" + stem
    return "neat-genome"


class _Network:
    """The checked graph of a neat export: ids, groups, folded weights."""

    def __init__(self, export, columns, where: str):
        self.where = where
        topo = export.topology
        self._check_topology(topo)
        self.inputs, self.outputs = list(topo.input_keys), list(topo.output_keys)
        index = {}
        for i, n in enumerate(export.nodes):
            if n.id in index:
                self._fail(f"nodes[{i}].id", f"id {n.id} is already used by nodes[{index[n.id]}]")
            index[n.id] = i
            self._check_node(i, n)
        for k, role in [(k, "input") for k in self.inputs] + [(k, "output") for k in self.outputs]:
            if k not in index:
                continue  # neat's export lists every input; outputs it lists too (a missing one is refused below)
            if export.nodes[index[k]].type != role:
                self._fail(f"nodes[{index[k]}].type", f"node {k} is listed in topology as an {role} key but has "
                           f"type '{export.nodes[index[k]].type}'")
        for i, n in enumerate(export.nodes):
            if n.type == "input" and n.id not in self.inputs:
                self._fail(f"nodes[{i}].id", f"input node {n.id} is not in topology.input_keys")
            if n.type == "output" and n.id not in self.outputs:
                self._fail(f"nodes[{i}].id", f"output node {n.id} is not in topology.output_keys")
        missing = [k for k in self.outputs if k not in index]
        if missing:
            made = " (neat-python's FeedForwardNetwork leaves out nodes on a cycle: is the genome recurrent?)"
            self._fail("topology.output_keys", f"output node {missing[0]} has no entry in nodes"
                       + (made if where.startswith(("<genome", "<FeedForward")) else ""))
        self.nodes = {n.id: n for n in export.nodes if n.type != "input"}
        self._connections(columns, set(self.inputs))

    def _fail(self, path, message):
        raise NeatImportError(f"{self.where}: {path}: {message}")

    def _check_topology(self, topo):
        for field, keys, count in (("input_keys", topo.input_keys, topo.num_inputs),
                                   ("output_keys", topo.output_keys, topo.num_outputs)):
            if len(keys) != count:
                self._fail(f"topology.{field}", f"{len(keys)} keys, but num_{field[:-5]}s is {count}")
            if len(set(keys)) != len(keys):
                self._fail(f"topology.{field}", "keys repeat")
        both = set(topo.input_keys) & set(topo.output_keys)
        if both:
            self._fail("topology.output_keys", f"key {min(both)} is both an input and an output")

    def _check_node(self, i, n):
        for field in ("bias", "response"):
            if not math.isfinite(getattr(n, field)):
                self._fail(f"nodes[{i}].{field}", f"{getattr(n, field)} is not a finite number")
        if n.type == "input":
            return
        act, agg = n.activation, n.aggregation
        if act.custom or act.name not in ACTIVATIONS:
            kind = "a custom activation" if act.custom else "not a neat-python activation"
            self._fail(f"nodes[{i}].activation.name", f"'{act.name}' is {kind}"
                       f"{suggest(act.name, ACTIVATIONS) if not act.custom else ''}; nngraph maps neat-python's "
                       f"built-in ones: {', '.join(ACTIVATIONS)}")
        if agg.name in REFUSED_AGGREGATIONS and not agg.custom:
            self._fail(f"nodes[{i}].aggregation.name", f"node {n.id} aggregates with '{agg.name}': "
                       f"{REFUSED_AGGREGATIONS[agg.name]}, so no weight matrix computes it (sum and mean map)")
        if agg.custom or agg.name not in AGGREGATIONS:
            self._fail(f"nodes[{i}].aggregation.name", f"'{agg.name}' is not an aggregation nngraph maps "
                       "(sum and mean)")

    def _connections(self, columns, inputs):
        src, dst, w, on = columns
        bad = (~np.isfinite(w)).nonzero()[0]
        if len(bad):
            self._fail(f"connections[{bad[0]}].weight", f"{w[bad[0]]} is not a finite number")
        known = np.array(sorted(set(self.nodes) | inputs), dtype=np.int64)
        for arr, field in ((src, "from"), (dst, "to")):
            miss = (~_members(arr, known)).nonzero()[0]
            if len(miss):
                k = int(arr[miss[0]])
                near = known[np.argsort(np.abs(known - k))[:3]].tolist()
                self._fail(f"connections[{miss[0]}].{field}", f"node {k} is not declared in nodes "
                           f"(nearest ids: {', '.join(map(str, near))})")
        into = _members(dst, np.array(sorted(inputs), dtype=np.int64)).nonzero()[0]
        if len(into):
            self._fail(f"connections[{into[0]}].to", f"node {int(dst[into[0]])} is an input; inputs receive data")
        keep = on.nonzero()[0]
        pairs = src[keep] * (1 << 32) + (dst[keep] - known.min())
        by_pair = np.argsort(pairs, kind="stable")  # a repeat sits right after its first use
        repeats = (pairs[by_pair[1:]] == pairs[by_pair[:-1]]).nonzero()[0]
        if len(repeats):  # the smallest repeated pair, at its first and second use
            k, later = int(keep[by_pair[repeats[0]]]), int(keep[by_pair[repeats[0] + 1]])
            self._fail(f"connections[{later}]", f"connection {src[k]} -> {dst[k]} is already given at "
                       f"connections[{k}]")
        self.src, self.dst, self.w, self.conn_index = src[keep], dst[keep], w[keep], keep
        self.order = self._topological_order()

    def _topological_order(self):
        """Kahn's order of the computed nodes; a cycle is refused, named node by node."""
        ids = list(self.nodes)
        pos = {k: i for i, k in enumerate(ids)}
        indeg = np.zeros(len(ids), dtype=np.int64)
        succ = [[] for _ in ids]
        for s, d in zip(self.src.tolist(), self.dst.tolist()):
            if s in pos:
                succ[pos[s]].append(pos[d])
                indeg[pos[d]] += 1
        ready = [i for i in range(len(ids)) if indeg[i] == 0]
        order = []
        while ready:
            i = ready.pop()
            order.append(ids[i])
            for j in succ[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    ready.append(j)
        if len(order) < len(ids):
            import networkx as nx

            g = nx.DiGraph()
            g.add_edges_from((s, d) for s, d in zip(self.src.tolist(), self.dst.tolist()) if s in pos)
            cycle = nx.find_cycle(g.subgraph([k for k in ids if indeg[pos[k]] > 0]))
            path = " -> ".join(str(a) for a, _ in cycle) + f" -> {cycle[0][0]}"
            at = int(self.conn_index[np.flatnonzero((self.src == cycle[0][0]) & (self.dst == cycle[0][1]))[0]])
            self._fail(f"connections[{at}]", f"the connections form a cycle ({path}); a feedforward export "
                       "has none (recurrent genomes cannot be imported)")
        return order

    # -- building the spec -----------------------------------------------------------------
    def groups(self):
        """(nngraph node name, role, activation key, [neat ids]) in spec order."""
        out = [("inputs", "input", None, self.inputs)]
        hidden = {}
        for k in self.order:
            if k not in self.outputs:
                hidden.setdefault(ACTIVATIONS[self.nodes[k].activation.name], []).append(k)
        for act, ids in hidden.items():
            out.append(("hidden" if len(hidden) == 1 else f"hidden_{act[0]}", "hidden", act, ids))
        runs = []
        for k in self.outputs:
            act = ACTIVATIONS[self.nodes[k].activation.name]
            if runs and runs[-1][0] == act:
                runs[-1][1].append(k)
            else:
                runs.append((act, [k]))
        for r, (act, ids) in enumerate(runs):
            out.append(("outputs" if len(runs) == 1 else f"outputs_{r}", "output", act, ids))
        return out

    def spec(self, spec_name: str, limits: Limits) -> Spec:
        groups = self.groups()
        place = {}
        nodes = []
        for gname, role, act, ids in groups:
            for j, k in enumerate(ids):
                place[k] = (gname, j)
            node = {"name": gname, "role": role, "size": len(ids), "labels": [str(k) for k in ids]}
            if role != "input":
                node["activation"] = act[0] if act[1] is None else {"name": act[0], "alpha": act[1]}
                node["bias"] = [float(self.nodes[k].bias) for k in ids]
            nodes.append(node)
        ids = np.array(sorted(self.nodes) + self.inputs, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]

        def lookup(keys):
            return order[np.searchsorted(ids, keys)]

        every = sorted(self.nodes) + self.inputs  # lookup() indexes this list
        scale = np.array([float(self.nodes[k].response) if k in self.nodes else 1.0 for k in every])
        fan_in = np.bincount(lookup(self.dst), minlength=len(every))
        mean = np.array([k in self.nodes and self.nodes[k].aggregation.name == "mean" for k in every])
        scale = np.where(mean & (fan_in > 0), scale / np.maximum(fan_in, 1), scale)
        s_at, d_at = lookup(self.src), lookup(self.dst)
        with np.errstate(over="ignore"):  # an overflow is refused below, naming the connection
            weights = self.w * scale[d_at]
        self._check_folded(weights)
        group_names = [g[0] for g in groups]
        group_of = np.array([group_names.index(place[k][0]) for k in every])
        slot_of = np.array([place[k][1] for k in every])
        gs, gd = group_of[s_at], group_of[d_at]
        pair = gs * len(groups) + gd
        perm = np.argsort(pair, kind="stable")
        cuts = np.diff(pair[perm]).nonzero()[0] + 1
        edge_list = []
        # as the columns the spec holds them in (what the spec's validator makes of finite [i, j, w] rows)
        for part in np.split(perm, cuts) if len(perm) else []:
            edge_list.append({"from": group_names[gs[part[0]]], "to": group_names[gd[part[0]]], "pattern": "sparse",
                              "connections": ConnectionTable(slot_of[s_at[part]], slot_of[d_at[part]],
                                                             weights[part])})
        reached = self._reached()
        notes = []
        for k in self.outputs:
            if k not in reached:
                gd, j = place[k]
                edge_list.append({"from": "inputs[0]", "to": f"{gd}[{j}]", "weight": 0.0})
                notes.append(f"output {k} depends on no input (it outputs a constant); a zero-weight connection "
                             "from the first input makes the spec valid without changing its value")
        data = {"nngraph": 1, "name": spec_name,
                "description": "Imported from a neat-python export (feedforward); labels are neat node keys."
                + ("".join(" " + n for n in notes)),
                "nodes": nodes, "edges": edge_list}
        return load(data, limits=limits)

    def _check_folded(self, weights):
        """Folding ``response`` into a finite weight can overflow: refuse it at the genome's
        connection (neat-python's key (from, to)), not at the spec it would have made."""
        bad = (~np.isfinite(weights)).nonzero()[0]
        if not len(bad):
            return
        k = bad[0]
        a, b = int(self.src[k]), int(self.dst[k])
        node = self.nodes[b]
        by = f"response {float(node.response)!r}" + (" / fan-in (mean aggregation)" if node.aggregation.name == "mean"
                                                      else "")
        more = f" ({len(bad) - 1} more connection{'s' if len(bad) > 2 else ''} too)" if len(bad) > 1 else ""
        self._fail(f"connections[{int(self.conn_index[k])}]",
                   f"connection ({a}, {b}): weight {float(self.w[k])!r} × node {b}'s {by} is {float(weights[k])} "
                   f"in float64{more}; nngraph folds each node's response into its incoming weights, and a weight "
                   "must be a finite number")

    def _reached(self):
        """Neat keys reachable from an input along enabled connections (breadth first; the
        connections are walked once, as the topological order walked them)."""
        succ = {}
        for a, b in zip(self.src.tolist(), self.dst.tolist()):
            succ.setdefault(a, []).append(b)
        found = set(self.inputs)
        todo = list(found)
        while todo:
            for b in succ.get(todo.pop(), ()):
                if b not in found:
                    found.add(b)
                    todo.append(b)
        return found


def _members(values, sorted_keys):
    """``np.isin(values, sorted_keys)`` for sorted keys, by binary search: the same answer, without
    isin's set-up cost, which dominates for the few dozen ids of a small genome."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values
