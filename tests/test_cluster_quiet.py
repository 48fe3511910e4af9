"""`--cluster local:N` starts its cluster quietly: the scheduler's HTTP server (no dashboard) takes
any free port on 127.0.0.1, so a port 8787 already in use (another cluster, a notebook) no longer
prints Dask's "Port 8787 is already in use" warning into the command's output; and its workers
ignore the Ctrl-C that a terminal sends to every process of the command (the command stops them),
so an interrupted command prints one line, not a traceback per worker."""
import os
import signal
import time
import socket
import urllib.error
import urllib.request
import warnings

import pytest

pytest.importorskip("distributed")

from nngraph import distributed as D  # noqa: E402


def test_a_local_cluster_does_not_warn_when_8787_is_taken():
    held = socket.socket()
    try:
        held.bind(("127.0.0.1", 8787))
        held.listen()
    except OSError:
        pass  # taken already: the case itself
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with D.connect("local:1") as client:
                http = client.cluster.scheduler.http_server
                hosts = {s.getsockname()[0] for s in http._sockets.values()}
                with pytest.raises(urllib.error.HTTPError):  # the dashboard stays off
                    urllib.request.urlopen(f"http://127.0.0.1:{http.port}/status", timeout=10)
                pids = client.run(os.getpid)
                for pid in pids.values():
                    os.kill(pid, signal.SIGINT)  # as a Ctrl-C in the terminal reaches them
                time.sleep(0.5)
                assert client.run(os.getpid) == pids  # the same workers, still at work
        assert hosts == {"127.0.0.1"} and http.port != 8787
        assert not [w for w in caught if "already in use" in str(w.message)], [str(w.message) for w in caught]
    finally:
        held.close()
