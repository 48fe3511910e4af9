"""Keras-like use of a compiled plan: ``plan.fit(X, y)``, ``plan.evaluate(X, y)``, ``plan.predict(X)``.

``fit`` trains the plan in place with the spec's ``train`` section, any key of which can be
overridden by keyword (validated like the spec: an unknown key or a bad value is a located
:class:`~nngraph.SpecError`).
"""
from __future__ import annotations

import numpy as np

from .errors import Diagnostic, SpecError, TrainingError


def train_config(spec, overrides: dict):
    """The spec with ``overrides`` applied to its ``train`` section, validated like a loaded spec."""
    import json

    from .spec import Source, load
    from .spec.overrides import OverriddenSource

    if not overrides:
        return spec
    base = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    base["train"] = {**(base.get("train") or {}), **overrides}
    for key, value in overrides.items():
        try:
            json.dumps(value, default=_plain)
        except (TypeError, ValueError):
            raise SpecError([Diagnostic(f"fit({key}=...)", 0, 0, f"train.{key}", "wrong_type",
                                        f"a value of type {type(value).__name__} cannot be in a spec: give numbers, "
                                        "strings, booleans, lists or dicts")]) from None
    try:
        edited = load(json.dumps(base, default=_plain), format="json")
    except SpecError as exc:
        raise SpecError([_as_typed(d, overrides) for d in exc.diagnostics]) from None
    edited._base_dir = spec.base_dir
    # what the graph's and training's checks find later is located at the keyword that set it, or
    # in the spec's own file (not in the JSON text made here), as for --set
    src = getattr(spec.source, "base", None) or spec.source or Source(None, "<python>", "json")
    edited._source = OverriddenSource(src.text, src.name, src.format, src.data, base=src, overrides=tuple(
        getattr(spec.source, "overrides", ())) + tuple((f"train.{k}", f"fit({k}=...)") for k in overrides))
    return edited


def _plain(value):
    """numpy numbers and arrays as the JSON numbers and lists they hold; anything else is refused."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _as_typed(d: Diagnostic, overrides: dict) -> Diagnostic:
    """A finding about the overridden spec, named by the keyword the user typed (``fit(epochs=...)``)
    rather than by a place in the JSON text built from it."""
    parts = d.path.split(".")
    keys = [parts[1].split("[")[0]] if parts[0] == "train" and len(parts) > 1 and parts[1].split("[")[0] in overrides \
        else list(overrides)
    message = d.message
    if parts[-1] == "learning_rate" and len(parts) == 2 and d.code == "unknown_key":
        message += ("; the learning rate belongs to the optimizer: fit(optimizer={'name': 'adam', "
                    f"'learning_rate': {overrides['learning_rate']!r}}})")
    where = "fit(" + ", ".join(f"{k}=..." for k in keys) + ")"
    return Diagnostic(where, 0, 0, d.path, d.code, message, d.severity)


def fit(plan, X, y, X_test=None, y_test=None, *, callbacks=None, resume=False, threads=None, **overrides) -> list:
    from .graph import build
    from .spec import located_at_options
    from .training import train

    spec = train_config(plan.spec, overrides)
    if spec.train is None:
        from .trainchecks import suggested_loss

        raise TrainingError("the spec has no 'train' section: give at least the loss, e.g. "
                            f"plan.fit(X, y, loss='{suggested_loss(plan.graph)}')")
    if (X_test is None) != (y_test is None):
        from .errors import DataError

        given, missing = ("X_test", "y_test") if y_test is None else ("y_test", "X_test")
        raise DataError(f"fit: {given} is given without {missing}; a test set needs both "
                        "(plan.fit(X, y, X_test, y_test)), or leave both out")
    X, X_test = (plan.as_input(x) if isinstance(x, dict) else x for x in (X, X_test))  # inputs by name, as forward
    data = (X, y) if X_test is None else (X, y, X_test, y_test)
    with located_at_options(spec):
        graph = build(spec)
        _, history = train(graph, data, plan=plan, callbacks=callbacks, resume=resume, threads=threads)
    return history


def _loss(plan):
    return plan.spec.train.loss if plan.spec.train is not None else None


def _rows(plan, X, name="X"):
    """``X`` checked as fit checks it; a dict of input names or labels as ``plan.forward`` takes it."""
    from .samples import inputs

    return inputs(plan.as_input(X) if isinstance(X, dict) else X, name, plan.spec)


def evaluate_arrays(plan, X, y) -> dict:
    """Loss (when the spec has a train section) and metrics of the plan on arrays, checked as
    :meth:`Plan.fit` checks them (:mod:`nngraph.samples`)."""
    from .samples import targets
    from .training import evaluate

    loss = _loss(plan)
    x = _rows(plan, X)
    t, classes = targets(y, "y", len(x), plan.spec, loss)
    return evaluate(plan, x, t, classes, loss)


def predict(plan, X) -> np.ndarray:
    """Classes for a classifier (its output labels where declared, else indices), else the outputs."""
    from .samples import CLASS_LOSSES, class_labels, inputs
    from .training import _predicted

    x = plan.as_input(X)
    inputs(x, "X", plan.spec, empty_ok=True)  # finite, or refused naming the row and column
    out = plan.forward(x)
    if _loss(plan) not in CLASS_LOSSES:
        return out
    index = _predicted(out)
    labels = class_labels(plan.spec)
    return index if labels is None else np.array(labels)[index]
