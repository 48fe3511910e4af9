"""Parameter files: atomic writes, and every bad file refused with the parameter named."""
import errno
import io
import pickle
import zipfile

import numpy as np
import pytest

from nngraph import NNGraphError, ParameterFileError
from nngraph.compile import compile
from nngraph.graph import build
from nngraph.params import expected_shapes, read_parameters, write_parameters

NET = """\
nngraph: 1
name: t
nodes:
  - {name: x, role: input, size: 3}
  - {name: y, role: output, size: 2}
edges:
  - {from: x, to: y}
parameters: p.npz
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(NET)
    return path


def test_save_and_load_round_trip(spec):
    plan = compile(spec, dtype=np.float64)
    plan.set_parameters({"edges/x->y": np.arange(6.0).reshape(3, 2), "nodes/y/bias": np.array([1.0, 2.0])})
    plan.save()
    again = compile(spec, dtype=np.float64)
    assert again.params_origin == "parameters from p.npz"
    np.testing.assert_array_equal(again.parameters()["edges/x->y"], np.arange(6.0).reshape(3, 2))


def _npz(path, **arrays):
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in arrays.items():
            buf = io.BytesIO()
            if isinstance(v, bytes):
                zf.writestr(k + ".npy", v)
                continue
            np.lib.format.write_array(buf, v, allow_pickle=True)
            zf.writestr(k + ".npy", buf.getvalue())


def _shapes(spec):
    return expected_shapes(build(spec))


def test_pickled_array_refused(spec, tmp_path):
    _npz(tmp_path / "p.npz", **{"edges/x->y": np.array([[object()] * 2] * 3, dtype=object)})
    with pytest.raises(ParameterFileError, match=r"'edges/x->y' has dtype object"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_raw_pickle_refused(spec, tmp_path):
    (tmp_path / "p.npz").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ParameterFileError, match="not a readable .npz"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_wrong_shape_names_the_edge(spec, tmp_path):
    _npz(tmp_path / "p.npz", **{"edges/x->y": np.zeros((2, 3))})
    with pytest.raises(ParameterFileError, match=r"'edges/x->y' has shape \(2, 3\), but the spec declares \(3, 2\)"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_truncated_array_refused(spec, tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.zeros((3, 2)))
    _npz(tmp_path / "p.npz", **{"edges/x->y": buf.getvalue()[:-8]})
    with pytest.raises(ParameterFileError, match="truncated"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_huge_declared_header_refused_before_reading(spec, tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (3, 2)})
    fake = header.getvalue().replace(b"(3, 2)", b"(3, 2)")  # right shape, but no data at all
    _npz(tmp_path / "p.npz", **{"edges/x->y": fake})
    with pytest.raises(ParameterFileError, match="declares 48 bytes"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_unknown_array_refused(spec, tmp_path):
    _npz(tmp_path / "p.npz", **{"edges/a->b": np.zeros(2)})
    with pytest.raises(ParameterFileError, match="'edges/a->b', which the spec does not declare"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_nan_refused(spec, tmp_path):
    _npz(tmp_path / "p.npz", **{"nodes/y/bias": np.array([np.nan, 0.0])})
    with pytest.raises(ParameterFileError, match="NaN"):
        read_parameters(tmp_path / "p.npz", _shapes(spec))


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "p.npz"
    write_parameters(target, {"a": np.ones(3)})
    good = target.read_bytes()

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(NNGraphError, match="p.npz: cannot write it: no space left on the device; nothing was changed"):
        write_parameters(target, {"a": np.zeros(3)})
    assert target.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["p.npz"]  # no temporary file left behind


def test_plan_load_recomputes_which_parameters_are_untrained(tmp_path):
    """plan.untrained follows plan.load: a file with every parameter clears it, a file that lacks
    some leaves exactly those (and the origin says so); a non-path is refused."""
    spec = tmp_path / "s.yaml"
    spec.write_text(NET.replace("to: y}", "to: y, init: xavier_uniform}\n  - {from: x, to: z, init: zeros}")
                    .replace("size: 2}", "size: 2}\n  - {name: z, role: output}") + "train: {loss: mse}\n")
    plan = compile(spec, dtype=np.float64)
    assert {u.key for u in plan.untrained} == {"edges/x->y", "edges/x->z"}
    full = {k: np.full(s, 0.5) for k, s in _shapes(spec).items()}
    write_parameters(tmp_path / "full.npz", full)
    write_parameters(tmp_path / "part.npz", {k: v for k, v in full.items() if k != "edges/x->z"})
    plan.load(tmp_path / "part.npz")
    assert [u.key for u in plan.untrained] == ["edges/x->z"]
    assert plan.params_origin == f"parameters from {tmp_path / 'part.npz'}; the rest: initial (untrained) random weights"
    np.testing.assert_array_equal(plan.parameters()["edges/x->y"], full["edges/x->y"])
    plan.load(str(tmp_path / "full.npz"))
    assert plan.untrained == [] and plan.params_origin == f"parameters from {tmp_path / 'full.npz'}"
    with pytest.raises(NNGraphError, match="plan.load takes the path of an .npz parameters file; found NoneType"):
        plan.load(None)
