"""The ``nngraph`` command: a thin layer over the library. Errors print one readable line each.

Each area of commands is a module of this package that registers its commands on ``main``;
the modules import the library lazily, inside each command, so ``nngraph --help`` stays fast.
A command module is itself imported only when one of its commands runs: ``COMMANDS`` below
names each command's module and short help, which is all ``nngraph --help`` needs (a test keeps
the table in step with the modules).

Exit codes: 0 success, 1 invalid input or a failed run, 2 usage errors.
"""
from __future__ import annotations

import importlib
import sys

import click

from .. import __version__  # not the installed metadata: importlib.metadata costs a start-up

# Every command: the module of this package that registers it, and its short help as shown by
# `nngraph --help` (the first sentence of the command's help). A new command goes in this table.
COMMANDS = {
    "data": ("data_cmds", "Datasets: download the full MNIST / Fashion-MNIST (the only command that uses the "
                          "network)."),
    "draw": ("draw_cmds", "Draw a diagram of the network (neuron, layer or stage view)."),
    "dump": ("spec_cmds", "Print a spec in canonical form (YAML or JSON)."),
    "export": ("interchange_cmds", "Write a spec (with its trained parameters) as ONNX or as neat-python JSON."),
    "import": ("interchange_cmds", "Turn a neat-python JSON export or an ONNX model into a spec."),
    "inspect": ("spec_cmds", "Show the compiled plan: stages, blocks, parameters, multiply-adds."),
    "plot": ("plot_cmds", "Plots of what a network computes."),
    "run": ("run_cmds", "Do what the spec declares: run inputs through it, or train (if untrained) and evaluate."),
    "schema": ("spec_cmds", "Print the JSON Schema of the spec language (for editors)."),
    "sweep": ("distributed_cmds", "Train one variant of SPEC per combination of --grid values, in parallel on "
                                  "--cluster."),
    "train": ("run_cmds", "Train the spec's network (from its initial weights) and write its parameters file."),
    "validate": ("spec_cmds", "Check specs: syntax, types, references, shapes, limits, files and cycles."),
}

_DEBUG = {"on": False}
_OVERRIDDEN = {"spec": None}  # the spec the running command made with --set: its errors are located there


def _at_options(spec):
    """Mark ``spec`` (made by ``with_overrides``) as the one whose errors name the ``--set`` options
    that set their values, wherever in the command they are found; returns it."""
    _OVERRIDDEN["spec"] = spec
    return spec


def __getattr__(name):
    # terminal and rich_text, shared by the command modules, load with them: compiling their
    # patterns of unsafe characters costs `nngraph --help` (which prints no user string) more than
    # this whole module does
    if name in ("terminal", "rich_text"):
        from .. import text

        return getattr(text, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _console(stderr=False):
    """A rich console; every user string printed on it goes through ``rich_text`` first."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _fail(exc: Exception, code: int = 1):
    if _DEBUG["on"]:
        import traceback

        traceback.print_exception(exc)
    from ..errors import NNGraphError, SpecError

    if isinstance(exc, NNGraphError) and _OVERRIDDEN["spec"] is not None:  # an error the --set options made
        from ..spec.overrides import located_at_options

        try:
            with located_at_options(_OVERRIDDEN["spec"]):
                raise exc
        except NNGraphError:
            pass
    if isinstance(exc, SpecError):
        for d in exc.diagnostics:
            click.echo(d.format(), err=True)
    else:
        from ..text import terminal

        click.echo(f"error: {terminal(exc)}", err=True)
    sys.exit(code)


_NO_BREAK = "\u2011"  # the non-breaking hyphen: textwrap breaks lines after "-", never after it


class _Formatter(click.HelpFormatter):
    """click's help formatter, except that no line breaks at a hyphen: click wraps with textwrap,
    which splits an option name (``--regions-every``) or a word (``two-input``) across lines. The
    hyphens are stood in for while lines are wrapped (the stand-in has the same width) and put back
    in the finished text."""

    def write_usage(self, prog, args="", prefix=None):
        super().write_usage(prog.replace("-", _NO_BREAK), args.replace("-", _NO_BREAK), prefix)

    def write_text(self, text):
        super().write_text(text.replace("-", _NO_BREAK))

    def write_dl(self, rows, *args, **kwargs):
        super().write_dl([(a.replace("-", _NO_BREAK), b.replace("-", _NO_BREAK)) for a, b in rows], *args, **kwargs)

    def getvalue(self):
        return super().getvalue().replace(_NO_BREAK, "-")


class _Context(click.Context):
    formatter_class = _Formatter


class _Command(click.Command):
    context_class = _Context


class _Listing(click.Group):
    """A group whose help lists each command's first sentence whole, wrapped: click's own listing
    cut it at the terminal's width ('Show the compiled plan: stages, blocks, parameters,...')."""

    context_class = _Context  # its help, and (below) its commands', never breaks at a hyphen
    command_class = _Command

    def _listed(self, name):
        return self.commands[name]

    def format_commands(self, ctx, formatter):
        rows = [(name, self._listed(name).get_short_help_str(limit=10_000)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Group(_Listing):
    group_class = _Listing  # `nngraph data`, `nngraph plot`: their commands listed whole too

    def list_commands(self, ctx):
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands and cmd_name in COMMANDS:  # its module registers it on import
            importlib.import_module(f".{COMMANDS[cmd_name][0]}", __name__)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:  # a misspelt command: name the closest one
            import difflib

            close = difflib.get_close_matches(args[0], self.list_commands(ctx), n=1) if args else []
            if close and exc.message.startswith("No such command"):
                exc.message = f"{exc.message.rstrip('.')} (did you mean '{close[0]}'?)"
            raise

    def _listed(self, name):
        # a command not loaded yet is listed from the table: listing them imports none of their modules
        return self.commands.get(name) or click.Command(name, help=COMMANDS[name][1])

    def invoke(self, ctx):
        from ..writes import reset

        reset()
        _OVERRIDDEN["spec"] = None
        try:
            with _float_warnings_said():
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except BaseException as exc:  # Ctrl-C, also wrapped by a library it arrived in, is no error
            from ..errors import interrupted

            if not interrupted(exc) or getattr(exc, "exit_code", None) == 130:  # 130: it says what is left
                self._error(exc, ctx)
            if _DEBUG["on"] and not isinstance(exc, KeyboardInterrupt):
                import traceback

                traceback.print_exception(exc)
            from ..text import terminal
            from ..writes import written

            done = written()
            click.echo("interrupted; " + (f"already written: {', '.join(terminal(p) for p in done)}" if done else "nothing was written"),
                       err=True)
            sys.exit(130)

    def _error(self, exc, ctx):
        from ..errors import NNGraphError, file_error

        try:
            raise exc
        except NNGraphError as exc:
            _fail(exc, getattr(exc, "exit_code", 1))
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
        except BaseException as exc:  # (asyncio's CancelledError, not from a Ctrl-C): no traceback either
            if _DEBUG["on"] or isinstance(exc, (GeneratorExit, SystemExit)):
                raise
            _internal(exc, ctx)


# numpy's floating-point warnings, said in nngraph's words (once each, at the end of the command)
_FLOAT_WARNINGS = {
    "overflow": "some numbers overflowed while computing (they became inf): values beyond the precision's range "
                "(about 3.4e38 in float32) came up; scale the inputs down, or use --float64 where the command takes it",
    "invalid value": "some numbers became nan (not a number) while computing: from values beyond the precision's "
                     "range (inf - inf, 0 x inf); scale the inputs down, or use --float64 where the command takes it",
    "divide by zero": "a division by zero gave inf while computing",
}


class _float_warnings_said:
    """Within it, numpy's RuntimeWarnings about floating-point arithmetic (``overflow encountered in
    dot``, pointing into nngraph's source) are not printed as numpy words them; each kind is said
    once, as a ``warning:`` line, when the command ends. Other warnings are shown as before."""

    def __enter__(self):
        import warnings

        self.kinds, self.ctx = [], warnings.catch_warnings()
        self.ctx.__enter__()
        before = warnings.showwarning

        def show(message, category, *args, **kwargs):
            from ..errors import TrainingWarning

            if issubclass(category, TrainingWarning):  # located and worded already ("spec.yaml:9:3: warning: ...")
                from ..text import terminal

                return click.echo(terminal(str(message)), err=True)
            kind = next((k for k in _FLOAT_WARNINGS if f"{k} encountered" in str(message)), None)
            if not issubclass(category, RuntimeWarning) or kind is None:
                return before(message, category, *args, **kwargs)
            if kind not in self.kinds:
                self.kinds.append(kind)

        warnings.showwarning = show
        return self

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)
        for kind in self.kinds:
            click.echo(f"warning: {_FLOAT_WARNINGS[kind]}", err=True)
        return False


def _internal(exc: Exception, ctx) -> None:
    from ..text import terminal

    click.echo(f"internal error: {type(exc).__name__}: {terminal(exc)} (run 'nngraph --debug "
               f"{ctx.invoked_subcommand or 'COMMAND'} ...' for the traceback, and please report it)", err=True)
    sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(version=__version__, package_name="nngraph")
def main(debug):
    """nngraph: neural networks as data. Validate, run, train and draw network specs."""
    _DEBUG["on"] = debug


class Choice(click.Choice):
    """click's Choice (which lists the valid values), naming the closest one to a misspelt value."""

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            import difflib

            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            if close:
                exc.message = f"{exc.message.rstrip('.')} (did you mean '{close[0]}'?)"
            raise


def input_options(pairs, plan):
    """``--input NAME=VALUE`` options as input values; a bad one (an unknown name, not a number, a
    wrong count, given twice, one missing) is a usage error of the option, exit code 2."""
    from ..errors import DataError
    from ..io import parse_input_args
    from ..text import terminal

    try:
        return parse_input_args(pairs, plan)
    except DataError as exc:
        raise click.UsageError(terminal(str(exc))) from None


def _plural(n, word):
    from ..text import plural

    return plural(n, word)

