"""``spfkit verify MESSAGE``: the verifier's report for a saved message (RFC 7208, 4406, 4407).

IP, HELO and MAIL FROM come from the options, else from the topmost ``Received:`` and the
``Return-Path:`` of the message; the report says which.  DNS options as ``spfkit check``.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys

import click

from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.params import client_ip
from spfkit.evaluate import DEFAULT_EXPLANATION, CheckOptions
from spfkit.responder.received import Origin, Source, envelope_from_fields
from spfkit.responder.report import as_json, render_text
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


def _need(origin: Origin | None, what: str, option: str, why: str) -> Origin:
    if origin is None:
        raise click.UsageError(f"no {what}: {why}; give {option}")
    return origin


@click.command("verify")
@click.argument("message", metavar="MESSAGE")
@click.option("--ip", callback=client_ip, metavar="IP",
              help="Client IP address [default: from the topmost Received: header].")
@click.option("--helo", metavar="HOST",
              help="HELO/EHLO name the client gave [default: from the topmost Received:].")
@click.option("--mail-from", metavar="ADDR",
              help='Envelope sender; "" for the null reverse-path [default: from Return-Path:].')
@dns_options
@click.option("--receiver", default=None, metavar="HOST", help="Receiving host named in the "
              "headers (authserv-id, %{r}) [default: this host's name].")
@click.option("--time-budget", type=float, default=20.0, show_default=True, metavar="SECONDS",
              help="Time limit of each check (RFC 7208 §4.6.4).")
@click.option("--no-lint", is_flag=True, help="Leave out the lint findings.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for scripts.")
@click.option("--json", "as_json_flag", is_flag=True, help="Same as --format json.")
def verify_command(
    message: str,
    ip: str | None,
    helo: str | None,
    mail_from: str | None,
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

    MESSAGE is a saved message (.eml), or - for standard input. The report gives, for
    each check (mfrom, helo, pra), the result, the identity checked, the header a
    receiver would add, the records fetched and what the result means, then the lint
    findings for the records involved.

    Exit status: 0 when a report was produced (whatever the results), 2 for a usage
    error (unreadable message, no client IP or HELO to be found, bad option).
    """
    if time_budget <= 0:
        raise click.BadParameter("must be more than 0 seconds", param_hint="--time-budget")
    data = _read(message)
    fields = header_fields(data)
    if not fields:
        raise click.UsageError(f"{message} has no header fields: is it a message?")
    env = envelope_from_fields(fields, ip=ip, helo=helo, mail_from=mail_from,
                               given=Source.OPTION)
    top = "the topmost Received: header names none" if any(
        n.lower() == "received" for n, _ in fields) else "the message has no Received: header"
    client = _need(env.ip, "client IP", "--ip IP", top)
    helo_name = _need(env.helo, "HELO name", "--helo HOST", top)
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
        sys.stdout.write(json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(report))
