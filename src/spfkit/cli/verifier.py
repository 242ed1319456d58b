"""``spfkit verifier``: the SMTP auto-responder that mails authentication reports back.

Runs :class:`~spfkit.responder.handler.VerifierHandler` in aiosmtpd's SMTP server on the
asyncio loop until SIGTERM or SIGINT, then stops listening and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from ipaddress import ip_address
from typing import TYPE_CHECKING

import click

from spfkit import __version__
from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.params import time_budget_option
from spfkit.evaluate import CheckOptions
from spfkit.lookup import Resolver

if TYPE_CHECKING:  # aiosmtpd is imported when the command runs, not for every spfkit command
    from spfkit.responder.handler import RateLimit, VerifierHandler

_DEFAULT_RATE = "5/1h"


def _host_port(value: str, option: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT``; a usage error otherwise."""
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:2525)",
                                 param_hint=option)
    return host, int(port)


def _listen(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, port = _host_port(value, "--listen")
    try:
        ip_address(host)
    except ValueError:
        raise click.BadParameter(f"{host!r} is not an IP address to listen on",
                                 param_hint="--listen") from None
    return host, port


def _relay(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    return _host_port(value, "--relay")


def _rate(ctx: click.Context, param: click.Parameter, value: str) -> RateLimit:
    from spfkit.responder.handler import RateLimit

    try:
        return RateLimit.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _size(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 1024:
        raise click.BadParameter("must be at least 1024 bytes")
    return value


async def _serve(handler: VerifierHandler, listen: tuple[str, int]) -> None:
    from aiosmtpd.smtp import SMTP

    config = handler.config
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return SMTP(handler, hostname=config.hostname, data_size_limit=config.max_size,
                    ident=f"spfkit verifier {__version__}")

    try:
        server = await loop.create_server(factory, host=listen[0], port=listen[1])
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen[0]}:{listen[1]}: "
                                   f"{exc.strerror or exc}") from None
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    click.echo(f"spfkit verifier: listening on {listen[0]}:{listen[1]} for "
               f"{config.address} and {config.local_part}-USER=DOMAIN@{config.hostname}; "
               f"reports via {config.relay[0]}:{config.relay[1]}", err=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        click.echo("spfkit verifier: stopped", err=True)


@click.command("verifier")
@click.option("--listen", required=True, callback=_listen, metavar="HOST:PORT",
              help="Address and port to accept mail on, e.g. 127.0.0.1:2525 ([::1]:2525).")
@click.option("--hostname", required=True, metavar="NAME",
              help="The verifier's domain: it accepts mail for check-auth@NAME.")
@click.option("--relay", required=True, callback=_relay, metavar="HOST:PORT",
              help="SMTP server that delivers the reports (no authentication, no TLS).")
@click.option("--rate", default=_DEFAULT_RATE, show_default=True, callback=_rate,
              metavar="N/PERIOD", help="Reports per sender domain: N per PERIOD, e.g. 5/1h, "
              "20/1d, 3/60 (seconds).")
@click.option("--global-rate", default="100/1h", show_default=True, callback=_rate,
              metavar="N/PERIOD", help="Reports in all, whatever the domains.")
@click.option("--max-size", type=int, default=1_048_576, show_default=True, callback=_size,
              metavar="BYTES", help="Largest message accepted (advertised as SIZE).")
@dns_options
@time_budget_option
@click.option("--quiet", is_flag=True, help="Log only warnings (default: one line per message).")
def verifier_command(
    listen: tuple[str, int],
    hostname: str,
    relay: tuple[str, int],
    rate: RateLimit,
    global_rate: RateLimit,
    max_size: int,
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    time_budget: float,
    quiet: bool,
) -> None:
    """Answer mail to check-auth@HOSTNAME with an authentication report.

    The report (as `spfkit verify` prints it) checks the session's real client IP,
    HELO name and MAIL FROM and the message's PRA, and goes back to the envelope sender
    through the relay, only when that sender passes SPF; mail to
    check-auth-USER=DOMAIN@HOSTNAME sends it to USER@DOMAIN when DOMAIN is the sender's.
    Other recipients are refused; no report goes to the null sender, to the verifier
    itself, or in reply to automatic or list mail (RFC 3834); reports are rate-limited
    per sender domain and in all.

    Runs until SIGTERM or SIGINT. Exit status: 0 after a clean stop, 1 when it cannot
    listen, 2 for a usage error.
    """
    hostname = hostname.strip().rstrip(".")
    if not hostname or any(c.isspace() or c in "@<>[]" for c in hostname):
        raise click.BadParameter(f"{hostname!r} is not a host name", param_hint="--hostname")
    from spfkit.responder.handler import VerifierConfig, VerifierHandler

    resolver: Resolver = dns_source(nameservers, zones, timeout).resolver()
    config = VerifierConfig(hostname=hostname, relay=relay, rate=rate, global_rate=global_rate,
                            max_size=max_size,
                            options=CheckOptions(time_budget=time_budget))
    from spfkit import logsink

    stderr = logging.StreamHandler()
    stderr.setFormatter(logsink.OneLineFormatter("spfkit verifier: "))
    root = logging.getLogger()
    root.handlers[:] = [stderr]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command log
    queued = logsink.start(root)  # a stalled stderr never stops the answers
    try:
        asyncio.run(_serve(VerifierHandler(config, resolver=resolver), listen))
    finally:
        if not queued.stop():  # a stalled stderr must not hang the exit (logsink)
            os._exit(0)
