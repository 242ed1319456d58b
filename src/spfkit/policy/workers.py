"""``spfkit policyd --listen HOST:PORT --workers N``: N server processes sharing one TCP port.

The parent binds the address first (so a port in use, or port 0, is settled before any worker
starts) with ``SO_REUSEPORT`` and keeps that socket bound but *not listening*: it holds the
port and receives no connections. Each worker is a forked child that binds the same address
with ``SO_REUSEPORT`` and runs its own :class:`~spfkit.policy.server.PolicyServer` — its own
event loop, service, DNS cache and parsed-record cache. The kernel spreads new connections
over the listening workers by a hash of the connection's addresses, so a long-lived Postfix
connection stays with one worker and many connections share the cores.

The parent only supervises, with every signal blocked and read by ``sigwaitinfo``:

* SIGTERM or SIGINT: forward SIGTERM to every worker (each finishes its answers in flight,
  as one server does), wait for them all, exit 0 (1 if a worker failed to stop cleanly).
* SIGHUP: forward it; each worker reloads the configuration itself (checked, as one server).
* A worker that exits while the parent is not stopping is **restarted** (logged with its
  status). Connections already accepted by it are lost with it; its queued, not yet accepted
  ones are reset by the kernel — Postfix retries them. A worker that keeps dying
  (:data:`MAX_RESTARTS` exits within :data:`RESTART_WINDOW` seconds: a bug or a broken
  environment, not bad luck) stops the whole server: the parent stops the others and exits 1.

UNIX sockets are not shared this way (``SO_REUSEPORT`` is for TCP and UDP); ``--workers`` needs
a TCP listen address. Forking needs a parent without threads or an event loop: it runs before
logging queues and loops are started, and each worker starts its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Final

from spfkit.lookup.protocol import Resolver
from spfkit.policy.config import ListenAddress, PolicyConfig
from spfkit.policy.logs import configure_logging, stop_logging
from spfkit.policy.server import PolicyServer, ServerError
from spfkit.policy.service import PolicyService

__all__ = ["MAX_RESTARTS", "MAX_WORKERS", "RESTART_WINDOW", "hold_port", "run_workers", "supervise"]

#: a worker exiting this many times within RESTART_WINDOW seconds ends the server
MAX_RESTARTS: Final = 5
RESTART_WINDOW: Final = 60.0
MAX_WORKERS: Final = 256
_SIGNALS: Final = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD}


def hold_port(address: ListenAddress) -> tuple[socket.socket, ListenAddress]:
    """Bind ``address`` with SO_REUSEPORT without listening; the real port (for port 0).

    Raises :class:`ServerError` when the address cannot be bound (in use, not local).
    """
    if address.is_unix:
        raise ServerError(f"cannot share unix:{address.path} between workers: "
                          "--workers needs a TCP listen address")
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((address.host, address.port))
    except OSError as exc:
        holder.close()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ServerError(f"cannot listen on {address}: {reason}") from None
    return holder, ListenAddress(host=address.host, port=holder.getsockname()[1])


class _Supervisor:
    """The parent's bookkeeping: which worker is which slot, recent exits, stopping or not."""

    def __init__(self, count: int, worker: Callable[[int], int], log: logging.Logger) -> None:
        self.count = count
        self.worker = worker
        self.log = log
        self.pids: dict[int, int] = {}  # pid -> slot
        self.exits: deque[float] = deque()
        self.stopping = False
        self.failed = False

    def start(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: default signals, its own loop; never returns here
            status = 1
            try:
                for signum in _SIGNALS:
                    signal.signal(signum, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
                status = self.worker(slot)
            except BaseException:  # a worker must never fall back into the parent's code
                self.log.exception("worker %d failed", slot)
            finally:
                os._exit(status)
        self.pids[pid] = slot
        self.log.info("worker %d started (pid %d)", slot, pid)

    def forward(self, signum: int) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        """Collect every exited worker; restart it unless stopping or dying too often."""
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.pids.pop(pid, None)
            if slot is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            how = f"status {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"
            if self.stopping:
                if code != 0:
                    self.failed = True
                self.log.info("worker %d (pid %d) stopped with %s", slot, pid, how)
                continue
            now = time.monotonic()
            self.exits.append(now)
            while self.exits and self.exits[0] < now - RESTART_WINDOW:
                self.exits.popleft()
            if len(self.exits) >= MAX_RESTARTS:
                self.log.error("worker %d (pid %d) exited with %s: %d worker exits within %g s, "
                               "stopping the server", slot, pid, how, len(self.exits), RESTART_WINDOW)
                self.failed = True
                self.stop()
                continue
            self.log.warning("worker %d (pid %d) exited with %s; restarting it", slot, pid, how)
            self.start(slot)

    def stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.log.info("stopping %d worker(s)", len(self.pids))
            self.forward(signal.SIGTERM)


def supervise(count: int, worker: Callable[[int], int], log: logging.Logger) -> int:
    """Fork ``count`` workers (``worker(slot)`` runs in each and returns its exit status) and
    supervise them until SIGTERM/SIGINT (see the module doc); returns the exit status."""
    if not 1 <= count <= MAX_WORKERS:
        raise ValueError(f"workers must be 1-{MAX_WORKERS}")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    sup = _Supervisor(count, worker, log)
    try:
        for slot in range(count):
            sup.start(slot)
        while sup.pids:
            info = signal.sigwaitinfo(_SIGNALS)
            if info.si_signo in (signal.SIGTERM, signal.SIGINT):
                sup.stop()
            elif info.si_signo == signal.SIGHUP and not sup.stopping:
                log.info("reloading: SIGHUP sent to %d worker(s)", len(sup.pids))
                sup.forward(signal.SIGHUP)
            sup.reap()
    finally:
        if sup.pids:  # an exception in the parent: leave no worker behind
            sup.forward(signal.SIGTERM)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    log.info("stopped")
    return 1 if sup.failed else 0


def run_workers(config: PolicyConfig, load: Callable[[], PolicyConfig], resolver: Resolver,
                count: int) -> int:
    """``policyd --listen HOST:PORT --workers N``: hold the port, fork ``count`` servers,
    supervise them; returns the exit status. Raises :class:`ServerError` (cannot bind)."""
    assert config.listen is not None
    log = configure_logging(config, stdio=False)  # the parent's: no writer thread before fork
    holder, address = hold_port(config.listen)
    log.info("listening on %s with %d workers", address, count)

    def worker(slot: int) -> int:
        holder.close()
        configure_logging(config, stdio=False, queued=True)
        server = PolicyServer(PolicyService(config, resolver), reload=load, address=address,
                              reuse_port=True)
        try:
            asyncio.run(server.serve())
            return 0
        except ServerError as exc:
            log.error("worker %d: %s", slot, exc)
            return 1
        finally:
            if not stop_logging():
                os._exit(0)  # answers are written; only stalled log lines are lost

    try:
        return supervise(count, worker, log)
    finally:
        holder.close()
