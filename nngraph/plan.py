"""A compiled network: its stages, inputs and outputs, parameters by name, and ``forward``."""
from __future__ import annotations

import os
import threading

import numpy as np

from .errors import DataError, NNGraphError
from .graph import Graph
from .params import bias_key, expected_shapes
from .text import plural


def _numbers(x, what: str, dtype=None) -> np.ndarray:
    """``x`` as a numeric array, or a DataError that says why not (ragged rows, text, None)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        return x if dtype is None else x.astype(dtype, copy=False)
    if x is None or isinstance(x, (str, bytes, bytearray)):
        raise DataError(f"{what}: expected numbers (an array of shape (batch, inputs)), found {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what}: not a rectangular array of numbers ({str(exc).split('.')[0]}); every row needs "
                        "the same number of values") from None
    if arr.dtype.kind not in "fiub":
        raise DataError(f"{what}: expected numbers, found values of type {arr.dtype}")
    return arr


def _too_large(x: np.ndarray, dtype) -> DataError:
    """The first input beyond the largest number of ``dtype``, named by row and column."""
    top = float(np.finfo(dtype).max)
    with np.errstate(invalid="ignore"):
        r, c = (int(i) for i in np.argwhere(np.abs(x) > top)[0])
    return DataError(f"inputs row {r}, column {c}: {x[r, c]:g} is too large for {np.dtype(dtype).name} (at most about "
                     f"{top:.1e}), the plan's precision: it would become inf; scale the inputs down, or compile in "
                     "float64 (compile(spec, dtype='float64'); the CLI's --float64)")


def stage_count(computed: int) -> str:
    """How every count of stages is said to a user: the stages that compute, after the inputs'
    stage 0 (``len(plan.stages) - 1``, the network's depth), e.g. "2 stages after the inputs"."""
    return f"{computed:,} stage{'' if computed == 1 else 's'} after the inputs"


class Plan:
    """A compiled network. Call :meth:`forward`; inspect :attr:`stages` (``stages[0]`` is the
    inputs, so a network of depth d has d + 1 of them); :meth:`save` parameters."""

    #: Parameters holding random initial values that nothing set (see nngraph.params.untrained_parameters).
    untrained: list = []

    def __init__(self, graph: Graph, stages, col_of, dtype, params_origin: str):
        self.graph = graph
        self.spec = graph.spec
        self.stages = stages
        self.dtype = np.dtype(dtype)
        self.col_of = col_of  # column of each global neuron within its stage
        self.stage_of = graph.neuron_level
        self.params_origin = params_origin  # in words: "parameters from net.params.npz", "weights from the spec", ...
        # the parameters file the values came from (as the spec names it, or as plan.load was given), else None
        self.params_file = graph.spec.parameters if params_origin.startswith("parameters from ") else None
        self.inputs = [(n.name, n.size) for n in graph.inputs]
        self.outputs = [(n.name, n.size) for n in graph.outputs]
        self.input_width = sum(s for _, s in self.inputs)
        self.output_width = sum(s for _, s in self.outputs)
        self._out_index = [self._locate_node(n) for n in graph.outputs]
        self._param_index = None
        self._local = threading.local()  # per-thread scratch buffers (see _buffers)
        # Threads for one large batch of a plan with sparse blocks (see nngraph.runtime.infer);
        # 1 = the calling thread only. Dense products use BLAS threads instead.
        self._threads = 1
        self._sparse_plan = any(b.sparse for st in stages for b in st.blocks)

    @property
    def threads(self) -> int:
        """Threads for one large batch of a plan with sparse blocks (1: the calling thread only)."""
        return self._threads

    @threads.setter
    def threads(self, value: int) -> None:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 1 <= value <= 64:
            raise NNGraphError(f"plan.threads must be a whole number from 1 to 64, not {value!r}")
        self._threads = int(value)

    @property
    def _buffers(self) -> dict:
        """This thread's forward buffers by batch size. Each thread gets its own, so threads can
        share one plan and get exactly the serial results; one thread reuses them call after call."""
        try:
            return self._local.buffers
        except AttributeError:
            self._local.buffers = {}
            return self._local.buffers

    def __getstate__(self):  # scratch buffers and accessors are rebuilt, not copied or pickled
        state = self.__dict__.copy()
        del state["_local"]
        state["_param_index"] = None
        return state

    def __copy__(self):
        """``copy.copy(plan)``: a plan with its own parameters, as a Keras or PyTorch user expects of
        a copy (fitting it leaves this one as it was). The compiled stages, which hold the weights
        and biases, are copied; the spec and graph, which never change, are shared."""
        import copy

        new = object.__new__(type(self))
        state = self.__getstate__()
        state["stages"] = copy.deepcopy(self.stages)
        state["untrained"] = list(self.untrained)
        new.__setstate__(state)
        return new

    def __setstate__(self, state):
        if "threads" in state:  # pickled before threads was checked on assignment
            state["_threads"] = state.pop("threads")
        self.__dict__.update(state)
        self._local = threading.local()

    # -- inputs and outputs ----------------------------------------------------------------
    def _locate_node(self, node):
        g = np.arange(node.offset, node.offset + node.size)
        stages, cols = self.stage_of[g], self.col_of[g]
        if (stages == stages[0]).all() and (np.diff(cols) == 1).all():
            return [(int(stages[0]), slice(int(cols[0]), int(cols[-1]) + 1), None)]
        return [(int(s), cols[local], local) for s, local in _groups(stages)]

    def input_names(self) -> list[str]:
        """One name per input column: the node's labels, ``name[i]``, or the node name (size 1)."""
        return _column_names(self.graph.inputs)

    def output_names(self) -> list[str]:
        return _column_names(self.graph.outputs)

    def as_input(self, x) -> np.ndarray:
        """An array (batch, input width) from an array or a dict of input node name -> values."""
        if isinstance(x, dict):
            names = [n for n, _ in self.inputs]
            labels = [lab for n in names for lab in (self.graph.node(n).spec.labels or [])]
            unknown = sorted((str(k) for k in x if k not in names and k not in labels), key=str)
            if unknown:  # before labels are gathered: a misspelt label is named, not "label missing"
                from .spec import suggest
                name = unknown[0]
                also = f", or their labels {', '.join(labels[:12])}{'...' if len(labels) > 12 else ''}" if labels else ""
                raise DataError(f"'{name}' is not an input node{' or label' if labels else ''}"
                                f"{suggest(name, names + labels)}; inputs are {', '.join(names)}{also}")
            x = self._labels_to_nodes(x)
            parts = []
            for name, size in self.inputs:
                if name not in x:
                    raise DataError(f"input '{name}' is missing ({size} value{'s' if size > 1 else ''} per sample)")
                v = _numbers(x[name], f"input '{name}'", self.dtype)
                v = v.reshape(-1, 1) if v.ndim <= 1 and size == 1 else np.atleast_2d(v)
                if v.ndim != 2:
                    raise DataError(f"input '{name}' has shape {v.shape}; give (batch, {size}) values")
                if v.shape[1] != size:
                    raise DataError(f"input '{name}' has {plural(v.shape[1], 'value')} per sample; it has {plural(size, 'neuron')}")
                if parts and len(v) != len(parts[0]):
                    first = self.inputs[0][0]
                    raise DataError(f"input '{name}' has {len(v)} samples but '{first}' has {len(parts[0])}; "
                                    "every input needs one row per sample")
                parts.append(v)
            x = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        x = _numbers(x, "the inputs")
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.ndim != 2 or x.shape[1] != self.input_width:
            raise DataError(f"expected an array of shape (batch, {self.input_width}) "
                            f"({', '.join(f'{n} {s}' for n, s in self.inputs)}); found shape {x.shape}")
        if x.dtype != self.dtype or not x.flags.c_contiguous:
            with np.errstate(over="raise"):  # 1e300 in float32 would be inf: said, at no cost when it fits
                try:
                    x = np.ascontiguousarray(x, dtype=self.dtype)
                except FloatingPointError:
                    raise _too_large(x, self.dtype) from None
        return x

    def _labels_to_nodes(self, x: dict) -> dict:
        """Input labels (``{"a": [0, 1], "b": [1, 1]}``, as ``--input a=0`` takes them) to node arrays."""
        names = {n for n, _ in self.inputs}
        by_label = {lab: (n, i, size) for n, size in self.inputs
                    for i, lab in enumerate(self.graph.node(n).spec.labels or [])}
        if all(k in names or k not in by_label for k in x):
            return x
        out, parts = {}, {}
        for k, v in x.items():
            if k in names or k not in by_label:
                out[k] = v
            else:
                node, i, size = by_label[k]
                v = _numbers(v, f"input label '{k}'", self.dtype)
                if v.ndim > 2 or (v.ndim == 2 and v.shape[1] != 1):
                    raise DataError(f"input label '{k}' has shape {v.shape}; a label is one value per "
                                    "sample: give a number or a list of them")
                parts.setdefault(node, {})[i] = v.reshape(-1)
        for node, cols in parts.items():
            labels = self.graph.node(node).spec.labels
            if node in out:
                raise DataError(f"input '{node}' is given both by name and by its labels")
            if len(cols) != len(labels):
                missing = [lab for i, lab in enumerate(labels) if i not in cols]
                raise DataError(f"input '{node}' needs every label: {', '.join(missing)} missing")
            counts = {labels[i]: len(c) for i, c in cols.items()}
            if len(set(counts.values())) > 1:
                said = ", ".join(f"'{lab}' {n}" for lab, n in counts.items())
                raise DataError(f"the labels of input '{node}' give different numbers of samples ({said}); "
                                "every label needs one value per sample")
            out[node] = np.stack([cols[i] for i in range(len(labels))], axis=1)
        return out

    def gather_outputs(self, acts) -> np.ndarray:
        parts = []
        for (name, size), where in zip(self.outputs, self._out_index):
            if len(where) == 1 and where[0][2] is None:
                s, cols, _ = where[0]
                parts.append(acts[s][:, cols])
            else:
                out = np.empty((acts[0].shape[0], size), dtype=self.dtype)
                for s, cols, local in where:
                    out[:, local] = acts[s][:, cols]
                parts.append(out)
        if len(parts) == 1:
            return parts[0].copy()
        return np.concatenate(parts, axis=1)

    # -- running --------------------------------------------------------------------------
    def forward(self, x, *, as_dict: bool = False, check: bool = False):
        """Run a batch. ``x``: (batch, inputs) array, input nodes concatenated in spec order, or a
        dict name -> array. Returns (batch, outputs), output nodes concatenated in spec order, or
        a dict name -> array with ``as_dict=True``.

        Input values are not looked at: NaN or infinity in a row gives NaN or infinite outputs in
        that row (reading every value costs 2-4% of the MNIST MLP's forward pass at 1,000 to 10,000
        rows, about 3.5% at one row). ``check=True`` refuses them with a :class:`~nngraph.errors.DataError` naming the
        first one's row, column and input, as the CLI does for input files."""
        if type(x) is not np.ndarray or x.dtype != self.dtype or x.ndim != 2 or x.shape[1] != self.input_width:
            x = self.as_input(x)
        if check:
            self._check_finite(x)
        y = (_infer or _load_runtime())(self, x)
        if as_dict:
            out, at = {}, 0
            for name, size in self.outputs:
                out[name] = y[:, at:at + size]
                at += size
            return out
        return y

    __call__ = forward

    def _check_finite(self, x: np.ndarray) -> None:
        flat = x.reshape(-1)
        if np.isfinite(np.dot(flat, flat)):  # one BLAS pass; NaN and infinity always reach the sum
            return
        bad = ~np.isfinite(x)
        if not bad.any():
            return  # the squares overflowed: large but finite values
        rows, cols = np.nonzero(bad)
        r, c = int(rows[0]), int(cols[0])
        count = "" if len(rows) == 1 else (f" ({len(rows):,} values in {len(np.unique(rows)):,} rows are not "
                                           "finite)")
        raise DataError(f"inputs row {r}, column {c} ({self.input_names()[c]}): {x[r, c]} is not a finite "
                        f"number{count}; inputs must be finite numbers")

    def bind(self, batch: int = 1):
        """A callable for many calls of one batch size (default: one sample at a time), the
        fastest way to run samples one by one: ``predict = plan.bind()`` then ``predict(x[i:i + 1])``
        with ``x`` a C-contiguous array in the plan's dtype. Same results as :meth:`forward`; the
        buffers and calls are prepared once, so a call does little but the matrix products. Bind
        in the thread that calls it (calls from other threads, or of other shapes and dtypes,
        still work: they go through :meth:`forward`). Each call returns a fresh array."""
        from .runtime import bind

        if int(batch) < 1:
            raise DataError(f"batch must be at least 1, not {batch}")
        return bind(self, int(batch))

    def trace(self, x):
        """Every neuron's pre-activation and activation by node name: a :class:`nngraph.trace.Trace`.
        Same inputs as :meth:`forward`; the untraced :meth:`forward` is unchanged by it."""
        from .trace import trace

        return trace(self, x)

    # -- parameters -----------------------------------------------------------------------
    def parameters(self) -> dict:
        """Current parameter values by name (float64 copies), as stored in a parameters file."""
        out = {}
        for key, (shape, places) in self.param_index().items():
            value = np.zeros(int(np.prod(shape)))
            for get, _ in places:
                get(value)
            out[key] = value.reshape(shape)
        return out

    def set_parameters(self, values: dict) -> None:
        """Write parameter values (by name) into the compiled blocks: finite numbers of the
        declared shapes; anything else is refused, naming the parameter, before any is written."""
        index = self.param_index()
        if not isinstance(values, dict):
            raise NNGraphError(f"parameters are a dict of name -> array (as plan.parameters() gives); found "
                               f"{type(values).__name__}")
        checked = {}
        big = np.finfo(self.dtype).max
        for key, value in values.items():
            if key not in index:
                from .spec import suggest
                raise NNGraphError(f"'{key}' is not a parameter of this network{suggest(str(key), index)}")
            shape, places = index[key]
            try:
                value = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise NNGraphError(f"'{key}' is not an array of numbers ({str(exc).split('.')[0]})") from None
            if value.shape != tuple(shape):
                raise NNGraphError(f"'{key}' has shape {value.shape}; expected {tuple(shape)}")
            if (np.abs(value) <= big).all():  # finite, and within the dtype (one test: NaN and inf fail it)
                checked[key] = value
                continue
            if not np.isfinite(value).all():
                raise NNGraphError(f"'{key}' contains NaN or infinite values; parameters are finite numbers")
            bad = value.ravel()[int(np.flatnonzero(~(np.abs(value.ravel()) <= big))[0])]  # float32 would make it inf
            raise NNGraphError(f"'{key}' ({self.params_origin}) holds {bad:g}, which {self.dtype} cannot hold "
                               f"(at most {big:.3g} in size); run in float64 (--float64)")
        for key, value in checked.items():
            shape, places = index[key]
            flat = value.ravel()
            for _, put in places:
                put(flat)

    def param_index(self):
        if self._param_index is None:
            self._param_index = _build_param_index(self)
        return self._param_index

    def save(self, path=None) -> str:
        """Write the parameters to ``path`` (default: the spec's ``parameters`` file), atomically.
        The folder must exist (it is never created)."""
        from .params import check_writable, parameters_path, write_parameters

        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise NNGraphError(f"plan.save takes the path of an .npz file to write; found {type(path).__name__}")
        target = path if path is not None else parameters_path(self.graph)
        if target is None:
            raise NNGraphError("the spec names no parameters file; give a path")
        if path is None:  # the spec's file: a refusal names the spec's line
            check_writable(self.graph, target)
        write_parameters(target, self.parameters(), self.graph)
        return str(target)

    def load(self, path) -> None:
        """Read parameters from an ``.npz`` (checked against the spec) into the plan.

        The parameters the file holds are no longer :attr:`untrained`; those it lacks keep their
        values, and stay untrained if they were (a file with every parameter clears the list)."""
        from pathlib import Path

        from .params import read_parameters

        if not isinstance(path, (str, os.PathLike)):
            raise NNGraphError(f"plan.load takes the path of an .npz parameters file; found {type(path).__name__}")
        found = read_parameters(Path(path), expected_shapes(self.graph), graph=self.graph)
        self.set_parameters(found)
        self.untrained = [u for u in self.untrained if u.key not in found]
        missing = len(expected_shapes(self.graph)) - len(found)
        rest = "initial (untrained) random weights" if self.untrained else "as they were"
        self.params_origin = f"parameters from {path}" + (f"; the rest: {rest}" if missing else "")
        self.params_file = str(path)

    # -- training (Keras-like; see nngraph.training) ---------------------------------------
    def fit(self, X, y, X_test=None, y_test=None, **train_keys) -> list:
        """Train this plan in place on arrays; ``train_keys`` override the spec's ``train`` section
        (``epochs=5, l2=1e-4, optimizer={"name": "sgd"}``). Returns the history."""
        from .fit import fit

        return fit(self, X, y, X_test, y_test, **train_keys)

    def evaluate(self, X, y) -> dict:
        """Loss and metrics on arrays (class indices for classifiers)."""
        from .fit import evaluate_arrays

        return evaluate_arrays(self, X, y)

    def predict(self, X) -> np.ndarray:
        """Class indices for a classifier (argmax, or output > 0.5 for one output); else the outputs."""
        from .fit import predict

        return predict(self, X)

    def summary(self) -> str:
        """The stage table ``nngraph inspect`` prints, as text."""
        from .summary import summary_text

        return summary_text(self)

    # -- summary --------------------------------------------------------------------------
    @property
    def n_parameters(self) -> int:
        return sum(int(np.prod(s)) for s, _ in self.param_index().values())

    @property
    def macs(self) -> int:
        return sum(s.macs for s in self.stages)

    def __repr__(self):
        return (f"Plan({self.spec.name!r}: {stage_count(len(self.stages) - 1)}, {self.input_width:,} "
                f"input{'' if self.input_width == 1 else 's'} -> {self.output_width:,} "
                f"output{'' if self.output_width == 1 else 's'}, {self.n_parameters:,} "
                f"parameter{'' if self.n_parameters == 1 else 's'}, {self.dtype})")


_infer = None  # nngraph.runtime.infer, bound on first use (the runtime sits above this module)


def _load_runtime():
    global _infer
    from .runtime import infer

    _infer = infer
    return infer


def _column_names(nodes):
    names = []
    for n in nodes:
        labels = n.spec.labels
        if labels:
            names += list(labels)
        elif n.size == 1:
            names.append(n.name)
        else:
            names += [f"{n.name}[{i}]" for i in range(n.size)]
    return names


def _build_param_index(plan: Plan) -> dict:
    """name -> (shape, [(get(flat_out), put(flat_in))]) over the blocks and biases."""
    graph = plan.graph
    shapes = expected_shapes(graph)
    index = {k: (s, []) for k, s in shapes.items()}
    for node in graph.nodes:
        if node.role == "input":
            continue
        g = np.arange(node.offset, node.offset + node.size)
        for s, local in _groups(plan.stage_of[g]):
            cols = plan.col_of[g[local]]
            bias = plan.stages[s].bias
            index[bias_key(node.name)][1].append(_accessor_vec(bias, cols, local))
    for st in plan.stages[1:]:
        for block in st.blocks:
            storage = block.W.data if block.sparse else block.W
            for ci, kind, a, b in block.places:
                c = graph.connections[ci]
                if kind == "rect":
                    index[c.key][1].append(_accessor_rect(storage, a, b, c.shape))
                else:
                    target = storage if block.sparse else storage.reshape(-1)
                    index[c.key][1].append(_accessor_vec(target, a, b))
    return index


def _groups(keys):
    """(key, positions) for each distinct key, in key order: one sort, not one scan per key
    (a node spread over a million stages would otherwise cost a million full scans)."""
    if len(keys) and keys[0] == keys[-1] and (keys == keys[0]).all():  # one key, as most nodes' stages: no sort
        return [(int(keys[0]), np.arange(len(keys)))]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = (sorted_keys[1:] != sorted_keys[:-1]).nonzero()[0] + 1
    return [(int(sorted_keys[lo]), order[lo:hi]) for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(keys)])]


def _accessor_vec(storage, where, pos):
    def get(flat):
        flat[pos] = storage[where]

    def put(flat):
        storage[where] = flat[pos]

    return get, put


def _accessor_rect(storage, rsel, csel, shape):
    """get/put of a dense connection's (m, n) matrix inside a block; slices stay views."""
    if isinstance(rsel, np.ndarray) and isinstance(csel, np.ndarray):
        sub = np.ix_(rsel, csel)
    elif isinstance(rsel, np.ndarray):
        sub = (rsel[:, None], csel)
    else:
        sub = (rsel, csel)

    def get(flat):
        flat[:] = storage[sub].reshape(-1)

    def put(flat):
        storage[sub] = flat.reshape(shape)

    return get, put
