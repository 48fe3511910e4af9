"""Diagrams of a network: neuron view (every drawn neuron and weight), layer view, stage view.

``draw(spec, view=...)`` returns a ``graphviz`` object (Jupyter displays it);
``render(spec, output=...)`` writes SVG, PNG, PDF or DOT, as ``nngraph draw`` does.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import DrawError, SpecError
from ..graph import build
from ..writes import atomic_write
from .emit import scene_to_dot, scene_to_svg
from .overview import layer_graph, overview_scene, stage_graph
from .scene import estimate_edges, neuron_scene

AUTO_MAX_EDGES = 2000  # a neuron view stays readable up to about this many drawn connections
REFUSE_EDGES = 60_000  # beyond this a neuron view takes minutes to render: ask for --force
MAX_COLUMNS = 300  # stages a neuron view lays side by side before it is unreadable (use --focus)
MAX_BOXES = 2_000  # boxes of a layer or stage view that dot lays out in seconds


def has_dot() -> bool:
    return shutil.which("dot") is not None


def _values(graph):
    """Parameter values to colour by, and which of them are real (literal or from a file)."""
    from ..params import initial_values_and_untrained

    # what run computes with: a missing bias is 0, and an init in a spec without train is a
    # seeded random network by design; only what training has yet to set is not known
    values, _, untrained = initial_values_and_untrained(graph, use_file=True)
    return values, set(values) - {u.key for u in untrained}


def prepare(spec, view="auto", max_neurons=12, force=False, focus=None):
    graph = build(spec, allow_cycles=True)
    depth = int(graph.neuron_level.max()) + 1 if graph.n_neurons else 0
    boxes = len(graph.nodes)
    if view == "auto":
        view = "neuron" if focus is not None or (estimate_edges(graph, max_neurons) <= AUTO_MAX_EDGES
                                                 and depth <= MAX_COLUMNS) else "layer"
    if view == "stage" and graph.cycle is not None:
        raise DrawError("the network has a cycle, so it has no compiled stages; draw --view neuron or layer "
                        "to see the cycle")
    if force:
        return graph, view
    if view == "neuron" and focus is None:
        n = estimate_edges(graph, max_neurons)
        if n > REFUSE_EDGES:
            raise DrawError(f"a neuron view would draw about {n:,} connections and take minutes; use --view layer, "
                            "a smaller --max-neurons, --focus NEURON, or --force")
        if depth > MAX_COLUMNS:
            raise DrawError(f"the network is {depth:,} stages deep: a neuron view would be {depth:,} columns wide "
                            f"(more than {MAX_COLUMNS}); draw a part of it with --focus NEURON --radius N, use "
                            "--view layer, or --force")
    if view in ("layer", "stage") and max(boxes, depth if view == "stage" else 0) > MAX_BOXES:
        what = f"{boxes:,} nodes" if view == "layer" else f"{depth:,} stages"
        raise DrawError(f"a {view} view of {what} (more than {MAX_BOXES:,}) takes Graphviz minutes and cannot be "
                        "read; use nngraph inspect for the summary, draw --view neuron --focus NEURON for a part, "
                        "or --force")
    return graph, view


def draw(spec, view: str = "auto", *, max_neurons: int = 12, highlight=(), focus=None, radius: int = 1,
         dpi: int = 150, force: bool = False, inputs=None):
    """A ``graphviz.Digraph`` of the network.

    Parameters
    ----------
    spec : Spec, path or text
    view : {"auto", "neuron", "layer", "stage"}
        ``auto``: neuron view while about 2,000 connections or fewer would be drawn, else layer.
    max_neurons : int
        In the neuron view, layers wider than this show their first and last neurons only.
    highlight : iterable of str
        Node or neuron names to emphasise.
    focus, radius :
        Neuron view of only the neurons within ``radius`` connections of ``focus``.
    inputs : array or dict, optional
        One input sample: in the neuron view, neurons coloured by activation and connections by the
        signal they carried; in the layer and stage views, a cell per neuron under each box (min,
        mean and max for boxes wider than 32 neurons).

    Raises
    ------
    DrawError, SpecError
    """
    graph, view = prepare(spec, "neuron" if inputs is not None and view == "auto" else view, max_neurons, force,
                          focus)
    return _to_graphviz(graph, view, max_neurons, highlight, focus, radius, dpi, inputs)


def _neuron_scene(graph, max_neurons, highlight, focus, radius, inputs=None):
    values, known = _values(graph)
    signal = None
    if inputs is not None:  # the weights the activations were computed with, all of them
        values, signal = activations(graph, inputs, known)
        known = set(values)
    return neuron_scene(graph, values, known, max_neurons=max_neurons, highlight=highlight, focus=focus,
                        radius=radius, signal=signal)


def activations(graph, inputs, known=None):
    """The parameters and every neuron's activation for one input sample (dict name -> value(s), or a
    row), refused while a weight is only a random initial value."""
    from ..compile import compile

    if known is None:
        known = _values(graph)[1]
    seeded = lambda init: init is not None and getattr(init, "seed", None) is not None  # noqa: E731
    unset = [c.key for c in graph.connections if c.key not in known and not seeded(c.init)]
    unset += [f"nodes/{n.name}/bias" for n in graph.nodes if n.role != "input" and n.spec.bias is not None
              and f"nodes/{n.name}/bias" not in known and not seeded(n.spec.bias)]
    if unset:
        raise DrawError(f"colouring by activation needs set weights, and {unset[0]}"
                        + (f" (and {len(unset) - 1} more)" if len(unset) > 1 else "")
                        + " is only initialised: train the network first (nngraph train), or give the values")
    plan = compile(graph, dtype="float64")
    t = plan.trace(inputs)
    if t.values.shape[0] != 1:
        raise DrawError(f"colouring by activation draws one input sample; {t.values.shape[0]} were given "
                        "(pick one with --row)")
    return plan.parameters(), t.values[0]


def _to_graphviz(graph, view, max_neurons, highlight, focus, radius, dpi, inputs=None):
    if view == "neuron":
        return scene_to_dot(_neuron_scene(graph, max_neurons, highlight, focus, radius, inputs), dpi)
    signal = None if inputs is None else activations(graph, inputs)[1]
    if view == "layer":
        return layer_graph(graph, dpi, highlight, signal)
    return stage_graph(_plan(graph), dpi, signal)


def _plan(graph):
    from ..compile import compile

    return compile(graph, use_file=False) if graph.cycle is None else None


def render(spec, output=None, fmt=None, view="auto", max_neurons=12, highlight=(), focus=None, radius=1,
           dpi=150, force=False, inputs=None):
    """Write a diagram; returns (path, notes). The format comes from ``fmt`` or the suffix (svg).
    ``inputs`` (one sample, as for ``plan.forward``): colour neurons by activation and connections
    by the signal they carried, with a colour bar (layer and stage views: activation cells per box)."""
    if fmt is None:
        fmt = Path(output).suffix.lstrip(".").lower() if output and Path(output).suffix else "svg"
    if fmt not in ("svg", "png", "pdf", "dot", "html"):
        raise DrawError(f"cannot write .{fmt}; use .svg, .png, .pdf, .dot or .html")
    if fmt == "html" and view not in ("auto", "neuron"):
        raise DrawError(f"a page (.html) shows the neuron view, not the {view} view")
    graph, view = prepare(spec, "neuron" if (inputs is not None or fmt == "html") and view == "auto" else view,
                          max_neurons, force, focus)
    if output is None:
        src = graph.spec.source
        stem = Path(src.name).stem if src is not None and src.name != "<string>" else graph.spec.name
        output = f"{stem}.{view}.{fmt}"
    output = Path(output)
    notes = []
    if graph.cycle is not None:
        notes.append("note: " + graph.cycle.diagnostics[0].format())
    if fmt == "html":
        return _write_page(graph, output, max_neurons, highlight, focus, radius, inputs), notes
    if view != "neuron" and fmt == "svg" and not has_dot():
        # without Graphviz, lay the overview out in columns ourselves
        signal = None if inputs is None else activations(graph, inputs)[1]
        scene = overview_scene(graph, view, _plan(graph) if view == "stage" else None, signal)
        _write_text(output, scene_to_svg(scene))
        notes.append("Graphviz's dot was not found: wrote SVG with the built-in writer (apt-get install graphviz "
                     "for the Graphviz layout)")
        return output, notes
    if view == "neuron" and fmt == "svg" and not has_dot():
        _write_text(output, scene_to_svg(_neuron_scene(graph, max_neurons, highlight, focus, radius, inputs)))
        notes.append("Graphviz's dot was not found: wrote SVG with the built-in writer")
        return output, notes
    g = _to_graphviz(graph, view, max_neurons, highlight, focus, radius, dpi, inputs)
    if fmt == "dot":
        _write_text(output, g.source)
        return output, notes
    if not has_dot():
        error = DrawError(f"writing {fmt.upper()} needs Graphviz: apt-get install graphviz (or brew install "
                          "graphviz), or write .svg or .dot instead")
        error.exit_code = 2
        raise error
    try:
        data = _pipe(g, fmt, view)
    except DrawError as e:
        if fmt != "svg":
            raise
        # the built-in writer draws the same scene without Graphviz's limits
        if view == "neuron":
            scene = _neuron_scene(graph, max_neurons, highlight, focus, radius, inputs)
        else:
            signal = None if inputs is None else activations(graph, inputs)[1]
            scene = overview_scene(graph, view, _plan(graph) if view == "stage" else None, signal)
        _write_text(output, scene_to_svg(scene))
        notes.append(f"{str(e).split(';')[0]}: wrote SVG with the built-in writer instead")
        return output, notes
    atomic_write(output, lambda f: f.write(data))
    return output, notes


def _write_page(graph, output, max_neurons, highlight, focus, radius, inputs):
    from .page import page

    def scene_for(values, known, signal):
        return neuron_scene(graph, values, known, max_neurons=max_neurons, highlight=highlight, focus=focus,
                            radius=radius, signal=signal)

    if graph.cycle is not None:
        raise DrawError("the network has a cycle, so it has no forward pass to run in a page; draw .svg to see it")
    _write_text(output, page(graph, scene_for, inputs))
    return output


def _pipe(g, fmt, view):
    import graphviz

    try:
        return g.pipe(format=fmt, neato_no_op=2 if view == "neuron" else None, quiet=True)
    except graphviz.CalledProcessError as e:
        from .safe import plain

        detail = plain((e.stderr or b"").decode("utf-8", "replace").strip())[:300]
        raise DrawError(f"Graphviz could not lay out the {view} view ({detail}); write .dot to inspect it, "
                        "or .svg (drawn by the built-in writer when Graphviz fails)") from None
    except OSError as e:  # dot quits before reading all of the graph (e.g. a string over its limits)
        raise DrawError(f"Graphviz stopped reading the {view} view ({e.strerror or e}); it quits on strings over "
                        "its own limits, such as a name or label of tens of thousands of characters: shorten it, "
                        "or write .svg (drawn by the built-in writer when Graphviz fails)") from None


def _write_text(path: Path, text: str):
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


__all__ = ["draw", "render", "has_dot", "SpecError"]
