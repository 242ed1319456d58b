"""``spfkit wizard DOMAIN``: draft a domain's SPF record, print it as zone lines (RFC 7208 §5, §8).

The answers come from options or, on a terminal, from questions (``spfkit.wizard.interactive``);
``spfkit.wizard.draft`` builds the record and the HELO records of the mail hosts (§2.3),
``spfkit.wizard.zones`` writes the lines. Before printing, the records are linted, and when
DNS answers, the lookups are counted (§4.6.4) as receivers will make them once the records are
published: through an :class:`~spfkit.lookup.overlay.OverlayResolver` serving the drafts.

stdout carries only the output (zone lines, JSON or the record); questions, notes and findings
go to stderr, so ``spfkit wizard example.net >> example.net.zone`` works on a terminal too.
Exit status: 0 when the records were printed, whatever the findings; 2 for a usage error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any, Final

import click
from click.core import ParameterSource

from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.prompter import ClickPrompter
from spfkit.evaluate.budget import MAX_DNS_TERMS, MAX_VOID_LOOKUPS
from spfkit.lint.findings import Finding
from spfkit.view.budget import OVER_LIMIT
from spfkit.wizard.draft import (
    ALL_EXPLANATIONS,
    AllPolicy,
    WizardAnswers,
    parse_domain,
    parse_domain_spec,
    parse_ip4,
    parse_ip6,
    split_mx_hosts,
)
from spfkit.wizard.interactive import interview
from spfkit.wizard.survey import LookupCounts, MxSurvey, look_up_mx, survey
from spfkit.wizard.zones import (
    MAX_TTL,
    answer_size,
    bind_lines,
    split_strings,
    tinydns_lines,
    tinydns_strings,
)

#: the options that answer a question: any of them on the command line means "don't ask"
_ANSWER_PARAMS: Final = ("mx", "own_a", "ip4", "ip6", "a_hosts", "mx_domains", "includes",
                         "ptr", "all_policy", "mail_hosts")
_UDP_LIMIT: Final = 512  # RFC 1035 §4.2.1, without EDNS (tinydns)

#: (name, purpose, record text) of each record to publish
_Published = list[tuple[str, str, str]]


def _checked(parse: Callable[[str], object]) -> Callable[..., Any]:
    """A click callback applying ``parse`` to each value; its ValueError is a usage error."""

    def callback(ctx: click.Context, param: click.Parameter, values: Any) -> Any:
        try:
            if isinstance(values, tuple):
                return tuple(parse(v) for v in values)
            return parse(values)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


def _spec(text: str) -> str:
    return str(parse_domain_spec(text))


def _note(text: str) -> None:
    click.echo(text, err=True)


def _show_finding(finding: Finding) -> None:
    where = f"{finding.domain}: " if finding.domain else ""
    term = f" [{finding.term}]" if finding.term else ""
    _note(f"{finding.severity.value} {finding.code}: {where}{finding.message}{term} "
          f"(RFC {finding.rfc})")
    if finding.fix:
        _note(f"  fix: {finding.fix}")


def _render(
    fmt: str, published: _Published, ttl: int, generic: bool, extra: dict[str, object]
) -> str:
    """The output: zone lines of every record, the first record alone, or all of it as JSON."""
    if fmt == "text":
        return published[0][2]
    if fmt == "bind":
        return "\n".join(line for name, _, text in published
                         for line in bind_lines(name, text, ttl))
    if fmt == "tinydns":
        return "\n".join(line for name, _, text in published
                         for line in tinydns_lines(name, text, ttl, generic=generic))
    records = [
        {"name": name, "purpose": purpose, "text": text,
         "strings": [s.decode("utf-8", "replace") for s in split_strings(text)],
         "bind": bind_lines(name, text, ttl),
         "tinydns": tinydns_lines(name, text, ttl, generic=generic)}
        for name, purpose, text in published
    ]
    out = {"domain": published[0][0], "record": published[0][2], "ttl": ttl, "records": records}
    return json.dumps(out | extra, indent=2)


@click.command("wizard", short_help="Draft a domain's SPF record and print it as zone lines.")
@click.argument("domain", callback=_checked(parse_domain))
@click.option("--mx/--no-mx", default=True, show_default=True,
              help="The domain's MX hosts send its mail (mx). Those inside DOMAIN also get HELO "
              "records (v=spf1 a -all) when DNS can tell them.")
@click.option("--a/--no-a", "own_a", default=False, show_default=True,
              help="The domain's own address, its A/AAAA records, sends mail (a).")
@click.option("--ip4", multiple=True, metavar="NET", callback=_checked(parse_ip4),
              help="An IPv4 address or network that sends mail, e.g. 192.0.2.0/24 (ip4; "
              "repeatable).")
@click.option("--ip6", multiple=True, metavar="NET", callback=_checked(parse_ip6),
              help="An IPv6 address or network that sends mail, e.g. 2001:db8::/48 (ip6; "
              "repeatable).")
@click.option("--a-host", "a_hosts", multiple=True, metavar="HOST", callback=_checked(_spec),
              help="Another domain's server that sends your mail, by host name (a:HOST; "
              "repeatable).")
@click.option("--mx-domain", "mx_domains", multiple=True, metavar="DOMAIN",
              callback=_checked(_spec),
              help="Another domain whose MX hosts send your mail (mx:DOMAIN; repeatable).")
@click.option("--include", "includes", multiple=True, metavar="DOMAIN", callback=_checked(_spec),
              help="A mail provider's SPF domain, e.g. _spf.provider.example (include:DOMAIN; "
              "repeatable).")
@click.option("--ptr", is_flag=True,
              help="Add ptr (discouraged: RFC 7208 §5.5 says it SHOULD NOT be used; it is slow and "
              "unreliable).")
@click.option("--all", "all_policy", type=click.Choice([p.value for p in AllPolicy]),
              default=AllPolicy.SOFTFAIL.value, show_default=True,
              help="The end of the record: fail (-all) lets receivers reject other hosts' mail; "
              "softfail (~all) only marks it, recommended until you are sure every sender is "
              "listed; neutral (?all) says nothing.")
@click.option("--mail-host", "mail_hosts", multiple=True, metavar="NAME",
              callback=_checked(parse_domain),
              help="A mail host's own (HELO) name that gets the record 'v=spf1 a -all' (RFC 7208 "
              "§2.3; repeatable).")
@click.option("--ttl", type=click.IntRange(0, MAX_TTL), default=3600, show_default=True,
              metavar="SECONDS", help="TTL of the zone lines.")
@click.option("--format", "fmt", type=click.Choice(["bind", "tinydns", "json", "text"]),
              default="bind", show_default=True,
              help="bind: master-file lines; tinydns: tinydns-data lines; json: everything, for "
              "scripts; text: the domain's record alone.")
@click.option("--tinydns-generic", is_flag=True,
              help="tinydns lines in the generic form :NAME:16:... whose strings are exactly "
              "BIND's (up to 255 octets) instead of tinydns-data's 127-octet pieces (implies "
              "--format tinydns; also used in the JSON).")
@dns_options
@click.option("--offline", is_flag=True,
              help="Use no DNS at all: the MX hosts are not looked up, lookups not counted.")
@click.option("--interactive/--no-interactive", default=None,
              help="Ask the questions (the options are their defaults), or not.  [default: ask "
              "when stdin is a terminal and no answer option is given]")
@click.pass_context
def wizard_command(
    ctx: click.Context, domain: str, mx: bool, own_a: bool, ip4: tuple[Any, ...],
    ip6: tuple[Any, ...], a_hosts: tuple[str, ...], mx_domains: tuple[str, ...],
    includes: tuple[str, ...], ptr: bool, all_policy: str, mail_hosts: tuple[str, ...], ttl: int,
    fmt: str, tinydns_generic: bool, nameservers: tuple[str, ...], zones: tuple[str, ...],
    timeout: float, offline: bool, interactive: bool | None,
) -> None:
    """Draft the SPF record of DOMAIN (RFC 7208) and print it as zone lines.

    Asks which hosts send DOMAIN's mail - its MX hosts, its own address, other addresses and
    networks, other domains' servers, mail providers - and how strictly to end the record. On
    a terminal without answer options it asks interactively; otherwise the options (and their
    defaults) are the answers. Besides DOMAIN's record it writes 'v=spf1 a -all' for each mail
    host's own name, which protects the HELO identity.

    Before printing, the records are linted and, when DNS answers (the system's resolvers,
    --nameserver or --zone), their DNS lookups are counted as receivers will count them. Only
    the output goes to stdout; questions, notes and findings go to stderr.

    Exit status: 0 when the records were printed (findings are warnings on stderr), 2 for a
    usage error.
    """
    if tinydns_generic:
        if ctx.get_parameter_source("fmt") is ParameterSource.DEFAULT:
            fmt = "tinydns"
        elif fmt not in ("tinydns", "json"):
            raise click.UsageError("--tinydns-generic only applies to --format tinydns or json")
    if offline and (nameservers or zones):
        raise click.UsageError("--offline cannot be combined with --nameserver or --zone")
    resolver = None if offline else dns_source(nameservers, zones, timeout).resolver()
    given = any(ctx.get_parameter_source(p) not in (None, ParameterSource.DEFAULT)
                for p in _ANSWER_PARAMS)
    if interactive is None:
        interactive = sys.stdin.isatty() and not given
    answers = WizardAnswers(mx, own_a, ip4, ip6, a_hosts, mx_domains, includes, ptr,
                            AllPolicy(all_policy))
    mx_survey = asyncio.run(look_up_mx(resolver, domain))
    if resolver is None:
        mx_survey = MxSurvey(problem="--offline: no DNS was used")
    inside, _ = split_mx_hosts(domain, mx_survey.hosts or ())
    if interactive:
        done = interview(domain, ClickPrompter(), defaults=answers, mail_hosts=mail_hosts,
                         mx_hosts=mx_survey.hosts, helo_hosts=inside)
        answers, mail_hosts = done.answers, done.mail_hosts
        _note("")
    else:
        _note(f"note: {ALL_EXPLANATIONS[answers.all_policy]}")
    draft = asyncio.run(survey(domain, answers, mx_survey, resolver, tuple(mail_hosts)))
    published: _Published = [(p.name, p.purpose, p.text) for p in draft.published]
    for note in draft.notes:
        _note(f"note: {note}")
    for error in draft.errors:
        _note(f"error: {error}")
    for finding in draft.findings:
        _show_finding(finding)
    _report_lookups(domain, draft.lookups, draft.not_counted)
    if fmt == "text":
        for name, _, text in published[1:]:
            _note(f"note: also publish for {name}: {text}")
    if fmt == "tinydns":
        _tinydns_notes(published, tinydns_generic)
    counts = draft.lookups
    extra: dict[str, object] = {
        "answers": answers.as_dict(), "mx_hosts": mx_survey.hosts,
        "lookups": None if counts is None else counts.as_dict(),
        "lookups_not_counted": draft.not_counted,
        "findings": [f.as_dict() for f in draft.findings],
    }
    click.echo(_render(fmt, published, ttl, tinydns_generic, extra))


def _report_lookups(domain: str, counts: LookupCounts | None, problem: str | None) -> None:
    if counts is None:
        _note(f"note: DNS lookups could not be counted: {problem}")
        return
    _note(f"lookups: {domain} needs {counts.ipv4} DNS lookup(s) for IPv4 clients and "
          f"{counts.ipv6} for IPv6 clients (limit {MAX_DNS_TERMS}), void lookups "
          f"{counts.void_ipv4}/{counts.void_ipv6} (limit {MAX_VOID_LOOKUPS}), RFC 7208 §4.6.4")
    if counts.over_limit:
        _note(f"warning: over the limit: {OVER_LIMIT}")


def _tinydns_notes(published: _Published, generic: bool) -> None:
    """RFC 7208 §3.4: tinydns answers over UDP only and without EDNS: 512 octets at most."""
    for name, _, text in published:
        size = answer_size(name, split_strings(text) if generic else tinydns_strings(text))
        if size > _UDP_LIMIT:
            _note(f"warning: the TXT answer for {name} is at least {size} octets; tinydns sends "
                  f"at most {_UDP_LIMIT} over UDP and has no TCP, so receivers cannot fetch it "
                  "(RFC 7208 §3.4): shorten the record or serve it with BIND")
    _note("note: tinydns answers only inside zones that have a '.' or 'Z' line in the same "
          "data file")
