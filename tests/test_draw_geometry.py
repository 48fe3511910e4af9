"""The neuron view tells the truth by geometry: on random irregular specs no connection crosses a
neuron it does not touch, no two connections coincide, and every connection has an arrowhead."""
import json
import math
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from nngraph import draw as drawmod
from nngraph.draw import render

from randomnets import random_spec

SVG = "{http://www.w3.org/2000/svg}"


def _numbers(text):
    vals = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]
    return list(zip(vals[::2], vals[1::2]))


def _shapes(root):
    """Neurons {id: (x, y, r)} and connections [(from id, to id, polyline, arrowhead)] of either writer."""
    circles, edges = {}, []
    for g in root.iter(SVG + "g"):
        cls = g.get("class")
        if cls == "node":
            circle = g.find(f".//{SVG}circle")
            shape = circle if circle is not None else g.find(f".//{SVG}ellipse")
            if shape is None:
                continue  # a text or colour-bar node of the Graphviz writer
            ident = g.get("id") if circle is not None else g.find(SVG + "title").text
            r = float(shape.get("r") or shape.get("rx"))
            circles[ident] = (float(shape.get("cx")), float(shape.get("cy")), r)
        elif cls == "edge":
            if g.get("data-from"):
                a, b = g.get("data-from"), g.get("data-to")
                body = _numbers(g.find(SVG + "polyline").get("points"))
            else:
                a, b = g.find(SVG + "title").text.replace("&#45;", "-").split("->")
                body = _numbers(g.find(f".//{SVG}path").get("d"))
            head = g.find(f".//{SVG}polygon")
            edges.append((a, b, body, _numbers(head.get("points")) if head is not None else None))
    return circles, edges


def _dist(p, a, b):
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _overlap(s, t):
    """Length two segments share when they lie on one line (0 otherwise)."""
    (a, b), (c, d) = s, t
    ux, uy = b[0] - a[0], b[1] - a[1]
    n = math.hypot(ux, uy)
    if n < 1e-9:
        return 0.0
    ux, uy = ux / n, uy / n
    off = lambda p: abs((p[0] - a[0]) * uy - (p[1] - a[1]) * ux)  # noqa: E731
    if off(c) > 0.05 or off(d) > 0.05:
        return 0.0
    proj = sorted(((p[0] - a[0]) * ux + (p[1] - a[1]) * uy) for p in (c, d))
    return max(0.0, min(n, proj[1]) - max(0.0, proj[0]))


def check_geometry(svg_text):
    circles, edges = _shapes(ET.fromstring(svg_text))
    assert circles and edges
    for a, b, body, head in edges:
        assert head is not None and len(head) >= 3, f"{a}->{b} has no arrowhead"
        segments = list(zip(body, body[1:])) + list(zip(head, head[1:] + head[:1]))
        for ident, (x, y, r) in circles.items():
            if ident in (a, b):
                continue
            for s in segments:
                assert _dist((x, y), *s) > r - 0.5, f"{a}->{b} crosses neuron {ident}"
    segs = [(k, s) for k, (_, _, body, _) in enumerate(edges) for s in zip(body, body[1:])]
    for i, (k, s) in enumerate(segs):
        for m, t in segs[i + 1:]:
            if k != m:
                assert _overlap(s, t) < 1.0, f"{edges[k][:2]} and {edges[m][:2]} coincide"
    return edges


def _write(tmp_path, seed):
    path = tmp_path / f"r{seed}.json"
    path.write_text(json.dumps(random_spec(seed, max_hidden=6, max_size=4)))
    return path


def test_skip_connections_go_around_neurons(tmp_path, monkeypatch):
    monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    skipping = 0
    for seed in range(40):
        out, _ = render(_write(tmp_path, seed), tmp_path / "n.svg", view="neuron")
        edges = check_geometry(out.read_text(encoding="utf-8"))
        skipping += sum(len(body) > 2 for _, _, body, _ in edges)
    assert skipping > 20  # the random specs did have connections that skip columns


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_graphviz_keeps_the_routes(tmp_path):
    for seed in range(6):
        out, _ = render(_write(tmp_path, seed), tmp_path / "n.svg", view="neuron")
        check_geometry(out.read_text(encoding="utf-8"))
