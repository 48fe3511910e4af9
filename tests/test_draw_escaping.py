"""User strings in diagrams are text, never markup: hostile labels through every view and format."""
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from nngraph import draw as drawmod
from nngraph.draw import render
from nngraph.draw.safe import dot, js, plain, xml

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
PNG_1x1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154"
                        "789c6360f8cfc0f01f0005000201a5f1d6c20000000049454e44ae426082")


def hostile(tmp_path):
    (tmp_path / "pixel.png").write_bytes(PNG_1x1)
    return [
        '<<TABLE HREF="javascript:alert(1)"><TR><TD>x</TD></TR></TABLE>>',
        f'<IMG SRC="{tmp_path / "pixel.png"}"/>',
        "<script>alert('x')</script>",
        "ends in a backslash \\",
        "\\N \\G \\l \\\" quote\" &amp; &#60; ]]>",
        "\x1b[2J\x1b]0;title\x07 \x00 nul \u202e rtl",
        '"><a href="javascript:alert(2)">x</a>',
        "zero\u200bwidth, line\u2028separator",  # (a lone surrogate is refused at load: tests/test_spec_text.py)
    ]


def _spec(tmp_path, labels):
    spec = {"nngraph": 1, "name": "hostile", "nodes": [
        {"name": "x", "role": "input", "size": len(labels), "labels": labels},
        {"name": "h", "size": len(labels), "labels": labels, "bias": 0.5},
        {"name": "y", "role": "output", "size": len(labels), "labels": labels, "bias": 0}],
        "edges": [{"from": "x", "to": "h", "init": {"name": "constant", "value": 1}},
                  {"from": "h", "to": "y", "init": {"name": "constant", "value": -1}}]}
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(spec))
    return path


def _assert_no_markup(svg_text, labels, expect_labels):
    root = ET.fromstring(svg_text)  # parses: no control character, no broken quoting
    tags = {el.tag.split("}")[-1] for el in root.iter()}
    assert not tags & {"image", "script", "foreignObject", "iframe"}, tags
    for el in root.iter():
        for k, v in el.attrib.items():
            if k.endswith("href"):
                raise AssertionError(f"a link in the diagram: {k}={v!r}")
    texts = " ".join(t for el in root.iter() for t in [el.text, *el.attrib.values()] if t)
    if expect_labels:
        for label in labels:
            assert plain(label) in texts, label


@pytest.mark.parametrize("view", ["neuron", "layer", "stage"])
@pytest.mark.parametrize("writer", ["graphviz", "builtin"])
def test_hostile_labels_are_text_in_svg(tmp_path, view, writer, monkeypatch):
    if writer == "graphviz" and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    if writer == "builtin":
        monkeypatch.setattr(drawmod, "has_dot", lambda: False)
    labels = hostile(tmp_path)
    out, _ = render(_spec(tmp_path, labels), tmp_path / "d.svg", view=view)
    _assert_no_markup(out.read_text(encoding="utf-8"), labels, expect_labels=view == "neuron")


@needs_dot
@pytest.mark.parametrize("view", ["neuron", "layer", "stage"])
def test_hostile_labels_in_dot_png_pdf(tmp_path, view):
    labels = hostile(tmp_path)
    spec = _spec(tmp_path, labels)
    out, _ = render(spec, tmp_path / "d.dot", view=view)
    # the DOT file itself is valid and still shows the labels as text when laid out
    args = ["dot", "-Kneato", "-n2"] if view == "neuron" else ["dot"]
    svg = subprocess.run(args + ["-Tsvg", str(out)], capture_output=True, check=True, text=True).stdout
    _assert_no_markup(svg, labels, expect_labels=view == "neuron")
    for fmt, magic in (("png", b"\x89PNG"), ("pdf", b"%PDF")):
        out, _ = render(spec, tmp_path / f"d.{fmt}", view=view)
        assert out.read_bytes().startswith(magic)


def test_escapers_cover_each_destination():
    assert plain("a\x1b[2Jb\x00\u202e") == "a\u241b[2Jb\u2400\ufffd"
    assert plain("lone \ud800") == xml("lone \ud800") == "lone \ufffd"  # never written, even if one got this far
    assert xml('<a href="j">&\'') == "&lt;a href=&quot;j&quot;&gt;&amp;&#39;"
    assert dot("<b>x</b>\\") == "<b>x</b>\\\\" and type(dot("<b>")).__name__ == "NoHtml"
    assert dot("&#60;") == "&amp;#60;"
    text = js({"label": "</script><!-- \u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"label": "</script><!-- \u2028"}
