"""Run by Dask in each worker process of a LocalCluster that nngraph starts (a worker preload).

A Ctrl-C in a terminal reaches every process of the command, the workers too; each would print
its own KeyboardInterrupt traceback and lose its scheduler mid-task. The workers ignore it
instead: the command itself is interrupted, says so in one line, and closes its cluster, which
stops the workers. (They are born with it blocked, see ``nngraph.distributed.connect``: this is
for a worker started some other way.)

A worker that is closing logs nothing either: its cancelled tasks ("Async instruction ... ended
with CancelledError") and a scheduler that closed first ("Failed to communicate with scheduler
during heartbeat", with a traceback) are how a cluster closed after a Ctrl-C ends, not news.
"""
import logging
import signal
import threading
import weakref


class _QuietWhileClosing(logging.Filter):
    def __init__(self, worker):
        super().__init__()
        self.worker = weakref.ref(worker)

    def filter(self, record):
        worker = self.worker()
        return worker is not None and worker.status.name not in ("closing", "closing_gracefully", "closed")


def dask_setup(worker):  # (Dask's preload hook)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet = _QuietWhileClosing(worker)
    for handler in logging.getLogger("distributed").handlers:
        handler.addFilter(quiet)
