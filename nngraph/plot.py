"""Training curves and decision regions; matplotlib is imported here only, and only when a plot is asked for."""
from __future__ import annotations

from pathlib import Path

import numpy as np

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
    rates = [r.get("learning_rate") for r in history]
    if len(set(rates)) > 1:  # a schedule: its rate on a second axis
        twin = ax.twinx()
        twin.plot(epochs, rates, color="C7", linestyle="--", label="learning rate")
        twin.set_ylabel("learning rate")
        twin.legend(loc="upper center")
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


# -- decision regions of a two-input network -------------------------------------------------------

THRESHOLD = {"sign": 0.0, "step": 0.5, "sigmoid": 0.5, "tanh": 0.0, "linear": 0.0, "neat_sigmoid": 0.5}
MAX_RESOLUTION = 2000  # grid points per axis (4M forward rows at most)


def regions(spec, path, *, resolution: int = 200, xlim=None, ylim=None, data: bool = True, title=None) -> dict:
    """Plot the decision regions (or output surface) of a network with two inputs over the input plane.

    One output: a heatmap of its value with the decision boundary (where it crosses 0.5 for sigmoid
    and step, 0 otherwise); several outputs: the region where each one is largest. A network that
    is one neuron also gets its boundary as a line, ``w1·x1 + w2·x2 + b = 0`` (the book's Figure
    1-4). The training data is scattered on top when the spec has a ``data`` section.

    Returns
    -------
    dict with ``xs``, ``ys`` (the grid axes), ``values`` (resolution × resolution: the output, or
    the winning class), and ``line`` ((w1, w2, b) or None).

    Raises
    ------
    DrawError
        The network does not have exactly two inputs, or the resolution is out of range.
    """
    from .compile import compile
    from .errors import DrawError
    from .graph import build

    if not 2 <= resolution <= MAX_RESOLUTION:
        raise DrawError(f"--resolution {resolution}: use 2 to {MAX_RESOLUTION} points per axis")
    graph = build(spec)
    plan = compile(graph)
    if plan.input_width != 2:
        raise DrawError(f"decision regions are drawn for networks with exactly 2 inputs; {graph.spec.name} has "
                        f"{plan.input_width} ({', '.join(plan.input_names()[:5])}{', ...' if plan.input_width > 5 else ''})")
    points = _data(graph) if data else None
    line = _single_neuron(graph, plan)
    xlim, ylim = _limits(xlim, ylim, points, line)
    xs, ys = np.linspace(*xlim, resolution), np.linspace(*ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    y = plan.forward(np.column_stack([gx.ravel(), gy.ravel()]).astype(plan.dtype))
    out = graph.outputs[0]
    act = out.activation[0]
    values = (y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1)).reshape(resolution, resolution)
    _draw_regions(path, plan, graph, xs, ys, values, y.shape[1], THRESHOLD.get(act, 0.0), line, points,
                  title or f"{graph.spec.name}: {'output' if y.shape[1] == 1 else 'decision regions'} "
                           f"({plan.params_origin})")
    return {"xs": xs, "ys": ys, "values": values, "line": line}


def _data(graph):
    if graph.spec.data is None:
        return None
    from .data import load_data

    ds = load_data(graph.spec)
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    if y.ndim > 1:
        y = y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1)
    return x, y


def _single_neuron(graph, plan):
    """(w1, w2, b) when the network is one computed neuron reading both inputs directly."""
    computed = [n for n in graph.nodes if n.role != "input"]
    if len(computed) != 1 or computed[0].size != 1:
        return None
    p = plan.parameters()
    w = np.zeros(2)
    at = 0
    for n in graph.inputs:
        for c in graph.connections:
            if c.src == n.index:
                w[at + c.src_lo:at + c.src_hi] += np.asarray(p[c.key], dtype=float).reshape(-1)[:c.src_hi - c.src_lo]
        at += n.size
    return float(w[0]), float(w[1]), float(p[f"nodes/{computed[0].name}/bias"][0])


def _limits(xlim, ylim, points, line):
    if points is not None:
        lo, hi = points[0].min(axis=0), points[0].max(axis=0)
        pad = np.maximum((hi - lo) * 0.15, 0.5)
        auto = [(lo[k] - pad[k], hi[k] + pad[k]) for k in range(2)]
    elif line is not None and line[0] and line[1]:
        w1, w2, b = line  # the boundary's intercepts on both axes, with room around them
        top = max(abs(b / w1), abs(b / w2), 1.0) * 1.25
        auto = [(-0.05 * top, top), (-0.05 * top, top)]
    else:
        auto = [(-1.5, 1.5), (-1.5, 1.5)]
    return tuple(xlim or auto[0]), tuple(ylim or auto[1])


def _draw_regions(path, plan, graph, xs, ys, values, n_out, threshold, line, points, title):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise NNGraphError("plot regions needs matplotlib: pip install 'nngraph[plot]'") from None
    names = plan.input_names()
    fig, ax = plt.subplots(figsize=(6, 5))
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    if n_out == 1:
        span = float(np.nanmax(np.abs(values - threshold))) or 1.0
        im = ax.imshow(values, origin="lower", extent=extent, aspect="auto", cmap="RdBu",
                       vmin=threshold - span, vmax=threshold + span, alpha=0.75)
        fig.colorbar(im, ax=ax, label=plan.output_names()[0])
        if values.min() < threshold <= values.max():
            ax.contour(xs, ys, values, levels=[threshold], colors="k", linewidths=1.2)
    else:
        ax.imshow(values, origin="lower", extent=extent, aspect="auto", cmap="tab10", vmin=0, vmax=9, alpha=0.45,
                  interpolation="nearest")
        ax.contour(xs, ys, values, levels=np.arange(n_out) + 0.5, colors="k", linewidths=0.8)
    if line is not None and line[1]:
        w1, w2, b = line
        ax.plot(xs, -(w1 * xs + b) / w2, "k--", lw=1.5, label=f"{w1:g}·{names[0]} {'-' if w2 < 0 else '+'} {abs(w2):g}·{names[1]} "
                f"{'-' if b < 0 else '+'} {abs(b):g} = 0")
        ax.set_ylim(ys[0], ys[-1])
        ax.legend(loc="upper right", fontsize=8)
    if points is not None:
        x, y = points
        classes = np.unique(y)
        for k, c in enumerate(classes[:10]):
            sel = y == c
            ax.scatter(x[sel, 0], x[sel, 1], s=28, marker="os^vD*Px+X"[k], edgecolors="k", linewidths=0.6,
                       color=f"C{k}", label=f"target {c:g}")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".").lower() or "png")
    plt.close(fig)
    tmp.replace(path)
