"""Hand-written evaluators of an irregular graph, the yardsticks for nngraph's compiled plan.

Both evaluate level by level (a level: the neurons of one depth), the way one would write it
by hand with numpy/scipy: neurons ordered by level, each level's weights one matrix over all
earlier neurons, activations grouped by function within a level.

- ``PerLevelDense``: activations (batch, neurons); per level ``H[:, :k] @ W`` (dense BLAS).
- ``PerLevelCSR``: activations (neurons, batch); per level ``M @ HT[:k]`` with M the level's
  CSR (scipy), contiguous rows, no transposes but the input's and the output's.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from netgen import _edge_arrays

ACT = {"tanh": lambda z: np.tanh(z, out=z), "relu": lambda z: np.maximum(z, 0, out=z),
       "linear": lambda z: z,
       "sigmoid": lambda z: np.divide(np.exp(np.minimum(z, 0)), np.add(np.exp(-np.abs(z)), 1.0), out=z)}


class _Levels:
    def __init__(self, graph, params, dtype):
        level = graph.neuron_level
        node_of = np.repeat(np.arange(len(graph.nodes)), [n.size for n in graph.nodes])
        acts = sorted({n.activation[0] for n in graph.nodes})
        act_rank = np.array([acts.index(graph.nodes[i].activation[0]) for i in node_of])
        inputs = np.concatenate([np.arange(n.offset, n.offset + n.size) for n in graph.inputs])
        others = np.setdiff1d(np.arange(graph.n_neurons), inputs)
        others = others[np.lexsort((others, act_rank[others], level[others]))]
        order = np.concatenate([inputs, others])  # position -> neuron
        pos = np.empty_like(order)
        pos[order] = np.arange(len(order))
        bias = np.zeros(graph.n_neurons)
        for n in graph.nodes:
            if n.role != "input":
                bias[n.offset:n.offset + n.size] = params[f"nodes/{n.name}/bias"]
        src, dst, w = _edge_arrays(graph, params)
        src, dst = pos[src], pos[dst]
        lv = level[order]
        bounds = [len(inputs)] + [len(inputs) + int(np.searchsorted(lv[len(inputs):], k, side="right"))
                                  for k in range(1, int(lv.max()) + 1)]
        self.levels = []  # (lo, hi, weights over [0, lo) as COO, bias, [(act, a, b)])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            if hi == lo:
                continue
            sel = (dst >= lo) & (dst < hi)
            assert (src[sel] < lo).all()
            segs, names = [], [graph.nodes[node_of[order[i]]].activation[0] for i in range(lo, hi)]
            start = 0
            for i in range(1, hi - lo + 1):
                if i == hi - lo or names[i] != names[start]:
                    segs.append((ACT[names[start]], start, i))
                    start = i
            self.levels.append((lo, hi, src[sel], dst[sel] - lo, w[sel], bias[lo:hi].astype(dtype), segs))
        self.out_pos = pos[np.concatenate([np.arange(n.offset, n.offset + n.size) for n in graph.outputs])]
        self.n, self.n_in, self.dtype = graph.n_neurons, len(inputs), dtype


class PerLevelDense(_Levels):
    def __init__(self, graph, params, dtype=np.float32):
        super().__init__(graph, params, dtype)
        self.mats = []
        for lo, hi, s, d, w, b, segs in self.levels:
            W = np.zeros((lo, hi - lo), dtype=dtype)
            W[s, d] = w
            self.mats.append((lo, hi, W, b, segs))

    def __call__(self, x):
        H = np.empty((x.shape[0], self.n), dtype=self.dtype)
        H[:, :self.n_in] = x
        for lo, hi, W, b, segs in self.mats:
            Z = H[:, :lo] @ W
            Z += b
            for f, a, c in segs:
                f(Z[:, a:c])
            H[:, lo:hi] = Z
        return H[:, self.out_pos]


class PerLevelCSR(_Levels):
    def __init__(self, graph, params, dtype=np.float32):
        super().__init__(graph, params, dtype)
        self.mats = []
        for lo, hi, s, d, w, b, segs in self.levels:
            M = sp.csr_array((w.astype(dtype), (d, s)), shape=(hi - lo, lo))
            M.sort_indices()
            self.mats.append((lo, hi, M, b[:, None], segs))

    def __call__(self, x):
        HT = np.empty((self.n, x.shape[0]), dtype=self.dtype)
        HT[:self.n_in] = x.T
        for lo, hi, M, b, segs in self.mats:
            ZT = M @ HT[:lo]
            ZT += b
            for f, a, c in segs:
                f(ZT[a:c])
            HT[lo:hi] = ZT
        return HT[self.out_pos].T.copy()
