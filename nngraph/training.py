"""Train a compiled plan: backpropagation over its stages, losses, optimizers, minibatches.

Backprop runs over the very blocks the forward pass uses (dense and CSR; absent connections stay
absent, frozen ones stay put), so there is no second model to keep in step.

``train(spec)`` returns ``(plan, history)``; the CLI adds progress bars and writes the file.
"""
from __future__ import annotations

import os
import time

import numpy as np

from .backprop import (Tensor, Workspace, _fused_segments, backward, gemm_available, loss_grad, loss_value,  # noqa: F401
                       output_grad, trainable_tensors)
from .compile import Plan, compile
from . import metrics
from .optimizers import Optimizer
from .errors import DataError, TrainingError, TrainingInterrupted, interrupted
from .text import plural
from .graph import Graph, build
from .limits import batch_limit_error, batch_rows_allowed
from .regularizers import InProduct, add_penalties, clip_by_norm, coefficients, in_update
from .runtime import _buffers, run_stage
from .trainchecks import validation_rows
from .writes import record

# -- the training loop -------------------------------------------------------------------------


class Callbacks:
    """Progress hooks (the CLI draws bars with them); every method is optional."""

    def begin(self, plan: Plan, epochs: int):
        """Before the first epoch: the plan being trained (in place) and the last epoch's number."""

    def epoch_start(self, epoch: int, steps: int): ...

    def step(self, epoch: int, step: int, loss: float): ...

    def epoch_end(self, record: dict): ...

    def history_start(self, history: list, checkpoint):
        """Before the first epoch: the history a resumed run continues (read from ``checkpoint``),
        or an empty list."""

    def note(self, message: str):
        """Something the user should know while training goes on (a rate cut to almost nothing)."""

    def restored(self, epoch: int, val_loss: float):
        """After the last epoch, when early stopping's ``restore_best`` put back the weights of an
        earlier epoch (``epoch``, whose validation loss ``val_loss`` was the best)."""


class _Hooks(Callbacks):
    """The methods a callbacks object has; those of :class:`Callbacks` it lacks do nothing (every
    method is optional); any other hook is looked up on it."""

    def __init__(self, callbacks):
        self._given = callbacks
        for name in (n for n in vars(Callbacks) if not n.startswith("_")):
            hook = getattr(callbacks, name, None)
            if callable(hook):
                setattr(self, name, hook)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.__dict__["_given"], name)


def targets_for(plan: Plan, y: np.ndarray, classes) -> np.ndarray:
    """Targets shaped like the output: one-hot rows for class indices with several outputs."""
    if classes is not None and plan.output_width > 1:
        n_cls = plan.output_width
        if y.max() >= n_cls:
            raise DataError(f"the data has classes up to {int(y.max())} but the network has {plural(n_cls, 'output')}")
        t = np.zeros((len(y), n_cls), dtype=plan.dtype)
        t[np.arange(len(y)), y.astype(np.int64)] = 1
        return t
    t = np.asarray(y, dtype=plan.dtype).reshape(len(y), -1)
    if t.shape[1] != plan.output_width:
        cols, outs = t.shape[1], plan.output_width
        raise DataError(f"targets have {cols} column{'' if cols == 1 else 's'}; the network has {outs} "
                        f"output{'' if outs == 1 else 's'}")
    return t


def evaluate(plan: Plan, x, y, classes, loss: str | None, batch_size: int = 4096) -> dict:
    """Loss and the task's metrics over a whole set, in batches (see :mod:`nngraph.metrics`)."""
    if not len(x):  # no test rows (data.test_split 0, or too small to hold one out): nothing to measure
        return {"n": 0}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # an inf loss is said by the caller
        outs = [plan.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    out = np.concatenate(outs)
    classes = task_classes(plan, loss, y, classes)
    t = targets_for(plan, y, classes)
    result = {"n": len(x)}
    if loss:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result["loss"] = loss_value(loss, out, t)
    if classes is not None:
        truth = y.astype(np.int64).reshape(-1)
        result.update(metrics.classification(truth, _predicted(out), max(plan.output_width, 2)))
    elif len(x):
        result.update(metrics.regression(out, t))
    return result


def overflow_note(what: str, value, x, dtype) -> str:
    """Why ``what`` (a loss over the rows ``x``) is ``value`` (inf or nan), in nngraph's words."""
    dtype = np.dtype(dtype)
    with np.errstate(invalid="ignore"):
        top = float(np.nanmax(np.abs(x))) if np.size(x) else 0.0
    return (f"{what} is {value}: the network's values overflow {dtype.name} (whose largest number is about "
            f"{float(np.finfo(dtype).max):.1e}) for some rows (the largest input is {top:g}); scale the data down"
            + (", or train in float64 (--float64; in Python dtype=np.float64)" if dtype == np.float32 else ""))


def _check_epochs(epochs):
    """``epochs`` is None (the spec's) or a whole number in 1..MAX_EPOCHS, never silently replaced."""
    from .spec.models import MAX_EPOCHS

    if epochs is None:
        return
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
        raise TrainingError(f"epochs must be a whole number, found {type(epochs).__name__} {epochs!r}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise TrainingError(f"epochs must be between 1 and {MAX_EPOCHS:,}, found {epochs:,}")


def task_classes(plan: Plan, loss: str | None, y, classes):
    """The classes of a classification task: the data's, or for a classification loss whose
    targets are whole numbers (a truth table's 0/1 column), 0 .. outputs-1."""
    if classes is not None:
        y = np.asarray(y)
        if loss not in ("cross_entropy", "binary_cross_entropy") and y.size and y.max() >= max(plan.output_width, 2):
            return None  # whole numbers a regression predicts (counts, prices): not classes of its outputs
        return classes
    if loss not in ("cross_entropy", "binary_cross_entropy"):
        return classes
    y = np.asarray(y)
    if y.size != len(y) or not np.array_equal(y, np.round(y)) or (len(y) and y.min() < 0):
        return None
    return [str(i) for i in range(max(plan.output_width, 2))]


def train(spec, data=None, *, epochs: int | None = None, callbacks: Callbacks | None = None, dtype=np.float32,
          plan: Plan | None = None, threads: int | None = None, resume: bool = False, restart: bool = False):
    """Train the network a spec declares; return ``(plan, history)``.

    Parameters
    ----------
    spec : Spec, Graph, path or text
        Must have a ``train`` section.
    data : Dataset or tuple of arrays, optional
        ``(X, y)`` or ``(X, y, X_test, y_test)``; default: :func:`nngraph.data.load_data` of the spec.
    epochs : int, optional
        Overrides ``train.epochs``.
    callbacks : Callbacks, optional
    plan : Plan, optional
        Continue from this plan's parameters instead of the spec's initial values.
    threads : int, optional
        Limit the BLAS threads while training (needs threadpoolctl; refused without it).
    resume : bool
        Continue from the newest checkpoint of ``train.checkpoint`` (from the start if there is none
        yet); refused for a spec without ``train.checkpoint``, which writes none.
    restart : bool
        Start afresh although the newest checkpoint is of a run that did not finish (without it,
        such a run is refused before any work); its checkpoints are replaced at this run's first.

    Returns
    -------
    plan : Plan
        With the trained (or, with early stopping, the best) parameters.
    history : list of dict
        Per epoch: epoch, learning_rate, loss, val_loss, val_accuracy (classifiers), seconds.

    Raises
    ------
    TrainingError
        No train section, an untrainable activation, a loss that does not fit the outputs, a
        non-finite loss (the message names epoch and step; the plan keeps the last good values),
        or ``resume`` for a spec that writes no checkpoints.
    TrainingInterrupted
        Ctrl-C (a :class:`KeyboardInterrupt` and a TrainingError): the message names the last
        checkpoint; ``.history`` holds the finished epochs, ``.checkpoint`` the newest checkpoint.
    """
    _check_epochs(epochs)
    if resume and restart:
        raise TrainingError("resume continues the newest checkpoint's run and restart discards it: ask for one of them")

    from .spec import load

    if not isinstance(spec, Graph) and not hasattr(spec, "train"):
        spec = load(spec)
    graph = spec if isinstance(spec, Graph) else build(spec)
    if threads is not None:
        return _with_threads(threads, lambda: train(graph, data, epochs=epochs, callbacks=callbacks, dtype=dtype,
                                                    plan=plan, resume=resume, restart=restart))
    cfg = graph.spec.train
    if cfg is None:
        from .trainchecks import no_train_section

        raise no_train_section(graph)
    if resume:
        check_resumable(cfg)
    from .trainchecks import check

    check(graph, data=data is None, dtype=dtype)
    from .data import Dataset

    given = data
    if plan is None:
        plan = compile(graph, dtype=dtype, use_file=False)
    if isinstance(data, (tuple, list)) and len(data) in (2, 4):  # inputs by node name or label, as forward takes
        data = type(data)(plan.as_input(a) if i % 2 == 0 and isinstance(a, dict) else a for i, a in enumerate(data))
    data = as_dataset(graph.spec, data)
    if not isinstance(given, Dataset):  # (a Dataset is the CLI's: its reader refuses what float32 cannot hold)
        from .samples import within

        within(data, graph.spec, plan.dtype)
    from .trainchecks import training_rows

    if not isinstance(given, Dataset) or training_rows(graph.spec) is None:  # rows validate could not count
        _warn_no_validation(graph, len(data.x_train))
    if data.x_train.shape[1] != plan.input_width:
        width = data.x_train.shape[1]
        raise DataError(f"the data has {width} feature{'' if width == 1 else 's'} per sample; the network has "
                        f"{plan.input_width} input{'' if plan.input_width == 1 else 's'} ({', '.join(f'{n} {s}' for n, s in plan.inputs)})")
    epochs = cfg.epochs if epochs is None else epochs
    run = _Run(plan, cfg, data, epochs, _Hooks(callbacks))
    if resume:
        run.resume()
    elif cfg.checkpoint is not None:
        run.refuse_foreign()
        run.refuse_unfinished(restart)
    run.callbacks.begin(plan, epochs)
    run.callbacks.history_start(list(run.history), run.last_checkpoint)
    try:
        run.loop()
    except BaseException as exc:  # Ctrl-C, also when a library it arrived in wrapped it in its own error
        if not interrupted(exc):
            raise
        run.restore_last_good()
        last = run.newest_checkpoint()
        where = (f"the last checkpoint is {last}; continue with --resume" if last else
                 "no checkpoint was written (add train.checkpoint: {every: 1} to keep one)" if cfg.checkpoint is None
                 else f"no checkpoint was written yet (the first comes after epoch {cfg.checkpoint.every})")
        # the history of the epochs whose weights the plan holds (not one interrupted in its callbacks)
        raise TrainingInterrupted(f"{_interrupted_when(run)}; {where}", plan, run.history[:run.kept], last) from None
    run.finish()
    return plan, run.history


def _warn_no_validation(graph, n):
    """Say (a :class:`~nngraph.errors.TrainingWarning`) when the training rows are too few for the
    validation set the spec asks for."""
    import warnings

    from .errors import TrainingWarning
    from .trainchecks import no_validation

    found = no_validation(graph, n)
    if found is not None:
        warnings.warn(TrainingWarning(found.format()), stacklevel=3)


def check_resumable(cfg) -> None:
    """Refuse to resume a spec that writes no checkpoints: it would start afresh, and keep none
    this time either."""
    if cfg.checkpoint is None:
        raise TrainingError("resume: the spec writes no checkpoints (it has no train.checkpoint), so there is "
                            "none to resume from; add train.checkpoint: {every: 1} to write one every epoch, "
                            "then train without resuming")


def _interrupted_when(run) -> str:
    """``interrupted during epoch 696 (epochs 1 to 695 complete)``: complete are the epochs whose
    weights the run keeps; an interruption between two epochs (while a checkpoint is written) is after
    the last of them, one before its weights were kept (in an epoch's callbacks) is during it."""
    done = run.kept
    complete = f"epochs 1 to {done} complete" if done > 1 else "epoch 1 complete" if done == 1 else "no epoch complete"
    if run.epoch > done:
        return f"interrupted during epoch {run.epoch} ({complete})"
    return f"interrupted after epoch {done}, before the next began ({complete})"


def _with_threads(threads: int, fn):
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1:
        raise TrainingError(f"threads must be a whole number of at least 1, not {threads!r}")
    threads = int(threads)  # a numpy integer is taken as epochs= takes it
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise TrainingError("train(threads=...) needs threadpoolctl to limit the BLAS threads: pip install "
                            "'nngraph[train]' (or set OMP_NUM_THREADS before starting Python)") from None
    with threadpool_limits(limits=threads):
        return fn()


def as_dataset(spec, data):
    """A :class:`~nngraph.data.Dataset` from ``None`` (the spec's data), a Dataset, or arrays
    (checked by :func:`nngraph.samples.dataset`, as ``plan.evaluate`` checks its arrays)."""
    from .data import Dataset, load_data
    from .samples import dataset

    if data is None:
        return load_data(spec)
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise DataError("data must be a Dataset, (X, y) or (X, y, X_test, y_test)")
    return dataset(spec, data)


NEGLIGIBLE_RATE = 1e-4  # of the starting rate: a decaying schedule that goes below it is noted (once)
# what to change, by schedule (cosine ends at its min_rate by design: not noted)
RATE_ADVICE = {"step": "raise gamma or step_size", "exponential": "raise gamma (at 0.95 the rate halves in 14 epochs)",
               "plateau": "set train.optimizer.schedule.min_rate, or early_stopping"}


class _Run:
    """One training run's state, epoch by epoch; everything a checkpoint must hold is here."""

    def __init__(self, plan, cfg, data, epochs, callbacks):
        from .regularizers import MaxNorm
        from .schedules import Schedule

        self.plan, self.cfg, self.data, self.epochs, self.callbacks = plan, cfg, data, epochs, callbacks
        # the spec's fingerprint, taken once before training (not dumping the spec again at every
        # checkpoint: that costs a pass over its edges, and a Ctrl-C inside pydantic's serializer
        # comes out as a serialization error rather than an interrupt)
        self._fingerprint, self._data_hash, self._covers, self.superseding = None, None, None, []
        if cfg.checkpoint is not None:
            self._fingerprint = self.fingerprint()
        self.rng = np.random.default_rng(cfg.seed)
        self.x_all = np.ascontiguousarray(data.x_train, dtype=plan.dtype)
        self.classes = task_classes(plan, cfg.loss, data.y_train, data.classes)
        self.t_all = targets_for(plan, data.y_train, data.classes)
        if cfg.loss == "binary_cross_entropy" and len(self.t_all) and (self.t_all.min() < 0 or self.t_all.max() > 1):
            # log(1 - y) of a target above 1 rewards outputs past it: it trained, towards nonsense
            raise DataError(f"train.loss: binary_cross_entropy needs targets from 0 to 1 (a probability or a class "
                            f"0/1); the data's go from {self.t_all.min():g} to {self.t_all.max():g}: for numbers "
                            "like these use loss mse with a linear output")
        n = len(self.x_all)
        self.n_val = validation_rows(n, cfg.validation_split)
        if self.n_val >= n > 0:  # no row left to train on ended in 'internal error' (a division by no rows)
            from .data.datasets import keeps_one

            raise DataError(f"train.validation_split: {cfg.validation_split:g} of {n:,} training rows holds out every "
                            f"row for validation and leaves none to train on; {keeps_one(n):g} keeps one")
        order = self.rng.permutation(n)
        val_idx, self.tr_idx = order[:self.n_val], order[self.n_val:]
        self.x_val, self.y_val = self.x_all[val_idx], data.y_train[val_idx]
        if cfg.shuffle is False:
            self.tr_idx = np.sort(self.tr_idx)
        self.tensors = trainable_tensors(plan)
        self.opt = Optimizer(cfg.optimizer, [t.value for t in self.tensors])
        self.schedule = Schedule(cfg.optimizer.schedule, cfg.optimizer.learning_rate, epochs)
        max_norm = MaxNorm(plan, self.tensors, cfg.max_norm)
        self.max_norm = max_norm if max_norm else None
        self.l1 = coefficients(plan, self.tensors, "l1", cfg.l1)  # per tensor: nodes and edges override
        self.l2 = coefficients(plan, self.tensors, "l2", cfg.l2)
        # uniform penalties of dense weights are added in the optimizer's compiled step where it
        # is built, else inside the weight-gradient product
        taken, l1, l2 = in_update(self.tensors, self.l1, self.l2, bool(cfg.clip_norm)) \
            if self.opt.fuses else ({}, self.l1, self.l2)
        self.in_update = {i: (mode, c, None) for i, (mode, c) in taken.items()}  # the optimizer's `fused`
        self.in_product = InProduct(self.tensors, l1, l2, gemm_available(plan.dtype), skip=taken)
        self.l1_rest, self.l2_rest = self.in_product.rest
        self.penalized = any(isinstance(c, np.ndarray) or c for c in self.l1_rest + self.l2_rest)
        self.fused = _fused_segments(plan, cfg.loss)
        self.work = Workspace(plan, self.tensors)
        self.labels = _predicted(self.t_all) if self.classes is not None else None
        self.history, self.best, self.best_loss, self.waited = [], None, np.inf, 0
        self.last_good = [t.value.copy() for t in self.tensors]
        self.bs = min(cfg.batch_size, len(self.tr_idx))
        if self.bs > batch_rows_allowed(plan, training=True):  # buffers are batch x all stage widths, twice
            raise batch_limit_error(plan, self.bs, training=True, where="train.batch_size")
        self.epoch, self.first, self.last_checkpoint = 0, 1, None
        self.history_kept = 0  # the history's rows in the run's history file (see checkpoint.append_history)
        self.kept = 0  # the last epoch whose weights are kept (restore_last_good goes back to them)
        self.run_id = os.urandom(8).hex()  # whose checkpoints are whose: a new run supersedes an older one's
        self.stopped = False
        self.started = time.time()
        self.said_overflow = False

    def after_update(self, i, lo, hi):
        """The optimizer's hook: rows lo:hi of tensor i are updated (see :func:`_step`)."""
        if i in self.in_product.parts:
            self.in_product.rows(i, lo, hi)
        if self.max_norm is not None:
            self.max_norm.take(i, lo, hi)

    def newest_checkpoint(self):
        """The newest checkpoint this run has in place: also one renamed into place just before an
        interruption, before the run could note it."""
        if self.cfg.checkpoint is None or not self.history:
            return self.last_checkpoint
        from . import checkpoint

        path = checkpoint.directory(self.plan.graph) / f"epoch-{self.history[-1]['epoch']:06d}.npz"
        try:
            if path != self.last_checkpoint and path.stat().st_mtime >= self.started:
                return path
        except OSError:
            pass
        return self.last_checkpoint

    def loop(self):
        if self.cfg.checkpoint is not None:
            self.data_hash()  # once per run, with the set-up, not inside the first epoch
        for epoch in range(self.first, self.epochs + 1):
            self.epoch = epoch
            record = self.one_epoch(epoch)
            self.history.append(record)
            stopped = self.early_stop(record)  # before the callbacks: the epoch's record says it stopped
            self.callbacks.epoch_end(record)
            for t, v in zip(self.tensors, self.last_good):
                v[...] = t.value
            self.kept = epoch
            self.schedule.observe(epoch, record.get("val_loss"))
            self.note_negligible_rate(epoch, record["learning_rate"])
            self.stopped = stopped
            ck = self.cfg.checkpoint
            if ck is not None and (epoch % ck.every == 0 or epoch == self.epochs or self.stopped):
                self.write_checkpoint(epoch)
            if self.stopped:
                break

    def note_negligible_rate(self, epoch, rate):
        """Say when the schedule takes the next epoch's rate below NEGLIGIBLE_RATE of its start."""
        c, s = self.cfg.optimizer.schedule, self.schedule
        if c is None or c.name not in RATE_ADVICE or epoch >= self.epochs:
            return
        following = s.rate(epoch + 1)
        if following < NEGLIGIBLE_RATE * s.base <= rate:
            getattr(self.callbacks, "note", lambda message: None)(
                f"from epoch {epoch + 1} the {c.name} schedule's learning rate is {following:.3g}, "
                f"{following / s.base:.0e} of its start: training has all but stopped; {RATE_ADVICE[c.name]}")

    def one_epoch(self, epoch):
        start = time.perf_counter()
        self.opt.lr = rate = self.schedule.rate(epoch)
        if self.max_norm is not None:
            self.max_norm.forget()  # the weights may have been set between epochs
        self.in_product.ready = False  # (and the next P is taken from them)
        idx = self.tr_idx[self.rng.permutation(len(self.tr_idx))] if self.cfg.shuffle else self.tr_idx
        bs = self.bs
        steps = (len(idx) + bs - 1) // bs
        self.callbacks.epoch_start(epoch, steps)
        total, seen, correct = 0.0, 0, 0
        for step in range(steps):
            sel = idx[step * bs:(step + 1) * bs]
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is caught just below
                loss, out = _step(self, self.x_all[sel], self.t_all[sel])
            if self.classes is not None:
                correct += int(np.count_nonzero(_predicted(out) == self.labels[sel]))
            if not np.isfinite(loss):
                self.restore_last_good()
                kept = f"the parameters of epoch {self.kept}" if self.kept else "the initial parameters"
                last = (f"; the last checkpoint is {self.last_checkpoint}" if self.last_checkpoint is not None else "")
                cure = "lower the learning rate"
                if not self._finite_at_last_good(sel):  # not a step too long: the data overflows at the kept weights
                    cure = overflow_note("the learning rate is not the cause: with the kept parameters the loss of "
                                         "this batch", "not finite either", self.x_all[sel], self.plan.dtype)
                error = TrainingError(f"the loss became {loss} at epoch {epoch}, step {step + 1}; training stopped "
                                      f"and {kept}, the last good ones, were kept{last}; {cure}")
                error.plan, error.history = self.plan, self.history
                raise error
            total += loss * len(sel)
            seen += len(sel)
            self.callbacks.step(epoch, step + 1, loss)
        record = {"epoch": epoch, "learning_rate": rate, "loss": total / max(seen, 1)}
        if self.classes is not None:
            record["accuracy"] = correct / max(seen, 1)  # on the minibatches, as they were trained
        if self.n_val:
            ev = evaluate(self.plan, self.x_val, self.y_val, self.classes, self.cfg.loss)
            record["val_loss"] = ev["loss"]
            if not np.isfinite(ev["loss"]) and not self.said_overflow:
                self.said_overflow = True
                self.say(overflow_note(f"after epoch {epoch} the validation loss", ev["loss"], self.x_val,
                                       self.plan.dtype))
            if "accuracy" in ev:
                record["val_accuracy"] = ev["accuracy"]
        record["seconds"] = time.perf_counter() - start
        return record

    def _finite_at_last_good(self, sel) -> bool:
        """Whether the loss of the rows ``sel`` is finite with the parameters in place (the last good ones)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return bool(np.isfinite(loss_value(self.cfg.loss, self.plan.forward(self.x_all[sel]), self.t_all[sel])))

    def say(self, message):
        """A note for the user while training goes on: to the callbacks' ``note``, else a
        :class:`~nngraph.errors.TrainingWarning`."""
        if callable(getattr(self.callbacks._given, "note", None)):
            self.callbacks.note(message)
        else:
            import warnings

            from .errors import TrainingWarning

            warnings.warn(TrainingWarning(message), stacklevel=2)

    def early_stop(self, record) -> bool:
        es = self.cfg.early_stopping
        if es is None or not self.n_val:
            return False
        if record["val_loss"] < self.best_loss - es.min_delta:
            self.best_loss, self.waited = record["val_loss"], 0
            if es.restore_best:
                self.best = [t.value.copy() for t in self.tensors]
            return False
        self.waited += 1
        if self.waited >= es.patience:
            record["stopped_early"] = True
            return True
        return False

    def restore_last_good(self):
        for t, v in zip(self.tensors, self.last_good):
            t.value[...] = v



    def finish(self):
        for st in self.plan.stages:  # the gradient's index cache: not part of the plan (nor its pickle)
            for b in st.blocks:
                b.__dict__.pop("_coo", None)
        if self.best is not None:
            for t, v in zip(self.tensors, self.best):
                t.value[...] = v
            best = next((r for r in self.history if r.get("val_loss") == self.best_loss), None)
            if best is not None and self.history and best is not self.history[-1]:
                getattr(self.callbacks, "restored", lambda epoch, loss: None)(best["epoch"], best["val_loss"])
        self.plan.params_origin, self.plan.params_file = "trained", None
        self.plan.untrained = []

    # -- checkpoints ---------------------------------------------------------------------------
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from . import checkpoint

            self._fingerprint = checkpoint.fingerprint(self.plan.spec, self.plan.dtype, self.plan.graph.connections)
        return self._fingerprint

    def data_hash(self) -> str:
        """The hash of the training rows and targets as loaded (see :func:`checkpoint.data_hash`)."""
        if self._data_hash is None:
            from . import checkpoint

            self._data_hash = checkpoint.data_hash(self.data.x_train, self.data.y_train)
        return self._data_hash

    def write_checkpoint(self, epoch):
        from . import checkpoint

        arrays = {f"param_{i}": t.value for i, t in enumerate(self.tensors)}
        for i, slots in enumerate(self.opt.state):
            arrays.update({f"opt_{i}_{k}": s for k, s in enumerate(slots)})
        if self.best is not None:
            arrays.update({f"best_{i}": b for i, b in enumerate(self.best)})
        if self._covers is None:  # the same at every checkpoint: taken once (a pass over the spec)
            folder = checkpoint.directory(self.plan.graph)
            self._covers = (folder, checkpoint.owner(self.plan.spec, folder),
                            checkpoint.described(self.plan.spec, self.plan.dtype))
        folder, owner, covers = self._covers
        # the rows since the last checkpoint go to the run's history file, on disk before the checkpoint
        checkpoint.append_history(folder, self.run_id, self.history[self.history_kept:epoch])
        self.history_kept = epoch
        meta = {"epoch": epoch, "rng": self.rng.bit_generator.state, "opt_t": self.opt.t,
                "schedule": self.schedule.state(), "best_loss": self.best_loss, "waited": self.waited,
                "stopped": self.stopped, "history_file": checkpoint.history_name(self.run_id),
                "has_best": self.best is not None,
                "fingerprint": self.fingerprint(), "data": self.data_hash(), "run": self.run_id, "spec": owner,
                "final": bool(epoch == self.epochs or self.stopped),  # the run's parameters file is written after it
                "covers": covers,  # to name what changed
                "optimizer_state": 2}  # 2: Adam's moments unnormalised (see nngraph.optimizers)
        path = checkpoint.save(folder, epoch, arrays, meta, self.cfg.checkpoint.keep)
        record(path, replaces=self.last_checkpoint)
        self.last_checkpoint = path
        gone = [p for p in self.superseding if p == path or not p.exists()]  # (the same name: overwritten)
        self.superseding = []
        if gone:  # an earlier run's checkpoints, replaced by this run's first
            getattr(self.callbacks, "replaced", lambda paths: None)(gone)
        getattr(self.callbacks, "checkpoint", lambda path: None)(self.last_checkpoint)

    def resume(self):
        from . import checkpoint

        cap = checkpoint.meta_bytes(self.epochs)
        folder = checkpoint.directory(self.plan.graph)
        path, first = checkpoint.newest_of(folder, checkpoint.owner(self.plan.spec, folder), cap)
        if path is None:
            self.refuse_foreign()
            getattr(self.callbacks, "resumed", lambda path, epoch: None)(None, 0)
            return
        self._same_spec(path, first)  # before the arrays' shapes: a checkpoint of another spec says so
        self._same_data(path, first)  # before the record's ranges, which other data changes
        self._refuse_older(path, first)
        expected = {f"param_{i}": t.value.shape for i, t in enumerate(self.tensors)}
        expected.update({f"best_{i}": t.value.shape for i, t in enumerate(self.tensors)})
        expected.update({f"opt_{i}_{k}": s.shape for i, slots in enumerate(self.opt.state) for k, s in enumerate(slots)})
        arrays, meta = checkpoint.load(path, expected, cap)
        self._same_spec(path, meta)
        used = None
        if "history" not in meta:  # (checkpoints written before the history file held it in their record)
            meta["history"], used = checkpoint.read_history(path, meta, cap)
        checkpoint.check_record(path, meta, epochs=self.epochs, steps=-(-len(self.tr_idx) // max(self.bs, 1)),
                                rng_state=self.rng.bit_generator.state)
        try:
            self._restore(arrays, meta)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise TrainingError(f"{path}: not a readable checkpoint (its record is damaged: "
                                f"{type(exc).__name__}: {str(exc)[:200]}); delete it to resume from an older "
                                "one") from None
        if used is not None:
            checkpoint.cut_history(path, meta, used)
            self.history_kept = len(self.history)
        self.last_checkpoint = path
        self.run_id = meta.get("run") or self.run_id  # the run goes on: its checkpoints stay one run's
        if meta.get("stopped"):
            self.first = self.epochs + 1  # it had stopped early: nothing left to do
        getattr(self.callbacks, "resumed", lambda path, epoch: None)(path, meta["epoch"])

    def _refuse_older(self, path, meta):
        """A checkpoint of a run that did not finish (it wrote no parameters file) is older than a
        parameters file written after it, by another run: resuming would replace those parameters."""
        from .params import parameters_path

        params = parameters_path(self.plan.graph)
        if params is None or meta.get("final") is not False or not params.is_file():
            return
        if params.stat().st_mtime > path.stat().st_mtime:
            raise TrainingError(f"{path} is the newest checkpoint, of a run that did not finish, and "
                                f"{self.plan.spec.parameters} was written after it by another run: resuming would "
                                "replace those parameters with that older run's; train without --resume, or "
                                f"move {self.plan.spec.parameters} away to resume anyway")

    def _same_spec(self, path, meta):
        if meta.get("fingerprint") != self.fingerprint():
            from . import checkpoint

            covers = meta.get("covers")  # what differs, for checkpoints that record it
            changed = (checkpoint.differences(covers, checkpoint.described(self.plan.spec, self.plan.dtype))
                       if isinstance(covers, dict) else [])
            what = (f" ({'; '.join(changed[:5])}{'; ...' if len(changed) > 5 else ''})" if changed else
                    " (the rows of its edge file)" if isinstance(covers, dict) else "")
            raise TrainingError(f"{path} was written for a different spec or dtype{what}; only train.epochs may "
                                "change between a run and its resumption: undo the change, or delete the checkpoints "
                                "to start over")

    def _same_data(self, path, meta):
        if "data" in meta and meta["data"] != self.data_hash():  # (records written before it: cannot say)
            raise TrainingError(f"{path} was written for other training data: the data differ from that run's (its "
                                "rows, values or targets changed since), so resuming would not continue it; restore "
                                "that data, or start over: nngraph train --restart instead of --resume (Python: "
                                "restart=True instead of resume=True)")

    def refuse_foreign(self):
        """A run that starts afresh refuses a checkpoint folder holding another spec file's
        checkpoints (two specs of the same name share ``<name>.checkpoints``): its own would be
        mixed with them, and the next --resume could take theirs."""
        from . import checkpoint

        folder = checkpoint.directory(self.plan.graph)
        found = checkpoint.foreign(folder, checkpoint.owner(self.plan.spec, folder), checkpoint.meta_bytes(self.epochs))
        if found:
            path, spec_file = found[-1]
            other = "another spec file" if checkpoint.owner(self.plan.spec, folder) is not None else "a spec file"
            raise TrainingError(f"train.checkpoint: {folder} holds checkpoints of {other} ({path.name}, "
                                f"written for {spec_file}); name a folder of this spec's own with "
                                "train.checkpoint.directory, or delete them")

    def refuse_unfinished(self, restart):
        """A run that starts afresh would replace, at its first checkpoint, the checkpoints of the
        spec's earlier run: refused, before any work, when that run did not finish (unless
        ``restart``); a finished run's are replaced, and the callbacks' ``replaced`` says so then."""
        from . import checkpoint

        folder = checkpoint.directory(self.plan.graph)
        older = checkpoint.own(folder, checkpoint.owner(self.plan.spec, folder), checkpoint.meta_bytes(self.epochs))
        self.superseding = [path for path, _ in older]
        if not older or restart:
            return
        path, meta = older[-1]
        if meta.get("final") is True or meta.get("stopped") is True:
            return
        epoch = meta.get("epoch")
        after = f" after epoch {epoch}" if isinstance(epoch, int) else ""
        if meta.get("fingerprint") == self.fingerprint() and meta.get("data", self.data_hash()) == self.data_hash():
            how = "continue it with nngraph train --resume (Python: resume=True), or"
        else:
            how = "it was written for another spec, dtype or data, so it cannot be resumed as it is;"
        # `nngraph train` has both options (`run --retrain` trains too, but neither resumes nor restarts)
        raise TrainingError(f"{path} is the newest checkpoint of a run that did not finish (it stopped{after}): "
                            f"starting afresh would delete it; {how} start over with nngraph train --restart "
                            "(Python: restart=True), which replaces its checkpoints")

    def _restore(self, arrays, meta):
        for name, a in arrays.items():
            if a.dtype.kind != "f" or not np.isfinite(a).all():
                raise ValueError(f"'{name}' holds {'non-finite values' if a.dtype.kind == 'f' else a.dtype}")
        for key, kind in (("epoch", int), ("opt_t", int), ("waited", int), ("has_best", bool), ("history", list),
                          ("rng", dict)):
            if not isinstance(meta[key], kind) or kind is int and isinstance(meta[key], bool):
                raise TypeError(f"'{key}' is {type(meta[key]).__name__}, not {kind.__name__}")
        for i, t in enumerate(self.tensors):
            t.value[...] = arrays[f"param_{i}"]
        for i, slots in enumerate(self.opt.state):
            for k, s in enumerate(slots):
                s[...] = arrays[f"opt_{i}_{k}"]
        if meta.get("optimizer_state", 1) == 1 and self.cfg.optimizer.name == "adam":
            for m, v in self.opt.state:  # written when Adam kept m and v themselves
                m /= 1 - self.cfg.optimizer.beta1
                v /= 1 - self.cfg.optimizer.beta2
        if meta["has_best"]:
            self.best = [arrays[f"best_{i}"].copy() for i in range(len(self.tensors))]
        self.opt.t = meta["opt_t"]
        self.rng.bit_generator.state = meta["rng"]
        self.schedule.restore(meta["schedule"])
        self.best_loss, self.waited, self.history = meta["best_loss"], meta["waited"], meta["history"]
        self.last_good = [t.value.copy() for t in self.tensors]
        self.epoch = self.first = meta["epoch"] + 1
        self.kept = meta["epoch"]


def _step(run, xb, tb) -> float:
    plan, cfg, tensors = run.plan, run.cfg, run.tensors
    acts = _buffers(plan, xb.shape[0])
    acts[0] = xb
    masks, transposed = {}, {}
    for st in plan.stages[1:]:
        run_stage(st, acts, acts[st.index], transposed)
        if st.dropout is not None:
            keep = 1.0 - st.dropout
            m = (run.rng.random(acts[st.index].shape) < keep).astype(plan.dtype) / keep.astype(plan.dtype)
            m[:, st.dropout == 0] = 1
            acts[st.index] *= m
            masks[st.index] = m
    out = plan.gather_outputs(acts)
    loss = loss_value(cfg.loss, out, tb)
    d_out = output_grad(plan, cfg.loss, out, tb, run.fused)
    addends = run.in_product.prefill(tensors, run.work.grads) if run.in_product else None
    grads = backward(plan, acts, d_out.astype(plan.dtype, copy=False), run.fused, masks, run.work, addends)
    if run.penalized:  # the optimizer's scratch buffers are free until its step
        add_penalties(tensors, grads, run.l1_rest, run.l2_rest, run.opt.scratch)
    for t, g in zip(tensors, grads):
        if t.keep is not None:
            g *= t.keep
    if cfg.clip_norm:
        clip_by_norm(grads, cfg.clip_norm)
    # After each slice of the weights is updated, while it is in cache: the next step's P for
    # the product (in_product) and, when due, max-norm's sums of squares
    in_product, max_norm = run.in_product, run.max_norm
    norms_due = max_norm is not None and max_norm.due(run.opt.step_bound_next())
    run.opt.step(grads, run.after_update if in_product or norms_due else None, _in_update(run, norms_due))
    if in_product:
        in_product.ready = True
    if norms_due:
        for i, cols in max_norm.settle().items():  # scaled weights: their P again
            if i in in_product.parts:
                in_product.columns(i, tensors[i].value, run.work.grads[i], cols)
    return loss, out


def _in_update(run, norms_due: bool):
    """The work the optimizer's compiled update does in its own pass (its ``fused``): each
    taken penalty (see :func:`~nngraph.regularizers.in_update`) and, when max-norm's norms are
    due, the sums of squares of the dense tensors whose slices need nothing else."""
    if not norms_due or not run.opt.fuses:
        return run.in_update
    fused = dict(run.in_update)
    for i in range(len(run.tensors)):
        sums = run.max_norm.sums_for(i)
        if sums is not None and i not in run.in_product.parts:  # (whose P the hook writes)
            fused[i] = run.in_update.get(i, (0, 0.0, None))[:2] + (sums,)
    return fused


def _predicted(out: np.ndarray) -> np.ndarray:
    """Class indices from outputs (or one-hot targets): argmax, or > 0.5 for one output."""
    return out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype(np.int64)


