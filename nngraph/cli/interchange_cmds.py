"""import, export: move networks in from neat-python or ONNX, and out to ONNX or neat-python."""
from __future__ import annotations

import click

from . import Choice, main, terminal


@main.command(name="import")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The spec to write (.yaml or .json); many weights go to <name>.params.npz beside it.")
@click.option("--format", "kind", type=Choice(["neat-json", "onnx"]), default=None,
              help="The file's format (default: from its suffix or content).")
@click.option("--name", default=None, help="The spec's name (default: from the file).")
def import_cmd(source, output, kind, name):
    """Turn a neat-python JSON export or an ONNX model into a spec. Nothing is written on refusal."""
    from ..interchange import import_file, save
    from ..io import check_output_path

    check_output_path(output, "-o")
    _refuse_source(source, output)
    spec = import_file(source, kind=kind, name=name)
    for path in save(spec, output):
        click.echo(f"wrote {terminal(path)}")


def _refuse_source(source, output):
    """The spec and the files written beside it (``<stem>.params.npz``, ``<stem>.edges.npz``) may
    not replace the file being imported."""
    from pathlib import Path

    from ..writes import same_path

    out = Path(output)
    for path in (out, out.with_name(out.stem + ".params.npz"), out.with_name(out.stem + ".edges.npz")):
        if same_path(path, source):
            raise click.UsageError(f"-o {terminal(output)}: writes {terminal(path)}, which is the file being "
                                   "imported: it would be replaced; name another output")


@main.command(name="export")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The file to write.")
@click.option("--format", "fmt", type=Choice(["onnx", "neat-json"]), default=None,
              help="onnx: the compiled plan as an ONNX graph; neat-json: neat-python's JSON export format "
              "(default: from the extension of -o, .onnx or .json; any other is refused).")
@click.option("--float64", is_flag=True, help="ONNX in float64 (weights bit for bit) instead of float32.")
@click.option("--untrained", is_flag=True, help="Export initial (untrained) weights anyway, e.g. to look at the "
              "graph in Netron.")
def export_cmd(spec, output, fmt, float64, untrained):
    """Write a spec (with its trained parameters) as ONNX or as neat-python JSON."""
    import numpy as np

    from ..compile import compile
    from ..errors import NNGraphError
    from ..interchange import export_file
    from ..interchange.files import export_format
    from ..io import check_output_path

    try:
        fmt = export_format(output, fmt)
    except NNGraphError as exc:
        raise click.BadParameter(str(exc), param_hint="'-o' / '--output'") from None
    check_output_path(output, "-o")
    from .. import load
    from .run_cmds import refuse_overwrite

    loaded = load(spec)
    refuse_overwrite(loaded, ("-o", output))  # whatever --format says: the spec and its files stay
    plan = compile(loaded, dtype=np.float64 if float64 or fmt == "neat-json" else np.float32)
    if plan.params_origin.startswith("initial") and not untrained:
        from ..params import untrained_advice

        raise NNGraphError(f"{spec}: has no trained parameters ({plan.params_origin}): the export would hold them; "
                           f"{untrained_advice(plan.graph, spec)}, or pass --untrained")
    click.echo(f"wrote {terminal(export_file(plan, output, format=fmt))}")
