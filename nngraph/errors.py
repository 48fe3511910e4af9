"""The exception tree: every failure nngraph reports is an :class:`NNGraphError`.

Errors about a spec carry :class:`Diagnostic` records (file, line, column, spec path, code,
message), so the CLI can print one line each and ``--json`` can list them.
"""
from __future__ import annotations

import errno
import os
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding about a spec, located in its source text."""

    file: str
    line: int
    column: int
    path: str
    code: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        """One line for the terminal; control characters in any part are shown as escapes."""
        from .text import terminal

        return terminal(self._plain())

    def _plain(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        what = f"{self.path}: {self.message}" if self.path else self.message
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {tag}{what}"

    def as_dict(self) -> dict:
        return asdict(self)


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C (:class:`KeyboardInterrupt`) or came of one: a library that wrapped
    it in its own error (pydantic's serializer does: ``PydanticSerializationError``), or an error
    raised while it was on its way (a cleanup that failed). Such errors are the interrupt, not a bug."""
    todo, seen = [exc], set()
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
    return False


class NNGraphError(Exception):
    """Base of every error nngraph raises on bad input or a failed run."""


class FileAccessError(NNGraphError):
    """A file or folder cannot be read or written (missing folder, permissions, full disk, loop)."""


_OS_HINTS = {
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.ELOOP: "a loop of symbolic links",
    errno.ENAMETOOLONG: "the name is too long",
}


def similar_file(path) -> str:
    """`` (did you mean 'examples/xor.yaml'?)`` for a missing ``path`` whose folder holds a file of a
    close name (``xor.yml``, ``Xor.yaml``), else ``""``. Looks at no more than 10,000 names."""
    import difflib
    import itertools

    path = os.fspath(path)
    folder, name = os.path.split(path)
    try:
        with os.scandir(folder or ".") as entries:
            names = [e.name for e in itertools.islice(entries, 10_000)]
    except OSError:
        return ""
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return f" (did you mean '{os.path.join(folder, by_lower[close[0]])}'?)" if close else ""


def file_error(exc: OSError, path=None, doing: str = "use") -> FileAccessError:
    """A located, plain-language error for an ``OSError`` met while doing something with ``path``."""
    where = path if path is not None else (exc.filename if exc.filename is not None else "")
    why = _OS_HINTS.get(exc.errno, exc.strerror or str(exc))
    hint = ""
    if exc.errno == errno.ENOENT and doing == "write":
        parent = os.path.dirname(os.fspath(where)) or "."
        hint = f"; the folder '{parent}' does not exist (create it first)" if not os.path.isdir(parent) else ""
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT) and doing == "write":
        hint = "; nothing was changed (free some space and run again)"
    return FileAccessError(f"{where}: cannot {doing} it: {why}{hint}")


class SpecError(NNGraphError):
    """A spec is invalid; ``diagnostics`` lists every independent problem, sorted by position."""

    def __init__(self, diagnostics, warnings=()):
        self.diagnostics = sorted(diagnostics, key=_position)
        self.warnings = list(warnings)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def _position(d: Diagnostic):
    """Sort key: by place in the text; without a place (a spec given as a dict), by spec path with
    its indices as numbers, so edges[2] comes before edges[10]."""
    path = tuple(int(p) if p.isascii() and p.isdigit() else p for p in re.split(r"([0-9]+)", d.path))
    return (d.file, d.line, d.column, path)


class CycleError(SpecError):
    """The neuron graph has a cycle, so it is not feed-forward."""


class LimitError(SpecError):
    """A declared size exceeds a configured limit (checked before anything is allocated)."""


class UntrainedError(SpecError):
    """Running was asked on weights that nothing set (not given, not trained); one diagnostic per
    parameter, located in the spec. ``--untrained`` (CLI) runs them anyway."""


class ParameterFileError(NNGraphError):
    """A parameters file is missing, unsafe, or does not match the spec."""


class DataError(NNGraphError):
    """Input or training data is missing or has the wrong shape."""


class TrainingError(NNGraphError):
    """Training cannot start or had to stop (for example on a non-finite loss)."""


class TrainingInterrupted(TrainingError, KeyboardInterrupt):
    """Training stopped by Ctrl-C (SIGINT). It is a :class:`KeyboardInterrupt` (``except
    KeyboardInterrupt`` catches it, as it would a Ctrl-C anywhere) and a :class:`TrainingError`
    (``except NNGraphError`` too) that keeps what the run had done: ``history`` (the finished
    epochs), ``plan`` (with the parameters of the last finished epoch), ``checkpoint`` (the path of
    the newest checkpoint, or None) and ``exit_code`` 130."""

    def __init__(self, message, plan=None, history=(), checkpoint=None):
        super().__init__(message)
        self.plan, self.history, self.checkpoint, self.exit_code = plan, list(history), checkpoint, 130


class TrainingWarning(UserWarning):
    """Training will run, but not as the spec asks (a validation set too small to hold a row)."""


class DrawError(NNGraphError):
    """A diagram cannot be produced as asked."""


class MissingExtraError(NNGraphError):
    """An optional dependency that a feature needs is not installed; the message names the extra."""


# the optional packages and the extra of nngraph that installs each (pyproject.toml)
EXTRAS = {"onnx": "interchange", "onnxruntime": "interchange", "neat": "interchange",
          "dask": "distributed", "distributed": "distributed", "zarr": "distributed",
          "threadpoolctl": "train", "matplotlib": "plot", "PIL": "plot", "selenium": "page"}


def missing_extra(exc: ModuleNotFoundError, feature: str = "this") -> MissingExtraError | None:
    """The readable refusal for a missing optional package, or None when ``exc`` is not about one."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return MissingExtraError(f"{feature} needs the {top} package, which is not installed: "
                             f'pip install "nngraph[{extra}]"')


def require(module: str, feature: str):
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        err = missing_extra(exc, feature)
        if err is None:
            raise
        raise err from None
