"""A failed download removes the folders it made (only those, and only when empty); folders that
were there before, and files already checked, stay. Only 127.0.0.1 is contacted."""
import socket

import pytest

from nngraph import DataError
from nngraph.data import download

from helpers import cli


def _closed_port() -> str:
    with socket.socket() as s:  # bound then closed: nothing listens there, the connection is refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_failed_download_removes_the_folders_it_made(tmp_path):
    with pytest.raises(DataError, match="cannot download http://127.0.0.1"):
        download("mnist", tmp_path / "new" / "deeper", base_url=_closed_port(), timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_folders_that_were_there_and_their_files_stay(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "mine.txt").write_text("x")
    with pytest.raises(DataError):
        download("mnist", tmp_path, base_url=_closed_port(), timeout=5)
    assert [p.name for p in (tmp_path / "mnist").iterdir()] == ["mine.txt"]
    (tmp_path / "mnist" / "mine.txt").unlink()
    with pytest.raises(DataError):
        download("mnist", tmp_path, base_url=_closed_port(), timeout=5)
    assert (tmp_path / "mnist").is_dir()  # there before: not ours to remove


def test_cli_with_nngraph_data_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRAPH_DATA", str(tmp_path / "d"))
    code, out, err = cli("data", "download", "mnist", "--timeout", "5", "--url", _closed_port())
    assert code == 1 and "cannot download" in err
    assert not (tmp_path / "d").exists()
