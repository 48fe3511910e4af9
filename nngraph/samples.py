"""The arrays a user hands to training and scoring, checked one way.

``nngraph.train(spec, data=(X, y))``, ``plan.fit``, ``plan.evaluate`` and ``plan.predict`` all
read their arrays here, so each refuses the same things with the same words: a
:class:`~nngraph.errors.DataError` naming the argument (``X``, ``y``, ``X_test``, ``y_test``), the
first row that is wrong and what would be valid. Class targets are indices 0, 1, ... or, where the
output nodes declare ``labels``, those labels.
"""
from __future__ import annotations

import numpy as np

from .errors import DataError
from .text import plural

CLASS_LOSSES = ("cross_entropy", "binary_cross_entropy")


def class_labels(spec) -> list[str] | None:
    """The class names the outputs declare (every output node's ``labels``, in order), or None when
    they declare none (classes are then numbered) or there is a single output neuron (classes 0, 1)."""
    outs = [n for n in spec.nodes if n.role == "output"]
    if sum(n.size for n in outs) < 2 or not all(n.labels for n in outs):
        return None
    return [str(label) for n in outs for label in n.labels]


def _nodes(spec, role):
    return [n for n in spec.nodes if n.role == role]


def _said(nodes) -> str:
    return ", ".join(f"{n.name} {n.size}" for n in nodes)


def _column_names(nodes) -> list[str]:
    names = []
    for n in nodes:
        names += list(n.labels) if n.labels else [n.name] if n.size == 1 else [f"{n.name}[{i}]" for i in range(n.size)]
    return names


def _array(x, name: str, what: str) -> np.ndarray:
    if x is None or isinstance(x, (str, bytes, bytearray, dict)):
        raise DataError(f"{name}: expected {what}, found {type(x).__name__}")
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{name} is not a rectangular array ({_ragged_row(x) or str(exc).split('.')[0]}); every row "
                        "needs the same number of values") from None


def _ragged_row(x) -> str | None:
    """``row 1 has 1 value, row 0 has 2``: the first row of a list of rows whose length differs from
    the first row's; None when that is not what is wrong."""
    try:
        lengths = [len(row) if isinstance(row, (list, tuple, np.ndarray)) else None for row in x]
    except TypeError:
        return None
    for i, n in enumerate(lengths[1:], 1):
        if n != lengths[0]:
            said = (lambda k, m: f"row {k} is a single number" if m is None else f"row {k} has {plural(m, 'value')}")
            return f"{said(i, n)}, {said(0, lengths[0])}"
    return None


def _first_not_number(arr: np.ndarray):
    """The position and value of the first entry of an object or text array that is not a number:
    preferably one that does not even read as one (numpy makes ``[[0, "a"]]`` all text)."""
    first = None
    for pos, v in np.ndenumerate(arr):
        v = v.item() if isinstance(v, np.generic) else v
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            try:
                float(v)
            except (TypeError, ValueError):
                return pos, v
            first = first or (pos, v)
    return first or (None, None)


def _not_number(v) -> str:
    try:
        float(v)
        return "text, not a number (convert the array: np.asarray(X, dtype=float))"
    except (TypeError, ValueError):
        return "not a number"


def _row_col(pos) -> str:
    return f"row {pos[0]}" + (f", column {pos[1]}" if len(pos) > 1 else "")


def inputs(x, name: str, spec, *, empty_ok: bool = False) -> np.ndarray:
    """``x`` as a (samples, input width) array of finite numbers, or a DataError naming ``name``,
    the row and column, and the shape the spec's inputs take. Rows of images (samples, 28, 28) are
    flattened; a 1-d array is a column of samples for a network of one input."""
    nodes = _nodes(spec, "input")
    width = sum(n.size for n in nodes)
    arr = _array(x, name, f"an array of shape (samples, {width})")
    if arr.dtype.kind not in "biuf":
        pos, v = _first_not_number(arr)
        if pos is not None:
            at = f" {_row_col(pos)}" if arr.ndim else ""
            raise DataError(f"{name}{at}: {v!r} is {_not_number(v)}; inputs are numbers ("
                            f"{', '.join(_column_names(nodes)[:8])}{'...' if width > 8 else ''})")
        arr = arr.astype(np.float64)
    if arr.ndim == 0:
        raise DataError(f"{name} is a single number; give one row per sample, shape (samples, {width})")
    if arr.ndim == 1:
        if width != 1 and len(arr):
            raise DataError(f"{name} has shape {arr.shape}; the network reads {plural(width, 'input')} per sample "
                            f"({_said(nodes)}), so give one row per sample, shape (samples, {width})")
        arr = arr.reshape(-1, 1)
    elif arr.ndim > 2:
        arr = arr.reshape(len(arr), int(np.prod(arr.shape[1:], dtype=np.int64)))
    if not len(arr) and not empty_ok:
        raise DataError(f"{name} holds no samples; give at least one row of {plural(width, 'value')}")
    if arr.shape[1] != width and len(arr):
        raise DataError(f"{name} has {plural(arr.shape[1], 'value')} per row; the network has "
                        f"{plural(width, 'input')} ({_said(nodes)}): give rows of {width}")
    if arr.dtype.kind == "f" and len(arr) and not np.isfinite(arr).all():
        rows, cols = np.nonzero(~np.isfinite(arr))
        r, c = int(rows[0]), int(cols[0])
        raise DataError(f"{name} row {r}, column {c} ({_column_names(nodes)[c]}): {arr[r, c]} is not a finite number; "
                        "inputs must be finite numbers")
    return arr


def targets(y, name: str, rows: int, spec, loss: str | None, *, x_name: str = "X"):
    """``y`` checked against ``rows`` samples and the spec's outputs: ``(targets, classes)``.

    For a classification loss (or class labels given as strings), a 1-d ``y`` holds classes: whole
    numbers 0 .. k-1 or the outputs' labels, or one-hot rows; the result is int64 indices and the
    class names (the labels, else ``"0"``, ``"1"``, ...). Otherwise, and for other 2-d ``y``
    (probabilities), finite numbers, one column per output neuron; classes are then None."""
    outs = _nodes(spec, "output")
    width = sum(n.size for n in outs)
    labels = class_labels(spec)
    arr = _array(y, name, f"one target per row of {x_name}")
    if arr.ndim == 0:
        raise DataError(f"{name} is a single number; give one target per row of {x_name}")
    if len(arr) != rows:
        raise DataError(f"{name} has {plural(len(arr), 'row')} but {x_name} has {rows:,}; give one target per row "
                        f"of {x_name}")
    k = 2 if width == 1 else width  # one sigmoid output: classes 0 and 1
    valid = f"the classes are {', '.join(labels)} (or their numbers 0 to {k - 1})" if labels else \
        f"the classes are the whole numbers 0 to {k - 1}"
    classify = loss in CLASS_LOSSES
    if arr.dtype.kind in "USO":
        if arr.ndim != 1:
            pos, v = _first_not_number(arr)
            if pos is None:
                arr = arr.astype(np.float64)
            else:
                raise DataError(f"{name} {_row_col(pos)}: {v!r} is {_not_number(v)}; targets are numbers")
        else:
            arr, classify = _classes_named(arr, name, labels, outs, valid), True
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{name}: expected numbers, found values of type {arr.dtype}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        pos = tuple(int(i[0]) for i in np.nonzero(~np.isfinite(arr)))
        raise DataError(f"{name} {_row_col(pos)}: {arr[pos]} is not a finite number; targets must be finite numbers")
    if classify and arr.ndim == 2 and arr.shape[1] == width > 1 and _one_hot(arr):
        arr = arr.argmax(axis=1)  # one-hot rows (Keras's categorical targets) are the classes they mark
    if classify and arr.ndim == 1:
        return _class_indices(arr, name, k, width, valid), labels or [str(i) for i in range(max(int(arr.max(initial=0)) + 1, 2))]
    if arr.ndim == 1 and width != 1:
        raise DataError(f"{name} holds one value per row; the network has {plural(width, 'output')} ({_said(outs)}): "
                        f"give rows of {width} targets" + (f", or class numbers (or labels) with a loss of "
                                                           f"{' or '.join(CLASS_LOSSES)}" if not classify else ""))
    if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != width):
        raise DataError(f"{name} has shape {arr.shape}; the network has {plural(width, 'output')} ({_said(outs)}): "
                        f"give {'one target per row, or ' if width == 1 else ''}rows of {width}")
    if loss == "binary_cross_entropy" and arr.size and (arr.min() < 0 or arr.max() > 1):
        pos = tuple(int(i[0]) for i in np.nonzero((arr < 0) | (arr > 1)))
        raise DataError(f"{name} {_row_col(pos)}: {arr[pos].item():g} is outside 0 to 1: binary_cross_entropy needs "
                        "targets from 0 to 1 (a probability or a class 0/1); for numbers like these use loss mse "
                        "with a linear output")
    return arr, None


def _one_hot(arr: np.ndarray) -> bool:
    return bool(len(arr)) and bool(((arr == 0) | (arr == 1)).all()) and bool((arr.sum(axis=1) == 1).all())


def _classes_named(arr, name, labels, outs, valid) -> np.ndarray:
    """Class labels (strings, or numbers among them) as int64 indices."""
    from .spec import suggest

    index = {label: i for i, label in reversed(list(enumerate(labels or [])))}
    out = np.empty(len(arr), dtype=np.float64)
    for i, v in enumerate(arr.tolist()):
        if isinstance(v, (bytes, bytearray)):
            v = v.decode("utf-8", "replace")
        if isinstance(v, str):
            if v in index:
                out[i] = index[v]
                continue
            if labels:
                raise DataError(f"{name} row {i}: {v!r} is not a class{suggest(v, labels)}; {valid}")
            named = " or ".join(f"'{n.name}'" for n in outs)
            raise DataError(f"{name} row {i}: {v!r} is not a class number; {valid} (the output {named} declares "
                            "no labels to name them: add labels: [...] to it)")
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float)):
            raise DataError(f"{name} row {i}: {v!r} is not a class; {valid}")
        out[i] = v
    return out


def _class_indices(arr, name, k, width, valid) -> np.ndarray:
    """Whole numbers 0 .. k-1 as int64, compared before any conversion (a uint64 of 2**64 - 1 would
    become -1 as an int64); the first that is not one is named by its row."""
    whole = arr if arr.dtype.kind in "biu" else np.where(arr == np.round(arr), arr, -1)
    bad = np.flatnonzero((whole < 0) | (whole >= k))
    if len(bad):
        i = int(bad[0])
        v = arr[i].item()
        if isinstance(v, float) and v != round(v) or v < 0:
            soft = " (targets between 0 and 1 go in a column: y.reshape(-1, 1))" if width == 1 and 0 < v < 1 else ""
            raise DataError(f"{name} row {i}: {v:g} is not a class; {valid}{soft}")
        raise DataError(f"{name} row {i} holds class {v}, but the network's {plural(width, 'output neuron')} "
                        f"give{'s' if width == 1 else ''} classes 0 to {k - 1}{'' if valid.endswith(f'{k - 1}') else '; ' + valid}")
    return arr.astype(np.int64)


def within(ds, spec, dtype):
    """Refuse a value of a dataset's arrays beyond the largest number of ``dtype`` (1e300 in
    float32): cast for training it would be inf, and the loss nan. Named by array, row and column."""
    info = np.finfo(dtype)
    if info.bits == 64:
        return
    names = _column_names(_nodes(spec, "input"))
    for name, arr in (("X", ds.x_train), ("y", ds.y_train), ("X_test", ds.x_test), ("y_test", ds.y_test)):
        arr = np.asarray(arr)
        if arr.dtype.kind != "f" or arr.dtype.itemsize <= info.bits // 8 or not arr.size:
            continue
        big = np.argwhere(np.abs(arr) > info.max)
        if len(big):
            pos = tuple(int(i) for i in big[0])
            col = f" ({names[pos[1]]})" if name.startswith("X") and len(pos) > 1 and pos[1] < len(names) else ""
            raise DataError(f"{name} {_row_col(pos)}{col}: {arr[pos]:g} is too large for {info.dtype} (at most about "
                            f"{float(info.max):.1e}), the precision the network trains in: it would become inf; scale "
                            f"the {'inputs' if name.startswith('X') else 'targets'} down, or train in float64 "
                            "(dtype=np.float64)")


def dataset(spec, data):
    """A :class:`~nngraph.data.Dataset` from ``(X, y)`` or ``(X, y, X_test, y_test)``, checked."""
    from .data import Dataset

    loss = spec.train.loss if spec.train is not None else None
    x = inputs(data[0], "X", spec)
    y, classes = targets(data[1], "y", len(x), spec, loss)
    if len(data) == 4:
        xt = inputs(data[2], "X_test", spec, empty_ok=True)
        yt, test_classes = targets(data[3], "y_test", len(xt), spec, loss, x_name="X_test")
        if (classes is None) != (test_classes is None):
            raise DataError(f"y holds {'classes' if classes else 'target rows'} but y_test "
                            f"{'classes' if test_classes else 'target rows'}; give both in the same form")
        if classes is not None and len(test_classes) > len(classes):
            classes = test_classes
    else:
        xt, yt = x[:0], y[:0]
    return Dataset(x, y, xt, yt, f"arrays: {len(x):,} training and {len(xt):,} test samples", classes=classes)
