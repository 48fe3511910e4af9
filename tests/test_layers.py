"""The pipeline flows one way: spec -> graph -> compile/plan -> runtime -> training -> draw,
interchange, distributed -> cli. No module imports a step above its own, not even inside a
function (a lazy import up the pipeline is still a step reaching back)."""
import ast
from pathlib import Path

import nngraph

ROOT = Path(nngraph.__file__).parent

# each step, and the steps above it that it must never import
ABOVE = {
    "spec": ["graph", "compile", "plan", "runtime", "backprop", "training", "optimizers", "regularizers", "fit",
             "trace", "draw", "plot", "interchange", "distributed", "stream", "cli"],
    "graph": ["compile", "plan", "runtime", "backprop", "training", "optimizers", "regularizers", "fit", "trace",
              "draw", "plot", "interchange", "distributed", "stream", "cli"],
    "compile": ["runtime", "backprop", "training", "optimizers", "regularizers", "fit", "draw", "plot",
                "interchange", "distributed", "cli"],
    "runtime": ["training", "optimizers", "regularizers", "fit", "draw", "plot", "interchange", "distributed", "cli"],
    "optimizers": ["training", "fit", "draw", "plot", "interchange", "distributed", "cli"],
    "regularizers": ["training", "fit", "draw", "plot", "interchange", "distributed", "cli"],
    "training": ["draw", "plot", "interchange", "distributed", "cli"],
    "draw": ["interchange", "distributed", "cli"],
    "interchange": ["distributed", "cli"],
}


def _imports(path: Path):
    """(line, absolute module) of every import in a module, at any depth."""
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            for name in names:
                yield node.lineno, name


def _step(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "nngraph" else None


def test_no_module_imports_a_step_above_its_own():
    reaching = []
    for path in sorted(ROOT.rglob("*.py")):
        own = path.relative_to(ROOT).parts[0].removesuffix(".py")
        forbidden = ABOVE.get(own, [])
        for line, module in _imports(path):
            if _step(module) in forbidden:
                reaching.append(f"{path.relative_to(ROOT.parent)}:{line} imports {module}")
    assert not reaching, "\n".join(reaching)


def test_the_check_sees_imports_inside_functions():
    """The walk finds a lazy relative import inside a function, as the one this test was written for."""
    source = ROOT / "spec" / "overrides.py"
    found = [m for _, m in _imports(source)]
    assert "nngraph.errors" in found and "nngraph.spec.load" in found  # module-level and inside a function
