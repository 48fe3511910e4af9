"""Read and write the IDX format of MNIST and Fashion-MNIST (raw or gzip), without pickle."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from ..errors import DataError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
          np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
MAX_BYTES = None  # default: Limits.max_array_bytes (NNGRAPH_MAX_ARRAY_BYTES)
CHUNK = 1 << 20


def _open(path: Path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def idx_header(path) -> tuple[tuple, np.dtype]:
    """The shape and element type an IDX file (raw or gzip) declares, from its first bytes only."""
    import zlib

    path = Path(path)
    if path.exists() and not path.is_file():
        raise DataError(f"{path.name}: not a regular file (a folder, device or pipe); give an IDX file")
    try:
        with _open(path) as f:
            return _header(path, f)
    except (OSError, EOFError, struct.error, zlib.error) as exc:
        raise DataError(f"{path.name}: cannot read IDX file ({exc})") from None


def _header(path, f):
    head = f.read(4)
    if len(head) != 4 or head[:2] != b"\0\0" or head[2] not in _DTYPES:
        raise DataError(f"{path.name}: not an IDX file (bad magic number)")
    ndim = head[3]
    dims = struct.unpack(f">{ndim}I", f.read(4 * ndim))
    return dims, np.dtype(_DTYPES[head[2]])


def read_idx(path, max_bytes: int | None = MAX_BYTES) -> np.ndarray:
    """Read an IDX file (raw or gzip); the header's declared size is checked against ``max_bytes``
    before any data is read, and the data is read in chunks up to exactly that size, so a small
    gzip file cannot inflate beyond what its header declares (a longer stream is refused)."""
    import zlib

    from ..limits import Limits, default_limits

    path = Path(path)
    if max_bytes is None:
        max_bytes = default_limits().max_array_bytes
    if path.exists() and not path.is_file():
        raise DataError(f"{path.name}: not a regular file (a folder, device or pipe); give an IDX file")
    try:
        with _open(path) as f:
            dims, dtype = _header(path, f)
            nbytes = int(np.prod(dims, dtype=object)) * dtype.itemsize
            if nbytes > max_bytes:
                raise DataError(f"{path.name}: declares {nbytes:,} bytes (shape {dims}), over the limit of "
                                f"{max_bytes:,}; {Limits.how_to_raise('max_array_bytes')}")
            data = bytearray()
            while len(data) < nbytes:  # grows only as real data arrives
                chunk = f.read(min(CHUNK, nbytes - len(data)))
                if not chunk:
                    break
                data += chunk
            extra = f.read(1)
    except (OSError, EOFError, struct.error, zlib.error) as exc:
        raise DataError(f"{path.name}: cannot read IDX file ({exc})") from None
    if len(data) != nbytes or extra:
        raise DataError(f"{path.name}: holds {'more than ' if extra else ''}{len(data):,} bytes of data, its header "
                        f"declares {nbytes:,}; the file is truncated or damaged")
    try:
        arr = np.frombuffer(data, dtype=dtype).reshape(dims)
    except ValueError:  # more dimensions than numpy has, or sizes beyond its index range (with a 0 among them)
        raise DataError(f"{path.name}: declares shape {dims}, which numpy cannot hold (too many dimensions, or "
                        "sizes beyond its index range)") from None
    return arr.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as IDX (gzip when the name ends in .gz)."""
    path = Path(path)
    array = np.asarray(array)
    dt = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    if np.dtype(dt) not in _CODES:
        raise ValueError(f"IDX cannot hold dtype {array.dtype}")
    header = bytes([0, 0, _CODES[np.dtype(dt)], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(dt).tobytes()
    gz = path.suffix == ".gz" if compress is None else compress
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
        f.write(payload)
