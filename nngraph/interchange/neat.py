"""neat-python's JSON network export (format 1.0, feedforward) in and out.

neat-python evaluates a node as ``activation(bias + response * aggregation(w_i * x_i))``. The
importer maps each neat activation to the nngraph activation that computes the same function
(its scaling and clamps included: ``sigmoid`` becomes ``neat_sigmoid``), folds ``response`` into
the node's incoming weights (``response * w_i``) and ``mean`` aggregation into them too
(``response * w_i / n``); other aggregations have no matrix form and are refused. Nodes are
grouped into a few nngraph nodes (inputs, hidden nodes by activation, runs of outputs) whose
``labels`` keep neat-python's node keys; connections become sparse edges between the groups.

The JSON is parsed here with strict validation: neat-python is not needed to import.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from ..errors import NNGraphError
from ..limits import Limits, default_limits
from ..spec import Spec, load, suggest

FORMAT_VERSION = "1.0"

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


class NeatImportError(NNGraphError):
    """A neat-python export that cannot be imported; the message names the file and the JSON path."""


# -- strict models of the JSON ---------------------------------------------------------------

Number = StrictFloat  # ints are taken as floats; bools and strings are refused


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class _Function(_Strict):
    name: StrictStr
    custom: StrictBool = False


class _Node(_Strict):
    id: StrictInt
    type: Literal["input", "hidden", "output"]
    activation: _Function
    aggregation: _Function
    bias: Number = 0.0
    response: Number = 1.0


class _Connection(_Strict):
    from_: StrictInt = Field(alias="from")
    to: StrictInt
    weight: Number
    enabled: StrictBool


class _Topology(_Strict):
    num_inputs: Annotated[StrictInt, Field(ge=1)]
    num_outputs: Annotated[StrictInt, Field(ge=1)]
    input_keys: list[StrictInt]
    output_keys: list[StrictInt]


class _Export(_Strict):
    format_version: StrictStr
    network_type: StrictStr
    metadata: dict[str, Any] = {}
    topology: _Topology
    nodes: list[_Node]
    connections: list[Any]  # checked column by column (they can be 100k): see _columns


def _where(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reject(name, message):
    raise NeatImportError(f"{name}: {message}")


def read(source, limits: Limits | None = None) -> tuple[_Export, str]:
    """Parse and validate a neat-python JSON export (path, JSON text or dict)."""
    limits = limits or default_limits()
    if isinstance(source, dict):
        data, name = source, "<dict>"
    else:
        text, name = _read_text(source, limits)
        data = _parse(text, name)
    if not isinstance(data, dict):
        _reject(name, f"expected a JSON object (neat-python's export), found {type(data).__name__}")
    for key, limit in (("connections", "max_weights"), ("nodes", "max_neurons")):
        items = data.get(key)
        if isinstance(items, list) and len(items) > getattr(limits, limit):
            _reject(name, f"{key}: {len(items):,} {key}, over the limit of {getattr(limits, limit):,}; "
                    f"{Limits.how_to_raise(limit)}")
    try:
        export = _Export.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(err["loc"])
        if err["type"] == "extra_forbidden":
            model = _model_at(err["loc"])
            valid = ", ".join(f.alias or k for k, f in model.model_fields.items()) if model else ""
            _reject(name, f"{where}: unknown key{suggest(str(err['loc'][-1]), valid.split(', '))}"
                    f"{f' (valid keys: {valid})' if valid else ''}")
        more = f" ({exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        _reject(name, f"{where}: {err['msg']}{more}")
    export.__dict__["columns"] = _columns(export.connections, name)
    if export.format_version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        _reject(name, f"format_version: '{export.format_version}' is not a version this reader knows "
                f"({FORMAT_VERSION})")
    if export.network_type != "feedforward":
        _reject(name, f"network_type: '{export.network_type}' networks keep state between activations; "
                "nngraph specs are feed-forward (export a FeedForwardNetwork)")
    return export, name


_CONNECTION_KEYS = {"from", "to", "weight", "enabled"}


def _columns(conns, name):
    """(from, to, weight, enabled) arrays of the connections, each checked as _Connection would.

    The common case (every item a dict with exactly the four keys, ints, numbers and booleans)
    is checked in bulk; the first item that is not is validated alone for its located message.
    """
    def slow(i):
        try:
            _Connection.model_validate(conns[i])
        except ValidationError as exc:
            err = exc.errors()[0]
            where = _where(("connections", i) + tuple(err["loc"]))
            if err["type"] == "extra_forbidden":
                _reject(name, f"{where}: unknown key{suggest(str(err['loc'][-1]), sorted(_CONNECTION_KEYS))} "
                        "(valid keys: from, to, weight, enabled)")
            _reject(name, f"{where}: {err['msg']}")

    shaped = [type(c) is dict and len(c) == 4 for c in conns]
    if not all(shaped):
        slow(shaped.index(False))
    try:  # four keys each, and each of these: exactly the four
        frm = [c["from"] for c in conns]
        to = [c["to"] for c in conns]
        weight = [c["weight"] for c in conns]
        enabled = [c["enabled"] for c in conns]
    except KeyError:
        slow(next(i for i, c in enumerate(conns) if c.keys() != _CONNECTION_KEYS))
    for column in (frm, to):
        ok = [type(v) is int for v in column]
        if not all(ok):
            slow(ok.index(False))
    ok = [type(v) is float or type(v) is int for v in weight]
    if not all(ok):
        slow(ok.index(False))
    ok = [type(v) is bool for v in enabled]
    if not all(ok):
        slow(ok.index(False))
    try:
        return (np.array(frm, dtype=np.int64), np.array(to, dtype=np.int64), np.array(weight, dtype=np.float64),
                np.array(enabled, dtype=bool))
    except OverflowError:
        big = next(i for i, c in enumerate(conns) if abs(c["from"]) >= 2**63 or abs(c["to"]) >= 2**63)
        _reject(name, f"connections[{big}]: node ids must fit in 64 bits")


def _model_at(loc):
    model = _Export
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = {**{k: f for k, f in model.model_fields.items()},
                 **{f.alias: f for f in model.model_fields.values() if f.alias}}.get(part)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", None)
        ann = args[0] if args else ann
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _read_text(source, limits):
    if isinstance(source, str) and source.lstrip().startswith("{"):
        if len(source) > limits.max_document_bytes:
            raise NeatImportError(f"<text>: {len(source):,} characters, over the limit of "
                                  f"{limits.max_document_bytes:,}; {Limits.how_to_raise('max_document_bytes')}")
        return source, "<text>"
    path = Path(source)
    name = str(source)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise NeatImportError(f"{name}: not a regular file")
        if size > limits.max_document_bytes:
            raise NeatImportError(f"{name}: {size:,} bytes, over the limit of {limits.max_document_bytes:,}; "
                                  f"{Limits.how_to_raise('max_document_bytes')}")
        return path.read_bytes().decode("utf-8"), name
    except FileNotFoundError:
        raise NeatImportError(f"{name}: no such file") from None
    except UnicodeDecodeError as exc:
        raise NeatImportError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise NeatImportError(f"{name}: cannot be read ({exc.strerror or exc})") from None


def _parse(text, name):
    """JSON with duplicate keys refused. The text is parsed at C speed; a count of its colons
    (one per key, plus those inside strings) tells whether any key was repeated, and only then
    is it parsed again with a hook that names the key. orjson, where installed, parses twice as
    fast; anything it refuses (NaN, bad syntax) is parsed again by json for a located message."""
    try:
        import orjson

        data = orjson.loads(text)
    except (ImportError, ValueError, RecursionError):
        data = _parse_json(text, name)
    if "\\u" in text or text.count(":") != _colons(data):
        _parse_checking_keys(text, name)
    return data


def _parse_json(text, name):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NeatImportError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise NeatImportError(f"{name}: JSON nested too deeply") from None


def _colons(value) -> int:
    """Keys, plus colons inside keys and strings: the colons a JSON text of ``value`` holds."""
    if type(value) is dict:
        return len(value) + sum(k.count(":") for k in value) + sum(_colons(v) for v in value.values())
    if type(value) is list:
        if value and all(type(v) is dict for v in value):
            flat = [v for d in value for v in d.values()]
            if all(type(v) in (int, float, bool) or v is None for v in flat):  # connections: scalars only
                return sum(map(len, value)) + sum(k.count(":") for d in value for k in d)
        return sum(_colons(v) for v in value)
    if type(value) is str:
        return value.count(":")
    return 0


def _parse_checking_keys(text, name):
    def pairs(items):
        out = dict(items)
        if len(out) != len(items):
            seen = set()
            dup = next(k for k, _ in items if k in seen or seen.add(k))
            raise NeatImportError(f"{name}: duplicate key '{dup}' in one JSON object")
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise NeatImportError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise NeatImportError(f"{name}: JSON nested too deeply") from None


# -- import ---------------------------------------------------------------------------------


def from_neat(source, *, name: str | None = None, limits: Limits | None = None) -> Spec:
    """A spec computing what neat-python's ``FeedForwardNetwork`` of this export computes.

    Parameters
    ----------
    source : path, JSON text or dict
        What ``neat.export.export_network_json`` wrote (format 1.0, ``network_type: feedforward``).
    name : str, optional
        The spec's name (default: from the file name).

    Returns
    -------
    Spec
        With literal weights and biases; :func:`nngraph.interchange.save` moves many of them to a
        parameters file.

    Raises
    ------
    NeatImportError
        Naming the file and the JSON path: unknown keys, wrong types, NaN or infinite numbers,
        colliding ids, connections to missing nodes, cycles, recurrent networks, custom functions,
        aggregations that are not weighted sums.
    """
    export, where = read(source, limits)
    net = _Network(export, where)
    spec_name = name or _spec_name(source)
    return net.spec(spec_name)


def _spec_name(source) -> str:
    import re

    if isinstance(source, (str, Path)) and not (isinstance(source, str) and source.lstrip().startswith("{")):
        stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(source).stem) or "neat"
        return stem if stem[0].isalnum() or stem[0] == "_" else "n" + stem
    return "neat-genome"


class _Network:
    """The checked graph of a neat export: ids, groups, folded weights."""

    def __init__(self, export: _Export, where: str):
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
            self._fail("topology.output_keys", f"output node {missing[0]} has no entry in nodes")
        self.nodes = {n.id: n for n in export.nodes if n.type != "input"}
        self._connections(export.columns, set(self.inputs))

    def _fail(self, path, message):
        _reject(self.where, f"{path}: {message}")

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
        bad = np.flatnonzero(~np.isfinite(w))
        if len(bad):
            self._fail(f"connections[{bad[0]}].weight", f"{w[bad[0]]} is not a finite number")
        known = np.array(sorted(set(self.nodes) | inputs), dtype=np.int64)
        for arr, field in ((src, "from"), (dst, "to")):
            miss = np.flatnonzero(~np.isin(arr, known))
            if len(miss):
                k = int(arr[miss[0]])
                near = known[np.argsort(np.abs(known - k))[:3]].tolist()
                self._fail(f"connections[{miss[0]}].{field}", f"node {k} is not declared in nodes "
                           f"(nearest ids: {', '.join(map(str, near))})")
        into = np.flatnonzero(np.isin(dst, np.array(sorted(inputs), dtype=np.int64)))
        if len(into):
            self._fail(f"connections[{into[0]}].to", f"node {int(dst[into[0]])} is an input; inputs receive data")
        keep = np.flatnonzero(on)
        pairs = src[keep] * (1 << 32) + (dst[keep] - known.min())
        _, first, counts = np.unique(pairs, return_index=True, return_counts=True)
        if (counts > 1).any():
            k = int(keep[first[np.argmax(counts > 1)]])
            later = keep[np.flatnonzero(pairs == pairs[first[np.argmax(counts > 1)]])[1]]
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

    def spec(self, spec_name: str) -> Spec:
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
        weights = self.w * scale[d_at]
        group_names = [g[0] for g in groups]
        group_of = np.array([group_names.index(place[k][0]) for k in every])
        slot_of = np.array([place[k][1] for k in every])
        gs, gd = group_of[s_at], group_of[d_at]
        pair = gs * len(groups) + gd
        perm = np.argsort(pair, kind="stable")
        cuts = np.flatnonzero(np.diff(pair[perm])) + 1
        edge_list = []
        for part in np.split(perm, cuts) if len(perm) else []:
            rows = list(zip(slot_of[s_at[part]].tolist(), slot_of[d_at[part]].tolist(), weights[part].tolist()))
            edge_list.append({"from": group_names[gs[part[0]]], "to": group_names[gd[part[0]]], "pattern": "sparse",
                              "connections": rows})
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
        return load(data)

    def _reached(self):
        """Neat keys reachable from an input along enabled connections."""
        import scipy.sparse as sp
        from scipy.sparse.csgraph import breadth_first_order

        keys = np.array(sorted(set(self.nodes) | set(self.inputs)), dtype=np.int64)
        n = len(keys)
        s_at, d_at = np.searchsorted(keys, self.src), np.searchsorted(keys, self.dst)
        start = np.searchsorted(keys, np.array(self.inputs, dtype=np.int64))
        # one extra vertex (n) that leads to every input
        rows = np.concatenate([s_at, np.full(len(start), n)])
        cols = np.concatenate([d_at, start])
        g = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
        found = breadth_first_order(g, n, directed=True, return_predecessors=False)
        return set(keys[found[found < n]].tolist())


# -- export ---------------------------------------------------------------------------------


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
    return t.isdigit() and len(t) < 19
