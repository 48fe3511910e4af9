"""run, train: compute with a network, training it first when it has no parameters."""
from __future__ import annotations

import json
import math
import sys

import click

from . import main, _at_options, _console, _fail, _plural, input_options, rich_text, terminal  # noqa: F401  (shared by the command modules)
from .distributed_cmds import cluster_option, stream_run


# -- run / train -------------------------------------------------------------------------------


def _training_options(f):
    # the bound is nngraph.spec.models.MAX_EPOCHS, written out so `nngraph --help` need not import pydantic
    options = [
        click.option("--epochs", type=click.IntRange(1, 1_000_000), help="Override train.epochs."),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                     help="Override a spec value, e.g. train.optimizer.learning_rate=0.01 (repeatable)."),
        click.option("--plot", type=click.Path(dir_okay=False), help="Write training curves to a PNG."),
        click.option("--regions", type=click.Path(dir_okay=False),
                     help="Decision regions as training goes on (two-input networks): an animated .gif, or "
                          ".png/.svg frames NAME-epochNNNN.png."),
        click.option("--regions-every", type=click.IntRange(1), metavar="N",
                     help="A regions frame every N epochs [default: about 50 frames]."),
        click.option("--json", "as_json", is_flag=True, help="Print metrics as JSON."),
        click.option("--no-save", is_flag=True, help="Do not write the parameters file."),
        click.option("--log", "log_file", type=click.Path(dir_okay=False),
                     help="Write one row per epoch to a .csv or .jsonl file."),
    ]
    for option in reversed(options):  # the last one applied is listed first: --help lists them as written here
        f = option(f)
    return f


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--inputs", "inputs_file", metavar="PATH", help="Inputs: .npy, .npz or .csv; or streamed: a folder or glob of shards, "
              "a zarr array, a .npy over 256 MB.")
@click.option("--input", "input_pairs", multiple=True, metavar="NAME=VALUE", help="One input by name or label.")
@click.option("-o", "--output", "output_file", type=click.Path(), help="Write outputs to .npy or .csv (streamed: also .zarr).")
@click.option("--retrain", is_flag=True, help="Train even if the parameters file exists.")
@click.option("--float64", is_flag=True, help="Run in float64.")
@click.option("--trace", is_flag=True, help="Show every neuron's pre-activation and activation (with --input(s)).")
@click.option("--untrained", is_flag=True, help="Run even if some weights were never set (random initial values).")
@click.option("--chunk-rows", type=click.IntRange(1), help="Stream --inputs in chunks of this many rows.")
@cluster_option
@_training_options
def run(spec, inputs_file, input_pairs, output_file, retrain, float64, trace, untrained, chunk_rows, cluster, threads,
        epochs, sets, plot, regions, regions_every, as_json, no_save, log_file):
    """Do what the spec declares: run inputs through it, or train (if untrained) and evaluate.

    \b
    Examples:
      nngraph run examples/xor.yaml --input x=1,0
      nngraph run examples/xor.yaml --inputs examples/xor_inputs.csv
      nngraph run net.yaml --inputs big/ --output out.npy --cluster local:2
      nngraph run examples/xor_train.yaml --set train.epochs=500
    """
    with _input_notes():
        _run(spec, inputs_file, input_pairs, output_file, retrain, float64, trace, untrained, chunk_rows, cluster,
             threads, epochs, sets, plot, regions, regions_every, as_json, no_save, log_file)


def _input_notes():
    """What the inputs' readers decided and say (a numeric first row read as a header), printed as
    ``note: ...`` on stderr as it happens."""
    from ..io import notes_shown

    return notes_shown(lambda message: click.echo(f"note: {terminal(message)}", err=True))


def _run(spec, inputs_file, input_pairs, output_file, retrain, float64, trace, untrained, chunk_rows, cluster, threads,
         epochs, sets, plot, regions, regions_every, as_json, no_save, log_file):
    from .. import load
    from ..graph import build
    from ..params import parameters_path
    from ..spec import with_overrides

    s = load(spec)
    if sets:
        s = _at_options(with_overrides(s, sets))
    graph = build(s)
    dtype = "float64" if float64 else "float32"
    given = _training_only(epochs, sets, plot, regions, regions_every, no_save, log_file)
    if inputs_file or input_pairs:
        if given or retrain:
            raise click.UsageError(_not_training(given + ["--retrain"] * retrain, "the spec has no train section"
                                                 if s.train is None else "running inputs does not train: train "
                                                 f"first with `nngraph train {spec}`"))
        if trace:
            from .trace_cmds import run_traced

            _refuse_untrained(compile_plan(graph, dtype), untrained, spec)
            with _blas_threads(threads):
                return run_traced(graph, inputs_file, input_pairs, output_file, dtype, as_json)
        from ..stream import wants_streaming

        if inputs_file and (chunk_rows or cluster or (threads and output_file) or wants_streaming(inputs_file, output_file)):
            plan = compile_plan(graph, dtype)
            _refuse_untrained(plan, untrained, spec)
            return stream_run(plan, inputs_file, output_file, chunk_rows, cluster, as_json, threads)
        with _blas_threads(threads):
            return _run_inputs(graph, inputs_file, input_pairs, output_file, dtype, as_json, untrained, spec)
    if trace:
        raise click.UsageError("--trace shows the neurons for given inputs: add --input NAME=VALUE or --inputs FILE")
    if retrain and s.train is None:  # nothing to train with: say so rather than run without training
        from ..trainchecks import no_train_section

        raise no_train_section(graph)
    pfile = parameters_path(graph)
    trained = pfile is not None and pfile.exists()
    if s.train is not None and (retrain or not trained):
        return _train_and_report(graph, epochs, plot, as_json, no_save, dtype, log_file=log_file,
                                 regions=(regions, regions_every), threads=threads)
    if given:
        raise click.UsageError(_not_training(given, "the spec has no train section" if s.train is None else
                                             f"{s.parameters} holds its trained parameters: add --retrain to train "
                                             "again"))
    if s.data is not None:
        with _blas_threads(threads):
            return _evaluate_only(graph, dtype, as_json, untrained, spec)
    raise click.UsageError("this spec declares no data and no training; give inputs with --inputs FILE or "
                           f"--input NAME=VALUE (e.g. {_example_inputs(graph)})")


def _training_only(epochs, sets, plot, regions, regions_every, no_save, log_file) -> list:
    """The options given that only training uses, as typed."""
    given = [f"--{name}" for name, value in (("epochs", epochs), ("plot", plot), ("regions", regions),
                                             ("regions-every", regions_every), ("no-save", no_save),
                                             ("log", log_file)) if value]
    return given + [f"--set {terminal(kv)}" for kv in sets if kv.partition("=")[0].strip().split(".")[0] == "train"]


def _not_training(given, why) -> str:
    return (f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} only when training, and this run does "
            f"not train ({terminal(why)})")


def _blas_threads(threads):
    """``--threads N`` where rows are not streamed: BLAS threads limited to N while inside."""
    from ..stream import blas_threads

    return blas_threads(threads)


def _example_inputs(graph) -> str:
    """Input options that work for this network, to show in a message."""
    shown = []
    for node in graph.inputs[:3]:
        if node.size > 8:
            return f"--inputs FILE, a .csv or .npy with {sum(n.size for n in graph.inputs):,} columns"
        shown.append(f"--input {node.name}=" + ",".join(["1"] * node.size))
    return " ".join(shown)


def compile_plan(graph, dtype):
    from ..compile import compile

    return compile(graph, dtype=dtype)


def _refuse_untrained(plan, untrained_ok, spec_path):
    """Refuse to compute with weights that nothing set, unless --untrained asks for it."""
    if not plan.untrained or untrained_ok:
        return
    from ..errors import Diagnostic, UntrainedError
    from ..spec.source import format_path

    src = plan.spec.source
    name = src.name if src is not None else str(spec_path)
    shown = plan.untrained[:10]
    pos = src.locate([u.path for u in shown]) if src is not None else {}
    from ..params import untrained_advice, untrained_words

    remedy = untrained_advice(plan.graph, spec_path)
    count, kind = untrained_words(plan.graph, plan.untrained)
    diags = [Diagnostic(name, 0, 0, "", "untrained",
                        f"refusing to run on untrained weights ({count} never set): "
                        f"{remedy}, or pass --untrained to run anyway, on {kind}")]
    diags += [Diagnostic(name, *pos.get(tuple(u.path), (0, 0)), format_path(u.path), "untrained", u.reason)
              for u in shown]
    if len(plan.untrained) > len(shown):
        diags.append(Diagnostic(name, 10**9, 0, "", "untrained", f"... and {len(plan.untrained) - len(shown):,} more"))
    raise UntrainedError(diags)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--float64", is_flag=True, help="Train in float64.")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint (train.checkpoint).")
@click.option("--restart", is_flag=True, help="Start afresh, replacing the checkpoints of a run that did not finish.")
@click.option("--threads", type=click.IntRange(1, 256), help="BLAS threads while training (default: as many as BLAS "
              "starts with; 1 is much faster on a busy machine).")
@_training_options
def train(spec, float64, resume, restart, threads, epochs, sets, plot, regions, regions_every, as_json, no_save,
          log_file):
    """Train the spec's network (from its initial weights) and write its parameters file.

    \b
    Examples:
      nngraph train examples/xor_train.yaml --plot curves.png
      nngraph train examples/xor_train.yaml --epochs 50 --log epochs.csv
    """
    from .. import load
    from ..graph import build
    from ..spec import with_overrides

    s = load(spec)
    if sets:
        s = _at_options(with_overrides(s, sets))
    _train_and_report(build(s), epochs, plot, as_json, no_save, "float64" if float64 else "float32",
                      resume=resume, log_file=log_file, regions=(regions, regions_every), threads=threads,
                      restart=restart)


def _run_inputs(graph, inputs_file, input_pairs, output_file, dtype, as_json, untrained_ok=False, spec_path=None):
    from ..io import check_output_path, read_inputs, write_outputs

    if output_file:
        check_output_path(output_file, "--output", inputs=inputs_file)
        refuse_overwrite(graph, ("--output", output_file))
    plan = compile_plan(graph, dtype)
    _refuse_untrained(plan, untrained_ok, spec_path)
    x = read_inputs(inputs_file, plan) if inputs_file else input_options(input_pairs, plan)
    y = plan.forward(x)
    names = plan.output_names()
    if output_file:
        write_outputs(output_file, y, names)
        _record(output_file)
        click.echo(f"wrote {y.shape[0]:,} x {y.shape[1]} outputs to {terminal(output_file)}", err=True)
        return
    if as_json:
        predicted = _predicted_classes(plan, y)  # the table's predicted column: a label (or index) per row
        from ..epochlog import json_ready  # an output that overflowed is null: JSON has no Infinity

        click.echo(json.dumps(json_ready({"outputs": names, "values": y.tolist(),
                                          **({"predicted": predicted} if predicted is not None else {})})))
        return
    if y.shape[0] > 50 or y.shape[1] > 20:
        click.echo(f"{y.shape[0]:,} x {y.shape[1]} outputs; write them with --output FILE.npy or .csv", err=True)
        sys.exit(1)
    _print_outputs(plan, plan.as_input(x), y, names, f"{graph.spec.name} ({plan.params_origin})")


def _print_outputs(plan, xin, y, names, title):
    """The outputs (and up to 8 input columns) as tables that fit the terminal, every number whole
    (see nngraph.numfmt); a softmax output node gets a column of its predicted class."""
    from rich.table import Table

    from ..numfmt import layout

    ins = plan.input_names() if xin.shape[1] <= 8 else []
    header = list(ins) + list(names)
    columns = [xin[:, j] for j in range(len(ins))] + [y[:, j] for j in range(y.shape[1])]
    text = set()
    predicted = _predicted_classes(plan, y)
    if predicted is not None:
        header.append("predicted")
        columns.append(predicted)
        text.add(len(columns) - 1)
    console = _console()
    turned, tables = layout(header, columns, console.width, text_columns=text, turned_header="name")
    for k, (head, cells) in enumerate(tables):
        table = Table(title=rich_text(title) if k == 0 else None)
        for j, h in enumerate(head):
            dim = (h in ins and not turned) or (turned and j == 0)
            table.add_column(rich_text(h), justify="left" if turned and j == 0 else "right", no_wrap=True,
                             style="dim" if dim else None)
        for i in range(len(cells[0])):
            table.add_row(*(rich_text(col[i]) for col in cells))
        console.print(table)


def _predicted_classes(plan, y):
    """The class each row predicts, by the labels of a single softmax output node (else its index);
    None for a network that is not such a classifier."""
    if len(plan.graph.outputs) != 1:
        return None
    node = plan.graph.outputs[0]
    if node.activation[0] != "softmax" or node.size < 2:
        return None
    labels = node.spec.labels or [str(i) for i in range(node.size)]
    return [str(labels[i]) for i in y.argmax(axis=1)]


class _RichProgress:
    """Training callbacks that draw a rich progress bar per epoch and a line per finished epoch."""

    def __init__(self, epochs, quiet):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.epochs = epochs
        self.quiet = quiet
        self.console = _console(stderr=True)
        self.progress = Progress(TextColumn("epoch {task.fields[epoch]}/{task.fields[of]}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                                 TimeElapsedColumn(), console=self.console, transient=True, disable=quiet)
        self.task = None
        self.varying_rate, self.last_checkpoint = False, None
        self.patience, self.restored_best = None, None  # early stopping's, and what it put back
        self.notes = []

    def epoch_start(self, epoch, steps):
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("train", total=steps, epoch=epoch, of=self.epochs, loss="…")
        self.progress.reset(self.task, total=steps, epoch=epoch, of=self.epochs, loss="…")

    def step(self, epoch, step, loss):
        from ..numfmt import loss as shown

        self.progress.update(self.task, completed=step, loss=shown(loss))

    def epoch_end(self, r):
        if self.quiet or not self._shown(r):
            return
        from ..numfmt import loss as shown

        parts = [f"epoch {r['epoch']:>3}", f"loss {shown(r['loss'])}"]
        if "accuracy" in r:
            parts.append(f"acc {r['accuracy']:.2%}")
        if "val_loss" in r:
            parts.append(f"val_loss {shown(r['val_loss'])}")
        if "val_accuracy" in r:
            parts.append(f"val_acc {r['val_accuracy']:.2%}")
        if self.varying_rate:
            parts.append(f"lr {r['learning_rate']:.3g}")
        parts.append(f"{r['seconds']:.2f}s")
        self.progress.console.print("  ".join(parts))
        if r.get("stopped_early") and r["epoch"] < self.epochs:  # (at the last epoch, training ended anyway)
            self.progress.console.print(f"stopped early after epoch {r['epoch']}: the validation loss did not improve "
                                        f"for {_plural(self.patience, 'epoch')} (train.early_stopping.patience)")

    def note(self, message):
        self.notes.append(message)
        if not self.quiet:
            self.progress.console.print(f"note: {rich_text(message)}")

    def restored(self, epoch, val_loss):
        self.restored_best = {"epoch": epoch, "val_loss": val_loss}
        if not self.quiet:
            self.progress.console.print(f"restored the weights of epoch {epoch}, the best validation loss "
                                        f"{_loss_text(val_loss)} (train.early_stopping.restore_best)")

    def _shown(self, r):
        """At most ~20 epoch lines: every N-th epoch, the last one, and an early stop."""
        every = max(1, -(-self.epochs // 20))
        return r["epoch"] % every == 0 or r["epoch"] in (1, self.epochs) or r.get("stopped_early")

    def checkpoint(self, path):
        self.last_checkpoint = path

    def resumed(self, path, epoch):
        if not self.quiet:
            self.console.print(f"resumed after epoch {epoch} from {rich_text(str(path))}" if path else
                               "no checkpoint to resume from: starting at epoch 1")

    def replaced(self, paths):
        """An earlier run's checkpoints, deleted at this run's first (said even with --json: on stderr)."""
        shown = paths[0].name if len(paths) == 1 else f"{paths[0].name} to {paths[-1].name}"
        self.progress.console.print(f"replaced the earlier run's checkpoints in {rich_text(str(paths[0].parent))} "
                                    f"({rich_text(shown)})")

    def close(self):
        if self.task is not None:
            self.progress.stop()


class _Both:
    """Two sets of training callbacks as one: each hook goes to both (where they have it)."""

    def __init__(self, *parts):
        self.parts = [p for p in parts if p is not None]

    def __getattr__(self, hook):
        calls = [getattr(p, hook) for p in self.parts if hasattr(p, hook)]
        return lambda *args: [call(*args) for call in calls] and None


def _region_frames(regions, data):
    """``--regions FILE [--regions-every N]``: the decision regions drawn while training."""
    path, every = regions
    if path is None:
        if every is not None:
            raise click.UsageError("--regions-every sets how often --regions draws a frame: add --regions FILE.gif")
        return None
    from ..io import check_output_path
    from ..plot import RegionFrames

    check_output_path(path, "--regions")
    return RegionFrames(path, every=every, data=(data.x_train, data.y_train, data.x_test, data.y_test))


def _train_and_report(graph, epochs, plot, as_json, no_save, dtype, resume=False, log_file=None, regions=(None, None),
                      threads=None, restart=False):
    from ..data import load_data
    from ..io import check_output_path
    from ..params import check_writable, parameters_path
    from ..trainchecks import check as check_training
    from ..training import check_resumable, evaluate, train

    spec = graph.spec
    if spec.train is None:
        from ..trainchecks import no_train_section

        raise no_train_section(graph)
    if resume:
        check_resumable(spec.train)
    err = _console(stderr=True)
    target = parameters_path(graph)  # a bad target is refused before the training, not after it
    if target is not None and not no_save:
        check_writable(graph, target)
    if plot:
        from ..plot import check_plot_path

        check_output_path(plot, "--plot")
        check_plot_path(plot)
    _refuse_clashes(graph, target, ("--plot", plot), ("--log", log_file),
                    ("--regions", regions[0]))
    log = None
    if log_file:
        from ..epochlog import EpochLog

        check_output_path(log_file, "--log")
        log = EpochLog(log_file)  # a wrong suffix is refused as --plot's and --regions' are
    warnings = graph.warnings + check_training(graph, dtype=dtype)  # the data section too, located, before its data is read
    if not as_json:
        for w in warnings:  # as validate prints them
            click.echo(w.format(), err=True)
    data = load_data(spec)
    if not as_json:
        err.print(f"data: {rich_text(data.description)}")
        for line in data.warnings:
            err.print(rich_text(line))
    bar = _RichProgress(epochs or spec.train.epochs, quiet=as_json)
    bar.varying_rate = spec.train.optimizer.schedule is not None
    if spec.train.early_stopping is not None:
        bar.patience = spec.train.early_stopping.patience
    frames = _region_frames(regions, data)
    try:
        plan, history = train(graph, data, epochs=epochs, callbacks=_Both(bar, frames, log), dtype=dtype, resume=resume,
                              threads=threads, restart=restart)
    except BaseException as exc:
        if frames is not None:
            frames.close(write=False)
        if getattr(exc, "history", None) is not None:  # Ctrl-C, a diverging loss: say what is left, and what is not
            left = [log.describe()] if log is not None and log.rows else []
            exc.args = (f"{exc}; {'; '.join(left + ['the parameters file was not written'])}",)
        raise
    finally:
        bar.close()
        if log is not None:
            log.close()
    result = {"spec": spec.name, "data": data.description, "history": history}
    if warnings:
        result["warnings"] = [w.as_dict() for w in warnings]
    if bar.restored_best is not None:
        result["restored_best"] = bar.restored_best
    if bar.notes:
        result["notes"] = bar.notes
    if frames is not None:
        result["regions"] = [str(p) for p in frames.close()]  # each recorded as it was written
    with _blas_threads(threads):
        test = evaluate(plan, data.x_test, data.y_test, data.classes, spec.train.loss)
    result["test"] = _json_test(test, spec)
    if plot:  # before the parameters: a plot that fails leaves the old parameters in place
        from ..plot import plot_history

        plot_history(history, plot, title=spec.name)  # recorded by its atomic write
        result["plot"] = plot
    if target is not None and not no_save:
        result["parameters"] = plan.save(target)
    if log_file:
        result["log"] = log_file
    if as_json:
        from ..epochlog import json_ready

        click.echo(json.dumps(json_ready(result), indent=2, default=float))
        return
    _print_test(test, data, spec, plan)
    _print_learned(plan)
    if "parameters" in result:
        err.print(f"parameters written to {rich_text(result['parameters'])}")
    elif no_save:
        err.print("parameters not saved (--no-save)")
    elif target is None:
        err.print("parameters not saved: the spec names no 'parameters' file (add 'parameters: FILE.npz' to keep them)")
    if plot:
        err.print(f"training curves written to {rich_text(plot)}")
    if frames is not None:
        shown = result["regions"]
        err.print(f"decision regions written to {rich_text(shown[0])}" if len(shown) == 1 else
                  f"{len(shown)} decision-region frames written to {rich_text(shown[0])} ... {rich_text(shown[-1])}")
    if log_file:
        err.print(f"epoch log written to {rich_text(log_file)}")


def refuse_overwrite(spec, *options):
    """Refuse, before any work, an output option (``(option, path)`` pairs) that names a file the
    spec reads: the spec itself, its data file, its checkpoint folder or its parameters file.
    ``spec``: a loaded spec or a built graph."""
    from types import SimpleNamespace

    from ..errors import NNGraphError
    from ..params import parameters_path

    graph = spec if hasattr(spec, "spec") else SimpleNamespace(spec=spec)
    try:
        params = parameters_path(graph)
    except NNGraphError:  # refused, located, where it is read
        params = None
    _refuse_clashes(graph, params, *options)


def _refuse_clashes(graph, target, *options):
    """Refuse, before training, an output option that names a file the run reads or writes: the
    spec, its data, its checkpoint folder, the parameters file or another option's file."""
    from ..trainchecks import clash, spec_files

    files = spec_files(graph) + ([(f"the parameters file ({graph.spec.parameters})", target)] if target else [])
    for option, path in options:
        if not path:
            continue
        what = clash(path, files)
        if what:
            raise click.UsageError(f"{option} {terminal(path)} is {what}: it would be replaced; name another file")
        files.append((f"the {option} file", path))


def _evaluate_only(graph, dtype, as_json, untrained_ok=False, spec_path=None):
    from ..data import load_data
    from ..training import evaluate

    spec = graph.spec
    plan = compile_plan(graph, dtype)
    _refuse_untrained(plan, untrained_ok, spec_path)
    data = load_data(spec)
    loss = spec.train.loss if spec.train else None
    test = evaluate(plan, data.x_test, data.y_test, data.classes, loss)
    if as_json:
        from ..epochlog import json_ready

        click.echo(json.dumps(json_ready({"spec": spec.name, "data": data.description, "parameters": plan.params_origin,
                                          "test": _json_test(test, spec)}), indent=2))
        return
    err = _console(stderr=True)
    err.print(f"data: {rich_text(data.description)}")
    for line in data.warnings:
        err.print(rich_text(line))
    again = " (use --retrain to train again)" if spec.train is not None else ""
    err.print(f"{rich_text(plan.params_origin)}{again}")
    _print_test(test, data, spec, plan)


def _print_test(test, data, spec, plan=None):
    out = _console()
    if not test["n"]:
        out.print("test: no test samples to evaluate (data.test_split holds none out)")
        return
    if "accuracy" in test:
        out.print(f"test accuracy: {test['accuracy']:.2%} ({_plural(test['n'], 'sample')})" +
                  (f", loss {_loss_text(test['loss'])}" if "loss" in test else ""))
        out.print(f"macro precision {test['precision']:.3f}, recall {test['recall']:.3f}, F1 {test['f1']:.3f}")
        if plan is not None and test["n"] <= 16 and plan.input_width <= 6:
            _print_predictions(plan, data, out)
        cm = test["confusion"]
        if cm.shape[0] <= 12:
            from rich.table import Table

            names = _class_names(spec, data, cm.shape[0])
            short = all(len(n) <= 3 for n in names)
            t = Table(title="confusion matrix (rows: true, columns: predicted)")
            t.add_column("")
            for i, n in enumerate(names):
                t.add_column(rich_text(n) if short else str(i), justify="right")
            for i, n in enumerate(names):
                t.add_row(rich_text(n if short else f"{i} {n}"), *[f"[bold]{v}[/bold]" if i == j else (str(v) if v else "[dim]0[/dim]")
                                                        for j, v in enumerate(cm[i])])
            out.print(t)
    elif "loss" in test:
        out.print(f"test loss ({rich_text(spec.train.loss) if spec.train else ''}): {test['loss']:.6g} ({_plural(test['n'], 'sample')})")
    if "loss" in test and not math.isfinite(test["loss"]):
        from ..training import overflow_note

        _console(stderr=True).print(f"warning: {overflow_note('the test loss', test['loss'], data.x_test, plan.dtype if plan else 'float32')}")
    if "rmse" in test:
        r2 = f"{test['r2']:.4f}" if test["r2"] is not None else f"undefined ({test['r2_undefined']})"
        out.print(f"MAE {test['mae']:.4g}, RMSE {test['rmse']:.4g}, R² {r2}")


def _class_names(spec, data, n: int) -> list[str]:
    """The names of ``n`` classes: the labels the outputs declare, else the data's, else numbers."""
    from ..samples import class_labels

    for names in (class_labels(spec), data.classes):
        if names and len(names) == n:
            return [str(c) for c in names]
    return [str(i) for i in range(n)]


def _json_test(test: dict, spec) -> dict:
    """The test metrics as JSON, with the class names where the outputs declare labels (the
    confusion matrix's rows and columns are in their order)."""
    from ..samples import class_labels

    out = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in test.items()}
    labels = class_labels(spec)
    if "confusion" in out and labels and len(labels) == len(out["confusion"]):
        out["classes"] = labels
    return out


def _print_learned(plan):
    """A small network's learned weights and biases, by the neurons they join (the fast-food
    example's three weights are the prices it learned)."""
    from ..summary import learned_values

    values = learned_values(plan)
    if not values:
        return
    out = _console()
    width = max(len(name) for name, _, _ in values)
    out.print("learned weights and biases:")
    for name, value, trained in values:
        out.print(rich_text(f"  {name:<{width}}  {value:.6g}{'' if trained else '  (not trained)'}"))


def _print_predictions(plan, data, out):
    """A small classifier's every test row: inputs, truth, output and prediction (truth tables)."""
    import numpy as np
    from rich.table import Table

    from ..training import _predicted

    y = plan.forward(data.x_test)
    pred = _predicted(y)
    truth = np.asarray(data.y_test).reshape(-1).astype(np.int64)
    names = _class_names(plan.spec, data, max(plan.output_width, 2, int(truth.max(initial=0)) + 1))
    t = Table(title="predictions on the test set")
    for n in plan.input_names():
        t.add_column(rich_text(n), justify="right", style="dim")
    t.add_column("truth", justify="right")
    for n in plan.output_names():
        t.add_column(rich_text(n), justify="right")
    t.add_column("predicted", justify="right")
    t.add_column("correct", justify="center")
    for i in range(len(y)):
        ok = int(pred[i]) == truth[i]
        t.add_row(*[f"{v:g}" for v in data.x_test[i]], rich_text(names[truth[i]]), *[f"{v:.4f}" for v in y[i]],
                  rich_text(names[int(pred[i])]), "[green]✓[/green]" if ok else "[red]✗[/red]")
    out.print(t)




def _record(path):
    from ..writes import record

    record(path)


def _loss_text(x) -> str:
    from ..numfmt import loss

    return loss(x)
