"""Training curves; matplotlib is imported here only, and only when a plot is asked for."""
from __future__ import annotations

from .errors import NNGraphError


def plot_history(history: list, path, title: str = "") -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NNGraphError("--plot needs matplotlib: pip install 'nngraph[plot]'") from None
    epochs = [r["epoch"] for r in history]
    has_acc = any("val_accuracy" in r for r in history)
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5.5, 4), squeeze=False)
    ax = axes[0][0]
    ax.plot(epochs, [r["loss"] for r in history], marker="o", label="training loss")
    if any("val_loss" in r for r in history):
        ax.plot(epochs, [r.get("val_loss") for r in history], marker="o", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    if has_acc:
        ax = axes[0][1]
        ax.plot(epochs, [100 * r.get("val_accuracy", float("nan")) for r in history], marker="o", color="C2")
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
