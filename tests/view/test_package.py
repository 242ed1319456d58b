"""spfkit.view is the neutral layer: both front ends import it, it imports neither.

``cli/`` draws the views with rich, ``web/`` with its templates; the web server must not
drag in the command line (nor rich), and the views must not depend on any front end's
library (rich, click, fastapi, jinja2...) or on an event loop.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "spfkit"
FRONT_END_LIBRARIES = ("rich", "click", "fastapi", "starlette", "jinja2", "pydantic", "uvicorn",
                       "asyncio")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module if node.level == 0 else "." * node.level + node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("view"), ids=lambda p: p.name)
def test_the_views_import_no_front_end(path: Path) -> None:
    bad = {n for n in _imports(path) if n.split(".")[0] in FRONT_END_LIBRARIES}
    bad |= {n for n in _imports(path) if n.startswith(("spfkit.cli", "spfkit.web"))}
    assert not bad, f"view/{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _modules("web"), ids=lambda p: p.name)
def test_the_web_never_imports_the_command_line(path: Path) -> None:
    bad = {n for n in _imports(path) if n.startswith("spfkit.cli") or n.split(".")[0] == "rich"}
    assert not bad, f"web/{path.name} imports {sorted(bad)}"


def test_the_package_exports_its_names() -> None:
    view = importlib.import_module("spfkit.view")
    public = {name for name, value in vars(view).items()
              if not name.startswith("_") and type(value).__name__ != "module"}
    assert set(view.__all__) == public


@pytest.mark.parametrize("module", ["spfkit.view.check", "spfkit.view.trace",
                                    "spfkit.view.record_tree"])
def test_all_names_what_the_module_defines(module: str) -> None:
    mod = importlib.import_module(module)
    defined = {name for name, value in vars(mod).items()
               if getattr(value, "__module__", None) == module and not name.startswith("_")}
    constants = {name for name in vars(mod).get("__annotations__", {}) if not name.startswith("_")}
    assert set(mod.__all__) == defined | constants


def test_the_web_server_loads_no_command_line_and_no_rich() -> None:
    code = ("import sys, spfkit.web, spfkit.lookup; "
            "spfkit.web.create_app(spfkit.lookup.MemoryResolver({}), rate_limit=None); "
            "print(sorted({m.split('.')[0] if m.startswith('rich') else m for m in sys.modules "
            "if m.startswith(('rich', 'spfkit.cli'))}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    assert out.stdout.strip() == "[]"
