"""The ``spfkit-policyd`` console script: ``spfkit policyd`` as Postfix's spawn(8) starts it.

spawn(8) starts a process per SMTP connection, so what this loads before the first answer is
paid per connection. :func:`main` imports asyncio without its TLS support, then runs
:func:`spfkit.policy.entry.main` (which reads master.cf's options without click). Only this
module can do the first: importing any ``spfkit.policy`` module imports asyncio.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def _asyncio_without_tls() -> None:
    """Import asyncio without its TLS support: a policy server speaks plain text on a pipe, a
    TCP or a UNIX socket, and ``import ssl`` is ~10 ms of every spawned process's start-up.
    asyncio is written for Pythons built without ssl (``try: import ssl``); ``ssl`` itself
    stays importable for anything else that needs it."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return
    sys.modules["ssl"] = None  # type: ignore[assignment]  # "import ssl" raises ImportError
    try:
        import asyncio  # noqa: F401
    finally:
        del sys.modules["ssl"]


def main() -> int:
    """``spfkit-policyd ARGS``: ``spfkit policyd ARGS`` (see :mod:`spfkit.policy.entry`)."""
    _asyncio_without_tls()
    from spfkit.policy.entry import main as policyd

    return policyd(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
