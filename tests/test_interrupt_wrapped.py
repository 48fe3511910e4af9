"""A Ctrl-C that arrives inside a library call is the interrupt, whatever the library turned it into:
pydantic's serializer wraps it in PydanticSerializationError, and a cleanup can fail while it is on
its way. `nngraph train`/`run` then print the interrupt message (exit 130), with the last checkpoint
for a training run, never "internal error: ..."."""
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, field_serializer

import nngraph.checkpoint as checkpoint
import nngraph.cli.run_cmds as run_cmds
from nngraph.cli import main
from nngraph.errors import interrupted

from test_checkpoint import _spec


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


class _Dumps(BaseModel):
    x: int = 1

    @field_serializer("x")
    def _ctrl_c(self, v):  # as if SIGINT arrived while pydantic-core ran this
        raise KeyboardInterrupt


def pydantic_wrapped(*a, **k):
    _Dumps().model_dump(mode="json")  # raises PydanticSerializationError, caused by the interrupt


def failed_cleanup(*a, **k):
    try:
        raise KeyboardInterrupt
    finally:
        raise OSError(5, "Input/output error", "somefile")  # raised while the interrupt was on its way


def test_the_wrappers_are_what_they_seem():
    for fn in (pydantic_wrapped, failed_cleanup):
        with pytest.raises(Exception) as info:
            fn()
        assert not isinstance(info.value, KeyboardInterrupt) and interrupted(info.value)
    assert not interrupted(ValueError("x")) and not interrupted(RuntimeError("y").with_traceback(None))
    loop = RuntimeError("a")
    loop.__context__ = ValueError("b")
    loop.__context__.__context__ = loop  # a cycle of contexts ends
    assert not interrupted(loop)


@pytest.mark.parametrize("wrapper", [pydantic_wrapped, failed_cleanup], ids=["pydantic", "cleanup"])
def test_an_interrupt_inside_the_training_loop_names_the_last_checkpoint(tmp_path, monkeypatch, wrapper):
    save = checkpoint.save

    def save_then_interrupt(folder, epoch, *args):
        if epoch == 3:
            wrapper()
        return save(folder, epoch, *args)

    monkeypatch.setattr(checkpoint, "save", save_then_interrupt)
    code, _, err = cli("train", _spec(tmp_path), "--epochs", 5)
    assert code == 130, err
    last = tmp_path / "ck.checkpoints" / "epoch-000002.npz"
    # epoch 3 had ended (the interrupt came while its checkpoint was written): not "during epoch 3"
    assert (f"interrupted after epoch 3, before the next began (epochs 1 to 3 complete); the last checkpoint is "
            f"{last}; continue with --resume") in err, err
    assert "the parameters file was not written" in err and not (tmp_path / "ck.npz").exists()
    assert "internal error" not in err


@pytest.mark.parametrize("wrapper", [pydantic_wrapped, failed_cleanup], ids=["pydantic", "cleanup"])
def test_an_interrupt_outside_the_loop_is_the_interrupt_message(tmp_path, monkeypatch, wrapper):
    monkeypatch.setattr(run_cmds, "_print_test", wrapper)  # after the parameters were saved
    code, _, err = cli("train", _spec(tmp_path), "--epochs", 2)
    assert code == 130, err
    last = tmp_path / "ck.checkpoints" / "epoch-000002.npz"
    assert err.strip().endswith(f"interrupted; already written: {last}, {tmp_path / 'ck.npz'}"), err
    monkeypatch.setattr(run_cmds, "compile_plan", wrapper)  # `run` with inputs, before anything is written
    code, _, err = cli("run", _spec(tmp_path), "--input", "x=1,2")
    assert (code, err.strip()) == (130, "interrupted; nothing was written")


def test_a_real_error_is_still_an_error(tmp_path, monkeypatch):
    def bug(*a, **k):
        raise ValueError("not an interrupt")

    monkeypatch.setattr(run_cmds, "compile_plan", bug)
    code, _, err = cli("run", _spec(tmp_path), "--input", "x=1,2")
    assert code == 1 and err.startswith("internal error: ValueError: not an interrupt")
