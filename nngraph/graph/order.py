"""Prove a graph feed-forward and give every neuron its depth (its stage in the compiled plan).

Work happens at node granularity first: the strongly connected components of the node graph
(Tarjan's algorithm in plain Python, linear in nodes and edges), in topological order. Only
nodes on a node-level cycle, or with connections inside themselves, are expanded to neurons;
there a vectorised Kahn peel (numpy, one step per depth level, not per neuron) finds the depth,
and networkx ``find_cycle`` names the cycle when the peel stalls (networkx is imported only
then, so proving a network feed-forward does not pay for importing it). A softmax node
counts as one vertex: each of its outputs depends on all of its inputs.
"""
from __future__ import annotations

import numpy as np

from ..errors import CycleError, SpecError
from ..spec.source import format_path


def order_neurons(spec, nodes, connections, n_neurons, report):
    """Return (level of each neuron, node-level edges (src, dst)); raise CycleError on a neuron cycle."""
    incoming = {n.index: [] for n in nodes}
    successors = [[] for _ in nodes]
    edges = set()
    for k, c in enumerate(connections):
        if (c.src, c.dst) not in edges:
            edges.add((c.src, c.dst))
            successors[c.src].append(c.dst)
        incoming[c.dst].append(k)
        if c.src == c.dst and nodes[c.src].activation[0] == "softmax":
            report.error(c.path, "softmax_feeds_itself", f"'{nodes[c.src].name}' is a softmax node: each of its "
                         "outputs depends on all of its neurons, so its neurons may not feed each other")
    report.raise_if_errors(SpecError)
    level = np.zeros(n_neurons, dtype=np.int32)
    for members in strong_components(len(nodes), successors):
        if len(members) == 1 and (members[0], members[0]) not in edges:
            _node_level(nodes[members[0]], incoming, connections, nodes, level)
        else:
            _neuron_levels(sorted(members), incoming, connections, nodes, level, spec, report)
    return level, sorted(edges)


def strong_components(n, successors):
    """The strongly connected components of a directed graph on vertices 0..n-1, each a list,
    sources first (a topological order of the condensation). Tarjan's algorithm, iterative: no
    recursion limit however long a chain is."""
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack, found = [], []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, i = work[-1]
            succ = successors[v]
            if i < len(succ):
                work[-1] = (v, i + 1)
                w = succ[i]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                found.append(comp)
    found.reverse()  # Tarjan emits sinks first
    return found


def _node_level(node, incoming, connections, nodes, level):
    if node.role == "input":
        return
    deepest = 0
    for k in incoming[node.index]:
        c = connections[k]
        deepest = max(deepest, int(_source_levels(c, nodes, level).max()))
    level[node.offset:node.offset + node.size] = deepest + 1


def _source_levels(c, nodes, level):
    base = nodes[c.src].offset
    if c.dense:
        return level[base + c.src_lo:base + c.src_hi]
    return level[base + c.src_lo + c.rows]


def _expand(c):
    """Local (row, col) pairs of a connection (dense blocks expanded)."""
    if c.dense:
        rows = np.repeat(np.arange(c.m), c.n)
        cols = np.tile(np.arange(c.n), c.m)
        return rows, cols
    return c.rows, c.cols


def _neuron_levels(members, incoming, connections, nodes, level, spec, report):
    # local vertex ids: one per neuron, or one per softmax node
    vid_start, nv = {}, 0
    for i in members:
        vid_start[i] = nv
        nv += 1 if nodes[i].activation[0] == "softmax" else nodes[i].size
    member_set = set(members)

    def vid(node_index, local):
        if nodes[node_index].activation[0] == "softmax":
            return np.full(len(local), vid_start[node_index], dtype=np.int64)
        return vid_start[node_index] + local

    base = np.ones(nv, dtype=np.int64)
    for i in members:
        if nodes[i].role == "input":
            base[vid(i, np.arange(nodes[i].size))] = 0
    eu, ev, ek = [], [], []
    for i in members:
        for k in incoming[i]:
            c = connections[k]
            rows, cols = _expand(c)
            dst = vid(c.dst, c.dst_lo + cols)
            if c.src in member_set:
                eu.append(vid(c.src, c.src_lo + rows))
                ev.append(dst)
                ek.append(np.full(len(rows), k, dtype=np.int64))
            else:
                src_levels = level[nodes[c.src].offset + c.src_lo + rows]
                np.maximum.at(base, dst, src_levels.astype(np.int64) + 1)
    eu = np.concatenate(eu) if eu else np.zeros(0, np.int64)
    ev = np.concatenate(ev) if ev else np.zeros(0, np.int64)
    ek = np.concatenate(ek) if ek else np.zeros(0, np.int64)
    depth, done = _peel(nv, eu, ev, base)
    if not done.all():
        _report_cycle(members, vid_start, nodes, eu, ev, ek, done, connections, spec, report)
    for i in members:
        n = nodes[i]
        level[n.offset:n.offset + n.size] = depth[vid(i, np.arange(n.size))]


_SCALAR_EDGES = 64  # a frontier with fewer out-edges than this is stepped in plain Python


def _peel(nv, eu, ev, base):
    """Kahn's algorithm; depth[v] = max(base[v], depth[u] + 1). Each step costs time in proportion
    to the edges leaving its frontier, never to the whole graph, so a long chain (one neuron per
    level) is linear: wide frontiers step vectorised, narrow ones in plain Python."""
    order = np.argsort(eu, kind="stable")
    ev_s = ev[order]
    indptr = np.zeros(nv + 1, dtype=np.int64)
    np.cumsum(np.bincount(eu, minlength=nv), out=indptr[1:])
    indeg = np.bincount(ev, minlength=nv).astype(np.int64)
    depth = base.astype(np.int64, copy=True)
    done = np.zeros(nv, dtype=bool)
    frontier = np.flatnonzero(indeg == 0)
    m_indptr, m_ev, m_indeg, m_depth, m_done = (memoryview(a) for a in (indptr, ev_s, indeg, depth, done))
    frontier = frontier.tolist() if len(frontier) < _SCALAR_EDGES else frontier
    while len(frontier):
        if isinstance(frontier, list):
            frontier = _scalar_steps(frontier, m_indptr, m_ev, m_indeg, m_depth, m_done)
            continue
        frontier = np.asarray(frontier, dtype=np.int64)
        done[frontier] = True
        starts, ends = indptr[frontier], indptr[frontier + 1]
        counts = ends - starts
        total = int(counts.sum())
        if total == 0:
            break
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        src, dst = order[idx], ev_s[idx]
        np.maximum.at(depth, dst, depth[eu[src]] + 1)
        touched, dec = np.unique(dst, return_counts=True)
        indeg[touched] -= dec
        frontier = touched[indeg[touched] == 0]
        if len(frontier) < _SCALAR_EDGES:
            frontier = frontier.tolist()
    return depth, done


def _scalar_steps(frontier, indptr, ev, indeg, depth, done):
    """Peel in plain Python while the frontier stays narrow; return the first wide frontier
    (an array) or [] when nothing is left."""
    while frontier:
        for u in frontier:
            if indptr[u + 1] - indptr[u] > _SCALAR_EDGES:  # a wide fan-out: a vectorised step
                return np.asarray(frontier, dtype=np.int64)
        nxt = []
        for u in frontier:
            done[u] = True
            lo, hi = indptr[u], indptr[u + 1]
            du = depth[u] + 1
            for e in range(lo, hi):
                v = ev[e]
                if depth[v] < du:
                    depth[v] = du
                indeg[v] -= 1
                if not indeg[v]:
                    nxt.append(v)
        if len(nxt) >= _SCALAR_EDGES:
            return np.asarray(nxt, dtype=np.int64)
        frontier = nxt
    return []


def _report_cycle(members, vid_start, nodes, eu, ev, ek, done, connections, spec, report):
    import networkx as nx

    stuck = ~done[eu] & ~done[ev]
    g = nx.DiGraph()
    for u, v, k in zip(eu[stuck].tolist(), ev[stuck].tolist(), ek[stuck].tolist()):
        if not g.has_edge(u, v):
            g.add_edge(u, v, conn=k)
    cycle = nx.find_cycle(g)
    starts = sorted((s, i) for i, s in vid_start.items())

    def name(v):
        i = max(i for s, i in starts if s <= v)
        n = nodes[i]
        if n.activation[0] == "softmax":
            return f"{n.name}[*]"
        return n.name if n.size == 1 else f"{n.name}[{v - vid_start[i]}]"

    chain = " -> ".join([name(u) for u, _ in cycle] + [name(cycle[0][0])])
    paths = []
    for u, v in cycle:
        p = connections[g.edges[u, v]["conn"]].path
        if p not in paths:
            paths.append(p)
    where = spec.source.locate(paths) if spec.source is not None else {p: (0, 0) for p in paths}
    via = ", ".join(f"{format_path(p)} (line {where[p][0]})" for p in paths)
    report.error(paths[0], "cycle", f"the neurons form a cycle, so the network is not feed-forward: {chain}; "
                 f"through {via}; remove or redirect one of these connections")
    try:
        report.raise_if_errors(CycleError)
    except CycleError as exc:  # what a drawing needs to mark the cycle: neuron names and connections
        exc.cycle_neurons = [name(u) for u, _ in cycle]
        exc.cycle_connections = sorted({g.edges[u, v]["conn"] for u, v in cycle})
        raise


def fallback_levels(nodes, connections, n_neurons):
    """Columns for drawing a graph that is not feed-forward: node depth in the DAG of its
    strongly connected components, nodes of one component side by side in spec order."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(n.index for n in nodes)
    graph.add_edges_from((c.src, c.dst) for c in connections if c.src != c.dst)
    condensed = nx.condensation(graph)
    depth = {}
    for comp in nx.topological_sort(condensed):
        preds = [depth[p] + len(condensed.nodes[p]["members"]) for p in condensed.predecessors(comp)]
        depth[comp] = max(preds, default=0)
    level = np.zeros(n_neurons, dtype=np.int32)
    for comp, members in ((c, sorted(condensed.nodes[c]["members"])) for c in condensed.nodes):
        for k, i in enumerate(members):
            n = nodes[i]
            level[n.offset:n.offset + n.size] = depth[comp] + k
    return level
