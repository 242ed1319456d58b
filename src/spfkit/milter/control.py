"""The control socket: ``spfkit milter --stats`` asks the running milter for its counters.

A UNIX stream socket (mode 0600: counters are for the operator). One line in (``stats``),
one JSON document out, then the connection is closed. The server side runs on the milter's
event loop; :func:`ask` is the client side, for the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Callable

__all__ = ["COMMANDS", "ask", "serve_control"]

COMMANDS = ("stats", "ping")
_MAX_LINE = 256


async def serve_control(path: str, snapshot: Callable[[], dict[str, object]]) -> asyncio.Server:
    """Listen on ``path`` (a stale socket there is replaced) and answer each command."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await asyncio.wait_for(reader.readline(), 5.0))[:_MAX_LINE]
            command = line.decode("ascii", "replace").strip().lower()
            if command == "stats":
                reply: dict[str, object] = snapshot()
            elif command == "ping":
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown command; use one of {', '.join(COMMANDS)}"}
            writer.write(json.dumps(reply, sort_keys=True).encode() + b"\n")
            await writer.drain()
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    with contextlib.suppress(FileNotFoundError):
        if _is_socket(path):
            os.unlink(path)
    server = await asyncio.start_unix_server(answer, path)
    os.chmod(path, 0o600)
    return server


def _is_socket(path: str) -> bool:
    import stat

    return stat.S_ISSOCK(os.stat(path).st_mode)


def ask(path: str, command: str = "stats", timeout: float = 5.0) -> dict[str, object]:
    """Send ``command`` to the milter at ``path``; its JSON answer. Raises OSError, ValueError."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(path)
        conn.sendall(command.encode("ascii") + b"\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    data = json.loads(b"".join(chunks) or b"null")
    if not isinstance(data, dict):
        raise ValueError("the milter's control socket gave no answer")
    return data
