"""Metrics against scikit-learn's on the same predictions."""
import numpy as np
import pytest
from sklearn import metrics as sk

from nngraph import metrics

from helpers import ROOT


@pytest.mark.parametrize("seed", range(8))
def test_classification_metrics_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    truth = rng.integers(0, k, 60)
    pred = np.where(rng.random(60) < 0.6, truth, rng.integers(0, k, 60))
    if seed == 3:
        pred[pred == 1] = 0  # a class never predicted
    if seed == 4:
        truth[truth == k - 1], pred[pred == k - 1] = 0, 0  # a class in neither
    got = metrics.classification(truth, pred, k)
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred), abs=1e-15)
    for name, fn in (("precision", sk.precision_score), ("recall", sk.recall_score), ("f1", sk.f1_score)):
        assert got[name] == pytest.approx(fn(truth, pred, average="macro", zero_division=0), abs=1e-12), name
    assert np.array_equal(got["confusion"], sk.confusion_matrix(truth, pred, labels=range(k)))


@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_metrics_equal_scikit_learn(outputs):
    rng = np.random.default_rng(outputs)
    target = rng.normal(size=(50, outputs))
    out = target + rng.normal(scale=0.3, size=target.shape)
    got = metrics.regression(out, target)
    assert got["mae"] == pytest.approx(sk.mean_absolute_error(target, out), rel=1e-12)
    assert got["rmse"] == pytest.approx(sk.root_mean_squared_error(target, out), rel=1e-12)
    assert got["r2"] == pytest.approx(sk.r2_score(target, out), rel=1e-12)


def test_evaluate_reports_the_task_metrics():
    import nngraph
    from nngraph.training import evaluate

    plan, _ = nngraph.train(ROOT / "examples" / "fast_food_learn.yaml", epochs=5)
    data = nngraph.data.load_data(plan.spec)
    result = evaluate(plan, data.x_test, data.y_test, data.classes, "mse")
    assert {"loss", "mae", "rmse", "r2"} <= set(result) and result["rmse"] == pytest.approx(
        np.sqrt(result["loss"]), rel=1e-5)
