"""Mistakes a newcomer makes first, each answered with where and what would work: a misspelt file
name (did you mean), a tab in YAML indentation, a '{' never closed, and an input given by one label
when the node has more."""
import pytest

from helpers import EX, cli


def test_a_misspelt_spec_or_inputs_file_gets_a_did_you_mean(tmp_path):
    spec = EX["xor.yaml"]
    for typo in ("xor.yml", "Xor.yaml", "xorr.yaml"):
        code, _, err = cli("validate", spec.parent / typo)
        assert code == 1 and err.strip() == f"{spec.parent / typo}: no such file (did you mean '{spec}'?)", err
    code, _, err = cli("validate", spec.parent / "perceptron.yaml")  # nothing close: nothing suggested
    assert err.strip() == f"{spec.parent / 'perceptron.yaml'}: no such file"
    (tmp_path / "inputs.csv").write_text("a,b\n1,0\n")
    code, _, err = cli("run", spec, "--inputs", tmp_path / "input.csv")
    assert code == 1 and err.strip() == f"error: {tmp_path / 'input.csv'}: no such file (did you mean " \
                                        f"'{tmp_path / 'inputs.csv'}'?)"


@pytest.mark.parametrize("text, message", [
    ("nngraph: 1\nname: t\nnodes:\n\t- {name: x, role: input}\n",
     "t.yaml:4:1: invalid YAML: found character that cannot start any token (while scanning for the next token); "
     "YAML indents with spaces, not tabs: replace the tab with spaces"),
    ("nngraph: 1\nname: t\nnodes:\n  - {name: x, role: input\n  - {name: y, role: output}\n",
     "t.yaml:5:5: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping); "
     "the '{' opened at line 4, column 5 is not closed"),
], ids=["tab", "unclosed"])
def test_yaml_slips_say_what_to_change(tmp_path, text, message):
    (tmp_path / "t.yaml").write_text(text)
    code, _, err = cli("validate", tmp_path / "t.yaml")
    assert code == 1 and err.strip() == f"{tmp_path}/{message}", err


def test_an_input_given_by_some_of_its_labels_names_the_missing_ones():
    code, _, err = cli("run", EX["xor.yaml"], "--input", "a=1")
    assert code == 2 and err.strip().endswith("\nError: missing --input for b"), err  # a usage error


def test_a_download_on_a_machine_offline_says_so(tmp_path, monkeypatch):
    import errno
    import socket
    import urllib.error
    import urllib.request

    from nngraph import DataError
    from nngraph.data.download import download

    for reason in (socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
                   OSError(errno.ENETUNREACH, "Network is unreachable")):
        def offline(*a, **k):
            raise urllib.error.URLError(reason)  # what urlopen raises with no network (nothing is sent)

        monkeypatch.setattr(urllib.request, "urlopen", offline)
        with pytest.raises(DataError) as info:
            download("mnist", tmp_path / "data", base_url="http://127.0.0.1:9/", files={"f.gz": "0" * 32},
                     sizes={"f.gz": 10}, timeout=1)
        assert str(info.value) == (f"cannot download http://127.0.0.1:9/f.gz: the host cannot be reached "
                                   f"({reason.strerror}); is this machine offline?")
