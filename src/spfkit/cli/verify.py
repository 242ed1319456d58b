"""``spfkit verify MESSAGE``: the verifier's report for a saved message (RFC 7208, 4406, 4407).

IP, HELO and MAIL FROM come from the options, else from the ``Received:`` field that names
the client — the first from the top past the receiver's own relays (loopback, private and
``--trusted-relay`` networks) — and the ``Return-Path:`` of the message; the report says
which.  DNS options as ``spfkit check``.
"""

from __future__ import annotations

import asyncio
import platform
import sys

import click

from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.params import client_ip, time_budget_option
from spfkit.evaluate import DEFAULT_EXPLANATION, CheckOptions
from spfkit.responder.received import Origin, Source, envelope_from_fields
from spfkit.responder.relays import Network, TrustedRelays, parse_network
from spfkit.responder.report import json_text, render_text
from spfkit.responder.verify import lint_findings, verify_message
from spfkit.senderid.pra import header_fields

_MAX_MESSAGE = 64 * 1024 * 1024


def _read(message: str) -> bytes:
    try:
        if message == "-":
            return sys.stdin.buffer.read(_MAX_MESSAGE)
        with open(message, "rb") as handle:
            return handle.read(_MAX_MESSAGE)
    except OSError as exc:
        raise click.UsageError(f"cannot read {message}: {exc.strerror or exc}") from None


def _networks(ctx: click.Context, param: click.Parameter,
              value: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for text in value:
        try:
            networks.append(parse_network(text))
        except ValueError:
            raise click.BadParameter(f"{text!r} is not an IP network or address") from None
    return tuple(networks)


def _need(origin: Origin | None, what: str, option: str, why: str) -> Origin:
    if origin is None:
        raise click.UsageError(f"no {what}: {why}; give {option}")
    return origin


@click.command("verify")
@click.argument("message", metavar="MESSAGE")
@click.option("--ip", callback=client_ip, metavar="IP",
              help="Client IP address [default: from the Received: header that names the "
              "client].")
@click.option("--helo", metavar="HOST",
              help="HELO/EHLO name the client gave [default: from that Received: header].")
@click.option("--trusted-relay", "trusted", multiple=True, metavar="NET", callback=_networks,
              help="A relay of the receiver's own (192.0.2.0/24, 2001:db8::/32 or one "
              "address; repeatable): Received: headers naming it are passed over, like "
              "SpamAssassin's trusted_networks.")
@click.option("--trust-internal/--no-trust-internal", default=True, show_default=True,
              help="Pass over Received: headers naming loopback, private (RFC 1918), "
              "unique-local (fc00::/7) and link-local addresses, such as a content filter "
              "on 127.0.0.1.")
@click.option("--mail-from", metavar="ADDR",
              help='Envelope sender; "" for the null reverse-path [default: from Return-Path:].')
@dns_options
@click.option("--receiver", default=None, metavar="HOST", help="Receiving host named in the "
              "headers (authserv-id, %{r}) [default: this host's name].")
@time_budget_option
@click.option("--no-lint", is_flag=True, help="Leave out the lint findings.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for scripts.")
@click.option("--json", "as_json_flag", is_flag=True, help="Same as --format json.")
def verify_command(
    message: str,
    ip: str | None,
    helo: str | None,
    mail_from: str | None,
    trusted: tuple[Network, ...],
    trust_internal: bool,
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    receiver: str | None,
    time_budget: float,
    no_lint: bool,
    fmt: str,
    as_json_flag: bool,
) -> None:
    """Report what receivers make of a message: MAIL FROM, HELO and PRA checks.

    MESSAGE is a saved message (.eml), or - for standard input. The client is read from
    the Received: headers, from the top, past the receiver's own hops (--trusted-relay
    networks; loopback and private addresses unless --no-trust-internal): the first one
    naming another address is the client, and the report says which header that was.
    The report gives, for each check (mfrom, helo, pra), the result, the identity
    checked, the header a receiver would add, the records fetched and what the result
    means, then the lint findings for the records involved.

    Exit status: 0 when a report was produced (whatever the results), 2 for a usage
    error (unreadable message, no client IP or HELO to be found, bad option).
    """
    data = _read(message)
    fields = header_fields(data)
    if not fields:
        raise click.UsageError(f"{message} has no header fields: is it a message?")
    env = envelope_from_fields(fields, ip=ip, helo=helo, mail_from=mail_from,
                               given=Source.OPTION,
                               relays=TrustedRelays(trusted, internal=trust_internal))
    why = env.client.problem if env.client and env.client.problem else \
        "the Received: header that names the client gives none"
    client = _need(env.ip, "client IP", "--ip IP", why)
    helo_name = _need(env.helo, "HELO name", "--helo HOST", why)
    sender = _need(env.mail_from, "MAIL FROM", '--mail-from ADDR ("" for <>)',
                   "the message has no Return-Path: header")
    resolver = dns_source(nameservers, zones, timeout).resolver()
    options = CheckOptions(default_explanation=DEFAULT_EXPLANATION, time_budget=time_budget)
    report = asyncio.run(verify_message(
        fields, ip=client, helo=helo_name, mail_from=sender, resolver=resolver,
        receiver=receiver or platform.node() or "localhost", options=options,
        linter=None if no_lint else lint_findings,
    ))
    if fmt == "json" or as_json_flag:
        sys.stdout.write(json_text(report))
    else:
        sys.stdout.write(render_text(report))
