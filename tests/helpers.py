import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.y*ml")) + sorted((ROOT / "examples").glob("*.json"))
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


class _ExampleCopies:
    """``EX["xor.yaml"]``: a copy of that example (from examples/ or specs/) in a temporary folder
    of the running test's own, without its parameters file. Tests never depend on what training has
    written beside the originals (the README's main job writes specs/mnist_mlp.params.npz), and
    never write there. Each test gets fresh copies; asking twice in a test gives the same path."""

    def __init__(self):
        self.sources = {p.name: p for p in EXAMPLES + SPECS}
        self.folder = None  # set for each test by the autouse fixture in conftest.py

    def __getitem__(self, name) -> Path:
        source = self.sources[name]
        if self.folder is None:
            raise RuntimeError("EX[...] is only available inside a test")
        target = self.folder / source.parent.name / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return target

    def __iter__(self):
        return iter(self.sources)


EX = _ExampleCopies()


@pytest.fixture(autouse=True)
def _example_copies(tmp_path_factory):
    EX.folder = tmp_path_factory.mktemp("examples")  # the test's own, beside its tmp_path (which stays empty)
    yield
    EX.folder = None


def spec_text(body: str) -> str:
    """A spec from an indented literal (tests write specs inline, like users write files)."""
    return textwrap.dedent(body).lstrip("\n")


@pytest.fixture
def write_spec(tmp_path):
    def write(body: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(spec_text(body))
        return path
    return write


def diagnostics_of(fn, *args, **kw):
    """The diagnostics of the SpecError that ``fn(*args, **kw)`` must raise."""
    from nngraph import SpecError

    with pytest.raises(SpecError) as info:
        fn(*args, **kw)
    return info.value.diagnostics


def only_diagnostic(fn, *args, **kw):
    found = diagnostics_of(fn, *args, **kw)
    assert len(found) == 1, found
    return found[0]


# a small network to train (xor data, 2 epochs), its parameters in p.npz beside it
XOR_TRAIN = """\
nngraph: 1
name: xor
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 3, activation: tanh}
  - {name: y, role: output, activation: sigmoid}
edges:
  - {from: x, to: h, init: he_normal}
  - {from: h, to: y, init: xavier_uniform}
parameters: p.npz
data: {source: xor}
train: {loss: binary_cross_entropy, optimizer: {name: adam, learning_rate: 0.05}, batch_size: 4, epochs: 2}
"""

# the xor network reading its rows from d.csv beside it (columns x1, x2, label)
XOR_CSV = """\
nngraph: 1
name: xorcsv
nodes:
  - {name: x, role: input, size: 2}
  - {name: h, size: 2, activation: tanh}
  - {name: y, role: output, activation: sigmoid}
edges:
  - {from: x, to: h, init: normal}
  - {from: h, to: y, init: normal}
data: {source: csv, path: d.csv, target: label}
train: {loss: binary_cross_entropy, epochs: 3}
"""

# six inputs, a skip connection: the network the streaming and cluster tests score
SMALL_SCORER = spec_text("""
    nngraph: 1
    name: small
    nodes:
      - {name: x, role: input, size: 6}
      - {name: h, size: 5, activation: relu}
      - {name: y, role: output, size: 2}
    edges:
      - {from: x, to: h, init: he_normal}
      - {from: h, to: y, init: he_normal}
      - {from: x, to: y, init: normal}
    train: {loss: mse, seed: 1}
""")


def cli(*args):
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from nngraph.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr
