"""The shapes a diagram is made of, with coordinates in points (y grows downwards)."""
from __future__ import annotations

from dataclasses import dataclass, field

POS, NEG, GREY = "#2166ac", "#c0392b", "#9e9e9e"
ROW, R = 34.0, 12.0  # points between neuron rows; circle radius
FILL = {"input": "#eef2f7", "hidden": "#ffffff", "output": "#fff4d6"}


@dataclass
class Circle:
    id: str
    x: float
    y: float
    label: str
    tooltip: str
    fill: str
    stroke: str = "#333333"
    width: float = 1.0


@dataclass
class Line:
    """A connection drawn as a polyline ``pts`` from neuron ``a`` to ``b`` (arrowhead at the end)."""
    a: str
    b: str
    pts: list
    color: str
    width: float
    opacity: float
    tooltip: str
    dashed: bool = False
    label: str = ""  # the weight, printed on small networks
    weight: float | None = None


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float = 10.0
    anchor: str = "middle"  # start | middle | end
    color: str = "#333333"
    bold: bool = False
    halo: bool = False  # a white outline, for numbers drawn over lines
    id: str = ""


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass
class Scene:
    width: float
    height: float
    circles: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    rects: list = field(default_factory=list)
    title: str = ""
    weights_total: int = 0
    weights_drawn: int = 0
