"""The record shapes of the benchmark world, one builder per shape (used by ``world.py``).

Each shape is what real senders publish: big-provider include chains, ``mx a ~all``,
``exists:%{i}._spf.%{d}``, ``redirect=`` to a shared policy, records near and over the
10-lookup limit, ``ptr``, ``exp=``, no record, syntax errors, two records, void-lookup bombs.
A :class:`Builder` collects the zone data (openspf format) and, per sender domain, a pool of
addresses the domain authorises, from which ``world.py`` draws the checks' client IPs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

ZoneData = dict[str, list[dict[str, object]]]


def split_txt(text: str) -> str | list[str]:
    """One TXT record: a string, or its 255-octet character-strings when longer."""
    if len(text) <= 255:
        return text
    return [text[i : i + 255] for i in range(0, len(text), 255)]


@dataclass(slots=True)
class Provider:
    include: str  # what customers write after "include:"
    pool: list[str]  # addresses it authorises (for the checks)
    cost: int  # DNS terms one include of it uses when evaluated fully


@dataclass(slots=True)
class Builder:
    rng: random.Random
    zone: ZoneData = field(default_factory=dict)
    pools: dict[str, list[str]] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)
    v4_units: int = 0
    v6_units: int = 0
    hosts: int = 0

    def add(self, owner: str, rtype: str, value: object) -> None:
        self.zone.setdefault(owner, []).append({rtype: value})

    def txt(self, owner: str, text: str) -> None:
        self.add(owner, "TXT", split_txt(text))

    # -- addresses -------------------------------------------------------------------------

    def v4_range(self) -> IPv4Network:
        """A fresh /22 unit of 10.0.0.0/8, narrowed to a random prefix of 22–32."""
        base = (10 << 24) + (self.v4_units << 10)
        self.v4_units += 1
        return IPv4Network((base, self.rng.choice((22, 23, 24, 24, 25, 26, 27, 28, 32))))

    def v6_range(self) -> IPv6Network:
        base = (0x20010DB8 << 96) + (self.v6_units << 80)
        self.v6_units += 1
        return IPv6Network((base, self.rng.choice((48, 56, 64))))

    def host_v4(self) -> str:
        self.hosts += 1
        return str(IPv4Address((172 << 24) + (16 << 16) + self.hosts))

    def host_v6(self) -> str:
        self.hosts += 1
        return str(IPv6Address((0xFD00 << 112) + self.hosts))

    def inside(self, net: IPv4Network | IPv6Network) -> str:
        return str(net[self.rng.randrange(net.num_addresses)])

    def ranges(self, n: int, v6_share: float = 0.3) -> tuple[list[str], list[str]]:
        """``n`` ip4/ip6 terms and a sample of addresses inside them."""
        terms, pool = [], []
        for _ in range(n):
            net: IPv4Network | IPv6Network
            if self.rng.random() < v6_share:
                net = self.v6_range()
                terms.append(f"ip6:{net}")
            else:
                net = self.v4_range()
                terms.append(f"ip4:{net}")
            pool.append(self.inside(net))
        return terms, pool

    def host(self, name: str, v6: float = 0.4) -> list[str]:
        """A host name with an A record (and often an AAAA); returns its addresses."""
        addrs = [self.host_v4()]
        self.add(name, "A", addrs[0])
        if self.rng.random() < v6:
            addrs.append(self.host_v6())
            self.add(name, "AAAA", addrs[1])
        return addrs

    def verification(self, owner: str) -> None:
        """Real domains carry other TXT records next to SPF."""
        token = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))
        kind = self.rng.choice(("google-site-verification=", "MS=ms", "facebook-domain-verification="))
        self.txt(owner, kind + token)


def providers(b: Builder) -> list[Provider]:
    out: list[Provider] = []
    # Google style: _spf → 3 × _netblocksN with 10–20 ranges each (1 + 3 DNS terms)
    for name in ("bigmail.example", "gmailish.example"):
        pool: list[str] = []
        incs = []
        for n in (1, 2, 3):
            terms, p = b.ranges(b.rng.randint(10, 20))
            owner = f"_netblocks{'' if n == 1 else n}.{name}"
            b.txt(owner, "v=spf1 " + " ".join(terms) + " ~all")
            incs.append(f"include:{owner}")
            pool += p
        b.txt(f"_spf.{name}", "v=spf1 " + " ".join(incs) + " ~all")
        b.host(f"aspmx.l.{name}")
        out.append(Provider(f"_spf.{name}", pool, 4))
    # Microsoft style: ranges + one nested include (2 DNS terms)
    terms, pool = b.ranges(12, 0.4)
    terms2, pool2 = b.ranges(8, 0.4)
    b.txt("spfd.protection.outlookish.example", "v=spf1 " + " ".join(terms2) + " -all")
    b.txt("spf.protection.outlookish.example",
          "v=spf1 " + " ".join(terms) + " include:spfd.protection.outlookish.example -all")
    out.append(Provider("spf.protection.outlookish.example", pool + pool2, 2))
    # flat list (1 DNS term)
    terms, pool = b.ranges(15, 0.2)
    b.txt("sendly.example", "v=spf1 " + " ".join(terms) + " -all")
    b.verification("sendly.example")
    out.append(Provider("sendly.example", pool, 1))
    # redirect style: the include target redirects to the real list (2 DNS terms)
    terms, pool = b.ranges(10, 0.2)
    b.txt("servers.mcsv.example", "v=spf1 redirect=_spf.mcsv.example")
    b.txt("_spf.mcsv.example", "v=spf1 " + " ".join(terms) + " ?all")
    out.append(Provider("servers.mcsv.example", pool, 2))
    # a/mx style: hosts named in the record (1 + 3 DNS terms)
    pool = b.host("smtp1.postbox.example") + b.host("smtp2.postbox.example")
    for i in (1, 2):
        b.add("postbox.example", "MX", [10 * i, f"mx{i}.postbox.example"])
        pool += b.host(f"mx{i}.postbox.example")
    b.txt("spf.postbox.example",
          "v=spf1 a:smtp1.postbox.example a:smtp2.postbox.example mx:postbox.example ~all")
    out.append(Provider("spf.postbox.example", pool, 4))
    return out


_SYNTAX_ERRORS = (
    "v=spf1 include:{p} ip4:10.300.0.1 ~all",  # bad address
    "v=spf1 inclde:{p} ~all",  # typo: unknown mechanism
    "v=spf1 ip4:10.1.2.0/33 -all",  # bad prefix
    "v=spf1 mx a include: ~all",  # empty domain-spec
    "v=spf1 a:mail.%{z}.{d} -all",  # unknown macro letter
    "v=spf1 mx redirect={p} redirect={p}",  # two redirects
    "v=spf1 ip4 10.20.30.40 -all",  # missing colon
    "v=spf1 include:{p}, ~all",  # stray comma (toplabel "example,")
)


def sender_domain(b: Builder, d: str, shape: str, providers: list[Provider],
                   hosters: list[tuple[str, list[str]]], groups: list[tuple[str, list[str]]]) -> None:
    rng = b.rng
    pool: list[str] = []
    all_ = rng.choice(("~all", "-all", "-all", "~all", "?all"))
    if rng.random() < 0.5:
        b.verification(d)
    if shape == "provider":
        chosen = rng.sample(providers, rng.choice((1, 1, 1, 2)))
        terms = [f"include:{p.include}" for p in chosen]
        for p in chosen:
            pool += p.pool
        if rng.random() < 0.3:
            own, p2 = b.ranges(rng.randint(1, 3), 0.2)
            terms = own + terms
            pool += p2
        if rng.random() < 0.3:
            terms = ["mx"] + terms
            b.add(d, "MX", [10, f"aspmx.l.{rng.choice(('bigmail', 'gmailish'))}.example"])
        b.txt(d, "v=spf1 " + " ".join(terms) + " " + all_)
    elif shape == "mx-a":
        hoster, hpool = rng.choice(hosters)
        if rng.random() < 0.5:  # own MX hosts
            for i in range(1, rng.randint(1, 3) + 1):
                b.add(d, "MX", [10 * i, f"mx{i}.{d}"])
                pool += b.host(f"mx{i}.{d}")
        else:  # shared hosting MX
            for i in range(1, 3):
                b.add(d, "MX", [10 * i, f"mx{i}.{hoster}"])
            pool += hpool
        pool += b.host(d, v6=0.3)
        b.txt(d, rng.choice(("v=spf1 mx a ", "v=spf1 a mx ", "v=spf1 +a +mx ", "v=spf1 mx ")) + all_)
    elif shape == "ip-only":
        terms, pool = b.ranges(rng.randint(1, 4), 0.3)
        b.txt(d, "v=spf1 " + " ".join(terms) + " " + rng.choice(("-all", "~all")))
    elif shape == "exists":
        for _ in range(rng.randint(2, 6)):
            ip = b.host_v4()
            pool.append(ip)
            if rng.random() < 0.5:
                b.add(f"{ip}._spf.{d}", "A", "127.0.0.2")
                form = "exists:%{i}._spf.%{d}"
            else:
                b.add(f"{'.'.join(reversed(ip.split('.')))}.in-addr._spf.{d}", "A", "127.0.0.2")
                form = "exists:%{ir}.%{v}._spf.%{d}"
        extra = f"include:{rng.choice(providers).include} " if rng.random() < 0.3 else ""
        b.txt(d, f"v=spf1 {extra}{form} -all")
    elif shape == "redirect":
        target, pool = rng.choice(groups)
        b.txt(d, f"v=spf1 redirect={target}")
    elif shape in ("near-limit", "over-limit"):
        want = rng.choice((9, 10)) if shape == "near-limit" else rng.choice((11, 12, 13))
        terms, cost = [], 0
        for p in rng.sample(providers, len(providers)):
            if cost + p.cost <= want:
                terms.append(f"include:{p.include}")
                pool += p.pool
                cost += p.cost
        while cost < want:  # top up with "a" terms on hosts that exist
            pool += b.host(f"out{cost}.{d}", v6=0.2)
            terms.append(f"a:out{cost}.{d}")
            cost += 1
        rng.shuffle(terms)
        b.txt(d, "v=spf1 " + " ".join(terms) + " " + all_)
    elif shape == "ptr":
        for i in range(rng.randint(1, 3)):
            ip = b.host_v4()
            pool.append(ip)
            b.add(f"out{i}.{d}", "A", ip)
            b.add(ip_address(ip).reverse_pointer, "PTR", f"out{i}.{d}")
        b.txt(d, rng.choice(("v=spf1 ptr -all", f"v=spf1 ptr:{d} ~all", "v=spf1 mx ptr ~all")))
    elif shape == "exp":
        pool += b.host(f"mail.{d}")
        b.add(d, "MX", [10, f"mail.{d}"])
        if rng.random() < 0.8:
            b.txt(f"explain._spf.{d}", "%{i} is not one of %{d}'s designated mail servers.")
        b.txt(d, "v=spf1 mx -all exp=explain._spf.%{d}")
    elif shape == "neutral":
        terms, pool = b.ranges(rng.randint(0, 2))
        b.txt(d, "v=spf1 " + " ".join(terms + ["?all"]))
    elif shape == "none":  # the domain exists, publishes no SPF (maybe something SPF-like)
        pool += b.host(d, v6=0.2)
        if rng.random() < 0.3:
            b.txt(d, rng.choice(("spf1 include:_spf.bigmail.example ~all", "v=spf10 -all")))
    elif shape == "nxdomain":
        return
    elif shape == "syntax-error":
        b.txt(d, rng.choice(_SYNTAX_ERRORS).replace("{p}", rng.choice(providers).include).replace("{d}", d))
    elif shape == "two-records":
        p = rng.choice(providers)
        b.txt(d, f"v=spf1 include:{p.include} ~all")
        b.txt(d, "v=spf1 mx -all")
        pool += p.pool
    elif shape == "void-bomb":  # three names that do not exist before the real terms
        p = rng.choice(providers)
        b.txt(d, f"v=spf1 a:mail.{d} a:smtp.{d} mx:mx.{d} include:{p.include} -all")
        pool += p.pool
    elif shape == "include-none":  # include of a domain without SPF: permerror (§5.2)
        b.txt(d, "v=spf1 include:oldhost.example -all")
    elif shape == "pass-all":
        b.txt(d, "v=spf1 +all")
    b.pools[d] = pool


#: sender-domain shapes and their weights (per mille)
SHAPES: tuple[tuple[str, int], ...] = (
    ("provider", 300), ("mx-a", 150), ("ip-only", 90), ("redirect", 90), ("exists", 50),
    ("near-limit", 50), ("over-limit", 20), ("ptr", 20), ("exp", 20), ("neutral", 30),
    ("none", 80), ("nxdomain", 30), ("syntax-error", 30), ("two-records", 15),
    ("void-bomb", 10), ("include-none", 10), ("pass-all", 5),
)
LOCAL_PARTS = ("alice", "bob", "info", "noreply", "bounces+8231-x7", "newsletter", "support",
           "j.smith", "postmaster", "billing", "hr")
