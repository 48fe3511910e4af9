"""Bounds on what a spec may declare, checked with Python integers before any allocation.

Each limit can be raised per call (``nngraph.load(path, limits=Limits(max_weights=...))``) or
for a whole process with an environment variable ``NNGRAPH_<NAME>`` (``NNGRAPH_MAX_WEIGHTS``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields

from .errors import NNGraphError

_INTEGER = re.compile(r"[0-9]+")
_SCIENTIFIC = re.compile(r"([0-9]+)(?:\.([0-9]*))?[eE]\+?([0-9]{1,3})")


@dataclass(frozen=True)
class Limits:
    max_document_bytes: int = 128 * 1024 * 1024
    max_depth: int = 64
    max_node_size: int = 1_000_000
    max_neurons: int = 10_000_000
    max_weights: int = 200_000_000
    max_array_bytes: int = 2 * 1024 * 1024 * 1024
    max_batch_bytes: int = 4 * 1024 * 1024 * 1024
    max_classes: int = 100_000

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 0:  # bool and float too: a limit is counted, not guessed
                raise NNGraphError(f"Limits({f.name}={value!r}): a limit is a whole number of at least 0 "
                                   f"(the default is {f.default:,})")

    @classmethod
    def from_env(cls, **overrides) -> "Limits":
        values = {}
        for f in fields(cls):
            var = "NNGRAPH_" + f.name.upper()
            raw = os.environ.get(var)
            if raw is not None:
                values[f.name] = parse_limit(var, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @staticmethod
    def how_to_raise(name: str) -> str:
        return f"raise it with Limits({name}=...) or the environment variable NNGRAPH_{name.upper()}"

    def over(self, name: str, unit: str = "") -> str:
        """``over the limit of 4 neurons (set by NNGRAPH_MAX_NODE_SIZE=4); raise it with ...``: the
        limit, where its value came from, and how to raise it."""
        value = getattr(self, name)
        var = "NNGRAPH_" + name.upper()
        raw = os.environ.get(var)
        try:
            from_env = raw is not None and parse_limit(var, raw) == value
        except NNGraphError:
            from_env = False
        if from_env:
            origin = f"set by {var}={raw}"
        elif value == next(f.default for f in fields(self) if f.name == name):
            origin = "the default"
        else:
            origin = f"set in code by Limits({name}={value})"
        return f"over the limit of {value:,}{' ' + unit if unit else ''} ({origin}); {self.how_to_raise(name)}"


def batch_rows_allowed(plan, training: bool = False) -> int:
    """How many rows of a batch fit in ``max_batch_bytes``: every stage's activations (and, when
    training, as many gradients again), width x itemsize per row."""
    per_row = sum(s.width for s in plan.stages) * plan.dtype.itemsize * (2 if training else 1)
    return plan.graph.limits.max_batch_bytes // max(per_row, 1)


def batch_limit_error(plan, rows: int, training: bool = False, where: str | None = None):
    """The error for a batch of ``rows`` that does not fit: which number, where, how to raise it."""
    from .errors import Diagnostic, LimitError

    widths = sum(s.width for s in plan.stages)
    per_row = widths * plan.dtype.itemsize * (2 if training else 1)
    spec = plan.graph.spec
    file = spec.source.name if spec.source is not None else "<spec>"
    line = col = 0
    if where and spec.source is not None:
        line, col = spec.source.locate([tuple(where.split("."))]).get(tuple(where.split(".")), (0, 0))
    what = "activations and gradients" if training else "activations"
    msg = (f"a batch of {rows:,} rows needs {rows:,} x {widths:,} neurons (all stages) x {plan.dtype.itemsize} bytes"
           + (" x 2" if training else "") + f" = {rows * per_row:,} bytes of {what}, over the limit of "
           f"{plan.graph.limits.max_batch_bytes:,} bytes (at most {batch_rows_allowed(plan, training):,} rows); "
           f"use a smaller batch, or {Limits.how_to_raise('max_batch_bytes')}")
    return LimitError([Diagnostic(file, line, col, where or "", "batch_too_large", msg)])


def parse_limit(var: str, raw: str) -> int:
    """A limit from the environment: a plain integer (``1000000``) or scientific notation that is an
    exact integer (``1e6``, ``2.5e3``); anything else is refused, never silently ignored."""
    text = raw
    if _INTEGER.fullmatch(text) and len(text) <= 30:
        return int(text)
    m = _SCIENTIFIC.fullmatch(text)
    if m:
        whole, frac, exp = m.group(1), (m.group(2) or "").rstrip("0"), int(m.group(3))
        if len(frac) <= exp and len(whole) + exp <= 30:
            return int(whole + frac + "0" * (exp - len(frac)))
    raise NNGraphError(f"environment variable {var}={raw!r} is not a limit: give a whole number of at least 0, "
                       "as digits (1000000) or scientific notation that is a whole number (1e6); "
                       "no signs, spaces, underscores or fractions")


_LIMIT_VARS = tuple("NNGRAPH_" + f.name.upper() for f in fields(Limits))
_default = (None, None)  # (the NNGRAPH_* values it was read from, the Limits)


def default_limits() -> Limits:
    """The defaults with the environment's NNGRAPH_* values; parsed again only when one of those
    changed (Limits is frozen, so one instance is shared: parsing it was a tenth of importing a
    small neat genome)."""
    global _default
    key = tuple(map(os.environ.get, _LIMIT_VARS))
    if _default[0] != key:
        _default = (key, Limits.from_env())
    return _default[1]


def as_limits(limits) -> Limits:
    """``limits`` as given to an API call: a :class:`Limits`, or None for the defaults (and the
    environment); anything else is refused by name."""
    if limits is None:
        return default_limits()
    if not isinstance(limits, Limits):
        raise NNGraphError(f"limits must be a nngraph.Limits (e.g. Limits(max_weights=10**9)), not "
                           f"{type(limits).__name__}")
    return limits
