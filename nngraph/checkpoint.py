"""Training checkpoints: the whole state of a run at the end of an epoch, so it can resume exactly.

A checkpoint is an ``.npz`` (no pickle) holding the trainable arrays as they are in the plan,
the optimizer's slots, the best-on-validation arrays (early stopping), and one JSON document with
the epoch, the random generator's state, the optimizer's step count, the schedule's state, the
history so far, and a fingerprint of the spec. Each is written to a temporary file and renamed
into place, so a run killed at any moment leaves only whole checkpoints; the ``keep`` most recent
are kept. Resuming from one, with the same spec and seed, gives bit for bit the parameters an
uninterrupted run would have.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import TrainingError
from .writes import atomic_write

PATTERN = "epoch-*.npz"
META_BYTES = 8 << 20  # a checkpoint's JSON record: the history's rows (about 200 bytes an epoch) and a few numbers


def directory(graph) -> Path:
    """Where a spec's checkpoints go: ``train.checkpoint.directory`` or ``<name>.checkpoints``."""
    from .spec.files import UnsafePath, resolve_inside

    cfg = graph.spec.train.checkpoint
    name = (cfg.directory if cfg is not None and cfg.directory else None) or f"{graph.spec.name}.checkpoints"
    try:
        return resolve_inside(graph.spec.base_dir, name)
    except UnsafePath as exc:
        raise TrainingError(f"train.checkpoint.directory: {exc}") from None


def fingerprint(spec, dtype, connections=()) -> str:
    """What must not change between a checkpoint and its resumption: the spec (less the number of
    epochs and the checkpoint settings), the dtype, and the connections read from edge files
    (``connections``: the graph's; the spec names such a file, it does not hold its rows)."""
    doc = spec.model_dump(mode="json", by_alias=True)
    doc["train"].pop("epochs", None)
    doc["train"].pop("checkpoint", None)
    doc.pop("parameters", None)
    text = json.dumps([doc, str(np.dtype(dtype))], sort_keys=True)
    h = hashlib.sha256(text.encode())
    for c in connections:
        if not c.path or c.path[0] != "edge_file":
            continue
        h.update(f"|{c.key}|{c.src}:{c.src_lo}:{c.src_hi}|{c.dst}:{c.dst_lo}:{c.dst_hi}|".encode())
        for a in (c.rows, c.cols, c.values):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def owner(spec) -> str | None:
    """The spec file a run's checkpoints belong to (its real path), or None for a spec not read from a file."""
    import os

    src = spec.source
    if src is None or src.name in ("<string>", ""):
        return None
    return os.path.realpath(src.name)


def _ours(meta: dict, spec_file) -> bool:
    # a record without the key predates it, a spec not read from a file cannot say: as before
    return spec_file is None or "spec" not in meta or meta["spec"] == spec_file


def save(folder: Path, epoch: int, arrays: dict, meta: dict, keep: int) -> Path:
    """Write ``epoch-NNNNNN.npz`` atomically into ``folder``; then delete the checkpoints of earlier
    runs of the same spec file (``meta["spec"]``; another ``meta["run"]``: a new run supersedes
    them) and all but the ``keep`` newest of this run. Files of another spec, or that cannot be
    read, are left alone."""
    folder.mkdir(exist_ok=True)  # the folder itself, never the ones above it (checked before training)
    target = folder / f"epoch-{epoch:06d}.npz"
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    atomic_write(target, lambda f: np.savez(f, __meta__=blob, **arrays))
    ours = []
    for path in sorted(folder.glob(PATTERN)):
        if path == target:
            ours.append(path)
            continue
        other = peek(path, max(META_BYTES, 2 * blob.size))
        if other is None or not _ours(other, meta["spec"]):
            continue
        if other.get("run") != meta["run"]:
            path.unlink(missing_ok=True)
        else:
            ours.append(path)
    for old in ours[:-keep]:
        old.unlink(missing_ok=True)
    return target


def latest(folder: Path) -> Path | None:
    found = sorted(folder.glob(PATTERN)) if folder.is_dir() else []
    return found[-1] if found else None


def newest_of(folder: Path, spec_file, max_bytes: int = META_BYTES) -> tuple[Path | None, dict | None]:
    """The newest checkpoint in ``folder`` written by a run of ``spec_file`` and its record, or
    (None, None). Checkpoints of other spec files (two specs of the same name share a folder by
    default) are passed over; an unreadable one is refused, named."""
    for path in sorted(folder.glob(PATTERN), reverse=True) if folder.is_dir() else []:
        try:
            meta = read_meta(path, max_bytes)
        except TrainingError as exc:
            raise TrainingError(f"{exc}; delete it to resume from an older one") from None
        if not isinstance(meta, dict):
            raise TrainingError(f"{path}: not a readable checkpoint (its record is not a JSON object); delete it "
                                "to resume from an older one")
        if _ours(meta, spec_file):
            return path, meta
    return None, None


def foreign(folder: Path, spec_file, max_bytes: int = META_BYTES) -> list:
    """``(checkpoint, spec file)`` of the checkpoints in ``folder`` written by runs of another spec file."""
    found = []
    for path in sorted(folder.glob(PATTERN)) if folder.is_dir() else []:
        meta = peek(path, max_bytes)
        if meta is not None and not _ours(meta, spec_file):
            found.append((path, meta["spec"]))
    return found


def peek(path: Path, max_bytes: int = META_BYTES) -> dict | None:
    """A checkpoint's JSON record, or None where it cannot be read (damaged, too large)."""
    try:
        meta = read_meta(path, max_bytes)
    except TrainingError:
        return None
    return meta if isinstance(meta, dict) else None




def meta_bytes(epochs: int) -> int:
    """The largest record read from a checkpoint of a run of ``epochs`` epochs."""
    return META_BYTES + 1024 * max(0, int(epochs))


def read_meta(path: Path, max_bytes: int = META_BYTES):
    """A checkpoint's JSON record alone, refused before it is read when it declares more than
    ``max_bytes``."""
    import io

    def damaged(why):
        return TrainingError(f"{path}: not a readable checkpoint ({why})")

    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("__meta__.npy")
            if info.file_size > max_bytes + 4096:
                raise damaged(f"'__meta__': its record declares {info.file_size:,} bytes, more than the "
                              f"{max_bytes:,} a checkpoint's record may take")
            with zf.open(info) as fp:
                blob = np.load(io.BytesIO(fp.read(max_bytes + 4097)), allow_pickle=False)
        return json.loads(blob.tobytes().decode())
    except TrainingError:
        raise
    except (OSError, ValueError, KeyError, EOFError, RuntimeError, zlib.error, zipfile.BadZipFile) as exc:
        raise damaged(exc) from None


def load(path: Path, expected: dict | None = None, max_meta: int = META_BYTES) -> tuple[dict, dict]:
    """The arrays and the JSON document of a checkpoint (read without pickle).

    Each member's header is checked before its data is read (a member declaring more bytes than
    ``NNGRAPH_MAX_ARRAY_BYTES`` is refused before it is inflated); ``expected`` (name -> shape)
    refuses members the run does not hold and arrays of another shape."""
    from .spec.files import ArrayFileError, read_arrays

    def damaged(why):
        return TrainingError(f"{path}: not a readable checkpoint ({why}); delete it to resume from an older one")

    try:
        if expected is not None:  # before anything is inflated: only the members this run holds, of their size
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    name = info.filename.removesuffix(".npy")
                    if name == "__meta__" and info.file_size > max_meta + 4096:
                        raise damaged(f"'__meta__': its record declares {info.file_size:,} bytes, more than the "
                                      f"{max_meta:,} a checkpoint's record may take")
                    if name != "__meta__" and name not in expected:
                        raise damaged(f"it holds '{name}', which this run has no place for")
                    if name != "__meta__" and info.file_size > 8 * int(np.prod(expected[name])) + 4096:
                        raise damaged(f"'{name}' declares {info.file_size:,} bytes, more than this run's "
                                      f"{tuple(expected[name])} array takes")
        arrays = read_arrays(path, shown=str(path))
        meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    except ArrayFileError as exc:
        raise damaged(str(exc).removeprefix(f"{path}: ")) from None
    except TrainingError:
        raise
    except (OSError, ValueError, KeyError, EOFError, RuntimeError, zlib.error, zipfile.BadZipFile) as exc:  # RuntimeError: NotImplementedError too
        raise damaged(exc) from None
    if not isinstance(meta, dict):
        raise damaged("its record is not a JSON object")
    if expected is not None:
        for name in arrays:
            if name not in expected:
                raise damaged(f"it holds '{name}', which this run has no place for")
        for name, shape in expected.items():
            if name in arrays and arrays[name].shape != tuple(shape):
                raise damaged(f"'{name}' has shape {arrays[name].shape}, this run's has {tuple(shape)}")
    return arrays, meta
