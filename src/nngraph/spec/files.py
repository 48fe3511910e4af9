"""Resolve files a spec names, and refuse any that would escape the spec's folder."""
from __future__ import annotations

import os
from pathlib import Path


class UnsafePath(ValueError):
    """Why a referenced path was refused."""


def resolve_inside(base_dir, name: str) -> Path:
    """Resolve ``name`` relative to ``base_dir`` and require the result to stay inside it.

    Refuses absolute paths, ``..`` escapes, symlinks that lead out, and anything that is not a
    regular file (devices, FIFOs, folders). A spec loaded from text has the current folder as
    its ``base_dir``.

    Raises
    ------
    UnsafePath
        With a message that says what was found and what to write instead.
    """
    base = Path(base_dir if base_dir is not None else os.getcwd()).resolve()
    if not name or "\x00" in name:
        raise UnsafePath("an empty file name")
    raw = Path(name)
    if raw.is_absolute() or name.startswith(("~", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePath(f"'{name}' is an absolute path; name a file relative to the spec's folder")
    if ".." in raw.parts:
        raise UnsafePath(f"'{name}' leaves the spec's folder ('..'); keep referenced files beside the spec")
    target = (base / raw).resolve()
    if target != base and base not in target.parents:
        raise UnsafePath(f"'{name}' resolves to a file outside the spec's folder (through a symbolic link)")
    return target


def require_regular_file(path: Path, name: str) -> Path:
    if not path.exists():
        raise UnsafePath(f"'{name}' does not exist in the spec's folder")
    if not path.is_file():
        raise UnsafePath(f"'{name}' is not a regular file")
    return path
