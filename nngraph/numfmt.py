"""Numbers for a narrow terminal: every value printed whole, to as many digits as fit.

A table of outputs is laid out by ``layout(header, rows, width)``: each column gets one format
(fixed decimals, or scientific when its values span too many orders of magnitude for fixed), the
significant digits drop from 6 towards 3 until the table fits; when it still does not, the table
is turned (one row per column of the original) and, failing that, split into groups of columns
that each fit. A number is never cut: a terminal that is too narrow gets more lines, not fewer
digits than 3.
"""
from __future__ import annotations

import math

import numpy as np

MAX_DIGITS, MIN_DIGITS = 6, 3


def column_format(values, digits: int) -> str:
    """One format spec for a column of floats: ``.0f`` for whole numbers, ``.Nf`` when fixed notation
    shows its largest value with ``digits`` significant digits and its smallest nonzero value with
    at least one, else ``.Ne``."""
    v = np.abs(np.asarray(values, dtype=np.float64))
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return ".0f" if np.all(np.isfinite(np.asarray(values, dtype=np.float64))) else f".{digits - 1}e"
    whole = np.asarray(values, dtype=np.float64)
    if np.all(np.isfinite(whole)) and np.all(whole == np.round(whole)) and v.max() < 10.0 ** (digits + 2):
        return ".0f"  # whole numbers stay whole: 7, not 7.00000
    top, low = math.floor(math.log10(v.max())), math.floor(math.log10(v.min()))
    if top >= digits + 2 or top - low >= digits or low < -3:
        return f".{digits - 1}e"
    return f".{max(0, digits - 1 - top)}f"


def format_column(values, digits: int) -> list[str]:
    spec = column_format(values, digits)
    return [_plain(format(float(x), spec)) for x in values]


def _plain(s: str) -> str:
    """'-0' and '-0.000' print as 0: the sign of a zero means nothing to a reader."""
    return s[1:] if s.startswith("-") and not s.strip("-0.") else s


def table_width(widths) -> int:
    """Width of a rich table with the default box: a border and one space of padding each side."""
    return sum(w + 3 for w in widths) + 1


def _texts(columns, digits, text_columns):
    return [[str(c) for c in col] if i in text_columns else format_column(col, digits) for i, col in enumerate(columns)]


def _widths(header, cells):
    return [max([len(h)] + [len(c) for c in col]) for h, col in zip(header, cells)]


def layout(header: list[str], columns: list, width: int, text_columns=(), turned_header: str = "column"
           ) -> tuple[bool, list[tuple[list[str], list[list[str]]]]]:
    """``(turned, tables)``: the tables to print, each ``(header, columns of cells)``, fitting
    ``width`` where possible; ``turned`` when the single table has a row per original column.

    ``columns`` are the table's columns (numbers, or text for the indices in ``text_columns``).
    Tried in order: all columns at 6 down to 3 significant digits; the table turned (a row per
    column headed ``turned_header``, a column per row); groups of columns, each fitting ``width``
    (the first column repeated in each group when it is text, e.g. a row label)."""
    nrows = len(columns[0]) if columns else 0
    for digits in range(MAX_DIGITS, MIN_DIGITS - 1, -1):
        cells = _texts(columns, digits, text_columns)
        if table_width(_widths(header, cells)) <= width:
            return False, [(header, cells)]
    for digits in range(MAX_DIGITS, MIN_DIGITS - 1, -1):
        cells = _texts(columns, digits, text_columns)
        turned = [list(header)] + [[col[i] for col in cells] for i in range(nrows)]
        theader = [turned_header] + [f"row {i}" for i in range(nrows)]
        if nrows and table_width(_widths(theader, turned)) <= width:
            return True, [(theader, turned)]
    cells = _texts(columns, MIN_DIGITS, text_columns)
    widths = _widths(header, cells)
    keep = [0] if 0 in text_columns and len(columns) > 1 else []
    groups, current = [], list(keep)
    for j in range(len(columns)):
        if j in keep:
            continue
        if len(current) > len(keep) and table_width([widths[k] for k in current + [j]]) > width:
            groups.append(current)
            current = list(keep)
        current.append(j)
    groups.append(current)
    return False, [([header[k] for k in g], [cells[k] for k in g]) for g in groups]


def loss(x: float) -> str:
    """A loss as training's lines print it: four decimals, or three significant digits when it is
    below 0.001, so that a small loss never reads as a 0.0000 it has not reached."""
    x = float(x)
    if x != 0 and math.isfinite(x) and abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4f}"
