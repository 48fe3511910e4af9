"""Data files whose headers declare what inflating them would cost: disagreements and sizes over
the limits are refused from the headers, before any data is inflated."""
import re

import numpy as np
import pytest

import nngraph
from nngraph.data import load_data, write_idx
from nngraph.data import datasets
from nngraph.errors import DataError

MNIST_SPEC = """\
nngraph: 1
name: m
nodes:
  - {name: pixels, role: input, size: 784}
  - {name: digit, role: output, size: 10, activation: softmax}
edges:
  - {from: pixels, to: digit, init: zeros}
data: {source: mnist, directory: idx}
"""

NPZ_SPEC = """\
nngraph: 1
name: n
nodes:
  - {name: x, role: input, size: 2}
  - {name: y, role: output, size: 1}
edges:
  - {from: x, to: y, init: zeros}
data: {source: npz, path: d.npz}
"""


def _mnist(folder, n_train=50, n_labels=50):
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((n_train, 28, 28), np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(n_labels, np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((5, 28, 28), np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))


def _unread(monkeypatch, name):
    def refuse(*args, **kwargs):
        raise AssertionError("data was inflated before the headers were compared")

    monkeypatch.setattr(datasets, name, refuse)


def test_idx_image_and_label_counts_are_compared_from_the_headers(tmp_path, monkeypatch):
    _mnist(tmp_path / "idx", n_train=200, n_labels=10)
    (tmp_path / "m.yaml").write_text(MNIST_SPEC)
    _unread(monkeypatch, "read_idx")
    with pytest.raises(DataError, match=re.escape("train-images-idx3-ubyte.gz holds 200 images but "
                                                  "train-labels-idx1-ubyte.gz 10 labels (as their headers declare)")):
        load_data(nngraph.load(tmp_path / "m.yaml"))


def test_idx_images_whose_float32_form_is_over_the_limit_are_refused_unread(tmp_path, monkeypatch):
    _mnist(tmp_path / "idx")  # 39,200 bytes of pixels, 156,800 as float32
    (tmp_path / "m.yaml").write_text(MNIST_SPEC)
    monkeypatch.setenv("NNGRAPH_MAX_ARRAY_BYTES", "100000")
    _unread(monkeypatch, "read_idx")
    with pytest.raises(DataError, match=re.escape("train-images-idx3-ubyte.gz: declares shape (50, 28, 28), 156,800 "
                                                  "bytes as float32, over the limit of 100,000 bytes (set by "
                                                  "NNGRAPH_MAX_ARRAY_BYTES=100000)")):
        load_data(nngraph.load(tmp_path / "m.yaml"))


def test_npz_rows_are_compared_from_the_headers(tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "d.npz", x=np.zeros((1000, 2)), y=np.zeros(10))
    (tmp_path / "n.yaml").write_text(NPZ_SPEC)
    _unread(monkeypatch, "read_arrays")
    with pytest.raises(DataError, match=re.escape("d.npz: 'x' has 1,000 rows but 'y' has 10")):
        load_data(nngraph.load(tmp_path / "n.yaml"))


def test_npz_features_whose_float32_form_is_over_the_limit_are_refused_unread(tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "d.npz", x=np.zeros((1000, 50), np.uint8), y=np.zeros(1000))
    (tmp_path / "n.yaml").write_text(NPZ_SPEC)
    monkeypatch.setenv("NNGRAPH_MAX_ARRAY_BYTES", "100000")
    _unread(monkeypatch, "read_arrays")
    with pytest.raises(DataError, match=re.escape("d.npz: 'x' declares shape (1000, 50), 200,000 bytes as float32, "
                                                  "over the limit of 100,000 bytes")):
        load_data(nngraph.load(tmp_path / "n.yaml"))


CSV_SPEC = """\
nngraph: 1
name: c
nodes:
  - {name: x, role: input, size: 2}
  - {name: out, role: output, size: 3, activation: softmax}
edges:
  - {from: x, to: out, init: zeros}
data: {source: csv, path: d.csv, target: y%s}
"""


@pytest.mark.parametrize("value", ["-1", "1.5"])
def test_a_target_that_is_not_a_class_is_named_by_row_and_column(tmp_path, value):
    (tmp_path / "d.csv").write_text(f"a,b,y\n1,2,0\n3,4,{value}\n5,6,1\n7,8,2\n9,9,0\n")
    (tmp_path / "c.yaml").write_text(CSV_SPEC % "")
    with pytest.raises(DataError, match="^" + re.escape(f"d.csv:3: column 'y': target {value} is not a class number; "
                                                        "the network has 3 outputs, so each target is a class from "
                                                        "0 to 2")):
        load_data(nngraph.load(tmp_path / "c.yaml"))


def test_a_sweep_trial_the_grid_broke_names_the_grid_value(tmp_path):
    from nngraph import distributed as D

    (tmp_path / "d.csv").write_text("a,b,y\n" + "".join(f"{k},{k + 1},{k % 3}\n" for k in range(10)))
    (tmp_path / "c.yaml").write_text((CSV_SPEC % "").replace("init: zeros", "init: xavier_uniform") +
                                     "train: {loss: cross_entropy, optimizer: sgd, epochs: 1}\n")
    # /zz is refused before anything is written; b is a folder inside tmp_path
    results = D.sweep(tmp_path / "c.yaml", D.parse_grid(["train.checkpoint.directory=/zz,b"]))
    assert "error" not in results[1]
    assert results[0]["error"].startswith("--grid train.checkpoint.directory=/zz: "
                                          "train.checkpoint.directory: ")


def test_closing_a_cluster_does_not_print_the_nanny_killing_busy_workers(caplog):
    import logging

    from nngraph import distributed as D

    class Cluster:
        def close(self):
            logging.getLogger("distributed.nanny").warning("Worker process still alive after 4.0 seconds, killing")

    before = logging.getLogger("distributed.nanny").level
    with caplog.at_level(logging.WARNING):
        D._close(None, Cluster())
    assert not [r for r in caplog.records if r.name == "distributed.nanny"]
    assert logging.getLogger("distributed.nanny").level == before
