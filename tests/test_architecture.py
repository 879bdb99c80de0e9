"""The shape of the package (docs/architecture.md): rooms in one order, no import goes backwards, no cycle.

Every import counts, function-level ones included: a cycle hidden inside a function is still a cycle.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "roofline"

#: the rooms, in the order data flows; a module may import only from its own room or an earlier one
ROOMS = ("hardware", "workloads", "placement", "engine", "sweep", "llm", "validation", "outputs")
#: leaf modules: they may import only other leaf modules listed before them
LEAVES = ("_version", "errors", "_paths", "units", "dtypes", "vocab", "roles", "symbols", "formulas")
#: the package's front door and the compatibility aliases may import anything
FACADE = ("roofline", "roofline.__main__", "roofline._compat")


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods[".".join(parts)] = p
    return mods


def _imports(name: str, path: Path, mods) -> set[str]:
    """Modules of the package that ``name`` imports anywhere in its body."""
    out = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            cands = [f"{target}.{a.name}" for a in node.names]
            hits = [c for c in cands if c in mods]
            out |= set(hits) if hits else ({target} if target in mods else set())
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in mods}
    return {t for t in out if t != name and not name.startswith(t + ".")}


def _rank(mod: str) -> tuple[int, int]:
    """(room rank, leaf rank): leaves come first, each room after them in data-flow order."""
    parts = mod.split(".")
    if len(parts) == 1:
        return (-2, 0)
    head = parts[1]
    if head in LEAVES:
        return (-1, LEAVES.index(head))
    if head in ROOMS:
        return (ROOMS.index(head), 0)
    raise AssertionError(f"{mod} is in no room of docs/architecture.md: add it to a room or to LEAVES")


def _graph():
    mods = _modules()
    return mods, {m: _imports(m, p, mods) for m, p in mods.items()}


def test_every_module_lives_in_a_room():
    mods, _ = _graph()
    for m in mods:
        if m not in FACADE:
            _rank(m)


def test_no_import_goes_backwards():
    mods, graph = _graph()
    bad = []
    for m, targets in graph.items():
        if m in FACADE:
            continue
        for t in targets:
            if t in FACADE or _rank(t) > _rank(m):
                bad.append(f"{m} imports {t}")
    assert not bad, "imports against the data flow:\n" + "\n".join(sorted(bad))


def test_no_import_cycle():
    _, graph = _graph()
    graph = {m: {t for t in ts if t not in FACADE} for m, ts in graph.items() if m not in FACADE}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_checker_would_catch_a_cycle_and_a_backward_import(tmp_path, monkeypatch):
    """The test above is not vacuous: a planted backward, function-level import is found."""
    pkg = tmp_path / "roofline"
    (pkg / "hardware").mkdir(parents=True)
    (pkg / "engine").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "hardware" / "__init__.py").write_text("def f():\n    from ..engine import x\n")
    (pkg / "engine" / "__init__.py").write_text("")
    (pkg / "engine" / "x.py").write_text("from ..hardware import f\n")
    monkeypatch.setattr(__import__(__name__), "PKG", pkg)
    with pytest.raises(AssertionError, match="roofline.hardware imports roofline.engine.x"):
        test_no_import_goes_backwards()
    with pytest.raises(AssertionError, match="import cycle"):
        test_no_import_cycle()


def test_no_function_over_60_lines():
    long = []
    for p in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long.append(f"{p.relative_to(PKG.parent)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "functions over 60 lines:\n" + "\n".join(long)


def test_every_roofline_variable_is_read_in_paths():
    """ROOFLINE_* environment variables are read in one module."""
    for p in PKG.rglob("*.py"):
        if p.name == "_paths.py":
            continue
        src = p.read_text()
        assert "os.environ.get(\"ROOFLINE_" not in src and "getenv(\"ROOFLINE_" not in src, p


def test_every_public_function_has_a_parameters_section():
    """numpydoc: a public function or method that takes arguments documents them (with units)."""
    missing = []
    for p in PKG.rglob("*.py"):
        tree = ast.parse(p.read_text())
        for cls in [tree] + [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]:
            for fn in cls.body:
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name.startswith("_"):
                    continue
                if any(isinstance(d, ast.Name) and d.id in ("property", "cached_property") for d in fn.decorator_list):
                    continue
                args = [a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg not in ("self", "cls")]
                if (args or fn.args.vararg or fn.args.kwarg) and "Parameters\n----------" not in (ast.get_docstring(fn) or ""):
                    missing.append(f"{p.relative_to(PKG.parent)}:{fn.lineno} {fn.name}")
    assert not missing, "public functions without a numpydoc Parameters section:\n" + "\n".join(missing)


def test_old_import_paths_warn_and_still_work():
    """The flat modules of 0.1 are aliases of their new homes for one release, with a DeprecationWarning."""
    import importlib
    import sys
    import warnings

    from roofline._compat import ALIASES

    for old, new in ALIASES.items():
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mod = importlib.import_module(old)
        assert mod is importlib.import_module(new)
        assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught), old
        sys.modules.pop(old, None)


def test_rooms_load_on_first_use():
    import subprocess
    import sys

    code = "import roofline, sys; assert 'roofline.llm' not in sys.modules; roofline.llm.estimate; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr
