"""Scoring data larger than memory: row ranges read from disk, outputs written chunk by chunk.

An :class:`InputSource` describes where the rows are (a ``.npy`` file, shards of ``.npy``/``.npz``/
``.csv`` files in a folder or glob, or a zarr array) and reads any row range on demand, so only
paths and row numbers travel (to a Dask worker, see :mod:`nngraph.distributed`), never the data.
Each shard is read a row range at a time (:mod:`nngraph.shards`): a ``.npy`` range is mapped
for as long as its rows are in use, other files are read a range at a time; no map is kept open
and no file is read whole, so a process's resident memory stays bounded by the chunk, not by
the rows it has visited.

An :class:`OutputSink` writes a ``.npy`` (row ranges written at their offsets, synced to disk as
the file grows), ``.csv`` or zarr array under a temporary name beside the target and renames it
into place only when every row is written; a failed run leaves nothing under the target's name.
"""
from __future__ import annotations

import contextlib
import csv
import functools
import glob
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError, NNGraphError, file_error
from .shards import Shard, check_finite, close_all, inspect_shard, need_zarr, read_rows

SHARD_SUFFIXES = (".npy", ".npz", ".csv")
# A plain .npy above this size is streamed by `nngraph run --inputs`; below it is read into memory.
STREAM_ABOVE_BYTES = 256 * 1024 * 1024
DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024  # about 10,700 rows of MNIST width: see docs/scaling.md


def is_zarr(path) -> bool:
    p = Path(path)
    return p.suffix.lower() == ".zarr" or (p.is_dir() and ((p / "zarr.json").exists() or (p / ".zarray").exists()))


# -- inputs ------------------------------------------------------------------------------------------


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

    def read(self, start: int, stop: int, check: bool = True, dtype=None, populate: bool = True) -> np.ndarray:
        """Rows ``start:stop`` as floats (floats as stored, integers as ``dtype``, default float64),
        each checked finite (errors name shard and row) unless ``check`` is false: then :meth:`check`
        (or :meth:`ready`) must see them before they are used. ``populate``: see
        :func:`nngraph.shards.read_rows`."""
        parts = []
        for shard, first in zip(self.shards, self.starts):
            a, b = max(start, first), min(stop, first + shard.rows)
            if a < b:
                parts.append(read_rows(shard, a - first, b - first, check=False, dtype=dtype, populate=populate))
        x = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty((0, self.width))
        if check:
            self.check(x, start)
        return x

    def ready(self, x: np.ndarray, start: int, dtype=None, blas: bool = True) -> np.ndarray:
        """Rows ``x`` read unchecked from row ``start``, checked finite (as :meth:`check`) and as
        ``dtype`` (C-ordered; ``x`` itself when it already is). One pass for the check, over the
        converted rows: only when it finds something off are the stored values looked at, so a
        float64 value too large for float32 is not refused (``Plan.forward`` would take it too)."""
        y = x if dtype is None or (x.dtype == dtype and x.flags.c_contiguous) else np.ascontiguousarray(x, dtype)
        if self.floats:
            try:
                self.check(y, start, blas)
            except DataError:
                if y is x:
                    raise
                self.check(x, start, blas=False)
        return y

    @functools.cached_property
    def mapped(self) -> bool:
        """Whether every shard's rows are mapped from the file (``.npy``, uncompressed ``.npz``):
        reading a range then costs a map, not a read."""
        return all(s.offset for s in self.shards)

    @functools.cached_property
    def floats(self) -> bool:
        """Whether any shard stores floats (integers need no finite check)."""
        return any(np.dtype(s.dtype).kind == "f" for s in self.shards)

    def check(self, x: np.ndarray, start: int, blas: bool = True) -> None:
        """Refuse rows ``x`` (read from row ``start``) holding a NaN or an infinity, naming shard and row;
        ``blas=False``: without BLAS (see :func:`nngraph.shards.check_finite`)."""
        try:
            check_finite(x, self.name, start, blas)
        except DataError:  # locate the row in its shard
            for shard, first in zip(self.shards, self.starts):
                a, b = max(start, first), min(start + len(x), first + shard.rows)
                if a < b:
                    check_finite(x[a - start:b - start], shard.path, a - first, blas=False)
            raise


def open_inputs(where, width: int, plan=None) -> InputSource:
    """An :class:`InputSource` for a ``.npy``, ``.npz`` or ``.csv`` file, a zarr array, a folder or a
    glob of shards.

    Every shard's header (or, for CSV, its row count and columns) is checked now: a number dtype,
    ``width`` values per row. Values are checked as rows are read. With ``plan``, a CSV whose first
    row names its columns has them matched to the plan's inputs by name (node name, ``name[i]`` or
    label; any order, other columns ignored), as ``nngraph run`` does for a file read whole.

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
    match = None
    if plan is not None:
        from .io import HeaderMatch

        match = HeaderMatch(plan)
    shards = tuple(inspect_shard(q, kind or q.suffix.lower().lstrip("."), width, match) for q in paths)
    starts = tuple(int(v) for v in np.cumsum([0] + [s.rows for s in shards])[:-1])
    if not sum(s.rows for s in shards):  # as the whole-file reader: nothing to score is a mistake
        raise DataError(f"{where}: holds no rows; give at least one row of {width} values")
    return InputSource(shards, width, starts)


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
            try:
                self._npy = _NpyWriter(self._target, self.dtype, shape)
            except OSError as exc:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise file_error(exc, self.path, "write") from None
        elif self.kind == "zarr":
            self._target = self.tmp / "out.zarr"
            self._z = need_zarr().open_array(str(self._target), mode="w", shape=shape, dtype=self.dtype,
                                              chunks=(max(1, min(chunk_rows, rows)), shape[1]))
        else:
            self._target = self.tmp / "out.csv"
            self._f = open(self._target, "w", newline="")
            self._w = csv.writer(self._f)
            self._w.writerow(self.names)
            self._next = 0
            self._pending = {}

    def write(self, start: int, y: np.ndarray) -> None:
        try:
            if self.kind == "npy":
                self._npy.write(start, y)
            elif self.kind == "zarr":
                self._z[start:start + len(y)] = y
            else:  # CSV is sequential: hold chunks that arrive early until their turn
                self._pending[start] = y
                while self._next in self._pending:
                    block = self._pending.pop(self._next)
                    self._w.writerows(block.tolist())
                    self._next += len(block)
        except OSError as exc:  # a full disk, a quota: located, and abort() removes the partial output
            raise file_error(exc, self.path, "write") from None

    def commit(self) -> str:
        try:
            if self.kind == "npy":
                self._npy.close(sync=True)
            elif self.kind == "csv":
                if self._pending or self._next != self.rows:
                    raise NNGraphError(f"{self.path}: {self.rows - self._next:,} rows were never written")
                self._f.close()
        except OSError as exc:
            raise file_error(exc, self.path, "write") from None
        _replace(self._target, self.path)
        shutil.rmtree(self.tmp, ignore_errors=True)
        from .writes import record

        record(self.path)
        return str(self.path)

    def abort(self) -> None:
        try:
            if self.kind == "npy" and "_npy" in self.__dict__:
                self._npy.close(sync=False)
            elif self.kind == "csv":
                self._f.close()  # flushing what is buffered can fail again on a full disk: it is removed anyway
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


class _NpyWriter:
    """A ``.npy`` file written by row range with ``os.pwrite`` (no mapping: no page fault per page
    written, and a full disk is an ``OSError``, not a crash), flushed to disk as it grows.

    Dirty pages of the file are otherwise written only when :meth:`close` syncs it, so the end of
    a run waited for all of them (40 MB for a million rows of 10 float32 outputs: 0.1-0.3 s, 3-7% of
    the run at 2 threads). A thread started here syncs what has been written so far whenever a
    write lands and it is not already syncing; it waits on the disk, not on a core (``fdatasync``
    releases the GIL), and the last sync then has about one chunk left to write."""

    def __init__(self, path: Path, dtype, shape):
        import threading

        # the header and the file's full length written as numpy writes them
        mm = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
        self.offset, self.row_bytes, self.dtype = mm.offset, int(np.prod(shape[1:])) * mm.itemsize, mm.dtype
        del mm
        self.fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        self._wake, self._stop, self._error = threading.Event(), False, None
        self._thread = threading.Thread(target=self._sync_while_writing, name="nngraph-sync", daemon=True)
        self._thread.start()

    def write(self, start: int, y: np.ndarray) -> None:
        data = memoryview(np.ascontiguousarray(y, dtype=self.dtype)).cast("B")
        at, done = self.offset + start * self.row_bytes, 0
        while done < len(data):  # a write may take less than asked (a signal, a large write)
            if _pwrite is not None:
                done += _pwrite(self.fd, data[done:], at + done)
            else:  # no pwrite (Windows): one writing thread, so seek then write
                os.lseek(self.fd, at + done, os.SEEK_SET)
                done += os.write(self.fd, data[done:])
        self._wake.set()

    def _sync_while_writing(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            try:
                _datasync(self.fd)
            except OSError as exc:  # reported by close(sync=True)
                self._error = exc
                return

    def close(self, sync: bool) -> None:
        """Stop the syncing thread, then (``sync``) write everything to disk before the rename."""
        if self.fd is None:
            return
        self._stop = True
        self._wake.set()
        self._thread.join()
        try:
            if sync:
                if self._error is not None:
                    raise self._error
                os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None


_pwrite = getattr(os, "pwrite", None)
_datasync = getattr(os, "fdatasync", os.fsync)


def _replace(src: Path, dst: Path) -> None:
    """Rename ``src`` onto ``dst``. An existing folder (a zarr array) is exchanged with ``src`` in one
    atomic step where the system can (Linux ``renameat2``), then removed from ``src``'s place; elsewhere
    it is moved aside first, then removed."""
    if dst.is_dir() and not dst.is_symlink():
        if _exchange(src, dst):
            shutil.rmtree(src, ignore_errors=True)
            return
        aside = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, aside)
        os.replace(src, dst)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(src, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (``renameat2(RENAME_EXCHANGE)``); False where that is not available."""
    try:
        import ctypes

        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


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


def score_to(plan, source: InputSource, output, *, chunk_rows: int | None = None, progress=None, chunks=None,
             threads: int | None = None) -> dict:
    """Run every row of ``source`` through ``plan`` chunk by chunk into ``output`` (.npy/.csv/.zarr).

    Memory is bounded by the chunk (inputs and outputs of ``chunk_rows`` rows, two input chunks
    while the next is read ahead), not by the data. ``progress(rows_done, rows_total)`` is called
    after each chunk. ``threads`` limits the BLAS threads (default: as they are). ``chunks``, an
    iterable of ``(first_row, outputs)`` in any order, replaces the computation here (a cluster's
    results). Returns a summary (rows, seconds, rows_per_s, output).
    """
    chunk_rows = chunk_rows_for(source.width, chunk_rows)
    sink = OutputSink(output, source.rows, plan.output_names(), plan.dtype, chunk_rows)
    t0, done = time.perf_counter(), 0
    try:
        with blas_threads(threads):
            if chunks is None:
                chunks = ((a, plan.forward(x)) for a, x in read_ahead(source, ranges(source.rows, chunk_rows),
                                                                     dtype=plan.dtype))
            for a, y in chunks:
                sink.write(a, y)
                done += len(y)
                if progress is not None:
                    progress(done, source.rows)
        path = sink.commit()
    except BaseException:
        sink.abort()
        raise
    finally:
        close_all()
    seconds = time.perf_counter() - t0
    return {"rows": source.rows, "seconds": seconds, "rows_per_s": source.rows / seconds if seconds else 0.0,
            "output": path}


def read_ahead(source: InputSource, spans, threads: int | None = None, dtype=None):
    """``(first_row, rows)`` for each ``(a, b)`` of ``spans``, checked finite and (``dtype``) converted
    to the dtype the caller computes in; the next span is read in a thread while the caller works
    on this one (file reads and BLAS both release the GIL).

    ``threads``: the BLAS threads the caller computes with (None: as many as BLAS uses now). With
    a core to spare beside them, the reading thread also maps the pages, checks and converts the
    rows (hidden behind the caller's products). Without one, the caller checks and converts,
    through BLAS on its own threads, and rows mapped from a file are mapped by the caller too,
    their pages faulted in by that check: work in a reading thread would take a core from a BLAS
    thread, whose partner then spins at their next meeting point (MNIST rows streamed with 2
    BLAS threads on 2 cores spent 13% more CPU than the same products on rows in memory, 4% with
    1), and a check on one thread between two products held both cores' products back by its
    whole length. Other files (compressed, CSV, zarr) are still read ahead: reading them costs
    more than the products."""
    spare = len(spans) > 1 and (threads or current_blas_threads()) < _cores()
    if len(spans) < 2 or (not spare and source.mapped):
        for a, b in spans:
            yield a, source.ready(source.read(a, b, check=False, dtype=dtype, populate=False), a, dtype)
        return
    from concurrent.futures import ThreadPoolExecutor

    def read(a, b):
        x = source.read(a, b, check=False, dtype=dtype)
        return source.ready(x, a, dtype, blas=False) if spare else x  # BLAS belongs to the caller's thread

    with ThreadPoolExecutor(1, thread_name_prefix="nngraph-read") as pool:
        pending = pool.submit(read, *spans[0])
        for i, (a, _) in enumerate(spans):
            x = pending.result()
            if i + 1 < len(spans):
                pending = pool.submit(read, *spans[i + 1])
            if not spare:
                x = source.ready(x, a, dtype)
            yield a, x


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextlib.contextmanager
def blas_threads(threads: int | None):
    """Limit the BLAS threads to ``threads`` while inside (None: leave them as they are). The
    number matters beyond speed: OpenBLAS and MKL split products differently by thread count, so
    the last bit of a result can change with it."""
    if threads is None:
        yield
        return
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1:
        raise NNGraphError(f"threads must be a whole number of at least 1, not {threads!r}")
    threads = int(threads)
    with _controller().limit(limits=threads, user_api="blas"):
        yield


_CONTROLLER = {}  # modules imported when it was made -> the controller


def _controller():
    """A threadpoolctl controller for this process, found again after an import (finding the
    libraries costs ~0.5 ms; limiting with a found controller ~20 µs, so a worker can limit every
    task): a BLAS loaded later (scipy's own OpenBLAS, say) would otherwise keep its threads."""
    import sys

    ctl = _CONTROLLER.get(len(sys.modules))
    if ctl is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            raise NNGraphError('limiting BLAS threads needs threadpoolctl: pip install "nngraph[distributed]"') from None
        _CONTROLLER.clear()
        ctl = _CONTROLLER[len(sys.modules)] = ThreadpoolController()
    return ctl


def current_blas_threads() -> int:
    """The BLAS threads this process uses now (1 without threadpoolctl or a BLAS it knows)."""
    try:
        blas = _controller().select(user_api="blas").info()
    except NNGraphError:
        return 1
    return max((i["num_threads"] for i in blas), default=1)


def wants_streaming(inputs, output) -> bool:
    """``nngraph run`` streams for folders, globs, zarr arrays, zarr outputs and large ``.npy``, ``.npz``
    and ``.csv`` files (an ``.npz`` by the size of its arrays once decompressed); smaller files are
    read into memory as before (they may be 1-D, for instance)."""
    p = Path(str(inputs))
    if any(c in str(inputs) for c in "*?[") and not p.exists():
        return True
    if p.is_dir() or is_zarr(p) or (output is not None and str(output).lower().endswith(".zarr")):
        return True
    suffix = p.suffix.lower()
    if suffix not in SHARD_SUFFIXES or not p.is_file():
        return False
    size = p.stat().st_size
    if suffix == ".npz":
        import zipfile

        try:
            with zipfile.ZipFile(p) as z:
                size = max([size] + [i.file_size for i in z.infolist()])
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):  # NotImplementedError: a zip feature zipfile lacks
            return False  # the whole-file reader says what is wrong with it
    return size > STREAM_ABOVE_BYTES


__all__ = ["InputSource", "Shard", "OutputSink", "open_inputs", "score_to", "wants_streaming", "chunk_rows_for",
           "ranges", "read_ahead", "blas_threads", "current_blas_threads", "STREAM_ABOVE_BYTES"]
