"""Training checkpoints: the whole state of a run at the end of an epoch, so it can resume exactly.

A checkpoint is an ``.npz`` (no pickle) holding the trainable arrays as they are in the plan,
the optimizer's slots, the best-on-validation arrays (early stopping), and one JSON document with
the epoch, the random generator's state, the optimizer's step count, the schedule's state, the
name of the run's history file (see :func:`append_history`), a fingerprint of the spec and a
hash of the training data. Each is written to a temporary file and renamed
into place, so a run killed at any moment leaves only whole checkpoints; the ``keep`` most recent
are kept. Resuming from one, with the same spec and seed, gives bit for bit the parameters an
uninterrupted run would have.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import TrainingError
from .writes import atomic_write

PATTERN = "epoch-*.npz"
META_BYTES = 8 << 20  # a checkpoint's JSON record (a few kB), or one written before the history had its file


def directory(graph) -> Path:
    """Where a spec's checkpoints go: ``train.checkpoint.directory`` or ``<name>.checkpoints``."""
    from .spec.files import UnsafePath, resolve_inside

    cfg = graph.spec.train.checkpoint
    name = (cfg.directory if cfg is not None and cfg.directory else None) or f"{graph.spec.name}.checkpoints"
    try:
        return resolve_inside(graph.spec.base_dir, name, "folder")
    except UnsafePath as exc:
        raise TrainingError(f"train.checkpoint.directory: {exc}") from None


def fingerprint(spec, dtype, connections=()) -> str:
    """What must not change between a checkpoint and its resumption: the spec (less the number of
    epochs and the checkpoint settings), the dtype, and the connections read from edge files
    (``connections``: the graph's; the spec names such a file, it does not hold its rows)."""
    text = json.dumps([_covered(spec), str(np.dtype(dtype))], sort_keys=True)
    h = hashlib.sha256(text.encode())
    for c in connections:
        if not c.path or c.path[0] != "edge_file":
            continue
        h.update(f"|{c.key}|{c.src}:{c.src_lo}:{c.src_hi}|{c.dst}:{c.dst_lo}:{c.dst_hi}|".encode())
        for a in (c.rows, c.cols, c.values):
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def data_hash(*arrays) -> str:
    """What training reads of its data, as loaded (the training rows and their targets): a resumed
    run on other rows would not continue the same run. The arrays' shapes and dtypes and the CRC-32
    of their bytes, the check zip files (and so these checkpoints) make of their contents: it finds
    any accidental change, and takes one fast pass (0.06 s of CPU for Fashion-MNIST's 60,000 x 784
    float32, where blake2b took 0.3 s)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(b"crc32")
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"|{a.dtype.str}{a.shape}|".encode())
        h.update(str(zlib.crc32(memoryview(a).cast("B") if a.dtype.kind != "O" else
                                json.dumps(a.tolist()).encode())).encode())
    return h.hexdigest()


def owner(spec, folder: Path) -> str | None:
    """The spec file a run's checkpoints belong to, as a path relative to their ``folder`` (so a
    project folder moved or copied whole keeps its checkpoints, and no absolute path is written
    into them), or None for a spec not read from a file."""
    src = spec.source
    if src is None or src.name in ("<string>", ""):
        return None
    return Path(os.path.relpath(os.path.realpath(src.name), os.path.realpath(folder))).as_posix()


def _ours(meta: dict, spec_file) -> bool:
    # a record without the key predates it; a spec not read from a file (None) owns only the
    # checkpoints of specs not read from a file, never a spec file's
    return "spec" not in meta or meta["spec"] == spec_file


def shown_owner(spec_file) -> str:
    """How a checkpoint's owner reads in a message."""
    return "a spec not read from a file" if spec_file is None else str(spec_file)


def _covered(spec) -> dict:
    """The spec as the fingerprint sees it: all but the epochs, the checkpoint settings and the file name."""
    doc = spec.model_dump(mode="json", by_alias=True)
    doc["train"].pop("epochs", None)
    doc["train"].pop("checkpoint", None)
    doc.pop("parameters", None)
    return doc


_SHOWN = 120  # longer values (weights, inline rows, whole node lists) are compared by a hash of their JSON


def described(spec, dtype) -> dict:
    """What the fingerprint covers as flat keys (``train.batch_size`` -> ``32``), to name what changed
    when a checkpoint does not fit: short values as JSON text, long ones as a hash."""
    flat = {"dtype": json.dumps(str(np.dtype(dtype)))}

    def walk(prefix, value):
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
            return
        text = json.dumps(value, sort_keys=True)
        flat[prefix] = text if len(text) <= _SHOWN else "#" + hashlib.sha256(text.encode()).hexdigest()[:16]

    walk("", _covered(spec))
    return flat


def differences(then: dict, now: dict) -> list[str]:
    """``train.batch_size: 32 in the checkpoint, 16 in the spec``, one per differing key."""
    def show(v):
        return "not set" if v is None else "(a long value)" if v.startswith("#") else v

    return [f"{k}: {show(then.get(k))} in the checkpoint, {show(now.get(k))} in the spec"
            for k in sorted(set(then) | set(now)) if then.get(k) != now.get(k)]


def save(folder: Path, epoch: int, arrays: dict, meta: dict, keep: int) -> Path:
    """Write ``epoch-NNNNNN.npz`` atomically into ``folder``; then delete the checkpoints of earlier
    runs of the same spec file (``meta["spec"]``; another ``meta["run"]``: a new run supersedes
    them) and all but the ``keep`` newest of this run. Files of another spec, or that cannot be
    read, are left alone."""
    folder.mkdir(exist_ok=True)  # the folder itself, never the ones above it (checked before training)
    target = folder / f"epoch-{epoch:06d}.npz"
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    atomic_write(target, lambda f: np.savez(f, __meta__=blob, **arrays))
    ours, runs, unknown = [], {meta["run"]}, False
    for path in sorted(folder.glob(PATTERN)):
        if path == target:
            ours.append(path)
            continue
        other = peek(path, max(META_BYTES, 2 * blob.size))
        if other is None or not _ours(other, meta["spec"]):
            runs.add(other.get("run") if other is not None else None)
            unknown = unknown or other is None
            continue
        if other.get("run") != meta["run"]:
            path.unlink(missing_ok=True)
        else:
            ours.append(path)
    for old in ours[:-keep]:
        old.unlink(missing_ok=True)
    if not unknown:  # the histories of runs no checkpoint names any more (superseded, or killed before their first)
        for path in folder.glob("history-*.jsonl"):
            if path.name[len("history-"):-len(".jsonl")] not in runs:
                path.unlink(missing_ok=True)
    return target


# -- the history: one file a run, appended at each checkpoint --------------------------------------
# A checkpoint's record names it and how many of its rows are the checkpoint's (its epoch), so a
# checkpoint costs the same at epoch 8,000 as at epoch 8 (it held the whole history as JSON, and
# each was read back at the next). The rows are flushed to disk before the checkpoint that counts
# them is renamed into place; rows after the newest checkpoint's (a kill between the two) are
# dropped when the run resumes.

_INFINITE = ("inf", "-inf", "nan")  # a loss that overflowed, as text: the file stays JSON


def _text_if_infinite(value):
    return repr(value) if isinstance(value, float) and not np.isfinite(value) else value


def history_name(run: str) -> str:
    return f"history-{run}.jsonl"


def append_history(folder: Path, run: str, rows: list) -> None:
    """Append ``rows`` (the epochs since the run's last checkpoint) to the run's history file."""
    folder.mkdir(exist_ok=True)  # the folder itself, as save() (checked before training)
    if not rows:
        return
    text = "".join(json.dumps({k: _text_if_infinite(v) for k, v in r.items()}, allow_nan=False) + "\n"
                   for r in rows).encode()
    fd = os.open(folder / history_name(run), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, text)
        getattr(os, "fdatasync", os.fsync)(fd)
    finally:
        os.close(fd)


def read_history(path: Path, meta: dict, max_bytes: int) -> tuple[list, int]:
    """The first ``meta["epoch"]`` rows of the history file ``path``'s record names, and the bytes
    they take (:func:`cut_history` cuts the file there when the run resumes)."""
    import re

    name, epoch = meta.get("history_file"), meta.get("epoch")

    def bad(why):
        return TrainingError(f"{path}: not a readable checkpoint ({why}); delete it to resume from an older one")

    if not isinstance(name, str) or not re.fullmatch(r"history-[0-9A-Za-z_-]{1,64}\.jsonl", name):
        raise bad(f"its record's 'history_file' is {name!r}, not a history file's name")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        return [], 0  # refused, named, by check_record
    file = path.parent / name
    rows, used = [], 0
    try:
        with open(file, "rb") as f:
            for line in f:
                if len(rows) == epoch:
                    break
                used += len(line)
                if used > max_bytes or not line.endswith(b"\n"):
                    break
                rows.append({k: float(v) if v in _INFINITE else v for k, v in json.loads(line).items()})
    except FileNotFoundError:
        raise bad(f"its history file {name} is missing") from None
    except (OSError, ValueError, AttributeError) as exc:  # (AttributeError: a row not an object)
        raise bad(f"its history file {name}: {exc}") from None
    if len(rows) < epoch:
        raise bad(f"its history file {name} holds {len(rows)} of its {epoch} epochs' rows")
    return rows, used


def cut_history(path: Path, meta: dict, used: int) -> None:
    """Drop the rows after the checkpoint ``path``'s (written before a kill, recomputed by the resumed run)."""
    file = path.parent / meta["history_file"]
    try:
        if os.path.getsize(file) > used:
            os.truncate(file, used)
    except OSError as exc:
        raise TrainingError(f"{file}: cannot continue the run's history ({exc.strerror})") from None


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


def own(folder: Path, spec_file, max_bytes: int = META_BYTES) -> list:
    """``(checkpoint, record)`` of the readable checkpoints in ``folder`` written by runs of
    ``spec_file``, oldest first (unreadable ones are passed over)."""
    found = []
    for path in sorted(folder.glob(PATTERN)) if folder.is_dir() else []:
        meta = peek(path, max_bytes)
        if meta is not None and _ours(meta, spec_file):
            found.append((path, meta))
    return found


def foreign(folder: Path, spec_file, max_bytes: int = META_BYTES) -> list:
    """``(checkpoint, spec file)`` of the checkpoints in ``folder`` written by runs of another spec file."""
    found = []
    for path in sorted(folder.glob(PATTERN)) if folder.is_dir() else []:
        meta = peek(path, max_bytes)
        if meta is not None and not _ours(meta, spec_file):
            found.append((path, shown_owner(meta["spec"])))
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


_ROW_NUMBERS = ("loss", "learning_rate", "seconds", "accuracy", "val_loss", "val_accuracy")


def check_record(path: Path, meta: dict, *, epochs: int, steps: int, rng_state: dict) -> None:
    """Refuse a checkpoint's record that training did not write: each field of the type and range
    training gives it (``epochs``: the run's; ``steps``: optimizer steps an epoch; ``rng_state``: the
    random generator's state now, whose shape the record's must have), named with the file."""

    def bad(field, why):
        return TrainingError(f"{path}: not a readable checkpoint (its record's '{field}' {why}); delete it to "
                             "resume from an older one")

    def whole(field, value, lo, hi):
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad(field, f"is {type(value).__name__}, not a whole number")
        if not lo <= value <= hi:
            raise bad(field, f"is {value}, outside {lo} to {hi}")
        return value

    def number(field, value, infinite=False):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise bad(field, f"is {type(value).__name__}, not a number")
        if not (np.isfinite(value) or infinite is True and value == np.inf or infinite == "any"):
            raise bad(field, f"is {value}, not a finite number")

    def flag(field, value):
        if not isinstance(value, bool):
            raise bad(field, f"is {value!r}, not true or false")

    for key in ("epoch", "rng", "opt_t", "schedule", "best_loss", "waited", "stopped", "history", "has_best",
                "fingerprint"):
        if key not in meta:
            raise bad(key, "is missing")
    if isinstance(meta["epoch"], int) and not isinstance(meta["epoch"], bool) and meta["epoch"] > epochs:
        raise TrainingError(f"{path}: written after epoch {meta['epoch']}, beyond this run's {epochs} epochs: ask "
                            "for more (--epochs or train.epochs) to resume from it")
    epoch = whole("epoch", meta["epoch"], 1, epochs)
    whole("opt_t", meta["opt_t"], 0, epoch * steps)
    whole("waited", meta["waited"], 0, epoch)
    number("best_loss", meta["best_loss"], infinite=True)
    flag("stopped", meta["stopped"])
    flag("has_best", meta["has_best"])
    if "final" in meta:
        flag("final", meta["final"])
    if meta.get("optimizer_state", 1) not in (1, 2) or isinstance(meta.get("optimizer_state"), bool):
        raise bad("optimizer_state", f"is {meta['optimizer_state']!r}, not 1 or 2")
    for key in ("run", "spec"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise bad(key, f"is {type(meta[key]).__name__}, not a string")
    schedule = meta["schedule"]
    if not isinstance(schedule, dict) or set(schedule) != {"current", "best", "waited"}:
        raise bad("schedule", "is not an object of current, best and waited")
    number("schedule.current", schedule["current"])
    number("schedule.best", schedule["best"], infinite=True)
    whole("schedule.waited", schedule["waited"], 0, epoch)
    _same_shape("rng", meta["rng"], rng_state, bad)
    history = meta["history"]
    if not isinstance(history, list) or len(history) != epoch:
        raise bad("history", f"is not a list of {epoch} epochs' rows")
    for i, row in enumerate(history):
        where = f"history[{i}]"
        if not isinstance(row, dict):
            raise bad(where, f"is {type(row).__name__}, not an object")
        whole(f"{where}.epoch", row.get("epoch"), i + 1, i + 1)
        for key in ("loss", "learning_rate", "seconds"):
            if key not in row:
                raise bad(f"{where}.{key}", "is missing")
        for key, value in row.items():
            if key == "stopped_early":
                flag(f"{where}.{key}", value)
            elif key in _ROW_NUMBERS:  # a validation loss may overflow (training goes on): inf, or nan
                number(f"{where}.{key}", value, infinite="any" if key in ("loss", "val_loss") else False)
            elif key != "epoch":
                raise bad(f"{where}.{key}", "is not a field training writes")


def _same_shape(field, value, like, bad):
    """``value`` has the keys and kinds of ``like`` (numpy's bit generator state), its whole numbers
    from 0 to 2**128 - 1 (a PCG64 state and increment are 128-bit)."""
    if isinstance(like, dict):
        if not isinstance(value, dict) or set(value) != set(like):
            raise bad(field, f"is not an object of {', '.join(sorted(like))}")
        for key in like:
            _same_shape(f"{field}.{key}", value[key], like[key], bad)
    elif isinstance(like, str):
        if value != like:
            raise bad(field, f"is {value!r}, not {like!r}")
    elif isinstance(like, (int, np.integer)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2 ** 128:
            raise bad(field, f"is {value!r}, not a whole number from 0 to 2**128 - 1")
    else:
        raise bad(field, "is of a kind this run's random generator does not have")
