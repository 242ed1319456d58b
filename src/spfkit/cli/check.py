"""``spfkit check IP SENDER``: one SPF check, as a receiver would make it (RFC 7208 §2, §4)."""

from __future__ import annotations

import asyncio
import platform

import click

from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.output import print_report
from spfkit.cli.params import client_ip, explanation, time_budget_option
from spfkit.evaluate import DEFAULT_EXPLANATION, CheckOptions, FetchOrder
from spfkit.identity import Identity, strip_reverse_path, subject_for
from spfkit.lookup import Resolver
from spfkit.tree.needs import check_with_needs
from spfkit.view.check import CheckReport

_IDENTITIES = {"mfrom": Identity.MAILFROM, "mailfrom": Identity.MAILFROM, "helo": Identity.HELO}


@click.command("check", context_settings={"ignore_unknown_options": False})
@click.argument("ip", callback=client_ip)
@click.argument("sender")
@click.option("--helo", default="", metavar="HOST", help="HELO/EHLO name the client gave.")
@click.option(
    "--identity",
    type=click.Choice(["mfrom", "helo"]),
    default="mfrom",
    show_default=True,
    help="Which identity to check: MAIL FROM (§2.4; an empty SENDER checks "
    "postmaster@HELO) or HELO (§2.3).",
)
@dns_options
@time_budget_option
@click.option(
    "--default-explanation",
    default=DEFAULT_EXPLANATION,
    callback=explanation,
    show_default=True,
    metavar="TEXT",
    help="Explanation of a fail when the domain gives none (macros allowed, §6.2).",
)
@click.option("--receiver", default=None, metavar="HOST", help="Receiving host name, for "
              "%{r} and the headers [default: this host's name].")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "received-spf", "auth-results"]),
    default="text",
    show_default=True,
    help="text for people; json for scripts; or only the header a receiver would add.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--trace", is_flag=True, help="Also print the evaluation tree (every record, "
              "term and DNS query).")
@click.option("--no-prefetch", is_flag=True, help="Evaluate strictly one lookup at a time.")
@click.option("--fetch-order", type=click.Choice([o.value for o in FetchOrder]), default="eager",
              show_default=True, help="Fetch include/redirect targets as soon as a record is "
              "parsed (eager), or one after another (sequential); see docs/prefetch.md.")
def check_command(
    ip: str,
    sender: str,
    helo: str,
    identity: str,
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    time_budget: float,
    default_explanation: str,
    receiver: str | None,
    fmt: str,
    as_json: bool,
    trace: bool,
    no_prefetch: bool,
    fetch_order: str,
) -> None:
    """Check whether IP may send mail for SENDER (RFC 7208 check_host()).

    SENDER is an address (user@example.com), a bare domain (example.com) or "" for the
    null reverse path (then postmaster@HELO is checked). Put "--" before IP and SENDER when
    SENDER starts with "-".

    When the check stops at a limit of RFC 7208 §4.6.4 (10 DNS-querying terms, 2 void
    lookups), it is made once more with the limits lifted, and the lookups line shows the real
    total (11/10) and what it means; the JSON has it as "budget".

    Exit status: 0 when the check produced one of the seven SPF results (whatever it is),
    2 for a usage error.
    """
    resolver: Resolver = dns_source(nameservers, zones, timeout).resolver()
    chosen = _IDENTITIES[identity]
    if chosen is Identity.HELO and not helo:
        raise click.UsageError("--identity helo needs --helo HOST")
    if not sender.strip().strip("<>") and not helo:
        raise click.UsageError(
            "an empty SENDER (the null reverse-path) is checked as postmaster@HELO: give --helo HOST"
        )
    if chosen is Identity.MAILFROM and "@" in sender and not strip_reverse_path(sender).rpartition("@")[2]:
        raise click.UsageError(f"SENDER {sender!r} has no domain after the @ (like user@example.com)")
    options = CheckOptions(
        default_explanation=default_explanation,
        time_budget=time_budget,
        prefetch=not no_prefetch,
        fetch_order=FetchOrder(fetch_order),
    )
    receiver = receiver or platform.node() or "localhost"
    # past a §4.6.4 limit, the same evaluation with the limits lifted gives the real total
    result, needed = asyncio.run(check_with_needs(
        ip, sender, helo, resolver=resolver, identity=chosen, receiver=receiver, options=options,
        trace=True))
    subject = subject_for(chosen, sender, helo)
    report = CheckReport(ip, sender, helo, chosen, subject, receiver, result, needed)
    print_report(report, "json" if as_json else fmt, trace)
