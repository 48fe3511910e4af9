"""plot: pictures of what a network computes (decision regions of two-input networks)."""
from __future__ import annotations

import click

from . import main


@main.group()
def plot():
    """Plots of what a network computes."""


@plot.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file (.png, .svg, .pdf).")
@click.option("--resolution", type=click.IntRange(2, 2000), default=200, show_default=True,
              help="Grid points per axis.")
@click.option("--xlim", nargs=2, type=float, metavar="LO HI", help="Range of the first input.")
@click.option("--ylim", nargs=2, type=float, metavar="LO HI", help="Range of the second input.")
@click.option("--no-data", is_flag=True, help="Do not scatter the spec's data.")
def regions(spec, output, resolution, xlim, ylim, no_data):
    """Decision regions (or the output surface) of a network with two inputs."""
    from pathlib import Path

    from ..plot import regions as plot_regions

    if output is None:
        output = Path(spec).stem + ".regions.png"
    if Path(output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise click.BadParameter(f"{output}: write .png, .svg or .pdf", param_hint="-o")
    from ..io import check_output_path

    from .. import load
    from .run_cmds import refuse_overwrite

    check_output_path(output, "-o")
    spec = load(spec)
    refuse_overwrite(spec, ("-o", output))
    plot_regions(spec, output, resolution=resolution, xlim=xlim, ylim=ylim, data=not no_data)
    click.echo(f"wrote {output}", err=True)
