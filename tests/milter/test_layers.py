"""The milter's sans-I/O modules touch no world; only the adapter and server import pymilter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import spfkit.milter

PACKAGE = Path(spfkit.milter.__file__).parent
PURE = ("config.py", "session.py", "senderid.py", "edits.py", "counters.py", "__init__.py")
WORLD = {"asyncio", "socket", "dns", "Milter", "milter", "selectors", "subprocess"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
            if node.module.startswith("spfkit.milter."):
                found.add(node.module)
    return found


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_no_world(name: str) -> None:
    used = imports(PACKAGE / name)
    assert not used & WORLD, used & WORLD
    assert not {m for m in used if m in ("spfkit.milter.adapter", "spfkit.milter.server",
                                         "spfkit.milter.service", "spfkit.milter.bridge")}


def test_only_the_adapter_and_server_need_pymilter() -> None:
    users = {path.name for path in PACKAGE.glob("*.py") if imports(path) & {"Milter", "milter"}}
    assert users == {"adapter.py", "server.py"}


def test_modules_stay_small_and_export_what_they_define() -> None:
    import importlib

    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path.name
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(f"spfkit.milter.{path.stem}")
        assert all(hasattr(module, name) for name in module.__all__), path.name
    assert sorted(spfkit.milter.__all__) == spfkit.milter.__all__
