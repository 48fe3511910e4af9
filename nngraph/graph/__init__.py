"""Resolve a spec into a neuron graph and prove it feed-forward (``build(spec) -> Graph``)."""
from .build import build
from .model import Connection, Graph, NodeInfo, derived_seed
from .refs import parse_ref, resolve_range

__all__ = ["build", "Graph", "NodeInfo", "Connection", "derived_seed", "parse_ref", "resolve_range"]
