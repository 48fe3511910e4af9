"""Every neuron's pre-activation and activation for an input: a traced forward pass.

The plain ``Plan.forward`` keeps its reused buffers and in-place activations; tracing runs the
same stage code (``runtime.run_stage``) up to the sums (``activate=False``), keeps them, then
applies the activations, so the two paths cannot drift apart and the untraced one
pays nothing.

Examples
--------
>>> from nngraph.compile import compile
>>> plan = compile("examples/xor.yaml")
>>> t = plan.trace([[1, 0]])
>>> t.act["hidden"].tolist(), t.pre["hidden"].tolist()
([[1.0, 0.0]], [[0.5, -0.5]])
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from .activations import FORWARD
from .errors import LimitError
from .limits import Limits, parse_limit


@dataclasses.dataclass(frozen=True)
class Trace:
    """A traced forward pass of a batch.

    Attributes
    ----------
    pre, act : dict
        Node name -> (batch, node size) array of pre-activations (``Wᵀx + b``) and activations.
        For input nodes both are the inputs.
    outputs : ndarray
        (batch, outputs), exactly what ``plan.forward`` returns.
    values, sums : ndarray
        (batch, neurons) activations and pre-activations by global neuron index (spec order).
    """
    graph: object
    sums: np.ndarray
    values: np.ndarray
    outputs: np.ndarray

    @property
    def pre(self) -> dict:
        return {n.name: self.sums[:, n.offset:n.offset + n.size] for n in self.graph.nodes}

    @property
    def act(self) -> dict:
        return {n.name: self.values[:, n.offset:n.offset + n.size] for n in self.graph.nodes}

    def neurons(self) -> list[tuple[str, str, str]]:
        """(node, neuron name, label) per neuron in spec order: ``("h", "h[2]", "or")``."""
        out = []
        for n in self.graph.nodes:
            labels = n.spec.labels or [""] * n.size
            for i in range(n.size):
                out.append((n.name, n.name if n.size == 1 else f"{n.name}[{i}]", labels[i]))
        return out


def _max_array_bytes(limits: Limits | None) -> int:
    """The limit, read from the environment on every call (it may change between calls) but only
    the one variable: parsing every limit cost more than a small network's traced pass."""
    if limits is not None:
        return limits.max_array_bytes
    raw = os.environ.get("NNGRAPH_MAX_ARRAY_BYTES")
    return Limits.max_array_bytes if raw is None else parse_limit("NNGRAPH_MAX_ARRAY_BYTES", raw)


def check_size(plan, batch: int, limits: Limits | None = None) -> None:
    """A trace keeps two values per neuron per sample: bound that before allocating it."""
    need = 2 * batch * int(plan.graph.n_neurons) * plan.dtype.itemsize
    if need > _max_array_bytes(limits):
        limits = limits or Limits.from_env()
        from .errors import Diagnostic

        src = plan.spec.source
        raise LimitError([Diagnostic(src.name if src is not None else plan.spec.name, 0, 0, "", "trace_too_large",
                                     f"a trace of {batch:,} sample(s) × {plan.graph.n_neurons:,} neurons needs "
                                     f"{need / 2**20:,.0f} MiB (limit {limits.max_array_bytes / 2**20:,.0f} MiB); "
                                     "trace fewer samples, or " + Limits.how_to_raise("max_array_bytes"))])


def trace(plan, x, limits: Limits | None = None) -> Trace:
    """Run ``x`` through ``plan`` keeping every neuron's pre-activation and activation.

    Parameters
    ----------
    plan : Plan
    x : array (batch, inputs) or dict input node name -> values, as for ``plan.forward``

    Raises
    ------
    DataError
        ``x`` has the wrong shape or names an unknown input.
    LimitError
        batch × neurons would exceed ``max_array_bytes``.
    """
    from .runtime import run_stage

    x = plan.as_input(x)
    batch = x.shape[0]
    check_size(plan, batch, limits)
    graph = plan.graph
    columns, places = _layout(plan)
    sums = np.empty((batch, graph.n_neurons), dtype=plan.dtype)  # every neuron is in one stage: all written
    values = np.empty_like(sums)
    bufs = [x] + [None] * (len(plan.stages) - 1)
    sums[:, places[0]] = values[:, places[0]] = x if columns is None else x[:, columns]
    transposed = {}
    for stage, place in zip(plan.stages[1:], places[1:]):
        Z = np.empty((batch, stage.width), dtype=plan.dtype)
        run_stage(stage, bufs, Z, transposed, activate=False)
        sums[:, place] = Z
        for name, alpha, lo, hi in stage.segments:
            if name != "linear":
                view = Z if lo == 0 and hi == stage.width else Z[:, lo:hi]
                FORWARD[name](view, view, alpha)
        values[:, place] = Z
        bufs[stage.index] = Z
    return Trace(graph, sums, values, plan.gather_outputs(bufs))


def _layout(plan):
    """Where each stage's neurons go in a trace (a slice when they are consecutive, as in layered
    networks: a copy instead of a scatter), and which input columns feed the input neurons (None:
    in order). Kept with the plan's per-thread buffers, for as long as the plan has these stages."""
    cache = plan._buffers
    held = cache.get("trace-layout")
    if held is not None and held[0] is plan.stages:
        return held[1]
    places = []
    for st in plan.stages:
        n = np.asarray(st.neurons)
        consecutive = len(n) > 0 and n[-1] - n[0] == len(n) - 1 and bool(np.all(np.diff(n) == 1))
        places.append(slice(int(n[0]), int(n[-1]) + 1) if consecutive else n)
    inputs = np.asarray(plan.stages[0].neurons)
    columns = plan.col_of[inputs]
    layout = (None if np.array_equal(columns, np.arange(len(columns))) else columns, places)
    cache["trace-layout"] = (plan.stages, layout)
    return layout
