"""draw: diagrams of a network."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import Choice, main, _console, _fail, _plural, input_options, terminal  # noqa: F401  (shared by the command modules)


# -- draw ----------------------------------------------------------------------------------------


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (.svg, .png, .pdf, .dot, or .html: an interactive page).")
@click.option("--format", "fmt", type=Choice(["svg", "png", "pdf", "dot", "html"]), help="Output format.")
@click.option("--view", type=Choice(["auto", "neuron", "layer", "stage"]), default="auto", show_default=True,
              help="A circle per neuron, a box per node, or a box per compiled stage; auto: neurons while about "
                   "2,000 connections or fewer would be drawn, else layers.")
@click.option("--max-neurons", type=click.IntRange(3), default=12, show_default=True,
              help="Collapse layers wider than this in the neuron view.")
@click.option("--highlight", multiple=True, help="Highlight a node or neuron (repeatable).")
@click.option("--focus", help="Draw only this neuron's neighbourhood (neuron view).")
@click.option("--radius", type=click.IntRange(1), default=1, show_default=True, help="Steps around --focus.")
@click.option("--dpi", type=click.IntRange(30, 1200), default=150, show_default=True,
              help="Resolution of a .png (dots per inch).")
@click.option("--force", is_flag=True, help="Draw a neuron view even if it would be very large.")
@click.option("--open", "open_", is_flag=True, help="Open the diagram in the default viewer.")
@click.option("--input", "input_pairs", multiple=True, metavar="NAME=VALUE",
              help="Colour by activation for this input (repeatable; every view).")
@click.option("--inputs", "inputs_file", type=click.Path(dir_okay=False), help="Colour by a row of this file.")
@click.option("--row", type=click.IntRange(0), default=0, show_default=True, help="The row of --inputs to draw.")
def draw(spec, output, fmt, view, max_neurons, highlight, focus, radius, dpi, force, open_, input_pairs,
         inputs_file, row):
    """Draw a diagram of the network (neuron, layer or stage view)."""
    from ..draw import render

    if output:
        from .. import load
        from ..io import check_output_path
        from .run_cmds import refuse_overwrite

        check_output_path(output, "-o", inputs=inputs_file)
        spec = load(spec)
        refuse_overwrite(spec, ("-o", output))
    inputs = _one_input(spec, input_pairs, inputs_file, row) if input_pairs or inputs_file else None
    path, notes = render(spec, output=output, fmt=fmt, view=view, max_neurons=max_neurons, highlight=highlight,
                         focus=focus, radius=radius, dpi=dpi, force=force, inputs=inputs)
    for n in notes:
        click.echo(terminal(n), err=True)
    click.echo(f"wrote {terminal(path)}", err=True)
    if open_:
        _open(path)


def _open(path):
    """Open a diagram in the desktop's viewer, or say plainly why not and where the file is."""
    import os

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        click.echo(f"--open: no display here (DISPLAY is not set); the diagram is at {Path(path).resolve()}", err=True)
        return
    try:
        code = click.launch(str(path))
    except OSError as exc:
        code = exc
    if code:
        click.echo(f"--open: could not start a viewer ({code}); the diagram is at {Path(path).resolve()}", err=True)


def _one_input(spec, input_pairs, inputs_file, row):
    from ..compile import compile
    from ..io import read_inputs

    plan = compile(spec, dtype="float64")
    if inputs_file:
        from .run_cmds import _input_notes

        with _input_notes():
            x = read_inputs(inputs_file, plan)
        if row >= len(x):
            raise click.BadParameter(f"{inputs_file} has {len(x):,} rows (0 to {len(x) - 1:,})", param_hint="--row")
        return x[row:row + 1]
    return input_options(input_pairs, plan)
