"""Fetch the full MNIST / Fashion-MNIST IDX files into the data folder: an explicit step only.

Nothing else in nngraph touches the network. Each file is checked against its published checksum before
it is moved into place.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

from ..errors import DataError

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

MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


def default_data_dir() -> Path:
    return Path(os.environ.get("NNGRAPH_DATA") or Path.home() / ".nngraph" / "data")


def download(name: str, directory=None, base_url: str | None = None, timeout: float = 60.0,
             progress=None, files: dict | None = None) -> Path:
    """Download dataset ``name`` into ``directory/name``; verify checksums; return the folder.

    Files already present with the right checksum are kept. ``base_url`` overrides the mirror;
    ``files`` (name -> md5) overrides the file list (tests serve their own files).
    """
    if name not in FILES:
        raise DataError(f"no download for '{name}'; available: {', '.join(FILES)}")
    folder = Path(directory or default_data_dir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    base = base_url or MIRRORS[name]
    for fname, digest in (files or FILES[name]).items():
        target = folder / fname
        if target.exists() and _md5(target) == digest:
            continue
        url = base.rstrip("/") + "/" + fname
        fd, tmp = tempfile.mkstemp(prefix=fname + ".", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                total = int(resp.headers.get("Content-Length") or 0)
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    if progress:
                        progress(fname, len(chunk), total)
            got = _md5(Path(tmp))
            if got != digest:
                raise DataError(f"{fname}: checksum mismatch (got {got[:12]}..., expected {digest[:12]}...); "
                                "the download is damaged or the mirror serves other files")
            os.replace(tmp, target)
        except OSError as exc:
            raise DataError(f"cannot download {url}: {exc}") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return folder


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
