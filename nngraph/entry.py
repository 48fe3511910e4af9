"""The ``nngraph`` command's entry point.

Importing the command line (click, rich, the commands' modules) takes a few tenths of a second;
a Ctrl-C in that time came out as a KeyboardInterrupt traceback. Here it ends the command as a
later one does: one line and exit status 130. Once the CLI is imported, its own handling applies.
"""
import signal
import sys


def _interrupted(signum, frame):
    sys.stderr.write("interrupted\n")
    raise SystemExit(130)


def main():
    try:
        previous = signal.signal(signal.SIGINT, _interrupted)
    except ValueError:  # not the main thread: nothing to guard
        previous = None
    try:
        from .cli import main as cli_main
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return cli_main()
