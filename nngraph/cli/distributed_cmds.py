"""sweep, and the streaming / cluster side of run: thin layers over nngraph.stream and nngraph.distributed."""
from __future__ import annotations

import json
from pathlib import Path

import click

from . import main, _console, rich_text, terminal


def cluster_option(f):
    f = click.option("--threads", type=click.IntRange(1, 256), help="BLAS threads per chunk or trial, here and on each "
                     "worker (default: as many as this process uses; results match bit for bit at equal counts).")(f)
    return click.option("--cluster", metavar="local[:N]|tcp://HOST:PORT",
                        help="Run on Dask: local:N starts N worker processes here; tcp://... uses a running "
                             "scheduler (default: DASK_SCHEDULER_ADDRESS if set, else this process).")(f)


def stream_run(plan, inputs, output, chunk_rows, cluster, as_json, threads=None):
    """``run --inputs DATA --output OUT`` chunk by chunk, here or on a cluster; OUT appears only when complete."""
    from ..stream import open_inputs

    if not output:
        raise click.UsageError(f"{_why_streamed(cluster, chunk_rows)}, so the run needs --output FILE (.npy, .csv "
                               "or .zarr) to write the outputs to")
    from ..io import check_output_path

    check_output_path(output, "--output", folder_ok=str(output).lower().endswith(".zarr"),  # zarr: a folder
                      inputs=inputs)
    from .run_cmds import refuse_overwrite

    refuse_overwrite(plan.graph, ("--output", output))
    source = open_inputs(inputs, plan.input_width, plan)
    with _progress(source.rows, as_json) as progress, _client(cluster, threads) as client:
        from ..distributed import score_to

        summary = score_to(plan, source, output, client, chunk_rows=chunk_rows, progress=progress, threads=threads)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"wrote {summary['rows']:,} x {plan.output_width} outputs to {terminal(summary['output'])} "
                   f"({summary['rows_per_s']:,.0f} rows/s)", err=True)


def _why_streamed(cluster, chunk_rows) -> str:
    """Why this run streams its inputs: the options that ask for it, else the inputs themselves."""
    named = [o for o, v in (("--cluster", cluster), ("--chunk-rows", chunk_rows)) if v]  # --threads: only with --output
    if named:
        return f"{' and '.join(named)} make{'s' if len(named) == 1 else ''} this run stream its inputs chunk by chunk"
    return "streaming inputs (a folder, glob, zarr array, or a file over 256 MB) are scored chunk by chunk"


def _client(cluster, threads=None):
    from ..distributed import connect, oversubscribed

    note = oversubscribed(cluster, threads)
    if note:
        _console(stderr=True).print(f"note: {rich_text(note)}")
    return connect(cluster)


class _progress:
    """A rich bar over rows with rows/s; a no-op for --json."""

    def __init__(self, total, quiet):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, \
            TimeRemainingColumn

        console = _console(stderr=True)  # a bar only on a terminal: a pipe gets no half-drawn lines
        self.bar = Progress(TextColumn("rows"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console,
                            transient=True, disable=quiet or not console.is_terminal)
        self.task = self.bar.add_task("rows", total=total, rate="")

    def __enter__(self):
        self.bar.start()
        return self

    def __call__(self, done, total):
        speed = self.bar.tasks[0].speed
        self.bar.update(self.task, completed=done, rate=f"{speed:,.0f} rows/s" if speed else "")

    def __exit__(self, *exc):
        self.bar.stop()


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--grid", "grid", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="Values to try for a spec key, e.g. train.optimizer.learning_rate=1e-3,1e-2 (repeatable).")
@click.option("--random", "random_k", type=click.IntRange(1), help="Try K combinations drawn at random (seeded).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --random.")
@cluster_option
@click.option("--json", "as_json", is_flag=True, help="Print every trial as JSON.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Also write the trials to a CSV file.")
@click.option("--no-save", is_flag=True, help="Do not write the best trial's parameters.")
@click.option("--float64", is_flag=True, help="Train in float64.")
def sweep(spec, grid, random_k, seed, cluster, threads, as_json, csv_file, no_save, float64):
    """Train one variant of SPEC per combination of --grid values, in parallel on --cluster.

    Each trial is a seeded training run; trials appear in the table as they finish; a failed
    trial says so in its row, with its error under the table. The best trial (lowest validation
    loss, else training loss) has its parameters written beside the spec as
    <spec>.best.params.npz.

    \b
    Examples:
      nngraph sweep examples/xor_train.yaml --grid train.epochs=100,300
      nngraph sweep net.yaml --grid nodes.1.size=8,16 --grid train.epochs=5,10
      nngraph sweep net.yaml --grid train.seed=0,1,2 --cluster local:2 --csv t.csv
    """
    from .. import load
    from ..distributed import best, objective, parse_grid, sweep as run_sweep

    s = load(spec)
    target = Path(spec).with_name(Path(spec).name.rsplit(".", 1)[0] + ".best.params.npz")
    if csv_file:
        from ..io import check_output_path
        from ..writes import same_path

        if Path(csv_file).suffix.lower() != ".csv":
            raise click.UsageError(f"--csv {csv_file}: the trials are written as a .csv file; name one ending in .csv")
        kept = [("the spec itself", spec), ("the best trial's parameters file", target)]
        if s.data is not None and s.data.path and s.data.source in ("csv", "npz"):
            kept.append((f"the data file ({s.data.path})", Path(s.base_dir) / s.data.path))
        for what, path in kept:
            if same_path(csv_file, path):
                raise click.UsageError(f"--csv {csv_file} is {what}: it would be replaced; name another file")
        check_output_path(csv_file, "--csv")  # before the trials, not after them
    from .run_cmds import refuse_overwrite

    refuse_overwrite(s, *([("--csv", csv_file)] if csv_file else []),
                     *([] if no_save else [("the best trial's parameters file", target)]))
    keys = list(parse_grid(grid))
    table = _TrialTable(keys, quiet=as_json)
    with table, _client(cluster, threads) as client:
        results = run_sweep(s, parse_grid(grid), client, random_k=random_k, seed=seed,
                            dtype="float64" if float64 else "float32", on_result=table.add, threads=threads)
    top = best(results)
    if top is not None and not no_save:
        from ..params import ACTIVATIONS_KEY, write_parameters

        write_parameters(target, {**top["parameters"], ACTIVATIONS_KEY: top["activations"]})
    rows = [{k: v for k, v in r.items() if k not in ("parameters", "activations")} for r in results]
    if csv_file:
        _write_csv(csv_file, rows, keys)
    if as_json:
        from ..epochlog import json_ready  # a trial's loss that overflowed is null: JSON has no Infinity

        click.echo(json.dumps(json_ready({"trials": rows, "best": None if top is None else top["trial"],
                                          "parameters": None if top is None or no_save else str(target)}),
                              default=float))
        return
    err = _console(stderr=True)
    failed = sum("error" in r for r in results)
    if failed:
        err.print(f"{failed} of {len(results)} trials failed (their errors are under the table)")
    if top is None:
        raise click.ClickException("every trial failed")
    metric, value = objective(top)
    sets = " ".join(f"--set {k}={v}" for k, v in top["overrides"].items())
    err.print(f"best: trial {top['trial']} ({metric} {value:.4g}): {rich_text(sets)}")
    if not no_save:
        err.print(f"its parameters written to {rich_text(str(target))}; use them with:")
        err.print(rich_text(_use_best(spec, target, top["overrides"])), soft_wrap=True)


def _use_best(spec, target, overrides) -> str:
    """The command that runs the best trial's network: its parameters file (named relative to the
    spec, as a spec names it) and the options that change the network or its data (training
    settings do not change what runs)."""
    import shlex

    sets = [f"parameters={target.name}"] + [f"{k}={v}" for k, v in overrides.items() if not k.startswith("train.")]
    return "  nngraph run " + " ".join([shlex.quote(str(spec))] + [f"--set {shlex.quote(a)}" for a in sets])


def short_headers(keys) -> list:
    """Each key's shortest dotted tail that no other key ends with: train.optimizer.learning_rate
    becomes learning_rate (a column of an 80-column terminal read 'train.opt / imizer.le / ...')."""
    parts = [k.split(".") for k in keys]
    heads = []
    for p in parts:
        for n in range(1, len(p) + 1):
            tail = p[-n:]
            if not any(q != p and q[-n:] == tail for q in parts):
                break
        heads.append(".".join(tail))
    return heads


class _TrialTable:
    """The trials as rows that appear as each one finishes (live on a terminal), readable in an
    80-column terminal: short headers explained in the caption, no vertical rules, each failed
    trial's error in full under the table, and one line per trial when the columns cannot fit."""

    COLUMNS = ("loss", "val_loss", "val_accuracy", "test_accuracy", "seconds")
    HEADS = {"val_accuracy": "val_acc", "test_accuracy": "test_acc", "seconds": "secs"}
    # the widest each metric prints: a loss 1.235e-05, an accuracy 0.9512, seconds 9999.9
    WIDTHS = {"loss": 9, "val_loss": 9, "val_accuracy": 7, "test_accuracy": 8, "seconds": 6}

    def __init__(self, keys, quiet, console=None):
        from rich.live import Live

        self.keys, self.quiet, self.rows = keys, quiet, []
        self.heads = short_headers(keys)
        self.console = console or _console()
        named = [f"{h} = {k}" for h, k in zip(self.heads, keys) if h != k]
        named += [f"{h} = {c}" for c, h in self.HEADS.items()]
        self.named = named
        widths = [3] + [len(h) for h in self.heads] + list(self.WIDTHS.values())
        self.fits = sum(widths) + 2 * (len(widths) - 1) <= self.console.width
        # a terminal shows rows as trials finish; a pipe or file gets the whole table once, at the end
        self.live = Live(self, console=self.console, auto_refresh=False) \
            if self.console.is_terminal and not quiet else None

    def __enter__(self):
        if self.live:
            self.live.start()
        return self

    def add(self, r):
        if self.quiet:
            return
        self.rows.append(r)
        if self.live:
            self.live.refresh()

    def _cells(self, r):
        return [self._cell(c, r[c]) if c in r else "" for c in self.COLUMNS]

    @staticmethod
    def _cell(column, value):
        if column == "seconds":
            return f"{value:.1f}"
        return f"{value:.2%}" if column.endswith("accuracy") else f"{value:.4g}"  # as train prints accuracy

    def _caption(self):
        """What the short headers stand for, left-aligned, lines broken only between entries."""
        from rich.text import Text

        lines, line = [], ""
        for part in self.named:
            if line and len(line) + 2 + len(part) > self.console.width:
                lines.append(line + ";")
                line = part
            else:
                line = f"{line}; {part}" if line else part
        lines.append(line)
        return Text("\n", style="dim").join(Text(terminal(line), style="dim") for line in lines)

    def __rich__(self):
        from rich import box
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        title = "sweep (rows in the order trials finish)"
        failed = [Text(f"trial {r['trial']} failed: ") + rich_text(r["error"]) for r in self.rows if "error" in r]
        if not self.fits:  # more keys than columns can hold: a line per trial, wrapped between its values
            lines = [Text(title, style="italic")]
            for r in self.rows:
                parts = [f"{h}={r['overrides'].get(k, '')}" for h, k in zip(self.heads, self.keys)]
                parts += [f"{self.HEADS.get(c, c)}={v}" for c, v in zip(self.COLUMNS, self._cells(r)) if v]
                lines.append(Text(f"{r['trial']:>3}  ") + rich_text("  ".join(parts)))
            return Group(*lines, self._caption(), *failed)
        # columns two characters apart (a blank rule and one space), as self.fits counts them
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                      pad_edge=False, padding=(0, 0, 0, 1))
        table.add_column("#", justify="right", no_wrap=True)
        for h in self.heads:
            table.add_column(rich_text(h), overflow="fold")  # a long value wraps; its header fits (see fits)
        for c in self.COLUMNS:
            table.add_column(self.HEADS.get(c, c), justify="right", no_wrap=True, min_width=self.WIDTHS[c])
        for r in self.rows:
            metrics = self._cells(r) if "error" not in r else ["failed"] + self._cells(r)[1:]
            table.add_row(str(r["trial"]), *[rich_text(str(r["overrides"].get(k, ""))) for k in self.keys], *metrics)
        return Group(table, self._caption(), *failed)

    def __exit__(self, *exc):
        if self.live:
            self.live.stop()
        elif not self.quiet and self.rows:
            self.console.print(self, soft_wrap=False)  # wrapped by rich between words, not by the terminal


def _write_csv(path, rows, keys):
    import csv
    import io

    from ..writes import atomic_write

    cols = ["trial"] + keys + list(_TrialTable.COLUMNS) + ["epochs", "error"]

    def write(f):
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        w = csv.writer(text)
        w.writerow(cols)
        for r in sorted(rows, key=lambda r: r["trial"]):
            w.writerow([r["overrides"].get(c, "") if c in keys else r.get(c, "") for c in cols])
        text.flush()
        text.detach()
    atomic_write(Path(path), write)
