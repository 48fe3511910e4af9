/* The training step's update in one pass over each slice of a parameter, where numpy makes up
 * to ten (Adam): each optimizer's step, with a penalty's gradient added to the gradient as it is
 * read (L1: l1 * sign(w), 0 at w = 0; L2: l2 * w; from the weight before the step) and, when
 * max-norm needs them, the column sums of squares of the updated weights.
 *
 * Its results equal those of the same operations in numpy, bit for bit: each operation is done
 * in the same order on the same type and rounded as numpy rounds it (IEEE addition,
 * multiplication, division and square root give the same bits everywhere, vectorised or not),
 * and the build turns off the contraction of a multiply and an add into one fused operation,
 * which would round once where numpy rounds twice. nngraph's numpy code stays the route where
 * this module is not built; tests compare the two.
 *
 * The adaptive methods' step is bound by the divider (a square root and a division per number):
 * with the AVX2 instructions, where the processor has them, the penalty and the squares ride
 * along in the same time; the plain x86-64 version is kept for processors without. */
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

/* One step of each optimizer on one number: w, the weight (updated in place), gi, its gradient
 * (penalty included), s0[i] and s1[i], its state, k0-k3, the step's constants (see step()).
 * Each line is numpy's route (nngraph/optimizers.py) operation for operation. */
#define SGD(T, SQRT) { T d = gi * k0; w = w - d; }
#define MOMENTUM(T, SQRT) { T vi = s0[i] * k0; T d = gi * k1; vi = vi - d; s0[i] = vi; w = w + vi; }
#define NESTEROV(T, SQRT)                                                                          \
    { T vi = s0[i]; T d = vi * k0; w = w - d; vi = vi * k0; d = gi * k1; vi = vi - d; s0[i] = vi;  \
      d = vi * k2; w = w + d; }
#define ADAGRAD(T, SQRT)                                                                           \
    { T sq = gi * gi; T a = s0[i] + sq; s0[i] = a;                                                 \
      T d = SQRT(a); d = d + k1; d = gi / d; d = d * k0; w = w - d; }
#define RMSPROP(T, SQRT)                                                                           \
    { T sq = gi * gi; T a = s0[i] * k0; sq = sq * k1; a = a + sq; s0[i] = a;                       \
      T d = SQRT(a); d = d + k3; d = gi / d; d = d * k2; w = w - d; }
#define ADAM(T, SQRT)                                                                              \
    { T mi = s0[i] * k0; mi = mi + gi; s0[i] = mi; T sq = gi * gi; T vi = s1[i] * k1; vi = vi + sq; \
      s1[i] = vi; T d = SQRT(vi); d = d + k2; d = mi / d; d = d * k3; w = w - d; }

/* Rows of `cols` numbers each. part (cols, the weights' type) += the column sums of squares of
 * the updated weights, row by row (as numpy's einsum "ij,ij->j" sums them for two columns or
 * more). Each loop is written once and compiled for every optimizer and mode, with and without
 * sums: a test inside the loop would keep the compiler from vectorising it. */
#define KIND(T, SUF, SQRT, COPYSIGN, NAME, BODY)                                                    \
INLINE void NAME##_body_##SUF(T *restrict p, const T *restrict g, T *restrict s0, T *restrict s1,   \
                              Py_ssize_t rows, Py_ssize_t cols, T k0, T k1, T k2, T k3,             \
                              const int mode, T c, T *restrict part, const int sums)                \
{                                                                                                   \
    for (Py_ssize_t r = 0; r < rows; r++)                                                           \
        for (Py_ssize_t j = 0; j < cols; j++) {                                                     \
            Py_ssize_t i = r * cols + j;                                                            \
            T w = p[i], gi = g[i];                                                                  \
            if (mode != FILL_NONE) gi = gi + FILL(T, COPYSIGN, mode, c, w);                         \
            BODY(T, SQRT)                                                                           \
            p[i] = w;                                                                               \
            if (sums) { T s = w * w; part[j] = part[j] + s; }                                       \
        }                                                                                           \
}                                                                                                   \
VERSIONS static void NAME##_##SUF(T *p, const T *g, T *s0, T *s1, Py_ssize_t rows, Py_ssize_t cols, \
                                  T k0, T k1, T k2, T k3, int mode, T c, T *part)                   \
{                                                                                                   \
    switch (mode * 2 + (part != NULL)) {                                                            \
    case 0: NAME##_body_##SUF(p, g, s0, s1, rows, cols, k0, k1, k2, k3, FILL_NONE, c, part, 0); break; \
    case 1: NAME##_body_##SUF(p, g, s0, s1, rows, cols, k0, k1, k2, k3, FILL_NONE, c, part, 1); break; \
    case 2: NAME##_body_##SUF(p, g, s0, s1, rows, cols, k0, k1, k2, k3, FILL_L1, c, part, 0); break; \
    case 3: NAME##_body_##SUF(p, g, s0, s1, rows, cols, k0, k1, k2, k3, FILL_L1, c, part, 1); break; \
    case 4: NAME##_body_##SUF(p, g, s0, s1, rows, cols, k0, k1, k2, k3, FILL_L2, c, part, 0); break; \
    default: NAME##_body_##SUF(p, g, s0, s1, rows, cols, k0, k1, k2, k3, FILL_L2, c, part, 1); break; \
    }                                                                                               \
}

/* The product's route (see nngraph/regularizers.py, InProduct): g = P of the updated weights and
 * the sums of squares, in one pass. */
#define AFTER(T, SUF, COPYSIGN)                                                                     \
INLINE void after_body_##SUF(const T *restrict p, T *restrict g, Py_ssize_t rows, Py_ssize_t cols, \
                             const int mode, T c, T *restrict part, const int sums)                 \
{                                                                                                   \
    for (Py_ssize_t r = 0; r < rows; r++)                                                           \
        for (Py_ssize_t j = 0; j < cols; j++) {                                                     \
            Py_ssize_t i = r * cols + j;                                                            \
            T w = p[i];                                                                             \
            if (mode != FILL_NONE) g[i] = FILL(T, COPYSIGN, mode, c, w);                            \
            if (sums) { T s = w * w; part[j] = part[j] + s; }                                       \
        }                                                                                           \
}                                                                                                   \
VERSIONS static void after_##SUF(const T *p, T *g, Py_ssize_t rows, Py_ssize_t cols, int mode, T c, \
                                 T *part)                                                           \
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

#define DEFINE(T, SUF, SQRT, COPYSIGN)                                                              \
    KIND(T, SUF, SQRT, COPYSIGN, sgd, SGD)                                                          \
    KIND(T, SUF, SQRT, COPYSIGN, momentum, MOMENTUM)                                                \
    KIND(T, SUF, SQRT, COPYSIGN, nesterov, NESTEROV)                                                \
    KIND(T, SUF, SQRT, COPYSIGN, adagrad, ADAGRAD)                                                  \
    KIND(T, SUF, SQRT, COPYSIGN, rmsprop, RMSPROP)                                                  \
    KIND(T, SUF, SQRT, COPYSIGN, adam, ADAM)                                                        \
    AFTER(T, SUF, COPYSIGN)                                                                         \
    typedef void (*step_##SUF)(T *, const T *, T *, T *, Py_ssize_t, Py_ssize_t, T, T, T, T, int, T, T *); \
    static const step_##SUF steps_##SUF[] = {sgd_##SUF, momentum_##SUF, nesterov_##SUF,             \
                                            adagrad_##SUF, rmsprop_##SUF, adam_##SUF};

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

/* The optimizers, in the order of the step functions above, and how many state arrays each keeps. */
static const char *const KINDS[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"};
static const int SLOTS[] = {0, 1, 1, 1, 1, 2};

static int number(PyObject *o, double *out)
{
    *out = PyFloat_AsDouble(o);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* The arrays, the columns, the mode and c and the sums of step() and after(); then the work. */
static PyObject *run(PyObject *const *arrays, int count, int distinct, PyObject *cols_obj, PyObject *mode_obj,
                     PyObject *c_obj, PyObject *sums_obj, int kind, const double *k)
{
    int width = width_of(arrays[0]);
    if (width < 0)
        return NULL;
    Py_ssize_t cols = PyLong_AsSsize_t(cols_obj);
    if (cols == -1 && PyErr_Occurred())
        return NULL;
    long mode = PyLong_AsLong(mode_obj);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    double c;
    if (number(c_obj, &c) < 0)
        return NULL;
    if (mode < FILL_NONE || mode > FILL_L2) {
        PyErr_SetString(PyExc_ValueError, "mode: 0, 1 or 2");
        return NULL;
    }
    Buffers bs;
    Py_ssize_t n = 0;
    if (take(&bs, (PyObject **)arrays, count, width, &n, distinct || mode != FILL_NONE) < 0)
        return NULL;
    if (cols <= 0 || n % cols) {
        release(&bs);
        PyErr_SetString(PyExc_ValueError, "cols must divide the arrays' length");
        return NULL;
    }
    Py_buffer sb;
    int has_sums = take_sums(sums_obj, &sb, cols);
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
    void *s0 = count > 2 ? bs.b[2].buf : NULL, *s1 = count > 3 ? bs.b[3].buf : NULL;
    Py_BEGIN_ALLOW_THREADS
    if (width == 8) {
        if (kind >= 0)
            steps_d[kind](bs.b[0].buf, bs.b[1].buf, s0, s1, rows, cols, k[0], k[1], k[2], k[3], (int)mode, c, part);
        else
            after_d(bs.b[0].buf, bs.b[1].buf, rows, cols, (int)mode, c, part);
    } else {
        if (kind >= 0)
            steps_f[kind](bs.b[0].buf, bs.b[1].buf, s0, s1, rows, cols, (float)k[0], (float)k[1], (float)k[2],
                          (float)k[3], (int)mode, (float)c, part);
        else
            after_f(bs.b[0].buf, bs.b[1].buf, rows, cols, (int)mode, (float)c, part);
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

/* step(kind, p, g, state, cols, k, mode, c, sums): state a tuple of the optimizer's arrays, k a
 * tuple of its step's numbers (see nngraph/optimizers.py, Optimizer._compiled). */
static PyObject *step(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "step takes 9 arguments");
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(args[0]);
    if (!name)
        return NULL;
    int kind = -1;
    for (int i = 0; i < 6; i++)
        if (!strcmp(name, KINDS[i]))
            kind = i;
    if (kind < 0) {
        PyErr_Format(PyExc_ValueError, "no optimizer %R", args[0]);
        return NULL;
    }
    if (!PyTuple_Check(args[3]) || PyTuple_GET_SIZE(args[3]) != SLOTS[kind] || !PyTuple_Check(args[5]) ||
        PyTuple_GET_SIZE(args[5]) > 4) {
        PyErr_Format(PyExc_TypeError, "%s keeps %d state arrays and takes up to 4 numbers", name, SLOTS[kind]);
        return NULL;
    }
    PyObject *arrays[4] = {args[1], args[2], NULL, NULL};
    for (int i = 0; i < SLOTS[kind]; i++)
        arrays[2 + i] = PyTuple_GET_ITEM(args[3], i);
    double k[4] = {0, 0, 0, 0};
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args[5]); i++)
        if (number(PyTuple_GET_ITEM(args[5], i), &k[i]) < 0)
            return NULL;
    return run(arrays, 2 + SLOTS[kind], 1, args[4], args[6], args[7], args[8], kind, k);
}

/* after(p, g, cols, mode, c, sums) */
static PyObject *after(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "after takes 6 arguments");
        return NULL;
    }
    /* with mode 0 only p is read: g may be p itself */
    return run(args, 2, 0, args[2], args[3], args[4], args[5], -1, NULL);
}

static PyMethodDef methods[] = {
    {"step", (PyCFunction)(void (*)(void))step, METH_FASTCALL,
     "step(kind, p, g, state, cols, k, mode, c, sums): one optimizer step on a slice of rows of cols "
     "numbers, the gradient read as g + P (mode 1: c*sign(p), 2: c*p, 0: g), and sums += the column sums "
     "of the updated p*p (sums not None)."},
    {"after", (PyCFunction)(void (*)(void))after, METH_FASTCALL,
     "after(p, g, cols, mode, c, sums): g = P and sums += the column sums of p*p, in one pass."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, methods};

/* API: raised whenever a function's arguments change, so that nngraph can tell a module built
 * from an older source (an editable install not rebuilt) and leave it alone. */
PyMODINIT_FUNC PyInit__kernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "API", 2) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
