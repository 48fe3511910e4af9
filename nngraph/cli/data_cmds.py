"""data: datasets (the only commands that use the network)."""
from __future__ import annotations

import click

from . import Choice, main, _console, _fail, _plural, terminal  # noqa: F401  (shared by the command modules)


# -- data ----------------------------------------------------------------------------------------


@main.group()
def data():
    """Datasets: download the full MNIST / Fashion-MNIST (the only command that uses the network)."""


@data.command("download")
@click.argument("name", type=Choice(["mnist", "fashion_mnist"]))
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Data folder (default $NNGRAPH_DATA "
              "or ~/.nngraph/data).")
@click.option("--url", help="Mirror base URL.")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Largest file accepted, in bytes (default: each "
              "file's published size + 64 KiB; or $NNGRAPH_DOWNLOAD_MAX_BYTES).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds to wait for the connection "
              "and for each read (default 60; or $NNGRAPH_DOWNLOAD_TIMEOUT).")
@click.option("--min-rate", type=click.IntRange(min=0), help="Slowest average rate accepted after the first "
              "--timeout seconds, bytes/s (default 16384; 0: no check; or $NNGRAPH_DOWNLOAD_MIN_RATE).")
def download_cmd(name, directory, url, max_bytes, timeout, min_rate):
    """Download NAME's IDX files (checksums verified) into the data folder."""
    from ..data.download import download

    folder = download(name, directory, url, timeout=timeout, min_rate=min_rate, max_bytes=max_bytes)
    click.echo(f"{name} is in {terminal(folder)}")



