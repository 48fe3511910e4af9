"""The activations of evolved networks: compiled kernels against the oracle, derivatives against
finite differences, and a clear refusal to train through those whose derivative needs the input."""
import numpy as np
import pytest

from nngraph.compile import compile
from nngraph.reference import evaluate
from nngraph.training import loss_value, train, trainable_tensors

from randomnets import random_spec
from test_train import _analytic

FROM_OUTPUT = ["selu", "clamped", "cube", "neat_sigmoid", "neat_tanh", "neat_softplus", "neat_exp", "neat_log",
               "neat_inv"]
FROM_INPUT = ["abs", "square", "hat", "neat_sin", "neat_gauss"]  # derivatives from the recomputed z


@pytest.mark.parametrize("seed", range(10))
def test_compiled_kernels_match_the_oracle(seed):
    plan = compile(random_spec(seed, activations=FROM_OUTPUT + FROM_INPUT), dtype=np.float64)
    x = np.random.default_rng(seed).normal(0, 2, (6, plan.input_width))
    np.testing.assert_allclose(plan.forward(x), evaluate(plan.graph, plan.parameters(), x), rtol=1e-9, atol=1e-12,
                               equal_nan=True)


@pytest.mark.parametrize("sparse", [None, 1.01])
@pytest.mark.parametrize("act", FROM_OUTPUT + FROM_INPUT)
def test_derivatives_equal_finite_differences(act, sparse):
    spec = random_spec(7, activations=[act], output_activation="linear")
    plan = compile(spec, dtype=np.float64, sparse_below=sparse)
    rng = np.random.default_rng(1)
    # away from kinks and clamps (clamped at +-1, log's floor) so the finite difference is the derivative
    x = rng.uniform(0.3, 0.6, size=(5, plan.input_width))
    t = rng.normal(size=(5, plan.output_width))
    grads = _analytic(plan, x, t, "mse")
    for tensor, g in zip(trainable_tensors(plan), grads):
        flat, gflat = tensor.value.reshape(-1), g.reshape(-1)
        for k in rng.choice(flat.size, min(4, flat.size), replace=False):
            old, h = flat[k], 1e-6
            flat[k] = old + h
            up = loss_value("mse", plan.forward(x), t)
            flat[k] = old - h
            down = loss_value("mse", plan.forward(x), t)
            flat[k] = old
            assert gflat[k] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("act", FROM_INPUT)
def test_training_through_activations_whose_derivative_needs_the_input(act):
    """Dropout on the node too: z is recomputed from the inputs the forward pass actually read."""
    spec = ("nngraph: 1\nname: s\nnodes: [{name: x, role: input, size: 2}, {name: h, size: 8, activation: %s, "
            "dropout: 0.2, bias: {name: normal, std: 0.3}}, {name: y, role: output}]\n"
            "edges: [{from: x, to: h, init: {name: normal, std: 0.5}}, {from: h, to: y, init: {name: normal, std: 0.5}}]\n"
            "data: {source: inline, columns: [a, b, y], target: y, rows: [[0, 0, 0.5], [0, 1, -0.5], [1, 0, 0.25], "
            "[1, 1, 0.0]]}\n"
            "train: {loss: mse, epochs: 200, batch_size: 4, validation_split: 0, "
            "optimizer: {name: adam, learning_rate: 0.02}}\n") % act
    plan, history = train(spec)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"], (history[0], history[-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_works_in_place_on_column_views(dtype):
    """The runtime applies activations in place to column segments of a stage's buffer."""
    from nngraph.activations import FORWARD

    rng = np.random.default_rng(0)
    for name, kernel in FORWARD.items():
        for rows in (1, 2, 3, 9, 33):
            buf = rng.normal(0, 2, (rows, 6)).astype(dtype)
            want = kernel(buf[:, 2:4].copy(), np.empty((rows, 2), dtype=dtype), None)
            view = buf[:, 2:4]
            kernel(view, view, None)
            np.testing.assert_allclose(buf[:, 2:4], want, rtol=1e-6, err_msg=f"{name}, {rows} rows")
            single = rng.normal(0, 2, (rows, 4)).astype(dtype)
            want = kernel(single[:, 1:2].copy(), np.empty((rows, 1), dtype=dtype), None)
            view = single[:, 1:2]
            kernel(view, view, None)
            np.testing.assert_allclose(single[:, 1:2], want, rtol=1e-6, err_msg=f"{name}, one column, {rows} rows")
