"""A --cluster address where something other than a Dask scheduler answers (here an HTTP server
that answers 400 to anything, on 127.0.0.1) is refused as no scheduler, never an internal error."""
import socket
import threading

import pytest

pytest.importorskip("distributed")

from nngraph.distributed import ClusterError, connect  # noqa: E402


@pytest.fixture
def http_400():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.settimeout(2)
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    server.close()


def test_a_server_that_is_not_dask_is_no_scheduler(http_400):
    with pytest.raises(ClusterError, match=f"no Dask scheduler answered at {http_400}"):
        with connect(http_400, timeout=5):
            pass
