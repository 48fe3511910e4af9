"""Prove a graph feed-forward and give every neuron its depth (its stage in the compiled plan).

Work happens at node granularity first: the strongly connected components of the node graph
(Tarjan's algorithm in plain Python, linear in nodes and edges), in topological order. Only
nodes on a node-level cycle, or with connections inside themselves, are expanded to neurons;
there a vectorised Kahn peel (numpy, one step per depth level, not per neuron) finds the depth,
and when the peel stalls a walk back along the vertices it left names the cycle (linear, no
networkx). A softmax node counts as one vertex: each of its outputs depends on all of its inputs.
"""
from __future__ import annotations

import bisect

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

    def vid(node_index, local):
        if nodes[node_index].activation[0] == "softmax":
            return np.full(len(local), vid_start[node_index], dtype=np.int64)
        return vid_start[node_index] + local

    base = np.ones(nv, dtype=np.int64)
    for i in members:
        if nodes[i].role == "input":
            base[vid(i, np.arange(nodes[i].size))] = 0
    eu, ev, ek, ep = _member_edges(members, incoming, connections, nodes, level, vid_start, base)
    depth, done = _peel(nv, eu, ev, base)
    if not done.all():
        _report_cycle(members, vid_start, nodes, (eu, ev, ek, ep), done, connections, spec, report)
    for i in members:
        n = nodes[i]
        level[n.offset:n.offset + n.size] = depth[vid(i, np.arange(n.size))]


def _member_edges(members, incoming, connections, nodes, level, vid_start, base):
    """Neuron-level edges (source vertex, target vertex, connection, entry within the connection)
    among ``members``, all connections at once: per connection only a few Python attribute reads, then whole-array numpy
    (a cycle through 100,000 one-neuron nodes has 100,000 connections). Edges from outside raise
    ``base`` (the earliest level) of their targets instead."""
    ks = [k for i in members for k in incoming[i]]
    if not ks:
        return tuple(np.zeros(0, np.int64) for _ in range(4))
    conns = [connections[k] for k in ks]
    pairs = [_expand(c) for c in conns]
    lengths = np.fromiter((len(r) for r, _ in pairs), dtype=np.int64, count=len(pairs))
    rows = np.concatenate([r for r, _ in pairs]).astype(np.int64, copy=False)
    cols = np.concatenate([q for _, q in pairs]).astype(np.int64, copy=False)

    def per_pair(values):
        return np.repeat(np.fromiter(values, dtype=np.int64, count=len(conns)), lengths)

    def one_vertex(i):  # a softmax node is one vertex: each output depends on all its inputs
        return nodes[i].activation[0] == "softmax"

    ev = per_pair(vid_start[c.dst] for c in conns) + \
        per_pair(0 if one_vertex(c.dst) else 1 for c in conns) * (per_pair(c.dst_lo for c in conns) + cols)
    inside = per_pair(c.src in vid_start for c in conns).astype(bool)
    if not inside.all():
        outside = ~inside
        src = per_pair(nodes[c.src].offset + c.src_lo for c in conns)[outside] + rows[outside]
        np.maximum.at(base, ev[outside], level[src].astype(np.int64) + 1)
    eu = per_pair(vid_start.get(c.src, 0) for c in conns) + \
        per_pair(0 if one_vertex(c.src) else 1 for c in conns) * (per_pair(c.src_lo for c in conns) + rows)
    ek = np.repeat(np.asarray(ks, dtype=np.int64), lengths)
    ep = np.arange(len(ek), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return eu[inside], ev[inside], ek[inside], ep[inside]


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


_SHOWN = 12  # neurons of a longer cycle shown in its message (all are kept on the exception)


def _report_cycle(members, vid_start, nodes, edges, done, connections, spec, report):
    """Name the cycle neuron by neuron, in time linear in the graph: every vertex the peel left has
    a predecessor it also left, so walking back along one such predecessor each must meet itself;
    vertices map to their nodes by binary search, spec edges are collected once each (several
    single-neuron edges between the same two nodes share one connection, so each entry is traced
    back to its own edge)."""
    eu, ev, ek, ep = edges
    stuck = np.flatnonzero(~done[eu] & ~done[ev])
    heads, first = np.unique(ev[stuck], return_index=True)  # the first stuck edge into each vertex
    pred = np.full(len(done), -1, dtype=np.int64)
    via_conn = np.full(len(done), -1, dtype=np.int64)
    via_entry = np.full(len(done), -1, dtype=np.int64)
    pred[heads], via_conn[heads], via_entry[heads] = eu[stuck[first]], ek[stuck[first]], ep[stuck[first]]
    pred_l, seen, v, walk = pred.tolist(), {}, int(heads[0]), []
    while v not in seen:
        seen[v] = len(walk)
        walk.append(v)
        v = pred_l[v]
    ring = walk[seen[v]:][::-1]  # forwards along the connections
    start = ring.index(min(ring))
    ring = ring[start:] + ring[:start]
    cycle = [(u, ring[(i + 1) % len(ring)]) for i, u in enumerate(ring)]
    conn_of, entry_of = via_conn.tolist(), via_entry.tolist()
    order = sorted(members, key=vid_start.__getitem__)
    starts = [vid_start[i] for i in order]

    def name(v):
        i = order[bisect.bisect_right(starts, v) - 1]
        n = nodes[i]
        if n.activation[0] == "softmax":
            return f"{n.name}[*]"
        return n.name if n.size == 1 else f"{n.name}[{v - vid_start[i]}]"

    names = [name(u) for u, _ in cycle]
    shown = names + names[:1]
    if len(names) > _SHOWN:
        shown = names[:_SHOWN - 3] + ["..."] + names[-2:] + names[:1]
    chain = " -> ".join(shown) + (f" ({len(names):,} neurons)" if len(names) > _SHOWN else "")
    paths = list(dict.fromkeys(_entry_path(connections[conn_of[v]], entry_of[v]) for _, v in cycle))
    listed = paths if len(paths) <= _SHOWN else paths[:_SHOWN - 3] + paths[-2:]
    where = spec.source.locate(listed) if spec.source is not None else {p: (0, 0) for p in listed}
    via = [f"{format_path(p)} (line {where[p][0]})" if where[p][0] else format_path(p) for p in listed]
    if len(paths) > len(listed):
        via = via[:_SHOWN - 3] + [f"... {len(paths) - len(listed):,} more ..."] + via[_SHOWN - 3:]
    report.error(paths[0], "cycle", f"the neurons form a cycle, so the network is not feed-forward: {chain}; "
                 f"through {', '.join(via)}; remove or redirect one of these connections")
    try:
        report.raise_if_errors(CycleError)
    except CycleError as exc:  # what a drawing needs to mark the cycle: neuron names and connections
        exc.cycle_neurons = names
        exc.cycle_connections = sorted({conn_of[v] for _, v in cycle})
        raise


def _entry_path(c, entry):
    """The spec path of one entry of a connection: its own row when the connection gathers
    rows (single-neuron edges, an edge table), else the connection's edge."""
    if c.row_paths is None:
        return c.path
    return (c.path[0], int(c.row_paths[entry]))


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
