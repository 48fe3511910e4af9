"""Neuron references: ``node``, ``node[i]``, ``node[i:j]`` (j exclusive, negative from the end)."""
from __future__ import annotations

import re

import numpy as np

_MAX_INDEX_DIGITS = 18  # every int64 index has at most 18 digits; longer ones exceed any node size
_REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(?:(-?\d+)|(-?\d*):(-?\d*))\])?$")


def parse_ref(text: str):
    """Split a reference into ``(node name, selector)``; selector is None, an int, or (start, stop)."""
    m = _REF.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a neuron reference")
    name, index, start, stop = m.groups()
    if max(len(index or ""), len(start or ""), len(stop or "")) > _MAX_INDEX_DIGITS:
        raise ValueError(f"{text[:40]!r}{'...' if len(text) > 40 else ''}: a neuron index beyond any node's size")
    if index is not None:
        return name, int(index)
    if start is not None or stop is not None:
        return name, (int(start) if start else None, int(stop) if stop else None)
    return name, None


def resolve_range(selector, size: int, node_name: str):
    """Local ``(lo, hi)`` of a selector in a node of ``size`` neurons; ValueError if out of range."""
    if selector is None:
        return 0, size
    if isinstance(selector, int):
        i = selector + size if selector < 0 else selector
        if not 0 <= i < size:
            raise ValueError(f"neuron index {selector} is out of range for '{node_name}' "
                             f"(size {size}: valid 0 to {size - 1}, or -1 to -{size})")
        return i, i + 1
    start, stop = selector
    lo = 0 if start is None else (start + size if start < 0 else start)
    hi = size if stop is None else (stop + size if stop < 0 else stop)
    if not (0 <= lo <= size and 0 <= hi <= size):
        shown = f"{'' if start is None else start}:{'' if stop is None else stop}"
        raise ValueError(f"slice {shown} is out of range for '{node_name}' (size {size}: valid 0:{size})")
    if lo >= hi:
        raise ValueError(f"slice {lo}:{hi} of '{node_name}' selects no neurons")
    return lo, hi


def split_neuron_refs(refs: np.ndarray):
    """Vectorised parse of single-neuron references (``h[3]`` or a node name) for edge tables.

    Returns (names, indices, malformed): indices is -1 where no index was written; ``malformed``
    marks rows whose reference is not ``name`` or ``name[i]`` (1) or whose index has more digits
    than any size allows (2). Every row is parsed, so a caller can report each bad row, not only the
    first.
    """
    refs = np.asarray(refs, dtype=str)
    parts = np.char.partition(refs, "[")
    names, bracket, rest = parts[..., 0], parts[..., 1], parts[..., 2]
    has = bracket == "["
    idx = np.full(refs.shape, -1, dtype=np.int64)
    malformed = np.zeros(refs.shape, dtype=np.int8)
    if has.any():
        rows = np.flatnonzero(has)
        body = np.char.rstrip(rest[has], "]")
        closed = np.char.endswith(rest[has], "]") & (np.char.str_len(body) + 1 == np.char.str_len(rest[has]))
        ok = np.char.isdigit(body) & closed
        long = ok & (np.char.str_len(body) > _MAX_INDEX_DIGITS)
        malformed[rows[~ok]] = 1
        malformed[rows[long]] = 2
        good = ok & ~long
        idx[rows[good]] = body[good].astype(np.int64)
    return names, idx, malformed
