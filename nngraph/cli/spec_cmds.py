"""validate, schema, inspect, dump: commands that read a spec and report on it."""
from __future__ import annotations

import gc
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import SpecError
from . import Choice, main, _console, _fail, _plural, rich_text, terminal  # noqa: F401  (shared by the command modules)


# -- validate / schema -------------------------------------------------------------------------


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print findings as a JSON list.")
def validate(specs, as_json):
    """Check specs: syntax, types, references, shapes, limits, files and cycles."""
    with _collector_paused():
        from ..graph import build
        from ..plan import stage_count

    findings, ok = [], True
    for path in specs:
        try:
            g = build(path)
            from ..trainchecks import findings as training_findings

            errors, warnings = training_findings(g)
            g.warnings += warnings
            stale = _parameters_finding(g, path)
            if stale is not None:
                (g.warnings if stale.severity == "warning" else errors).append(stale)
            if errors:
                raise SpecError(errors, g.warnings)
            findings += g.warnings
            summary = f"{terminal(path)}: ok ({_plural(len(g.nodes), 'node')}, {_plural(g.n_neurons, 'neuron')}, " \
                      f"{_plural(g.n_weights, 'weight')}, " \
                      f"{stage_count(int(g.neuron_level.max()))})" + _untrained_note(g, path)
            if not as_json:
                for w in g.warnings:
                    click.echo(w.format(), err=True)
                click.echo(summary)
        except SpecError as exc:
            ok = False
            findings += exc.diagnostics + exc.warnings
            if not as_json:
                for d in exc.diagnostics + exc.warnings:
                    click.echo(d.format(), err=True)
        except Exception as exc:  # one file's failure (even a bug) must not stop the others being checked
            ok = False
            from ..errors import Diagnostic, NNGraphError

            if isinstance(exc, OSError) and exc.filename is not None:
                from ..errors import file_error

                exc = file_error(exc, doing="read")
            bug = not isinstance(exc, NNGraphError)
            d = Diagnostic(str(path), 0, 0, "", "internal_error" if bug else "error",
                           f"internal error: {type(exc).__name__}: {exc} (please report it)" if bug else str(exc))
            findings.append(d)
            if not as_json:
                click.echo(d.format(), err=True)
    if as_json:
        click.echo(json.dumps([d.as_dict() for d in findings], indent=2))
    sys.exit(0 if ok else 1)


@contextmanager
def _collector_paused():
    """Importing pydantic, PyYAML and the spec's models makes some 100k objects that live as long
    as the process: the collector's passes over them free nothing. Paused while they are made,
    and frozen out of its later passes (gc.freeze): 8% fewer instructions to validate a small
    spec (callgrind). The collector then runs as the caller had it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if paused:
            gc.enable()


def _parameters_finding(graph, path):
    """The parameters file checked as `run` reads it (shapes, values, the activations it was trained
    with): a spec that only runs gets an error, one that trains a warning (training writes anew)."""
    from ..errors import Diagnostic, ParameterFileError, file_error
    from ..params import expected_shapes, located, parameters_path, read_parameters

    try:
        target = parameters_path(graph)  # never a file outside the spec's folder
        if target is None or not os.path.lexists(target):
            return None
        if not target.is_file():  # a FIFO, a device, a dangling link: run refuses it (and a FIFO would block)
            raise ParameterFileError(located(graph.spec, ("parameters",),
                                             f"'{graph.spec.parameters}' is not a regular file"))
        try:
            read_parameters(target, expected_shapes(graph), graph.spec.parameters, graph=graph)
        except OSError as exc:  # unreadable: run says so as well
            raise ParameterFileError(located(graph.spec, ("parameters",), str(file_error(exc, doing="read")))) from None
    except ParameterFileError as exc:
        import re

        trains = graph.spec.train is not None
        message = str(exc) + ("; `nngraph run` refuses the file until training writes it again" if trains else "")
        located = re.match(r"(.+?):(\d+):(\d+): (.*)", message, re.S)  # already at a spec line: keep it
        where = (located.group(1), int(located.group(2)), int(located.group(3))) if located else (str(path), 0, 0)
        return Diagnostic(*where, "", "parameters_file", located.group(4) if located else message,
                          "warning" if trains else "error")
    except Exception:  # an unsafe or unreadable path is reported by the checks that read it
        return None
    return None


def _untrained_note(graph, path) -> str:
    """``; not trained yet: ...`` when running would meet weights that nothing set."""
    from ..graph.build import stored_parameter_names
    from ..params import parameters_path, untrained_advice, untrained_parameters, untrained_words

    untrained = untrained_parameters(graph, stored_parameter_names(graph.spec) or set(), parameters_path(graph))
    if not untrained:
        return ""
    how = terminal(untrained_advice(graph, path))
    count, kind = untrained_words(graph, untrained)
    return f"; not trained yet: {count} at {kind} ({how})"


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def schema(output):
    """Print the JSON Schema of the spec language (for editors)."""
    from ..spec import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output:
        from ..io import check_output_path, write_text_atomic

        check_output_path(output, "--output")
        write_text_atomic(output, text)
        click.echo(f"wrote {terminal(output)}", err=True)  # as draw does: stdout stays the data's
    else:
        click.echo(text, nl=False)


# -- inspect -----------------------------------------------------------------------------------

_INSPECT_ENDS = 20  # a table of thousands of rows is unreadable and slow to lay out: show both ends


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable plan.")
@click.option("--float64", is_flag=True, help="Compile in float64.")
@click.option("--all", "show_all", is_flag=True, help="List every stage (a long network shows its first and "
              f"last {_INSPECT_ENDS} stages).")
def inspect(spec, as_json, float64, show_all):
    """Show the compiled plan: stages, blocks, parameters, multiply-adds."""
    from ..compile import compile
    from ..summary import plan_summary

    plan = compile(spec, dtype="float64" if float64 else "float32")
    info = plan_summary(plan)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    from rich.table import Table

    from ..plan import stage_count

    table = Table(title=f"{rich_text(plan.spec.name)}: {stage_count(len(plan.stages) - 1)} ({info['dtype']})")
    stages = info["stages"]
    for col in ("stage", "neurons", "computes", "reads", "parameters", "MACs/sample"):
        # a node name too long for its column folds onto the next line: its end tells nodes apart
        table.add_column(col, justify="left" if col in ("computes", "reads") else "right",
                         overflow="fold" if col == "computes" else "ellipsis")
    if not show_all and len(stages) > 2 * _INSPECT_ENDS + 1:
        skipped = len(stages) - 2 * _INSPECT_ENDS
        stages = stages[:_INSPECT_ENDS] + [None] + stages[-_INSPECT_ENDS:]
    for st in stages:
        if st is None:
            table.add_row("...", "", f"{skipped:,} more stages (--all lists them, --json gives them all)", "", "", "")
            continue
        reads = "\n".join(f"stage {b['from_stage']}: {b['kind']} {b['shape'][0]}x{b['shape'][1]}"
                          + (f" ({b['density']:.1%})" if b["density"] < 1 else "")
                          + (f" rows {b['rows_read']}" if b["rows_read"] is not None else "") for b in st["blocks"])
        table.add_row(str(st["stage"]), f"{st['neurons']:,}", rich_text("\n".join(st["computes"]), lines=True), reads or "-",
                      f"{st['parameters']:,}", f"{st['macs']:,}")
    table.add_row("total", f"{info['neurons']:,}", "", "", f"{info['parameters']:,}", f"{info['macs']:,}",
                  style="bold")
    _console().print(table)
    _console().print(rich_text(plan.params_origin))



@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="The language to print the spec in.")
def dump(spec, fmt):
    """Print a spec in canonical form (YAML or JSON)."""
    from .. import dump as dump_spec, load

    click.echo(dump_spec(load(spec), fmt), nl=False)

