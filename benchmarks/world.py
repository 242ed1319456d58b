"""A synthetic, deterministic SPF world for benchmarks: zone data, checks, and their depth.

``build_world(n_domains, n_checks, seed)`` returns a :class:`World`:

* ``zonedata`` — openspf zone data (``tests/fixtures/zonedata.py`` format): owner → list of
  ``{"TXT": str | [str, ...]}``, ``{"A": str}``, ``{"AAAA": str}``, ``{"MX": [pref, host]}``,
  ``{"PTR": str}``; one dict per resource record. A TXT record longer than 255 octets is
  given already split into character-strings, so every consumer sees the same strings.
* ``checks`` — ``(ip, mail_from, helo)`` triples; ``mail_from == ""`` checks the HELO identity.
* ``shapes`` — which record shape each sender domain got (for the per-shape report).

The record shapes are the ones seen in the wild: big-provider include chains
(``include:_spf.bigmail.example`` → three ``_netblocksN`` records of 10–20 ip4/ip6 ranges),
``mx a ~all`` with MX and A/AAAA data, ``exists:%{i}._spf.%{d}``, ``redirect=`` to a shared
policy, records near and over the 10-lookup limit, ``ptr``, ``exp=``, no record, no domain,
syntax errors, two records, void-lookup bombs. Addresses: authorised ranges in 10.0.0.0/8 and
2001:db8::/32, host addresses in 172.16.0.0/12 and fd00::/8, strangers in the benchmarking
ranges 198.18.0.0/15 and 2001:2::/48.

``to_bind_zone(zonedata)`` writes the same data as one BIND master file for the root zone
(every name fully qualified). :class:`DepthAnalyser` computes, per check, the length of the
longest chain of lookups that depend on each other (see its docstring for the model).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from shapes import LOCAL_PARTS, SHAPES, Builder, ZoneData, providers, sender_domain

from spfkit.errors import RecordSyntaxError
from spfkit.macros import MacroContext
from spfkit.record import IP4, IP6, MX, PTR, A, All, Exists, Include, parse_record

__all__ = ["Analysis", "Check", "DepthAnalyser", "World", "build_world", "to_bind_zone"]

SEED = 7208


@dataclass(frozen=True, slots=True)
class Check:
    """One SMTP transaction to evaluate: client IP, MAIL FROM ("" = HELO identity), HELO."""

    ip: str
    mail_from: str
    helo: str

    @property
    def domain(self) -> str:
        return self.mail_from.rpartition("@")[2] if self.mail_from else self.helo


@dataclass(slots=True)
class World:
    zonedata: ZoneData
    checks: list[Check]
    shapes: dict[str, str]  # sender domain → shape name

    def shape_of(self, check: Check) -> str:
        return self.shapes.get(check.domain.lower(), "helo-host")


# ---------------------------------------------------------------------------------- building


def build_world(n_domains: int = 1000, n_checks: int = 2000, seed: int = SEED) -> World:
    """The benchmark world; the same arguments always give the same world."""
    b = Builder(random.Random(seed))
    rng = b.rng
    provs = providers(b)
    b.add("oldhost.example", "A", b.host_v4())
    hosters = []  # shared hosting: two MX hosts and an outbound smtp host each
    smtp: dict[str, list[str]] = {}
    for k in range(10):
        name = f"hosting{k}.example"
        hosters.append((name, b.host(f"mx1.{name}") + b.host(f"mx2.{name}")))
        smtp[name] = b.host(f"smtp.{name}")
    groups = []  # policies many customers share through redirect=
    for k in range(20):
        hoster = hosters[k % len(hosters)][0]
        terms, pool = b.ranges(rng.randint(1, 3))
        inc = rng.choice(provs)
        owner = f"_spf.group{k}.{hoster}"
        b.txt(owner, f"v=spf1 {' '.join(terms)} a:smtp.{hoster} include:{inc.include} ~all")
        groups.append((owner, pool + smtp[hoster] + inc.pool))
    names, weights = zip(*SHAPES)
    domains = []
    for i in range(n_domains):
        d = f"{rng.choice(('shop', 'mail', 'corp', 'news', 'web', 'app', 'team'))}{i:04d}." \
            f"{rng.choice(('example.com', 'example.net', 'example.org'))}"
        shape = rng.choices(names, weights)[0]
        b.shapes[d] = shape
        sender_domain(b, d, shape, provs, hosters, groups)
        domains.append(d)
    all_pool = [ip for d in domains for ip in b.pools.get(d, ())]
    checks = [_make_check(b, rng.choice(domains), all_pool) for _ in range(n_checks)]
    return World(b.zone, checks, b.shapes)


def _make_check(b: Builder, d: str, all_pool: list[str]) -> Check:
    rng = b.rng
    pool = b.pools.get(d) or []
    roll = rng.random()
    if roll < 0.55 and pool:
        ip = rng.choice(pool)  # authorised
    elif roll < 0.70 and all_pool:
        ip = rng.choice(all_pool)  # authorised for someone else
    elif rng.random() < 0.85:
        ip = str(IPv4Address((198 << 24) + (18 << 16) + rng.randrange(1 << 17)))
    else:
        ip = str(IPv6Address((0x20010002 << 96) + rng.randrange(1 << 80)))
    if rng.random() < 0.1:  # null reverse-path: the HELO identity is checked
        helo = d if rng.random() < 0.5 else f"mx1.{d}"
        return Check(ip, "", helo)
    helo = rng.choice((f"mail.{d}", f"host-{ip.replace('.', '-').replace(':', '-')}.isp.example"))
    return Check(ip, f"{rng.choice(LOCAL_PARTS)}@{d}", helo)


# ---------------------------------------------------------------------------------- BIND


def _quote(s: str) -> str:
    out = []
    for ch in s.encode("utf-8"):
        if ch in (0x22, 0x5C):
            out.append("\\" + chr(ch))
        elif 0x20 <= ch < 0x7F:
            out.append(chr(ch))
        else:
            out.append(f"\\{ch:03d}")
    return '"' + "".join(out) + '"'


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def to_bind_zone(zonedata: Mapping[str, Iterable[Mapping[str, object]]], ttl: int = 300) -> str:
    """The zone data as a BIND master file for the root zone, every name fully qualified."""
    lines = [
        "$ORIGIN .", f"$TTL {ttl}",
        f". IN SOA ns.bench.invalid. hostmaster.bench.invalid. 1 3600 600 86400 {ttl}",
        ". IN NS ns.bench.invalid.", "ns.bench.invalid. IN A 127.0.0.1",
    ]
    for owner, entries in zonedata.items():
        o = _fqdn(owner)
        for entry in entries:
            for rtype, value in entry.items():
                if rtype in ("TXT", "SPF"):
                    parts = value if isinstance(value, list) else [value]
                    rdata = " ".join(_quote(str(p)) for p in parts)
                elif rtype == "MX":
                    pref, host = value  # type: ignore[misc]
                    rdata = f"{pref} {_fqdn(str(host)) if host not in ('', '.') else '.'}"
                elif rtype in ("PTR", "CNAME"):
                    rdata = _fqdn(str(value))
                else:
                    rdata = str(value)
                lines.append(f"{o} IN {rtype} {rdata}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- depth


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the analyser found for one check (see :class:`DepthAnalyser`)."""

    result: str  # its own opinion of the result (an approximation, for cross-checking)
    depth: int  # longest chain of lookups that depend on each other
    rounds: int  # round trips of a sequential evaluator (an mx's host lookups are one round)
    queries: int  # distinct questions asked


class _Stop(Exception):
    def __init__(self, result: str) -> None:
        self.result = result


class DepthAnalyser:
    """The dependency depth of each check, from the zone data alone.

    Model (documented approximation, see README): a lookup takes one unit of time. The
    record's TXT is answered at ``t+1``; every term of that record can ask its questions as
    soon as the TXT is known (terms of one record are independent), so an ``a``/``exists``
    answer comes at ``t+2``, an ``mx``'s MX at ``t+2`` and its hosts' addresses at ``t+3``
    (same for ``ptr``: PTR then the names' addresses), an ``include``/``redirect`` target's
    TXT at ``t+2`` and its own terms below that. The ``exp`` TXT of a fail is asked once the
    result is known (§6.2; openspf "exp-void"), one unit after everything else. Evaluation is
    followed exactly as far as it goes: terms in order until one matches, with the
    RFC 7208 §4.6.4 limits (10 DNS terms, 2 void lookups counted per term, 10 MX/PTR names)
    deciding where a permerror stops it. The depth is the latest answer time; ``rounds`` is
    what a one-question-at-a-time evaluator waits (an mx's host lookups together).
    Lookups the prefetcher may start for terms after the match are not counted: they do not
    delay the result. CNAMEs, %{p} and TIMEOUTs are not modelled (the world has none).
    """

    def __init__(self, zonedata: Mapping[str, Iterable[Mapping[str, object]]]) -> None:
        self.data: dict[tuple[str, str], list[object]] = {}
        for owner, entries in zonedata.items():
            name = owner.lower().rstrip(".")
            for entry in entries:
                for rtype, value in entry.items():
                    if rtype in ("TXT", "SPF"):
                        value = "".join(value) if isinstance(value, list) else value
                    self.data.setdefault((name, rtype), []).append(value)

    def analyse_all(self, checks: Iterable[Check]) -> list[Analysis]:
        return [self.analyse(c) for c in checks]

    def analyse(self, check: Check) -> Analysis:
        run = _Run(self, ip_address(check.ip), check)
        try:
            result = run.check_host(check.domain, 0, ())
            if result == "fail" and run.exp_at is not None:
                run.ask("TXT", run.exp_at, run.depth)  # §6.2: only once the result is known
        except _Stop as stop:
            result = stop.result
        return Analysis(result, run.depth, run.rounds, len(run.memo))


class _Run:
    def __init__(self, a: DepthAnalyser, ip: IPv4Address | IPv6Address, check: Check) -> None:
        self.a, self.ip, self.check = a, ip, check
        self.memo: dict[tuple[str, str], int] = {}
        self.depth = self.rounds = self.terms = self.voids = 0
        self.exp_at: str | None = None
        local, _, dom = check.mail_from.rpartition("@")
        self.sender = check.mail_from if check.mail_from and local else f"postmaster@{dom or check.helo}"
        self.addr_type = "A" if ip.version == 4 else "AAAA"

    def ask(self, rtype: str, name: str, t: int, *, round_trip: bool = True) -> list[object]:
        """Ask at time ``t``; a new question is answered at ``t+1``, a repeated one is not
        asked again (spfkit memoises per check, pyspf caches per check)."""
        key = (name.lower().rstrip("."), rtype)
        if key not in self.memo:
            self.memo[key] = t + 1
            self.depth = max(self.depth, t + 1)
            self.rounds += round_trip
        return self.a.data.get(key, [])

    def void(self, answer: list[object]) -> None:
        if not answer:
            self.voids += 1
            if self.voids > 2:
                raise _Stop("permerror")

    def charge(self) -> None:
        self.terms += 1
        if self.terms > 10:
            raise _Stop("permerror")

    def expand(self, spec: object, domain: str) -> str:
        return spec.expand_domain(MacroContext(self.sender, domain, self.ip, self.check.helo))  # type: ignore[attr-defined]

    def addresses(self, names: list[str], t: int) -> list[object]:
        """The address lookups of one term, sent together: one round trip for all."""
        fresh = any((n.lower().rstrip("."), self.addr_type) not in self.memo for n in names)
        self.rounds += fresh
        return [x for n in names for x in self.ask(self.addr_type, n, t, round_trip=False)]

    def match_ip(self, addrs: list[object], c4: int | None, c6: int | None) -> bool:
        bits = (c4 if c4 is not None else 32) if self.ip.version == 4 else (c6 if c6 is not None else 128)
        cls = IPv4Network if self.ip.version == 4 else IPv6Network
        net = cls((self.ip, bits), strict=False)
        return any(ip_address(str(x)) in net for x in addrs if ip_address(str(x)).version == self.ip.version)

    def check_host(self, domain: str, t: int, chain: tuple[str, ...]) -> str:
        labels = domain.rstrip(".").split(".")
        if len(labels) < 2 or any(not x or len(x) > 63 for x in labels):
            return "none"
        if domain.lower() in chain:
            raise _Stop("permerror")
        chain = (*chain, domain.lower())
        txts = [str(x) for x in self.ask("TXT", domain, t)]
        if chain[:-1]:  # §4.6.4: an include/redirect target without TXT is a void lookup
            self.void(txts)
        spf = [x for x in txts if x.lower() == "v=spf1" or x.lower().startswith("v=spf1 ")]
        if not spf:
            return "none"
        if len(spf) > 1:
            raise _Stop("permerror")
        try:
            record = parse_record(spf[0])
        except RecordSyntaxError:
            raise _Stop("permerror") from None
        t += 1  # every term's questions can be sent once the TXT is known
        for mech in record.mechanisms:
            if self.match(mech, domain, t, chain):
                result = mech.qualifier.result.value
                if result == "fail" and record.explanation is not None:
                    self.exp_at = self.expand(record.explanation.domain_spec, domain)
                return result
        if record.redirect is not None:
            self.charge()
            inner = self.check_host(self.expand(record.redirect.domain_spec, domain), t, chain)
            if inner == "none":
                raise _Stop("permerror")
            return inner
        return "neutral"

    def match(self, mech: object, domain: str, t: int, chain: tuple[str, ...]) -> bool:
        ip = self.ip
        if isinstance(mech, All):
            return True
        if isinstance(mech, IP4):
            return ip.version == 4 and ip in mech.network
        if isinstance(mech, IP6):
            return ip.version == 6 and ip in mech.network
        self.charge()
        if isinstance(mech, Include):
            inner = self.check_host(self.expand(mech.domain_spec, domain), t, chain)
            if inner in ("none", "permerror", "temperror"):
                raise _Stop("permerror")
            return inner == "pass"
        if isinstance(mech, Exists):
            answer = self.ask("A", self.expand(mech.domain_spec, domain), t)
            self.void(answer)
            return bool(answer)
        if isinstance(mech, (A, MX, PTR)):
            target = domain if mech.domain_spec is None else self.expand(mech.domain_spec, domain)
        if isinstance(mech, A):
            answer = self.ask(self.addr_type, target, t)
            self.void(answer)
            return self.match_ip(answer, mech.cidr4, mech.cidr6)
        if isinstance(mech, MX):
            mxs = self.ask("MX", target, t)
            self.void(mxs)
            if len(mxs) > 10:
                raise _Stop("permerror")
            hosts = [str(h) for _, h in sorted(mxs) if h not in ("", ".")]  # type: ignore[misc]
            return self.match_ip(self.addresses(hosts, t + 1), mech.cidr4, mech.cidr6)
        if isinstance(mech, PTR):
            names = [str(n) for n in self.ask("PTR", ip.reverse_pointer, t)]
            self.void(names)
            t_dom = target.lower()
            names = [n for n in names[:10] if n.lower() == t_dom or n.lower().endswith("." + t_dom)]
            return self.match_ip(self.addresses(names, t + 1), None, None)
        raise AssertionError(mech)


if __name__ == "__main__":  # python benchmarks/world.py [--zone FILE] [--json FILE]
    import argparse
    import json

    ap = argparse.ArgumentParser(description="write the benchmark world")
    ap.add_argument("--domains", type=int, default=1000)
    ap.add_argument("--checks", type=int, default=2000)
    ap.add_argument("--zone", help="BIND master file for the root zone")
    ap.add_argument("--json", help="zone data and checks as JSON")
    args = ap.parse_args()
    world = build_world(args.domains, args.checks)
    if args.zone:
        with open(args.zone, "w") as f:
            f.write(to_bind_zone(world.zonedata))
    if args.json:
        with open(args.json, "w") as f:
            checks = [{"ip": c.ip, "mail_from": c.mail_from, "helo": c.helo} for c in world.checks]
            json.dump({"zonedata": world.zonedata, "checks": checks}, f)
    print(f"{len(world.zonedata)} owners, {len(world.checks)} checks")
