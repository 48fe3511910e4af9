"""draw: diagrams of a network."""
from __future__ import annotations


import click

from . import main, _console, _fail, _plural  # noqa: F401  (shared by the command modules)


# -- draw ----------------------------------------------------------------------------------------


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (.svg, .png, .pdf, .dot).")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot"]), help="Output format.")
@click.option("--view", type=click.Choice(["auto", "neuron", "layer", "stage"]), default="auto", show_default=True)
@click.option("--max-neurons", type=click.IntRange(3), default=12, show_default=True,
              help="Collapse layers wider than this in the neuron view.")
@click.option("--highlight", multiple=True, help="Highlight a node or neuron (repeatable).")
@click.option("--focus", help="Draw only this neuron's neighbourhood (neuron view).")
@click.option("--radius", type=click.IntRange(1), default=1, show_default=True, help="Steps around --focus.")
@click.option("--dpi", type=click.IntRange(30, 1200), default=150, show_default=True)
@click.option("--force", is_flag=True, help="Draw a neuron view even if it would be very large.")
@click.option("--open", "open_", is_flag=True, help="Open the diagram in the default viewer.")
def draw(spec, output, fmt, view, max_neurons, highlight, focus, radius, dpi, force, open_):
    """Draw a diagram of the network (neuron, layer or stage view)."""
    from ..draw import render

    path, notes = render(spec, output=output, fmt=fmt, view=view, max_neurons=max_neurons, highlight=highlight,
                         focus=focus, radius=radius, dpi=dpi, force=force)
    for n in notes:
        click.echo(n, err=True)
    click.echo(f"wrote {path}", err=True)
    if open_:
        click.launch(str(path))


