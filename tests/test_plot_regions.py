"""Decision regions of two-input networks: the grid holds plan.forward's values, a single neuron
gets its boundary line, data is scattered, and other networks are refused with the reason."""
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from nngraph.cli import main
from nngraph.compile import compile
from nngraph.errors import DrawError
from nngraph.plot import regions

from helpers import EX

pytest.importorskip("matplotlib")


def test_perceptron_regions_and_boundary_line(tmp_path):
    out = tmp_path / "p.png"
    r = regions(EX["perceptron.yaml"], out, resolution=50)
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert r["line"] == (3.0, 4.0, -24.0)  # 3·sleep + 4·study - 24 = 0, the book's Figure 1-4
    plan = compile(EX["perceptron.yaml"])
    for i, j in ((0, 0), (10, 40), (49, 49), (25, 3)):
        x = np.array([[r["xs"][j], r["ys"][i]]], dtype=np.float32)
        assert r["values"][i, j] == plan.forward(x)[0, 0]
    assert r["xs"][-1] > 8 and r["ys"][-1] > 6  # the boundary's intercepts are in view


def test_data_is_scattered_and_several_outputs_give_classes(tmp_path):
    r = regions(EX["xor_train.yaml"], tmp_path / "x.svg", resolution=20)
    assert r["line"] is None and r["xs"][0] < 0 < 1 < r["xs"][-1]  # the xor points, with a margin
    text = (tmp_path / "x.svg").read_text()
    assert "target 0" in text and "target 1" in text
    spec = tmp_path / "two.yaml"
    spec.write_text("nngraph: 1\nname: two\nnodes:\n  - {name: x, role: input, size: 2}\n"
                    "  - {name: y, role: output, size: 2, activation: softmax}\n"
                    "edges:\n  - {from: x, to: y, weights: [[1, -1], [0, 0]]}\n")
    r = regions(spec, tmp_path / "t.png", resolution=11, xlim=(-1, 1), ylim=(-1, 1))
    assert r["values"][:, 0].tolist() == [1] * 11 and r["values"][:, -1].tolist() == [0] * 11


def test_regions_need_two_inputs(tmp_path):
    with pytest.raises(DrawError, match=r"exactly 2 inputs; irregular has 3"):
        regions(EX["irregular.yaml"], tmp_path / "i.png")
    result = CliRunner().invoke(main, ["plot", "regions", str(EX["perceptron.yaml"]), "--resolution", "5000"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["plot", "regions", str(EX["perceptron.yaml"]), "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 0 and (tmp_path / "p.png").exists()


def test_importing_the_plot_module_does_not_import_matplotlib():
    code = "import sys, nngraph.plot, nngraph.cli; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_regions_plot_of_a_dense_network_imports_neither_pyplot_nor_scipy(tmp_path):
    """In a fresh process most of `nngraph plot regions` is imports: pyplot (a backend to select, a
    module of wrappers) is not needed to draw into a file, nor scipy for a plan without sparse blocks."""
    code = ("import sys; from nngraph.plot import regions; regions(sys.argv[1], sys.argv[2], resolution=20); "
            "import nngraph.compile; nngraph.compile.compile(sys.argv[1]).forward([[1, 2]]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy' or m == 'matplotlib.pyplot'))")
    out = subprocess.run([sys.executable, "-c", code, str(EX["perceptron.yaml"]), str(tmp_path / "p.png")],
                         check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.strip() == "[]" and (tmp_path / "p.png").stat().st_size > 1000


# -- regions while training ----------------------------------------------------------------------


def _frames(path):
    from PIL import Image

    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB"), dtype=int))
    return out


def _plot_area(frame):
    """The heatmap without the title (which names the epoch and would differ anyway)."""
    h, w, _ = frame.shape
    return frame[h // 8:h * 7 // 8, w // 8:w * 3 // 4]


def test_training_draws_a_frame_every_n_epochs_into_a_gif(tmp_path):
    from nngraph.plot import RegionFrames
    from nngraph.training import train

    frames = RegionFrames(tmp_path / "xor.gif", every=10, resolution=30)
    plan, history = train(EX["xor_train.yaml"], epochs=30, callbacks=frames)
    assert frames.close() == [tmp_path / "xor.gif"]
    shown = _frames(tmp_path / "xor.gif")
    assert len(shown) == 4  # the initial weights, then epochs 10, 20 and 30
    areas = [_plot_area(f) for f in shown]
    assert all(np.abs(a - b).sum() > 0 for a, b in zip(areas, areas[1:]))  # the regions moved every time
    r = regions(EX["xor_train.yaml"], tmp_path / "after.png", resolution=30)  # not yet saved: still initial
    assert r["values"].shape == (30, 30)


def test_cli_regions_frames_as_pngs_and_refusals(tmp_path):
    spec = EX["xor_train.yaml"]
    result = CliRunner().invoke(main, ["train", str(spec), "--epochs", "3", "--no-save", "--regions",
                                       str(tmp_path / "f.png"), "--regions-every", "2"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("f-epoch*.png"))
    assert names == ["f-epoch0000.png", "f-epoch0002.png", "f-epoch0003.png"]  # start, every 2nd, and the last
    first, last = (_frames(tmp_path / n)[0] for n in (names[0], names[-1]))
    assert np.abs(_plot_area(first) - _plot_area(last)).sum() > 0
    result = CliRunner().invoke(main, ["train", str(spec), "--regions-every", "2"])
    assert result.exit_code == 2 and "add --regions FILE.gif" in result.output
    result = CliRunner().invoke(main, ["train", str(spec), "--regions", str(tmp_path / "f.mp4")])
    assert result.exit_code != 0 and "write a .gif" in result.output
    from nngraph.plot import RegionFrames

    with pytest.raises(DrawError, match=r"exactly 2 inputs; irregular has 3 \(x\[0\], x\[1\], x\[2\]\)"):
        RegionFrames(tmp_path / "t.gif").begin(compile(EX["irregular.yaml"]), 10)


def test_too_many_frames_are_refused_before_training(tmp_path):
    from nngraph.errors import DrawError
    from nngraph.plot import RegionFrames
    from nngraph.training import train

    frames = RegionFrames(tmp_path / "x.gif", every=1, resolution=10)
    with pytest.raises(DrawError, match=r"--regions-every 1 over 600 epochs makes 602 frames \(at most 500\): "
                                        r"use --regions-every 2 or more"):
        train(EX["xor_train.yaml"], epochs=600, callbacks=frames)
    frames.close()
    assert not (tmp_path / "x.gif").exists()


def test_labels_are_text_not_mathtext(tmp_path):
    """Matplotlib reads $...$ as math: a label like $\\bogus{$ stopped the plot with a parse error."""
    spec = tmp_path / "h.yaml"
    spec.write_text('nngraph: 1\nname: h\nnodes:\n  - {name: x, role: input, size: 2, labels: ["$\\\\bogus{$", '
                    '"b\\u001b[2J"]}\n  - {name: y, role: output, activation: sigmoid, bias: 0, labels: ["$\\\\x$"]}\n'
                    'edges:\n  - {from: x, to: y, weights: [[1], [2]]}\n')
    for suffix in ("png", "svg"):
        regions(spec, tmp_path / f"h.{suffix}", resolution=10)
        assert (tmp_path / f"h.{suffix}").stat().st_size > 1000
    from nngraph.plot import text

    assert text("$\\bogus{$ \x1b[2J") == "\\$\\bogus{\\$ \u241b[2J"


def test_a_resumed_run_starts_its_frames_at_the_resumed_epoch(tmp_path, monkeypatch):
    """The first frame shows the weights training starts from: after --resume, those of the
    checkpoint's epoch, titled with that epoch and its loss (not "epoch 0")."""
    from nngraph.plot import RegionFigure

    titles = []
    show = RegionFigure.show
    monkeypatch.setattr(RegionFigure, "show", lambda self, values, title: titles.append(title) or show(self, values, title))
    spec = tmp_path / "xor.yaml"
    spec.write_text(EX["xor_train.yaml"].read_text().replace("train: {", "train: {checkpoint: {every: 1}, "))
    args = ["train", str(spec), "--no-save", "--regions-every", "1", "--json"]
    result = CliRunner().invoke(main, args + ["--epochs", "2", "--regions", str(tmp_path / "a.png")])
    assert result.exit_code == 0, result.output
    loss = json.loads(result.stdout)["history"][-1]["loss"]
    titles.clear()
    result = CliRunner().invoke(main, args + ["--epochs", "4", "--resume", "--regions", str(tmp_path / "b.png")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("b-epoch*.png")) == ["b-epoch0002.png", "b-epoch0003.png",
                                                                     "b-epoch0004.png"]
    assert titles[0] == f"xor-trained: epoch 2, loss {loss:.4f}" and titles[1].startswith("xor-trained: epoch 3, loss")
