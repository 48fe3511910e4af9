"""Writing files safely, and what this process has written (so an interrupted command can say
truthfully what it left): every file nngraph writes goes through :func:`atomic_write`."""
from __future__ import annotations

import os

_written: list[str] = []


def record(path, replaces=None) -> None:
    """Note that ``path`` was written (completely: call after the rename into place); it takes the
    place of ``replaces`` in the record (a newer checkpoint names the run's state, not all of them)."""
    path = str(path)
    if replaces is not None and str(replaces) in _written:
        at = _written.index(str(replaces))
        if path in _written:
            del _written[at]
        else:
            _written[at] = path
    elif path not in _written:
        _written.append(path)


def written() -> list[str]:
    """The files written so far, in order."""
    return list(_written)


def reset() -> None:
    """Start a new record (each command starts with nothing written)."""
    _written.clear()


TMP_MARK = ".nngraph-"  # temporary files are named .<target>.nngraph-<pid>-<8 hex>.tmp


def atomic_write(path, write, error=None) -> None:
    """Write ``path`` all at once: ``write(f)`` fills a temporary file beside it, which is flushed to
    disk and renamed into place, so a failed or killed run never leaves a half-written target.

    The temporary is named ``.<name>.nngraph-<pid>-<8 hex>.tmp``; one left by a writer that was
    killed (``kill -9``) is recognised by that name and its dead process id, and removed by the
    next write to the same target. A file being replaced keeps its permission bits; a new file
    gets the umask's default. On failure the temporary is removed and the target is as it was;
    an ``OSError`` becomes ``error(exc, path)`` (default: a located ``FileAccessError``). The
    target is recorded in :func:`written` once it is in place.
    """
    import stat
    from pathlib import Path

    from .errors import file_error

    path = Path(path)
    error = error or (lambda exc, p: file_error(exc, p, "write"))
    try:
        remove_stale_temporaries(path)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = None
        tmp = temporary_path(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
    except OSError as exc:
        raise error(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
        record(path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise error(exc, path) from None
        raise


def temporary_path(path):
    """A new temporary name beside ``path``: ``.<name>.nngraph-<pid>-<8 hex>.tmp`` (a file, or a
    folder for writers that build several files), which :func:`remove_stale_temporaries` knows."""
    import secrets

    return path.parent / f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp"


def remove_stale_temporaries(path) -> None:
    """Remove ``.<name>.nngraph-<pid>-<hex>.tmp`` files and folders beside ``path`` whose writer is gone.

    Only entries of exactly this naming, for this target, are touched (never through a symbolic
    link); one whose process is still running (another writer right now) is left alone.
    """
    prefix = f".{path.name}{TMP_MARK}"
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid, _, token = name[len(prefix):-4].partition("-")
        if not (pid.isascii() and pid.isdigit() and len(token) == 8 and all(ch in "0123456789abcdef" for ch in token)):
            continue
        if _process_alive(int(pid)):  # this process, or another writer right now
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                import shutil

                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or unknowable): leave its file alone
    return True


def same_path(a, b) -> bool:
    """Whether ``a`` and ``b`` name the same file: the same file on disk where both exist (hard
    links, symbolic links, ``./x`` and ``x``), else the same resolved real path."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def inside(path, folder) -> bool:
    """Whether ``path`` lies within ``folder`` (at any depth; real paths, symbolic links followed)."""
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real != top and real.startswith(top.rstrip(os.sep) + os.sep)
