"""A generated population of domains with known truth, for the survey tests and benchmark.

``build(n, seed)`` returns ``(data, truth)``: ``data`` for ``fixtures.fastdns.FastDNSServer``
and, per domain, the :class:`Truth` the generator *decided* (shape → record → what a survey
must find). Nothing here asks spfkit: lookup counts are the sums of the shapes' own costs
(RFC 7208 §4.6.4 as the shape was built), results follow from the qualifier the shape chose
(the sample clients of a survey match no range and no host).

Shapes and weights after the benchmark world (``benchmarks/shapes.py``): big-provider include
chains, ``mx a``, ``ip4`` lists, ``redirect=``, near and over the 10-lookup limit, void-lookup
bombs, syntax errors, two records, no record, NXDOMAIN, ``+all``/``?all``, TXT RRsets over 512
octets (TCP), names that time out and names that SERVFAIL; DMARC: none, ``p=none`` (with or
without ``rua``), ``quarantine``/``reject`` with ``pct``, invalid, several, non-DMARC TXT.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SHAPES", "Truth", "build"]

RESULT = {"-": "fail", "~": "softfail", "?": "neutral", "+": "pass"}


@dataclass(slots=True)
class Truth:
    domain: str
    shape: str
    dns: str = "NOERROR"
    spf: str = "none"
    all: str | None = None
    redirect: str | None = None
    includes: tuple[str, ...] = ()
    result: str | None = None  # both families
    lookups: int | None = None  # both families
    void: int | None = None
    tcp: bool = False
    dmarc: str = "none"
    dmarc_dns: str | None = "NXDOMAIN"
    dmarc_p: str | None = None
    dmarc_pct: int | None = None
    dmarc_rua: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _World:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.data: dict[str, dict[str, list[Any]]] = {}
        self.net = 0

    def add(self, name: str, rtype: str, value: Any) -> None:
        self.data.setdefault(name, {}).setdefault(rtype, []).append(value)

    def txt(self, name: str, text: str) -> None:
        self.add(name, "TXT", tuple(text[i : i + 255] for i in range(0, len(text), 255)) or ("",))

    def host(self, name: str) -> None:
        self.net += 1
        self.add(name, "A", f"172.{16 + self.net // 65536 % 16}.{self.net // 256 % 256}.{self.net % 256}")
        self.add(name, "AAAA", f"fd00::{self.net >> 16:x}:{self.net & 0xffff:x}")

    def ranges(self, n: int) -> list[str]:
        out = []
        for _ in range(n):
            self.net += 1
            if self.rng.random() < 0.3:
                out.append(f"ip6:2001:db8:{self.net % 65536:x}::/48")
            else:
                out.append(f"ip4:10.{self.net // 256 % 256}.{self.net % 256}.0/24")
        return out


def _providers(w: _World) -> list[tuple[str, int]]:
    """(include target, lookups one include of it costs, the include itself counted)."""
    incs = []
    for n in (1, 2, 3):
        w.txt(f"_nb{n}.bigmail.example", "v=spf1 " + " ".join(w.ranges(w.rng.randint(10, 20))) + " ~all")
        incs.append(f"include:_nb{n}.bigmail.example")
    w.txt("_spf.bigmail.example", "v=spf1 " + " ".join(incs) + " ~all")
    w.host("aspmx.bigmail.example")
    w.txt("spfd.outlookish.example", "v=spf1 " + " ".join(w.ranges(8)) + " -all")
    w.txt("spf.outlookish.example", "v=spf1 " + " ".join(w.ranges(12)) + " include:spfd.outlookish.example -all")
    w.txt("sendly.example", "v=spf1 " + " ".join(w.ranges(15)) + " -all")
    w.txt("servers.mcsv.example", "v=spf1 redirect=_spf.mcsv.example")
    w.txt("_spf.mcsv.example", "v=spf1 " + " ".join(w.ranges(10)) + " ?all")
    for h in ("smtp1.postbox.example", "smtp2.postbox.example", "mx1.postbox.example", "mx2.postbox.example"):
        w.host(h)
    w.add("postbox.example", "MX", (10, "mx1.postbox.example"))
    w.add("postbox.example", "MX", (20, "mx2.postbox.example"))
    w.txt("spf.postbox.example", "v=spf1 a:smtp1.postbox.example a:smtp2.postbox.example mx:postbox.example ~all")
    for k in range(20):  # redirect groups: 1 include inside
        w.txt(f"_spf.group{k}.example", "v=spf1 " + " ".join(w.ranges(3)) + " include:sendly.example -all")
    return [("_spf.bigmail.example", 4), ("spf.outlookish.example", 2), ("sendly.example", 1),
            ("servers.mcsv.example", 2), ("spf.postbox.example", 4)]


SHAPES: tuple[tuple[str, int], ...] = (
    ("provider", 300), ("mx-a", 150), ("ip-only", 90), ("redirect", 90), ("near-limit", 50),
    ("over-limit", 20), ("neutral", 30), ("pass-all", 5), ("none", 80), ("nxdomain", 30),
    ("syntax-error", 30), ("two-records", 15), ("void-bomb", 10), ("big-txt", 20),
    ("timeout", 10), ("servfail", 5),
)
_SYNTAX = ("v=spf1 include:sendly.example ip4:10.300.0.1 ~all", "v=spf1 inclde:sendly.example ~all",
           "v=spf1 ip4:10.1.2.0/33 -all", "v=spf1 mx a include: ~all", "v=spf1 a:mail.%{z}.example -all",
           "v=spf1 mx redirect=a.example redirect=b.example", "v=spf1 ip4 10.20.30.40 -all")


def _spf(w: _World, d: str, shape: str, t: Truth, providers: list[tuple[str, int]]) -> None:
    rng = w.rng
    q = rng.choice("~--~?")
    if shape in ("provider", "near-limit", "over-limit"):
        if shape == "provider":
            chosen = rng.sample(providers, rng.choice((1, 1, 1, 2)))
            want = sum(c for _, c in chosen)
        else:
            want = rng.choice((9, 10)) if shape == "near-limit" else rng.choice((11, 12, 13))
            chosen, cost = [], 0
            for p in rng.sample(providers, len(providers)):
                if cost + p[1] <= want:
                    chosen.append(p)
                    cost += p[1]
        terms = [f"include:{p}" for p, _ in chosen]
        cost = sum(c for _, c in chosen)
        tops = 0
        while cost + tops < want:  # top up with "a" terms on hosts that exist (no void)
            w.host(f"out{tops}.{d}")
            terms.append(f"a:out{tops}.{d}")
            tops += 1
        if shape == "provider" and rng.random() < 0.3:
            terms = w.ranges(rng.randint(1, 3)) + terms
        if shape == "provider" and rng.random() < 0.3:
            terms = ["mx", *terms]
            w.add(d, "MX", (10, "aspmx.bigmail.example"))
            cost += 1
        w.txt(d, "v=spf1 " + " ".join(terms) + f" {q}all")
        t.includes = tuple(p for p, _ in chosen)
        t.lookups = cost + tops
        t.result = "permerror" if t.lookups > 10 else RESULT[q]
    elif shape == "mx-a":
        for i in range(1, rng.randint(1, 3) + 1):
            w.add(d, "MX", (10 * i, f"mx{i}.{d}"))
            w.host(f"mx{i}.{d}")
        w.host(d)
        text, t.lookups = rng.choice((("v=spf1 mx a", 2), ("v=spf1 a mx", 2), ("v=spf1 +a +mx", 2), ("v=spf1 mx", 1)))
        w.txt(d, f"{text} {q}all")
        t.result = RESULT[q]
    elif shape in ("ip-only", "neutral", "pass-all"):
        q = {"neutral": "?", "pass-all": "+"}.get(shape, q)
        w.txt(d, "v=spf1 " + " ".join(w.ranges(rng.randint(0 if q != "-" else 1, 4)) + [f"{q}all"]))
        t.lookups, t.result = 0, RESULT[q]
    elif shape == "redirect":
        t.redirect = f"_spf.group{rng.randrange(20)}.example"
        w.txt(d, f"v=spf1 redirect={t.redirect}")
        t.lookups, t.result, q = 2, "fail", ""
    elif shape == "void-bomb":
        w.txt(d, f"v=spf1 a:mail.{d} a:smtp.{d} mx:mx.{d} include:sendly.example -all")
        t.includes, t.lookups, t.void, t.result, q = ("sendly.example",), 4, 3, "permerror", "-"
    elif shape == "big-txt":
        for k in range(4):
            w.txt(d, f"site-verification-{k}=" + "".join(rng.choice("abcdef0123456789") for _ in range(64)))
        w.txt(d, "v=spf1 " + " ".join(w.ranges(rng.randint(14, 20))) + f" {q}all")
        t.lookups, t.result, t.tcp = 0, RESULT[q], True
    elif shape == "syntax-error":
        w.txt(d, rng.choice(_SYNTAX))
        t.spf = "invalid"
        return
    elif shape == "two-records":
        w.txt(d, "v=spf1 include:sendly.example ~all")
        w.txt(d, "v=spf1 mx -all")
        t.spf = "several"
        return
    elif shape == "none":
        w.host(d)
        if rng.random() < 0.5:
            w.txt(d, "google-site-verification=" + str(rng.randrange(10**12)))
        return
    t.spf = "record"
    t.all = q or None
    t.void = t.void if t.void is not None else 0


def _dmarc(w: _World, d: str, t: Truth) -> None:
    rng = w.rng
    roll = rng.random()
    name = f"_dmarc.{d}"
    t.dmarc_dns = "NXDOMAIN"
    if roll < 0.58:
        return
    t.dmarc_dns = "NOERROR"
    if roll < 0.59:
        w.txt(name, "some-other-verification=1")
        return
    if roll < 0.60:
        w.txt(name, "v=DMARC1; p=none")
        w.txt(name, "v=DMARC1; p=reject")
        t.dmarc = "several"
        return
    if roll < 0.62:
        w.txt(name, rng.choice(("v=DMARC1; p=maybe", "v=DMARC1; p=none; pct=150", "v=DMARC1")))
        t.dmarc = "invalid"
        return
    p = rng.choices(("none", "quarantine", "reject"), (70, 15, 15))[0]
    pct = rng.choice((100, 100, 100, 50, 25)) if p != "none" else 100
    rua = rng.random() < 0.7
    text = f"v=DMARC1; p={p}" + (f"; pct={pct}" if pct != 100 or rng.random() < 0.3 else "")
    if rua:
        text += f"; rua=mailto:dmarc@{d}"
    w.txt(name, text)
    t.dmarc, t.dmarc_p, t.dmarc_pct, t.dmarc_rua = "record", p, pct, rua


def build(n: int, seed: int = 7489) -> tuple[dict[str, Any], dict[str, Truth]]:
    """``n`` domains ``d<i>.<tld>.example``-style names, their DNS data and their truth."""
    w = _World(random.Random(seed))
    providers = _providers(w)
    names = [s for s, _ in SHAPES]
    weights = [k for _, k in SHAPES]
    truth: dict[str, Truth] = {}
    for i in range(n):
        shape = w.rng.choices(names, weights)[0]
        d = f"d{i}.t{i % 7}.example"
        t = Truth(d, shape)
        truth[d] = t
        if shape == "nxdomain":
            t.dns = "NXDOMAIN"
            continue
        if shape in ("timeout", "servfail"):
            status = shape.upper()
            w.data[d] = w.data[f"_dmarc.{d}"] = status  # type: ignore[assignment]
            t.dns, t.spf, t.dmarc, t.dmarc_dns = status, "dns-error", "dns-error", status
            continue
        _spf(w, d, shape, t, providers)
        if d not in w.data:  # exists, nothing at all published at the name itself
            w.data[d] = {}
        elif "TXT" not in w.data[d]:
            t.dns = "NODATA"
        if shape == "none" and "TXT" not in w.data[d]:
            t.dns = "NODATA"
        _dmarc(w, d, t)
    for d, t in truth.items():
        if t.dns == "NOERROR" and "TXT" not in w.data.get(d, {}):
            t.dns = "NODATA"
    return w.data, truth
