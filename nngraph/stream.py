"""Scoring data larger than memory: row ranges read from disk, outputs written chunk by chunk.

An :class:`InputSource` describes where the rows are (a ``.npy`` file, shards of ``.npy``/``.npz``/
``.csv`` files in a folder or glob, or a zarr array) and reads any row range on demand, so only
paths and row numbers travel (to a Dask worker, see :mod:`nngraph.distributed`), never the data.
``.npy`` rows are read with plain file reads at the header's offset (no memory map kept open,
so a process's resident memory stays bounded by the chunk, not by the rows it has visited).

An :class:`OutputSink` writes a ``.npy`` (``numpy.lib.format.open_memmap``), ``.csv`` or zarr
array under a temporary name beside the target and renames it into place only when every row is
written; a failed run leaves nothing under the target's name.
"""
from __future__ import annotations

import csv
import glob
import os
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError, NNGraphError, file_error
from .spec.files import npy_header

SHARD_SUFFIXES = (".npy", ".npz", ".csv")
# A plain .npy above this size is streamed by `nngraph run --inputs`; below it is read into memory.
STREAM_ABOVE_BYTES = 256 * 1024 * 1024
DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024


def _need_zarr():
    try:
        import zarr
    except ImportError:
        raise NNGraphError('zarr arrays need the zarr package: pip install "nngraph[distributed]"') from None
    return zarr


def is_zarr(path) -> bool:
    p = Path(path)
    return p.suffix.lower() == ".zarr" or (p.is_dir() and ((p / "zarr.json").exists() or (p / ".zarray").exists()))


# -- inputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    """One file of rows: ``rows`` rows of ``width`` numbers; ``.npy`` rows start at ``offset``."""

    path: str
    kind: str  # npy | npz | csv | zarr
    rows: int
    width: int
    dtype: str = "float64"
    offset: int = 0
    member: str = ""  # npz: the array's name; csv: "header" when the first row names the columns


@dataclass(frozen=True)
class InputSource:
    """Rows spread over shards, read by global row range. Small and picklable: paths, not data."""

    shards: tuple
    width: int
    starts: tuple = field(default=())  # first global row of each shard

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.shards)

    @property
    def name(self) -> str:
        return self.shards[0].path if len(self.shards) == 1 else f"{len(self.shards)} shards"

    @property
    def nbytes(self) -> int:
        return self.rows * self.width * 8

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as floats (integers as float64), each checked finite (errors name shard and row)."""
        parts = []
        for shard, first in zip(self.shards, self.starts):
            a, b = max(start, first), min(stop, first + shard.rows)
            if a < b:
                parts.append(_read_shard(shard, a - first, b - first))
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty((0, self.width))


def open_inputs(where, width: int) -> InputSource:
    """An :class:`InputSource` for a ``.npy``, a zarr array, a folder or a glob of shards.

    Every shard's header (or, for CSV, its row count and columns) is checked now: a number dtype,
    ``width`` values per row. Values are checked as rows are read.

    Raises
    ------
    DataError
        Naming the shard (and row) that does not fit.
    """
    where = str(where)
    p = Path(where)
    if is_zarr(p):
        paths, kind = [p], "zarr"
    elif p.is_dir():
        paths = sorted(q for q in p.iterdir() if q.suffix.lower() in SHARD_SUFFIXES and q.is_file())
        if not paths:
            raise DataError(f"{where}: no .npy, .npz or .csv shards in this folder")
        kind = None
    elif any(c in where for c in "*?["):
        paths = sorted(Path(q) for q in glob.glob(where) if Path(q).is_file())
        if not paths:
            raise DataError(f"{where}: no file matches")
        kind = None
    elif p.is_file():
        paths, kind = [p], None
    else:
        raise DataError(f"{where}: no such file, folder or zarr array")
    shards = tuple(_inspect(q, kind or q.suffix.lower().lstrip("."), width) for q in paths)
    starts = tuple(int(v) for v in np.cumsum([0] + [s.rows for s in shards])[:-1])
    return InputSource(shards, width, starts)


def _inspect(path: Path, kind: str, width: int) -> Shard:
    name = str(path)
    if kind == "npy":
        shape, dtype, offset = _npy_header(path)
    elif kind == "npz":
        shape, dtype, member = _npz_header(path)
    elif kind == "csv":
        return _csv_shard(path, width)
    elif kind == "zarr":
        try:
            arr = _need_zarr().open_array(str(path), mode="r")
        except NNGraphError:
            raise
        except Exception as exc:
            raise DataError(f"{name}: not a readable zarr array ({exc})") from None
        shape, dtype = arr.shape, np.dtype(arr.dtype)
    else:
        raise DataError(f"{name}: shards are .npy, .npz or .csv files")
    if dtype.kind not in "fiub" or dtype.hasobject:
        raise DataError(f"{name}: expected numbers, found dtype {dtype}")
    if len(shape) == 1 and width == 1:
        shape = (shape[0], 1)
    if len(shape) < 2:
        raise DataError(f"{name}: expected rows of {width} values, found an array of shape {shape}")
    row_width = int(np.prod(shape[1:]))
    if row_width != width:
        raise DataError(f"{name}: {row_width} values per row; the network takes {width}")
    return Shard(name, kind, int(shape[0]), width, dtype.str, offset if kind == "npy" else 0,
                 member if kind == "npz" else "")


def _npy_header(path: Path):
    """Shape, dtype and data offset from the header; the file must hold every byte it declares."""
    try:
        with open(path, "rb") as f:
            shape, fortran, dtype = npy_header(f)
            offset = f.tell()
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from None
    if dtype.hasobject:
        raise DataError(f"{path}: holds Python objects; only numeric arrays are read")
    if fortran and len(shape) > 1:
        raise DataError(f"{path}: Fortran-ordered array; save it C-ordered (np.save(np.ascontiguousarray(x)))")
    need = offset + int(np.prod(shape, dtype=object)) * dtype.itemsize
    have = path.stat().st_size
    if have < need:
        raise DataError(f"{path}: truncated: the header declares shape {shape} ({need:,} bytes), the file has {have:,}")
    return shape, dtype, offset


def _npz_header(path: Path):
    try:
        with zipfile.ZipFile(path) as z:
            names = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            member = "x" if "x" in names else names[0] if len(names) == 1 else None
            if member is None:
                raise DataError(f"{path}: holds {', '.join(names) or 'no arrays'}; name the input array 'x'")
            with z.open(member + ".npy") as f:
                shape, _, dtype = npy_header(f)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    if dtype.hasobject:
        raise DataError(f"{path}: holds Python objects; only numeric arrays are read")
    return shape, dtype, member


def _csv_shard(path: Path, width: int) -> Shard:
    rows, header = 0, False
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for line, r in enumerate(csv.reader(f), 1):
                if not r:
                    continue
                if rows == 0 and not header and not _numeric(r):
                    header = True
                    continue
                if len(r) != width:
                    raise DataError(f"{path}: line {line}: {len(r)} values; the network takes {width}")
                rows += 1
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    return Shard(str(path), "csv", rows, width, "float64", 0, "header" if header else "")


def _numeric(row) -> bool:
    try:
        [float(v) for v in row]
        return True
    except ValueError:
        return False


def _read_shard(shard: Shard, a: int, b: int) -> np.ndarray:
    if shard.kind == "npy":
        dtype = np.dtype(shard.dtype)
        with open(shard.path, "rb") as f:
            f.seek(shard.offset + a * shard.width * dtype.itemsize)
            x = np.fromfile(f, dtype=dtype, count=(b - a) * shard.width)
        if x.size != (b - a) * shard.width:
            raise DataError(f"{shard.path}: rows {a}-{b - 1}: the file ended early (was it changed while reading?)")
        x = x.reshape(b - a, shard.width)
    elif shard.kind == "npz":
        with np.load(shard.path, allow_pickle=False) as z:
            x = z[shard.member].reshape(shard.rows, shard.width)[a:b]
    elif shard.kind == "zarr":
        x = np.asarray(_need_zarr().open_array(shard.path, mode="r")[a:b]).reshape(b - a, shard.width)
    else:
        x = _read_csv_rows(shard, a, b)
    if x.dtype.kind != "f":  # floats stay as stored (the plan converts once); integers become float64
        x = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + a
        raise DataError(f"{shard.path}: row {row}: inputs must be finite numbers")
    return x


def _read_csv_rows(shard: Shard, a: int, b: int) -> np.ndarray:
    out = np.empty((b - a, shard.width))
    i, skip_header = 0, shard.member == "header"
    with open(shard.path, newline="", encoding="utf-8") as f:
        for line, r in enumerate(csv.reader(f), 1):
            if not r:
                continue
            if skip_header:
                skip_header = False
                continue
            if a <= i < b:
                try:
                    out[i - a] = [float(v) for v in r]
                except ValueError:
                    raise DataError(f"{shard.path}: line {line} (row {i}): not all numbers") from None
            i += 1
            if i >= b:
                break
    return out


# -- outputs -----------------------------------------------------------------------------------------


class OutputSink:
    """Rows written by range into a temporary file or folder; :meth:`commit` renames it into place."""

    def __init__(self, path, rows: int, names, dtype, chunk_rows: int):
        self.path = Path(path)
        self.kind = "zarr" if self.path.suffix.lower() == ".zarr" else self.path.suffix.lower().lstrip(".")
        if self.kind not in ("npy", "csv", "zarr"):
            raise DataError(f"{path}: outputs are written as .npy, .csv or .zarr")
        self.rows, self.names, self.dtype = rows, list(names), np.dtype(dtype)
        from .io import check_output_path
        from .writes import remove_stale_temporaries, temporary_path

        check_output_path(self.path, folder_ok=self.kind == "zarr")  # as the CLI: a missing folder is refused
        remove_stale_temporaries(self.path)  # left by a writer that was killed
        self.tmp = temporary_path(self.path)
        try:
            self.tmp.mkdir()
        except OSError as exc:
            raise file_error(exc, self.path, "write") from None
        shape = (rows, len(self.names))
        if self.kind == "npy":
            self._target = self.tmp / "out.npy"
            self._mm = np.lib.format.open_memmap(self._target, mode="w+", dtype=self.dtype, shape=shape)
        elif self.kind == "zarr":
            self._target = self.tmp / "out.zarr"
            self._z = _need_zarr().open_array(str(self._target), mode="w", shape=shape, dtype=self.dtype,
                                              chunks=(max(1, min(chunk_rows, rows)), shape[1]))
        else:
            self._target = self.tmp / "out.csv"
            self._f = open(self._target, "w", newline="")
            self._w = csv.writer(self._f)
            self._w.writerow(self.names)
            self._next = 0
            self._pending = {}

    def write(self, start: int, y: np.ndarray) -> None:
        if self.kind == "npy":
            self._mm[start:start + len(y)] = y
        elif self.kind == "zarr":
            self._z[start:start + len(y)] = y
        else:  # CSV is sequential: hold chunks that arrive early until their turn
            self._pending[start] = y
            while self._next in self._pending:
                block = self._pending.pop(self._next)
                self._w.writerows(block.tolist())
                self._next += len(block)

    def commit(self) -> str:
        if self.kind == "npy":
            self._mm.flush()
            del self._mm
        elif self.kind == "csv":
            if self._pending or self._next != self.rows:
                raise NNGraphError(f"{self.path}: {self.rows - self._next:,} rows were never written")
            self._f.close()
        _replace(self._target, self.path)
        shutil.rmtree(self.tmp, ignore_errors=True)
        from .writes import record

        record(self.path)
        return str(self.path)

    def abort(self) -> None:
        if self.kind == "npy":
            self.__dict__.pop("_mm", None)
        elif self.kind == "csv":
            self._f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _replace(src: Path, dst: Path) -> None:
    """Rename ``src`` onto ``dst``; an existing folder (zarr) is moved aside first, then removed."""
    if dst.is_dir() and not dst.is_symlink():
        aside = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, aside)
        os.replace(src, dst)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(src, dst)


# -- scoring in this process -------------------------------------------------------------------------


def chunk_rows_for(width: int, chunk_rows: int | None = None) -> int:
    """Rows per chunk: given, or about ``DEFAULT_CHUNK_BYTES`` of float64 inputs."""
    if chunk_rows is not None:
        if chunk_rows < 1:
            raise DataError(f"chunk size must be at least 1 row, not {chunk_rows}")
        return int(chunk_rows)
    return max(1, DEFAULT_CHUNK_BYTES // (8 * max(1, width)))


def ranges(rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    return [(a, min(a + chunk_rows, rows)) for a in range(0, rows, chunk_rows)]


def score_to(plan, source: InputSource, output, *, chunk_rows: int | None = None, progress=None, chunks=None) -> dict:
    """Run every row of ``source`` through ``plan`` chunk by chunk into ``output`` (.npy/.csv/.zarr).

    Memory is bounded by the chunk (inputs and outputs of ``chunk_rows`` rows), not by the data.
    ``progress(rows_done, rows_total)`` is called after each chunk. ``chunks``, an iterable of
    ``(first_row, outputs)`` in any order, replaces the computation here (a cluster's results).
    Returns a summary (rows, seconds, rows_per_s, output).
    """
    chunk_rows = chunk_rows_for(source.width, chunk_rows)
    if chunks is None:
        chunks = ((a, plan.forward(source.read(a, b))) for a, b in ranges(source.rows, chunk_rows))
    sink = OutputSink(output, source.rows, plan.output_names(), plan.dtype, chunk_rows)
    t0, done = time.perf_counter(), 0
    try:
        for a, y in chunks:
            sink.write(a, y)
            done += len(y)
            if progress is not None:
                progress(done, source.rows)
        path = sink.commit()
    except BaseException:
        sink.abort()
        raise
    seconds = time.perf_counter() - t0
    return {"rows": source.rows, "seconds": seconds, "rows_per_s": source.rows / seconds if seconds else 0.0,
            "output": path}


def wants_streaming(inputs, output) -> bool:
    """``nngraph run`` streams for folders, globs, zarr arrays, zarr outputs and large ``.npy`` files;
    smaller files are read into memory as before (they may be 1-D, or CSV with named columns)."""
    p = Path(str(inputs))
    if any(c in str(inputs) for c in "*?[") and not p.exists():
        return True
    if p.is_dir() or is_zarr(p) or (output is not None and str(output).lower().endswith(".zarr")):
        return True
    return p.suffix.lower() == ".npy" and p.is_file() and p.stat().st_size > STREAM_ABOVE_BYTES


__all__ = ["InputSource", "Shard", "OutputSink", "open_inputs", "score_to", "wants_streaming", "chunk_rows_for",
           "ranges", "STREAM_ABOVE_BYTES"]
