"""The layout rules of style.md §1, checked by walking every module's imports.

The pure core (record/, macros, results, headers, identity, errors) imports no asyncio,
socket or dnspython; evaluate/ reaches DNS only through lookup.protocol; the public
namespace exports exactly its ``__all__``; no module grows past ~400 lines.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "spfkit"
MODULES = sorted(p for p in SRC.rglob("*.py"))
WORLD = ("asyncio", "socket", "dns", "selectors", "ssl", "subprocess")
PURE = (
    "record/", "macros.py", "results.py", "headers.py", "identity.py", "errors.py",
    "lint/findings.py", "lint/codes.py", "lint/text_rules.py", "lint/record_rules.py",
    "lint/tree_rules.py", "wizard/draft.py", "wizard/zones.py", "policy/protocol.py",
    "policy/decide.py", "policy/config.py", "policy/_options.py", "senderid/pra.py", "senderid/mailbox.py",
    "responder/report.py", "responder/received.py", "responder/advice.py",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p).startswith(PURE)], ids=_rel)
def test_pure_core_touches_no_world(path: Path) -> None:
    bad = {n for n in _imports(path) if n.split(".")[0] in WORLD}
    assert not bad, f"{_rel(path)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", [p for p in MODULES if _rel(p).startswith("evaluate/")], ids=_rel)
def test_evaluator_reaches_dns_only_through_the_protocol(path: Path) -> None:
    imports = _imports(path)
    lookup = {n for n in imports if n.startswith("spfkit.lookup")}
    assert lookup <= {"spfkit.lookup.protocol"}, f"{_rel(path)} imports {sorted(lookup)}"
    assert not {n for n in imports if n.split(".")[0] in ("socket", "dns", "selectors")}


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 420, _rel(path)


@pytest.mark.parametrize(
    "module",
    ["spfkit", "spfkit.record", "spfkit.evaluate", "spfkit.lookup", "spfkit.lint", "spfkit.tree",
     "spfkit.wizard", "spfkit.senderid", "spfkit.responder", "spfkit.policy"],
)
def test_all_matches_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    public = {name for name in vars(mod) if not name.startswith("_")}
    submodules = {name for name, value in vars(mod).items() if type(value).__name__ == "module"}
    assert set(mod.__all__) == (public - submodules) | ({"__version__"} & set(mod.__all__))
    for name in mod.__all__:
        assert hasattr(mod, name)
