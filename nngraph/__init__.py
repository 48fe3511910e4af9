"""nngraph: neural networks as data.

A spec (YAML or JSON) declares neurons and connections; nngraph validates it, proves it is
feed-forward, compiles it into matrix stages, runs, trains and draws it.

The pipeline, one module per step (imports flow one way)::

    nngraph.spec     load(path) -> Spec              (pydantic models, located errors)
    nngraph.graph    build(spec) -> Graph            (references, shapes, cycles; networkx)
    nngraph.compile  compile(graph) -> Plan          (matrix stages)
    nngraph.runtime  forward(plan, x)                (batched forward pass; Plan.forward)
    nngraph.training train(spec, data) -> (plan, history), also nngraph.train
    nngraph.draw     draw(spec, view=...)            (graphviz)
    nngraph.interchange  from_neat, from_onnx -> Spec; to_onnx(plan), to_neat(spec)  (onnx on use)
"""
from .errors import (
    CycleError,
    DataError,
    Diagnostic,
    DrawError,
    LimitError,
    NNGraphError,
    ParameterFileError,
    SpecError,
    TrainingError,
)
from .limits import Limits

__version__ = "0.1.0"


def __getattr__(name):
    # Every pipeline step loads on first use, so `import nngraph` (and `nngraph --help`) stays
    # light: no numpy, pydantic, YAML, networkx, scipy or graphviz until they are needed.
    if name in ("load", "dump", "Spec"):
        import importlib
        return getattr(importlib.import_module(".spec", __name__), name)
    if name == "build":
        from .graph import build
        return build
    if name in ("compile", "graph", "runtime", "data", "draw", "params", "reference", "training", "trace",
                "interchange"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    if name == "train":
        from .training import train
        return train
    raise AttributeError(f"module 'nngraph' has no attribute {name!r}")


__all__ = ["load", "dump", "build", "Spec", "Limits", "NNGraphError", "SpecError", "CycleError", "LimitError",
           "ParameterFileError", "DataError", "TrainingError", "DrawError", "Diagnostic", "compile", "train",
           "draw", "__version__"]
