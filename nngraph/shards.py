"""Reading rows from one shard file (``.npy``, ``.npz``, ``.csv``, zarr) in bounded pieces.

A :class:`Shard` holds only a path and what its header said; :func:`read_rows` reads any row
range, holding no more than that range in memory:

- ``.npy`` and uncompressed ``.npz`` members (``np.savez``): the range memory-mapped at its offset
  (no copy; unmapped when the rows are dropped);
- compressed ``.npz`` members (``np.savez_compressed``): decompressed through the zip member's
  file object, the rows before the range skipped in 1 MiB pieces;
- ``.csv``: lines read a range at a time, parsed by ``np.loadtxt`` (a bad line is then located
  by a slow second look at that range only);
- zarr: the array's own chunked reads.

Reading ranges in order (as a stream does) continues from where the last range ended: the open
member or file is kept (a few per process) instead of skipping from the start every time.
"""
from __future__ import annotations

import csv
import mmap
import os
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, NNGraphError
from .spec.files import npy_header

PIECE = 1 << 16  # bytes decompressed at a time from a zip member (zipfile copies what it returns)
KEEP_OPEN = 4  # open members/files kept per process for the next range


def need_zarr():
    try:
        import zarr
    except ImportError:
        raise NNGraphError('zarr arrays need the zarr package: pip install "nngraph[distributed]"') from None
    return zarr


@dataclass(frozen=True)
class Shard:
    """One file of rows: ``rows`` rows of ``width`` numbers. ``offset``: where the rows start in the
    file (``.npy`` and uncompressed ``.npz``; 0 for a compressed member)."""

    path: str
    kind: str  # npy | npz | csv | zarr
    rows: int
    width: int
    dtype: str = "float64"
    offset: int = 0
    member: str = ""  # npz: the array's name; csv: "header" when the first row names the columns
    columns: tuple = ()  # csv with a header matched by name: the file's column of each input
    cells: int = 0  # csv with such a header: values per line in the file (0: ``width``)


def inspect_shard(path: Path, kind: str, width: int, match=None) -> Shard:
    """A :class:`Shard` for ``path`` after checking its header: numbers, ``width`` values per row,
    every declared byte present. ``match(path, names)``: the column of each input in a CSV whose
    first row names its columns. Raises a :class:`DataError` naming the file."""
    name = str(path)
    offset, member = 0, ""
    if kind == "npy":
        shape, dtype, offset = _npy_header(path)
    elif kind == "npz":
        shape, dtype, member, offset = _npz_header(path)
    elif kind == "csv":
        return _csv_shard(path, width, match)
    elif kind == "zarr":
        try:
            arr = need_zarr().open_array(str(path), mode="r")
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
    return Shard(name, kind, int(shape[0]), width, dtype.str, offset, member)


def read_rows(shard: Shard, a: int, b: int, check: bool = True, dtype=None, populate: bool = True) -> np.ndarray:
    """Rows ``a:b`` of ``shard`` (floats as stored, integers as ``dtype``, default float64: converted
    once, as ``Plan.forward`` converts them), checked finite unless ``check`` is false (then
    :func:`check_finite` must see them before they are used). ``populate=False``: rows mapped from
    the file are faulted in by their first reader, not now."""
    if shard.offset:
        x = _read_at(shard, a, b, populate)
    elif shard.kind == "npz":
        x = _read_member(shard, a, b)
    elif shard.kind == "zarr":
        x = np.asarray(need_zarr().open_array(shard.path, mode="r")[a:b]).reshape(b - a, shard.width)
    else:
        x = _read_csv(shard, a, b)
    if x.dtype.kind != "f":  # floats stay as stored (the plan converts once); integers become floats
        x = x.astype(dtype or np.float64)
    elif check:
        check_finite(x, shard.path, a)
    return x


def check_finite(x: np.ndarray, where: str, first_row: int, blas: bool = True) -> None:
    """Refuse a non-finite value in the float rows ``x`` (row ``first_row`` of ``where`` first), naming
    the first bad row. One pass over the rows: a product with a vector of ones through BLAS (a
    NaN or infinity in a row makes its sum NaN or infinite; BLAS runs it on the threads it is
    allowed, and it is the cheaper pass even on one: 4.5 vs 5.3 ms for 16,384 MNIST rows), or
    numpy's sum with ``blas=False`` (for a thread that runs beside another thread's BLAS call:
    OpenBLAS's threads are shared by the process). Rows are located only when the pass finds
    something off (a large but finite sum can overflow)."""
    if x.dtype.kind != "f" or not x.size:
        return
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite sum is what is looked for, not news
        if blas and x.ndim == 2 and x.dtype in (np.float32, np.float64) and x.flags.c_contiguous:
            ok = np.isfinite(x @ np.ones(x.shape[1], x.dtype)).all()
        else:
            ok = np.isfinite(np.add.reduce(x, axis=None))
    if not ok:
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            raise DataError(f"{where}: row {int(np.flatnonzero(bad)[0]) + first_row + 1}: inputs must be finite numbers")


# -- .npy and .npz headers -----------------------------------------------------------------------------


def _check_array(path, shape, fortran, dtype):
    if dtype.hasobject:
        raise DataError(f"{path}: holds Python objects; only numeric arrays are read")
    if fortran and len(shape) > 1:
        raise DataError(f"{path}: Fortran-ordered array; save it C-ordered (np.save(np.ascontiguousarray(x)))")
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def _npy_header(path: Path):
    """Shape, dtype and data offset from the header; the file must hold every byte it declares."""
    try:
        with open(path, "rb") as f:
            shape, fortran, dtype = npy_header(f)
            offset = f.tell()
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from None
    need = offset + _check_array(path, shape, fortran, dtype)
    have = path.stat().st_size
    if have < need:
        raise DataError(f"{path}: truncated: the header declares shape {shape} ({need:,} bytes), the file has {have:,}")
    return shape, dtype, offset


def _npz_header(path: Path):
    """Shape, dtype, member name, and for an uncompressed member the file offset of its rows."""
    try:
        with zipfile.ZipFile(path) as z:
            seen = set()
            for entry in z.infolist():  # as the whole-file reader: arrays only, each once
                name = entry.filename[:-4] if entry.filename.endswith(".npy") else entry.filename
                if name in seen:
                    raise DataError(f"{path}: holds array '{name}' twice")
                seen.add(name)
                if entry.is_dir() or not entry.filename.endswith(".npy"):
                    raise DataError(f"{path}: holds {entry.filename!r}, which is not an .npy array; an .npz of "
                                    "inputs holds arrays only")
            member = input_member([n[:-4] for n in z.namelist() if n.endswith(".npy")], path)
            info = z.getinfo(member + ".npy")
            with z.open(info) as f:
                shape, fortran, dtype = npy_header(f)
                header = f.tell()
            offset = _stored_offset(path, info, header)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, RuntimeError, NotImplementedError,
            zlib.error, struct.error) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    need = header + _check_array(path, shape, fortran, dtype)
    end = offset - header + need if offset else 0
    size = path.stat().st_size
    if info.file_size < need or end > size:
        held = f"it holds {info.file_size:,}" if info.file_size < need else \
            f"the file ends before them ({size:,} bytes in all)"
        raise DataError(f"{path}: truncated: member '{member}' declares shape {shape} ({need:,} bytes), {held}")
    return shape, dtype, member, offset


def _stored_offset(path: Path, info: zipfile.ZipInfo, header: int) -> int:
    """Where an uncompressed, unencrypted member's rows start in the zip file (0: read through zipfile)."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
        return 0
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_len + extra_len + header


# -- reading ranges ------------------------------------------------------------------------------------


def _read_at(shard: Shard, a: int, b: int, populate: bool = True) -> np.ndarray:
    """Rows ``a:b`` mapped from the file, read-only: no copy (the pages come from the system's file
    cache, as an array held in memory would), and unmapped when the array is dropped, so resident
    memory follows the rows in use, not the rows visited. ``populate``: the pages mapped now (a
    thread reading ahead takes that work off the computing thread), else at first touch."""
    dtype = np.dtype(shard.dtype)
    start = shard.offset + a * shard.width * dtype.itemsize
    count = (b - a) * shard.width
    if count == 0:
        return np.empty((0, shard.width), dtype=dtype)
    base = start // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY
    length = start - base + count * dtype.itemsize
    with open(shard.path, "rb") as f:
        if os.fstat(f.fileno()).st_size < base + length:  # a map past the end would crash on access
            raise DataError(f"{shard.path}: rows {a + 1}-{b}: the file ended early (was it changed while reading?)")
        if hasattr(mmap, "PROT_READ"):
            flags = mmap.MAP_SHARED | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
            m = mmap.mmap(f.fileno(), length, flags=flags, prot=mmap.PROT_READ, offset=base)
        else:
            m = mmap.mmap(f.fileno(), length, access=mmap.ACCESS_READ, offset=base)
    return np.frombuffer(m, dtype=dtype, count=count, offset=start - base).reshape(b - a, shard.width)


_OPEN: dict = {}  # (path, member) -> _Cursor positioned at its next row; one user at a time
_OPEN_LOCK = threading.Lock()


class _Cursor:
    def __init__(self, files, f, row: int, line: int = 0):
        self.files, self.f, self.row, self.line = files, f, row, line

    def close(self):
        for g in self.files:
            g.close()


def _take(shard: Shard, a: int):
    """The open cursor of ``shard`` if it stands at row ``a`` (it is removed while in use), else None."""
    with _OPEN_LOCK:
        cur = _OPEN.get((shard.path, shard.member))
        if cur is not None and cur.row == a:
            return _OPEN.pop((shard.path, shard.member))
    return None


def _keep(shard: Shard, cur: _Cursor) -> None:
    with _OPEN_LOCK:
        old = _OPEN.pop((shard.path, shard.member), None)
        _OPEN[(shard.path, shard.member)] = cur
        while len(_OPEN) > KEEP_OPEN:
            _OPEN.pop(next(iter(_OPEN))).close()
    if old is not None:
        old.close()


def close_all() -> None:
    """Close the files kept open for the next range (a stream calls it when done)."""
    with _OPEN_LOCK:
        curs = list(_OPEN.values())
        _OPEN.clear()
    for cur in curs:
        cur.close()


def _read_member(shard: Shard, a: int, b: int) -> np.ndarray:
    dtype = np.dtype(shard.dtype)
    row_bytes = shard.width * dtype.itemsize
    cur = _take(shard, a)
    try:
        if cur is None:
            z = zipfile.ZipFile(shard.path)
            f = z.open(shard.member + ".npy")
            cur = _Cursor((f, z), f, 0)
            npy_header(f)
            _fill(f, None, a * row_bytes)
            cur.row = a
        x = np.empty((b - a, shard.width), dtype=dtype)
        got = _fill(cur.f, memoryview(x).cast("B"), x.nbytes)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, zlib.error) as exc:
        if cur is not None:
            cur.close()
        raise DataError(f"{shard.path}: rows {a + 1}-{b}: cannot be read ({exc})") from None
    if got != x.nbytes:
        cur.close()
        raise DataError(f"{shard.path}: rows {a + 1}-{b}: the member ended early (was it changed while reading?)")
    cur.row = b
    _keep(shard, cur)
    return x


def _fill(f, out, n: int) -> int:
    """Read ``n`` bytes of ``f`` into ``out`` (None: skip them), ``PIECE`` at a time; bytes read."""
    got = 0
    while got < n:
        piece = f.read(min(PIECE, n - got))
        if not piece:
            break
        if out is not None:
            out[got:got + len(piece)] = piece
        got += len(piece)
    return got


# -- CSV -----------------------------------------------------------------------------------------------


def _max_line(width: int) -> int:
    """Longest line accepted: generous for ``width`` numbers, and bounded before a line is read."""
    return 4096 + 64 * width


def _open_text(path):
    """``path`` as text with universal newlines (``\\n``, ``\\r\\n`` and a bare ``\\r`` each end a line, as
    for the whole-file CSV reader); bytes that are not UTF-8 become surrogates, refused by line."""
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline=None)


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _lines(f, shard_path, width, n, line):
    """Up to ``n`` non-blank lines of ``f`` as text, with their line numbers (after ``line``)."""
    limit = _max_line(width)
    texts, numbers = [], []
    while len(texts) < n:
        raw = f.readline(limit + 1)
        if not raw:
            break
        line += 1
        if len(raw) > limit:
            raise DataError(f"{shard_path}:{line}: longer than {limit:,} characters; rows here have {width} "
                            "values")
        if raw.strip():
            texts.append(raw)
            numbers.append(line)
    return texts, numbers, line


def _cells(path, text: str, line: int) -> list:
    if _not_utf8(text):
        raise DataError(f"{path}:{line}: not UTF-8 text") from None
    if text.count('"') % 2:
        raise DataError(f"{path}:{line}: a quoted value runs on past the end of the line; a streamed CSV "
                        "has one row per line")
    try:
        return next(csv.reader([text]))
    except csv.Error as exc:
        raise DataError(f"{path}:{line}: not readable as CSV ({exc})") from None


def _csv_shard(path: Path, width: int, match=None) -> Shard:
    """Count the rows (non-blank lines after an optional header) and check the first row's width;
    every row's values are checked as it is read. A header naming the columns is matched to the
    network's inputs by ``match(path, names) -> column indices`` when given (any order, extra
    columns ignored); without ``match`` it must have the network's width and is skipped."""
    rows, header, columns, cells_per_row = 0, False, (), width
    try:
        with _open_text(path) as f:
            first, numbers, line = _lines(f, path, width, 1, 0)
            if first:
                cells = _cells(path, first[0], numbers[0])
                header = not _numeric(cells) or (match is not None and match.is_header(path, numbers[0], cells))
                if header:
                    if match is not None:
                        columns = tuple(int(k) for k in match(path, [c.strip() for c in cells]))
                        cells_per_row = len(cells)
                        if columns == tuple(range(width)) and cells_per_row == width:
                            columns = ()
                    first, numbers, line = _lines(f, path, cells_per_row, 1, line)
            if first:
                cells = _cells(path, first[0], numbers[0])
                if len(cells) != cells_per_row:
                    raise DataError(f"{path}:{numbers[0]}: {len(cells)} values; "
                                    f"{'the header has' if columns else 'the network takes'} {cells_per_row}")
                rows = 1
            limit = _max_line(cells_per_row)
            while raw := f.readline(limit + 1):
                line += 1
                if len(raw) > limit:
                    raise DataError(f"{path}:{line}: longer than {limit:,} characters; rows here have "
                                    f"{cells_per_row} values")
                rows += bool(raw.strip())
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return Shard(str(path), "csv", rows, width, "float64", 0, "header" if header else "", columns,
                 cells_per_row if columns else 0)


NOT_INPUTS = {"y", "t", "label", "labels", "target", "targets", "y_train", "y_test"}


def input_member(names, path) -> str:
    """The array of an .npz that holds inputs: ``x``, else its only array, unless that one is named
    as targets are (``y``, ``labels``...): scoring a file of labels as inputs is refused, not guessed."""
    if "x" in names:
        return "x"
    if len(names) == 1 and names[0].lower() not in NOT_INPUTS:
        return names[0]
    raise DataError(f"{path}: holds {', '.join(repr(n) for n in names) or 'no arrays'}; inputs are read from an "
                    "array named 'x' (or the file's only array, unless it is named as targets are)")


def csv_float(v: str) -> float:
    """A CSV cell as a number, as a CSV reader reads it (numpy's too): Python's float() also reads
    1_0 as 10 and '１' or '١' (digits that are not ASCII) as 1, guesses no CSV reader makes."""
    if "_" in v or not v.isascii():
        raise ValueError(v)
    return float(v)


def _numeric(row) -> bool:
    try:
        [csv_float(v) for v in row]
        return True
    except ValueError:
        return False


def _read_csv(shard: Shard, a: int, b: int) -> np.ndarray:
    cells = shard.cells or shard.width
    cur = _take(shard, a)
    try:
        if cur is None:
            f = _open_text(shard.path)
            cur = _Cursor((f,), f, 0)
            skip = a + (shard.member == "header")
            while skip:  # to row a, a bounded number of lines at a time
                texts, _, cur.line = _lines(f, shard.path, cells, min(skip, 4096), cur.line)
                if not texts:
                    break
                skip -= len(texts)
            cur.row = a
        texts, numbers, cur.line = _lines(cur.f, shard.path, cells, b - a, cur.line)
        if len(texts) != b - a:
            raise DataError(f"{shard.path}: rows {a + 1}-{b}: the file ended early (was it changed while reading?)")
        try:
            x = np.loadtxt(texts, delimiter=",", dtype=np.float64, ndmin=2, comments=None, quotechar='"')
        except ValueError:
            x = None
        if x is None or x.shape != (b - a, cells):
            _locate_csv_error(shard, texts, numbers, a)
        if shard.columns:
            x = x[:, list(shard.columns)]
        if not np.isfinite(np.add.reduce(x, axis=None)) and not np.isfinite(x).all():  # located by line
            _locate_non_finite(shard, x, texts, numbers, a)
    except BaseException:
        if cur is not None:
            cur.close()
        raise
    cur.row = b
    _keep(shard, cur)
    return x


def _locate_csv_error(shard: Shard, texts, numbers, a: int):
    cells_per_row = shard.cells or shard.width
    for i, (text, line) in enumerate(zip(texts, numbers)):
        try:
            cells = _cells(shard.path, text, line)
        except DataError as exc:
            raise DataError(str(exc).replace(f"{shard.path}:{line}:", f"{shard.path}:{line}: row {a + i + 1}:", 1)) from None
        if len(cells) != cells_per_row:
            raise DataError(f"{shard.path}:{line}: row {a + i + 1}: {len(cells)} values; "
                            f"{'the header has' if shard.columns else 'the network takes'} {cells_per_row}")
        for k, v in enumerate(cells):
            if not _numeric([v]):
                raise cell_error(shard.path, line, text, cells, a + i + 1, k, "is not a number")
    raise DataError(f"{shard.path}: rows {a + 1}-{a + len(texts)}: not readable as numbers")


def _locate_non_finite(shard: Shard, x, texts, numbers, a: int):
    """The first value that is not finite (NaN, inf, 1e999) among the columns in use, by line and column."""
    i = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
    cells = _cells(shard.path, texts[i], numbers[i])
    used = list(shard.columns) if shard.columns else range(len(cells))
    k = next(k for k in used if not np.isfinite(float(cells[k])))
    raise cell_error(shard.path, numbers[i], texts[i], cells, a + i + 1, k, NOT_FINITE)


NOT_FINITE = "is not finite; inputs must be finite numbers"


def cell_column(text, cells, k: int):
    """The 1-based character column of value ``k`` of a CSV line, as an editor counts it; None when
    the line quotes a value (its commas may then be inside a value)."""
    if text is None or '"' in text:
        return None
    parts = text.rstrip("\r\n").split(",")
    if len(parts) != len(cells) or k >= len(parts):
        return None
    return sum(len(p) + 1 for p in parts[:k]) + len(parts[k]) - len(parts[k].lstrip()) + 1


def cell_error(path, line: int, text, cells, row: int, k: int, why: str) -> DataError:
    """``f.csv:4:3: row 2, column 2: 'nan' is not finite; ...``: a bad value located as an editor
    shows it (line and character column) and as the data counts it (row after any header, column)."""
    col = cell_column(text, cells, k)
    return DataError(f"{path}:{line}{f':{col}' if col else ''}: row {row}, column {k + 1}: "
                     f"{cells[k].strip()[:40]!r} {why}")
