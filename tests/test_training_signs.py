"""Training says what it did: where early stopping stopped and whose weights it kept, the spec's
warnings, a rate cut to nothing; defaults that do no harm; a Ctrl-C that is a KeyboardInterrupt."""
import json
import math
import os
import re
import signal

import numpy as np
import pytest
from click.testing import CliRunner

import nngraph
from nngraph import TrainingError, TrainingInterrupted
from nngraph.cli import main
from nngraph.compile import compile
from nngraph.schedules import Schedule
from nngraph.training import train

from helpers import EX, ROOT, diagnostics_of


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


class Hooks:
    """Training callbacks that keep what they were told."""

    def __init__(self, interrupt_at=None):
        self.records, self.notes, self.restored_best, self.interrupt_at = [], [], None, interrupt_at

    def epoch_end(self, record):
        self.records.append(dict(record))
        if record["epoch"] == self.interrupt_at:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: Python raises KeyboardInterrupt at once

    def note(self, message):
        self.notes.append(message)

    def restored(self, epoch, val_loss):
        self.restored_best = (epoch, val_loss)

    def __getattr__(self, name):
        return lambda *args: None


# -- early stopping -----------------------------------------------------------------------------


def test_early_stop_shows_its_epoch_and_why_and_the_epoch_whose_weights_it_restored():
    code, out, err = run("train", EX["moons_mlp.yaml"], "--no-save", "--set", "train.early_stopping.patience=3")
    assert code == 0, err
    lines = err.splitlines()
    stop = next(i for i, line in enumerate(lines) if line.startswith("stopped early"))
    epoch = int(re.match(r"stopped early after epoch (\d+): the validation loss did not improve for 3 epochs "
                         r"\(train\.early_stopping\.patience\)$", lines[stop])[1])
    assert lines[stop - 1].startswith(f"epoch {epoch:>3}  loss ")  # the epoch line of the stop, just above
    best = epoch - 3
    assert re.fullmatch(rf"restored the weights of epoch {best}, the best validation loss 0\.\d{{4}} "
                        r"\(train\.early_stopping\.restore_best\)", lines[stop + 1])


def test_the_callbacks_see_the_stop_in_the_record_of_its_epoch():
    hooks = Hooks()
    _, history = train(EX["moons_mlp.yaml"], callbacks=hooks, epochs=60)  # no early stopping in the example
    assert "stopped_early" not in history[-1] and hooks.restored_best is None
    spec = nngraph.load(EX["moons_mlp.yaml"])
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"early_stopping": {"patience": 3}})})
    hooks = Hooks()
    _, history = train(spec, callbacks=hooks)
    assert hooks.records[-1].get("stopped_early") is True and len(history) < 100
    assert [r.get("stopped_early", False) for r in hooks.records] == [False] * (len(history) - 1) + [True]


def test_restore_best_names_the_best_epoch_also_when_every_epoch_ran():
    code, out, err = run("train", EX["moons_mlp.yaml"], "--no-save", "--set", "train.early_stopping.patience=10",
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    history = result["history"]
    best = min(history, key=lambda r: r["val_loss"])
    assert len(history) == 100 and best["epoch"] < 100
    assert result["restored_best"] == {"epoch": best["epoch"], "val_loss": best["val_loss"]}
    code, _, err = run("train", EX["moons_mlp.yaml"], "--no-save", "--set", "train.early_stopping.patience=10")
    assert f"restored the weights of epoch {best['epoch']}, the best validation loss {best['val_loss']:.4f}" in err
    assert "stopped early" not in err  # all 100 epochs ran: it stopped at the end, not early


def test_the_restored_weights_are_those_of_the_epoch_named():
    spec = nngraph.load(EX["moons_mlp.yaml"])
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"early_stopping": {"patience": 5}})})
    hooks = Hooks()
    plan, history = train(spec, callbacks=hooks, epochs=40)
    epoch, loss = hooks.restored_best
    assert loss == min(r["val_loss"] for r in history) == history[epoch - 1]["val_loss"]
    again, _ = train(spec, epochs=epoch)  # the same seed, stopped at that epoch: the same weights
    for name, value in plan.parameters().items():
        np.testing.assert_array_equal(value, again.parameters()[name])


# -- schedules ----------------------------------------------------------------------------------


def _schedule(text, epochs=100):
    spec = nngraph.load(EX["moons_mlp.yaml"].read_text().replace(
        "learning_rate: 0.5}", f"learning_rate: 0.5, schedule: {text}}}"))
    return Schedule(spec.train.optimizer.schedule, 0.1, epochs)


def test_exponential_decays_gently_by_default_and_step_keeps_its_gamma():
    s = _schedule("{name: exponential}")
    assert s.c.gamma == 0.95
    np.testing.assert_allclose([s.rate(e) for e in (1, 2, 3, 11)], [0.1, 0.095, 0.09025, 0.1 * 0.95 ** 10])
    assert _schedule("{name: step}").c.gamma == 0.5 and _schedule("{name: exponential, gamma: 0.5}").c.gamma == 0.5


def test_plateau_waits_ten_epochs_by_default_as_keras_and_pytorch():
    s = _schedule("plateau")
    rates = []
    for epoch in range(1, 13):
        rates.append(s.rate(epoch))
        s.observe(epoch, 1.0)  # never better than the first
    assert rates[:11] == [0.1] * 11 and rates[11] == pytest.approx(0.01)  # cut after the 10 epochs after epoch 1


def test_keys_of_another_schedule_are_refused_where_they_are(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(EX["moons_mlp.yaml"].read_text().replace(
        "learning_rate: 0.5}", "learning_rate: 0.5, schedule: {name: exponential, step_size: 3, period: 4, "
                               "min_delta: 3, min_rate: 0.1}}"))
    found = [(d.path, d.message) for d in diagnostics_of(nngraph.load, path)]
    assert found == [
        ("train.optimizer.schedule.step_size", "step_size is a key of schedule step, not of exponential: remove it, or "
                                               "choose name: step"),
        ("train.optimizer.schedule.period", "period is a key of schedule cosine, not of exponential: remove it, or "
                                            "choose name: cosine"),
        ("train.optimizer.schedule.min_delta", "min_delta is a key of schedule plateau, not of exponential: remove "
                                               "it, or choose name: plateau"),
        ("train.optimizer.schedule.min_rate", "min_rate is a key of schedules cosine and plateau, not of "
                                              "exponential: remove it")]
    code, _, err = run("validate", path)
    assert code == 1 and re.search(r"s\.yaml:13:\d+: train\.optimizer\.schedule\.step_size: step_size is a key", err)
    for name, keys in {"constant": "gamma: 0.9", "cosine": "factor: 0.5", "plateau": "period: 3"}.items():
        with pytest.raises(nngraph.SpecError, match=f"not of {name}: remove it"):
            _schedule(f"{{name: {name}, {keys}}}")
    for good in ("{name: step, step_size: 2, gamma: 0.3, warmup: 2}", "{name: cosine, period: 4, min_rate: 0.01}",
                 "{name: plateau, factor: 0.5, patience: 2, min_delta: 0.01, min_rate: 0.001}"):
        _schedule(good)


def test_a_rate_cut_to_almost_nothing_is_noted_once():
    text = EX["moons_mlp.yaml"].read_text().replace("learning_rate: 0.5}", "learning_rate: 0.5, schedule: "
                                                   "{name: plateau, patience: 3}}")
    hooks = Hooks()
    _, history = train(text, callbacks=hooks)
    rates = [r["learning_rate"] for r in history]
    cut = next(i for i, r in enumerate(rates) if r < 1e-4 * 0.5)  # the first epoch at the cut rate
    assert hooks.notes == [f"from epoch {cut + 1} the plateau schedule's learning rate is {rates[cut]:.3g}, 1e-05 of "
                           "its start: training has all but stopped; set train.optimizer.schedule.min_rate, or "
                           "early_stopping"]
    hooks = Hooks()
    train(EX["moons_mlp.yaml"].read_text().replace("learning_rate: 0.5}", "learning_rate: 0.5, schedule: plateau}"),
          callbacks=hooks)
    assert hooks.notes == []  # the default patience never gets there on this net
    hooks = Hooks()
    code, out, err = run("train", EX["moons_mlp.yaml"], "--no-save", "--epochs", "20", "--set",
                         "train.optimizer.schedule={name: exponential, gamma: 0.5}", "--json")
    assert code == 0 and json.loads(out)["notes"] == [  # 0.5 ** 14 < 1e-4 <= 0.5 ** 13
        "from epoch 15 the exponential schedule's learning rate is 3.05e-05, 6e-05 of its start: training has all "
        "but stopped; raise gamma (at 0.95 the rate halves in 14 epochs)"]
    for gentle in ("{name: exponential}", "{name: cosine}", "{name: step, gamma: 0.1, step_size: 5}"):
        code, out, err = run("train", EX["moons_mlp.yaml"], "--no-save", "--epochs", "20", "--set",
                             f"train.optimizer.schedule={gentle}", "--json")
        assert code == 0 and "notes" not in json.loads(out), gentle


# -- the spec's warnings --------------------------------------------------------------------------


def test_train_prints_the_warnings_validate_prints_once_before_training(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(EX["moons_mlp.yaml"].read_text().replace("{from: x, to: hidden, init: xavier_uniform}",
                                                             "{from: x, to: hidden}").replace(
        "learning_rate: 0.5}", "learning_rate: 0.5, schedule: {name: cosine, warmup: 100}}"))
    _, _, validated = run("validate", path)
    warnings = [line for line in validated.splitlines() if ": warning: " in line]
    assert len(warnings) == 2 and "edges[0]: no weights given" in validated and "warm-up of 100 epochs" in validated
    code, out, err = run("train", path, "--no-save", "--epochs", "2")
    assert code == 0, err
    assert err.splitlines()[:3] == warnings + [err.splitlines()[2]] and err.splitlines()[2].startswith("data: ")
    assert all(err.count(w) == 1 for w in warnings)
    code, out, err = run("train", path, "--no-save", "--epochs", "2", "--json")
    assert code == 0 and [w["path"] for w in json.loads(out)["warnings"]] == [
        "edges[0]", "train.optimizer.schedule.warmup"]


def test_the_regularizer_example_of_the_training_page_is_clean(tmp_path):
    text = (ROOT / "docs" / "training.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if b.startswith("nodes:")]
    assert blocks
    for i, block in enumerate(blocks):
        path = tmp_path / f"doc{i}.yaml"
        path.write_text(f"nngraph: 1\nname: doc{i}\n{block}")
        code, out, err = run("validate", path)
        assert code == 0 and err == "", err


# -- resume and Ctrl-C ----------------------------------------------------------------------------


def test_resume_without_checkpoints_is_refused_before_training():
    hooks = Hooks()
    with pytest.raises(TrainingError, match=r"^resume: the spec writes no checkpoints \(it has no train\.checkpoint\), "
                                            r"so there is none to resume from; add train\.checkpoint: \{every: 1\}"):
        train(EX["xor_train.yaml"], resume=True, callbacks=hooks)
    assert hooks.records == []
    code, out, err = run("train", EX["xor_train.yaml"], "--no-save", "--resume")
    assert code == 1 and err.startswith("error: resume: the spec writes no checkpoints") and "data:" not in err


def test_ctrl_c_in_python_is_a_keyboard_interrupt_that_keeps_the_history_and_the_checkpoint(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(EX["moons_mlp.yaml"].read_text().replace("epochs: 100, seed: 1}", "epochs: 100, seed: 1, checkpoint: {every: 2}}"))
    with pytest.raises(KeyboardInterrupt) as info:
        train(path, callbacks=Hooks(interrupt_at=5))
    stop = info.value
    assert isinstance(stop, TrainingInterrupted) and isinstance(stop, TrainingError) and stop.exit_code == 130
    assert [r["epoch"] for r in stop.history] == [1, 2, 3, 4]  # epoch 5 was interrupted in its callbacks
    assert stop.checkpoint == tmp_path / "moons-mlp.checkpoints" / "epoch-000004.npz" and stop.checkpoint.is_file()
    assert str(stop).startswith("interrupted during epoch 5 (epochs 1 to 4 complete); the last checkpoint is ")
    plan = compile(nngraph.load(EX["moons_mlp.yaml"]), use_file=False)
    data = nngraph.data.load_data(plan.spec)
    with pytest.raises(TrainingInterrupted) as info:
        plan.fit(data.x_train, data.y_train, epochs=50, callbacks=Hooks(interrupt_at=3))
    assert len(info.value.history) == 2 and info.value.checkpoint is None and info.value.plan is plan
    assert math.isfinite(info.value.history[-1]["loss"])


# -- what is said and written -----------------------------------------------------------------------


def test_a_diverging_run_says_what_it_wrote_and_what_it_kept(tmp_path):
    log = tmp_path / "div.csv"
    code, _, err = run("train", EX["fast_food_learn.yaml"], "--no-save", "--set", "train.optimizer.learning_rate=1",
                       "--log", log)
    assert code == 1 and "nothing was written" not in err
    assert re.search(r"error: the loss became (inf|nan) at epoch 3, step \d+; training stopped and the parameters of "
                     rf"epoch 2, the last good ones, were kept; lower the learning rate; the epoch log {re.escape(str(log))} "
                     r"holds epochs 1 to 2; the parameters file was not written", err), err
    assert log.read_bytes().count(b"\n") == 3 and b"\r" not in log.read_bytes()  # the header and two epochs


def test_an_unsafe_checkpoint_folder_is_called_a_folder(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(EX["moons_mlp.yaml"].read_text().replace(
        "epochs: 100, seed: 1}", f"epochs: 100, seed: 1, checkpoint: {{directory: {tmp_path / 'ck'}}}}}"))
    code, _, err = run("validate", path)
    assert code == 1 and f"train.checkpoint.directory: '{tmp_path / 'ck'}' is an absolute path; name a folder " \
                         "relative to the spec's folder" in err


def test_a_key_in_another_section_says_where_it_belongs(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(EX["moons_mlp.yaml"].read_text().replace(
        "seed: 1}\ntrain: {", "seed: 1, checkpoint: {every: 1}}\ntrain: {momentum: 0.9, patience: 2, "))
    found = {d.path: d.message for d in diagnostics_of(nngraph.load, path)}
    assert found["data.checkpoint"].startswith("unknown key 'checkpoint' (it belongs in train); valid keys: ")
    assert found["train.momentum"].startswith("unknown key 'momentum' (it belongs in train.optimizer); ")
    assert found["train.patience"].startswith("unknown key 'patience' (it belongs in train.optimizer.schedule or in "
                                              "train.early_stopping); ")


def test_scheduled_rates_are_the_decimal_numbers_they_stand_for():
    s = _schedule("{name: step, step_size: 1, gamma: 0.1}")
    assert [repr(s.rate(e)) for e in (1, 2, 3)] == ["0.1", "0.01", "0.001"]  # not 0.010000000000000002
    s = _schedule("{name: plateau, patience: 1}")
    s.observe(1, 1.0), s.observe(2, 1.0)
    assert repr(s.rate(3)) == "0.01"
    np.testing.assert_allclose([_schedule("{name: cosine, warmup: 3}").rate(e) for e in (1, 2)], [0.1 / 3, 0.2 / 3],
                               rtol=1e-14)


def test_the_rate_shares_one_legend_with_the_losses():
    from nngraph.plot import history_figure

    history = [{"epoch": e, "loss": 1 / e, "val_loss": 1.2 / e, "learning_rate": 0.1 / e} for e in range(1, 6)]
    fig = history_figure(history)
    legends = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    assert [[t.get_text() for t in g.get_texts()] for g in legends] == [
        ["training loss", "validation loss", "learning rate"]]
