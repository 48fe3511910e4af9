"""Training mistakes that can be known before training, all at once, located in the spec.

``nngraph validate`` reports them beside the spec's other errors; :func:`nngraph.train` refuses
to start while any is left. Checked: untrainable activations, the loss against the output
activations and sizes, the data source's width and classes against the inputs and outputs (for
built-in sources, inline rows, CSV headers and the .npy header of an npz's array 'x', never its
data), and hyper-parameters that cannot work.
"""
from __future__ import annotations

import os

from .activations import NOT_DIFFERENTIABLE
from .errors import SpecError, TrainingError
from .text import plural as _count_of

# built-in sources: (features, classes); None classes: a 0/1 target for one sigmoid output
BUILTIN = {"mnist": (784, 10), "fashion_mnist": (784, 10), "digits": (64, 10), "xor": (2, None), "and": (2, None),
           "or": (2, None), "moons": (2, 2), "circles": (2, 2), "blobs": (2, 3)}


class TrainingCheckError(SpecError, TrainingError):
    """The spec cannot be trained as it stands; ``diagnostics`` lists every reason."""


def findings(graph, *, data: bool = True, dtype=None) -> tuple[list, list]:
    """(errors, warnings) as :class:`~nngraph.errors.Diagnostic` lists; empty without a train section.
    ``data=False``: leave out the checks of the spec's data section (data given in code). ``dtype``:
    the precision training will use (default float32, as ``nngraph train`` without --float64)."""
    from .graph.model import Report

    spec, cfg = graph.spec, graph.spec.train
    report = Report(spec)
    if cfg is None:
        return [], []
    index = {n.name: i for i, n in enumerate(spec.nodes)}
    for node in graph.nodes:
        act = node.activation[0] if node.role != "input" else None
        if act in NOT_DIFFERENTIABLE:
            report.error(("nodes", index[node.name], "activation"), "untrainable_activation",
                         f"cannot train through {act} ({node.name}): its gradient is zero almost everywhere; use "
                         "sigmoid or tanh while training (the book's chapter 2 makes the same switch)")
    for node in graph.outputs:
        act, where = node.activation[0], ("nodes", index[node.name], "activation")
        if cfg.loss == "cross_entropy" and (act != "softmax" or node.size < 2):
            report.error(where if act != "softmax" else ("nodes", index[node.name], "size"), "loss_output",
                         f"loss cross_entropy needs softmax outputs of two or more neurons; {node.name} is "
                         f"{node.size} x {act} (for two classes: binary_cross_entropy with one sigmoid output)")
        if cfg.loss == "binary_cross_entropy" and act != "sigmoid":
            report.error(where, "loss_output", f"loss binary_cross_entropy needs sigmoid outputs; {node.name} is {act}")
    for i, edge in enumerate(spec.edges):
        if edge.trainable or not (edge.l1 or edge.l2):
            continue
        for key in ("l1", "l2"):
            if getattr(edge, key):
                report.warning(("edges", i, key), "frozen_penalty", f"{key} on a frozen edge (trainable: false) "
                               "changes nothing: its weights never move")
    _schedule_floor(cfg, report)
    _precision(graph, report, dtype)
    _frozen_node_penalties(graph, report)
    _step_never_taken(cfg, report)
    if data:
        _data(graph, report, index)
        _hyper(graph, report)
        rows = training_rows(graph.spec)
        if rows is not None:
            no_validation(graph, rows, report)
    _checkpoint_folder(graph, report)
    _parameters_target(graph, report)
    return report.errors(), report.warnings()


def spec_files(graph) -> list:
    """``(what, path)`` of the files and folders a spec reads or trains into, which nothing nngraph
    writes may replace: the spec itself, its edge file, its data file, its checkpoint folder."""
    from .spec.files import UnsafePath, resolve_inside

    spec, out = graph.spec, []
    src = spec.source
    if src is not None and src.name not in ("<string>", ""):
        out.append(("the spec itself", src.name))
    if spec.edge_file:
        try:
            out.append((f"the edge file ({spec.edge_file})", resolve_inside(spec.base_dir, spec.edge_file)))
        except UnsafePath:
            pass  # refused, located, where the edges are read
    d = spec.data
    if d is not None and d.path and d.source in ("csv", "npz"):
        try:
            out.append((f"the data file ({d.source} {d.path})", resolve_inside(spec.base_dir, d.path)))
        except UnsafePath:
            pass  # refused, located, where the data is read
    if spec.train is not None and spec.train.checkpoint is not None:
        from .checkpoint import directory

        try:
            out.append(("the checkpoint folder", directory(graph)))
        except TrainingError:
            pass  # refused, located, by _checkpoint_folder
    return out


def clash(target, files) -> str | None:
    """What ``target`` (a file about to be written) would overwrite among ``files`` (``(what,
    path)`` pairs), or None: the same file, or a place inside a folder among them."""
    from .writes import inside, same_path

    for what, path in files:
        if same_path(target, path):
            return what
        if inside(target, path) and os.path.isdir(path):
            return f"a file in {what}"
    return None


def _parameters_target(graph, report):
    """The parameters file is written by training: it must be an .npz, and never one of the files
    the spec reads (the spec, its data) nor its checkpoint folder, which it would replace."""
    from .errors import NNGraphError
    from .params import parameters_path

    name = graph.spec.parameters
    if name is None:
        return
    if not name.lower().endswith(".npz"):
        stem = name.rsplit(".", 1)[0] if "." in os.path.basename(name) else name
        report.error(("parameters",), "parameters_suffix", f"the parameters file is an .npz, written by training; "
                     f"'{name}' is not (name it e.g. '{stem}.npz')")
        return
    try:
        target = parameters_path(graph)
    except NNGraphError:  # an unsafe name or a folder: refused, located, where it is used
        return
    if target is None:
        return
    what = clash(target, spec_files(graph))
    if what:
        report.error(("parameters",), "parameters_clash", f"'{name}' is {what}: training would replace it with "
                     "the parameters; name another .npz file")


def _checkpoint_folder(graph, report):
    """The checkpoint folder is made at the first checkpoint, but not the folders above it."""
    from .checkpoint import directory
    from .params import missing_folder

    ck = graph.spec.train.checkpoint
    if ck is None:
        return
    try:
        folder = directory(graph)
    except TrainingError as exc:  # an unsafe name (absolute, .., a link out of the spec's folder)
        where = ("train", "checkpoint", "directory") if ck.directory else ("train", "checkpoint")
        report.error(where, "unsafe_folder", str(exc).removeprefix("train.checkpoint.directory: "))
        return
    name = ck.directory or f"{graph.spec.name}.checkpoints"
    where = ("train", "checkpoint", "directory") if ck.directory else ("train", "checkpoint")
    problem = missing_folder(name, folder)
    if problem:
        report.error(where, "no_folder", f"{problem} (nngraph makes the checkpoint folder itself, not the folders "
                     "above it)")
    elif (folder.exists() or folder.is_symlink()) and not folder.is_dir():  # found at the first checkpoint, too late
        report.error(where, "no_folder", f"the checkpoint folder '{name}' is a file, not a folder: move it away, or "
                     "name another folder with train.checkpoint.directory")


def _data(graph, report, index):
    spec, d = graph.spec, graph.spec.data
    if d is None:
        return
    columns = _columns(spec, d)
    if columns is not None and d.target not in columns:
        from .spec import suggest

        what = f"{d.path} has" if d.source == "csv" else "data.columns has"
        report.error(("data", "target"), "no_target_column", f"{what} no column '{d.target}'"
                     f"{suggest(d.target, columns)}; columns: {', '.join(columns)}")
        return
    shape = _data_shape(spec, d)
    if shape is None:
        return
    features, classes = shape
    n_in = sum(n.size for n in graph.inputs)
    if features is not None and features != n_in:
        what = f"{d.path} has" if d.source in ("csv", "npz") else f"{d.source} data has"
        report.error(("data", "source"), "data_width", f"{what} {_count_of(features, 'feature')} per sample; "
                     f"the network has {_count_of(n_in, 'input')} ({', '.join(f'{n.name} {n.size}' for n in graph.inputs)})")
    n_out = sum(n.size for n in graph.outputs)
    loss = spec.train.loss
    first = graph.outputs[0]
    if classes is not None and loss == "cross_entropy" and n_out != classes:
        report.error(("nodes", index[first.name], "size"), "data_classes",
                     f"{d.source} data has {classes} classes; the network has {_count_of(n_out, 'output')}")
    if classes is not None and loss == "binary_cross_entropy" and classes > 2:
        report.error(("train", "loss"), "data_classes", f"{d.source} data has {classes} classes: use softmax outputs "
                     "and cross_entropy (binary_cross_entropy is for two)")
    if classes is None and loss == "cross_entropy":
        report.error(("train", "loss"), "data_classes", f"{d.source} has one 0/1 target: use one sigmoid output "
                     "with binary_cross_entropy")


def _data_shape(spec, d):
    """(features, classes) of a data source, known without loading it; None when unknown."""
    if d.source in BUILTIN:
        return BUILTIN[d.source]
    if d.source == "inline" and d.columns and d.target in d.columns:
        return len(d.columns) - 1, None if spec.train.loss == "mse" else _count(d, d.columns.index(d.target))
    if d.source == "csv" and d.path:
        header = _columns(spec, d)
        return (len(header) - 1, None) if header is not None and d.target in header else None
    if d.source == "npz" and d.path:
        return _npz_width(spec, d), None
    return None


_HEADER_BYTES = 1 << 16  # a CSV header line longer than this is left to the loader, which reads the file


def _columns(spec, d):
    """The column names of an inline source, or of a CSV source from its first line alone (at most
    ``_HEADER_BYTES`` read); None when they cannot be known so cheaply (the loader reports an
    unreadable file, located, when training)."""
    if d.source == "inline":
        return list(d.columns) if d.columns else None
    if d.source != "csv" or not d.path:
        return None
    import csv

    from .spec.files import require_regular_file, resolve_inside

    try:
        path = require_regular_file(resolve_inside(spec.base_dir, d.path), d.path)
        with open(path, "rb") as f:
            line = f.readline(_HEADER_BYTES + 1)
        if len(line) > _HEADER_BYTES or not line.strip():
            return None
        text = line.decode("utf-8-sig")
        header = next(csv.reader([text.rstrip("\r\n")]), [])
    except Exception:  # missing, unsafe, not UTF-8, a quoted line break: the loader's message says which
        return None
    header = [c.strip() for c in header]
    return header if any(header) else None


def _npz_width(spec, d):
    """Features per sample of an npz source's array 'x', from its .npy header alone (the data is
    not read); None when the file cannot tell (the loader reports why, located, when training)."""
    import zipfile

    import numpy as np

    from .spec.files import npy_header, require_regular_file, resolve_inside

    try:
        path = require_regular_file(resolve_inside(spec.base_dir, d.path), d.path)
        with zipfile.ZipFile(path) as z, z.open("x.npy") as f:
            shape, _, dtype = npy_header(f)
    except Exception:  # damaged, missing or unsafe: the loader's own message says which
        return None
    if dtype.kind not in "biuf":  # objects or text: the loader refuses the array itself, which says more
        return None
    return int(np.prod(shape[1:], dtype=np.int64)) if len(shape) >= 1 else None


def _count(d, col):
    values = {r[col] for r in d.rows if len(r) > col}
    return len(values) if values <= {float(i) for i in range(len(values))} and len(values) > 2 else None


def _hyper(graph, report):
    cfg = graph.spec.train
    sched = cfg.optimizer.schedule
    if sched is not None and sched.warmup >= cfg.epochs:
        report.warning(("train", "optimizer", "schedule", "warmup"), "warmup_too_long",
                       f"warm-up of {sched.warmup} epochs does not end within the {cfg.epochs} epochs of training")
    if cfg.early_stopping is not None and cfg.early_stopping.patience >= cfg.epochs:
        report.warning(("train", "early_stopping", "patience"), "patience_too_long",
                       f"patience {cfg.early_stopping.patience} >= epochs {cfg.epochs}: it can never stop early")
    d = graph.spec.data
    if d is not None and d.source in ("xor", "and", "or") and (cfg.early_stopping or (sched and sched.name == "plateau")):
        report.error(("train", "early_stopping" if cfg.early_stopping else "optimizer"), "no_validation",
                     f"the {d.source} truth table has 4 rows, too few to hold out a validation set, which "
                     "early stopping and the plateau schedule watch")


MIN_VALIDATION_ROWS = 10  # below this many training rows none is held out for validation
_SPLIT_DEFAULT = 0.1


def validation_rows(n: int, split: float) -> int:
    """How many of ``n`` training rows ``validation_split`` holds out."""
    return int(round(n * split)) if n >= MIN_VALIDATION_ROWS else 0


def no_validation(graph, n: int, report=None):
    """A warning when ``train.validation_split`` asks for a validation set that ``n`` training rows
    cannot give, while something watches it (early stopping, the plateau schedule) or the fraction
    was chosen (not the default): added to ``report``, or returned as a located Diagnostic."""
    from .graph.model import Report

    cfg, d = graph.spec.train, graph.spec.data
    split = cfg.validation_split
    if split == 0 or validation_rows(n, split):
        return None
    sched = cfg.optimizer.schedule
    watchers = [w for w, on in (("early stopping", cfg.early_stopping is not None),
                                ("the plateau schedule", sched is not None and sched.name == "plateau")) if on]
    if not watchers and split == _SPLIT_DEFAULT:
        return None
    if watchers and report is not None and d is not None and d.source in ("xor", "and", "or"):
        return None  # an error already (no_validation)
    why = f"no row is held out for validation (that takes at least {MIN_VALIDATION_ROWS} training rows)" \
        if n < MIN_VALIDATION_ROWS else "rounds to no row held out for validation"
    effect = (f"{' and '.join(watchers)} will not act: {'they watch' if len(watchers) > 1 else 'it watches'} the "
              "validation loss") if watchers else "no validation loss is measured"
    fix = "give more rows, or set validation_split: 0" + (f" and remove {' and '.join(watchers)}" if watchers else "")
    own = report or Report(graph.spec)
    own.warning(("train", "validation_split"), "no_validation_rows", f"{split:g} of {_count_of(n, 'training row')}"
                f"{':' if n < MIN_VALIDATION_ROWS else ''} {why}, so {effect}; {fix}")
    return None if report is not None else own.warnings()[0]


def training_rows(spec):
    """How many rows training gets from the spec's data source (after its test split), when that
    is known cheaply (inline rows, generated sets, a CSV file of at most ``_HEADER_BYTES``, an npz
    file's .npy header); else None."""
    d = spec.data
    if d is None:
        return None
    if d.source in ("xor", "and", "or"):
        return 4
    if d.source == "inline" and d.rows is not None:
        n = len(d.rows)
        return n if n < MIN_VALIDATION_ROWS else n - int(round(n * d.test_split))  # as the loader splits them
    if d.source in ("moons", "circles", "blobs"):
        n = d.samples or 500
    elif d.source == "csv" and d.path:
        n = _csv_rows(spec, d)
    elif d.source == "npz" and d.path:
        n, split = _npz_rows(spec, d)
        if not split:
            return n
    else:
        return None
    return None if n is None else n - int(round(n * d.test_split))


def _csv_rows(spec, d):
    """Data rows of a CSV source of at most ``_HEADER_BYTES`` (a small file is where too few rows
    are); None for a larger or unreadable one."""
    import csv
    import io

    from .spec.files import require_regular_file, resolve_inside

    try:
        path = require_regular_file(resolve_inside(spec.base_dir, d.path), d.path)
        with open(path, "rb") as f:
            raw = f.read(_HEADER_BYTES + 1)
        if len(raw) > _HEADER_BYTES:
            return None
        rows = [r for r in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) if any(c.strip() for c in r)]
    except Exception:  # the loader's message says what is wrong with it
        return None
    return max(len(rows) - 1, 0)


def _npz_rows(spec, d):
    """(rows of the array 'x', whether the test split applies) from the .npy header; (None, True)
    when the file cannot tell."""
    import zipfile

    from .spec.files import npy_header, require_regular_file, resolve_inside

    target = d.target or "y"
    try:
        path = require_regular_file(resolve_inside(spec.base_dir, d.path), d.path)
        with zipfile.ZipFile(path) as z, z.open("x.npy") as f:
            shape, _, _ = npy_header(f)
            own_test = {"x_test.npy", f"{target}_test.npy"} <= set(z.namelist())
    except Exception:
        return None, True
    return (int(shape[0]) if len(shape) else None), not own_test


def _precision(graph, report, dtype):
    """Numbers that the training precision cannot hold: an optimizer ``epsilon`` that is 0 (or all
    but 0) in it, so a weight whose gradient is 0 gets 0/0 = nan; an ``l1``/``l2`` whose gradient,
    squared by the adaptive optimizers, overflows. The loss would become nan, and "lower the
    learning rate" would not help."""
    import numpy as np

    try:
        kind = np.dtype(dtype or "float32")
    except (TypeError, ValueError):
        return
    if kind not in (np.float32, np.float64):  # compile refuses the dtype itself, saying which are valid
        return
    info = np.finfo(kind)
    name, f64 = kind.name, np.finfo(np.float64)
    in64 = ", or train in float64 (nngraph train --float64; in Python dtype=np.float64)"
    opt = graph.spec.train.optimizer
    if opt.name in ("adagrad", "rmsprop", "adam") and opt.epsilon < info.tiny:
        report.error(("train", "optimizer", "epsilon"), "epsilon_underflow",
                     f"epsilon {opt.epsilon:g} is below the smallest normal {name} number ({info.tiny:.1e}): in {name} "
                     f"it is 0 or all but 0, so {opt.name} would divide 0 by 0 for a weight whose gradient is 0 and "
                     f"the loss would become nan; use 1e-8 (the default) or more"
                     + (in64 if name == "float32" and opt.epsilon >= f64.tiny else ""))
    top = float(np.sqrt(info.max))  # the gradient l2 * w (l1 * sign(w)) is squared by AdaGrad, RMSProp, Adam
    spec = graph.spec
    places = [(("train",), spec.train)] + [(("nodes", i), n) for i, n in enumerate(spec.nodes)] + \
        [(("edges", i), e) for i, e in enumerate(spec.edges)]
    for path, part in places:
        for key in ("l1", "l2"):
            value = getattr(part, key, None)
            if value is not None and value > top:
                report.error(path + (key,), "penalty_overflow",
                             f"{key} {value:g} overflows {name}: its gradient ({key} times a weight) squared is beyond "
                             f"{name}'s largest number ({info.max:.1e}), so the loss would become nan; penalties "
                             "are small numbers (1e-4 to 1e-2 as a rule)"
                             + (in64 if name == "float32" and value <= float(np.sqrt(f64.max)) else ""))


def _frozen_node_penalties(graph, report):
    """``l1``, ``l2`` or ``max_norm`` on a node every connection into which is frozen change nothing."""
    into = {}
    for c in graph.connections:
        into.setdefault(c.dst, []).append(c.trainable)
    for node in graph.nodes:
        frozen = into.get(node.index)
        if not frozen or any(frozen):
            continue
        for key in ("l1", "l2", "max_norm"):
            if getattr(node.spec, key, None):
                report.warning(("nodes", node.index, key), "frozen_penalty", f"{key} on {node.name} changes nothing: "
                               "every connection into it is frozen (trainable: false), so its weights never move")


def _step_never_taken(cfg, report):
    """A step schedule whose first step comes after the last epoch never changes the rate."""
    sched = cfg.optimizer.schedule
    if sched is None or sched.name != "step":
        return
    first = sched.warmup + sched.step_size + 1  # the first epoch at the lowered rate
    if first > cfg.epochs and sched.warmup < cfg.epochs:  # (a warm-up as long as the training is said already)
        report.warning(("train", "optimizer", "schedule", "step_size"), "step_never_taken",
                       f"step_size {sched.step_size}: the first step would come at epoch {first}, after the "
                       f"{cfg.epochs} epochs of training, so the rate never changes")


def _schedule_floor(cfg, report):
    """A schedule lowers the rate: a ``min_rate`` above the optimizer's ``learning_rate`` would make
    cosine climb to it and plateau jump up to it at its first 'reduction'."""
    sched, rate = cfg.optimizer.schedule, cfg.optimizer.learning_rate
    floor = getattr(sched, "min_rate", None) if sched is not None else None
    if sched is None or sched.name not in ("cosine", "plateau") or not floor:
        return
    where = ("train", "optimizer", "schedule", "min_rate")
    if floor > rate:
        report.error(where, "min_rate_above_rate", f"min_rate {floor:g} is above the learning rate {rate:g}: the "
                     f"{sched.name} schedule would raise the rate to {floor:g} instead of lowering it; give a "
                     f"min_rate below {rate:g} (e.g. {rate / 100:g}) or raise learning_rate")
    elif floor == rate:
        report.warning(where, "min_rate_is_rate", f"min_rate {floor:g} equals the learning rate: the {sched.name} "
                       "schedule never changes the rate")


def check(graph, *, data: bool = True, dtype=None) -> list:
    """Raise :class:`TrainingCheckError` listing every error; return the warnings."""
    errors, warnings = findings(graph, data=data, dtype=dtype)
    if errors:
        raise TrainingCheckError(errors, warnings)
    return warnings


def suggested_loss(graph) -> str:
    """The loss that fits the output activations: cross_entropy for one softmax node of two or more
    neurons, binary_cross_entropy for sigmoid outputs, mse otherwise."""
    acts = [(n.activation[0], n.size) for n in graph.outputs]
    if len(acts) == 1 and acts[0][0] == "softmax" and acts[0][1] >= 2:
        return "cross_entropy"
    if acts and all(a == "sigmoid" for a, _ in acts):
        return "binary_cross_entropy"
    return "mse"


def no_train_section(graph) -> TrainingCheckError:
    """The error for training a spec that has no ``train`` section: located where the section would
    go (beside ``data``), with a section that fits its outputs to add."""
    from .errors import Diagnostic

    spec = graph.spec
    src = spec.source
    name = src.name if src is not None else "<dict>"
    near = ("data",) if spec.data is not None else ("nodes",)
    line, col = src.locate([near], key=True).get(near, (1, 1)) if src is not None else (0, 0)
    return TrainingCheckError([Diagnostic(
        name, line, col, "train", "no_train_section",
        f"the spec has no train section, so there is nothing to train with: add one, e.g. "
        f"train: {{loss: {suggested_loss(graph)}, epochs: 100}} (loss {suggested_loss(graph)} fits its outputs)")])
