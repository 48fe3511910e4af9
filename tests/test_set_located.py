"""A mistake made with --set is the option's: it is reported at the --set option that made it (named
by its text, so the failing one of several is plain), with the spec path and what would be valid,
wherever it is found (while the value is applied, by the graph's checks, by training's checks);
never at the spec file's line that the override replaced."""
import pytest

import nngraph
from nngraph.graph import build
from nngraph.spec import located_at_options, with_overrides

from helpers import EX, cli


def _err(*args):
    code, _, err = cli(*args)
    assert code == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("sets, expected", [
    # found by the graph's checks after the value was applied: once reported at the file's line 10
    (["edges.0.to=nothere"], "--set edges.0.to=nothere: edges[0].to: unknown node 'nothere'; nodes are: x, hidden, out"),
    # several options: the failing one is named, with a did-you-mean
    (["train.epochs=3", "edges.1.from=hiden", "train.seed=2"],
     "--set edges.1.from=hiden: edges[1].from: unknown node 'hiden' (did you mean 'hidden'?); nodes are: x, hidden, out"),
    (["train.epochs=3", "train.optimizer.learnig_rate=0.1"],
     "--set train.optimizer.learnig_rate=0.1: train.optimizer.learnig_rate: unknown key 'learnig_rate' "
     "(did you mean 'learning_rate'?)"),
    (["nodes.0.labels=[a]"], "--set nodes.0.labels=[a]: nodes[0].labels: 1 labels for a node of size 2"),
    # training's checks on the spec the override made
    (["nodes.2.activation=relu"], "--set nodes.2.activation=relu: nodes[2].activation: loss binary_cross_entropy needs "
                                  "sigmoid outputs"),
    # a list entry that is not there, or named instead of numbered
    (["nodes.9.dropout=0.5"], "--set nodes.9.dropout=0.5: nodes.9.dropout: 'nodes' has 3 entries, numbered 0 to 2"),
    (["nodes.hidden.dropout=0.5"], "--set nodes.hidden.dropout=0.5: nodes.hidden.dropout: 'nodes' is a list: give an "
                                   "entry's number, not a name: 'hidden' is nodes.1"),
    (["train.epochs"], "--set train.epochs: write key.path=value"),
    # digits that are not ASCII are no index: int() refuses '²' and reads '١' as 1
    (["nodes.².bias=1"], "--set nodes.².bias=1: nodes.².bias: 'nodes' is a list: give an entry's number"),
    (["nodes.١.bias=1"], "--set nodes.١.bias=1: nodes.١.bias: 'nodes' is a list: give an entry's number"),
    # a key deeper than any spec path, shown shortened
    ([".".join(["a"] * 1000) + "=1"], "--set " + ("a." * 60)[:117] + "...=1: a key of 1,000 parts; spec paths are "
                                      "at most 64 deep"),
], ids=lambda v: v[:40] if isinstance(v, str) else " ".join(v)[:40])
def test_a_bad_override_is_reported_at_its_option(sets, expected):
    spec = EX["xor_train.yaml"]
    err = _err("train", spec, "--no-save", *[a for s in sets for a in ("--set", s)])
    assert any(line.startswith(expected) for line in err.splitlines()), err
    assert "xor_train.yaml" not in err  # not at the file's line the value replaced


def test_a_finding_no_option_set_stays_in_the_file_and_names_the_options():
    # out's new size breaks the weights the file gives on the edge into it: the file's line, with the cause
    spec = EX["xor.yaml"]
    err = _err("run", spec, "--input", "x=1,0", "--set", "nodes.2.size=3")
    assert err.startswith(f"{spec}:12:38: edges[1].weights: "), err
    assert err.rstrip().endswith("found 2 x 1 (with --set nodes.2.size=3)"), err


def test_a_long_value_is_shortened_where_it_names_the_option():
    err = _err("train", EX["xor_train.yaml"], "--no-save", "--set", "edges.0.to=" + "q" * 150)
    assert err.startswith("--set edges.0.to=" + "q" * 37 + "...: edges[0].to: unknown node"), err[:300]


def test_python_overrides_are_located_the_same_way(tmp_path):
    spec = nngraph.load(EX["xor_train.yaml"])
    s = with_overrides(spec, ["edges.0.to=out"])  # valid on its own: x -> out, hidden then has no input
    s = with_overrides(s, ["edges.1.from=nothere"])  # overrides of overrides keep both
    with pytest.raises(nngraph.SpecError) as info:
        with located_at_options(s):
            build(s)
    assert [d.file for d in info.value.diagnostics if d.severity == "error"] == ["--set edges.1.from=nothere"]
    assert str(info.value).startswith("--set edges.1.from=nothere: edges[1].from: unknown node 'nothere'")
    # a spec without overrides is untouched
    (tmp_path / "bad.yaml").write_text(EX["xor_train.yaml"].read_text().replace("from: hidden", "from: nothere"))
    bad = nngraph.load(tmp_path / "bad.yaml")
    with pytest.raises(nngraph.SpecError, match=r"bad\.yaml:11:\d+: edges\[1\]\.from"):
        with located_at_options(bad):
            build(bad)
