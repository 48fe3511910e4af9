"""Every neuron's pre-activation and activation for an input: a traced forward pass.

The plain ``Plan.forward`` keeps its reused buffers and in-place activations; tracing runs the
same stage code (``runtime.run_stage``) on a copy of each stage without its activations, keeps
the sums, then applies the activations, so the two paths cannot drift apart and the untraced one
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

import numpy as np

from .activations import FORWARD
from .errors import LimitError
from .limits import Limits


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


def check_size(plan, batch: int, limits: Limits | None = None) -> None:
    """A trace keeps two values per neuron per sample: bound that before allocating it."""
    limits = limits or Limits.from_env()
    need = 2 * batch * int(plan.graph.n_neurons) * plan.dtype.itemsize
    if need > limits.max_array_bytes:
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
    sums = np.zeros((batch, graph.n_neurons), dtype=plan.dtype)
    values = np.zeros_like(sums)
    bufs = [x] + [None] * (len(plan.stages) - 1)
    inputs = plan.stages[0].neurons
    sums[:, inputs] = values[:, inputs] = x[:, plan.col_of[inputs]]
    transposed = {}
    for stage in plan.stages[1:]:
        Z = np.empty((batch, stage.width), dtype=plan.dtype)
        run_stage(dataclasses.replace(stage, segments=[]), bufs, Z, transposed)
        sums[:, stage.neurons] = Z
        for name, alpha, lo, hi in stage.segments:
            if name != "linear":
                view = Z[:, lo:hi]
                FORWARD[name](view, view, alpha)
        values[:, stage.neurons] = Z
        bufs[stage.index] = Z
    return Trace(graph, sums, values, plan.gather_outputs(bufs))
