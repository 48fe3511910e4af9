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
