"""Where connections run in the neuron view, and where their weight labels sit.

A connection between neighbouring columns is a straight line in the gap between them, which
holds no neuron. A connection that skips columns would cross the neurons in between, so it
passes each skipped column horizontally through a free lane (a height where no neuron, caption
or other lane is) and runs straight between columns: it never crosses a neuron it does not touch,
and no two connections share a lane.
"""
from __future__ import annotations

import bisect

from .shapes import R, Text

LANE = 5.0  # half the height a lane keeps free around itself (lines are up to 3 pt wide)
LABEL = 8.0  # font size of weight labels


class Lanes:
    """The blocked heights of one column: sorted, disjoint ``[lo, hi]`` intervals."""

    def __init__(self):
        self.lo, self.hi = [], []

    def block(self, lo: float, hi: float):
        k = bisect.bisect_left(self.hi, lo)
        while k < len(self.lo) and self.lo[k] <= hi:  # merge every interval that overlaps
            lo, hi = min(lo, self.lo[k]), max(hi, self.hi[k])
            del self.lo[k], self.hi[k]
        self.lo.insert(k, lo)
        self.hi.insert(k, hi)

    def take(self, want: float) -> float:
        """The free height nearest ``want``, now blocked for any other lane."""
        k = bisect.bisect_left(self.hi, want)
        if k < len(self.lo) and self.lo[k] < want < self.hi[k]:
            below, above = self.lo[k] - 0.01, self.hi[k] + 0.01
            want = below if want - below <= above - want else above
        self.block(want - LANE, want + LANE)
        return want


class Router:
    def __init__(self, col_x, lanes, col_of, pos):
        self.col_x, self.lanes, self.col_of, self.pos = col_x, lanes, col_of, pos

    def route(self, a: int, b: int) -> list:
        (x1, y1), (x2, y2) = self.pos[a], self.pos[b]
        ca, cb = self.col_of[a], self.col_of[b]
        pts = [(x1 + R, y1)]
        for k in range(ca + 1, cb):  # only a connection that skips columns has any
            t = (self.col_x[k] - x1) / (x2 - x1)
            y = self.lanes[k].take(y1 + t * (y2 - y1))
            pts += [(self.col_x[k] - R - 2, y), (self.col_x[k] + R + 2, y)]
        return pts + [(x2 - R, y2)]


def label_lines(scene):
    """Print each connection's weight on it, where it overlaps no other label and no neuron."""
    taken = [(c.x - R, c.y - R, c.x + R, c.y + R) for c in scene.circles]
    for line in scene.lines:
        if not line.label:
            continue
        (xa, ya), (xb, yb) = line.pts[0], line.pts[1]
        w, h = len(line.label) * LABEL * 0.6 + 2, LABEL + 2
        best = None
        for t in (0.5, 0.35, 0.65, 0.25, 0.75, 0.45, 0.55, 0.15, 0.85):
            x, y = xa + t * (xb - xa), ya + t * (yb - ya)
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            if not any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in taken):
                best = (x, y, box)
                break
        if best is None:
            x, y = xa + 0.5 * (xb - xa), ya + 0.5 * (yb - ya)
            best = (x, y, (x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        x, y, box = best
        taken.append(box)
        scene.texts.append(Text(x, y + LABEL * 0.35, line.label, LABEL, color=line.color, halo=True))


def _extent(t):
    w = len(t.text) * t.size * 0.55
    left = t.x - (w / 2 if t.anchor == "middle" else w if t.anchor == "end" else 0)
    return left, left + w


def fit(scene, margin: float = 10.0):
    """Grow the canvas (shifting everything) so every lane and text is inside it."""
    xs = [x for t in scene.texts for x in _extent(t)] + [c.x + s * R for c in scene.circles for s in (-1, 1)]
    ys = [p[1] for e in scene.lines for p in e.pts] + [t.y - t.size for t in scene.texts] + [t.y + 4 for t in scene.texts]
    dx = max(0.0, margin - min(xs, default=margin))
    dy = max(0.0, margin - min(ys, default=margin))
    if dx or dy:
        for item in scene.circles + scene.texts + scene.rects:
            item.x += dx
            item.y += dy
        for e in scene.lines:
            e.pts = [(x + dx, y + dy) for x, y in e.pts]
    scene.width = max(scene.width + dx, max(xs, default=0.0) + dx + margin)
    scene.height = max(scene.height + dy, max(ys, default=0.0) + dy + margin)
