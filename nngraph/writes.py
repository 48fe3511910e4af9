"""What this process has written: so an interrupted command can say truthfully what it left."""
from __future__ import annotations

_written: list[str] = []


def record(path) -> None:
    """Note that ``path`` was written (completely: call after the rename into place)."""
    _written.append(str(path))


def written() -> list[str]:
    """The files written so far, in order."""
    return list(_written)


def reset() -> None:
    """Start a new record (each command starts with nothing written)."""
    _written.clear()
