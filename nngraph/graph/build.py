"""Resolve a Spec into a neuron graph and check it: references, roles, shapes, limits, files.

Each rule is a small function that reports into a :class:`Report`; :func:`build` runs them all
so a user sees every independent problem in one pass. Edges are resolved in
:mod:`nngraph.graph.edges`; acyclicity and depth live in :mod:`nngraph.graph.order`.
"""
from __future__ import annotations


import zipfile

import numpy as np

from ..errors import CycleError, LimitError, SpecError
from ..limits import Limits, as_limits
from ..spec import Spec, load, located_at_options
from ..spec.files import UnsafePath, resolve_inside
from .edges import check_duplicates, resolve_edge_table, resolve_edges
from .model import Graph, NodeInfo, Report


def build(spec, *, limits: Limits | None = None, allow_cycles: bool = False) -> Graph:
    """Resolve and check a spec; return its neuron graph.

    Parameters
    ----------
    spec : Spec, path or text
        Anything :func:`nngraph.load` accepts.
    limits : Limits, optional
    allow_cycles : bool
        For drawing a broken network: instead of raising CycleError, return the graph with the
        cycle recorded in ``graph.cycle`` (and columns that are not a valid order).

    Returns
    -------
    Graph

    Raises
    ------
    SpecError
        Every independent problem (unknown names, shapes, duplicates, unsafe files...).
    LimitError
        A declared size is over a limit; nothing was allocated.
    CycleError
        The neurons form a cycle; the message lists it neuron by neuron.

    Examples
    --------
    >>> g = build("nngraph: 1\\nname: n\\nnodes: [{name: x, role: input, size: 2}, {name: y, role: output}]\\n"
    ...           "edges: [{from: x, to: y}]\\n")
    >>> g.n_neurons, g.n_weights
    (3, 2)
    """
    if isinstance(spec, Spec) and getattr(spec.source, "overrides", ()):
        # an edited copy (model_copy, --set, a fit keyword): its errors located at the edits
        with located_at_options(spec):
            return _build(spec, limits, allow_cycles)
    return _build(spec, limits, allow_cycles)


def _build(spec, limits, allow_cycles) -> Graph:
    from .order import fallback_levels, order_neurons  # acyclicity proof and depth

    limits = as_limits(limits)
    try:
        spec = load(spec, limits=limits)
    except SpecError as exc:
        partial = getattr(exc, "partial_spec", None)
        if partial is None:
            raise
        try:  # only unknown keys were wrong: report the graph's findings in the same pass
            build(partial, limits=limits)
        except SpecError as more:
            raise SpecError(exc.diagnostics + more.diagnostics, exc.warnings + more.warnings) from None
        raise
    report = Report(spec)
    nodes = check_nodes(spec, report, limits)
    if report.has_errors and not nodes:
        report.raise_if_errors()
    check_files(spec, report)
    connections = resolve_edges(spec, nodes, report, limits)
    connections += resolve_edge_table(spec, nodes, report)
    if any(i[1] in ("too_many_neurons", "node_too_large", "too_many_weights") for i in report.items):
        report.raise_if_errors(LimitError)
    check_duplicates(connections, nodes, report)
    repair = spec._repair
    if not report.has_errors and not (repair and repair.structural):  # "unreachable" would only echo an error
        check_flow(spec, nodes, connections, report)
        if not spec._repaired:  # a left-out weight or init is an error already, not a missing weight
            check_weights_given(spec, connections, report)
    report.raise_if_errors()
    n_neurons = sum(n.size for n in nodes)
    try:
        levels, node_edges = order_neurons(spec, nodes, connections, n_neurons, report)
    except CycleError as exc:
        if not allow_cycles:
            raise
        graph = Graph(spec, nodes, connections, n_neurons, fallback_levels(nodes, connections, n_neurons), None,
                      report.warnings(), limits)
        graph.cycle = exc
        return graph
    return Graph(spec, nodes, connections, n_neurons, levels, node_edges, report.warnings(), limits)


def check_nodes(spec: Spec, report: Report, limits: Limits) -> list:
    nodes, seen, offset = [], {}, 0
    repair = spec._repair  # nodes whose name, size or role failed already: no echo of that error
    for i, node in enumerate(spec.nodes):
        path = ("nodes", i)
        sized = not (repair and repair.unsized(i))  # a stand-in size of 1: nothing to compare with it
        if node.name in seen:
            report.error(path + ("name",), "duplicate_name",
                         f"node name '{node.name}' is already used by nodes[{seen[node.name]}]; names must be unique")
        seen.setdefault(node.name, i)
        if node.size > limits.max_node_size:
            report.error(path + ("size",), "node_too_large", f"size {node.size:,} is "
                         f"{limits.over('max_node_size', 'neurons per node')}")
        if node.role == "input":
            for attr in ("activation", "bias", "dropout"):
                if getattr(node, attr) is not None:
                    report.error(path + (attr,), "input_" + attr, f"input nodes take no {attr}: they pass their "
                                 f"values on unchanged; remove '{attr}' or make the node hidden")
            for attr in ("l1", "l2", "max_norm"):  # they act on a node's incoming weights
                if getattr(node, attr) is not None:
                    report.error(path + (attr,), "input_" + attr, f"input nodes take no {attr}: no weights lead "
                                 f"into them; put '{attr}' on the node the weights lead to, or on the edge")
        if node.role == "output" and node.dropout:  # zeroed predictions: the loss would be of a damaged output
            report.error(path + ("dropout",), "output_dropout", "output nodes take no dropout: while training it "
                         "would zero the network's own predictions and scale up the rest, so the loss would be "
                         "measured on a damaged output (and the network trained toward the wrong values); "
                         "remove 'dropout' here and put it on a hidden node")
        if sized and isinstance(node.bias, list) and len(node.bias) != node.size:
            report.error(path + ("bias",), "bias_length", f"bias has {len(node.bias)} values for a node of "
                         f"size {node.size}; give {node.size} numbers, or one number for all")
        if node.labels is not None and sized:
            if len(node.labels) != node.size:
                report.error(path + ("labels",), "labels_length", f"{len(node.labels)} labels for a node of size "
                             f"{node.size}; give one label per neuron")
            elif len(set(node.labels)) != len(node.labels):
                report.error(path + ("labels",), "duplicate_label", "labels must be unique within a node")
        act = node.activation.key if node.activation is not None else ("linear", None)
        nodes.append(NodeInfo(i, node.name, node.size, offset, node.role, act, node))
        if offset <= limits.max_neurons < offset + node.size:  # the node that passes the limit is named
            crossing = (i, offset + node.size)
        offset += node.size
    if offset > limits.max_neurons:
        i, running = crossing
        report.error(("nodes", i, "size"), "too_many_neurons", f"this node's {spec.nodes[i].size:,} neurons bring the "
                     f"total to {running:,}" + (f" ({offset:,} with the nodes after it)" if offset > running else "")
                     + f", {limits.over('max_neurons', 'neurons in all')}")
    roles = {n.role for n in spec.nodes}
    for role in ("input", "output"):
        if role not in roles and not (repair and repair.role_unknown()):
            report.error(("nodes",), f"no_{role}", f"no node has role: {role}; a network needs at least one "
                         f"{role} node")
    return nodes


def check_files(spec: Spec, report: Report):
    """Files named by the spec must resolve inside its folder (they need not exist yet)."""
    named = [(("parameters",), spec.parameters), (("edge_file",), spec.edge_file)]
    if spec.data is not None:
        named += [(("data", "path"), spec.data.path), (("data", "directory"), spec.data.directory)]
    for path, name in named:
        if name is None:
            continue
        try:
            resolve_inside(spec.base_dir, name, "folder" if path[-1] == "directory" else "file")
        except UnsafePath as exc:
            report.error(path, "unsafe_path", str(exc))


def stored_parameter_names(spec: Spec):
    """The names of the arrays in the spec's parameters file: a set, or None when there is no
    readable file (reading it fully, with every check, is :func:`nngraph.params.read_parameters`)."""
    if spec.parameters is None:
        return None
    try:
        path = resolve_inside(spec.base_dir, spec.parameters)
        if not path.is_file():
            return None
        with zipfile.ZipFile(path) as zf:
            return {n[:-4] if n.endswith(".npy") else n for n in zf.namelist()}
    except (UnsafePath, OSError, zipfile.BadZipFile, ValueError, RuntimeError):  # RuntimeError: NotImplementedError
        return None  # of a zip feature zipfile lacks (a newer version, a method): read_parameters says so


def check_weights_given(spec: Spec, connections, report: Report):
    """Warn about each edge whose weights nothing gives: no weight, weights or init, and no
    entry in the parameters file. Such an edge would start from random xavier_uniform weights,
    which is never a good guess to make silently (``nngraph run`` refuses them)."""
    if spec.parameters is not None and spec.train is None and stored_parameter_names(spec) is None:
        report.warning(("parameters",), "no_parameters_file", f"'{spec.parameters}' does not exist (or is not a "
                       "readable .npz), and the spec declares no training that would write it; check the name")
    unset = [c for c in connections if c.values is None and c.init is None]
    if not unset:
        return
    stored = stored_parameter_names(spec) or set()
    for c in unset:
        if c.key in stored:
            continue
        if spec.train is not None:
            fix = "write init: xavier_uniform (or another initializer) to say that training starts from random weights"
        else:
            fix = "give its weights (weight, or weights: a matrix), or an init for random weights on purpose"
        report.warning(c.path, "no_weights", f"no weights given (no weight, weights or init, and none in a "
                       f"parameters file): it would run with random weights; {fix}")


def check_flow(spec: Spec, nodes, connections, report: Report):
    """Every output must be reachable from an input; warn about nodes no output depends on."""
    succ = {n.index: set() for n in nodes}
    pred = {n.index: set() for n in nodes}
    for c in connections:
        succ[c.src].add(c.dst)
        pred[c.dst].add(c.src)
    reached = _closure([n.index for n in nodes if n.role == "input"], succ)
    needed = _closure([n.index for n in nodes if n.role == "output"], pred)
    for n in nodes:
        path = ("nodes", n.index)
        if n.role == "output" and n.index not in reached:
            report.error(path, "unreachable_output", f"output '{n.name}' is not reached from any input; "
                         "connect it (through hidden nodes) to an input")
        elif n.role != "output" and n.index not in needed:
            report.warning(path, "unused_node", f"no output depends on '{n.name}'; it is computed for nothing")
        elif n.role == "hidden" and not pred[n.index]:
            report.warning(path, "no_inputs", f"'{n.name}' has no incoming connections; it outputs a constant")
        if n.activation[0] == "softmax" and n.size == 1:
            report.warning(path + ("activation",), "softmax_of_one", "softmax over one neuron is always 1; "
                           "use sigmoid for a single-neuron probability")
    _check_output_neurons(nodes, connections, reached, report)


def _check_output_neurons(nodes, connections, reached, report):
    """Within a reached output node, a neuron that nothing connects to only outputs its bias."""
    fed = {n.index: np.zeros(n.size, dtype=bool) for n in nodes if n.role == "output" and n.index in reached}
    for c in connections:
        if c.dst in fed:
            if c.dense:
                fed[c.dst][c.dst_lo:c.dst_hi] = True
            else:
                fed[c.dst][c.dst_lo + c.cols] = True
    for index, mask in fed.items():
        missing = np.flatnonzero(~mask)
        if len(missing):
            n = nodes[index]
            shown = ", ".join(f"{n.name}[{i}]" for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
            plural = "s" if len(missing) > 1 else ""
            report.warning(("nodes", index), "unfed_output", f"no connection reaches output neuron{plural} {shown}; "
                           "it outputs a constant (its bias)")


def _closure(start, links):
    seen, stack = set(start), list(start)
    while stack:
        for nxt in links[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen

