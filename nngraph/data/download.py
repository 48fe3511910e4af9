"""Fetch the full MNIST / Fashion-MNIST IDX files into the data folder: an explicit step only.

Nothing else in nngraph touches the network. Each file is checked against its published checksum before
it is moved into place.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from ..errors import DataError
from ..writes import atomic_write

# The published MD5 checksums of the official files (the ones torchvision checks); MD5 serves
# here for integrity against damaged or substituted downloads, as the datasets publish no other.
FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}

# Published sizes in bytes (the same files torchvision and Keras fetch). A download may not exceed
# its size plus MARGIN: an endless or substituted stream is cut off, not written to disk without end.
SIZES = {
    "mnist": {"train-images-idx3-ubyte.gz": 9_912_422, "train-labels-idx1-ubyte.gz": 28_881,
              "t10k-images-idx3-ubyte.gz": 1_648_877, "t10k-labels-idx1-ubyte.gz": 4_542},
    "fashion_mnist": {"train-images-idx3-ubyte.gz": 26_421_880, "train-labels-idx1-ubyte.gz": 29_515,
                      "t10k-images-idx3-ubyte.gz": 4_422_102, "t10k-labels-idx1-ubyte.gz": 5_148},
}
MARGIN = 64 << 10
UNKNOWN_SIZE_CAP = 64 << 20  # files given without a known size (``files=`` without ``sizes=``)
TIMEOUT = 60.0  # seconds: the connection and each read
MIN_RATE = 16 << 10  # bytes per second, averaged over the download once its first TIMEOUT seconds have passed
HOW_TO_RAISE = {
    "max_bytes": "--max-bytes or NNGRAPH_DOWNLOAD_MAX_BYTES",
    "timeout": "--timeout or NNGRAPH_DOWNLOAD_TIMEOUT",
    "min_rate": "--min-rate or NNGRAPH_DOWNLOAD_MIN_RATE (0 turns the check off)",
}

MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


def default_data_dir() -> Path:
    return Path(os.environ.get("NNGRAPH_DATA") or Path.home() / ".nngraph" / "data")


def _setting(name: str, given):
    """A download setting: the argument if given, else ``NNGRAPH_DOWNLOAD_<NAME>``, else None."""
    if given is not None:
        return given
    var = "NNGRAPH_DOWNLOAD_" + name.upper()
    raw = os.environ.get(var)
    if raw is None:
        return None
    from ..limits import parse_limit

    return parse_limit(var, raw.strip())


def download(name: str, directory=None, base_url: str | None = None, timeout: float | None = None,
             progress=None, files: dict | None = None, sizes: dict | None = None, min_rate: float | None = None,
             max_bytes: int | None = None) -> Path:
    """Download dataset ``name`` into ``directory/name``; verify checksums; return the folder.

    Files already present with the right checksum are kept. ``base_url`` overrides the mirror;
    ``files`` (name -> md5) overrides the file list (tests serve their own files) and ``sizes``
    their expected sizes. Every cost is bounded: each file is cut off past ``max_bytes`` (default:
    its published size plus 64 KiB, or 64 MiB when no size is known); ``timeout`` seconds bound
    the connection and each read (default 60); once ``timeout`` seconds have passed the file must
    keep arriving at ``min_rate`` bytes per second on average (default 16 KiB/s, 0 turns it off),
    so a server that trickles bytes fails cleanly. The defaults come from the environment
    variables ``NNGRAPH_DOWNLOAD_MAX_BYTES``, ``NNGRAPH_DOWNLOAD_TIMEOUT`` and
    ``NNGRAPH_DOWNLOAD_MIN_RATE`` when set.
    """
    if name not in FILES:
        raise DataError(f"no download for '{name}'; available: {', '.join(FILES)}")
    max_bytes = _setting("max_bytes", max_bytes)
    timeout = _setting("timeout", timeout)
    timeout = TIMEOUT if timeout is None else timeout
    min_rate = _setting("min_rate", min_rate)
    min_rate = MIN_RATE if min_rate is None else min_rate
    if not timeout > 0:
        raise DataError(f"download timeout must be a positive number of seconds, not {timeout!r}")
    folder = Path(directory or default_data_dir()) / name
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # deepest first: what a failure removes
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from ..errors import file_error

        raise DataError(f"data folder: {file_error(exc, folder, 'write')} (set NNGRAPH_DATA or --dir)") from None
    try:
        _fetch_all(name, folder, base_url, files, sizes, max_bytes, timeout, min_rate, progress)
    except BaseException:  # a failed download leaves no folder it made for nothing (files already checked stay)
        for p in made:
            try:
                p.rmdir()
            except OSError:  # not empty (or no longer ours to remove): kept
                break
        raise
    return folder


def _fetch_all(name, folder, base_url, files, sizes, max_bytes, timeout, min_rate, progress):
    base = base_url or MIRRORS[name]
    known = SIZES[name] if files is None else (sizes or {})
    for fname, digest in (files or FILES[name]).items():
        target = folder / fname
        if target.is_file() and _md5(target) == digest:
            continue
        url = base.rstrip("/") + "/" + fname
        if max_bytes is not None:
            cap, why_cap = max_bytes, f"the cap of {max_bytes:,} bytes"
        elif fname in known:
            cap, why_cap = known[fname] + MARGIN, f"its published size of {known[fname]:,} bytes (+64 KiB)"
        else:
            cap, why_cap = UNKNOWN_SIZE_CAP, f"the cap of {UNKNOWN_SIZE_CAP:,} bytes for a file of unknown size"
        atomic_write(target, _fetcher(url, fname, digest, cap, why_cap, timeout, min_rate, progress))


def _fetcher(url, fname, digest, cap, why_cap, timeout, min_rate, progress):
    """``fetch(out)``: stream ``url`` into ``out`` within the byte cap, the read timeout and the
    minimum rate, then check the checksum. Network trouble is a DataError naming the URL (disk
    trouble stays an OSError, which the atomic write reports as a write error)."""
    import errno
    import http.client
    import socket
    import time

    raise_cap = f"use another mirror (--url), or raise the cap with {HOW_TO_RAISE['max_bytes']}"

    def network(call):
        try:
            return call()
        except (OSError, http.client.HTTPException, ValueError) as exc:  # HTTP errors, timeouts, bad replies
            reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket's error
            if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                why = f"timed out (no data for {timeout:g} s; raise it with {HOW_TO_RAISE['timeout']})"
            elif isinstance(reason, OSError) and not isinstance(exc, http.client.HTTPException) and (
                    isinstance(reason, socket.gaierror) or reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)):
                why = f"the host cannot be reached ({reason.strerror or reason}); is this machine offline?"
            else:
                why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise DataError(f"cannot download {url}: {why}") from None

    def fetch(out):
        start = time.monotonic()
        h = hashlib.md5(usedforsecurity=False)
        with network(lambda: urllib.request.urlopen(url, timeout=timeout)) as resp:
            total = network(lambda: int(resp.headers.get("Content-Length") or 0))
            if total > cap:
                raise DataError(f"cannot download {url}: the server announces {total:,} bytes, over {why_cap}; "
                                f"nothing was written; {raise_cap}")
            got_bytes = 0
            while chunk := network(lambda: resp.read1(1 << 16)):
                got_bytes += len(chunk)
                if got_bytes > cap:
                    raise DataError(f"cannot download {url}: the server sent over {cap:,} bytes, more than "
                                    f"{why_cap} (an endless or substituted stream); stopped, nothing was "
                                    f"kept; {raise_cap}")
                late = time.monotonic() - start - timeout
                if min_rate and late > 0 and got_bytes < min_rate * late:
                    raise DataError(f"cannot download {url}: too slow ({got_bytes:,} bytes in "
                                    f"{late + timeout:.0f} s, under {min_rate:,} bytes/s); try again, another "
                                    f"mirror (--url), or lower the minimum rate with {HOW_TO_RAISE['min_rate']}")
                out.write(chunk)
                h.update(chunk)
                if progress:
                    progress(fname, len(chunk), total)
        got = h.hexdigest()
        if got != digest:
            raise DataError(f"{fname}: checksum mismatch (got {got[:12]}..., expected {digest[:12]}...); "
                            "the download is damaged or the mirror serves other files")
    return fetch


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
