"""Training curves and decision regions; matplotlib is imported here only, and only when a plot is asked for."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import NNGraphError


def _figure(what="plot regions", **kw):
    """A matplotlib figure drawn by the Agg canvas, made without pyplot: no backend to select and
    no pyplot module to import (a tenth of matplotlib's start-up), no figure registry to close."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise NNGraphError(f"{what} needs matplotlib: pip install 'nngraph[plot]'") from None
    fig = Figure(**kw)
    FigureCanvasAgg(fig)
    return fig


def check_plot_path(path, option: str = "--plot") -> str:
    """The format of a training-curves file, from its suffix; refused (before any training) when
    matplotlib cannot write it."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise NNGraphError(f"{option} needs matplotlib: pip install 'nngraph[plot]'") from None
    if fmt not in FigureCanvasAgg.get_supported_filetypes():
        raise NNGraphError(f"{option} {text(path)}: matplotlib cannot write .{fmt}; use .png, .svg or .pdf")
    return fmt


def text(s) -> str:
    """A user string as matplotlib text: control characters visible, ``$`` not the start of math
    (``$\\bogus$`` in a label would otherwise stop the plot with a parse error)."""
    from .draw.safe import plain

    return plain(s).replace("$", r"\$")


MARKED_EPOCHS = 40  # up to this many epochs each gets a marker; beyond, the markers run into a blob


def plot_history(history: list, path, title: str = "") -> None:
    fig = history_figure(history, title)
    from .writes import atomic_write

    fmt = check_plot_path(path)
    atomic_write(path, lambda f: fig.savefig(f, dpi=120, format=fmt))


def history_figure(history: list, title: str = ""):
    """The training curves of ``history`` as a matplotlib figure (what ``plot_history`` writes)."""
    epochs = [r["epoch"] for r in history]
    marker = "o" if len(epochs) <= MARKED_EPOCHS else None
    has_acc = any("val_accuracy" in r for r in history)
    fig = _figure("--plot", figsize=(10 if has_acc else 5.5, 4))
    axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)
    ax = axes[0][0]
    ax.plot(epochs, [r["loss"] for r in history], marker=marker, label="training loss")
    if any("val_loss" in r for r in history):
        ax.plot(epochs, [r.get("val_loss") for r in history], marker=marker, label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    rates = [r.get("learning_rate") for r in history]
    handles, labels = ax.get_legend_handles_labels()
    if len(set(rates)) > 1:  # a schedule: its rate on a second axis
        twin = ax.twinx()
        twin.plot(epochs, rates, color="C7", linestyle="--", label="learning rate")
        twin.set_ylabel("learning rate")
        ax.set_zorder(twin.get_zorder() + 1)  # the losses' axes (and the one legend) above the rate's line
        ax.patch.set_visible(False)
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels)  # one legend for the curves of both axes: two of them overlapped
    ax.grid(alpha=0.3)
    if has_acc:
        ax = axes[0][1]
        ax.plot(epochs, [100 * r.get("val_accuracy", float("nan")) for r in history], marker=marker, color="C2")
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(alpha=0.3)
    fig.suptitle(text(title))
    fig.tight_layout()
    return fig


# -- decision regions of a two-input network -------------------------------------------------------

THRESHOLD = {"sign": 0.0, "step": 0.5, "sigmoid": 0.5, "tanh": 0.0, "linear": 0.0, "neat_sigmoid": 0.5}
BOUNDS = {"sign": (-1.0, 1.0), "step": (0.0, 1.0), "sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0),
          "neat_sigmoid": (0.0, 1.0), "neat_tanh": (-1.0, 1.0)}  # an output's range, for a colour scale that holds still
MAX_RESOLUTION = 2000  # grid points per axis (4M forward rows at most)
MAX_FRAMES = 500  # frames of regions during training (each is a picture; a GIF keeps them all in memory)


def check_plane(graph, plan, resolution=200):
    """Refuse a network without exactly two inputs, or a resolution out of range (DrawError)."""
    from .errors import DrawError

    if not 2 <= resolution <= MAX_RESOLUTION:
        raise DrawError(f"--resolution {resolution}: use 2 to {MAX_RESOLUTION} points per axis")
    if plan.input_width != 2:
        raise DrawError(f"decision regions are drawn for networks with exactly 2 inputs; {graph.spec.name} has "
                        f"{plan.input_width} ({', '.join(plan.input_names()[:5])}"
                        f"{', ...' if plan.input_width > 5 else ''})")


class Plane:
    """The input plane of a network with two inputs: the grid, the data on it, and the single
    neuron's boundary line; ``values(plan)`` runs the whole grid through one ``plan.forward``."""

    def __init__(self, graph, plan, *, resolution=200, xlim=None, ylim=None, points=None):
        check_plane(graph, plan, resolution)
        self.graph, self.points, self.resolution = graph, points, resolution
        self.line = _single_neuron(graph, plan)
        xlim, ylim = _limits(xlim, ylim, points, self.line)
        self.xs, self.ys = np.linspace(*xlim, resolution), np.linspace(*ylim, resolution)
        self.grid = np.empty((resolution * resolution, 2), dtype=plan.dtype)  # row-major: y outer, x inner
        self.grid[:, 0] = np.tile(self.xs, resolution)
        self.grid[:, 1] = np.repeat(self.ys, resolution)
        self.n_out = plan.output_width
        self.activation = graph.outputs[0].activation[0]
        self.threshold = THRESHOLD.get(self.activation, 0.0)

    def values(self, plan) -> np.ndarray:
        """resolution × resolution: the output's value, or (several outputs) the winning one."""
        y = plan.forward(self.grid)
        v = y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1)
        return v.reshape(self.resolution, self.resolution)


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
    from .graph import build

    graph = build(spec)
    plan = compile(graph)
    check_plane(graph, plan, resolution)
    plane = Plane(graph, plan, resolution=resolution, xlim=xlim, ylim=ylim, points=_data(graph) if data else None)
    values = plane.values(plan)
    figure = RegionFigure(plane, plan)
    figure.show(values, title or f"{graph.spec.name}: {'output' if plane.n_out == 1 else 'decision regions'} "
                                  f"({plan.params_origin})")
    figure.save(path)
    figure.close()
    return {"xs": plane.xs, "ys": plane.ys, "values": values, "line": plane.line}


def _data(graph):
    if graph.spec.data is None:
        return None
    from .data import load_data

    ds = load_data(graph.spec)
    return _points(ds.x_train, ds.y_train, ds.x_test, ds.y_test)


def _points(x, y, x_test=None, y_test=None):
    if x_test is not None and len(x_test):
        x, y = np.concatenate([x, x_test]), np.concatenate([y, y_test])
    y = np.asarray(y)
    if y.ndim > 1:
        y = y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1)
    return np.asarray(x, dtype=float), y


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


class RegionFigure:
    """One matplotlib figure of a plane, drawn once; ``show(values)`` only swaps the heatmap's
    pixels and redraws the boundary, so the frames of a training run cost little each."""

    def __init__(self, plane, plan):
        self.plane = plane
        names = [text(n) for n in plan.input_names()]
        # fixed margins: tight_layout measured every text and cost as much as the rest of the figure
        fig = _figure(figsize=(6, 5))
        ax = fig.add_axes((0.14, 0.1, 0.65 if plane.n_out == 1 else 0.82, 0.83))
        self.fig, self.ax, self.boundary = fig, ax, None
        xs, ys = plane.xs, plane.ys
        blank = np.zeros((len(ys), len(xs)))
        extent = (xs[0], xs[-1], ys[0], ys[-1])
        if plane.n_out == 1:
            self.im = ax.imshow(blank, origin="lower", extent=extent, aspect="auto", cmap="RdBu", alpha=0.75)
            fig.colorbar(self.im, cax=fig.add_axes((0.82, 0.1, 0.03, 0.83)), label=text(plan.output_names()[0]))
        else:
            self.im = ax.imshow(blank, origin="lower", extent=extent, aspect="auto", cmap="tab10", vmin=0, vmax=9,
                                alpha=0.45, interpolation="nearest")
        if plane.line is not None and plane.line[1]:
            w1, w2, b = plane.line
            ax.plot(xs, -(w1 * xs + b) / w2, "k--", lw=1.5,
                    label=f"{w1:g}·{names[0]} {'-' if w2 < 0 else '+'} {abs(w2):g}·{names[1]} "
                          f"{'-' if b < 0 else '+'} {abs(b):g} = 0")
            ax.set_ylim(ys[0], ys[-1])
            ax.legend(loc="upper right", fontsize=8)
        if plane.points is not None:
            x, y = plane.points
            for k, c in enumerate(np.unique(y)[:10]):
                sel = y == c
                ax.scatter(x[sel, 0], x[sel, 1], s=28, marker="os^vD*Px+X"[k], edgecolors="k", linewidths=0.6,
                           color=f"C{k}", label=f"target {c:g}")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        self.title = ax.set_title("", fontsize=10)

    def show(self, values, title):
        plane, ax = self.plane, self.ax
        self.im.set_data(values)
        if self.boundary is not None:
            self.boundary.remove()
            self.boundary = None
        xs, ys, t = plane.xs, plane.ys, plane.threshold
        if plane.n_out == 1:
            lo, hi = BOUNDS.get(plane.activation, (None, None))
            if lo is None:
                span = float(np.nanmax(np.abs(values - t))) or 1.0
                lo, hi = t - span, t + span
            self.im.set_clim(lo, hi)
            if values.min() < t <= values.max():
                self.boundary = ax.contour(xs, ys, values, levels=[t], colors="k", linewidths=1.2)
        elif values.min() != values.max():
            self.boundary = ax.contour(xs, ys, values, levels=np.arange(plane.n_out) + 0.5, colors="k",
                                       linewidths=0.8)
        self.title.set_text(text(title))

    def save(self, path, dpi=110):
        from .writes import atomic_write

        path = Path(path)
        atomic_write(path, lambda f: self.fig.savefig(f, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png"))

    def image(self, dpi=80):
        """The current picture as a Pillow image (a GIF frame)."""
        from PIL import Image

        self.fig.set_dpi(dpi)
        self.fig.canvas.draw()
        return Image.fromarray(np.asarray(self.fig.canvas.buffer_rgba())[..., :3])

    def close(self):
        self.fig.clear()  # no pyplot registry holds it: clearing frees the artists at once


class RegionFrames:
    """A training callback: the decision regions of a two-input network as training goes on.

    ``path`` ending in ``.gif`` gets one animated GIF; ``.png``, ``.svg`` or ``.pdf`` gets one file
    per frame, ``NAME-epoch0005.png``. Frames are drawn before the first epoch (the initial
    weights, or a resumed run's checkpoint), every ``every`` epochs, and after the last (or
    early-stopped) epoch.

    Examples
    --------
    >>> frames = RegionFrames("xor.gif", every=10)      # doctest: +SKIP
    >>> plan.fit(X, y, callbacks=frames); frames.close()  # doctest: +SKIP
    """

    def __init__(self, path, *, every: int | None = None, resolution: int = 100, xlim=None, ylim=None,
                 data=None, seconds_per_frame: float = 0.25):
        from .errors import DrawError

        self.path = Path(path)
        self.kind = self.path.suffix.lower().lstrip(".")
        if self.kind not in ("gif", "png", "svg", "pdf"):
            raise DrawError(f"--regions {self.path}: write a .gif (animated) or .png, .svg or .pdf frames")
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise DrawError(f"--regions-every {every!r}: a whole number of epochs, at least 1")
        self.every, self.resolution, self.xlim, self.ylim, self.data = every, resolution, xlim, ylim, data
        self.seconds_per_frame = seconds_per_frame
        self.frames, self.written, self.plan, self.figure, self.epochs = [], [], None, None, 0
        self.first = False

    def begin(self, plan, epochs: int):
        """Called by training before its first epoch, with the plan it trains and the last epoch."""
        from .errors import DrawError

        points = _points(*self.data) if self.data is not None else None
        plane = Plane(plan.graph, plan, resolution=self.resolution, xlim=self.xlim, ylim=self.ylim, points=points)
        if self.every is None:
            self.every = max(1, -(-epochs // 50))  # about 50 frames
        if epochs // self.every + 2 > MAX_FRAMES:
            raise DrawError(f"--regions-every {self.every} over {epochs:,} epochs makes {epochs // self.every + 2:,} "
                            f"frames (at most {MAX_FRAMES}): use --regions-every {-(-epochs // (MAX_FRAMES - 2))} "
                            "or more")
        self.plan, self.epochs, self.plane = plan, epochs, plane
        self.figure = RegionFigure(plane, plan)
        self.first = True  # drawn by history_start, which knows the epoch a resumed run starts from

    def history_start(self, history: list, checkpoint):
        """Called by training before its first epoch: the first frame shows the weights it starts
        from, the initial ones (epoch 0) or, after a resume, those of the checkpoint's epoch."""
        last = history[-1] if history else {}
        self._first(last.get("epoch", 0), last.get("loss"))

    def _first(self, epoch, loss):
        if self.first:
            self.first = False
            self._frame(epoch, loss)

    def epoch_start(self, epoch: int, steps: int):
        self._first(epoch - 1, None)  # a caller that has no history_start hook

    def step(self, epoch: int, step: int, loss: float):
        pass

    def epoch_end(self, record: dict):
        epoch = record["epoch"]
        if epoch % self.every == 0 or epoch == self.epochs or record.get("stopped_early"):
            self._frame(epoch, record.get("loss"))

    def _frame(self, epoch, loss):
        name = self.plan.spec.name
        title = f"{name}: epoch {epoch}" + ("" if loss is None else f", loss {loss:.4f}")
        self.figure.show(self.plane.values(self.plan), title)
        if self.kind == "gif":
            self.frames.append(self.figure.image().quantize(colors=128))
        else:
            path = self.path.with_name(f"{self.path.stem}-epoch{epoch:04d}{self.path.suffix}")
            self.figure.save(path, dpi=80)
            self.written.append(path)

    def close(self, write: bool = True) -> list:
        """Write the GIF (if that was asked for, unless ``write`` is false: a failed run) and free the
        figure; returns the files written."""
        if self.figure is not None and write:
            self._first(0, None)  # begun, but no epoch ran
        if self.figure is not None:
            self.figure.close()
            self.figure = None
        if self.kind == "gif" and self.frames and write:
            from .writes import atomic_write

            hold = [int(self.seconds_per_frame * 1000)] * (len(self.frames) - 1) + [2000]  # rest on the result
            atomic_write(self.path, lambda f: self.frames[0].save(f, format="GIF", save_all=True, loop=0,
                                                                  append_images=self.frames[1:], duration=hold))
            self.written, self.frames = [self.path], []
        return self.written
