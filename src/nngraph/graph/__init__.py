"""Resolve a spec into a neuron graph and prove it feed-forward (``build(spec) -> Graph``)."""
from .build import Connection, Graph, NodeInfo, build, derived_seed
from .refs import parse_ref, resolve_range

__all__ = ["build", "Graph", "NodeInfo", "Connection", "derived_seed", "parse_ref", "resolve_range"]
