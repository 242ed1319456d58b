"""How the CLI tests run ``spfkit``: in this process, or as a real process.

:func:`spfkit` calls :func:`spfkit.cli.main` with the arguments, as ``python -m spfkit`` does,
with stdin, stdout and stderr piped: it saves the start-up of a Python process per call, and
what it returns is what ``subprocess.run(..., capture_output=True, text=True)`` returns::

    proc = spfkit("check", "--zone", zone, "--json", "192.0.2.1", "a@example.com")
    assert proc.returncode == 0 and json.loads(proc.stdout)["result"] == "pass"

:func:`spfkit_process` runs the real program, for what only a process shows: the exit status
of ``python -m spfkit`` and of the ``spfkit`` script, start-up, signals, long-lived servers
(``policyd --listen``, ``web``, ``verifier``), and a terminal (pexpect).
``tests/cli/test_entry_point.py`` checks that both give the same output.

In-process, the global state a command can touch is put back after each call: ``sys``'s
streams, the loggers (``policyd --explain`` configures one), the handlers of the signals a
server catches. A piped process has no terminal; rich and click look for one on file
descriptors 0-2 (to size their output), so while a command runs, any of them that is a
terminal (``pytest -s`` in a shell) points at ``/dev/null``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from spfkit.cli import main

__all__ = ["PYTHON_M", "SCRIPT", "spfkit", "spfkit_process"]

#: the two ways users start the program: ``python -m spfkit`` and the console script
PYTHON_M: tuple[str, ...] = (sys.executable, "-m", "spfkit")
SCRIPT: tuple[str, ...] = (str(Path(sysconfig.get_path("scripts")) / "spfkit"),)

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def spfkit(*args: str, stdin: bytes | str | None = None) -> subprocess.CompletedProcess[str]:
    """``spfkit ARGS`` in this process, with ``stdin`` (nothing when ``None``) piped in.

    The streams are what a piped ``python -m spfkit`` gets (same encodings and error
    handlers, not a terminal); stdout and stderr are captured separately. An exception the
    command does not handle is raised here, with its traceback, instead of exit status 1.
    """
    out, err = io.BytesIO(), io.BytesIO()
    with _piped(_encoded(stdin), out, err), _no_terminal(), _logging_kept(), _signals_kept():
        try:
            status = main(list(args))
        except SystemExit as exc:  # what the interpreter makes of it
            if isinstance(exc.code, int):
                status = exc.code
            else:
                status = int(exc.code is not None)
                if exc.code is not None:
                    print(exc.code, file=sys.stderr)
    return subprocess.CompletedProcess(["spfkit", *args], status, _decoded(out), _decoded(err))


def spfkit_process(*args: str, stdin: bytes | str | None = None, command: Sequence[str] = PYTHON_M,
                   timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``command ARGS`` as a real process: stdin a pipe with ``stdin`` (``/dev/null`` when
    ``None``), stdout and stderr captured, the environment ``os.environ`` (not the C library's,
    where readline, loaded by ``pytest -s`` on a terminal, sets COLUMNS and LINES)."""
    proc = subprocess.run([*command, *args], capture_output=True, timeout=timeout, env=os.environ,
                          input=None if stdin is None else _encoded(stdin),
                          stdin=subprocess.DEVNULL if stdin is None else None)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(),
                                       proc.stderr.decode())


def _encoded(data: bytes | str | None) -> bytes:
    return data.encode() if isinstance(data, str) else data or b""


def _decoded(captured: io.BytesIO) -> str:
    return captured.getvalue().decode()


@contextlib.contextmanager
def _piped(data: bytes, out: io.BytesIO, err: io.BytesIO) -> Iterator[None]:
    """``sys.stdin`` reads ``data``, ``sys.stdout`` and ``sys.stderr`` write to ``out`` and
    ``err``: text streams like the interpreter makes for pipes (the encoding and error handler
    of this process's own streams, block-buffered, ``isatty()`` false)."""
    saved = sys.stdin, sys.stdout, sys.stderr

    def like(original: TextIO | None, buffer: io.BytesIO) -> io.TextIOWrapper:
        assert original is not None, "the interpreter's own streams"
        return io.TextIOWrapper(buffer, encoding=original.encoding, errors=original.errors)

    streams = (like(sys.__stdin__, io.BytesIO(data)), like(sys.__stdout__, out),
               like(sys.__stderr__, err))
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        yield
    finally:
        for stream in streams[1:]:
            stream.flush()
        for stream in streams:
            stream.detach()  # the captured bytes stay readable
        sys.stdin, sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def _no_terminal() -> Iterator[None]:
    """File descriptors 0-2 that are a terminal point at ``/dev/null`` meanwhile."""
    moved: list[tuple[int, int]] = []
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            if os.isatty(fd):
                moved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
        yield
    finally:
        for fd, copy in moved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


def _loggers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    return [logging.getLogger(), *(logger for logger in manager.loggerDict.values()
                                   if isinstance(logger, logging.Logger))]


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """Every logger's handlers, level and propagation, and ``logging.raiseExceptions``, as
    they were (loggers made meanwhile as new); handlers the command added are closed."""
    before = {logger.name: (list(logger.handlers), logger.level, logger.propagate,
                            logger.disabled) for logger in _loggers()}
    raise_exceptions = logging.raiseExceptions
    try:
        yield
    finally:
        logging.raiseExceptions = raise_exceptions
        for logger in _loggers():
            handlers, level, propagate, disabled = before.get(
                logger.name, ([], logging.NOTSET, True, False))
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate, logger.disabled = propagate, disabled


@contextlib.contextmanager
def _signals_kept() -> Iterator[None]:
    """The handlers of SIGINT, SIGTERM and SIGHUP as they were (policyd's spawn mode sets some)."""
    before = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in before.items():
            if handler is not None:  # None: not set from Python, nothing to put back
                signal.signal(sig, handler)
