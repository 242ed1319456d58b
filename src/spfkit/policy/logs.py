"""Where ``spfkit policyd`` logs: syslog, stderr or a file, chosen by ``log`` (docs/policyd.md).

spawn(8) connects the child's stdin, stdout *and stderr* to Postfix's socket, so in that mode
nothing may be written on fd 2: the default there is syslog, and fd 2 is pointed at /dev/null
when it is that socket. Handler errors are never printed (``logging.raiseExceptions``).
Every sink gets the same one-line records (``spfkit.logsink.OneLineFormatter``: the level
kept, tracebacks folded; a file adds the time), and with ``queued`` the sink sits behind a
bounded queue and a writer thread, so a stalled pipe, syslog or journald never stops answers.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Final

from spfkit import logsink
from spfkit.policy.config import ConfigError, PolicyConfig

__all__ = ["LEVELS", "LOGGER", "configure_logging", "level_of", "running_queue", "stop_logging"]

LOGGER: Final = "spfkit.policyd"
LEVELS: Final = {0: logging.WARNING, 1: logging.INFO}


def level_of(config: PolicyConfig) -> int:
    """``debugLevel`` → a logging level: 0 warning, 1 info, 2 and more debug."""
    return LEVELS.get(config.debuglevel, logging.DEBUG)


_QUEUES: dict[str, logsink.QueueLogging] = {}


def _is_socket(path: str) -> bool:
    import stat

    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def _same_socket(fd1: int, fd2: int) -> bool:
    """True when both descriptors are one socket: spawn(8)'s connection to Postfix."""
    import stat

    try:
        one, two = os.fstat(fd1), os.fstat(fd2)
    except OSError:
        return False
    return stat.S_ISSOCK(one.st_mode) and (one.st_dev, one.st_ino) == (two.st_dev, two.st_ino)


def configure_logging(config: PolicyConfig, *, stdio: bool, level: int | None = None,
                      queued: bool = False) -> logging.Logger:
    """Point the ``spfkit.policyd`` logger where ``config.log`` says (see the module doc).

    ``auto`` is syslog for the spawn(8) mode, stderr for the server. With ``queued``, records
    go through a bounded queue to a writer thread (:mod:`spfkit.logsink`); the queue is
    stopped by the next call or :func:`stop_logging`. Returns the logger.
    """
    log = logging.getLogger(LOGGER)
    stop_logging()
    for old in list(log.handlers):
        log.removeHandler(old)
        old.close()
    log.propagate = False
    logging.raiseExceptions = False  # a broken log target must never write on fd 2
    shared = stdio and _same_socket(1, 2)  # spawn(8): fd 2 is the socket to Postfix
    target = config.log if config.log != "auto" else ("syslog" if stdio else "stderr")
    handler: logging.Handler | None = None
    note = ""
    if target == "syslog":
        handler, note = _syslog(config)
    elif target != "stderr":
        from logging.handlers import WatchedFileHandler

        try:
            handler = WatchedFileHandler(target)
        except OSError as exc:
            raise ConfigError(f"cannot open {target}: {exc.strerror or exc}", "log",
                              config.source) from None
        handler.setFormatter(logsink.OneLineFormatter(f"spfkit-policyd[{os.getpid()}]: ",
                                                      timestamp=True))
    if handler is None:
        if shared:
            handler = logging.NullHandler()
        else:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logsink.OneLineFormatter(f"spfkit-policyd[{os.getpid()}]: "))
    if shared:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    log.addHandler(handler)
    log.setLevel(level if level is not None else level_of(config))
    if queued and not isinstance(handler, logging.NullHandler):
        _QUEUES[LOGGER] = logsink.start(log)
    if note:
        log.warning(note)
    return log


def stop_logging() -> bool:
    """Flush and stop the queue (if any) within 2 s; False when the sink is stalled (then
    end the process with ``os._exit``: see :meth:`spfkit.logsink.QueueLogging.stop`)."""
    running = _QUEUES.pop(LOGGER, None)
    return running.stop() if running is not None else True


def running_queue() -> logsink.QueueLogging | None:
    """The queue in front of the log sink now (its ``dropped`` count feeds the metrics)."""
    return _QUEUES.get(LOGGER)


def _syslog(config: PolicyConfig) -> tuple[logging.Handler | None, str]:
    from logging.handlers import SysLogHandler

    address: str | tuple[str, int] = config.syslog_address
    if not config.syslog_address.startswith("/"):
        host, _, port = config.syslog_address.rpartition(":")
        address = (host.strip("[]") or config.syslog_address, int(port) if port.isdigit() else 514)
    facility = SysLogHandler.facility_names[config.syslog_facility]
    if isinstance(address, str) and not _is_socket(address):
        # SysLogHandler would accept it and drop every line: say so instead.
        return None, f"syslog is not reachable at {address} (no such socket)"
    try:
        handler = SysLogHandler(address=address, facility=facility)
    except OSError as exc:
        return None, f"syslog is not reachable at {config.syslog_address} ({exc.strerror or exc})"
    handler.ident = f"spfkit-policyd[{os.getpid()}]: "
    handler.setFormatter(logsink.OneLineFormatter())
    return handler, ""
