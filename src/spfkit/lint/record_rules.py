"""Rules on a parsed record that does not do what its author meant (RFC 7208 §4.6–§8; RFC 4406).

Each rule looks at one :class:`~spfkit.record.model.Record` — the parser's output, never the
text again — and returns findings whose ``column`` is the term's column in ``record.text``
and whose ``fixed_record`` (when a fix can be computed) is the record with that one problem
fixed, rendered from the parsed terms. Pure: no I/O imports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Final

from spfkit.errors import shorten
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding
from spfkit.lint.fixes import RecordFixes
from spfkit.lint.include_targets import made_to_be_included
from spfkit.lint.modifier_rules import unknown_modifiers
from spfkit.lint.nesting import nesting
from spfkit.lint.spelling import meant_name
from spfkit.record.model import Record, Version
from spfkit.record.terms import (
    IP4,
    IP6,
    MX,
    PTR,
    A,
    All,
    Exists,
    Include,
    Mechanism,
    Qualifier,
    Term,
    UnknownModifier,
)

__all__ = ["record_findings"]



def record_findings(record: Record, *, domain: str | None = None) -> list[Finding]:
    """Every record-level finding for ``record`` (``domain`` makes "a" equal "a:domain")."""
    out: list[Finding] = []
    fixes = RecordFixes(record)
    for rule in _RULES:
        out.extend(rule(record, domain, fixes))
    return out


def _meant_default(record: Record) -> bool:
    """A "default=" or a misspelt "redirect=" says what was meant; their own rules fix it."""
    return any(isinstance(t, UnknownModifier) and (t.key.lower() == "default"
               or meant_name(t.key) == "redirect") for t in record.terms)


def _first_all(record: Record) -> int | None:
    return next((i for i, m in enumerate(record.mechanisms) if isinstance(m, All)), None)


def _live(record: Record) -> tuple[Mechanism, ...]:
    """The mechanisms that can be tested: up to and including the first "all" (§5.1)."""
    index = _first_all(record)
    return record.mechanisms if index is None else record.mechanisms[: index + 1]


# -- RFC 4406: Sender ID ----------------------------------------------------------------------


def _sender_id(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """RFC 4406 §3: "spf2.0/<scopes>" — a Sender ID record, not an SPF one."""
    if record.version is not Version.SPF2:
        return []
    return [finding(
        "SPF-I315", f"this is a Sender ID record ('{record.version_text}', RFC 4406, scopes "
        f"{', '.join(record.scopes)}), not an SPF record. Sender ID was an experiment: RFC "
        "4406 was published as Experimental, RFC 6686 reported the outcome and it has since "
        "been moved to Historic. Receivers almost never check it, and RFC 7208 receivers "
        "ignore spf2.0 records entirely. Its terms are checked here like SPF terms",
        "nothing is required; you may remove it. Make sure the domain also publishes one "
        "v=spf1 record, which is what receivers use", domain=domain, column=0,
        term=record.version_text)]


# -- §4.7, §5.1, §6.1, §8: "all" and "redirect" ---------------------------------------------


def _all_and_redirect(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    out: list[Finding] = []
    index = _first_all(record)
    redirect = record.redirect
    included = made_to_be_included(domain)
    if index is None and redirect is None and not _meant_default(record):
        if included:
            out.append(finding(
                "SPF-I332", f"{domain} is named like a record made to be included "
                "(a provider's '_spf.' name) and has no 'all': an include asks only whether "
                "it passes (§5.2), so for its includers that is fine. Mail whose own MAIL "
                "FROM or HELO domain is this name gets 'neutral' (§4.7)", "nothing, if it is "
                "only included; if mail is sent with this name, end it with '~all'",
                domain=domain, fixed_record=fixes.adding_mechanism("~all")))
            return out
        out.append(finding(
            "SPF-W301", "the record has neither an 'all' mechanism nor a 'redirect': a client "
            "that matches no mechanism gets 'neutral' (§4.7), which receivers treat exactly "
            "like having no SPF record (§8.2)", "end the mechanisms with '~all' (or '-all' "
            "once you are sure every legitimate sender is listed)", domain=domain,
            fixed_record=fixes.adding_mechanism("~all")))
        return out
    if index is None:
        return out
    first_all = record.mechanisms[index]
    dead = record.mechanisms[index + 1 :]
    if dead:
        out.append(_after_all(record, first_all, dead, domain, fixes))
    if redirect is not None:
        out.append(finding(
            "SPF-E303", f"'{shorten(str(redirect))}' is ignored because the record also has "
            f"'{first_all}': a redirect MUST be ignored when there is an 'all' anywhere in "
            "the record (§5.1, §6.1)", "remove the 'all' if the redirect target should "
            "decide for clients no mechanism matched (the corrected record); or remove the "
            "redirect to keep today's behaviour", domain=domain, column=first_all.column,
            term=str(first_all), fixed_record=fixes.without(first_all)))
    if first_all.qualifier is Qualifier.PASS:
        out.append(finding(
            "SPF-E304", f"'{first_all}' lets every host on the Internet pass SPF for this "
            "domain ('all' without a qualifier means '+all'): anyone can send mail in its "
            "name", "use '-all' (receivers may reject unlisted senders) or '~all' (they "
            "mark them)", domain=domain, column=first_all.column, term=str(first_all),
            fixed_record=fixes.replacing(first_all, "~all")))
    elif first_all.qualifier is Qualifier.NEUTRAL and included:
        out.append(finding(
            "SPF-I331", f"{domain} is named like a record made to be included (a provider's "
            f"'_spf.' name): an include asks only whether it passes (§5.2), so '{first_all}' "
            "changes nothing for its includers. Mail whose own MAIL FROM or HELO domain is "
            "this name gets 'neutral', which protects nothing (§8.2)", "nothing, if it is only "
            "included; if mail is sent with this name, use '~all'", domain=domain,
            column=first_all.column, term=str(first_all),
            fixed_record=fixes.replacing(first_all, "~all")))
    elif first_all.qualifier is Qualifier.NEUTRAL:
        out.append(finding(
            "SPF-W305", f"'{first_all}' gives 'neutral' to every unlisted client, which "
            "receivers treat exactly like no SPF record (§8.2): the record protects nothing. "
            "(If this record only exists to be included by others, it is harmless: an "
            "include asks only whether it passes, §5.2)", "use '~all' (or '-all' once every "
            "legitimate sender is listed); nothing, if the record is only included",
            domain=domain, column=first_all.column, term=str(first_all),
            fixed_record=fixes.replacing(first_all, "~all")))
    return out


def _after_all(record: Record, first_all: Mechanism, dead: Sequence[Mechanism],
               domain: str | None, fixes: RecordFixes) -> Finding:
    """§5.1: mechanisms after "all" MUST be ignored — dead, not invalid; move them, never drop."""
    listed = ", ".join(f"'{shorten(str(m), 40)}'" for m in dead[:4])
    more = f" and {len(dead) - 4} more" if len(dead) > 4 else ""
    moved = [m for m in dead if not isinstance(m, All)]
    dropped = [m for m in dead if isinstance(m, All)]
    # the moved mechanisms go just before the first "all"; later "all"s can never decide
    dead_ids = {id(m) for m in dead}
    terms: list[Term] = [t for t in record.terms if id(t) not in dead_ids]
    at = next(k for k, t in enumerate(terms) if t is first_all)
    terms[at:at] = moved
    fix = ("move them before 'all' if those senders are legitimate (the corrected record), "
           "or delete them if they are not" if moved else
           "delete it" if len(dead) == 1 else "delete them")
    if moved and dropped:
        fix += f"; '{dropped[0]}' after the first 'all' can never decide and is left out"
    return finding(
        "SPF-W330", f"{listed}{more} after '{first_all}' {'is' if len(dead) == 1 else 'are'} "
        "never tested: 'all' always matches, and mechanisms after it MUST be ignored (§5.1). "
        "The record works, but what they list is not authorised", fix, domain=domain,
        column=dead[0].column, term=str(dead[0]), fixed_record=fixes.render(terms))


def _redirect_position(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """§6.1: "any 'redirect' modifier SHOULD appear as the very last term in a record"."""
    redirect = record.redirect
    if redirect is None or _first_all(record) is not None or record.terms[-1] is redirect:
        return []
    rest = [t for t in record.terms if t is not redirect]
    return [finding(
        "SPF-I316", f"'{shorten(str(redirect))}' is not the last term. It still acts only "
        "after every mechanism (§6.1), but RFC 7208 asks for it last so people read the "
        "record right", "move the redirect to the end", domain=domain,
        column=redirect.column, term=str(redirect),
        fixed_record=fixes.render([*rest, redirect]))]


# -- §5.5, §5.6, §4.6.2: mechanisms -----------------------------------------------------------


def _ptr(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    return [finding(
        "SPF-W306", f"'{m}' should not be used: it is slow, unreliable when DNS has "
        "trouble, and puts a heavy load on the .arpa name servers; RFC 7208 says it SHOULD "
        "NOT be published (§5.5), and some receivers skip it", "list the sending hosts with ip4:/ip6: networks "
        "(or a:host) instead", domain=domain, column=m.column, term=str(m))
        for m in _live(record) if isinstance(m, PTR)]


def _target(m: Mechanism, domain: str | None) -> tuple[object, ...]:
    """What a DNS mechanism asks about; equal targets give equal answers (§4.6.2)."""
    spec = getattr(m, "domain_spec", None)
    target = str(spec).lower().rstrip(".") if spec is not None else (domain or "").lower()
    if isinstance(m, (A, MX)):
        return (m.name, target, m.cidr4, m.cidr6)
    return (m.name, target)


def _duplicates(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """§4.6.2: a repeated DNS mechanism cannot match when its twin did not, yet costs a lookup."""
    out: list[Finding] = []
    seen: dict[tuple[object, ...], Mechanism] = {}
    for m in _live(record):
        if not isinstance(m, (Include, A, MX, PTR, Exists)):
            continue
        key = _target(m, domain)
        first = seen.setdefault(key, m)
        if first is m:
            continue
        qualifier = "" if first.qualifier is m.qualifier else (
            f"; its qualifier '{m.qualifier.value}' never takes effect")
        out.append(finding(
            "SPF-W307", f"'{m}' repeats '{first}': if the first did not match, this one "
            f"cannot either{qualifier}, but it costs another DNS lookup toward the limit of "
            "10 (§4.6.4)", f"remove the second '{m}'", domain=domain, column=m.column,
            term=str(m), fixed_record=fixes.without(m)))
    return out


def _networks(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """§4.6.2, §5.6: networks inside earlier ones never decide; §5.1 "all" = every address.

    For each network in record order: "all" of a family if it is one; then each earlier
    network it is the first to widen (an exception, or redundant); then the first earlier
    network it is inside of, if any. The nesting comes from :func:`nesting` in one pass.
    """
    out: list[Finding] = []
    live = _live(record)
    ips = [(i, m) for i, m in enumerate(live) if isinstance(m, (IP4, IP6))]
    nest = nesting([m.network for _, m in ips])
    widens: dict[int, list[int]] = {}
    for p, q in enumerate(nest.widened_by):
        if q is not None:
            widens.setdefault(q, []).append(p)
    same_run = _same_ip_runs(live)
    for q, (j, later) in enumerate(ips):
        net = later.network
        if net.prefixlen == 0 and later.qualifier is Qualifier.PASS:
            out.append(finding(
                "SPF-E304", f"'{later}' matches every {'IPv4' if net.version == 4 else 'IPv6'} "
                "address: anyone can send mail in this domain's name and pass SPF",
                "list only your own networks", domain=domain, column=later.column,
                term=str(later), fixed_record=fixes.without(later)))
        for p in widens.get(q, ()):
            i, earlier = ips[p]
            out.extend(_inner_first(fixes, same_run[i] >= j - 1, earlier, later, domain))
        first = nest.inside[q]
        if first is not None:
            earlier = ips[first][1]
            same = earlier.qualifier is later.qualifier
            out.append(finding(
                "SPF-I309" if same else "SPF-W308",
                f"'{later}' is inside '{earlier}', which comes first"
                + (": it is redundant" if same else
                   f" and gives {earlier.qualifier.result.value}: '{later}' never takes "
                   "effect (the first matching mechanism decides, §4.6.2)"),
                f"remove '{later}'" if same else f"remove '{later}', or move it before "
                f"'{earlier}' if its result was meant as an exception", domain=domain,
                column=later.column, term=str(later), fixed_record=fixes.without(later)))
    return out


def _same_ip_runs(live: Sequence[Mechanism]) -> list[int]:
    """For each ip4/ip6 mechanism, the last index of the run of ip4/ip6 with its qualifier."""
    ends = list(range(len(live)))
    for k in range(len(live) - 2, -1, -1):
        here, after = live[k], live[k + 1]
        if isinstance(here, (IP4, IP6)) and isinstance(after, (IP4, IP6)) \
                and here.qualifier is after.qualifier:
            ends[k] = ends[k + 1]
    return ends


def _inner_first(fixes: RecordFixes, only_alike_between: bool, earlier: Mechanism,
                 later: Mechanism, domain: str | None) -> list[Finding]:
    """A smaller network before a wider one: an exception, or redundant when nothing between.

    ``only_alike_between``: every mechanism between the two is an ip4/ip6 with their qualifier.
    """
    if earlier.qualifier is not later.qualifier:
        return [finding(
            "SPF-I310", f"'{earlier}' is an exception inside the wider '{later}': its "
            f"addresses get {earlier.qualifier.result.value}, the rest of '{later}' gets "
            f"{later.qualifier.result.value} (the first matching mechanism decides, §4.6.2)",
            "nothing to do if this exception is intended", domain=domain,
            column=earlier.column, term=str(earlier))]
    if not only_alike_between:
        return []
    return [finding(
        "SPF-I309", f"'{earlier}' is inside '{later}' with the same result: it is redundant",
        f"remove '{earlier}'", domain=domain, column=earlier.column, term=str(earlier),
        fixed_record=fixes.without(earlier))]


def _host_bits(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """§5.6: "ip4:192.0.2.1/24" means the network 192.0.2.0/24."""
    out: list[Finding] = []
    for m in record.mechanisms:
        if not isinstance(m, (IP4, IP6)) or not m.address_text:
            continue
        try:
            written = ip_address(m.address_text)
        except ValueError:  # pragma: no cover - the parser accepted it
            continue
        if written == m.network.network_address:
            continue
        canonical = type(m)(qualifier=m.qualifier, network=m.network).canonical()  # type: ignore[arg-type]
        out.append(finding(
            "SPF-I317", f"'{m}' has host bits set: receivers use the network {m.network} "
            "(§5.6). Fine if that is what you meant; if you meant the single address, drop "
            "the prefix length", f"write '{canonical}'", domain=domain, column=m.column,
            term=str(m), fixed_record=fixes.replacing(m, canonical)))
    return out


#: RFC 4291 §2.5.5.2: IPv4-mapped IPv6 addresses
MAPPED: Final = IPv6Network("::ffff:0:0/96")


def _mapped(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    """§5: a client at an IPv4-mapped address is checked as the IPv4 address, so an "ip6"
    network inside ::ffff:0:0/96 can never match (§5.6: "ip6" matches IPv6 clients only)."""
    out: list[Finding] = []
    for m in record.mechanisms:
        if not isinstance(m, IP6) or not m.network.subnet_of(MAPPED):
            continue
        ip4 = IPv4Network((int(m.network.network_address) & 0xFFFFFFFF,
                           m.network.prefixlen - 96))
        canonical = IP4(qualifier=m.qualifier, network=ip4).canonical()
        meant = canonical.partition(":")[2]  # the network as ip4 writes it
        out.append(finding(
            "SPF-W318", f"'{m}' is an IPv4-mapped IPv6 network: receivers check such a client "
            f"as its IPv4 address (§5), so this term never matches; ip4:{meant} is meant",
            f"write '{canonical}'", domain=domain, column=m.column, term=str(m),
            fixed_record=fixes.replacing(m, canonical)))
    return out


# -- §6, §6.2: modifiers ------------------------------------------------------------------------


def _explanation(record: Record, domain: str | None, fixes: RecordFixes) -> list[Finding]:
    exp = record.explanation
    if exp is None or any(m.qualifier is Qualifier.FAIL for m in _live(record)):
        return []
    return [finding(
        "SPF-I311", f"'{shorten(str(exp))}' is never used: receivers fetch an explanation "
        "only for a 'fail' result (§6.2), and no mechanism of this record gives fail "
        "(qualifier '-')", "remove it, or keep it for when you move to '-all'",
        domain=domain, column=exp.column, term=str(exp), fixed_record=fixes.without(exp))]


_RULES: Final[tuple[Callable[[Record, str | None, RecordFixes], list[Finding]], ...]] = (
    _sender_id,
    _all_and_redirect,
    _redirect_position,
    _ptr,
    _duplicates,
    _networks,
    _host_bits,
    _mapped,
    _explanation,
    unknown_modifiers,
)
