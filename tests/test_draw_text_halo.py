"""Every caption of the SVG/HTML neuron view has a white outline under its letters, so an arrow
passing under a weight label or a node caption does not strike it through."""
import re

from click.testing import CliRunner

from nngraph.cli import main

from helpers import EX


def test_every_caption_and_label_has_a_halo(tmp_path):
    out = tmp_path / "x.html"
    result = CliRunner().invoke(main, ["draw", str(EX["xor.yaml"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    texts = re.findall(r"<text [^>]*>", page.split('<g class="texts">', 1)[1])
    assert len(texts) > 10
    assert all('stroke="white"' in t and 'paint-order="stroke"' in t for t in texts), texts
