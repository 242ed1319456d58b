"""The layout rules of style.md §1, checked by walking every module's imports.

The pure core (record/, macros, results, headers, identity, errors, ...) imports no asyncio,
socket or dnspython, not even through the spfkit modules it imports; evaluate/ reaches DNS
only through lookup.protocol; src/spfkit has no import cycle; web/ never imports cli/; the
public namespace exports exactly its ``__all__``; no module grows past ~400 lines.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "spfkit"
MODULES = sorted(p for p in SRC.rglob("*.py"))
WORLD = ("asyncio", "socket", "dns", "selectors", "ssl", "subprocess")
PURE = (
    "record/", "macros.py", "results.py", "headers.py", "identity.py", "errors.py",
    "lint/findings.py", "lint/codes.py", "lint/text_rules.py", "lint/record_rules.py",
    "lint/tree_rules.py", "wizard/draft.py", "wizard/zones.py", "policy/protocol.py",
    "policy/decide.py", "policy/decision.py", "policy/config.py", "policy/_options.py", "senderid/pra.py", "senderid/mailbox.py",
    "responder/report.py", "responder/received.py", "responder/advice.py", "view/",
    "identity.py", "bounded.py",
    "lint/pasted.py", "lint/include_targets.py", "lint/modifier_rules.py", "responder/relays.py",
    "compile/regions.py", "compile/policy_map.py", "compile/counts.py", "compile/cache.py",
    "lint/address_rules.py", "policy/legacy.py", "milter/config.py",
    "milter/edits.py", "milter/counters.py",
)


def _rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _module_name(path: Path) -> str:
    parts = ["spfkit", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


BY_NAME = {_module_name(p): p for p in MODULES}


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        if _is_type_checking(child):
            continue
        found.append(child)
        found.extend(_walk(child))
    return found


@cache
def _imports(path: Path) -> frozenset[str]:
    """Absolute names of every module ``path`` imports, at any depth of its code."""
    names: set[str] = set()
    for node in _walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                own = _module_name(path)
                package = own if path.name == "__init__.py" else own.rpartition(".")[0]
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            submodules = {f"{module}.{a.name}" for a in node.names} & BY_NAME.keys()
            # ``from spfkit.web import api`` imports the submodule (its package is its parent,
            # not counted, as for any ``spfkit.web.api`` import); other names come from ``module``
            names.update(submodules)
            if len(submodules) < len(node.names):
                names.add(module)
    return frozenset(names)


def _internal(path: Path) -> set[str]:
    return {n for n in _imports(path) if n in BY_NAME}


@cache
def _reach(name: str) -> frozenset[str]:
    """Every spfkit module ``name`` imports, directly or through other spfkit modules."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for dep in _internal(BY_NAME[todo.pop()]):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return frozenset(seen)


def _world_reached(path: Path) -> dict[str, set[str]]:
    """World modules imported by ``path`` or by any spfkit module it reaches, by importer."""
    found: dict[str, set[str]] = {}
    for name in {_module_name(path), *_reach(_module_name(path))}:
        bad = {n for n in _imports(BY_NAME[name]) if n.split(".")[0] in WORLD}
        if bad:
            found[name] = bad
    return found


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p).startswith(PURE)], ids=_rel)
def test_pure_core_touches_no_world(path: Path) -> None:
    found = _world_reached(path)
    assert not found, f"{_rel(path)} reaches {found}"


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p).startswith(("evaluate/", "compile/"))],
                         ids=_rel)
def test_evaluator_reaches_dns_only_through_the_protocol(path: Path) -> None:
    reached = {_module_name(path), *_reach(_module_name(path))}
    lookup = {n for n in reached if n.startswith("spfkit.lookup")}
    assert lookup <= {"spfkit.lookup.protocol"}, f"{_rel(path)} reaches {sorted(lookup)}"
    world = {n for m in reached for n in _imports(BY_NAME[m]) if n.split(".")[0] in ("socket", "dns", "selectors")}
    assert not world, f"{_rel(path)} reaches {sorted(world)}"


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for dep in sorted(_internal(BY_NAME[name])):
            if dep not in index:
                visit(dep)
                low[name] = min(low[name], low[dep])
            elif dep in on_stack:
                low[name] = min(low[name], index[dep])
        if low[name] == index[name]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == name:
                    break
            if len(component) > 1 or name in _internal(BY_NAME[name]):
                found.append(sorted(component))

    for name in sorted(BY_NAME):
        if name not in index:
            visit(name)
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    """The check above could pass by finding nothing: show it sees a planted cycle."""
    global BY_NAME
    saved = BY_NAME
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from spfkit.b import x\n")
    b.write_text("def f():\n    from spfkit.a import y\n")
    try:
        BY_NAME = {**saved, "spfkit.a": a, "spfkit.b": b}
        _imports.cache_clear()
        assert ["spfkit.a", "spfkit.b"] in _cycles()
    finally:
        BY_NAME = saved
        _imports.cache_clear()


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p).startswith(("web/", "view/"))],
                         ids=_rel)
def test_web_never_imports_the_cli(path: Path) -> None:
    """The web server is no terminal program: no ``spfkit.cli``, no rich, no click."""
    reached = {_module_name(path), *_reach(_module_name(path))}
    assert not {n for n in reached if n.startswith("spfkit.cli")}, _rel(path)
    assert not {n for m in reached for n in _imports(BY_NAME[m]) if n.split(".")[0] in ("rich", "click")}


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 420, _rel(path)


@pytest.mark.parametrize(
    "module",
    ["spfkit", "spfkit.record", "spfkit.evaluate", "spfkit.lookup", "spfkit.lint", "spfkit.tree",
     "spfkit.compile",
     "spfkit.wizard", "spfkit.senderid", "spfkit.responder", "spfkit.policy", "spfkit.view"],
)
def test_all_matches_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:  # first: a lazy namespace (spfkit._lazy) defines a name when used
        assert hasattr(mod, name)
    public = {name for name in vars(mod) if not name.startswith("_")}
    submodules = {name for name, value in vars(mod).items() if type(value).__name__ == "module"}
    assert set(mod.__all__) == (public - submodules) | ({"__version__"} & set(mod.__all__))
