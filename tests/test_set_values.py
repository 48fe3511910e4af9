"""--set KEY=VALUE takes a YAML flow mapping or list where the key takes one, read by the spec's own
strict reader (bounded, no tags or anchors); what a key cannot take is refused with the spec's message."""
import json

import pytest

import nngraph
from nngraph import SpecError
from nngraph.spec import with_overrides

from helpers import EX, cli


@pytest.fixture(scope="module")
def spec():
    return nngraph.load(EX.sources["xor_train.yaml"])


def test_mappings_and_lists_are_taken_where_the_key_takes_them(spec):
    s = with_overrides(spec, ["train.optimizer.schedule={name: cosine}"])
    assert s.train.optimizer.schedule.name == "cosine" and s.train.optimizer.name == "adam"
    s = with_overrides(spec, ["train.optimizer.schedule={name: step, step_size: 2, gamma: 0.25}"])
    assert (s.train.optimizer.schedule.step_size, s.train.optimizer.schedule.gamma) == (2, 0.25)
    s = with_overrides(spec, ["train.optimizer={name: sgd, learning_rate: 0.1}"])  # replaced as a whole
    assert (s.train.optimizer.name, s.train.optimizer.learning_rate) == ("sgd", 0.1)
    s = with_overrides(spec, ["nodes.0.labels=[sleep, study]", "description='[draft] {x}'"])
    assert s.nodes[0].labels == ["sleep", "study"] and s.description == "[draft] {x}"
    s = with_overrides(spec, ["edges.0.init={name: normal, std: 1e-1}"])
    assert s.edges[0].init.std == 0.1  # 1e-1 is a number, as in a spec (YAML 1.2)


@pytest.mark.parametrize("assignment, message", [
    ("train.epochs={a: 1}", "--set train.epochs={a: 1}: train.epochs: expected a whole number, found mapping {'a': 1}"),
    ("train.optimizer.schedule={name: cosin}", "--set train.optimizer.schedule={name: cosin}: train.optimizer.schedule.name: 'cosin' is not one of "
     "constant, step, exponential, cosine, plateau (did you mean 'cosine'?)"),
    ("train.optimizer.schedule=[cosine]", "--set train.optimizer.schedule=[cosine]: train.optimizer.schedule: expected a mapping, found list "
     "['cosine']"),
    ("train.optimizer.schedule={name: cosine", "--set train.optimizer.schedule={name: cosine: train.optimizer.schedule: invalid YAML: did not find "
     "expected ',' or '}' (while parsing a flow mapping)"),
    ("train.optimizer={name: &a sgd}", "--set train.optimizer={name: &a sgd}: train.optimizer: YAML anchors (&a) and aliases are not allowed"),
    ("train.optimizer=!!python/object:os.system {}", "--set train.optimizer=!!python/object:os.system {}: train.optimizer: YAML tags (tag:yaml.org,2002:python/object:os.system)"
     " are not allowed"),
    ("train.optimizer={name: sgd, learning_rate: .inf}", "--set train.optimizer={name: sgd, learning_rate: .inf}: train.optimizer: '.inf' is not a finite number"),
    ("train.optimizer={name: sgd, name: adam}", "--set train.optimizer={name: sgd, name: adam}: train.optimizer: duplicate key 'name'"),
    ("nodes.0.labels=[" + "a, " * 5000 + "b]", "--set nodes.0.labels=[" + "a, " * 12 + "...: nodes.0.labels: a value of 15,003 characters; --set takes "
     "values of at most 10,000 (write longer ones in the spec)"),
], ids=lambda v: v[:40])
def test_what_a_key_cannot_take_is_refused_with_the_specs_message(spec, assignment, message):
    with pytest.raises(SpecError) as info:
        with_overrides(spec, [assignment])
    assert str(info.value).startswith(message), str(info.value)


def test_the_cli_trains_with_a_schedule_given_as_a_mapping(tmp_path):
    code, out, err = cli("train", EX["xor_train.yaml"], "--no-save", "--epochs", "4", "--json",
                         "--set", "train.optimizer.schedule={name: cosine, period: 4}")
    assert code == 0, err
    rates = [r["learning_rate"] for r in json.loads(out)["history"]]
    assert rates[0] == 0.05 and rates == sorted(rates, reverse=True) and rates[-1] < 0.01
    code, out, err = cli("train", EX["xor_train.yaml"], "--no-save", "--set", "train.optimizer.schedule={name: x}")
    assert code == 1 and "--set train.optimizer.schedule={name: x}: train.optimizer.schedule.name: 'x' is not one of constant, step" in err


def test_a_key_set_twice_is_refused_as_grid_refuses_it(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    spec = tmp_path / "s.yaml"
    spec.write_text("nngraph: 1\nname: s\nnodes:\n  - {name: x, role: input, size: 2}\n"
                    "  - {name: out, role: output}\nedges:\n  - {from: x, to: out, init: ones}\n")
    result = CliRunner().invoke(main, ["run", str(spec), "--input", "x=1,0", "--untrained",
                                       "--set", "edges.0.init=zeros", "--set", "edges.0.init=ones"])
    assert result.exit_code == 1, result.output
    assert ("--set edges.0.init=ones: edges.0.init: set twice (--set edges.0.init=zeros first); give it once"
            in result.stderr)
