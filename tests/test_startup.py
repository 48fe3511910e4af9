"""Start-up stays light: each command imports what it uses and nothing more.

Each check runs a fresh interpreter and looks at ``sys.modules`` after the command, so a later
import at module level (a command module, numpy in ``nngraph/__init__``, rich in the CLI) fails
here instead of silently slowing every command. Speed itself is measured in benchmarks/.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import pkgutil
import subprocess
import sys

import pytest

import nngraph
import nngraph.cli as cli

# packages no command needs just to start, nor `nngraph validate` to check a spec
HEAVY = ("numpy", "pydantic", "yaml", "networkx", "rich", "scipy", "matplotlib", "graphviz", "onnx", "dask",
         "distributed", "zarr", "torch", "importlib.metadata")
FOR_VALIDATE = ("networkx", "rich", "scipy", "matplotlib", "graphviz", "onnx", "onnxruntime", "dask", "distributed",
                "zarr", "torch", "sklearn", "PIL")
CMD_MODULES = sorted(f"nngraph.cli.{m.name}" for m in pkgutil.iter_modules(cli.__path__) if m.name.endswith("_cmds"))


def _after(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; return what it printed last (JSON) and the loaded modules."""
    probe = (code + "\nimport json, sys\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('nngraph') or m.split('.')[0] in "
             f"{HEAVY + FOR_VALIDATE!r} or m in {HEAVY!r})))\n")
    env = {**os.environ, "COLUMNS": "80"}
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    *printed, modules = out.stdout.splitlines()
    return {"out": "\n".join(printed), "err": out.stderr, "modules": set(json.loads(modules))}


def _run_cli(*args: str) -> str:
    return ("import sys\nfrom nngraph.cli import main\n"
            f"try:\n    main({list(args)!r}, prog_name='nngraph')\nexcept SystemExit as e:\n"
            "    assert e.code in (0, None), e.code\n")


def test_import_nngraph_loads_only_the_package_itself():
    found = _after("import nngraph")
    assert found["modules"] == {"nngraph"}


def test_the_lazy_names_of_nngraph_are_the_real_ones():
    from nngraph import errors, graph, limits, spec

    assert nngraph.NNGraphError is errors.NNGraphError and nngraph.SpecError is errors.SpecError
    assert nngraph.Limits is limits.Limits and nngraph.load is spec.load and nngraph.build is graph.build
    assert nngraph.compile is importlib.import_module("nngraph.compile")
    assert set(nngraph.__all__) <= set(dir(nngraph))
    namespace: dict = {}
    exec("from nngraph import *", namespace)
    assert {name for name in namespace if not name.startswith("__")} | {"__version__"} == set(nngraph.__all__)
    with pytest.raises(AttributeError, match="no attribute 'not_there'"):
        nngraph.not_there  # noqa: B018


def test_help_lists_every_command_and_imports_none_of_them():
    found = _after(_run_cli("--help"))
    assert found["modules"] == {"nngraph", "nngraph.cli"}, found["modules"]
    listed = found["out"].split("Commands:\n", 1)[1]
    assert [line.split()[0] for line in listed.splitlines() if line[2:3] != " "] == sorted(cli.COMMANDS)


def test_help_is_the_same_as_with_every_command_loaded():
    """The listing from the table equals click's own listing of the real commands."""
    lazy = _after(_run_cli("--help"))
    eager = _after(f"import importlib\nfor m in {CMD_MODULES!r}:\n    importlib.import_module(m)\n"
                   + _run_cli("--help"))
    assert set(CMD_MODULES) <= eager["modules"]
    assert lazy["out"] == eager["out"] and "Commands:" in lazy["out"]


def test_the_command_table_is_in_step_with_the_command_modules():
    for name in CMD_MODULES:
        importlib.import_module(name)
    registered = dict(cli.main.commands)
    assert sorted(registered) == sorted(cli.COMMANDS), "add each new command to nngraph.cli.COMMANDS"
    for name, cmd in registered.items():
        module, short = cli.COMMANDS[name]
        assert cmd.callback.__module__ == f"nngraph.cli.{module}", name
        stub = type(cmd)(name, help=short)
        for limit in (20, 45, 60, 74, 90, 150):
            assert stub.get_short_help_str(limit) == cmd.get_short_help_str(limit), (name, limit)
        assert not cmd.hidden and not cmd.deprecated and cmd.short_help is None, name


def test_a_command_imports_its_own_module_only():
    found = _after(_run_cli("schema", "--help"))
    assert found["modules"] & set(CMD_MODULES) == {"nngraph.cli.spec_cmds"}
    assert "Usage: nngraph schema" in found["out"]


def test_an_unknown_command_is_still_a_usage_error():
    from click.testing import CliRunner

    res = CliRunner().invoke(cli.main, ["valdate", "x.yaml"], prog_name="nngraph")
    assert res.exit_code == 2 and "No such command 'valdate'" in res.output


def test_version_is_the_installed_version_without_reading_the_metadata():
    found = _after(_run_cli("--version"))
    assert found["out"] == f"nngraph, version {importlib.metadata.version('nngraph')}"
    assert found["modules"] == {"nngraph", "nngraph.cli"}, found["modules"]


def test_the_shared_helpers_of_the_command_modules_load_on_first_use():
    from nngraph import text
    from nngraph.cli import rich_text, terminal

    assert terminal is text.terminal and rich_text is text.rich_text
    with pytest.raises(ImportError):
        from nngraph.cli import not_there  # noqa: F401


def test_validate_imports_no_drawing_training_or_cluster_packages(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text("nngraph: 1\nname: n\nnodes: [{name: x, role: input, size: 2}, {name: h, size: 3},\n"
                    "  {name: y, role: output}]\nedges: [{from: x, to: h}, {from: h, to: y}, {from: x, to: y}]\n")
    found = _after(_run_cli("validate", str(spec)))
    assert ": ok (" in found["out"]
    assert {"numpy", "pydantic", "yaml"} <= found["modules"]  # what checking a spec does need
    assert not {m.split(".")[0] for m in found["modules"]} & set(FOR_VALIDATE), sorted(found["modules"])
    assert found["modules"] & set(CMD_MODULES) == {"nngraph.cli.spec_cmds"}
    assert not found["modules"] & {"nngraph.compile", "nngraph.runtime", "nngraph.training", "nngraph.draw",
                                   "nngraph.plot", "nngraph.distributed", "nngraph.interchange"}


def test_validate_pauses_the_collector_only_while_it_imports(tmp_path):
    """The collector is paused while pydantic and the spec's models load, what they made is
    frozen out of its later passes, and then it runs as the caller had it (on or off)."""
    spec = tmp_path / "n.yaml"
    spec.write_text("nngraph: 1\nname: n\nnodes: [{name: x, role: input}, {name: y, role: output}]\n"
                    "edges: [{from: x, to: y, weight: 1}]\n")
    for before in ("enable", "disable"):
        found = _after(f"import gc\ngc.{before}()\n" + _run_cli("validate", str(spec), str(spec))
                       + "print(gc.isenabled(), gc.get_freeze_count() > 10000)")
        assert found["out"].splitlines()[-1] == f"{before == 'enable'} True", found["out"]


def test_a_json_spec_is_checked_without_pyyaml(tmp_path):
    """PyYAML loads with the first YAML text read or spec dumped (its import is some 8% of a
    small spec's validation); a JSON spec, checked and with its errors located, needs none of it."""
    spec = tmp_path / "n.json"
    spec.write_text(json.dumps({"nngraph": 1, "name": "n", "nodes": [{"name": "x", "role": "input"},
                                                                     {"name": "y", "role": "output"}],
                                "edges": [{"from": "x", "to": "y", "weight": 1}]}))
    bad = tmp_path / "bad.json"
    bad.write_text('{"nngraph": 1, "name": "n",\n "nodes": [{"name": "x", "role": "input"}, {"name": "y", '
                   '"role": "output", "activation": "relux"}],\n "edges": [{"from": "x", "to": "z", "weight": 1}]}')
    found = _after(_run_cli("validate", str(spec)))
    assert ": ok (" in found["out"] and "yaml" not in found["modules"], sorted(found["modules"])
    found = _after("import sys\nfrom nngraph.cli import main\ntry:\n"
                   f"    main(['validate', {str(bad)!r}], prog_name='nngraph')\nexcept SystemExit as e:\n"
                   "    assert e.code == 1, e.code\n")
    assert "bad.json:2:90: nodes[1].activation: 'relux' is not one of" in found["err"], found["err"]
    assert "did you mean 'relu'" in found["err"] and "bad.json:3:32: edges[0].to: unknown node 'z'" in found["err"]
    assert "yaml" not in found["modules"]
    assert "yaml" in _after("import nngraph\nnngraph.dump(nngraph.load({'nngraph': 1, 'name': 'n', 'nodes': "
                            "[{'name': 'x', 'role': 'input'}]}))")["modules"]
