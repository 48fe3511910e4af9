"""Run by Dask in each worker process of a LocalCluster that nngraph starts (a worker preload).

A Ctrl-C in a terminal reaches every process of the command, the workers too; each would print
its own KeyboardInterrupt traceback and lose its scheduler mid-task. The workers ignore it
instead: the command itself is interrupted, says so in one line, and closes its cluster, which
stops the workers.
"""
import signal
import threading


def dask_setup(worker):  # noqa: ARG001  (Dask's preload hook)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
