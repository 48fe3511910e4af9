"""data: datasets (the only commands that use the network)."""
from __future__ import annotations

import click

from . import main, _console, _fail, _plural, terminal  # noqa: F401  (shared by the command modules)


# -- data ----------------------------------------------------------------------------------------


@main.group()
def data():
    """Datasets: download the full MNIST / Fashion-MNIST (the only command that uses the network)."""


@data.command("download")
@click.argument("name", type=click.Choice(["mnist", "fashion_mnist"]))
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Data folder (default $NNGRAPH_DATA "
              "or ~/.nngraph/data).")
@click.option("--url", help="Mirror base URL.")
def download_cmd(name, directory, url):
    """Download NAME's IDX files (checksums verified) into the data folder."""
    from ..data.download import download

    folder = download(name, directory, url)
    click.echo(f"{name} is in {terminal(folder)}")



