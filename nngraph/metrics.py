"""Metrics by task: accuracy, macro precision/recall/F1 and the confusion matrix for classes;
MAE, RMSE and R² for regression. Defined as scikit-learn defines them (and tested against it):
macro averages run over the classes present in the truth or the predictions, a class never
predicted has precision 0; RMSE and R² of several outputs are the mean of each output's. R² of
fewer than two samples is undefined (None, and ``r2_undefined`` says why), as scikit-learn's
``r2_score`` calls it (it returns nan with a warning).
"""
from __future__ import annotations

import numpy as np


def confusion(truth: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """k x k counts, rows the true class, columns the predicted one."""
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (truth, pred), 1)
    return cm


def classification(truth, pred, k: int) -> dict:
    truth = np.asarray(truth, dtype=np.int64).reshape(-1)
    pred = np.asarray(pred, dtype=np.int64).reshape(-1)
    cm = confusion(truth, pred, k)
    present = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0).astype(float), cm.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    n = len(truth)
    macro = (lambda v: float(v[present].mean())) if present.any() else (lambda v: float("nan"))
    return {"accuracy": float(tp.sum() / n) if n else float("nan"), "precision": macro(precision),
            "recall": macro(recall), "f1": macro(f1), "confusion": cm}


R2_UNDEFINED = ("R² is undefined for a single sample: it compares the errors with the spread of the targets "
                "around their mean, and one target has none")


def regression(out, target) -> dict:
    out = np.asarray(out, dtype=np.float64).reshape(len(out), -1)
    target = np.asarray(target, dtype=np.float64).reshape(len(target), -1)
    err = out - target
    if not len(err):
        return {"mae": float("nan"), "rmse": float("nan"), "r2": float("nan")}
    if len(err) < 2:
        return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err ** 2).mean(axis=0)).mean()),
                "r2": None, "r2_undefined": R2_UNDEFINED}
    ss_res = (err ** 2).sum(axis=0)
    ss_tot = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant target: 1 if fitted exactly, else 0
        r2 = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err ** 2).mean(axis=0)).mean()),
            "r2": float(r2.mean())}
