"""Reading inputs for ``nngraph run`` and writing its outputs (.npy, .npz, .csv)."""
from __future__ import annotations

import csv
import io
import os
import re
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import DataError, FileAccessError, similar_file
from .shards import NOT_FINITE, cell_error, csv_float, input_member
from .spec.files import ArrayFileError, csv_records, read_arrays, read_text
from .text import plural
from .writes import atomic_write


def read_inputs(path, plan) -> np.ndarray:
    """A (batch, inputs) array from a .npy, .npz (array ``x`` or its only array) or .csv file.

    A CSV may start with a header row naming the input columns (node names, ``name[i]`` or
    labels); its columns are then matched by name, in any order.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError(f"{path}: {'not a regular file' if path.exists() else 'no such file' + similar_file(path)}")
    try:
        if suffix in (".npy", ".npz"):
            arrays = read_arrays(path, str(path))
            if "" in arrays:
                x = arrays[""]
            else:
                x = arrays[input_member(list(arrays), path)]
        elif suffix == ".csv":
            x = _read_csv(path, plan)
        else:
            raise DataError(f"{path}: inputs are read from .npy, .npz or .csv files")
    except ArrayFileError as exc:
        raise DataError(str(exc)) from None
    if x.dtype.kind not in "fiub":
        raise DataError(f"{path}: expected numbers, found dtype {x.dtype}")
    if x.ndim == 0:
        raise DataError(f"{path}: holds a single number (a 0-d array); inputs are rows of "
                        f"{plan.input_width} values (shape (n, {plan.input_width}))")
    if x.size == 0 or len(x) == 0:
        raise DataError(f"{path}: holds no rows (shape {x.shape}); give at least one row of {plan.input_width} values")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(1, -1) if plan.input_width == len(x) and plan.input_width > 1 else x.reshape(-1, 1)
    if x.ndim > 2:
        x = x.reshape(len(x), -1)
    if x.shape[1] != plan.input_width:
        raise DataError(f"{path}: {x.shape[1]} values per row; the network takes {plan.input_width} "
                        f"({', '.join(f'{n} {s}' for n, s in plan.inputs)})")
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if len(bad):
        raise DataError(f"{path}: row {int(bad[0]) + 1}: inputs must be finite numbers")
    top = float(np.finfo(plan.dtype).max)
    over = np.flatnonzero((np.abs(x) > top).any(axis=1))
    if len(over):  # the plan's precision would make it inf: said here, where the file's row is known
        r = int(over[0])
        c = int(np.flatnonzero(np.abs(x[r]) > top)[0])
        raise DataError(f"{path}: row {r + 1}, column {c + 1}: {x[r, c]:g} is too large for "
                        f"{np.dtype(plan.dtype).name} (at most about {top:.1e}), the network's precision; scale "
                        "the inputs down, or run in float64 (--float64)")
    return x


def _read_csv(path, plan):
    text = read_text(path, str(path))
    records = csv_records(text, str(path))
    if not records:
        raise DataError(f"{path}: empty file")
    header = None
    try:
        [csv_float(v) for v in records[0][1]]
        if is_label_header(path, records[0][0], records[0][1], plan):
            header, records = [c.strip() for c in records[0][1]], records[1:]
    except ValueError:
        header, records = [c.strip() for c in records[0][1]], records[1:]
    if not records:
        raise DataError(f"{path}: no rows of values after the header")
    width = len(header) if header is not None else len(records[0][1])
    data = np.empty((len(records), width), dtype=np.float64)
    lines = None  # the file's lines as an editor counts them, to give a bad value's character column

    def bad(i, k, why):
        nonlocal lines
        lines = lines or re.split(r"\r\n|\r|\n", text)
        line, cells = records[i]
        raise cell_error(path, line, lines[line - 1] if line <= len(lines) else None, cells, i + 1, k, why)

    for i, (line, r) in enumerate(records):
        if len(r) != width:
            raise DataError(f"{path}:{line}: {len(r)} values; {'the header has' if header else 'the first row has'} "
                            f"{width}")
        for k, v in enumerate(r):
            try:
                data[i, k] = csv_float(v)
            except ValueError:
                bad(i, k, "is not a number")
    used = list(range(width)) if header is None else header_columns(path, header, plan)
    data = data[:, used] if header is not None else data
    finite = np.isfinite(data)
    if not finite.all():  # only the columns in use: others are ignored, as when streaming
        i, j = np.argwhere(~finite)[0]
        bad(int(i), used[int(j)], NOT_FINITE)
    return data


class InputNote(UserWarning):
    """Something the reader decided that the user should see (a command prints it as ``note: ...``)."""


@contextmanager
def notes_shown(show):
    """Within it, every :class:`InputNote` goes to ``show(message)`` (once each, as it happens);
    other warnings as before."""
    before = warnings.showwarning

    def showwarning(message, category, *args, **kwargs):
        if issubclass(category, InputNote):
            show(str(message))
        else:
            before(message, category, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("always", InputNote)
        warnings.showwarning = showwarning
        yield


def is_label_header(path, line, cells, plan) -> bool:
    """Whether a first row that reads as numbers is nevertheless a header: it is when its cells are
    exactly the network's input labels (``-1``, ``-2`` of an imported NEAT genome), each named once,
    in any order. Such a row could be either, so the choice is said (an :class:`InputNote`), with
    how to have it read as values instead; so is a row of labels that is not a header (``-2,-2``)."""
    names = plan.input_names()
    cells = [c.strip() for c in cells]
    if not set(cells) <= set(names):
        return False
    row = f"{path}:{line}: the first row ({','.join(cells[:12])}{',...' if len(cells) > 12 else ''})"
    if len(cells) != len(names) or set(cells) != set(names):  # labels, but no header: say which way it went
        warnings.warn(InputNote(f"{row} is read as values: its cells are input labels too, but a header names each "
                                f"input once ({', '.join(names[:12])}{'...' if len(names) > 12 else ''})"), stacklevel=2)
        return False
    warnings.warn(InputNote(f"{row} names the network's input labels: read as a header, not as values (to read it "
                            f"as values, put a header line above it, or write {cells[0]} as {float(cells[0])!r})"),
                  stacklevel=2)
    return True


def header_columns(path, header, plan) -> list:
    """The column of ``header`` (a CSV's first row) that holds each input of ``plan``: by node name,
    ``name[i]`` or label, in any order."""
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
                            f"{', '.join(names[:12])}{'...' if len(names) > 12 else ''} and the header has "
                            f"{', '.join(header[:12])}{'...' if len(header) > 12 else ''}")
    return cols


class HeaderMatch:
    """For a streamed CSV: whether its numeric first row is a header (:func:`is_label_header`), and
    the column of each input in a header (:func:`header_columns`)."""

    def __init__(self, plan):
        self.plan = plan

    def __call__(self, path, header) -> list:
        return header_columns(path, header, self.plan)

    def is_header(self, path, line, cells) -> bool:
        return is_label_header(path, line, cells, self.plan)


def parse_input_args(pairs, plan) -> dict:
    """``["sleep=7", "study=5"]`` (node names or labels) -> {node name: values}."""
    by_label = {}
    for n, size in plan.inputs:
        labels = plan.graph.node(n).spec.labels or []
        for i, lab in enumerate(labels):
            by_label[lab] = (n, i)
    values = {n: [None] * s for n, s in plan.inputs}
    given = {}  # each input neuron -> the --input that gave it: a second one is refused, not the last kept
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise DataError(f"--input {pair}: write name=value")
        cells = [(name, i) for i in range(len(values[name]))] if name in values else \
            [by_label[name]] if name in by_label else []
        for cell in cells:
            if cell in given:
                first = given[cell]
                raise DataError(f"--input {pair}: {name} is given twice; give each input once" if first == name else
                                f"--input {pair}: --input {first}=... already gives "
                                f"{first if first in by_label else name if name in by_label else f'{cell[0]}[{cell[1]}]'}"
                                "; give each input once")
            given[cell] = name
        try:
            nums = [csv_float(v.strip()) for v in raw.split(",")]  # as the CSV readers read numbers
        except ValueError:
            raise DataError(f"--input {pair}: '{raw}' is not a number (or comma-separated numbers)") from None
        if not all(np.isfinite(nums)):
            raise DataError(f"--input {pair}: inputs must be finite numbers")
        if name in values:
            if len(nums) != len(values[name]):
                raise DataError(f"--input {name}: {len(nums)} value{'' if len(nums) == 1 else 's'} for a node of "
                                f"{plural(len(values[name]), 'neuron')}")
            values[name] = nums
        elif name in by_label:
            node, i = by_label[name]
            values[node][i] = nums[0]
        else:
            from .spec import suggest
            known = list(values) + list(by_label)
            raise DataError(f"--input {name}: not an input{suggest(name, known)}; inputs: {', '.join(known)}")
    missing = []
    for n, v in values.items():
        if all(x is None for x in v):
            missing.append(f"{n} (--input {n}={','.join(['1'] * len(v))})" if len(v) > 1 else n)
        else:  # some of its neurons given by label: name the others as they were asked for
            labels = plan.graph.node(n).spec.labels or []
            missing += [labels[i] if i < len(labels) else f"{n}[{i}]" for i, x in enumerate(v) if x is None]
    if missing:
        raise DataError(f"missing --input for {', '.join(missing)}")
    return {n: np.array([v]) for n, v in values.items()}


def check_output_path(path, option: str | None = None, folder_ok: bool = False, inputs=None) -> Path:
    """Refuse, before any work, an output path whose folder is missing or read-only, or that is a
    folder (unless ``folder_ok``: a zarr array is a folder, replaced as a whole; any other folder is
    refused). Missing folders are never created: a typo in a path should not quietly make new
    folders. ``option`` (the command-line option, ``--output``) starts the message when given.
    ``inputs`` (``--inputs``: a file, folder, zarr array or glob): the output may not be it, lie
    inside it or match it, which would replace the inputs or make the output inputs of the next run."""
    path = Path(path)
    folder = path.parent
    shown = f"{option} {path}" if option else str(path)
    if path.is_dir() and not folder_ok:
        raise FileAccessError(f"{shown}: is a folder; name a file")
    if path.is_dir() and not path.is_symlink() and not any((path / m).is_file() for m in (".zarray", "zarr.json")):
        raise FileAccessError(f"{shown}: is a folder that is not a zarr array; only a zarr array is replaced "
                              "by a new one: remove the folder or name another output")
    if path.is_symlink() and path.is_dir():
        raise FileAccessError(f"{shown}: is a link to a folder; name the zarr array itself")
    if inputs is not None:
        _check_apart(path, str(inputs), shown)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist (create it first)"
        raise FileAccessError(f"{shown}: the folder '{folder}' {what}")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise FileAccessError(f"{shown}: permission denied (the file or its folder is read-only)")
    return path


def _check_apart(path: Path, inputs: str, shown: str) -> None:
    from fnmatch import fnmatch
    from glob import glob

    from .writes import inside, same_path

    src = Path(inputs)
    if any(c in inputs for c in "*?["):
        hit = any(same_path(path, q) for q in glob(inputs)) or fnmatch(os.path.abspath(path),
                                                                       os.path.abspath(inputs))
        if hit:
            raise FileAccessError(f"{shown}: matches --inputs {inputs}; the next run would read it as inputs: "
                                  "write it elsewhere")
        return
    if same_path(path, src):
        raise FileAccessError(f"{shown}: is --inputs itself; writing it would replace the inputs: "
                              "name another output")
    if src.is_dir() and inside(path, src):
        raise FileAccessError(f"{shown}: lies inside the --inputs folder {inputs}; the next run would read it "
                              "as inputs: write it elsewhere")


def write_text_atomic(path, text: str) -> None:
    atomic_write(Path(path), lambda f: f.write(text.encode("utf-8")))


def write_outputs(path, y: np.ndarray, names) -> None:
    """Write outputs as .npy or .csv (header row of output names), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        atomic_write(path, lambda f: np.save(f, y))
    elif suffix == ".csv":
        def write(f):
            text = io.TextIOWrapper(f, encoding="utf-8", newline="")
            w = csv.writer(text)
            # a label holding a lone surrogate (JSON "\udfff") cannot be encoded: written as the
            # terminal shows it, \udfff, rather than failing after the run
            w.writerow([str(n).encode("utf-8", "backslashreplace").decode("utf-8") for n in names])
            w.writerows(y.tolist())
            text.flush()
            text.detach()
        atomic_write(path, write)
    else:
        raise DataError(f"{path}: outputs are written as .npy or .csv")
