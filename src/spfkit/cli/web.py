"""``spfkit web``: serve the wizard, the checker, the tester and the JSON API (``spfkit.web``).

uvicorn runs the app on a socket bound here, so a usage error (a non-loopback address
without ``--allow-remote``, a port in use) is one line and exit 2 before anything starts,
and ``--listen 127.0.0.1:0`` can report the port the system chose. One resolver (cached,
or the zone files) serves every request. SIGTERM and SIGINT stop the server cleanly: no new
connections, requests in flight finish, exit status 0. uvicorn and the app are imported
only when the command runs, so ``--help`` works without the ``web`` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Generator
from ipaddress import IPv6Address, ip_address
from typing import TYPE_CHECKING

import click

from spfkit import logsink
from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.metrics_option import metrics_option, start_metrics
from spfkit.record.parse import RECORD_CACHE

if TYPE_CHECKING:
    import uvicorn

_DEFAULT_LISTEN = "127.0.0.1:8080"


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` → (host, port)."""
    text = value.strip()
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            IPv6Address(host)
        except ValueError:
            host = ""
    elif ":" in host:
        host = ""  # an IPv6 address needs its brackets: [::1]:8080
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(
            f"{value!r} is not HOST:PORT (like 127.0.0.1:8080 or [::1]:8080)")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.UsageError(f"cannot listen on {host}:{port}: {reason}") from None


def _server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server with our signal handling: stop and exit 0, no re-raised signal."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    return _Server(config)


async def _serve(server: uvicorn.Server, sock: socket.socket, host: str) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.handle_exit, sig, None)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if server.started:
        port = sock.getsockname()[1]
        click.echo(f"spfkit web: listening on {_url(host, port)}", err=True)
    await task


@click.command("web", short_help="Serve the wizard, checker (with flattening) and tester in a browser.")
@click.option("--listen", default=_DEFAULT_LISTEN, show_default=True, metavar="HOST:PORT",
              callback=_listen,
              help="Address and port to serve on; port 0 picks a free one. Only loopback "
              "addresses unless --allow-remote is given.")
@dns_options
@click.option("--rate-limit", type=click.IntRange(min=0), default=60, show_default=True,
              metavar="N",
              help="Requests per client and minute that make DNS lookups (an IPv6 client "
              "counts by its /64); 0: no limit.")
@click.option("--allow-remote", is_flag=True,
              help="Allow --listen on an address other than loopback. Anyone who reaches the "
              "server can make it send DNS queries; the limits bound how many.")
@metrics_option
def web_command(
    listen: tuple[str, int],
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    rate_limit: int,
    allow_remote: bool,
    metrics_address: tuple[str, int] | None,
) -> None:
    """Serve the SPF wizard, the domain checker and the sender tester as web pages, with the
    same functions as a JSON API (schema at /openapi.json).

    DNS comes from the system's resolvers, --nameserver, or --zone files (offline). Each
    request keeps to RFC 7208's lookup limits and a cap of DNS questions; each client to
    --rate-limit requests a minute. SIGTERM or SIGINT stops the server.

    Exit status: 0 when stopped by a signal, 2 for a usage error.
    """
    import uvicorn

    from spfkit.web import create_app

    host, port = listen
    if not _is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"--listen {host}:{port} is not a loopback address; add --allow-remote to serve "
            "other hosts (they can make this server send DNS queries)")
    resolver = dns_source(nameservers, zones, timeout).resolver()
    sock = _bind(host, port)
    metrics, endpoint = start_metrics(metrics_address, "web")
    metrics.watch_cache("records", RECORD_CACHE.stats)
    if endpoint is not None:
        click.echo(f"spfkit web: metrics on {endpoint.url}", err=True)
    app = create_app(resolver, rate_limit=rate_limit or None, metrics=metrics)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5)
    # uvicorn has set up its loggers: put each behind a queue, so a stalled stderr never
    # stops the answers
    queued = [logsink.start(logging.getLogger(name)) for name in ("uvicorn", "uvicorn.access")]
    for running in queued:
        metrics.watch_log(running)
    try:
        asyncio.run(_serve(_server(config), sock, host))
    finally:
        sock.close()
        if endpoint is not None:
            endpoint.close()
        if not all([running.stop() for running in queued]):  # a stalled stderr (logsink)
            os._exit(0)
