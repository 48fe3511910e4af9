"""One plan shared by many threads gives exactly the serial results."""
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nngraph.compile import compile

from helpers import EX, EXAMPLES
from randomnets import random_spec



def _hammer(plan, batches, threads=8, rounds=3):
    expected = [plan.forward(x) for x in batches]
    work = [i for _ in range(rounds) for i in range(len(batches))]
    with ThreadPoolExecutor(threads) as pool:
        got = list(pool.map(lambda i: (i, plan.forward(batches[i])), work))
    wrong = [i for i, y in got if not np.array_equal(y, expected[i])]
    assert not wrong, f"{len(wrong)} of {len(got)} threaded results differ from the serial ones"


@pytest.mark.parametrize("sparse", [False, True])
def test_many_threads_one_plan_equal_serial(sparse):
    plan = compile(EX["irregular.yaml"], dtype=np.float64, sparse_below=1.01 if sparse else 0.0)
    rng = np.random.default_rng(0)
    # several batch sizes, each used by many threads at once; distinct data in every batch
    batches = [rng.normal(size=(b, plan.input_width)) for b in (1, 2, 7, 64, 300) for _ in range(8)]
    _hammer(plan, batches)


@pytest.mark.parametrize("seed", range(4))
def test_threads_on_random_networks(seed):
    plan = compile(random_spec(seed), dtype=np.float32)
    rng = np.random.default_rng(seed)
    batches = [rng.normal(size=(b, plan.input_width)).astype(np.float32) for b in (1, 5, 33) for _ in range(6)]
    _hammer(plan, batches, threads=6)


def test_each_thread_keeps_its_own_buffers():
    plan = compile(EX["skip_connection.yaml"])
    plan.forward(np.ones((3, 4)))
    mine = plan._buffers[("program", 3)].bufs
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(lambda: (plan.forward(np.ones((3, 4))), plan._buffers[("program", 3)].bufs)[1]).result()
    assert all(a is not b for a, b in zip(mine[1:], theirs[1:]))
    plan.forward(np.zeros((3, 4)))
    assert plan._buffers[("program", 3)].bufs is mine  # reused by the same thread


def test_a_plan_still_pickles():
    plan = compile(EX["skip_connection.yaml"], dtype=np.float64)
    x = np.arange(8.0).reshape(2, 4)
    y = plan.forward(x)
    copy = pickle.loads(pickle.dumps(plan))
    np.testing.assert_array_equal(copy.forward(x), y)


def test_programs_are_rebuilt_when_a_block_array_is_replaced():
    plan = compile(EX["skip_connection.yaml"], dtype=np.float64)
    x = np.arange(8.0).reshape(2, 4)
    plan.forward(x)
    block = plan.stages[1].blocks[0]
    before = plan.forward(x)
    block.W = block.W * 2.0  # a new array, not an in-place write
    from nngraph import runtime
    expected = runtime.forward(plan, x, runtime._buffers(plan, 2))  # reads the blocks afresh
    assert not np.allclose(expected, before)
    np.testing.assert_allclose(plan.forward(x), expected, rtol=1e-12)


def test_bound_predictor_one_sample_at_a_time():
    plan = compile(EX["fashion_mnist_mlp.yaml"], use_file=False)
    x = np.random.default_rng(0).random((6, plan.input_width), dtype=np.float32)
    predict = plan.bind()
    rows = [predict(x[i:i + 1]) for i in range(len(x))]
    assert rows[0] is not rows[1] and not np.shares_memory(rows[0], rows[1])  # a fresh array per call
    np.testing.assert_allclose(np.concatenate(rows), plan.forward(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(predict(x[2:3]), plan.forward(x[2:3]))
    # other shapes, dtypes and inputs still work (through forward)
    np.testing.assert_array_equal(predict(x[:3]), plan.forward(x[:3]))
    np.testing.assert_array_equal(predict(x[1].astype(np.float64)), plan.forward(x[1:2]))
    # from another thread: that thread's own buffers, the same numbers
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda i: predict(x[i:i + 1]), range(6)))
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate([predict(x[i:i + 1]) for i in range(6)]))


def test_bound_predictor_sees_new_parameters():
    plan = compile(EX["skip_connection.yaml"], dtype=np.float64)
    x = np.arange(4.0).reshape(1, 4)
    predict = plan.bind()
    before = predict(x)
    params = plan.parameters()
    plan.set_parameters({k: v * 2 for k, v in params.items()})  # written in place
    assert not np.allclose(predict(x), before)
    np.testing.assert_array_equal(predict(x), plan.forward(x))
    block = plan.stages[1].blocks[0]
    block.W = block.W * 3.0  # a new array: the prepared calls are rebuilt
    from nngraph import runtime
    np.testing.assert_allclose(predict(x), runtime.forward(plan, x, runtime._buffers(plan, 1)), rtol=1e-12)
    with pytest.raises(Exception, match="batch must be at least 1"):
        plan.bind(0)


@pytest.mark.parametrize("seed", range(6))
def test_chunks_taken_by_threads_equal_one_pass(seed, monkeypatch):
    """A plan with sparse blocks runs a batch in chunks of samples, each chunk through all stages,
    taken by plan.threads threads: odd batches (two chunk sizes), one-row chunks, more threads
    than chunks. Every sample's numbers come from the same calls in the same order whatever
    the chunk, so the results equal the one-pass ones exactly, and the reference evaluator's."""
    from nngraph import reference, runtime

    plan = compile(random_spec(seed), dtype=np.float64, sparse_below=1.01)
    assert plan._sparse_plan
    rng = np.random.default_rng(seed)
    for batch in (1, 2, 3, 5, 7, 16):
        x = rng.normal(0, 2, (batch, plan.input_width))
        whole = plan.forward(x)  # one pass: far under the default chunk size
        np.testing.assert_allclose(whole, reference.evaluate(plan.graph, plan.parameters(), x), rtol=1e-6, atol=1e-6)
        for rows, threads in ((1, 1), (1, 4), (2, 3), (3, 2), (4, 8)):
            monkeypatch.setattr(runtime, "CHUNK_ROWS", rows)
            plan.threads = threads
            assert np.array_equal(plan.forward(x), whole), (batch, rows, threads)
            assert np.array_equal(plan.bind(batch)(x), whole), (batch, rows, threads)
        monkeypatch.setattr(runtime, "CHUNK_ROWS", None)
        plan.threads = 1


def test_chunk_sizes_follow_the_cache_and_the_threads():
    """The default chunking: one pass while a batch's activations fit CHUNK_BYTES, chunks of at
    most that beyond; with threads, about two chunks per thread, none of under CHUNK_MIN_MACS."""
    from nngraph import runtime

    plan = compile(EX["irregular.yaml"], sparse_below=1.01)
    per_row = sum(s.width for s in plan.stages) * 4
    most = runtime.CHUNK_BYTES // per_row
    least = max(runtime.CHUNK_MIN_MACS // plan.macs, 1)
    assert runtime._chunk_count(plan, most) == (1, 1)
    assert runtime._chunk_count(plan, most + 1) == (2, 1)
    assert runtime._chunk_count(plan, 10 * most) == (10, 1)
    plan.threads = 2
    assert runtime._chunk_count(plan, 10 * most) == (10, 2)
    assert runtime._chunk_count(plan, 4 * least) == (4, 2)
    assert runtime._chunk_count(plan, 2 * least) == (2, 2)
    assert runtime._chunk_count(plan, least) == (1, 1)
    plan.threads = 64  # at most 8 threads on one batch
    assert runtime._chunk_count(plan, 1000 * least) == (max(-(-1000 * least // most), 128), 8)
