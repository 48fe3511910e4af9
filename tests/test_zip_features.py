"""An .npz using a zip feature Python's zipfile does not implement (it raises NotImplementedError,
not BadZipFile, e.g. for a 'version needed to extract' above 6.3) is a located, readable error
at every reader, never 'internal error'."""
import numpy as np
import pytest

from helpers import cli

XOR = """nngraph: 1
name: xor
parameters: params.npz
nodes:
  - {name: x, role: input, size: 2}
  - {name: out, role: output, activation: sigmoid}
edges:
  - {from: x, to: out}
"""


def _newer_zip(path, **arrays):
    """An .npz whose central directory says it needs zip version 8.4 to extract."""
    np.savez(path, **arrays)
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    assert at > 0
    while at >= 0:
        data[at + 6] = 84  # version needed to extract, low byte
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_a_zip_feature_zipfile_lacks_is_a_readable_error(tmp_path):
    import zipfile

    _newer_zip(tmp_path / "params.npz", **{"x->out": np.zeros((2, 1)), "out.bias": np.zeros(1)})
    _newer_zip(tmp_path / "inputs.npz", x=np.zeros((4, 2)))
    with pytest.raises(NotImplementedError):  # the premise: zipfile itself refuses the file this way
        zipfile.ZipFile(tmp_path / "params.npz")
    spec = tmp_path / "xor.yaml"
    spec.write_text(XOR)
    code, out, err = cli("validate", spec)  # validate reads the file as run does: an error, located
    assert code == 1 and "internal error" not in err
    assert "'params.npz' does not exist (or is not a readable .npz)" in err
    assert "params.npz: not a readable .npz parameters file (zip file version 8.4)" in err
    code, out, err = cli("run", spec, "--inputs", tmp_path / "inputs.npz")
    assert code == 1 and "internal error" not in err
    assert "params.npz: not a readable .npz parameters file (zip file version 8.4)" in err
    spec.write_text(XOR.replace("parameters: params.npz\n", "").replace("{from: x, to: out}",
                                                                         "{from: x, to: out, weights: [[1], [2]]}"))
    for extra in ((), ("--output", tmp_path / "out.npy")):
        code, out, err = cli("run", spec, "--inputs", tmp_path / "inputs.npz", *extra)
        assert code == 1 and "internal error" not in err
        assert "inputs.npz: not a readable .npz file (zip file version 8.4)" in err
    assert not (tmp_path / "out.npy").exists()


def test_a_checkpoint_with_a_zip_feature_zipfile_lacks(tmp_path):
    from nngraph import TrainingError, checkpoint

    _newer_zip(tmp_path / "epoch-000001.npz", a=np.zeros(2))
    with pytest.raises(TrainingError, match="not a readable checkpoint .*zip file version 8.4"):
        checkpoint.load(tmp_path / "epoch-000001.npz")
