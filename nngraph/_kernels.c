/* The training step's update in one pass over each slice of a parameter, where numpy makes
 * ten: Adam's step, with a penalty's gradient added to the gradient as it is read (L1:
 * l1 * sign(w), 0 at w = 0; L2: l2 * w; from the weight before the step) and, when max-norm
 * needs them, the column sums of squares of the updated weights.
 *
 * Its results equal those of the same operations in numpy, bit for bit: each operation is done
 * in the same order on the same type and rounded as numpy rounds it (IEEE addition,
 * multiplication, division and square root give the same bits everywhere, vectorised or not),
 * and the build turns off the contraction of a multiply and an add into one fused operation,
 * which would round once where numpy rounds twice. nngraph's numpy code stays the route where
 * this module is not built; tests compare the two.
 *
 * The step is bound by the divider (a square root and a division per number): with the AVX2
 * instructions, where the processor has them, the penalty and the squares ride along in the
 * same time; the plain x86-64 version is kept for processors without. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#if defined(_MSC_VER)
#define restrict __restrict
#define INLINE static __forceinline
#else
#define INLINE static inline __attribute__((always_inline))
#endif

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define VERSIONS __attribute__((target_clones("avx2", "default")))
#else
#define VERSIONS
#endif

enum { FILL_NONE = 0, FILL_L1 = 1, FILL_L2 = 2 };

/* The penalty's gradient P of weight w: l1 * sign(w) (0 at w = 0) or l2 * w. */
#define FILL(T, COPYSIGN, mode, c, w) \
    ((mode) == FILL_L1 ? ((w) == 0 ? (T)0 : COPYSIGN((c), (w))) : (w) * (c))

/* Rows of `cols` numbers each. part (cols, the weights' type) += the column sums of squares of
 * the updated weights, row by row (as numpy's einsum "ij,ij->j" sums them for two columns or
 * more). Each loop is written once and compiled for every mode, with and without sums: a test
 * inside the loop would keep the compiler from vectorising it. */
#define DEFINE(T, SUF, SQRT, COPYSIGN)                                                              \
INLINE void                                                                                         \
adam_body_##SUF(T *restrict p, T *restrict g, T *restrict m, T *restrict v, Py_ssize_t rows,        \
                Py_ssize_t cols, T b1, T b2, T eps, T scale, const int mode, T c, T *restrict part,  \
                const int sums)                                                                     \
{                                                                                                   \
    for (Py_ssize_t r = 0; r < rows; r++) {                                                         \
        T *restrict pr = p + r * cols, *restrict gr = g + r * cols;                                 \
        T *restrict mr = m + r * cols, *restrict vr = v + r * cols;                                 \
        for (Py_ssize_t j = 0; j < cols; j++) {                                                     \
            T w = pr[j], gi = gr[j];                                                                \
            if (mode != FILL_NONE) gi = gi + FILL(T, COPYSIGN, mode, c, w);                         \
            T mi = mr[j] * b1; mi = mi + gi; mr[j] = mi;                                            \
            T sq = gi * gi;                                                                         \
            T vi = vr[j] * b2; vi = vi + sq; vr[j] = vi;                                            \
            T d = SQRT(vi); d = d + eps; d = mi / d; d = d * scale;                                 \
            w = w - d; pr[j] = w;                                                                   \
            if (sums) { T s = w * w; part[j] = part[j] + s; }                                       \
        }                                                                                           \
    }                                                                                               \
}                                                                                                   \
INLINE void                                                                                         \
after_body_##SUF(const T *restrict p, T *restrict g, Py_ssize_t rows, Py_ssize_t cols,             \
                 const int mode, T c, T *restrict part, const int sums)                             \
{                                                                                                   \
    for (Py_ssize_t r = 0; r < rows; r++) {                                                         \
        const T *restrict pr = p + r * cols;                                                        \
        T *restrict gr = g + r * cols;                                                              \
        for (Py_ssize_t j = 0; j < cols; j++) {                                                     \
            T w = pr[j];                                                                            \
            if (mode != FILL_NONE) gr[j] = FILL(T, COPYSIGN, mode, c, w);                           \
            if (sums) { T s = w * w; part[j] = part[j] + s; }                                       \
        }                                                                                           \
    }                                                                                               \
}                                                                                                   \
VERSIONS static void adam_##SUF(T *p, T *g, T *m, T *v, Py_ssize_t rows, Py_ssize_t cols, T b1, T b2, T eps, \
                       T scale, int mode, T c, T *part)                                             \
{                                                                                                   \
    switch (mode * 2 + (part != NULL)) {                                                            \
    case 0: adam_body_##SUF(p, g, m, v, rows, cols, b1, b2, eps, scale, FILL_NONE, c, part, 0); break; \
    case 1: adam_body_##SUF(p, g, m, v, rows, cols, b1, b2, eps, scale, FILL_NONE, c, part, 1); break; \
    case 2: adam_body_##SUF(p, g, m, v, rows, cols, b1, b2, eps, scale, FILL_L1, c, part, 0); break; \
    case 3: adam_body_##SUF(p, g, m, v, rows, cols, b1, b2, eps, scale, FILL_L1, c, part, 1); break; \
    case 4: adam_body_##SUF(p, g, m, v, rows, cols, b1, b2, eps, scale, FILL_L2, c, part, 0); break; \
    default: adam_body_##SUF(p, g, m, v, rows, cols, b1, b2, eps, scale, FILL_L2, c, part, 1); break; \
    }                                                                                               \
}                                                                                                   \
VERSIONS static void after_##SUF(const T *p, T *g, Py_ssize_t rows, Py_ssize_t cols, int mode, T c, T *part) \
{                                                                                                   \
    switch (mode * 2 + (part != NULL)) {                                                            \
    case 0: break;                                                                                  \
    case 1: after_body_##SUF(p, g, rows, cols, FILL_NONE, c, part, 1); break;                       \
    case 2: after_body_##SUF(p, g, rows, cols, FILL_L1, c, part, 0); break;                         \
    case 3: after_body_##SUF(p, g, rows, cols, FILL_L1, c, part, 1); break;                         \
    case 4: after_body_##SUF(p, g, rows, cols, FILL_L2, c, part, 0); break;                         \
    default: after_body_##SUF(p, g, rows, cols, FILL_L2, c, part, 1); break;                        \
    }                                                                                               \
}

DEFINE(double, d, sqrt, copysign)
DEFINE(float, f, sqrtf, copysignf)

typedef struct {
    Py_buffer b[4];
    int held;
} Buffers;

static void release(Buffers *bs)
{
    for (int i = 0; i < bs->held; i++)
        PyBuffer_Release(&bs->b[i]);
    bs->held = 0;
}

/* The arrays, writable and C-contiguous, of `width`-byte floats, each `n` numbers long. */
static int take(Buffers *bs, PyObject **objs, int count, int width, Py_ssize_t *n, int distinct)
{
    bs->held = 0;
    for (int i = 0; i < count; i++) {
        if (PyObject_GetBuffer(objs[i], &bs->b[i], PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) {
            release(bs);
            return -1;
        }
        bs->held++;
        const char *f = bs->b[i].format ? bs->b[i].format : "B";
        if (*f == '@' || *f == '=' || *f == '<') f++;
        if (bs->b[i].itemsize != width || (width == 8 ? strcmp(f, "d") : strcmp(f, "f"))) {
            PyErr_SetString(PyExc_TypeError, "arrays of float32 or float64, all of one type");
            release(bs);
            return -1;
        }
        Py_ssize_t len = bs->b[i].len / width;
        if (i == 0) *n = len;
        else if (len != *n) {
            PyErr_SetString(PyExc_ValueError, "arrays of different lengths");
            release(bs);
            return -1;
        }
        for (int k = 0; k < i && distinct; k++)
            if ((char *)bs->b[k].buf < (char *)bs->b[i].buf + bs->b[i].len &&
                (char *)bs->b[i].buf < (char *)bs->b[k].buf + bs->b[k].len) {
                PyErr_SetString(PyExc_ValueError, "arrays that overlap");
                release(bs);
                return -1;
            }
    }
    return 0;
}

static int width_of(PyObject *o)
{
    Py_buffer b;
    if (PyObject_GetBuffer(o, &b, PyBUF_FORMAT | PyBUF_ND) < 0)
        return -1;
    int w = (int)b.itemsize;
    PyBuffer_Release(&b);
    if (w != 4 && w != 8) {
        PyErr_SetString(PyExc_TypeError, "arrays of float32 or float64");
        return -1;
    }
    return w;
}

/* sums: None, or a writable float64 array of `cols` numbers. */
static int take_sums(PyObject *o, Py_buffer *s, Py_ssize_t cols)
{
    if (o == Py_None)
        return 0;
    if (PyObject_GetBuffer(o, s, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    const char *f = s->format ? s->format : "B";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    if (s->itemsize != 8 || strcmp(f, "d") || s->len / 8 != cols) {
        PyBuffer_Release(s);
        PyErr_SetString(PyExc_ValueError, "sums: float64, one per column");
        return -1;
    }
    return 1;
}

static PyObject *run(PyObject *const *args, Py_ssize_t nargs, int adam)
{
    /* adam(p, g, m, v, cols, b1, b2, eps, scale, mode, c, sums)
     * after(p, g, cols, mode, c, sums) */
    int arrays = adam ? 4 : 2;
    if (nargs != (adam ? 12 : 6)) {
        PyErr_SetString(PyExc_TypeError, adam ? "adam takes 12 arguments" : "after takes 6 arguments");
        return NULL;
    }
    int width = width_of(args[0]);
    if (width < 0)
        return NULL;
    Py_ssize_t cols = PyLong_AsSsize_t(args[arrays]);
    if (cols == -1 && PyErr_Occurred())
        return NULL;
    double k[4] = {0, 0, 0, 0};
    if (adam)
        for (int i = 0; i < 4; i++) {
            k[i] = PyFloat_AsDouble(args[5 + i]);
            if (k[i] == -1.0 && PyErr_Occurred())
                return NULL;
        }
    int at = adam ? 9 : 3;
    long mode = PyLong_AsLong(args[at]);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    double c = PyFloat_AsDouble(args[at + 1]);
    if (c == -1.0 && PyErr_Occurred())
        return NULL;
    if (mode < FILL_NONE || mode > FILL_L2) {
        PyErr_SetString(PyExc_ValueError, "mode: 0, 1 or 2");
        return NULL;
    }
    Buffers bs;
    Py_ssize_t n = 0;
    /* after() with mode 0 only reads p: g may be p itself */
    if (take(&bs, (PyObject **)args, arrays, width, &n, adam || mode != FILL_NONE) < 0)
        return NULL;
    if (cols <= 0 || n % cols) {
        release(&bs);
        PyErr_SetString(PyExc_ValueError, "cols must divide the arrays' length");
        return NULL;
    }
    Py_buffer sb;
    int has_sums = take_sums(args[at + 2], &sb, cols);
    if (has_sums < 0) {
        release(&bs);
        return NULL;
    }
    void *part = NULL;
    if (has_sums) {
        part = PyMem_RawCalloc((size_t)cols, (size_t)width);
        if (!part) {
            PyBuffer_Release(&sb);
            release(&bs);
            return PyErr_NoMemory();
        }
    }
    Py_ssize_t rows = n / cols;
    Py_BEGIN_ALLOW_THREADS
    if (width == 8) {
        double *P = bs.b[0].buf, *G = bs.b[1].buf;
        if (adam)
            adam_d(P, G, bs.b[2].buf, bs.b[3].buf, rows, cols, k[0], k[1], k[2], k[3], (int)mode, c, part);
        else
            after_d(P, G, rows, cols, (int)mode, c, part);
    } else {
        float *P = bs.b[0].buf, *G = bs.b[1].buf;
        if (adam)
            adam_f(P, G, bs.b[2].buf, bs.b[3].buf, rows, cols, (float)k[0], (float)k[1], (float)k[2],
                   (float)k[3], (int)mode, (float)c, part);
        else
            after_f(P, G, rows, cols, (int)mode, (float)c, part);
    }
    if (has_sums) {
        double *s = sb.buf;
        if (width == 8)
            for (Py_ssize_t j = 0; j < cols; j++) s[j] = s[j] + ((double *)part)[j];
        else
            for (Py_ssize_t j = 0; j < cols; j++) s[j] = s[j] + (double)((float *)part)[j];
    }
    Py_END_ALLOW_THREADS
    if (has_sums) {
        PyMem_RawFree(part);
        PyBuffer_Release(&sb);
    }
    release(&bs);
    Py_RETURN_NONE;
}

static PyObject *adam(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return run(args, nargs, 1);
}

static PyObject *after(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return run(args, nargs, 0);
}

static PyMethodDef methods[] = {
    {"adam", (PyCFunction)(void (*)(void))adam, METH_FASTCALL,
     "adam(p, g, m, v, cols, beta1, beta2, eps, scale, mode, c, sums): Adam's step on one slice, "
     "then g = P (mode 1: c*sign(p), 2: c*p) and sums += the column sums of p*p (sums not None)."},
    {"after", (PyCFunction)(void (*)(void))after, METH_FASTCALL,
     "after(p, g, cols, mode, c, sums): g = P and sums += the column sums of p*p, in one pass."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

PyMODINIT_FUNC PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
