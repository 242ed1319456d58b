"""The wizard's answers → an SPF record (RFC 7208 §4.6, §5, §2.3), and the words that explain it.

:class:`WizardAnswers` holds which hosts send a domain's mail, as the questions of the wizard
ask it; :func:`build_record` turns them into a :class:`~spfkit.record.model.Record` built from
the same term classes the parser produces, so ``parse_record(build_record(a).canonical())``
gives back an equal record. :func:`mail_host_records` drafts the HELO record of each mail host
(``v=spf1 a -all``, §2.3). The ``parse_*`` helpers check one answer and say what is wrong with
it in a sentence, for the interactive questions and the command line alike.

Pure: no DNS, no files, no terminal; imports nothing outside ``spfkit.record``,
``spfkit.macros`` and ``spfkit.errors``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import (
    AddressValueError,
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
)
from typing import Final, TypeVar

from spfkit.errors import RecordSyntaxError
from spfkit.macros import MacroString, parse_macro_string
from spfkit.record.model import Record, Version
from spfkit.record.parse import parse_record
from spfkit.record.terms import IP4, IP6, MX, PTR, A, All, Include, Qualifier, Term

__all__ = [
    "ALL_EXPLANATIONS",
    "HELO_RECORD",
    "PTR_WARNING",
    "QUESTIONS",
    "RECOMMENDATION",
    "RECOMMENDED_ALL",
    "AllPolicy",
    "MailHostRecord",
    "WizardAnswers",
    "build_record",
    "mail_host_records",
    "parse_all_policy",
    "parse_domain",
    "parse_domain_spec",
    "parse_ip4",
    "parse_ip6",
    "split_mx_hosts",
]


class AllPolicy(StrEnum):
    """The end of the record: what receivers are told about every host not listed (§5.1, §8)."""

    FAIL = "fail"  # "-all", §8.4
    SOFTFAIL = "softfail"  # "~all", §8.5
    NEUTRAL = "neutral"  # "?all", §8.2

    @property
    def qualifier(self) -> Qualifier:
        """§4.6.2: the qualifier of the final ``all``."""
        return _ALL_QUALIFIER[self]

    @property
    def term(self) -> str:
        """The term as written: ``-all``, ``~all`` or ``?all``."""
        return f"{self.qualifier.value}all"

    @property
    def explanation(self) -> str:
        return ALL_EXPLANATIONS[self]


_ALL_QUALIFIER: Final = {
    AllPolicy.FAIL: Qualifier.FAIL,
    AllPolicy.SOFTFAIL: Qualifier.SOFTFAIL,
    AllPolicy.NEUTRAL: Qualifier.NEUTRAL,
}

#: One sentence per choice, in the words of RFC 7208 §8.
ALL_EXPLANATIONS: Final[dict[AllPolicy, str]] = {
    AllPolicy.FAIL: "-all (fail): mail from any other host is not authorized, an explicit "
    "statement receivers may reject on (RFC 7208 §8.4).",
    AllPolicy.SOFTFAIL: "~all (softfail): other hosts are believed not authorized, but without "
    "a strong statement; receivers SHOULD NOT reject on this alone and may look closer "
    "(RFC 7208 §8.5).",
    AllPolicy.NEUTRAL: "?all (neutral): nothing is said about other hosts; receivers treat it "
    "exactly like having no record, so it protects nothing (RFC 7208 §8.2).",
}

#: The default end of a drafted record. A draft is a guess about which hosts send the
#: domain's mail; ~all keeps a forgotten sender's mail flowing while receivers still see that
#: the host was not listed (§8.5), and -all (§8.4) is the goal once that guess is confirmed.
RECOMMENDED_ALL: Final = AllPolicy.SOFTFAIL

RECOMMENDATION: Final = (
    "Recommended: ~all while you confirm that every host sending your mail is listed (a "
    "forgotten sender then gets softfail, which receivers SHOULD NOT reject on alone, RFC 7208 "
    "§8.5); change it to -all once you are sure, so that receivers may reject mail from "
    "anyone else (§8.4)."
)

PTR_WARNING: Final = (
    "ptr is discouraged: RFC 7208 §5.5 says it SHOULD NOT be published - it is slow, less "
    "reliable than other mechanisms when DNS has errors, puts a burden on the .arpa servers, "
    "and works only if every sending host has matching reverse DNS; list the addresses instead."
)

#: The one-line explanation of each question, keyed by the answer it fills in.
QUESTIONS: Final[dict[str, str]] = {
    "mx": "mx: the hosts that receive the domain's mail (its MX records) may also send it; "
    "right for most domains that run their own mail servers.",
    "a": "a: the domain's own address (its A/AAAA records, often a web server) may send mail.",
    "ip4": "ip4: IPv4 addresses or networks that send mail, like 192.0.2.25 or 192.0.2.0/24.",
    "ip6": "ip6: IPv6 addresses or networks that send mail, like 2001:db8::25 or 2001:db8::/48.",
    "a_hosts": "a:NAME: other domains' servers that send your mail, named by their host names "
    "(each costs a DNS lookup, at most 10 in all, RFC 7208 §4.6.4).",
    "mx_domains": "mx:DOMAIN: other domains whose MX hosts send your mail.",
    "includes": "include:DOMAIN: mail providers or services sending for you, by the domain "
    "they publish for it (e.g. _spf.provider.example; they count towards the 10 lookups).",
    "ptr": PTR_WARNING,
    "all_policy": "all: what receivers should think of mail from any host not listed above.",
    "mail_hosts": "HELO records: each mail host says its own name in HELO; a record "
    "'v=spf1 a -all' for that name protects the HELO identity (RFC 7208 §2.3).",
}

#: §2.3: a mail host's own name may only be used by that host.
HELO_RECORD: Final = "v=spf1 a -all"

_LABEL: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class WizardAnswers:
    """What the wizard asked (RFC 7208 §5): which hosts send the domain's mail, and the end.

    Networks and names keep the order given; duplicates are dropped when the record is built.
    """

    mx: bool = True
    a: bool = False
    ip4: tuple[IPv4Network, ...] = ()
    ip6: tuple[IPv6Network, ...] = ()
    #: other domains' servers, by host name ("a:NAME", §5.3)
    a_hosts: tuple[str, ...] = ()
    #: other domains whose MX hosts send ("mx:DOMAIN", §5.4)
    mx_domains: tuple[str, ...] = ()
    #: providers ("include:DOMAIN", §5.2)
    includes: tuple[str, ...] = ()
    ptr: bool = False
    all_policy: AllPolicy = RECOMMENDED_ALL

    @property
    def dns_terms(self) -> int:
        """§4.6.4: how many terms of the drafted record cause DNS lookups (limit 10)."""
        names = (
            len(_unique(self.a_hosts, _name_key))
            + len(_unique(self.mx_domains, _name_key))
            + len(_unique(self.includes, _name_key))
        )
        return int(self.mx) + int(self.a) + names + int(self.ptr)

    def as_dict(self) -> dict[str, object]:
        """The answers for JSON output (the option names of ``spfkit wizard``)."""
        return {
            "mx": self.mx, "a": self.a,
            "ip4": [str(n) for n in self.ip4], "ip6": [str(n) for n in self.ip6],
            "a_hosts": list(self.a_hosts), "mx_domains": list(self.mx_domains),
            "includes": list(self.includes), "ptr": self.ptr, "all": self.all_policy.value,
        }


@dataclass(frozen=True, slots=True)
class MailHostRecord:
    """§2.3: the record of one mail host's own name, for receivers that check HELO."""

    name: str
    record: Record


def build_record(answers: WizardAnswers) -> Record:
    """§4.6: the record the answers describe, terms in the order receivers can match them fastest.

    Addresses (``ip4``, ``ip6``) come first: they match without any DNS query, and evaluation
    stops at the first match (§4.6.2). Then the domain's own ``mx`` and ``a``, other domains'
    servers, providers (``include``), the discouraged ``ptr`` last among mechanisms as §5.5
    asks, and ``all`` at the very end (§5.1: anything after it would never be tested).
    Raises :class:`ValueError` for a domain that is not a valid domain-spec.
    """
    terms: list[Term] = []
    terms += [IP4(network=net) for net in _unique(answers.ip4, lambda n: n)]
    terms += [IP6(network=net) for net in _unique(answers.ip6, lambda n: n)]
    if answers.mx:
        terms.append(MX())
    if answers.a:
        terms.append(A())
    terms += [A(domain_spec=parse_domain_spec(h)) for h in _unique(answers.a_hosts, _name_key)]
    terms += [MX(domain_spec=parse_domain_spec(d)) for d in _unique(answers.mx_domains, _name_key)]
    terms += [
        Include(domain_spec=parse_domain_spec(d)) for d in _unique(answers.includes, _name_key)
    ]
    if answers.ptr:
        terms.append(PTR())
    terms.append(All(answers.all_policy.qualifier))
    return Record(Version.SPF1, tuple(terms))


def mail_host_records(domain: str, hosts: Iterable[str]) -> tuple[MailHostRecord, ...]:
    """§2.3: ``v=spf1 a -all`` for each mail host's own name (its HELO identity).

    The domain itself is left out (its record is the one :func:`build_record` drafts, and a
    name may hold only one SPF record, §4.5), and so are repeated names. Names are checked
    with :func:`parse_domain` and returned without a trailing dot.
    """
    own = parse_domain(domain).lower()
    record = parse_record(HELO_RECORD)
    drafted: list[MailHostRecord] = []
    for host in _unique((parse_domain(h) for h in hosts), str.lower):
        if host.lower() != own:
            drafted.append(MailHostRecord(host, record))
    return tuple(drafted)


def split_mx_hosts(domain: str, hosts: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The MX hosts inside ``domain`` (whose HELO records the wizard drafts) and the others.

    A host outside the domain lives in someone else's zone (a provider's ``mx1.provider.example``):
    its HELO record is its operator's to publish.
    """
    own = domain.lower().rstrip(".")
    inside: list[str] = []
    outside: list[str] = []
    for host in hosts:
        name = host.lower().rstrip(".")
        (inside if name == own or name.endswith("." + own) else outside).append(host)
    return tuple(inside), tuple(outside)


def parse_ip4(text: str) -> IPv4Network:
    """An ``ip4`` answer (§5.6): ``192.0.2.25`` or ``192.0.2.0/24``."""
    value = text.strip()
    if ":" in value:
        raise ValueError(f"{value!r} is an IPv6 address; give it as ip6")
    address, slash, prefix = value.partition("/")
    try:
        ip = IPv4Address(address)
    except AddressValueError:
        raise ValueError(
            f"{value!r} is not an IPv4 address or network (like 192.0.2.25 or 192.0.2.0/24)"
        ) from None
    length = _prefix_length(value, slash, prefix, 32)
    try:
        return IPv4Network((ip, length))
    except ValueError:
        raise _host_bits(value, IPv4Network((ip, length), strict=False), ip) from None


def parse_ip6(text: str) -> IPv6Network:
    """An ``ip6`` answer (§5.6): ``2001:db8::25`` or ``2001:db8::/48``."""
    value = text.strip()
    address, slash, prefix = value.partition("/")
    if ":" not in address:
        hint = "; give it as ip4" if re.fullmatch(r"[0-9]+(?:\.[0-9]+){3}", address) else ""
        raise ValueError(f"{value!r} is not an IPv6 address or network{hint}")
    try:
        if "%" in address:  # a zone index (fe80::1%eth0) means nothing to other hosts
            raise AddressValueError(address)
        ip = IPv6Address(address)
    except AddressValueError:
        raise ValueError(
            f"{value!r} is not an IPv6 address or network (like 2001:db8::25 or 2001:db8::/48)"
        ) from None
    length = _prefix_length(value, slash, prefix, 128)
    if ip.ipv4_mapped is not None and length >= 96:  # RFC 7208 §5: such a client is IPv4
        mapped = IPv4Network((ip.ipv4_mapped, length - 96), strict=False)
        shown = mapped.network_address if mapped.prefixlen == 32 else mapped
        raise ValueError(f"{value!r} is an IPv4-mapped address: receivers check such a client "
                         f"as IPv4, so give it as ip4 ({shown})")
    try:
        return IPv6Network((ip, length))
    except ValueError:
        raise _host_bits(value, IPv6Network((ip, length), strict=False), ip) from None


def _prefix_length(value: str, slash: str, prefix: str, bits: int) -> int:
    """§5.6 ip4-cidr-length / ip6-cidr-length, and no /0: that is every address, like +all."""
    if not slash:
        return bits
    if not re.fullmatch(r"0|[1-9][0-9]{0,2}", prefix) or int(prefix) > bits:
        raise ValueError(f"{value!r}: the prefix length must be a number from 1 to {bits}")
    if prefix == "0":
        raise ValueError(f"{value!r} would allow every address on the Internet (like +all)")
    return int(prefix)


def _host_bits(value: str, network: IPv4Network | IPv6Network, ip: object) -> ValueError:
    return ValueError(
        f"{value!r} has host bits set: write {network} for the whole network "
        f"or {ip} for the one address"
    )


def parse_domain(text: str) -> str:
    """A domain name without macros: ``example.net`` (a trailing dot is dropped).

    Labels of letters, digits, ``-`` and ``_`` (RFC 1035 §2.3.1, with the ``_`` of names like
    ``_spf``), at most 63 octets each and 253 in all (§2.3.4); at least two labels, the last
    not all digits (RFC 7208 §7.1 "toplabel").
    """
    value = text.strip()
    name = value[:-1] if value.endswith(".") else value
    if not name:
        raise ValueError("a domain name is needed, like example.net")
    if len(name) > 253:
        raise ValueError(f"{_short(value)!r} is longer than 253 characters")
    labels = name.split(".")
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(f"{_short(value)!r} is not a domain name: bad label {_short(label)!r}")
    if len(labels) < 2 or labels[-1].isdigit() or "_" in labels[-1]:
        raise ValueError(f"{_short(value)!r} is not a domain name (like example.net)")
    return name


def parse_domain_spec(text: str) -> MacroString:
    """A domain-spec (§7.1, §12): a domain name, macros allowed (``%{i}._spf.example.net``).

    Checked by the record parser itself, so what it accepts is exactly what receivers parse;
    a literal name must also pass :func:`parse_domain`.
    """
    value = text.strip()
    if not value or any(ch.isspace() for ch in value):
        raise ValueError(f"{_short(value)!r} is not a domain name (like example.net)")
    if "%" not in value:
        value = parse_domain(value)  # a literal name: canonical, without the trailing dot
    try:
        parse_record(f"v=spf1 include:{value}")
    except RecordSyntaxError as exc:
        raise ValueError(f"{_short(value)!r}: {exc.reason}") from None
    return parse_macro_string(value)


def parse_all_policy(text: str) -> AllPolicy:
    """The ``all`` answer (§5.1): fail, softfail, neutral, or ``-all``, ``~all``, ``?all``."""
    value = text.strip().lower()
    for policy in AllPolicy:
        if value in (policy.value, policy.term, policy.term[0]):
            return policy
    raise ValueError(f"{_short(text)!r}: answer fail (-all), softfail (~all) or neutral (?all)")


def _unique(items: Iterable[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    """Items in order, without repeats by ``key``."""
    seen: set[Hashable] = set()
    kept: list[_T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            kept.append(item)
    return kept


def _name_key(name: str) -> str:
    """Names compare without case and without the trailing dot (RFC 4343)."""
    return name.strip().lower().removesuffix(".")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
