"""The exception tree: every failure nngraph reports is an :class:`NNGraphError`.

Errors about a spec carry :class:`Diagnostic` records (file, line, column, spec path, code,
message), so the CLI can print one line each and ``--json`` can list them.
"""
from __future__ import annotations

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


class NNGraphError(Exception):
    """Base of every error nngraph raises on bad input or a failed run."""


class SpecError(NNGraphError):
    """A spec is invalid; ``diagnostics`` lists every independent problem, sorted by position."""

    def __init__(self, diagnostics, warnings=()):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.path))
        self.warnings = list(warnings)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class CycleError(SpecError):
    """The neuron graph has a cycle, so it is not feed-forward."""


class LimitError(SpecError):
    """A declared size exceeds a configured limit (checked before anything is allocated)."""


class ParameterFileError(NNGraphError):
    """A parameters file is missing, unsafe, or does not match the spec."""


class DataError(NNGraphError):
    """Input or training data is missing or has the wrong shape."""


class TrainingError(NNGraphError):
    """Training cannot start or had to stop (for example on a non-finite loss)."""


class DrawError(NNGraphError):
    """A diagram cannot be produced as asked."""
