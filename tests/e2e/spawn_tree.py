"""A copy of spfkit that Postfix's spawn(8) can run as ``nobody``, and the Python to run it.

spawn(8) runs the policy command as ``nobody`` (start-postfix.sh's ``SPAWN_USER``), which
cannot read /root, and on CI the test's Python is pyenv's, under /root. So the tests do not
run spfkit from where it is installed: :class:`SpawnTree` copies spfkit and what it needs
from the installed site-packages into a world-readable directory, and :func:`spawn_python`
picks an interpreter ``nobody`` can run whose version is the test's own (Debian 12's
``/usr/bin/python3``, package ``python3``, on CI).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.e2e.harness import SPAWN_USER, as_user

__all__ = ["SpawnTree", "spawn_python"]


def _requirement_closure(names: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """These distributions and every one they need at run time (no extras), as installed;
    names that are not installed are left out (the import scan below still finds what runs)."""
    env = default_environment()
    env["extra"] = ""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        key = canonicalize_name(todo.pop())
        if key in seen:
            continue
        try:
            dist = importlib.metadata.distribution(key)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen[key] = dist
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    return list(seen.values())


def _declared_dependencies() -> list[str]:
    """spfkit's run-time requirements: the installed metadata's, and the working tree's
    pyproject.toml's when ``import spfkit`` finds a working tree (an editable install's
    metadata is as old as the install)."""
    import tomllib

    import spfkit

    names = ["spfkit"]
    pyproject = Path(spfkit.__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        names += [Requirement(text).name for text in project.get("dependencies", [])]
    return names


# Run by this interpreter: import every module of spfkit, then name the top-level entries of
# site-packages that the imports loaded (modules loaded before, by site's .pth files, are not).
_IMPORT_SCAN = r"""
import importlib, json, os, pkgutil, sys, sysconfig
before = set(sys.modules)
import spfkit
for info in pkgutil.walk_packages(spfkit.__path__, "spfkit."):
    if not info.name.endswith("__main__"):
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            print(f"import {info.name}: {exc!r}", file=sys.stderr)
sites = {os.path.realpath(sysconfig.get_path(k)) for k in ("purelib", "platlib")}
found = set()
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if name in before or not path:
        continue
    path = os.path.realpath(path)
    for site in sites:
        if path.startswith(site + os.sep):
            found.add(os.path.relpath(path, site).split(os.sep)[0])
print(json.dumps(sorted(found)))
"""


def _imported_top_levels() -> list[str]:
    proc = subprocess.run([sys.executable, "-c", _IMPORT_SCAN], capture_output=True, text=True,
                          timeout=120, cwd="/", check=False)
    if proc.returncode != 0:
        raise AssertionError(f"cannot import spfkit's modules:\n{proc.stderr}")
    return json.loads(proc.stdout)


def _top_level(dist: importlib.metadata.Distribution) -> set[str]:
    """The names a distribution installed at the top of site-packages (packages, modules,
    its .dist-info), from its RECORD; scripts, .pth files and editable hooks left out."""
    names = set()
    for path in dist.files or ():
        first = path.parts[0]
        if first in ("..", "__pycache__") or first.startswith("__editable__") or first.endswith(".pth"):
            continue
        names.add(first)
    return names


def _entries_to_copy() -> dict[str, Path]:
    """Top-level site-packages entries spfkit needs at run time, name → path: every
    distribution declared (closure), and every distribution whose modules importing all of
    spfkit loads (so an import nobody declared yet is copied too, not found missing under
    Postfix)."""
    imported = _imported_top_levels()
    owners = importlib.metadata.packages_distributions()
    names = _declared_dependencies() + [d for top in imported for d in owners.get(top.removesuffix(".py"), ())]
    out: dict[str, Path] = {}
    for dist in _requirement_closure(names):
        for top in _top_level(dist):
            out[top] = Path(str(dist.locate_file(top)))
    import sysconfig

    for top in imported:  # modules that no distribution's RECORD names
        if top not in out:
            out[top] = Path(sysconfig.get_path("purelib")) / top
    out.pop("spfkit", None)  # copied from wherever `import spfkit` finds it
    return {name: path for name, path in out.items() if path.exists()}


@dataclass
class SpawnTree:
    """A copy of spfkit and its pure-Python dependencies that ``nobody`` can run.

    Postfix's spawn(8) runs the policy as ``nobody``, which cannot read /root, where pyenv
    (and so the test's interpreter and its site-packages) lives on CI. So: copy spfkit's
    package (whatever ``import spfkit`` finds: the working tree for an editable install) and
    what it needs from the installed site-packages (``_entries_to_copy``: its declared
    requirements and their closure, plus whatever importing all of spfkit loads) into
    ``dir/lib``; byte-compile it with the interpreter that will run it (``nobody`` cannot
    write ``__pycache__``); write a launcher that puts ``dir/lib`` first on ``sys.path`` and
    calls ``spfkit policyd``. The interpreter runs with ``-I -S``: no environment, no user or
    system site-packages (Debian's python3-dnspython must not win).
    """

    dir: Path
    python: str = ""

    @property
    def lib(self) -> Path:
        return self.dir / "lib"

    @property
    def launcher(self) -> Path:
        return self.dir / "spfkit-policyd.py"

    def argv(self, *args: str) -> list[str]:
        return [self.python, "-I", "-S", str(self.launcher), *args]

    def build(self) -> SpawnTree:
        self.python = spawn_python()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lib.mkdir(exist_ok=True)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name, src in sorted(_entries_to_copy().items()):
            if src.is_dir():
                shutil.copytree(src, self.lib / name, ignore=ignore)
            else:
                shutil.copy2(src, self.lib / name)
        import spfkit  # the package itself: for an editable install, the working tree's src/

        shutil.copytree(Path(spfkit.__file__).parent, self.lib / "spfkit", ignore=ignore)
        self.launcher.write_text(
            f"# spfkit policyd for Postfix spawn(8): made by tests/e2e/spawn_tree.py\n"
            f"import sys\n"
            f"sys.path.insert(0, {str(self.lib)!r})\n"
            f"from spfkit.cli import main\n"
            f"sys.exit(main(['policyd', *sys.argv[1:]]))\n"
        )
        subprocess.run([self.python, "-I", "-S", "-m", "compileall", "-q", "-j", "0", str(self.lib)],
                       check=True, capture_output=True, timeout=300)
        for path in [self.dir, *self.dir.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        probe = as_user(SPAWN_USER, *self.argv("--help"))
        if probe.returncode != 0:
            raise AssertionError(f"{SPAWN_USER} cannot run {' '.join(self.argv('--help'))}:\n"
                                 f"{probe.stdout}{probe.stderr}")
        return self


def spawn_python() -> str:
    """An interpreter ``nobody`` can run whose version is this one's (pure-Python copies and
    byte code must fit): Debian's /usr/bin/python3, else this one if ``nobody`` can reach it."""
    want = f"{sys.version_info.major}.{sys.version_info.minor}"
    tried = []
    for candidate in ("/usr/bin/python3", sys.executable):
        # access(2) as nobody, as start-postfix.sh checks it: exec may appear to work through a
        # directory nobody cannot search (seen in a sandbox), with the wrong standard library
        if as_user(SPAWN_USER, "test", "-x", candidate).returncode != 0:
            tried.append(f"{candidate}: {SPAWN_USER} cannot execute it")
            continue
        proc = as_user(SPAWN_USER, candidate, "-I", "-S", "-c",
                        "import os, sys; assert os.access(sys.prefix, os.R_OK | os.X_OK), sys.prefix; "
                        "print('%d.%d' % sys.version_info[:2])")
        got = proc.stdout.strip() if proc.returncode == 0 else f"not runnable ({proc.stderr.strip()[-120:]})"
        if got == want:
            return candidate
        tried.append(f"{candidate}: {got}")
    raise AssertionError(f"no Python {want} that {SPAWN_USER} can run for spawn(8) ({'; '.join(tried)}); "
                         f"on Debian 12: apt-get install -y python3")
