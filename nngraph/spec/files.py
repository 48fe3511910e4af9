"""Resolve files a spec names, and refuse any that would escape the spec's folder."""
from __future__ import annotations

import csv
import errno
import io
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np


class UnsafePath(ValueError):
    """Why a referenced path was refused."""


def resolve_inside(base_dir, name: str, kind: str = "file") -> Path:
    """Resolve ``name`` relative to ``base_dir`` and require the result to stay inside it.

    Refuses absolute paths, ``..`` escapes, symlinks that lead out, and anything that is not a
    regular file (devices, FIFOs, folders). A spec loaded from text has the current folder as
    its ``base_dir``. ``kind``: what the name is for, as messages call it ("file", "folder").

    Raises
    ------
    UnsafePath
        With a message that says what was found and what to write instead.
    """
    base = Path(base_dir if base_dir is not None else os.getcwd()).resolve()
    if not name or "\x00" in name:
        raise UnsafePath("an empty file name" if not name else f"{name!r} holds a NUL character; name a file")
    try:
        os.fsencode(name)
    except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800"): no file can have this name
        raise UnsafePath(f"{name!r} is not a file name this system can hold (a lone surrogate); "
                         "name a file in plain text") from None
    raw = Path(name)
    if raw.is_absolute() or name.startswith(("~", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePath(f"'{name}' is an absolute path; name a {kind} relative to the spec's folder")
    if ".." in raw.parts:
        raise UnsafePath(f"'{name}' leaves the spec's folder ('..'); keep referenced {kind}s beside the spec")
    try:
        target = (base / raw).resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop: RuntimeError before Python 3.13
        why = "a loop of symbolic links" if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP else exc
        raise UnsafePath(f"'{name}' cannot be resolved ({why})") from None
    if target != base and base not in target.parents:
        raise UnsafePath(f"'{name}' resolves to a {kind} outside the spec's folder (through a symbolic link)")
    return target


def require_regular_file(path: Path, name: str) -> Path:
    if not path.exists():
        raise UnsafePath(f"'{name}' does not exist in the spec's folder")
    if not path.is_file():
        raise UnsafePath(f"'{name}' is not a regular file")
    return path


class ArrayFileError(ValueError):
    """An .npy/.npz file is damaged, unsafe or larger than allowed; the message names the file and array."""


MAX_HEADER = 10_000


def npy_header(fp):
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fp``, read without its data.

    numpy parses the header with ``ast.literal_eval``; whatever a damaged header makes it raise
    (``SyntaxError``, ``tokenize.TokenError``, ``TypeError``...) becomes a ``ValueError`` here.
    """
    import tokenize

    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(fp, max_header_size=MAX_HEADER)
        if version in ((2, 0), (3, 0)):
            return np.lib.format.read_array_header_2_0(fp, max_header_size=MAX_HEADER)
    except (ValueError, EOFError, SyntaxError, tokenize.TokenError, TypeError, KeyError, IndexError,
            RecursionError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    raise ValueError(f"unsupported .npy version {version}")


def _checked_array(fp, shown: str, available: int, max_bytes: int, kinds: str) -> np.ndarray:
    """Read one .npy stream after checking its header: dtype kind, no objects, declared bytes bounded
    by ``max_bytes`` and by the bytes the file actually holds."""
    try:
        shape, fortran, dtype = npy_header(fp)
    except ValueError as exc:
        raise ArrayFileError(f"{shown}: not a valid .npy array ({exc})") from None
    if dtype.hasobject or dtype.kind not in kinds:
        raise ArrayFileError(f"{shown}: has dtype {dtype}; expected "
                             f"{'text' if kinds == 'U' else 'numbers'} (object and pickled arrays are refused)")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes > max_bytes:
        raise ArrayFileError(f"{shown}: declares {nbytes:,} bytes (shape {tuple(shape)}), over the limit of "
                             f"{max_bytes:,}; raise it with NNGRAPH_MAX_ARRAY_BYTES")
    if nbytes + fp.tell() > available:
        raise ArrayFileError(f"{shown}: declares {nbytes:,} bytes (shape {tuple(shape)}) but holds "
                             f"{max(0, available - fp.tell()):,}; the file is truncated or damaged")
    buf = bytearray(nbytes)
    view, got = memoryview(buf), 0
    while got < nbytes:
        n = fp.readinto(view[got:])
        if not n:
            raise ArrayFileError(f"{shown}: declares {nbytes:,} bytes (shape {tuple(shape)}) but holds {got:,}; "
                                 "the file is truncated or damaged")
        got += n
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")


@contextmanager
def _array_file_errors(path: Path, shown: str):
    """A damaged or unreadable array file as one :class:`ArrayFileError` naming it."""
    import zipfile
    import zlib

    try:
        yield
    except ArrayFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise ArrayFileError(f"{shown}: not a readable {path.suffix or 'array'} file ({exc})") from None
    except OSError as exc:
        raise ArrayFileError(f"{shown}: cannot read it ({exc.strerror or exc})") from None


def read_arrays(path: Path, shown: str | None = None, kinds: dict | None = None, max_bytes: int | None = None) -> dict:
    """Every array of an ``.npz`` (or the one array of an ``.npy``, named ``''``) as a dict, safely.

    Each member's header is read first: object/pickled dtypes, kinds other than ``kinds[name]``
    (default numbers), declared sizes over ``max_bytes`` (``Limits.max_array_bytes``) and sizes the
    file does not hold are refused before its data is read; damaged zip or deflate streams too.

    Raises
    ------
    ArrayFileError
        With the file (and array) name and what is wrong.
    """
    import zipfile

    from ..limits import default_limits

    path = Path(path)
    shown = shown or str(path)
    max_bytes = default_limits().max_array_bytes if max_bytes is None else max_bytes
    kinds = kinds or {}
    out = {}
    with _array_file_errors(path, shown):
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fp:
                out[""] = _checked_array(fp, shown, os.fstat(fp.fileno()).st_size, max_bytes, kinds.get("", "fiub"))
            return out
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if name in out:
                    raise ArrayFileError(f"{shown}: holds array '{name}' twice")
                with zf.open(info) as fp:
                    out[name] = _checked_array(fp, f"{shown}: array '{name}'", info.file_size, max_bytes,
                                               kinds.get(name, "fiub"))
    return out


def array_headers(path: Path, shown: str | None = None) -> dict:
    """``{name: (shape, dtype)}`` of every array of an ``.npz`` (``''`` for an ``.npy``), from the
    members' headers alone: what inflating them would cost is known before it is paid."""
    import zipfile

    path = Path(path)
    shown = shown or str(path)
    out = {}
    with _array_file_errors(path, shown):
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fp:
                shape, _, dtype = npy_header(fp)
            return {"": (tuple(shape), dtype)}
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                with zf.open(info) as fp:
                    try:
                        shape, _, dtype = npy_header(fp)
                    except ValueError as exc:
                        raise ArrayFileError(f"{shown}: array '{name}': not a valid .npy array ({exc})") from None
                out[name] = (tuple(shape), dtype)
    return out


def read_text(path: Path, shown: str | None = None, max_bytes: int | None = None) -> str:
    """A UTF-8 text file (a BOM is allowed), refused with the byte offset if it is not UTF-8."""
    from ..limits import default_limits

    shown = shown or str(path)
    max_bytes = default_limits().max_array_bytes if max_bytes is None else max_bytes
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise ArrayFileError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        raise ArrayFileError(f"{shown}: over {max_bytes:,} bytes; raise the limit with NNGRAPH_MAX_ARRAY_BYTES")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ArrayFileError(f"{shown}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start:,}); "
                             "save the file as UTF-8") from None


def csv_records(text: str, shown: str) -> list:
    """``(line, fields)`` for every non-blank record of CSV ``text`` (a line of only spaces is blank).

    ``line`` is the line the record starts on as an editor shows it: blank lines, quoted line
    breaks and ``\r``, ``\r\n`` or ``\n`` endings all counted. A record the csv module cannot
    read (an over-long field, a stray quote in strict dialects) is an ``ArrayFileError`` naming
    its line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    out, line = [], 1
    try:
        for row in reader:
            if row and (len(row) > 1 or row[0].strip()):
                out.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ArrayFileError(f"{shown}:{reader.line_num}: not readable as CSV ({exc})") from None
    return out


def _names(values, where) -> np.ndarray:
    """Neuron references as a text array, refusing NUL characters (numpy would drop trailing ones
    silently, so ``x[0]\0`` would quietly become ``x[0]``). ``where(k)`` names item ``k``."""
    for k, v in enumerate(values):
        if "\x00" in v:
            raise ValueError(f"{where(k)}: {v[:40]!r} holds a NUL character; neuron references are name[index]")
    return np.array(values, dtype=str) if len(values) else np.array([], dtype="<U1")


def read_edge_file(path: Path):
    """Read a neuron-level edge file: CSV (header from,to,weight) or NPZ (arrays from, to, weight).

    Returns ``from, to, weight, where``: ``where[k]`` names row ``k`` for messages (``genome.csv:7``,
    the line in the file; ``genome.npz: row 7``).
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        z = read_arrays(path, path.name, {"from": "U", "to": "U", "weight": "fiu"})
        missing = {"from", "to", "weight"} - set(z)
        if missing:
            raise ValueError(f"{path.name} lacks arrays {sorted(missing)} (needs from, to, weight)")
        frm, to, w = z["from"], z["to"], z["weight"]
        if frm.size == 0:
            raise ValueError(f"{path.name}: no connections (the arrays are empty)")
        if frm.ndim != 1 or frm.shape != to.shape or frm.shape != w.shape:
            raise ValueError(f"{path.name}: from, to and weight must be 1-d arrays of one length (found shapes "
                             f"{frm.shape}, {to.shape}, {w.shape})")
        for arr, col in ((frm, "from"), (to, "to")):
            _names(arr.tolist(), lambda k, col=col: f"{path.name}: array '{col}' row {k + 1}")
        where = [f"{path.name}: row {k + 1}" for k in range(len(frm))]
    elif path.suffix.lower() == ".csv":
        records = csv_records(read_text(path, path.name), path.name)
        if not records or [c.strip() for c in records[0][1]] != ["from", "to", "weight"]:
            raise ValueError(f"{path.name}:{records[0][0] if records else 1}: the first row must be the header "
                             "from,to,weight")
        body = records[1:]
        if not body:
            raise ValueError(f"{path.name}: no connections after the header from,to,weight")
        bad = [i for i, r in body if len(r) != 3]
        if bad:
            raise ValueError(f"{path.name}:{bad[0]}: expected 3 columns (from,to,weight)")
        where = [f"{path.name}:{line}" for line, _ in body]
        frm = _names([r[0].strip() for _, r in body], lambda k: where[k])
        to = _names([r[1].strip() for _, r in body], lambda k: where[k])
        w = np.empty(len(body))
        for k, (line, r) in enumerate(body):
            try:
                w[k] = float(r[2])
            except ValueError:
                raise ValueError(f"{path.name}:{line}: weight {r[2][:40]!r} is not a number") from None
            if not np.isfinite(w[k]):
                raise ValueError(f"{path.name}:{line}: weight {r[2][:40]!r} is not a finite number")
    else:
        raise ValueError(f"{path.name}: edge files are .csv or .npz")
    w = np.asarray(w, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(w))
    if len(bad):
        raise ValueError(f"{where[int(bad[0])]}: weights must be finite numbers")
    return frm, to, w, where
