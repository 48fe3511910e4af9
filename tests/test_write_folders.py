"""nngraph never creates the folder of a file it is asked to write: a missing folder is a typo more
often than a wish. The spec's parameters file is refused like --output, before any training, by a
located error naming the spec path; only the checkpoint folder itself is made (its parent must exist)."""
import numpy as np
import pytest

import nngraph
from helpers import XOR_TRAIN, cli

MISSING_PARAMETERS = ("net.yaml:10:13: parameters: the folder 'runs' of 'runs/p.npz' does not exist; create it first "
                      "(nngraph does not create folders for the files it writes)")


def _spec(tmp_path, text=XOR_TRAIN):
    path = tmp_path / "net.yaml"
    path.write_text(text.replace("parameters: p.npz", "parameters: runs/p.npz"))
    return path


def test_train_refuses_a_missing_parameters_folder_before_training(tmp_path):
    code, out, err = cli("train", _spec(tmp_path))
    assert code == 1 and f"{tmp_path}/{MISSING_PARAMETERS}" in err, err
    assert "epoch" not in out + err  # refused before the first epoch
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_plan_save_refuses_a_missing_folder_for_the_spec_target_and_for_a_path(tmp_path):
    plan = nngraph.compile(_spec(tmp_path))
    with pytest.raises(nngraph.ParameterFileError) as info:
        plan.save()
    assert str(info.value) == f"{tmp_path}/{MISSING_PARAMETERS}"
    with pytest.raises(nngraph.NNGraphError, match=r"elsewhere/p\.npz: cannot write it: no such file or folder; "
                                                    r"the folder '.*elsewhere' does not exist \(create it first\)"):
        plan.save(tmp_path / "elsewhere" / "p.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]
    (tmp_path / "runs").mkdir()
    assert plan.save() == str(tmp_path / "runs" / "p.npz")
    assert set(np.load(tmp_path / "runs" / "p.npz")) - {"meta/activations"} == set(plan.parameters())


def test_a_checkpoint_folder_is_made_but_not_its_parent(tmp_path):
    text = XOR_TRAIN.replace("epochs: 2}", "epochs: 2, checkpoint: {directory: runs/ck}}")
    path = _spec(tmp_path, text.replace("parameters: p.npz", "parameters: q.npz"))
    code, out, err = cli("train", path)
    line = ("net.yaml:12:133: train.checkpoint.directory: the folder 'runs' of 'runs/ck' does not exist; create it "
            "first (nngraph makes the checkpoint folder itself, not the folders above it)")
    assert code == 1 and line in err, err
    with pytest.raises(nngraph.TrainingError, match="train.checkpoint.directory: the folder 'runs' of 'runs/ck'"):
        nngraph.train(path)
    code, out, err = cli("validate", path)
    assert code == 1 and line in out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]
    (tmp_path / "runs").mkdir()
    code, out, err = cli("train", path)
    assert code == 0 and sorted(p.name for p in (tmp_path / "runs" / "ck").glob("epoch-*")) == ["epoch-000001.npz",
                                                                                                "epoch-000002.npz"]


def test_an_exported_spec_goes_into_an_existing_folder_only(tmp_path):
    from nngraph.interchange.files import save

    spec = nngraph.load(XOR_TRAIN)
    with pytest.raises(nngraph.NNGraphError, match=r"new/x\.yaml: cannot write it: no such file or folder; "
                                                    r"the folder '.*new' does not exist \(create it first\)"):
        save(spec, tmp_path / "new" / "x.yaml")
    assert list(tmp_path.iterdir()) == []
