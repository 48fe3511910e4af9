"""Large parts of a spec held as columns instead of one Python object per connection.

A spec of 100k explicit edges, or of sparse edges listing a million ``[i, j, w]`` rows, costs
little to *check* when its values are checked a column at a time (numpy, and ``map`` over the
rows), and a lot when each row becomes a validated pydantic object: time for the edges, memory
for the rows. Two sequences stand in for those lists in a loaded :class:`~nngraph.spec.Spec`:

* :class:`ConnectionTable` - an edge's ``connections``: read-only int64/float64 columns that
  read as ``(i, j, w)`` tuples; the graph uses the columns as they are.
* :class:`EdgeList` - the spec's ``edges``: single-neuron edges written as exactly
  ``{from, to, weight}`` are kept as columns, and made into :class:`Edge` models only when one
  is looked at; every other edge is an :class:`Edge` as before.

The fast checks only ever *accept*: a list that is not certainly valid by them goes through
pydantic's own validation, so every error keeps its message and its spec path
(``edges[3].to``), and all of a spec's errors are still reported in one round.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from itertools import compress, count
from operator import itemgetter, not_


class _LazyNumpy:
    """numpy, imported when first used: ``import nngraph.spec`` stays without it."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy
        return getattr(numpy, name)


np = _LazyNumpy()

FAST = True  # False: every list through pydantic and every YAML line through the parser (the
# reference behaviour the fast paths are tested against)
_REF_MAX = 200  # the max_length of models.NeuronRef
# models.REF_PATTERN, anchored at the very end: pydantic's (Rust) `$` does not match before a
# trailing newline, Python's does, so `\Z` here
_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[(-?[0-9]+|-?[0-9]*:-?[0-9]*)\])?\Z")
_SIMPLE_KEYS = {("from", "to", "weight"), ("from", "weight", "to"), ("to", "from", "weight"),
                ("to", "weight", "from"), ("weight", "from", "to"), ("weight", "to", "from")}


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _int_column(values: list):
    """int64 array of exact Python ints in [0, 2**63), or None (pydantic then judges them)."""
    if set(map(type, values)) - {int}:
        return None  # bools, floats, strings, None...: pydantic's message says which
    try:
        a = np.array(values, dtype=np.int64)
    except OverflowError:
        return None
    if len(a) and a.min() < 0:
        return None
    return a


def _float_column(values: list):
    """float64 array of finite numbers given as Python float or int (not bool), or None."""
    if set(map(type, values)) - {float, int}:
        return None
    try:
        a = np.array(values, dtype=np.float64)
    except OverflowError:
        return None
    if not np.isfinite(a).all():
        return None
    return a


class RefColumn(Sequence):
    """A column of neuron references (strings), held as its distinct references in order of first
    use and an int64 code per row: a few thousand strings to check and look up, not 100k."""

    __slots__ = ("uniq", "code")

    def __init__(self, uniq: list, code: np.ndarray):
        self.uniq, self.code = uniq, _frozen(code)

    @classmethod
    def of(cls, refs, n: int | None = None) -> RefColumn:
        """The column of ``refs`` (a sequence, or an iterable of ``n`` references)."""
        if isinstance(refs, RefColumn):
            return refs
        codes = defaultdict(count().__next__)
        refs = refs.tolist() if isinstance(refs, np.ndarray) else refs
        code = np.fromiter(map(codes.__getitem__, refs), dtype=np.int64, count=len(refs) if n is None else n)
        return cls(list(codes), code)

    def take(self, keep) -> RefColumn:
        """The rows ``keep`` (a boolean or index array) selects, as a column of their own (only
        the references they use, numbered again in order of first use)."""
        code = self.code[keep]
        used, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        order = np.argsort(first)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return RefColumn([self.uniq[c] for c in used[order].tolist()], rank[inverse.reshape(-1)])

    def __len__(self):
        return len(self.code)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self.uniq[c] for c in self.code[k].tolist()]
        return self.uniq[self.code[k]]

    def __iter__(self):
        return map(self.uniq.__getitem__, self.code.tolist())

    def __reduce__(self):
        return (RefColumn, (self.uniq, self.code))


class ConnectionTable(Sequence):
    """An edge's listed connections, ``[i, j, w]`` (or ``[i, j]``) rows, held as columns.

    Reads like the list of tuples it was written as: ``table[k]`` is ``(i, j, w)``, ``len``,
    iteration and ``==`` with a list of rows work. ``rows``, ``cols`` (int64) and ``values``
    (float64, None for ``[i, j]`` rows) are read-only arrays.
    """

    __slots__ = ("rows", "cols", "values")

    def __init__(self, rows, cols, values=None):
        self.rows = _frozen(np.asarray(rows, dtype=np.int64))
        self.cols = _frozen(np.asarray(cols, dtype=np.int64))
        self.values = None if values is None else _frozen(np.asarray(values, dtype=np.float64))

    @classmethod
    def from_rows(cls, rows) -> ConnectionTable | None:
        """Columns of ``rows`` when every row is certainly valid (a list or tuple of two ints in
        [0, 2**63), or of three with a finite number last, all rows of one length); else None."""
        if not isinstance(rows, (list, tuple)) or set(map(type, rows)) - {list, tuple}:
            return None
        lengths = set(map(len, rows))
        if len(lengths) > 1 or not lengths <= {2, 3}:
            return None
        width = lengths.pop() if lengths else 3
        i = _int_column(list(map(itemgetter(0), rows)))
        if i is None:
            return None
        j = _int_column(list(map(itemgetter(1), rows)))
        if j is None:
            return None
        w = None
        if width == 3:
            w = _float_column(list(map(itemgetter(2), rows)))
            if w is None:
                return None
        return cls(i, j, w)

    @property
    def width(self) -> int:
        """3 for ``[i, j, w]`` rows, 2 for ``[i, j]``."""
        return 2 if self.values is None else 3

    def row_lengths(self) -> set:
        return {self.width} if len(self.rows) else set()

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if self.values is None:
            return (int(self.rows[k]), int(self.cols[k]))
        return (int(self.rows[k]), int(self.cols[k]), float(self.values[k]))

    def __iter__(self):
        if self.values is None:
            return zip(self.rows.tolist(), self.cols.tolist())
        return zip(self.rows.tolist(), self.cols.tolist(), self.values.tolist())

    def tolist(self) -> list:
        """The rows as a list of tuples, as written."""
        return list(self)

    def __eq__(self, other):
        if isinstance(other, ConnectionTable):
            return (np.array_equal(self.rows, other.rows) and np.array_equal(self.cols, other.cols)
                    and (self.values is None) == (other.values is None)
                    and (self.values is None or np.array_equal(self.values, other.values)))
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(tuple(a) == b for a, b in zip(other, self))
        return NotImplemented

    __hash__ = None  # a list of rows is not hashable either

    def __repr__(self):
        return repr(self.tolist())

    def __reduce__(self):
        return (ConnectionTable, (self.rows, self.cols, self.values))


def validate_connections(value, handler):
    """pydantic wrap validator of ``Edge.connections``: columns when certainly valid, else
    pydantic's own validation (its errors, its paths), whose result is then made columns."""
    if isinstance(value, ConnectionTable):
        return value
    if not FAST:
        return handler(value)
    table = ConnectionTable.from_rows(value) if type(value) is list else None
    if table is not None:
        return table
    rows = handler(value)
    return ConnectionTable.from_rows(rows) or rows  # mixed [i, j] and [i, j, w]: the model says so


def dump_connections(value):
    return value.tolist() if isinstance(value, ConnectionTable) else value


# ----------------------------------------------------------------------------------------------
# edges


class EdgeList(Sequence):
    """A spec's ``edges``: :class:`Edge` models, except single-neuron edges written as exactly
    ``{from, to, weight}``, which are held as columns and made into models when looked at.

    It reads like the list it was written as (``len``, ``edges[3]``, iteration, ``==`` with a
    list of edges, ``+``). :meth:`columns` gives the column-held edges to the graph builder
    without making models of them.
    """

    __slots__ = ("_items", "_at", "_from", "_to", "_weight")

    def __init__(self, items: list, at=None, frm=None, to=None, weight=None):
        self._items = items  # an Edge, or None where the edge is held in the columns
        self._at = np.zeros(0, dtype=np.int64) if at is None else _frozen(np.asarray(at, dtype=np.int64))
        self._from = frm if frm is not None else RefColumn([], np.zeros(0, dtype=np.int64))
        self._to = to if to is not None else RefColumn([], np.zeros(0, dtype=np.int64))
        self._weight = _frozen(np.zeros(0) if weight is None else np.asarray(weight, dtype=np.float64))

    @classmethod
    def of(cls, edges) -> EdgeList:
        return edges if isinstance(edges, EdgeList) else cls(list(edges))

    @classmethod
    def from_data(cls, value, edge_model) -> EdgeList | None:
        """The edges of a list of mappings when every one is certainly valid, else None. Simple
        edges are checked as columns; any other edge by ``edge_model.model_validate``."""
        if type(value) is not list:
            return None
        try:
            return cls._from_list(value, edge_model)
        except TypeError:  # an item that is not a mapping, a reference that is a list...: pydantic says
            return None

    @classmethod
    def _from_list(cls, value: list, edge_model) -> EdgeList | None:
        n = len(value)
        try:  # the usual case: every edge is {from, to, weight} (three keys, each of these)
            if set(map(len, value)) - {3} or set(map(type, value)) - {dict}:
                raise KeyError
            frm = RefColumn.of(map(itemgetter("from"), value), n)
            to = RefColumn.of(map(itemgetter("to"), value), n)
            weight = list(map(itemgetter("weight"), value))
            simple = None
        except (KeyError, TypeError):  # TypeError: a reference that is a list or a mapping
            if set(map(type, value)) - {dict}:
                return None
            simple = list(map(_SIMPLE_KEYS.__contains__, map(tuple, value)))
            rows = list(compress(value, simple))
            frm = RefColumn.of(map(itemgetter("from"), rows), len(rows))
            to = RefColumn.of(map(itemgetter("to"), rows), len(rows))
            weight = list(map(itemgetter("weight"), rows))
        for ref in frm.uniq + to.uniq:
            if type(ref) is not str or len(ref) > _REF_MAX or _REF.match(ref) is None:
                return None
        weight = _float_column(weight)
        if weight is None:
            return None
        if simple is None:
            return cls([None] * n, np.arange(n), frm, to, weight)
        items = [None] * len(value)
        from pydantic import ValidationError

        for k in compress(range(len(value)), map(not_, simple)):  # the other edges
            try:
                items[k] = edge_model.model_validate(value[k])
            except ValidationError:
                return None
        at = np.flatnonzero(np.array(simple, dtype=bool)) if value else None
        return cls(items, at, frm, to, weight)

    def columns(self):
        """(positions, from refs, to refs, weights) of the edges held as columns; the references
        as :class:`RefColumn`."""
        return self._at, self._from, self._to, self._weight

    def __len__(self):
        return len(self._items)

    def _edge(self, k: int):
        item = self._items[k]
        if item is None:
            from .models import Edge

            c = int(np.searchsorted(self._at, k))
            item = Edge.model_construct(**{"from": self._from[c], "to": self._to[c], "weight": float(self._weight[c])})
            self._items[k] = item
        return item

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self._edge(i) for i in range(*k.indices(len(self)))]
        n = len(self._items)
        if not -n <= k < n:
            raise IndexError("edge index out of range")
        return self._edge(k % n if k < 0 else k)

    def __iter__(self):
        for k in range(len(self._items)):
            yield self._edge(k)

    def tolist(self) -> list:
        return [self._edge(k) for k in range(len(self._items))]

    def __eq__(self, other):
        if isinstance(other, (EdgeList, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __add__(self, other):
        return self.tolist() + list(other)

    def __radd__(self, other):
        return list(other) + self.tolist()

    def __repr__(self):
        return repr(self.tolist())

    def __reduce__(self):
        return (EdgeList, (self._items, self._at, self._from, self._to, self._weight))


def make_edge_validator(edge_model):
    def validate_edges(value, handler):
        if isinstance(value, EdgeList):
            return value
        if not FAST:
            return handler(value)
        fast = EdgeList.from_data(value, edge_model)
        if fast is not None:
            return fast
        return EdgeList.of(handler(value))  # pydantic's checks, messages and paths
    return validate_edges


def dump_edges(value):
    return value.tolist() if isinstance(value, EdgeList) else value
