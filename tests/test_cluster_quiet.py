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


def _children(pid):
    """Processes whose parent is ``pid``, as {pid: command line}."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found[int(entry)] = cmd
    return found


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# The command as a script: multiprocessing's spawn runs it again in each worker process being born
# (as __mp_main__, before Dask's worker code and its preload), where it waits a while, so that the
# Ctrl-C below lands in that window every time instead of once in a few tries.
_SLOW_BIRTH = """
import sys, time
if __name__ == "__mp_main__":
    time.sleep(2)
from nngraph.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


@pytest.mark.skipif(not os.path.isdir("/proc") or not hasattr(signal, "pthread_sigmask"), reason="Linux /proc")
def test_ctrl_c_while_the_workers_are_being_born_prints_one_line(tmp_path):
    import subprocess
    import sys

    import numpy as np

    from helpers import SMALL_SCORER

    (tmp_path / "net.yaml").write_text(SMALL_SCORER)
    np.save(tmp_path / "x.npy", np.ones((1000, 6), np.float32))
    (tmp_path / "cmd.py").write_text(_SLOW_BIRTH)
    out = tmp_path / "y.npy"
    proc = subprocess.Popen([sys.executable, str(tmp_path / "cmd.py"), "run", str(tmp_path / "net.yaml"), "--inputs",
                             str(tmp_path / "x.npy"), "--output", str(out), "--cluster", "local:2", "--threads", "1", "--untrained"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        born = {}
        while len(born) < 2 and time.monotonic() < deadline and proc.poll() is None:
            born = {p: c for p, c in _children(proc.pid).items() if "spawn_main" in c}
            time.sleep(0.05)
        assert len(born) == 2, (born, proc.poll(), proc.poll() is not None and proc.communicate())
        time.sleep(0.5)  # each is in its wait now
        os.killpg(proc.pid, signal.SIGINT)  # a Ctrl-C in the terminal reaches every process of the command
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = [line for line in err.splitlines() if not line.startswith("note: ")]
    assert (proc.returncode, lines) == (130, ["interrupted; nothing was written"]), err
    assert not out.exists() and not list(tmp_path.glob("*.tmp*")), list(tmp_path.iterdir())
    deadline = time.monotonic() + 10
    while any(_running(p) for p in born) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in born if _running(p)]
