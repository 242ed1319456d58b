"""``spfkit milter``'s process: libmilter in a thread, the checks on one loop, the signals.

* libmilter's ``smfi_main`` (``Milter.runmilter``) runs in its own thread; it blocks SIGHUP,
  SIGTERM and SIGINT there and in the threads it makes, so the main thread, which keeps them
  unblocked, is where Linux delivers them (a signal sent to the process goes to its main
  thread when that thread takes it). The main thread handles them:
* **SIGHUP** reloads the configuration file: a new one is checked first, and the running one is
  kept (and the failure logged) when it is invalid; connections that began earlier finish under
  the old one. The resolver (and its cache) is kept unless the DNS settings changed; the
  counters (``--stats``, ``--metrics``) keep counting.
* **SIGTERM / SIGINT** stop accepting connections (``smfi_stop``), let the messages in flight
  finish (at most ``deadline`` + 5 seconds), then exit.

libmilter says only "cannot opensocket" when it cannot bind, so the socket is tried here
first (:func:`check_listen`): a missing directory or a port in use is policyd's one line,
``cannot listen on …: reason`` (:class:`~spfkit.policy.server.ServerError`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType

import Milter

from spfkit.metrics import NO_METRICS, ServiceMetrics
from spfkit.milter.adapter import Runtime, milter_class
from spfkit.milter.bridge import LoopThread
from spfkit.milter.config import MilterConfig, libmilter_socket, postfix_socket
from spfkit.milter.control import serve_control
from spfkit.milter.counters import Counters
from spfkit.milter.service import MilterService
from spfkit.policy.config import ConfigError, ListenAddress
from spfkit.policy.server import (
    ServerError,
    clear_stale_socket,
    socket_inode,
    unlink_own_socket,
)
from spfkit.policy.service import make_resolver

__all__ = ["MilterServer", "check_listen"]

NAME = "spfkit"


class MilterServer:
    """One milter process: :meth:`serve` until SIGTERM; ``reload`` reads the config again."""

    def __init__(self, config: MilterConfig, reload: Callable[[], MilterConfig], *,
                 logger: logging.Logger, counters: Counters | None = None,
                 metrics: ServiceMetrics = NO_METRICS) -> None:
        if config.listen is None:
            raise ConfigError("no socket to listen on: give --listen or [milter] listen",
                              "milter.listen", config.policy.source)
        self.config = config
        self.listen: ListenAddress = config.listen
        self._reload = reload
        self.log = logger
        self.counters = counters or Counters(metrics=metrics)  # kept across reloads
        self.service = MilterService(config, make_resolver(config.policy),
                                     counters=self.counters, logger=logger)
        self.loop = LoopThread()
        self.runtime = Runtime(self.service, self.loop)
        self._stopping = threading.Event()
        self._listen_inode: tuple[int, int] | None = None  # the UNIX socket libmilter bound
        self._hup = threading.Event()

    # -- signals -------------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._hup.set()
        else:
            self._stopping.set()

    def reload(self) -> bool:
        """Read the configuration again; keep the running one when the new one is invalid."""
        try:
            config = self._reload()
            if config.listen != self.listen:
                raise ConfigError("the milter socket cannot change on reload (restart instead)",
                                  "milter.listen", config.policy.source)
            dns = (config.policy.nameservers, config.policy.zones, config.policy.dns_timeout)
            old = (self.config.policy.nameservers, self.config.policy.zones,
                   self.config.policy.dns_timeout)
            resolver = make_resolver(config.policy) if dns != old else None
        except ConfigError as exc:
            self.counters.event("reload_failures")
            self.log.error("reload failed, the running configuration is kept: %s", exc)
            return False
        self.config = config
        self.service.reconfigure(config, resolver)
        self.counters.event("reloads")
        self.log.info("configuration reloaded from %s", config.policy.source or "(defaults)")
        return True

    # -- running -------------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT (or libmilter stops); 0 when stopped, 1 when it failed.
        :class:`ServerError` when the socket cannot be bound (nothing has started)."""
        check_listen(self.listen)
        control_path = self.config.control_socket
        if control_path:  # another milter's live one, a missing directory: ServerError
            check_listen(ListenAddress(path=control_path))
        self.loop.start()
        control = control_inode = None
        if control_path:
            control = self.loop.run(serve_control(control_path, self.counters.snapshot), 10.0)
            control_inode = socket_inode(control_path)
        Milter.factory = milter_class(self.runtime)
        Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                Milter.runmilter(NAME, libmilter_socket(self.listen), self.config.milter_timeout)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failure.append(exc)

        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)}
        thread = threading.Thread(target=run, name="libmilter", daemon=True)
        thread.start()
        try:
            self._announce(thread)
            while thread.is_alive() and not self._stopping.is_set():
                self._stopping.wait(0.2)
                if self._hup.is_set():
                    self._hup.clear()
                    self.reload()
            if thread.is_alive():
                self.log.info("stopping: no new connections; finishing %d in flight",
                              self.runtime.active)
                Milter.stop()
                thread.join(10)
            self._drain()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if control is not None and control_path:
                control.close()
                unlink_own_socket(control_path, control_inode)
            if self.listen.path and not failure and not thread.is_alive():
                # libmilter leaves its UNIX socket behind: removed if it is still ours
                unlink_own_socket(self.listen.path, self._listen_inode)
            self.loop.stop()
        if failure:
            self.log.error("the milter could not run on %s: %s", postfix_socket(self.listen),
                           failure[0])
            return 1
        self.log.info("stopped")
        return 0

    def _announce(self, thread: threading.Thread) -> None:
        """Once libmilter's socket exists: its mode set (UNIX), the ready line logged (only
        then: a start that failed says so, never "listening")."""
        bound = False
        if self.listen.is_unix:
            deadline = time.monotonic() + 10
            while thread.is_alive() and time.monotonic() < deadline:
                if os.path.exists(self.listen.path):
                    os.chmod(self.listen.path, self.config.policy.socket_mode)
                    self._listen_inode = socket_inode(self.listen.path)
                    bound = True
                    break
                time.sleep(0.01)
        else:
            bound = _no_delay(self.listen, thread)
        if bound and thread.is_alive():
            self.log.info("listening on %s (Postfix: smtpd_milters = %s)",
                          libmilter_socket(self.listen), postfix_socket(self.listen))

    def _drain(self) -> None:
        limit = time.monotonic() + self.config.policy.deadline + 5
        while self.runtime.active and time.monotonic() < limit:
            time.sleep(0.05)
        if self.runtime.active:
            self.log.warning("exiting with %d connection(s) still open", self.runtime.active)


def check_listen(where: ListenAddress) -> None:
    """Bind ``where`` as libmilter will, and let it go; :class:`ServerError` with the reason
    (policyd's wording) when that fails. At a UNIX path, a socket left by a dead milter is
    removed and a live one's refused (``policy.server.clear_stale_socket``)."""
    address: str | tuple[str, int] = where.path
    family = socket.AF_UNIX
    if where.is_unix:
        clear_stale_socket(where.path)  # a live milter's socket is refused, never taken over
    else:
        family = socket.AF_INET6 if ":" in where.host else socket.AF_INET
        address = (where.host, where.port)
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        if not where.is_unix:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as libmilter does
        probe.bind(address)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ServerError(f"cannot listen on {where}: {reason}") from None
    finally:
        probe.close()
    if where.is_unix:
        os.unlink(where.path)


def _no_delay(listen: ListenAddress, thread: threading.Thread) -> bool:
    """TCP_NODELAY on libmilter's listening socket (Linux hands it on to every accepted one);
    False when the socket never appeared (libmilter could not bind).

    Each milter reply is one small segment answering one small command: with Nagle's
    algorithm against the MTA's delayed ACKs, every round trip waited ~40 ms (about 20
    messages/s per connection over TCP, against hundreds over a UNIX socket).
    """
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        for name in os.listdir("/proc/self/fd"):
            try:
                sock = socket.socket(fileno=int(name))
            except OSError:
                continue
            try:
                if sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6) \
                        and sock.getsockname()[1] == listen.port:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    return True
            except OSError:
                pass
            finally:
                sock.detach()  # the descriptor stays libmilter's
        time.sleep(0.01)
    return False
