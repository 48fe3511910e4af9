"""Resolve edges, edge tables and edge files into Connections, and find duplicate connections.

Single-neuron edges with a literal weight and table rows are resolved in bulk with numpy string
operations and grouped per node pair; duplicates are found by sorting integer pair codes.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from ..limits import Limits
from ..spec import Spec, suggest
from ..spec.columns import ConnectionTable, EdgeList, RefColumn
from ..spec.files import UnsafePath, read_edge_file, require_regular_file, resolve_inside
from ..spec.source import format_path
from .model import Connection, Report, derived_seed
from .refs import parse_ref, resolve_range, split_neuron_refs



def _resolve_ref(ref, by_name, nodes, report, path, repair=None):
    try:
        name, selector = parse_ref(ref)
    except ValueError as exc:
        report.error(path, "bad_reference", str(exc))
        return None
    if name not in by_name:
        if not (repair and repair.may_name(name)):  # else it may be meant for a node with an invalid name
            _unknown(report, path, name, by_name)
        return None
    node = nodes[by_name[name]]
    if repair and repair.unsized(node.index):
        return None  # the node's size failed already: no range or shape can be judged
    try:
        lo, hi = resolve_range(selector, node.size, name)
    except ValueError as exc:
        report.error(path, "out_of_range", str(exc))
        return None
    return node, lo, hi


def _unknown(report, path, name, by_name, prefix=""):
    report.error(path, "unknown_node", f"{prefix}unknown node '{name}'{suggest(name, by_name)}; "
                 f"nodes are: {', '.join(list(by_name)[:20])}{'...' if len(by_name) > 20 else ''}")


def _names(nodes, repair) -> dict:
    """Node name -> index, first use of a name; nodes whose own name failed are not listed."""
    by_name = {}
    for n in nodes:
        if not (repair and repair.unnamed(n.index)):
            by_name.setdefault(n.name, n.index)
    return by_name


def _declared_count(edge, m, n) -> int:
    if edge.pattern == "dense":
        return m * n
    if edge.pattern == "one_to_one":
        return m
    if edge.pattern == "sparse":
        return len(edge.connections)
    return math.ceil(edge.density * m * n)


_SIMPLE_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[0-9]+\])?")


@lru_cache(maxsize=1 << 16)
def _simple_ref(ref: str) -> bool:  # matched once per distinct reference: 100k edges repeat a few thousand
    return _SIMPLE_REF.fullmatch(ref) is not None


def _is_single_weight(edge) -> bool:
    """An edge of one neuron to one neuron with a literal weight (NEAT genomes are made of these)."""
    return edge.weight is not None and edge.pattern == "dense" and _simple_ref(edge.from_) and _simple_ref(edge.to)


def _single_edges(spec: Spec, repair):
    """The edges of one neuron to one neuron with a literal weight, in spec order, as columns:
    (positions, from refs, to refs, weights, trainable). Edges the spec holds as columns
    (spec.columns.EdgeList) are read from its columns, never made into models."""
    edges = spec.edges
    empty = RefColumn([], np.zeros(0, dtype=np.int64))
    if repair and repair.structural:
        return np.zeros(0, dtype=np.int64), empty, empty, np.zeros(0), np.zeros(0, dtype=bool)
    if isinstance(edges, EdgeList):
        at, frm, to, weight = edges.columns()
        held = np.zeros(len(edges), dtype=bool)
        held[at] = True
        others = np.flatnonzero(~held).tolist()
    else:
        at, frm, to, weight = np.zeros(0, dtype=np.int64), empty, empty, np.zeros(0)
        others = range(len(edges))
    if len(at):  # every held edge has a literal weight and the default pattern: only its references
        keep = np.array([_simple_ref(r) for r in frm.uniq], dtype=bool)[frm.code] & \
            np.array([_simple_ref(r) for r in to.uniq], dtype=bool)[to.code]
        if not keep.all():
            at, weight, frm, to = at[keep], weight[keep], frm.take(keep), to.take(keep)
    trainable = np.ones(len(at), dtype=bool)
    more = [(i, e) for i in others if _is_single_weight(e := edges[i])]
    if more:  # models among the held columns: merged in spec order
        at = np.concatenate([at, np.array([i for i, _ in more], dtype=np.int64)])
        order = np.argsort(at, kind="stable")
        all_from, all_to = list(frm) + [e.from_ for _, e in more], list(to) + [e.to for _, e in more]
        frm = RefColumn.of([all_from[k] for k in order.tolist()])
        to = RefColumn.of([all_to[k] for k in order.tolist()])
        weight = np.concatenate([weight, np.array([e.weight for _, e in more], dtype=np.float64)])[order]
        trainable = np.concatenate([trainable, np.array([e.trainable for _, e in more], dtype=bool)])[order]
        at = at[order]
    return at, frm, to, weight, trainable


def resolve_edges(spec: Spec, nodes, report: Report, limits: Limits) -> list:
    repair = spec._repair  # a copy made to report more errors: some edges are only marks
    by_name = _names(nodes, repair)
    single, single_from, single_to, single_weight, single_trainable = _single_edges(spec, repair)
    n_edges = len(spec.edges)
    is_single = np.zeros(n_edges, dtype=bool)
    is_single[single] = True
    counts = {}  # weights each other edge adds (Python ints: a declared size may be beyond int64)
    how_of = {}
    ends = {}
    for i in np.flatnonzero(~is_single).tolist():
        edge = spec.edges[i]
        path = ("edges", i)
        usable = repair.edges.get(i) if repair else None
        src = _resolve_ref(edge.from_, by_name, nodes, report, path + ("from",), repair) \
            if usable is None or usable[0] else None
        dst = _resolve_ref(edge.to, by_name, nodes, report, path + ("to",), repair) \
            if usable is None or usable[1] else None
        if usable is not None:  # its pattern or endpoints failed: checked as far as it can be, then left out
            if dst and dst[0].role == "input":
                report.error(path + ("to",), "edge_into_input", f"'{edge.to}' is an input node; inputs receive "
                             "data, not connections; make it hidden or point the edge elsewhere")
            continue
        ends[i] = (src, dst)
        if src and dst:
            m, n = src[2] - src[1], dst[2] - dst[1]
            counts[i] = _declared_count(edge, m, n)
            how_of[i] = {"dense": f"{m:,} x {n:,}, dense", "one_to_one": "one_to_one",
                         "sparse": "listed", "random": f"density {edge.density} of {m:,} x {n:,}"}[edge.pattern]
    rows = len(spec.edge_table or ())
    in_edges = len(single) + sum(counts.values())
    total = in_edges + rows
    if total > limits.max_weights:
        if in_edges > limits.max_weights:  # the edge that passes the limit is named
            running = 0
            for i in range(n_edges):
                count = 1 if is_single[i] else counts.get(i, 0)
                running += count
                if running > limits.max_weights:
                    break
            crossing = (("edges", i), count, how_of.get(i, "one connection"), running)
        else:
            crossing = (("edge_table", limits.max_weights - in_edges), 1, "one row", limits.max_weights + 1)
        where, count, how, running = crossing
        report.error(where, "too_many_weights", f"this {'row' if where[0] == 'edge_table' else 'edge'}'s "
                     f"{count:,} weight{'s' if count != 1 else ''} ({how}) bring the total to {running:,}"
                     + (f" ({total:,} with the rest)" if total > running else "")
                     + f", {limits.over('max_weights', 'weights in all')}")
        return []
    out, keys = [], {}
    for trainable in (True, False):
        take = single_trainable if trainable else ~single_trainable
        if take.any():
            if take.all():
                frm, to, w, at = single_from, single_to, single_weight, single
            else:
                frm, to = single_from.take(take), single_to.take(take)
                w, at = single_weight[take], single[take]
            conns = _table_connections(frm, to, w, "connections", nodes, report, row_index=at)
            for c in conns:
                c.trainable = trainable
                if not trainable:
                    c.key += "#frozen"
            out += conns
    for i, (src, dst) in ends.items():
        if src is None or dst is None:
            continue
        edge = spec.edges[i]
        path = ("edges", i)
        key = f"edges/{edge.from_}->{edge.to}"
        keys[key] = keys.get(key, 0) + 1
        if keys[key] > 1:  # several edges between the same references: number them in spec order
            key += f"#{keys[key]}"
        if dst[0].role == "input":
            report.error(path + ("to",), "edge_into_input", f"'{edge.to}' is an input node; inputs receive "
                         "data, not connections; make it hidden or point the edge elsewhere")
            continue
        conn = _resolve_edge(edge, path, key, src, dst, report)
        if conn is not None:
            out.append(conn)
    return out


def _resolve_edge(edge, path, key, src, dst, report):
    (snode, slo, shi), (dnode, dlo, dhi) = src, dst
    m, n = shi - slo, dhi - dlo
    conn = Connection(key, path, snode.index, slo, shi, dnode.index, dlo, dhi, dense=edge.pattern == "dense",
                      init=edge.init, trainable=edge.trainable)
    if edge.pattern == "dense":
        if edge.weight is not None:
            if (m, n) != (1, 1):
                report.error(path + ("weight",), "weight_shape", f"'weight' sets one connection, but "
                             f"{edge.from_} -> {edge.to} is {m} x {n}; use 'weights' (a {m} x {n} matrix) or 'init'")
                return None
            conn.values = np.array([[edge.weight]])
        elif edge.weights is not None:
            w = edge.weights
            if not (len(w) == m and all(isinstance(r, list) and len(r) == n for r in w)):
                found = f"{len(w)} x {len(w[0]) if w and isinstance(w[0], list) else '?'}"
                rows = {len(r) for r in w if isinstance(r, list)}
                if len(rows) > 1:
                    found = f"rows of lengths {sorted(rows)}"
                report.error(path + ("weights",), "weights_shape", f"weights must be a matrix of {m} row{'' if m == 1 else 's'} "
                             f"(from {edge.from_}) by {n} column{'' if n == 1 else 's'} (to {edge.to}); found {found}")
                return None
            conn.values = np.array(w, dtype=np.float64)
        return conn
    if edge.pattern == "one_to_one":
        if m != n:
            report.error(path + ("pattern",), "one_to_one_sizes", f"one_to_one needs equal sizes; "
                         f"{edge.from_} has {m} neurons and {edge.to} has {n}")
            return None
        conn.rows = conn.cols = np.arange(m, dtype=np.int64)
        if edge.weight is not None:
            conn.values = np.full(m, edge.weight)
        elif edge.weights is not None:
            if not isinstance(edge.weights[0] if edge.weights else 0.0, float) or len(edge.weights) != m:
                report.error(path + ("weights",), "weights_shape", f"one_to_one weights are a list of {m} numbers")
                return None
            conn.values = np.array(edge.weights, dtype=np.float64)
        return conn
    if edge.weight is not None or (edge.pattern == "sparse" and edge.weights is not None):
        report.error(path, "weights_for_pattern", f"pattern {edge.pattern} takes its weights from "
                     "'connections' ([i, j, w]) or 'init'")
        return None
    if edge.pattern == "sparse":
        table = edge.connections
        if isinstance(table, ConnectionTable):  # the spec's own read-only columns, not a copy
            conn.rows, conn.cols = table.rows, table.cols
        else:
            conn.rows = np.array([c[0] for c in table], dtype=np.int64)
            conn.cols = np.array([c[1] for c in table], dtype=np.int64)
        bad = np.flatnonzero((conn.rows >= m) | (conn.cols >= n))
        for k in bad[:5]:
            report.error(path + ("connections", int(k)), "out_of_range", f"connection [{table[k][0]}, {table[k][1]}] "
                         f"is outside {edge.from_} x {edge.to} ({m} x {n}: i < {m}, j < {n})")
        if len(bad):
            return None
        if isinstance(table, ConnectionTable):
            conn.values = table.values
        elif table and len(table[0]) == 3:
            conn.values = np.array([c[2] for c in table], dtype=np.float64)
        return conn
    # random: a seeded pattern, fixed by the spec (not by training)
    seed = edge.seed if edge.seed is not None else derived_seed(0, key)
    flat = random_pairs(m * n, math.ceil(edge.density * m * n), seed)
    conn.rows, conn.cols = np.divmod(flat, n)
    return conn


_PAIR_BLOCK = 1 << 22  # pairs drawn from at once: numpy's draw of k from N may hold all N indices


def random_pairs(population: int, k: int, seed) -> np.ndarray:
    """k distinct sorted indices below population, uniformly, in memory proportional to k.

    A population of up to 2**22 pairs (32 MiB of indices), or a draw of at most 1 in 50 (numpy then
    keeps only the k drawn), is drawn in one call, as it always was, so existing patterns stay. A larger one is cut into blocks of 2**22: a
    multivariate hypergeometric draw says how many indices each block gets (exactly what a draw
    from the whole gives), then each block draws its share."""
    rng = np.random.default_rng(seed)
    if population <= _PAIR_BLOCK or k <= population // 50:  # numpy's own draw: O(k) memory when k is small
        return np.sort(rng.choice(population, size=k, replace=False))
    n_blocks = -(-population // _PAIR_BLOCK)
    sizes = np.full(n_blocks, _PAIR_BLOCK, dtype=np.int64)
    sizes[-1] = population - _PAIR_BLOCK * (n_blocks - 1)
    counts = rng.multivariate_hypergeometric(sizes, k, method="marginals")
    flat, at = np.empty(k, dtype=np.int64), 0
    for b in np.flatnonzero(counts).tolist():
        c = int(counts[b])
        flat[at:at + c] = b * _PAIR_BLOCK + np.sort(rng.choice(int(sizes[b]), size=c, replace=False))
        at += c
    return flat


def resolve_edge_table(spec: Spec, nodes, report: Report) -> list:
    """Group edge-table rows and edge-file rows into one sparse Connection per node pair."""
    out = []
    if spec.edge_table:
        rows = spec.edge_table
        out += _table_connections([r[0] for r in rows], [r[1] for r in rows],
                                  np.array([r[2] for r in rows], dtype=np.float64), "edge_table", nodes, report,
                                  repair=spec._repair)
    if spec.edge_file:
        try:
            path = resolve_inside(spec.base_dir, spec.edge_file)
        except UnsafePath:
            return out  # reported once, by check_files
        try:
            path = require_regular_file(path, spec.edge_file)
            f, t, w, rows = read_edge_file(path)
        except (UnsafePath, ValueError) as exc:
            report.error(("edge_file",), "edge_file", str(exc))
            return out
        out += _table_connections(f, t, w, "edge_file", nodes, report, row_label=rows.__getitem__,
                                  repair=spec._repair)
    return out


_REPORTED_ROWS = 5  # rows reported per kind of fault in one table (then a count of the rest)


def _table_connections(frm, to, weights, where, nodes, report, row_index=None, row_label=None, repair=None):
    """One sparse Connection per (source node, target node) from rows of single-neuron references.

    ``where`` names the rows: "edge_table", "edge_file", or "connections" (single-neuron edges
    of ``edges``, whose spec rows are ``row_index``). ``row_label(row)`` names a row of an edge
    file in messages (``genome.csv:7``). Every faulty row is reported (the first few of each kind,
    then a count) and left out; the rest are still resolved and checked.
    """
    by_name = {name: nodes[i] for name, i in _names(nodes, repair).items()}
    rows_at = np.arange(len(frm)) if row_index is None else row_index
    frm, to = RefColumn.of(frm), RefColumn.of(to)

    def at(row, col):
        if where == "connections":
            return ("edges", int(rows_at[row]), ("from", "to")[col])
        return _row_path(where, int(rows_at[row]), col)

    def label(row):  # a row of an edge file is named by its file and line
        if row_label is not None:
            return f"{row_label(int(rows_at[row]))}: "
        return f"connection {int(rows_at[row]) + 1} of the file: " if where == "edge_file" else ""

    def error(rows, col, code, message):
        total, rows = len(rows), rows[:_REPORTED_ROWS]
        for k, row in enumerate(rows):
            more = total - len(rows) if k == len(rows) - 1 else 0
            report.error(at(int(row), col), code, label(row) + message(int(row))
                         + (f" (and {more:,} more rows like it)" if more else ""))

    keep = np.ones(len(frm), dtype=bool)
    said_whole = np.zeros(len(frm), dtype=bool)
    resolved = []
    for refs, col in ((frm, 0), (to, 1)):
        # each distinct reference is parsed and looked up once; rows only carry integer codes
        uniq, code = refs.uniq, refs.code
        u_names, u_idx, u_malformed = split_neuron_refs(np.array(uniq, dtype=str))

        def ref(r):
            return uniq[code[r]]

        def name(r):
            return str(u_names[code[r]])
        malformed = u_malformed[code]
        if u_malformed.any():  # every bad row is named; the others are still checked
            error(np.flatnonzero(malformed == 1), col, "bad_reference",
                  lambda r: f"{_shown(ref(r))} is not a single-neuron reference (write name[i])")
            error(np.flatnonzero(malformed == 2), col, "bad_reference",
                  lambda r: f"{_shown(ref(r))}: a neuron index beyond any node's size")
            keep &= malformed == 0
        # node of each distinct reference (malformed ones: none, and not reported again as unknown)
        ref_node = np.full(len(uniq), -1, dtype=np.int64)
        ref_size = np.ones(len(uniq), dtype=np.int64)
        unknown = {}  # unknown node name -> its distinct references
        for u, node_name in enumerate(u_names.tolist()):
            if u_malformed[u]:
                continue
            node = by_name.get(node_name)
            if node is None:
                if not (repair and repair.may_name(node_name)):
                    unknown.setdefault(node_name, []).append(u)
            elif not (repair and repair.unsized(node.index)):  # an unsized node's rows: left out, not judged
                ref_node[u], ref_size[u] = node.index, node.size
        if unknown:  # in name order, each at the first row that names it
            first = _first_rows(code, len(uniq))
            for node_name in sorted(unknown)[:_REPORTED_ROWS * 4]:
                row = min(int(first[u]) for u in unknown[node_name])
                _unknown(report, at(row, col), node_name, by_name, label(row))
        node_idx, size, idx = ref_node[code], ref_size[code], u_idx[code]
        known = node_idx >= 0
        keep &= known
        over = known & (idx >= size)
        error(np.flatnonzero(over), col, "out_of_range", lambda r: f"neuron index {idx[r]} is out of range for "
              f"'{name(r)}' (size {size[r]}: valid 0 to {size[r] - 1})")
        whole = known & (idx < 0) & (size != 1)
        if where == "connections":  # one 'weight' on whole nodes: said once per edge, at its first end
            whole &= ~said_whole
            said_whole |= whole
            error(np.flatnonzero(whole), col, "weight_shape", lambda r: f"'weight' sets one connection, but "
                  f"'{name(r)}' has {size[r]} neurons; use 'weights' (a matrix) or 'init'")
        else:
            error(np.flatnonzero(whole), col, "out_of_range", lambda r: f"{_shown(ref(r))} must name one neuron "
                  f"(name[i] with i < {size[r]})")
        keep &= ~(over | whole)
        resolved.append((node_idx, np.maximum(idx, 0)))
    (sn, si), (dn, di) = resolved
    is_input = np.array([n.role == "input" for n in nodes] + [False])  # [-1]: rows already left out
    into_input = keep & is_input[dn]
    error(np.flatnonzero(into_input), 1, "edge_into_input", lambda r: f"'{to[int(r)]}' is in an input node; "
          "inputs receive data, not connections")
    keep &= ~into_input
    if not keep.all():
        sn, si, dn, di, weights, rows_at = sn[keep], si[keep], dn[keep], di[keep], weights[keep], rows_at[keep]
    if not len(sn):
        return []
    out = []
    pair = sn * len(nodes) + dn
    order = np.argsort(pair, kind="stable")
    bounds = np.flatnonzero(np.diff(pair[order])) + 1
    for group in np.split(order, bounds):
        s, d = int(sn[group[0]]), int(dn[group[0]])
        first = int(rows_at[group[0]])
        conn = Connection(f"{where}/{nodes[s].name}->{nodes[d].name}",
                          ("edges", first) if where == "connections" else (where, first), s, 0, nodes[s].size,
                          d, 0, nodes[d].size, dense=False, rows=si[group], cols=di[group],
                          values=weights[group], row_paths=rows_at[group])
        out.append(conn)
    return out


def _first_rows(code, n_uniq):
    """Row of the first use of each code (codes are numbered in order of first use)."""
    new = np.ones(len(code), dtype=bool)
    new[1:] = code[1:] > np.maximum.accumulate(code)[:-1]
    return np.flatnonzero(new)


def _shown(ref) -> str:
    """A reference from a table or file, quoted as the user wrote it (shortened when long)."""
    text = str(ref)
    return repr(text[:40] + "...") if len(text) > 40 else repr(text)


def _row_path(where, row, col):
    return (where, row, col) if where == "edge_table" else (where,)




def check_duplicates(connections, nodes, report: Report):
    """No two connections may join the same pair of neurons."""
    by_pair = {}
    for c in connections:
        by_pair.setdefault((c.src, c.dst), []).append(c)
    for (s, d), group in by_pair.items():
        if len(group) == 1 and (group[0].dense or len(group[0].rows) <= 1):
            continue  # one block, or one connection: nothing to compare (a long chain is all such pairs)
        n_dst = nodes[d].size
        dense = [c for c in group if c.dense]
        listed = [c for c in group if not c.dense]
        if len(dense) > 8 and sum(c.m * c.n for c in dense) <= 5_000_000:
            listed = dense + listed  # many small blocks: compare them as lists of pairs (sorting, not k^2)
            dense = []
        for a_i, a in enumerate(dense):  # dense blocks overlap when both ranges intersect
            for b in dense[a_i + 1:]:
                if a.src_lo < b.src_hi and b.src_lo < a.src_hi and a.dst_lo < b.dst_hi and b.dst_lo < a.dst_hi:
                    _duplicate(report, b, a)
        if not listed:
            continue
        pair_codes, owners = [], []
        for k, c in enumerate(listed):
            r, q = _pairs_of(c)
            pair_codes.append((c.src_lo + r) * n_dst + (c.dst_lo + q))
            owners.append(np.full(len(r), k))
        code, owner = np.concatenate(pair_codes), np.concatenate(owners)
        order = np.argsort(code, kind="stable")
        code, owner = code[order], owner[order]
        same = np.flatnonzero(code[1:] == code[:-1])
        for k in same[:5]:
            first, second = listed[owner[k]], listed[owner[k + 1]]
            what = _pair_name(nodes, s, d, code[k], n_dst)
            if first is second:
                pos = int(np.flatnonzero(_codes(second, n_dst) == code[k])[1])
                where = second.path if second.row_paths is None else (second.path[0], int(second.row_paths[pos]))
                report.error(where, "duplicate_connection", f"{what} is connected twice; each pair of neurons "
                             "may be connected once")
            else:
                _duplicate(report, second, first, what)
        for a in dense:
            r, q = np.divmod(code, n_dst)
            inside = (r >= a.src_lo) & (r < a.src_hi) & (q >= a.dst_lo) & (q < a.dst_hi)
            if inside.any():
                k = int(np.argmax(inside))
                _duplicate(report, listed[owner[k]], a, _pair_name(nodes, s, d, code[k], n_dst))


def _pairs_of(c):
    if c.dense:
        return np.repeat(np.arange(c.m), c.n), np.tile(np.arange(c.n), c.m)
    return c.rows, c.cols


def _codes(c, n_dst):
    r, q = _pairs_of(c)
    return (c.src_lo + r) * n_dst + (c.dst_lo + q)


def _pair_name(nodes, s, d, code, n_dst):
    i, j = divmod(int(code), n_dst)
    a, b = nodes[s], nodes[d]
    return f"{a.name if a.size == 1 else f'{a.name}[{i}]'} -> {b.name if b.size == 1 else f'{b.name}[{j}]'}"


def _duplicate(report, c, other, what=None):
    what = what or "some neurons"
    report.error(c.path, "duplicate_connection", f"{what} already connected by {format_path(other.path)}; "
                 "each pair of neurons may be connected once")
