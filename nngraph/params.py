"""Parameter values: from the spec (literal or initializer) or an ``.npz`` file, and back.

Parameters are keyed by stable names: ``edges/<from>-><to>`` (as written in the spec),
``edge_table/<a>-><b>`` / ``edge_file/<a>-><b>`` for compact connections, and
``nodes/<name>/bias``. What the values mean beyond their shapes is recorded beside them as plain
text arrays under ``meta/`` (``meta/activations``: each computing node's name and activation, as
the values were trained with; a file without it, written before it was recorded, still loads).
Files are read with ``allow_pickle=False``; each array's header is read
and checked against the shape the spec implies before any data is read. Files are written to a
temporary file and renamed into place, so a failed run never damages a good file.
"""
from __future__ import annotations

import errno
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ParameterFileError
from .graph import Graph, derived_seed
from .initializers import fill
from .spec.files import UnsafePath, npy_header, require_regular_file, resolve_inside


ACTIVATIONS_KEY = "meta/activations"
_MAX_META_BYTES = 64 * 2**20  # the record holds a name and an activation per node: far below this


def activation_record(graph: Graph) -> np.ndarray:
    """``(node name, activation)`` rows, as text, of every node that computes (not the inputs):
    trained weights fit the activations they were trained with, not only their shapes."""
    rows = [(n.name, activation_word(n.activation)) for n in graph.nodes if n.role != "input"]
    return np.array(rows, dtype=np.str_).reshape(len(rows), 2)


def activation_word(act: tuple) -> str:
    """``relu``; ``leaky_relu(alpha=0.2)`` where a parameter sets it."""
    name, alpha = act
    return name if alpha is None else f"{name}(alpha={alpha:g})"


def bias_key(node_name: str) -> str:
    return f"nodes/{node_name}/bias"


def expected_shapes(graph: Graph) -> dict:
    """Every parameter's name and shape, in spec order."""
    shapes = {}
    for node in graph.nodes:
        if node.role != "input":
            shapes[bias_key(node.name)] = (node.size,)
    for c in graph.connections:
        shapes[c.key] = c.shape
    return shapes


def has_literal_weights(graph: Graph) -> bool:
    return any(c.values is not None for c in graph.connections)


def spec_values(graph: Graph, seed: int | None = None) -> dict:
    """Parameters as the spec declares them: literal values, else seeded initializers.

    ``seed`` defaults to ``train.seed`` (or 0); each parameter draws from its own stream
    derived from the seed and its name, so adding an edge does not change the others.
    """
    spec = graph.spec
    if seed is None:
        seed = spec.train.seed if spec.train is not None else 0
    out = {}
    for node in graph.nodes:
        if node.role == "input":
            continue
        b = node.spec.bias
        key = bias_key(node.name)
        if b is None:
            out[key] = np.zeros(node.size)
        elif isinstance(b, float):
            out[key] = np.full(node.size, b)
        elif isinstance(b, list):
            out[key] = np.array(b, dtype=np.float64)
        else:
            out[key] = fill(b, (node.size,), node.size, node.size, derived_seed(seed, key))
    for c in graph.connections:
        if c.values is not None:
            out[c.key] = np.asarray(c.values, dtype=np.float64).reshape(c.shape)
            continue
        if c.dense:
            fan_in, fan_out = c.m, c.n
        else:
            fan_in = max(1, round(c.count / max(1, len(np.unique(c.cols)))))
            fan_out = max(1, round(c.count / max(1, len(np.unique(c.rows)))))
        out[c.key] = fill(c.init, c.shape, fan_in, fan_out, derived_seed(seed, c.key))
    return out


def parameters_path(graph: Graph) -> Path | None:
    """Where the spec's parameters file lives (inside the spec's folder), or None."""
    spec = graph.spec
    if spec.parameters is None:
        return None
    try:
        path = resolve_inside(spec.base_dir, spec.parameters)
    except UnsafePath as exc:
        raise ParameterFileError(located(spec, ("parameters",), str(exc))) from None
    if spec.parameters.endswith(("/", "\\")) or path.is_dir():
        raise ParameterFileError(located(spec, ("parameters",), f"'{spec.parameters}' is a folder; name a file in it, "
                                         f"e.g. '{spec.parameters.rstrip('/')}/{spec.name}.params.npz'"))
    return path


def located(spec, path: tuple, message: str) -> str:
    """``file:line:col: parameters: message`` (by spec path alone for a spec without lines)."""
    from .spec.source import format_path

    if spec.source is None:
        return f"{format_path(path)}: {message}"
    return spec.source.diag(path, message, "file").format()


def missing_folder(name: str, target: Path) -> str | None:
    """What is wrong with the folder that ``target`` (written ``name`` in the spec) goes in, or None.
    nngraph never creates the folder of a file it writes, as for ``--output``: a missing folder is
    a typo more often than a wish."""
    folder = target.parent
    if folder.is_dir():
        return None
    shown = os.path.dirname(name.rstrip("/\\")) or "."
    what = "is not a folder" if folder.exists() else "does not exist; create it first"
    return f"the folder '{shown}' of '{name}' {what}"


def check_writable(graph: Graph, path: Path) -> None:
    """Refuse, before any work is done, the spec's parameters target if it cannot be written."""
    spec = graph.spec
    problem = missing_folder(spec.parameters, path)
    if problem:
        raise ParameterFileError(located(spec, ("parameters",), f"{problem} (nngraph does not create folders for "
                                         "the files it writes)"))
    if not os.access(path.parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ParameterFileError(located(spec, ("parameters",), f"cannot write '{spec.parameters}': permission denied "
                                         "(the file or its folder is read-only); use --no-save, or make it writable"))


def initial_values(graph: Graph, seed: int | None = None, use_file: bool = True) -> tuple[dict, str]:
    """Spec values, overridden by the parameters file where it exists; and a word on which was used."""
    values, origin, _ = initial_values_and_untrained(graph, seed, use_file)
    return values, origin


def initial_values_and_untrained(graph: Graph, seed: int | None = None, use_file: bool = True):
    """``(values, origin, untrained)``: the values :func:`initial_values` gives, a truthful word
    on where they came from, and the :class:`Untrained` parameters among them."""
    values = spec_values(graph, seed)
    path = parameters_path(graph) if use_file else None
    in_file = set()
    if path is not None and path.exists():
        found = read_parameters(path, expected_shapes(graph), graph.spec.parameters, graph=graph)
        values.update(found)
        in_file = set(found)
    untrained = untrained_parameters(graph, in_file, path)
    return values, _origin(graph, in_file, untrained), untrained


@dataclass(frozen=True)
class Untrained:
    """A parameter whose values are random initial ones that nothing set: ``key`` (its name in
    the parameters file), ``path`` (where the spec declares it) and ``reason`` (in words)."""

    key: str
    path: tuple
    reason: str


def untrained_parameters(graph: Graph, in_file: set, path: Path | None = None) -> list:
    """The parameters that would run with values no one chose: weights given nowhere (no
    ``weight``/``weights``/``init``, not in the parameters file), and, in a spec that declares
    ``train``, trainable parameters that only have the initializer training starts from.

    An ``init`` in a spec without ``train`` (or on a frozen parameter) is chosen on purpose: a
    random network by design. Literal values and the default zero bias are chosen too.
    """
    spec = graph.spec
    wait = _why_not_trained(spec, path)
    out = []
    for c in graph.connections:
        if c.values is not None or c.key in in_file:
            continue
        if c.init is None:
            out.append(Untrained(c.key, c.path, "no weights given (no weight, weights or init) and "
                                 f"{wait if spec.parameters else 'no parameters file'}"))
        elif spec.train is not None and c.trainable:
            out.append(Untrained(c.key, c.path, f"init: {c.init.name} is where training starts, and {wait}"))
    if spec.train is not None:
        for node in graph.nodes:
            key = bias_key(node.name)
            b = node.spec.bias
            if node.role != "input" and node.spec.trainable and key not in in_file and b is not None \
                    and not isinstance(b, (float, list)):
                out.append(Untrained(key, ("nodes", node.index, "bias"),
                                     f"bias init: {b.name} is where training starts, and {wait}"))
    return out


def untrained_words(graph: Graph, untrained: list) -> tuple[str, str]:
    """``("7,840 parameters in 1 array", "initial values")``: the numbers counted (an array is one
    entry of :func:`untrained_parameters`), and ``random initial values`` only when an initializer
    draws them (``init: zeros`` does not)."""
    shapes = expected_shapes(graph)
    numbers = sum(int(np.prod(shapes[u.key])) for u in untrained)
    inits = {c.key: c.init for c in graph.connections}
    inits.update({bias_key(n.name): n.spec.bias for n in graph.nodes if n.role != "input"})
    drawn = [getattr(inits.get(u.key), "name", None) not in ("zeros", "ones", "constant") for u in untrained]
    kind = "random initial values" if all(drawn) else "initial values, some random" if any(drawn) else "initial values"
    return (f"{numbers:,} parameter{'' if numbers == 1 else 's'} in {len(untrained):,} "
            f"arra{'y' if len(untrained) == 1 else 'ys'}", kind)


def suggested_parameters_file(spec) -> str:
    """``parameters: NAME.params.npz``, NAME the spec file's stem (or its name): what to add so that
    training keeps what it learns."""
    stem = spec.source.name if spec.source is not None and spec.source.name != "<string>" else spec.name
    return f"parameters: {Path(stem).name.rsplit('.', 1)[0]}.params.npz"


def untrained_advice(graph: Graph, spec_path) -> str:
    """What to do about weights that nothing set: the same advice from run, export and validate.
    Training only helps a spec with data, a train section and a parameters file to keep its result;
    a spec whose values live in a parameters file that is missing (copied without it) needs the file."""
    spec = graph.spec
    if spec.train is not None and spec.data is not None and spec.parameters is not None:
        return f"train it first (nngraph train {spec_path}, which writes {spec.parameters})"
    if spec.train is not None and spec.data is not None:
        return (f"the spec names no parameters file, so training keeps nothing: add "
                f"'{suggested_parameters_file(spec)}' to {spec_path}, then train it (nngraph train {spec_path})")
    path = parameters_path(graph) if spec.parameters is not None else None
    if path is not None and not path.exists():
        return (f"its parameters file '{spec.parameters}' is missing: put it beside {spec_path} (a spec copied "
                "without it has no weights)")
    return "give the weights in the spec (weight, weights, or init to start from random ones on purpose)"


def _why_not_trained(spec, path) -> str:
    if spec.parameters is None:
        return f"the spec names no parameters file to keep trained values (add {suggested_parameters_file(spec)})"
    if path is None or not path.exists():
        return f"the parameters file '{spec.parameters}' does not exist" + (" (not trained yet)" if spec.train else "")
    return f"the parameters file '{spec.parameters}' holds no values for it (retrain)"


def _drawn_words(graph: Graph, keys: list) -> str:
    """``random weights`` when an initializer draws every one of ``keys``; else the constant
    initializers named (``weights (zeros)``, ``weights (zeros; some random)``): zeros are not random."""
    inits = {c.key: c.init for c in graph.connections}
    inits.update({bias_key(n.name): n.spec.bias for n in graph.nodes if n.role != "input"})
    names = [getattr(inits.get(k), "name", None) for k in keys]
    constant = sorted({n for n in names if n in ("zeros", "ones", "constant")})
    if not constant:
        return "random weights"
    return f"weights ({', '.join(constant)}{'; some random' if len(constant) < len(set(names)) else ''})"


def _origin(graph: Graph, in_file: set, untrained: list) -> str:
    from_init = [c for c in graph.connections if c.values is None and c.key not in in_file]
    if untrained:
        word = f"initial (untrained) {_drawn_words(graph, [u.key for u in untrained])}"
    elif from_init:
        word = f"initial {_drawn_words(graph, [c.key for c in from_init])} from the spec's initializers"
    else:
        word = "weights from the spec"
    if in_file:
        return f"parameters from {graph.spec.parameters}" + ("" if not from_init and not untrained
                                                              else f"; the rest: {word}")
    return word


def read_parameters(path: Path, shapes: dict, shown_name: str | None = None, max_bytes: int = 2**31,
                    graph: Graph | None = None) -> dict:
    """Read and check an ``.npz`` of parameters against the expected ``shapes`` and, given the
    ``graph``, the activations the file records (see :data:`ACTIVATIONS_KEY`).

    Raises
    ------
    ParameterFileError
        Unsafe or unreadable file, pickled or object arrays, a missing, unexpected or
        wrongly shaped array (named by its parameter), non-finite values, values trained with
        another activation than the node now has (located at the node).
    """
    name = shown_name or str(path)
    try:
        require_regular_file(Path(path), name)
    except UnsafePath as exc:
        raise ParameterFileError(f"parameters: {exc}") from None
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            members = {m.filename[:-4] if m.filename.endswith(".npy") else m.filename: m for m in zf.infolist()}
            if not members:
                raise ParameterFileError(f"{name}: holds no parameters (an empty archive); delete it and train "
                                         "again, or give the spec's weights literally")
            unknown = sorted(k for k in set(members) - set(shapes) if not k.startswith("meta/"))
            if unknown:
                raise ParameterFileError(f"{name}: holds '{unknown[0]}', which the spec does not declare "
                                         f"(expected: {', '.join(list(shapes)[:8])}{'...' if len(shapes) > 8 else ''}); "
                                         "was it written for another spec?")
            for key, shape in shapes.items():
                if key not in members:
                    continue  # falls back to the spec's value
                info = members[key]
                with zf.open(info) as fp:
                    try:
                        shp, fortran, dtype = npy_header(fp)
                    except ValueError as exc:
                        raise ParameterFileError(f"{name}: '{key}' is not a valid .npy array ({exc})") from None
                    if dtype.hasobject or dtype.kind not in "fiu":
                        raise ParameterFileError(f"{name}: '{key}' has dtype {dtype}; parameters must be plain "
                                                 "numbers (object and pickled arrays are refused)")
                    if tuple(shp) != tuple(shape):
                        raise ParameterFileError(f"{name}: '{key}' has shape {tuple(shp)}, but the spec declares "
                                                 f"{tuple(shape)}; retrain, or fix the spec")
                    nbytes = int(np.prod(shp, dtype=object)) * dtype.itemsize
                    if nbytes > max_bytes or nbytes + fp.tell() > info.file_size:
                        raise ParameterFileError(f"{name}: '{key}' declares {nbytes:,} bytes but holds "
                                                 f"{info.file_size:,}; the file is truncated or damaged")
                with zf.open(info) as fp:
                    arr = np.lib.format.read_array(fp, allow_pickle=False)
                arr = np.asarray(arr, dtype=np.float64)
                if not np.isfinite(arr).all():
                    raise ParameterFileError(f"{name}: '{key}' contains NaN or infinite values")
                out[key] = arr
            if graph is not None and ACTIVATIONS_KEY in members:
                _check_activations(graph, _read_record(zf, members[ACTIVATIONS_KEY], name), name)
    except ParameterFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise ParameterFileError(f"{name}: not a readable .npz parameters file ({exc})") from None
    return out


def _read_record(zf, info, name) -> np.ndarray:
    """``meta/activations``: text of shape (nodes, 2), read without pickle after its header is checked."""
    with zf.open(info) as fp:
        try:
            shp, fortran, dtype = npy_header(fp)
        except ValueError as exc:
            raise ParameterFileError(f"{name}: '{ACTIVATIONS_KEY}' is not a valid .npy array ({exc})") from None
        nbytes = int(np.prod(shp, dtype=object)) * dtype.itemsize
        if dtype.kind != "U" or len(shp) != 2 or shp[1] != 2 or nbytes > _MAX_META_BYTES:
            raise ParameterFileError(f"{name}: '{ACTIVATIONS_KEY}' should be text, a (node, activation) row per "
                                     f"node; found dtype {dtype}, shape {tuple(shp)}")
    with zf.open(info) as fp:
        return np.lib.format.read_array(fp, allow_pickle=False)


def _check_activations(graph: Graph, record: np.ndarray, name: str) -> None:
    """Refuse values trained with another activation than a node now has, naming the node."""
    trained = {str(node): str(act) for node, act in record}
    wrong = [(n, trained[n.name], activation_word(n.activation)) for n in graph.nodes
             if n.role != "input" and n.name in trained and trained[n.name] != activation_word(n.activation)]
    if not wrong:
        return
    node, then, now = wrong[0]
    where = ("nodes", node.index, "activation") if node.spec.activation is not None else ("nodes", node.index)
    more = (f" (so were {len(wrong) - 1} more nodes: {', '.join(n.name for n, _, _ in wrong[1:4])}"
            f"{'...' if len(wrong) > 4 else ''})") if len(wrong) > 1 else ""
    src = graph.spec.source
    spec = src.name if src is not None and src.name != "<string>" else "SPEC"
    raise ParameterFileError(located(graph.spec, where, f"node '{node.name}' has activation {now}, but its values in "
                                     f"'{name}' were trained with {then}{more}; train again (nngraph run {spec} "
                                     f"--retrain, or nngraph train {spec}), or set the activation back to {then}"))


def write_parameters(path: Path, values: dict, graph: Graph | None = None) -> None:
    """Write ``values`` to ``path`` atomically, with the ``graph``'s activations when given (see
    :data:`ACTIVATIONS_KEY`) (see :func:`nngraph.writes.atomic_write`: a temporary
    file in the same folder, then rename; a replaced file keeps its permission bits; temporaries of
    a killed writer are removed by the next write). The folder must exist: it is never created.
    """
    from .writes import atomic_write

    path = Path(path)
    if path.is_dir():
        raise ParameterFileError(f"{path}: is a folder; the parameters are written to a file")
    arrays = {k: np.ascontiguousarray(v) for k, v in values.items()}
    if graph is not None:
        arrays[ACTIVATIONS_KEY] = activation_record(graph)
    atomic_write(path, lambda f: np.savez(f, **arrays), error=_write_error)


def _write_error(exc: OSError, path: Path) -> ParameterFileError:
    from .errors import file_error

    kept = "" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "; the previous file, if any, is unchanged"
    return ParameterFileError(str(file_error(exc, path, "write")) + kept)
