"""The ``nngraph`` command: a thin layer over the library. Errors print one readable line each.

Each area of commands is a module of this package that registers its commands on ``main``;
the modules import the library lazily, inside each command, so ``nngraph --help`` stays fast.

Exit codes: 0 success, 1 invalid input or a failed run, 2 usage errors.
"""
from __future__ import annotations

import sys

import click

from ..errors import NNGraphError, SpecError, file_error
from ..text import rich_text, terminal  # noqa: F401  (shared by the command modules)

_DEBUG = {"on": False}


def _console(stderr=False):
    """A rich console; every user string printed on it goes through ``rich_text`` first."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _fail(exc: Exception, code: int = 1):
    if _DEBUG["on"]:
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, SpecError):
        for d in exc.diagnostics:
            click.echo(d.format(), err=True)
    else:
        click.echo(f"error: {terminal(exc)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    def invoke(self, ctx):
        from ..writes import reset

        reset()
        try:
            return super().invoke(ctx)
        except NNGraphError as exc:
            _fail(exc, getattr(exc, "exit_code", 1))
        except KeyboardInterrupt:
            from ..writes import written

            done = written()
            click.echo("interrupted; " + (f"already written: {', '.join(terminal(p) for p in done)}" if done else "nothing was written"),
                       err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except ModuleNotFoundError as exc:  # an optional package: name the extra that installs it
            from ..errors import missing_extra

            if _DEBUG["on"]:
                raise
            err = missing_extra(exc, f"'nngraph {ctx.invoked_subcommand or 'COMMAND'}'")
            if err is None:
                _internal(exc, ctx)
            _fail(err, 1)
        except OSError as exc:  # a file the command was given or writes: say which and why
            if exc.filename is None:
                raise
            _fail(file_error(exc), 1)
        except Exception as exc:  # a bug in nngraph: say so plainly, traceback only with --debug
            if _DEBUG["on"]:
                raise
            _internal(exc, ctx)


def _internal(exc: Exception, ctx) -> None:
    click.echo(f"internal error: {type(exc).__name__}: {terminal(exc)} (run 'nngraph --debug "
               f"{ctx.invoked_subcommand or 'COMMAND'} ...' for the traceback, and please report it)", err=True)
    sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="nngraph")
def main(debug):
    """nngraph: neural networks as data. Validate, run, train and draw network specs."""
    _DEBUG["on"] = debug


def _plural(n, word):
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# The command modules register themselves on `main` when imported.
from . import spec_cmds, run_cmds, draw_cmds, data_cmds, interchange_cmds, plot_cmds  # noqa: E402,F401
from . import distributed_cmds  # noqa: E402,F401
