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
__version__ = "0.1.0"

_ERRORS = ("CycleError", "DataError", "Diagnostic", "DrawError", "LimitError", "NNGraphError", "ParameterFileError",
           "SpecError", "TrainingError", "TrainingInterrupted", "TrainingWarning")


def __getattr__(name):
    # Everything loads on first use, so `import nngraph` (and `nngraph --help`) stays light: no
    # numpy, pydantic, YAML, networkx, scipy or graphviz, not even the error classes, until needed.
    import importlib

    if name in _ERRORS:
        value = getattr(importlib.import_module(".errors", __name__), name)
    elif name == "Limits":
        from .limits import Limits as value
    elif name in ("load", "dump", "Spec"):
        value = getattr(importlib.import_module(".spec", __name__), name)
    elif name == "build":
        from .graph import build as value
    elif name == "train":
        from .training import train as value
    else:  # a module of the package (nngraph.compile, nngraph.errors, ...), imported on first use
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
        raise AttributeError(f"module 'nngraph' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = ["load", "dump", "build", "Spec", "Limits", "NNGraphError", "SpecError", "CycleError", "LimitError",
           "ParameterFileError", "DataError", "TrainingError", "TrainingInterrupted", "TrainingWarning",
           "DrawError", "Diagnostic",
           "compile", "train", "draw", "__version__"]
