"""What each mark of the neuron view means: colours for values, the legend and the colour bar."""
from __future__ import annotations

import numpy as np

from .shapes import Rect, Text

VALUE_LABELS = 60  # print weights on the connections of networks up to this many drawn connections
_WHITE, _BLUE, _RED = np.array([255, 255, 255]), np.array([67, 147, 195]), np.array([214, 96, 77])


def size_caption(node, count=None) -> str:
    """'256 × relu' for a computed node, '784 inputs' or '1 input' for an input (it has no activation);
    ``count``: how many of the node's neurons (a part of a node), all of them when None."""
    count = node.size if count is None else count
    if node.role == "input":
        return f"{count:,} input{'' if count == 1 else 's'}"
    return f"{count:,} × {node.activation[0]}"


def signal_scale(values) -> float:
    top = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return top if top > 0 and np.isfinite(top) else 1.0


def signal_colour(v: float, scale: float) -> str:
    """White at 0, blue for positive, red for negative values, full at ``±scale``."""
    t = max(-1.0, min(1.0, v / scale)) if np.isfinite(v) else 0.0
    rgb = _WHITE + abs(t) * ((_BLUE if t >= 0 else _RED) - _WHITE)
    return "#" + "".join(f"{int(round(c)):02x}" for c in rgb)


def legend(graph, scene, max_neurons, focus, known, signal, labelled, act_scale=1.0):
    """Lines under the drawing that say what every mark means (and a colour bar for activations)."""
    from .scene import _fmt

    lines = [f"drawn: {scene.weights_drawn:,} of {scene.weights_total:,} weights"
             + (f" (layers wider than {max_neurons} neurons collapsed)"
                if scene.weights_drawn < scene.weights_total and focus is None else "")]
    if signal is not None:
        lines.append("circle: a neuron, filled by its activation for this input (colour bar); the number inside "
                     "is the activation")
        lines.append("arrow: a connection, source to target; colour and width: the signal it carried, weight × "
                     "source activation (blue positive, red negative)" + ("; number on it: the weight" if labelled
                                                                           else ""))
    else:
        computed = [n for n in graph.nodes if n.role != "input"]
        biases = [f"nodes/{n.name}/bias" in known for n in computed]
        default = any(n.spec.bias is None for n in computed)
        lines.append("circle: a neuron (input, hidden, output); " + (
            "the number inside is its bias b" + (" (0 where the spec gives none)" if default else "")
            + ("" if all(biases) else "; empty: bias not trained yet") if any(biases)
            else "biases not trained yet (training starts from the spec's bias init)"))
        weights = [c.key in known for c in graph.connections]
        not_yet = "not trained yet (training starts from the spec's init)" if graph.spec.train is not None \
            else "not given (no weight, weights or init, and no parameters file)"
        lines.append("arrow: a connection, source to target; blue positive weight, red negative, grey zero; width "
                     "and opacity show |w| within each weight matrix" + ("; the number on it is the weight"
                                                                         if labelled else "")
                     + ("" if all(weights) else f"; grey without a number: weights {not_yet}")
                     if any(weights) else f"weights {not_yet}: drawn in grey")
    cycle = None
    if graph.cycle is not None:
        names = graph.cycle.cycle_neurons
        cycle = "not feed-forward: the cycle " + " -> ".join(names + names[:1]) + " is drawn in red"
        lines.append(cycle)
    bottom = max([c.y for c in scene.circles] + [p[1] for e in scene.lines for p in e.pts], default=0.0) + 40
    for k, text in enumerate(lines):
        scene.texts.append(Text(scene.width / 2, bottom + 16 * k, text, 9.5, "middle",
                                "#d62728" if text is cycle else "#555555"))
    if signal is not None:
        colour_bar(scene, scene.width / 2, bottom + 16 * len(lines) + 8, act_scale, _fmt)


def colour_bar(scene, cx, y, scale, fmt, n=21, w=8.0, h=10.0):
    x0 = cx - n * w / 2
    for k in range(n):
        v = scale * (2 * k / (n - 1) - 1)
        scene.rects.append(Rect(x0 + k * w, y, w, h, signal_colour(v, scale)))
    scene.texts.append(Text(x0 - 4, y + h - 1.5, fmt(-scale), 8.5, "end", id="bar-lo"))
    scene.texts.append(Text(x0 + n * w + 4, y + h - 1.5, fmt(scale), 8.5, "start", id="bar-hi"))
    scene.texts.append(Text(cx, y + h + 11, "activation", 8.5, color="#555555"))
