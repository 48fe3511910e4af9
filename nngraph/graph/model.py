"""The graph's data: resolved nodes and connections, the Graph itself, and the Report that
collects located findings while checks run."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from ..errors import Diagnostic, SpecError
from ..limits import Limits
from ..spec import Spec
from ..spec.source import format_path


class Report:
    """Collects findings with spec paths; locates them all in one read of the text."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.items = []  # (path, code, message, severity, key)

    def error(self, path, code, message, key=False):
        self.items.append((tuple(path), code, message, "error", key))

    def warning(self, path, code, message):
        self.items.append((tuple(path), code, message, "warning", False))

    def _diagnostics(self, severity):
        items = [i for i in self.items if i[3] == severity]
        src = self.spec.source
        if src is None:
            return [Diagnostic("<spec>", 0, 0, format_path(p), c, m, s) for p, c, m, s, _ in items]
        pos = src.locate([i[0] for i in items if not i[4]])
        pos.update(src.locate([i[0] for i in items if i[4]], key=True))
        return [Diagnostic(src.name, *pos[p], format_path(p), c, m, s) for p, c, m, s, _ in items]

    @property
    def has_errors(self):
        return any(i[3] == "error" for i in self.items)

    def errors(self):
        return self._diagnostics("error")

    def warnings(self):
        return self._diagnostics("warning")

    def raise_if_errors(self, cls=SpecError):
        if self.has_errors:
            raise cls(self.errors(), self.warnings())


@dataclass
class NodeInfo:
    index: int
    name: str
    size: int
    offset: int  # global index of the node's first neuron
    role: str
    activation: tuple  # (name, alpha); inputs are ("linear", None)
    spec: object = field(repr=False)


@dataclass
class Connection:
    """One spec edge (or one node pair of an edge table), resolved to neuron ranges.

    ``dense``: every neuron of ``src_lo:src_hi`` of node ``src`` to every neuron of
    ``dst_lo:dst_hi`` of node ``dst``; weights have shape (m, n). Otherwise ``rows``/``cols``
    list the connections, local to those ranges; weights have shape (count,).
    """

    key: str  # parameter name, e.g. "edges/pixels->hidden1"
    path: tuple  # spec path for messages, e.g. ("edges", 3)
    src: int
    src_lo: int
    src_hi: int
    dst: int
    dst_lo: int
    dst_hi: int
    dense: bool
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    values: np.ndarray | None = None  # literal weights from the spec
    init: object = None
    trainable: bool = True
    row_paths: np.ndarray | None = None  # edge tables: original row number of each connection

    @property
    def m(self):
        return self.src_hi - self.src_lo

    @property
    def n(self):
        return self.dst_hi - self.dst_lo

    @property
    def count(self):
        return self.m * self.n if self.dense else len(self.rows)

    @property
    def shape(self):
        return (self.m, self.n) if self.dense else (self.count,)


@dataclass
class Graph:
    """A validated, resolved neuron graph with a proven feed-forward order."""

    spec: Spec
    nodes: list
    connections: list
    n_neurons: int
    neuron_level: np.ndarray  # stage number of every neuron (inputs 0)
    node_edges: list | None  # (source node, destination node) index pairs, each once
    warnings: list
    limits: Limits

    @property
    def node_graph(self):
        """The node-level networkx.DiGraph (node indices), made on first use."""
        if self.node_edges is None:
            return None
        if getattr(self, "_node_graph", None) is None:
            import networkx as nx

            g = nx.DiGraph()
            g.add_nodes_from(n.index for n in self.nodes)
            g.add_edges_from(self.node_edges)
            self._node_graph = g
        return self._node_graph

    def node(self, name: str) -> NodeInfo:
        return self.nodes[self._by_name[name]]

    def __post_init__(self):
        self._by_name = {n.name: n.index for n in self.nodes}
        self.cycle = None  # a CycleError, only for graphs built with allow_cycles=True

    @property
    def inputs(self):
        return [n for n in self.nodes if n.role == "input"]

    @property
    def outputs(self):
        return [n for n in self.nodes if n.role == "output"]

    @property
    def n_weights(self):
        return sum(c.count for c in self.connections)

    def neuron_name(self, g: int) -> str:
        offsets = [n.offset for n in self.nodes]
        i = int(np.searchsorted(offsets, g, side="right") - 1)
        node = self.nodes[i]
        return node.name if node.size == 1 else f"{node.name}[{g - node.offset}]"


def derived_seed(base: int, key: str) -> int:
    """A stable per-parameter seed: the same spec and seed give the same numbers everywhere."""
    return (int(base) * 1_000_003 + zlib.crc32(key.encode())) % 2**63
