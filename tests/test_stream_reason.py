"""A run that streams without --output says what made it stream: the option given, or the inputs."""
import numpy as np
import pytest

from helpers import EX, cli


@pytest.mark.parametrize("options,reason", [
    (["--cluster", "local:2"], "--cluster makes this run stream its inputs chunk by chunk"),
    (["--chunk-rows", "2"], "--chunk-rows makes this run stream its inputs chunk by chunk"),
    (["--cluster", "local:2", "--chunk-rows", "1"], "--cluster and --chunk-rows make this run stream its inputs"),
    (["--cluster", "local:2", "--threads", "1"], "--cluster makes this run stream its inputs"),  # not --threads
])
def test_small_inputs_with_a_streaming_option_name_the_option(tmp_path, options, reason):
    np.save(tmp_path / "x.npy", np.array([[1, 0], [0, 1]], dtype="float32"))
    code, out, err = cli("run", EX["xor.yaml"], "--inputs", tmp_path / "x.npy", *options)
    assert code == 2 and out == ""
    assert f"Error: {reason}" in err and "needs --output FILE (.npy, .csv or .zarr)" in err
    assert "256 MB" not in err


def test_a_folder_of_shards_names_the_inputs(tmp_path):
    (tmp_path / "shards").mkdir()
    np.save(tmp_path / "shards" / "a.npy", np.array([[1, 0]], dtype="float32"))
    code, out, err = cli("run", EX["xor.yaml"], "--inputs", tmp_path / "shards")
    assert code == 2
    assert ("Error: streaming inputs (a folder, glob, zarr array, or a file over 256 MB) are scored chunk by chunk, "
            "so the run needs --output FILE") in err
