"""BLAS gemm with an addend: ``C = alpha * op(A) @ B + beta * C`` in one call, on numpy's own BLAS.

numpy's ``matmul`` always calls gemm with ``beta = 0``, which makes BLAS clear ``C`` in a pass
of its own before the product; whatever is then added to the product (a bias, a penalty's
gradient) costs another pass. With ``beta = 1`` over ``C`` already holding the addend, the
addend costs only the pass that writes it.

The routine is the ``cblas_?gemm`` of the OpenBLAS that numpy's wheel carries, called through
ctypes (which releases the GIL during the call), under the names numpy's ILP64 build exports.
Using numpy's copy, and not SciPy's, keeps one BLAS and one thread pool in the process: SciPy's
wheel brings a second OpenBLAS whose idle threads compete with numpy's for the cores (seen
slowing 2-thread training several-fold), and which thread limits set before it loaded do not
reach. ``threadpoolctl`` limits apply to this routine as to numpy's own products.

Where numpy was built against another BLAS, or the library is not found, :func:`available` is
False and callers keep their numpy route; results are then the same up to the rounding of one
addition.
"""

from __future__ import annotations

import ctypes

import numpy as np

_ROUTINES: dict = {}  # dtype char -> ctypes function, or None when not found
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _routine(char: str):
    if char in _ROUTINES:
        return _ROUTINES[char]
    fn = None
    try:
        import ctypes
        import glob
        import os

        root = os.path.dirname(np.__file__)
        libs = sorted(glob.glob(os.path.join(root, os.pardir, "numpy.libs", "*openblas*"))
                      + glob.glob(os.path.join(root, ".dylibs", "*openblas*")))
        i64, ptr = ctypes.c_int64, ctypes.c_void_p
        real = ctypes.c_float if char == "s" else ctypes.c_double
        for path in libs:
            lib = ctypes.CDLL(path)
            for name in (f"scipy_cblas_{char}gemm64_", f"cblas_{char}gemm64_"):
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.restype = None
                    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, real, ptr, i64,
                                   ptr, i64, real, ptr, i64]
                    break
            if fn is not None:
                break
    except (OSError, AttributeError, ValueError):
        fn = None
    _ROUTINES[char] = fn
    return fn


def _char(dtype) -> str | None:
    dtype = np.dtype(dtype)
    return "s" if dtype == np.float32 else "d" if dtype == np.float64 else None


def available(dtype) -> bool:
    """Whether :func:`gemm_add` can run for arrays of ``dtype``."""
    char = _char(dtype)
    return char is not None and _routine(char) is not None


def _rows(a: np.ndarray) -> int:
    """The leading dimension of a 2-D array whose rows are contiguous, else 0."""
    size = a.itemsize
    s0, s1 = a.strides
    if (s1 == size or a.shape[1] <= 1) and s0 > 0 and s0 % size == 0 and s0 // size >= a.shape[1]:
        return s0 // size
    return 0


def gemm_add(a: np.ndarray, b: np.ndarray, c: np.ndarray, beta: float = 1.0, alpha: float = 1.0,
             trans_a: bool = False) -> bool:
    """``c = alpha * op(a) @ b + beta * c`` in place, in one BLAS call, where ``op(a)`` is ``a``
    or ``a.T``. Every array 2-D, one dtype (float32 or float64), rows contiguous (row-major
    with any row stride: a column slice of a wider array is fine). Returns False, having done
    nothing, where that is not possible (another dtype or layout, numpy's BLAS not found,
    an empty product): the caller then computes it with numpy."""
    char = _char(c.dtype)
    if char is None or not (a.dtype == b.dtype == c.dtype) or a.ndim != 2 or b.ndim != 2 or c.ndim != 2:
        return False
    fn = _routine(char)
    if fn is None:
        return False
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    n = b.shape[1]
    if b.shape[0] != k or c.shape != (m, n) or not (m and n and k):
        return False
    lda, ldb, ldc = _rows(a), _rows(b), _rows(c)
    if not (lda and ldb and ldc):
        return False
    fn(_ROW_MAJOR, _TRANS if trans_a else _NO_TRANS, _NO_TRANS, m, n, k, float(alpha), _address(a), lda,
       _address(b), ldb, float(beta), _address(c), ldc)
    return True


def _address(a: np.ndarray) -> int:
    """Where ``a``'s first number is: through the buffer protocol for a writable contiguous array
    (a third of the time of ``a.ctypes.data``, which builds an object of its own; a product
    of the training step's size spent more time in this than in its arithmetic), else by
    ``a.ctypes.data``."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data
