"""Reading inputs for ``nngraph run`` and writing its outputs (.npy, .npz, .csv)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .errors import DataError


def read_inputs(path, plan) -> np.ndarray:
    """A (batch, inputs) array from a .npy, .npz (array ``x`` or its only array) or .csv file.

    A CSV may start with a header row naming the input columns (node names, ``name[i]`` or
    labels); its columns are then matched by name, in any order.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"{path}: {'not a regular file' if path.exists() else 'no such file'}")
    try:
        if suffix == ".npy":
            x = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                names = z.files
                if "x" in names:
                    x = z["x"]
                elif len(names) == 1:
                    x = z[names[0]]
                else:
                    raise DataError(f"{path}: holds {', '.join(names)}; name the input array 'x'")
        elif suffix == ".csv":
            x = _read_csv(path, plan)
        else:
            raise DataError(f"{path}: inputs are read from .npy, .npz or .csv files")
    except ValueError as exc:  # numpy refuses pickled/object arrays with ValueError
        raise DataError(f"{path}: {exc}") from None
    if x.dtype.kind not in "fiub":
        raise DataError(f"{path}: expected numbers, found dtype {x.dtype}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(1, -1) if plan.input_width == len(x) and plan.input_width > 1 else x.reshape(-1, 1)
    if x.ndim > 2:
        x = x.reshape(len(x), -1)
    if x.shape[1] != plan.input_width:
        raise DataError(f"{path}: {x.shape[1]} values per row; the network takes {plan.input_width} "
                        f"({', '.join(f'{n} {s}' for n, s in plan.inputs)})")
    if not np.isfinite(x).all():
        raise DataError(f"{path}: inputs must be finite numbers")
    return x


def _read_csv(path, plan):
    rows = [r for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) if r]
    if not rows:
        raise DataError(f"{path}: empty file")
    header = None
    try:
        [float(v) for v in rows[0]]
    except ValueError:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    try:
        data = np.array([[float(v) for v in r] for r in rows], dtype=np.float64).reshape(len(rows), -1)
    except ValueError as exc:
        raise DataError(f"{path}: {exc}") from None
    if header is None:
        return data
    names = plan.input_names()
    alt = [f"{n}[{i}]" for n, s in plan.inputs for i in range(s)] if plan.input_width else []
    cols = []
    for k, name in enumerate(names):
        if name in header:
            cols.append(header.index(name))
        elif alt[k] in header:
            cols.append(header.index(alt[k]))
        else:
            from .spec import suggest
            raise DataError(f"{path}: no column '{name}'{suggest(name, header)}; the network's inputs are "
                            f"{', '.join(names[:12])}{'...' if len(names) > 12 else ''}")
    return data[:, cols]


def parse_input_args(pairs, plan) -> dict:
    """``["sleep=7", "study=5"]`` (node names or labels) -> {node name: values}."""
    by_label = {}
    for n, size in plan.inputs:
        labels = plan.graph.node(n).spec.labels or []
        for i, lab in enumerate(labels):
            by_label[lab] = (n, i)
    values = {n: [None] * s for n, s in plan.inputs}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise DataError(f"--input {pair}: write name=value")
        try:
            nums = [float(v) for v in raw.split(",")]
        except ValueError:
            raise DataError(f"--input {pair}: '{raw}' is not a number (or comma-separated numbers)") from None
        if name in values:
            if len(nums) != len(values[name]):
                raise DataError(f"--input {name}: {len(nums)} values for a node of {len(values[name])} neurons")
            values[name] = nums
        elif name in by_label:
            node, i = by_label[name]
            values[node][i] = nums[0]
        else:
            from .spec import suggest
            known = list(values) + list(by_label)
            raise DataError(f"--input {name}: not an input{suggest(name, known)}; inputs: {', '.join(known)}")
    missing = [n for n, v in values.items() if any(x is None for x in v)]
    if missing:
        raise DataError(f"missing --input for {', '.join(missing)}")
    return {n: np.array([v]) for n, v in values.items()}


def write_outputs(path, y: np.ndarray, names) -> None:
    path = Path(path)
    if path.suffix.lower() == ".npy":
        np.save(path, y)
    elif path.suffix.lower() == ".csv":
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names)
            w.writerows(y.tolist())
    else:
        raise DataError(f"{path}: outputs are written as .npy or .csv")
