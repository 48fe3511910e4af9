"""validate reports every training mistake knowable before training, all at once, located."""
import pytest

import nngraph
from nngraph import SpecError, TrainingError
from nngraph.cli import main
from click.testing import CliRunner

import helpers

BAD = """\
nngraph: 1
name: bad
nodes:
  - {name: x, role: input, size: 3}
  - {name: h, size: 4, activation: step}
  - {name: y, role: output, size: 1, activation: sign}
edges:
  - {from: x, to: h, init: normal}
  - {from: h, to: y, init: normal}
data: {source: blobs}
train:
  loss: cross_entropy
  epochs: 5
  optimizer: {name: sgd, schedule: {name: step, warmup: 5}}
"""


def test_validate_lists_every_training_mistake_located(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    expected = [
        "bad.yaml:5:36: nodes[1].activation: cannot train through step (h): its gradient is zero almost everywhere; "
        "use sigmoid or tanh while training (the book's chapter 2 makes the same switch)",
        "bad.yaml:6:35: nodes[2].size: blobs data has 3 classes; the network has 1 output",
        "bad.yaml:6:50: nodes[2].activation: cannot train through sign (y): its gradient is zero almost everywhere; "
        "use sigmoid or tanh while training (the book's chapter 2 makes the same switch)",
        "bad.yaml:6:50: nodes[2].activation: loss cross_entropy needs softmax outputs of two or more neurons; "
        "y is 1 x sign (for two classes: binary_cross_entropy with one sigmoid output)",
        "bad.yaml:10:16: data.source: blobs data has 2 features per sample; the network has 3 inputs (x 3)",
        "bad.yaml:14:57: warning: train.optimizer.schedule.warmup: warm-up of 5 epochs does not end within the 5 "
        "epochs of training",
    ]
    assert [line[len(str(tmp_path)) + 1:] for line in lines] == expected


def test_train_refuses_with_the_same_list():
    with pytest.raises(TrainingError) as info:
        nngraph.train(BAD)
    assert isinstance(info.value, SpecError) and len(info.value.diagnostics) == 5


def test_truth_tables_cannot_early_stop():
    text = BAD.replace("blobs", "xor").replace("size: 3}", "size: 2}").replace("step}", "tanh}").replace(
        "size: 1, activation: sign", "activation: sigmoid").replace("cross_entropy", "binary_cross_entropy").replace(
        "{name: step, warmup: 5}", "plateau")
    with pytest.raises(SpecError, match="too few to hold out a validation set"):
        nngraph.train(text)


NPZ_SPEC = """\
nngraph: 1
name: npz
nodes:
  - {name: x, role: input, size: 3}
  - {name: y, role: output, activation: sigmoid}
edges:
  - {from: x, to: y, init: normal}
data: {source: npz, path: data.npz}
train: {loss: binary_cross_entropy}
"""


def _npz_with_header(path, shape):
    """An npz whose x.npy is a header declaring ``shape`` and no data at all: only a reader of
    the header alone can tell its width."""
    import io
    import zipfile

    import numpy as np

    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", head.getvalue())
        z.writestr("y.npy", head.getvalue())


@pytest.mark.parametrize("shape, width", [((10**9, 5), 5), ((40, 2, 3), 6)])
def test_validate_checks_an_npz_width_from_its_header(tmp_path, shape, width):
    (tmp_path / "npz.yaml").write_text(NPZ_SPEC)
    _npz_with_header(tmp_path / "data.npz", shape)
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "npz.yaml")])
    assert result.exit_code == 1
    assert (f"npz.yaml:8:16: data.source: data.npz has {width} features per sample; the network has 3 inputs (x 3)"
            in result.stderr), result.stderr


def test_validate_accepts_an_npz_of_the_right_width(tmp_path):
    import numpy as np

    (tmp_path / "npz.yaml").write_text(NPZ_SPEC)
    np.savez(tmp_path / "data.npz", x=np.zeros((20, 3)), y=np.zeros(20))
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "npz.yaml")])
    assert result.exit_code == 0, result.stderr


XOR_CSV = helpers.XOR_CSV.replace("target: label", "target: lable")  # misspelt on purpose


@pytest.mark.parametrize("command", ["validate", "train"])
def test_misspelt_csv_target_is_found_from_the_header_and_located(tmp_path, command):
    (tmp_path / "d.csv").write_text("x1,x2,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    (tmp_path / "s.yaml").write_text(XOR_CSV)
    args = [command, str(tmp_path / "s.yaml")] + (["--no-save"] if command == "train" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("s.yaml:10:42: data.target: d.csv has no column 'lable' "
                                          "(did you mean 'label'?); columns: x1, x2, label")


def test_csv_header_check_reads_only_a_bounded_first_line(tmp_path):
    (tmp_path / "d.csv").write_text("x1,x2,label\n" + "not,numbers,here\n" * 3)
    (tmp_path / "s.yaml").write_text(XOR_CSV.replace("lable", "label"))
    assert CliRunner().invoke(main, ["validate", str(tmp_path / "s.yaml")]).exit_code == 0  # rows: the loader's
    (tmp_path / "d.csv").write_text("x" * (1 << 17) + ",label\n0,1\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "s.yaml")])
    assert result.exit_code == 0 and "no column" not in result.output  # too long to judge from its start


def test_inline_target_not_among_columns_is_located(tmp_path):
    text = XOR_CSV.replace("data: {source: csv, path: d.csv, target: lable}",
                           "data: {source: inline, columns: [a, b, label], target: lable, rows: [[0, 0, 0]]}")
    with pytest.raises(SpecError, match=r"data\.target: data\.columns has no column 'lable' \(did you mean 'label'\?\)"):
        nngraph.train(text)
