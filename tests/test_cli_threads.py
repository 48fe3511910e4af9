"""``--threads N`` limits the BLAS threads of training: in ``train``, in ``run`` when it trains
(``--retrain`` or no parameters yet) and while ``run`` evaluates; measured inside the training
loop, with the process set to more threads around it."""
import pytest
from threadpoolctl import threadpool_limits

import nngraph.training as training
from nngraph.stream import current_blas_threads

from helpers import EX, cli


@pytest.fixture
def seen(monkeypatch):
    """The BLAS threads each training loop ran with."""
    seen = []
    loop = training._Run.loop

    def recording(self):
        seen.append(current_blas_threads())
        return loop(self)

    monkeypatch.setattr(training._Run, "loop", recording)
    return seen


@pytest.mark.parametrize("command", [["train"], ["run", "--retrain"], ["run"]])
def test_threads_limit_training(seen, command):
    spec = EX["sigmoid_neuron.yaml"]
    with threadpool_limits(limits=2, user_api="blas"):
        if current_blas_threads() < 2:
            pytest.fail("this BLAS cannot use 2 threads here, so the limit to 1 would not show")
        code, out, err = cli(*command, spec, "--threads", "1", "--epochs", "3", "--no-save")
        assert code == 0, err
        assert seen == [1]
        assert current_blas_threads() == 2  # as it was, after the command


def test_threads_with_inputs_and_no_output_runs_in_memory(tmp_path):
    """`--threads` on a run of a small inputs file prints the outputs, as without it; it streams
    (and then needs --output) only when an output file is given."""
    spec, inputs = EX["xor.yaml"], tmp_path / "xor_inputs.csv"
    inputs.write_text("a,b\n0,0\n0,1\n1,0\n1,1\n")
    plain = cli("run", spec, "--inputs", inputs)
    limited = cli("run", spec, "--inputs", inputs, "--threads", "1")
    assert plain[0] == 0 and limited[0] == 0, limited[2]
    assert limited[1] == plain[1] and "out" in plain[1]
