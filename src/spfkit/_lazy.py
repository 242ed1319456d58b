"""Lazy package namespaces (PEP 562): a package names its public objects and the module that
defines each, and a name's module is imported the first time the name is used.

``spfkit policyd`` is started by Postfix's spawn(8) once per SMTP connection, so importing a
package must not import every module it re-exports (the page renderers, the compiler, …).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package``: ``where`` maps each public name to the
    module that defines it; the value is imported on first use and kept in the package."""

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
