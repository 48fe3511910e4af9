"""Bounds on what a spec may declare, checked with Python integers before any allocation.

Each limit can be raised per call (``nngraph.load(path, limits=Limits(max_weights=...))``) or
for a whole process with an environment variable ``NNGRAPH_<NAME>`` (``NNGRAPH_MAX_WEIGHTS``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    max_document_bytes: int = 128 * 1024 * 1024
    max_depth: int = 64
    max_node_size: int = 1_000_000
    max_neurons: int = 10_000_000
    max_weights: int = 200_000_000
    max_array_bytes: int = 2 * 1024 * 1024 * 1024
    max_classes: int = 100_000

    @classmethod
    def from_env(cls, **overrides) -> "Limits":
        values = {}
        for f in fields(cls):
            raw = os.environ.get("NNGRAPH_" + f.name.upper())
            if raw is not None and raw.strip().isdigit():
                values[f.name] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @staticmethod
    def how_to_raise(name: str) -> str:
        return f"raise it with Limits({name}=...) or the environment variable NNGRAPH_{name.upper()}"


def default_limits() -> Limits:
    return Limits.from_env()
