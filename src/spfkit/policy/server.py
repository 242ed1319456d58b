"""The two ways Postfix reaches the policy service: thin loops around the codec and the service.

* :func:`run_stdio` — spawned by Postfix's spawn(8), one process per SMTP server connection:
  requests on stdin, answers on stdout, until end of input. spawn(8) connects stdin, stdout
  *and stderr* to Postfix's socket, so nothing but answers may be written to fd 1 or 2: logs
  go to syslog (or a file), and fd 2 is pointed at /dev/null when it is the same socket.
* :class:`PolicyServer` — a long-running asyncio server on TCP or a UNIX socket, many
  connections at once (each a :class:`~spfkit.policy.connection.PolicyConnection`) sharing
  one service (and its DNS cache). SIGTERM/SIGINT: stop
  accepting, finish the answers in flight, close. SIGHUP: reload the configuration (checked
  first; a bad one is logged and the old one kept).

Every loop is the style guide's ``for req in reader.feed(chunk): write(render(await
service.handle(req)))`` plus its limits: a connection idle for ``idle_timeout`` seconds, or whose
request is not complete ``read_timeout`` seconds after it began, is closed (:func:`next_wait`,
one pure rule for both loops); at most
``max_connections`` are served at once (more are closed at once, logged); the codec keeps no
more than its limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import socket
import stat
from collections.abc import Callable
from typing import Final

from spfkit.policy.config import ConfigError, ListenAddress, PolicyConfig
from spfkit.policy.connection import PolicyConnection
from spfkit.policy.deadline import Wait, next_wait, request_began
from spfkit.policy.logs import level_of
from spfkit.policy.protocol import PolicyReader, render
from spfkit.policy.service import PolicyService, make_resolver

__all__ = ["PolicyServer", "ServerError", "Wait", "clear_stale_socket", "next_wait",
           "request_began", "run_stdio", "socket_inode", "unlink_own_socket"]

READ_SIZE: Final = 65536  # spawn mode's reads, at most


class ServerError(Exception):
    """The server could not start (address in use, socket path taken, no permission)."""


# --------------------------------------------------------------------------- spawn(8): stdio


def run_stdio(service: PolicyService, *, reload: Callable[[], PolicyConfig] | None = None,
              infd: int = 0, outfd: int = 1) -> int:
    """Answer requests from ``infd`` on ``outfd`` until end of input; returns the exit status.

    Reads block in ``select`` (so ``idle_timeout`` and ``read_timeout`` apply whether stdin is
    a pipe, a socket or a terminal); each request is answered as soon as it is complete.
    SIGTERM ends the process after the answer in progress; SIGHUP reloads the configuration
    before the next request. The handlers only set a flag: the signal wakes ``select``
    through a pipe (``signal.set_wakeup_fd``), so nothing is ever interrupted half-way (an
    exception raised in a handler could land inside the logging queue's lock).
    """
    log = service.log
    state = {"stop": False, "hup": False}

    def on_term(signum: int, frame: object) -> None:
        state["stop"] = True

    def on_hup(signum: int, frame: object) -> None:
        state["hup"] = True

    codec = PolicyReader()
    began: float | None = None
    wake, woken = os.pipe()
    for fd in (wake, woken):
        os.set_blocking(fd, False)
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        previous = signal.set_wakeup_fd(woken)
        try:
            signal.signal(signal.SIGTERM, on_term)
            signal.signal(signal.SIGHUP, on_hup)
            log.debug("answering policy requests on standard input")
            while not state["stop"]:
                if state["hup"]:
                    state["hup"] = False
                    _reload(service, reload)
                now = loop.time()
                wait = next_wait(codec.pending, began, now, service.config)
                began = wait.began
                ready, _, _ = select.select([infd, wake], [], [], max(0.0, wait.until - now))
                if wake in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake, 512)  # a signal: its flag is looked at above
                    continue
                if not ready:
                    log.info("closing: %s", wait.reason)
                    break
                chunk = os.read(infd, READ_SIZE)
                arrived = loop.time()
                if not chunk:
                    if (error := codec.close()) is not None:
                        log.warning("end of input: %s", error.reason)
                    break
                items = codec.feed(chunk)
                for item in items:  # a warm answer needs no turn of the event loop
                    reply = service.answer_now(item) or runner.run(service.answer_later(item))
                    _write_all(outfd, render(reply))
                began = request_began(began, len(items), arrived)
            if state["stop"]:
                log.info("stopping on SIGTERM")
        except (BrokenPipeError, ConnectionResetError):
            log.info("Postfix closed the connection")
        finally:
            signal.set_wakeup_fd(previous)
            os.close(wake)
            os.close(woken)
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _reload(service: PolicyService, reload: Callable[[], PolicyConfig] | None) -> None:
    """SIGHUP: a checked new configuration, or the old one kept (logged either way)."""
    if reload is None:
        service.log.warning("SIGHUP ignored: no configuration file to reload")
        return
    old = service.config
    try:
        new = reload()
        dns = (new.nameservers, new.zones, new.dns_timeout, new.cache_size)
        same = dns == (old.nameservers, old.zones, old.dns_timeout, old.cache_size)
        resolver = None if same else make_resolver(new)
    except ConfigError as exc:
        service.log.error("configuration not reloaded, keeping the old one: %s", exc.one_line())
        return
    service.reconfigure(new, resolver)
    service.log.setLevel(level_of(new))
    fixed = ("listen", "socket_mode", "log", "syslog_facility", "syslog_address")
    if any(getattr(new, name) != getattr(old, name) for name in fixed):
        service.log.warning("changes of %s take effect at the next start", ", ".join(fixed))
    service.log.info("configuration reloaded%s", f" from {new.source}" if new.source else "")


# --------------------------------------------------------------------------- the server


class PolicyServer:
    """Serves the policy protocol on ``config.listen`` (or ``address``) until :meth:`stop` (or
    SIGTERM); with ``reuse_port``, as one of several workers sharing a TCP port (workers.py)."""

    def __init__(self, service: PolicyService, *,
                 reload: Callable[[], PolicyConfig] | None = None,
                 address: ListenAddress | None = None, reuse_port: bool = False) -> None:
        listen = address or service.config.listen
        if listen is None:
            raise ValueError("no listen address configured")
        self.service = service
        self.address: ListenAddress = listen
        #: SO_REUSEPORT: one of several workers on one TCP port (workers.py)
        self._reuse_port = reuse_port
        self._reload = reload
        self._server: asyncio.Server | None = None
        self._connections: set[PolicyConnection] = set()
        self._stopping = asyncio.Event()
        self._unix_inode: tuple[int, int] | None = None

    @property
    def log(self) -> logging.Logger:
        return self.service.log

    async def start(self) -> None:
        """Bind and listen (raises :class:`ServerError`); ``address`` then has the real port."""
        config = self.service.config
        _raise_file_limit(config.max_connections, self.log)
        backlog = min(max(config.max_connections, 128), 4096)
        try:
            loop = asyncio.get_running_loop()
            if self.address.is_unix:
                path = self.address.path
                clear_stale_socket(path)
                self._server = await loop.create_unix_server(
                    self._connection, path=path, backlog=backlog)
                os.chmod(path, config.socket_mode)
                self._unix_inode = socket_inode(path)
            else:
                self._server = await loop.create_server(
                    self._connection, self.address.host, self.address.port, backlog=backlog,
                    reuse_address=True, reuse_port=self._reuse_port or None)
                port = self._server.sockets[0].getsockname()[1]
                self.address = ListenAddress(host=self.address.host, port=port)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ServerError(f"cannot listen on {self.address}: {reason}") from None
        self.log.info("listening on %s", self.address)

    async def serve(self) -> None:
        """:meth:`start`, serve until stopped (SIGTERM, SIGINT), finish in-flight answers."""
        if self._server is None:
            await self.start()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: _reload(self.service, self._reload))
        try:
            await self._stopping.wait()
            await self._shutdown()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)

    def stop(self) -> None:
        """Stop accepting; connections close once their answers in flight are written."""
        if not self._stopping.is_set():
            self.log.info("stopping: finishing %d connection(s)", len(self._connections))
            self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _connection(self) -> PolicyConnection:
        return PolicyConnection(self)

    def admit(self, connection: PolicyConnection) -> bool:
        """A new connection is served unless stopping or ``max_connections`` are (logged)."""
        if self._stopping.is_set() or len(self._connections) >= self.service.config.max_connections:
            self.log.warning("refusing a connection: %s", "stopping" if self._stopping.is_set()
                             else f"{len(self._connections)} connections already (max_connections)")
            return False
        self._connections.add(connection)
        return True

    def forget(self, connection: PolicyConnection) -> None:
        self._connections.discard(connection)

    async def _shutdown(self) -> None:
        """Idle connections are closed at once; busy ones finish their answers in flight,
        for the time a check and a request may take, then are dropped."""
        assert self._server is not None
        self._server.close()
        for connection in list(self._connections):
            if connection.idle:
                connection.close_idle()
        config = self.service.config
        busy = [connection.done for connection in self._connections]
        if busy:
            _, late = await asyncio.wait(busy, timeout=config.deadline + config.read_timeout + 1)
            for connection in list(self._connections):
                connection.close_now()
            if late:
                await asyncio.wait(late, timeout=1)
        await self._server.wait_closed()
        if self.address.is_unix:
            unlink_own_socket(self.address.path, self._unix_inode)
        self.log.info("stopped")


def socket_inode(path: str) -> tuple[int, int] | None:
    """The (device, inode) of the socket a server just bound at ``path`` (None if gone)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def unlink_own_socket(path: str, inode: tuple[int, int] | None) -> None:
    """At stop: remove the socket at ``path`` only if it is still the one this server bound
    (``socket_inode``), never one another server has put there since."""
    if inode is not None and socket_inode(path) == inode:
        with contextlib.suppress(OSError):
            os.unlink(path)


def clear_stale_socket(path: str) -> None:
    """Remove a socket left by a dead server; refuse (:class:`ServerError`) a live one, whose
    server would lose its socket, or a file that is no socket."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ServerError(f"cannot listen on unix:{path}: it exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)  # stale: nobody listens
        return
    except OSError:
        pass
    finally:
        probe.close()
    raise ServerError(f"cannot listen on unix:{path}: another server is listening there")


def _raise_file_limit(connections: int, log: logging.Logger) -> None:
    """Each connection is one descriptor and its checks a few more: raise the soft limit."""
    import resource

    want = 2 * connections + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < want:
        log.warning("open-file limit %d is low for max_connections=%d", new, connections)
