"""``--log run.csv`` (or ``.jsonl``): one row per training epoch, flushed as the epoch ends.

A fresh run starts the log afresh. A resumed run continues it: the rows of the epochs the
checkpoint holds must be the checkpoint's own history (else the log belongs to another run and is
refused, naming the first epoch that differs); the log is then rewritten from that history into a
temporary file renamed into place (rows of epochs after the checkpoint, which the resumed run
recomputes, are dropped), and new rows are appended. A row cut short by a kill is ignored.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from .errors import TrainingError
from .writes import atomic_write, record

SUFFIXES = (".csv", ".jsonl")


def json_ready(value):
    """``value`` with each infinite or NaN float as None: JSON has no Infinity nor NaN (a
    validation loss that overflowed is written ``null``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # a numpy scalar
        return json_ready(value.item())
    return value


class EpochLog:
    """Training callbacks (``history_start``, ``epoch_end``) that keep the log; :meth:`close` at the end."""

    def __init__(self, path):
        self.path = Path(path)
        self.jsonl = self.path.suffix.lower() == ".jsonl"
        if self.path.suffix.lower() not in SUFFIXES:
            raise TrainingError(f"--log {path}: an epoch log is written as .csv or .jsonl, not "
                                f"{self.path.suffix or 'a file without a suffix'}")
        self.file, self.columns, self.writer, self.rows = None, None, None, 0

    # -- callbacks ------------------------------------------------------------------------------
    def history_start(self, history, checkpoint):
        """Start the log: afresh, or (resuming) from the checkpoint's history after checking it."""
        if not history:
            self.file = open(self.path, "w", encoding="utf-8", newline="")
        else:
            self._check(history, checkpoint)
            self._rewrite(history)
            self.file = open(self.path, "a", encoding="utf-8", newline="")
        record(self.path)

    def epoch_end(self, r):
        self.file.write(self._lines([r], header=self.columns is None and not self.jsonl))
        self.file.flush()
        self.rows += 1

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def describe(self) -> str:
        """What the log holds, counted in the file: a Ctrl-C between writing a row and counting it
        must not make the message one epoch short."""
        rows = self.rows
        try:
            if self.file is not None:
                self.file.flush()
            rows = len(self._read())
        except (OSError, TrainingError):
            pass
        return f"the epoch log {self.path} holds epochs 1 to {rows}"

    # -- rows -----------------------------------------------------------------------------------
    def _lines(self, records, header) -> str:
        out = io.StringIO()
        rows = [{k: v for k, v in r.items() if k != "stopped_early"} for r in records]
        if self.jsonl:
            out.writelines(json.dumps(json_ready(row), allow_nan=False) + "\n" for row in rows)
        else:
            if self.columns is None:
                self.columns = list(rows[0])
            writer = csv.DictWriter(out, self.columns, extrasaction="ignore", lineterminator="\n")
            if header:
                writer.writeheader()
            writer.writerows(rows)
        return out.getvalue()

    def _read(self) -> list:
        """The rows of an existing log (values as text), the last one left out if a kill cut it."""
        text = self.path.read_text(encoding="utf-8", errors="replace")
        if not text.endswith("\n"):
            text = text[:text.rfind("\n") + 1]
        if self.jsonl:
            rows = []
            for n, line in enumerate(text.splitlines(), start=1):
                try:
                    row = json.loads(line)
                except ValueError:
                    row = None
                if not isinstance(row, dict):
                    raise self._foreign(f"line {n} is not a JSON object")
                rows.append({k: json.dumps(v) for k, v in row.items()})
            return rows
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if text and "epoch" not in (reader.fieldnames or []):
            raise self._foreign("its first line has no 'epoch' column")
        return list(reader)

    def _check(self, history, checkpoint):
        if not self.path.exists():
            return
        try:
            rows = self._read()
        except OSError as exc:
            raise TrainingError(f"{self.path}: cannot read the epoch log to continue it ({exc.strerror})") from None
        for n, (row, rec) in enumerate(zip(rows, history), start=1):
            for key, value in rec.items():
                if key == "stopped_early" or key not in row:
                    continue
                text = json.dumps(json_ready(value)) if self.jsonl else str(value)
                if row[key] != text:
                    raise TrainingError(
                        f"{self.path}: row {n} ({key} {row[key]}) is not epoch {rec['epoch']} of the run in {checkpoint} "
                        f"({key} {text}): the log belongs to another run; give another --log file, or delete it")

    def _foreign(self, why):
        return TrainingError(f"{self.path}: not an epoch log of nngraph ({why}); give another --log file, or "
                             "delete it")

    def _rewrite(self, history):
        """The log as the checkpoint's history, written whole to a temporary file renamed into place."""
        self.columns = None
        text = self._lines(history, header=not self.jsonl)
        atomic_write(self.path, lambda f: f.write(text.encode("utf-8")))
        self.rows = len(history)
