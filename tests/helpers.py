import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.y*ml")) + sorted((ROOT / "examples").glob("*.json"))
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


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
