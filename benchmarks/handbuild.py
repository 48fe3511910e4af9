"""A hand-written numpy/scipy build of an irregular spec: the memory yardstick for nngraph's
load + build + compile. What one writes without a framework: every connection as global
(source, destination, weight) arrays, neuron depth by a vectorised Kahn peel, neurons ordered
by depth, one CSR matrix per level over all earlier neurons (as ``peers.PerLevelCSR``). Every
neuron gets tanh here: it is the yardstick of memory, not of speed or results."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hand_build(spec: dict, dtype=np.float32):
    offset, size, at = {}, {}, 0
    for n in spec["nodes"]:
        offset[n["name"]], size[n["name"]] = at, n.get("size", 1)
        at += size[n["name"]]
    n_neurons = at
    src, dst, w = [], [], []
    for e in spec["edges"]:
        (fa, flo), (ta, tlo) = _ref(e["from"]), _ref(e["to"])
        c = np.asarray(e["connections"], dtype=np.float64)
        src.append(offset[fa] + flo + c[:, 0].astype(np.int64))
        dst.append(offset[ta] + tlo + c[:, 1].astype(np.int64))
        w.append(c[:, 2])
        del c
    src, dst, w = np.concatenate(src), np.concatenate(dst), np.concatenate(w).astype(dtype)
    base = np.ones(n_neurons, dtype=np.int64)  # inputs at level 0, every other neuron from level 1
    for n in spec["nodes"]:
        if n.get("role") == "input":
            base[offset[n["name"]]:offset[n["name"]] + size[n["name"]]] = 0
    depth = _depth(n_neurons, src, dst, base)
    order = np.argsort(depth, kind="stable")
    pos = np.empty_like(order)
    pos[order] = np.arange(n_neurons)
    ps, pd = pos[src], pos[dst]
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max()) + 2))
    levels = []
    for lo, hi in zip(bounds[1:-1], bounds[2:]):
        sel = (pd >= lo) & (pd < hi)
        M = sp.csr_array((w[sel], (pd[sel] - lo, ps[sel])), shape=(int(hi - lo), int(lo)))
        levels.append((int(lo), int(hi), M))
    n_in = int(bounds[1])

    def forward(x):
        HT = np.empty((n_neurons, x.shape[0]), dtype=dtype)
        HT[:n_in] = x.T
        for lo, hi, M in levels:
            HT[lo:hi] = np.tanh(M @ HT[:lo])
        return HT
    return forward


def _ref(ref):
    name, _, rest = ref.partition("[")
    return name, int(rest.split(":")[0]) if rest else 0


def _depth(n, src, dst, base):
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    indeg = np.bincount(dst, minlength=n)
    depth = base.copy()
    frontier = np.flatnonzero(indeg == 0)
    while len(frontier):
        starts, ends = indptr[frontier], indptr[frontier + 1]
        counts = ends - starts
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        e = order[idx]
        np.maximum.at(depth, dst[e], depth[src[e]] + 1)
        touched, dec = np.unique(dst[e], return_counts=True)
        indeg[touched] -= dec
        frontier = touched[indeg[touched] == 0]
    return depth
