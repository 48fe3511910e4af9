"""Resolve files a spec names, and refuse any that would escape the spec's folder."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np


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


def read_edge_file(path: Path):
    """Read a neuron-level edge file: CSV (header from,to,weight) or NPZ (arrays from, to, weight)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as z:
            missing = {"from", "to", "weight"} - set(z.files)
            if missing:
                raise ValueError(f"{path.name} lacks arrays {sorted(missing)} (needs from, to, weight)")
            frm, to, w = z["from"], z["to"], z["weight"]
        if frm.dtype.kind != "U" or to.dtype.kind != "U" or w.dtype.kind not in "fiu":
            raise ValueError(f"{path.name}: from and to must be string arrays, weight numbers")
    elif path.suffix.lower() == ".csv":
        text = path.read_text(encoding="utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [c.strip() for c in rows[0]] != ["from", "to", "weight"]:
            raise ValueError(f"{path.name}: the first row must be the header from,to,weight")
        body = [r for r in rows[1:] if r]
        bad = [i for i, r in enumerate(body) if len(r) != 3]
        if bad:
            raise ValueError(f"{path.name}:{bad[0] + 2}: expected 3 columns (from,to,weight)")
        frm = np.array([r[0].strip() for r in body])
        to = np.array([r[1].strip() for r in body])
        try:
            w = np.array([float(r[2]) for r in body])
        except ValueError as exc:
            raise ValueError(f"{path.name}: {exc}") from None
    else:
        raise ValueError(f"{path.name}: edge files are .csv or .npz")
    w = np.asarray(w, dtype=np.float64)
    if not np.isfinite(w).all():
        raise ValueError(f"{path.name}: weights must be finite numbers")
    return frm, to, w
