"""A long-running fuzzer for spfkit: hostile records, senders and policy clients (issue 10).

Two modes (a script, not a test: pytest never collects it)::

    python benchmarks/fuzz.py records --count 1000000 [--seed 7208] [--processes 2]
    python benchmarks/fuzz.py policy  --count 100000  [--connections 20]

**records** — every case is built from ``(seed, index)`` alone, so ``--only INDEX`` replays one
case whatever ``--processes`` was. A case is a record (grammar-aware per RFC 7208 §4.6, §5,
§6, §7 and §12, a mutation of one, or random text), a small world of DNS names around it (the
include/redirect/exists/mx/exp targets, themselves fuzzed records; some NXDOMAIN, TIMEOUT,
SERVFAIL), a client address (IPv4, IPv6, IPv4-mapped), a sender, a HELO name and a receiver.
The record goes through ``parse_record`` (a ``Record`` or ``RecordSyntaxError``, nothing else)
and the world through ``check_host`` on ``MemoryResolver`` (never an exception); the result
must keep the §4.6.4 limits, carry a ``problem`` exactly when it is an error, and give
``Received-SPF`` and ``Authentication-Results`` fields with no control character. Counted:
outcomes, exceptions (the first reproducers written, each with a minimised record), checks
over 50 ms and 1 s of CPU, RSS at start and end.

**policy** — starts ``python -m spfkit policyd --listen 127.0.0.1:0 --zone ZONE`` and drives
hostile streams over many TCP connections (valid requests with hostile values; CR, NUL and
non-UTF-8 octets inside values; garbage lines, lines without ``=``, huge lines and requests,
unknown request types, pipelined bursts, requests cut into pieces, slow writers, requests cut
off by a close). Every complete request (an empty line ends one) must get exactly one
``action=...`` reply, in order (known-answer canaries prove the order), with no CR or control
character; the server must stay up and write no traceback. Only 127.0.0.1 is contacted.

spfkit is imported from this working tree's ``src/``, whatever is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import multiprocessing
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

from spfkit import CheckResult, RecordSyntaxError, Result, check_host, parse_record
from spfkit.evaluate import CheckOptions
from spfkit.headers import authentication_results, received_spf
from spfkit.identity import Identity
from spfkit.lookup.memory import MemoryResolver
from spfkit.record import Scope, is_spf1_text
from spfkit.record.select import decode_record

# what no header, reply or log value may hold: controls, format characters, surrogates,
# line and paragraph separators (spfkit.headers' contract)
HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
SLOW_MS, VERY_SLOW_MS = 50.0, 1000.0
KEEP_REPRODUCERS, KEEP_SLOW = 10, 5


def rss_kib(pid: int | str = "self") -> int:
    """VmRSS of a process, from /proc (KiB); 0 where there is no /proc."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def hidden_chars(text: str) -> list[str]:
    """The characters of ``text`` no header or reply may carry (empty: clean)."""
    if text.isascii() and text.isprintable():
        return []
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in HIDDEN]


def git_revision() -> str:
    git = ["git", "-C", str(HERE.parent)]
    rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True,
                         text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], check=False,
                           capture_output=True,
                           text=True).stdout.strip()
    return (rev or "?") + (" + uncommitted changes in src/" if dirty else "")


def machine() -> str:
    return (f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; spfkit {git_revision()}")


# ============================================================================ records: the world

ZONE = "fuzz.example"
MAIN = f"d.{ZONE}"
SUBS = [f"t{i}.{ZONE}" for i in range(3)]
MX_HOSTS = [f"mx{i}.{ZONE}" for i in range(2)]
SPECIAL = {f"nx.{ZONE}": "NXDOMAIN", f"tmo.{ZONE}": "TIMEOUT", f"sf.{ZONE}": "SERVFAIL",
           f"nodata.{ZONE}": {}}
NAMES = [MAIN, *SUBS, *MX_HOSTS, *SPECIAL, f"exp.{ZONE}", f"cname.{ZONE}", f"w.{ZONE}",
         "x.w." + ZONE, ZONE]
V4_POOL = [f"192.0.2.{n}" for n in range(1, 21)] + ["198.51.100.7", "203.0.113.200"]
V6_POOL = [f"2001:db8::{n:x}" for n in range(1, 21)] + ["2001:db8:ffff::1"]
# the world's addresses as objects: MemoryResolver takes them as they are (no parsing per case)
V4_OBJ = [ipaddress.IPv4Address(a) for a in V4_POOL]
V6_OBJ = [ipaddress.IPv6Address(a) for a in V6_POOL]
WILDCARD_A = ipaddress.IPv4Address("127.0.0.2")

LETTERS = "slodiphcrtv"
DELIMS = ".-+,/_="
ODD_CHARS = ["\x00", "\t", "\r", "\n", "\r\n", "\x1b", "\x7f", "\x85", "\xa0", "\xff", "é", "ü",
             "\u2028", "\u2029", "\u202e", "\u200b", "\ufeff", "\ufffd", "\U0001f600",
             "\U000e0001", '"', "\\", ";", "(", ")", " ", "%", "=", ":", "/"]


class Gen:
    """The random choices of one case (grammar of RFC 7208 §12, with bad branches)."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def pick(self, weighted: list[tuple[float, Callable[[], str]]]) -> str:
        x = self.r.random() * sum([w for w, _ in weighted])
        for w, fn in weighted:
            x -= w
            if x < 0:
                return fn()
        return weighted[-1][1]()

    # -- §7.1 macros ---------------------------------------------------------------------------

    def macro(self, explain: bool = False) -> str:
        r = self.r
        if r.random() < 0.08:
            return r.choice(["%%", "%_", "%-"])
        if r.random() < 0.04:  # broken: unknown letter, unterminated, lone %
            return r.choice(["%{z}", "%{d", "%", "%{}", "%{d0}", "%{d" + "9" * 12 + "}",
                             "%{i:}", "%x", "%{D5R+}", "%{" + "s" * 40 + "}"])
        letters = LETTERS if explain or r.random() < 0.1 else "slodiphv"
        letter = r.choice(letters)
        if r.random() < 0.2:
            letter = letter.upper()  # URL-escaped form
        digits = str(r.choice([0, 1, 2, 3, 5, 9, 99, 128])) if r.random() < 0.35 else ""
        rev = "r" if r.random() < 0.3 else ""
        delims = "".join(r.choice(DELIMS) for _ in range(r.choice([0, 0, 0, 1, 2, 7])))
        return "%{" + letter + digits + rev + delims + "}"

    def macro_string(self, explain: bool = False, parts: int = 3) -> str:
        out = []
        for _ in range(self.r.randint(0, parts)):
            if self.r.random() < 0.4:
                out.append(self.macro(explain))
            else:
                out.append(self.r.choice(["x", "_spf", "a-b", "foo.bar", ".", "-", "~", "!",
                                          "a" * self.r.choice([1, 63, 64, 200]), "v=1"]))
        return "".join(out)

    # -- domain-spec ---------------------------------------------------------------------------

    def domain_spec(self) -> str:
        r = self.r
        return self.pick([
            (50, lambda: r.choice(NAMES)),
            (10, lambda: r.choice(NAMES).upper() + r.choice(["", "."])),
            (20, lambda: self.macro_string() + "." + r.choice(["w." + ZONE, ZONE, MAIN])),
            (8, lambda: self.macro_string(parts=2) + self.macro()),  # domain-end = macro-expand
            (12, self.bad_domain),
        ])

    def bad_domain(self) -> str:
        r = self.r
        return r.choice([
            "", ".", "..", "a..b." + ZONE, "foo.123", "foo.-bar", "x." + "a" * 64 + ".example",
            ".".join(["a" * 63] * 5), "-x.example", "x-.example", "ü.example", "a b.example",
            "x.example/24", "%{d}.", "1.2.3.4", "[192.0.2.1]", "foo", "_spf", "*." + ZONE,
            "a." * 130 + "example", "x.example." * 2, r.choice(ODD_CHARS) + "." + ZONE,
        ])

    # -- networks and CIDR lengths (§5.6, §12) -------------------------------------------------

    def cidr(self, top: int) -> str:
        r = self.r
        if r.random() < 0.6:
            return ""
        if r.random() < 0.8:
            return "/" + str(r.randint(0, top))
        return "/" + r.choice([str(top + 1), "0" + str(r.randint(0, 9)), "", "-1", "/", "a",
                               "9" * 20, "1 ", str(top) + "/" + str(top), "00"])

    def dual_cidr(self) -> str:
        r = self.r
        v4 = self.cidr(32) if r.random() < 0.5 else ""
        v6 = ("/" + self.cidr(128)) if r.random() < 0.3 else ""
        return v4 + v6

    def ip4(self) -> str:
        r = self.r
        if r.random() < 0.85:
            if r.random() < 0.6:
                return r.choice(V4_POOL)
            return str(ipaddress.IPv4Address(r.getrandbits(32)))
        return r.choice(["1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4.5", "", "::1", "1.2.3.-4",
                         "1.2.3.4 ", "0x7f.0.0.1", "１.2.3.4", "192.0.2.1%eth0"])

    def ip6(self) -> str:
        r = self.r
        if r.random() < 0.85:
            if r.random() < 0.5:
                return r.choice(V6_POOL)
            addr = ipaddress.IPv6Address(r.getrandbits(128))
            if r.random() < 0.15:
                return "::ffff:" + str(ipaddress.IPv4Address(r.getrandbits(32)))
            return addr.exploded if r.random() < 0.3 else str(addr)
        return r.choice(["1:::2", "g::1", "1.2.3.4", "", "::1::", "2001:db8::/32",
                         "fe80::1%eth0", ":" * 9, "1:2:3:4:5:6:7:8:9", "[::1]"])

    # -- terms (§5, §6) ------------------------------------------------------------------------

    def qualifier(self) -> str:
        r = self.r
        if r.random() < 0.6:
            return ""
        return r.choice(["+", "-", "?", "~"] * 6 + ["++", "!", "-~", "*"])

    def mechanism(self) -> str:
        r = self.r

        def name(n: str) -> str:
            return n.upper() if r.random() < 0.05 else n

        mech = self.pick([
            (6, lambda: name("all")),
            (12, lambda: name("include") + ":" + self.domain_spec()),
            (12, lambda: name("a") + (":" + self.domain_spec() if r.random() < 0.6 else "")
             + self.dual_cidr()),
            (10, lambda: name("mx") + (":" + self.domain_spec() if r.random() < 0.6 else "")
             + self.dual_cidr()),
            (4, lambda: name("ptr") + (":" + self.domain_spec() if r.random() < 0.5 else "")),
            (16, lambda: name("ip4") + ":" + self.ip4() + self.cidr(32)),
            (12, lambda: name("ip6") + ":" + self.ip6() + self.cidr(128)),
            (8, lambda: name("exists") + ":" + self.domain_spec()),
            (3, lambda: r.choice(["include", "exists", "ip4", "ip6", "a:", "mx:", "allx",
                                  "foo:bar", "ip4:", "include:", "all:x", "a::b", "ptr:",
                                  "ip5:1.2.3.4", "spf", ":", "a//64"])),
        ])
        return self.qualifier() + mech

    def modifier(self) -> str:
        r = self.r
        return self.pick([
            (8, lambda: "redirect=" + self.domain_spec()),
            (6, lambda: "exp=" + self.domain_spec()),
            (6, lambda: r.choice(["x", "foo-bar", "a.b_c", "v", "moo", "Unk9"]) + "="
             + self.macro_string()),
            (2, lambda: r.choice(["1x", "", "-x", "x y", "é", "x%"]) + "=" + self.macro_string()),
            (1, lambda: r.choice(["redirect", "exp", "redirect=", "exp=", "-redirect=" + MAIN,
                                  "redirect==x", "exp=%{d"])),
        ])

    def version(self) -> str:
        r = self.r
        return self.pick([
            (80, lambda: "v=spf1"),
            (3, lambda: r.choice(["V=SPF1", "v=Spf1"])),
            (6, lambda: r.choice(["spf2.0/mfrom", "spf2.0/pra", "spf2.0/mfrom,pra",
                                  "spf2.0/pra,mfrom", "SPF2.0/MFROM"])),
            (2, lambda: r.choice(["spf2.0/", "spf2.0/foo", "spf2.0/mfrom,,pra", "spf2.0",
                                  "spf2.0/mfrom/pra"])),
            (3, lambda: r.choice(["v=spf10", "v=spf", "v=spf2", "v= spf1", "v=spf1a", "spf1",
                                  ""])),
        ])

    def record(self, max_terms: int = 12) -> str:
        r = self.r
        terms = []
        for _ in range(r.randint(0, max_terms)):
            terms.append(self.modifier() if r.random() < 0.2 else self.mechanism())
        if terms and r.random() < 0.5:
            terms.append(self.qualifier() + "all")
        sep = " " if r.random() < 0.9 else r.choice(["  ", "   ", "\t", " \t"])
        text = self.version() + "".join(sep + t for t in terms)
        return text + (" " * r.randint(1, 3) if r.random() < 0.05 else "")

    # -- mutations of a record -----------------------------------------------------------------

    def mutate(self, text: str, huge: float = 0.0) -> str:
        r = self.r
        if r.random() < huge:
            text = self._huge(text)
        steps: list[tuple[float, Callable[[str], str]]] = [
            (10, self._flip),
            (10, lambda t: self._insert(t, r.choice(ODD_CHARS))),
            (6, lambda t: self._insert(t, chr(r.randint(0, 0x2FF)))),
            (5, self._delete),
            (5, self._duplicate),
            (4, self._repeat_term),
            (3, self._long_label),
            (3, lambda t: t[: r.randint(0, len(t))]),
            (3, self._swap_terms),
        ]
        for _ in range(r.choice([1, 1, 1, 2, 3, 5])):
            x = r.random() * sum([w for w, _ in steps])  # the draw pick() makes
            step = next((fn for w, fn in steps if (x := x - w) < 0), steps[-1][1])
            text = step(text)
        return text

    def _flip(self, text: str) -> str:
        if not text:
            return text
        i = self.r.randrange(len(text))
        c = chr(ord(text[i]) ^ (1 << self.r.randrange(8)))
        return text[:i] + c + text[i + 1:]

    def _insert(self, text: str, what: str) -> str:
        i = self.r.randint(0, len(text))
        return text[:i] + what + text[i:]

    def _delete(self, text: str) -> str:
        if not text:
            return text
        i = self.r.randrange(len(text))
        return text[:i] + text[i + self.r.randint(1, 8):]

    def _duplicate(self, text: str) -> str:
        if not text:
            return text
        i = self.r.randrange(len(text))
        j = min(len(text), i + self.r.randint(1, 40))
        return text[:j] + text[i:j] * self.r.randint(1, 4) + text[j:]

    def _terms(self, text: str) -> list[str]:
        return text.split(" ")

    def _repeat_term(self, text: str) -> str:
        terms = self._terms(text)
        term = self.r.choice(terms[1:] or [self.mechanism()])
        n = self.r.choice([11, 12, 50, 200, 1000, 3000])
        return " ".join([terms[0], *([term] * n), *terms[1:]])

    def _long_label(self, text: str) -> str:
        label = "x" * self.r.choice([63, 64, 100, 255, 300])
        return text.replace(ZONE, label + "." + ZONE, 1) if ZONE in text else \
            text + " a:" + label + "." + ZONE

    def _huge(self, text: str) -> str:
        r = self.r
        size = r.choice([4096, 16384, 65535, 65536])
        filler = r.choice([lambda: " ip4:" + r.choice(V4_POOL), lambda: " ?ip6:" + r.choice(V6_POOL),
                           lambda: " x=" + "a" * 200, lambda: " a:" + "b" * 60 + "." + ZONE])
        parts = [text]
        n = len(text)
        while n < size:
            piece = filler()
            parts.append(piece)
            n += len(piece)
        return "".join(parts)[:size]

    def _swap_terms(self, text: str) -> str:
        terms = self._terms(text)
        if len(terms) > 2:
            head, rest = terms[0], terms[1:]
            self.r.shuffle(rest)
            terms = [head, *rest]
        return " ".join(terms)

    # -- random text ---------------------------------------------------------------------------

    def random_text(self) -> str:
        r = self.r
        n = r.choice([0, 1, 5, 20, 80, 300])
        return self.pick([
            (4, lambda: "".join(chr(r.randint(0x20, 0x7E)) for _ in range(n))),
            (2, lambda: "v=spf1 " + "".join(chr(r.randint(0x20, 0x7E)) for _ in range(n))),
            (2, lambda: bytes(r.getrandbits(8) for _ in range(n)).decode("latin-1")),
            (1, lambda: "".join(chr(r.choice([r.randint(0, 0xD7FF), r.randint(0xE000, 0x10FFFF)]))
                                for _ in range(n))),
            (1, lambda: "v=spf1 " + "".join(r.choice(ODD_CHARS) for _ in range(n))),
        ])

    # -- the identities ------------------------------------------------------------------------

    def client(self) -> str | ipaddress.IPv4Address | ipaddress.IPv6Address:
        r = self.r
        ip = self.pick([
            (35, lambda: r.choice(V4_POOL)),
            (15, lambda: str(ipaddress.IPv4Address(r.getrandbits(32)))),
            (15, lambda: r.choice(V6_POOL)),
            (15, lambda: str(ipaddress.IPv6Address(r.getrandbits(128)))),
            (10, lambda: "::ffff:" + r.choice(V4_POOL)),
            (5, lambda: r.choice(["127.0.0.1", "0.0.0.0", "255.255.255.255", "::", "::1",
                                  "::ffff:0.0.0.0", "fe80::1", "2002:c000:0201::1"])),
            # RFC 4007 §11 scoped addresses: ipaddress accepts them (Python 3.9+)
            (1, lambda: r.choice(["fe80::1%eth0", "fe80::1%1", "2001:db8::7%x",
                                  "::ffff:192.0.2.7%lo"])),
        ])
        if r.random() < 0.1:
            return ipaddress.ip_address(ip)
        return ip

    def local_part(self) -> str:
        r = self.r
        return self.pick([
            (50, lambda: r.choice(["user", "postmaster", "a.b", "bounce-123", "x+tag"])),
            (30, lambda: r.choice(["", "a\r\nb", "a\x00b", "%{d}", "%%", "ü", "\u202eevil",
                                   "a b", '"q"', "x" * 70, "x" * 300, "a@b", "-", ".", "..",
                                   "\x1b[31m", "a\u2028b", "\ufffd"])),
            (20, lambda: "".join(r.choice(ODD_CHARS + list("abcxyz.-")) for _ in range(8))),
        ])

    def sender(self) -> str:
        r = self.r
        domain = self.pick([
            (70, lambda: MAIN),
            (10, lambda: r.choice(NAMES)),
            (20, lambda: self.bad_domain()),
        ])
        return self.pick([
            (85, lambda: self.local_part() + "@" + domain),
            (5, lambda: ""),
            (5, lambda: self.local_part()),
            (5, lambda: "<" + self.local_part() + "@" + domain + ">"),
        ])

    def helo(self) -> str:
        r = self.r
        return self.pick([
            (60, lambda: r.choice([MAIN, *MX_HOSTS, "mail.example.org"])),
            (40, lambda: r.choice(["", "[192.0.2.1]", "192.0.2.1", "localhost", "x" * 300,
                                   "a\r\nX-Evil: 1", "h\x00", "ü.example", "\u202e.example",
                                   self.bad_domain()])),
        ])


def publish(gen: Gen, text: str) -> list[Any]:
    """One TXT RRset for ``text``: split in character-strings (≤ 255 octets, RFC 1035 §3.3)
    as DNS would carry it, sometimes with a neighbour or a second SPF record."""
    r = gen.r
    data = text.encode("utf-8", "surrogatepass")
    if r.random() < 0.03:  # octets that are not UTF-8
        i = r.randint(0, len(data))
        data = data[:i] + bytes([r.choice([0x80, 0xC3, 0xFF, 0xFE])]) + data[i:]
    size = r.choice([255, 255, 255, 1 if len(data) < 300 else 255, 7, 100])
    strings = tuple(data[i:i + size] for i in range(0, len(data), size)) or (b"",)
    rrset: list[Any] = [strings]
    roll = r.random()
    if roll < 0.08:
        rrset.append(b"google-site-verification=abc123")
    elif roll < 0.11:
        rrset.append(b"v=spf1 +all")
    if len(rrset) > 1 and r.random() < 0.5:
        rrset.reverse()
    return rrset


def build_case(seed: int, index: int) -> dict[str, Any]:
    """Everything of case ``index``: the record, its world and the identities."""
    rng = random.Random(seed * 1_000_003 + index)
    gen = Gen(rng)
    kind = gen.pick([(45, lambda: "grammar"), (37, lambda: "mutated"), (18, lambda: "random")])
    if kind == "grammar":
        text = gen.record()
    elif kind == "mutated":
        text = gen.mutate(gen.record(), huge=0.01)[:65536]  # a TXT RRset holds under 64 KiB
    else:
        text = gen.random_text()
    rrset = publish(gen, text)
    world: dict[str, Any] = {
        MAIN: {"TXT": rrset, "A": rng.sample(V4_OBJ, 2), "AAAA": rng.choice(V6_OBJ),
               "MX": [(10, MX_HOSTS[0]), (20, MX_HOSTS[1])]},
        **SPECIAL,
        f"exp.{ZONE}": {"TXT": [gen.macro_string(explain=True, parts=6)
                                + rng.choice(["", "\r\nX-Evil: 1", "\x00", "\u2028", " é"])]},
        f"cname.{ZONE}": {"CNAME": rng.choice(SUBS)},
        f"*.w.{ZONE}": {"A": WILDCARD_A},
        ZONE: {"TXT": [gen.record(4)]},
    }
    for name in SUBS:
        sub = gen.record(5) if rng.random() < 0.8 else gen.mutate(gen.record(5))
        world[name] = {"TXT": [sub.encode("utf-8", "surrogatepass")],
                       "A": rng.choice(V4_OBJ), "AAAA": rng.choice(V6_OBJ),
                       "MX": (10, rng.choice(MX_HOSTS))}
        if rng.random() < 0.1:
            world[name]["TXT"] = rng.choice(["TIMEOUT", "SERVFAIL", "NXDOMAIN"])
    for name in MX_HOSTS:
        world[name] = {"A": rng.sample(V4_OBJ, 2), "AAAA": rng.choice(V6_OBJ)}
    client = gen.client()
    case = {"seed": seed, "index": index, "kind": kind, "record": text, "world": world,
            "client": str(client), "client_obj": not isinstance(client, str),
            "domain": MAIN if rng.random() < 0.95 else gen.pick([
                (1, gen.bad_domain), (1, lambda: MAIN.upper() + "."),
                (1, lambda: rng.choice(NAMES))]),
            "sender": gen.sender(), "helo": gen.helo(),
            "receiver": rng.choice([None, "mx.receiver.example", "r\r\nX: 1", "ü"]),
            "scope": rng.choice([None] * 9 + ["mfrom"]),
            "mailfrom": rng.random() < 0.8}
    if rng.random() < 0.3:  # §5.5 ptr: the client's reverse name points into the world
        ptr = ipaddress.ip_address(case["client"].partition("%")[0])  # no scope in PTR names
        if isinstance(ptr, ipaddress.IPv6Address) and ptr.ipv4_mapped:
            ptr = ptr.ipv4_mapped
        world[ptr.reverse_pointer] = {"PTR": rng.sample([MAIN, *SUBS, f"nx.{ZONE}"], 2)}
    return case


# ============================================================================ records: running


def signature(stage: str, what: str) -> str:
    """A failure reduced to its kind: the exception type and the deepest spfkit frame."""
    lines = what.strip().splitlines()
    frames = [f"{m.group(1)}:{m.group(2)} ({m.group(3)})" for line in lines
              if (m := re.search(r'/src/(spfkit/[^"]+)", line (\d+), in (\w+)', line))]
    head = lines[-1].split(":")[0] if frames else re.sub(r"\d+", "N", lines[-1])[:80]
    return f"{stage}: {head}" + (f" at {frames[-1]}" if frames else "")


class RecordStats:
    """Counts of one worker; merged by the parent."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.results: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.signatures: Counter[str] = Counter()  # every failure, by kind and place
        self.failures: list[dict[str, Any]] = []
        self.slow: list[tuple[float, int, str, int, str]] = []  # (ms, index, kind, len, head)
        self.cpu_max_ms = 0.0
        self.rss: dict[str, int] = {}

    def fail(self, case: dict[str, Any], stage: str, what: str) -> None:
        self.counts["failures"] += 1
        self.counts[f"failure:{stage}"] += 1
        self.signatures[signature(stage, what)] += 1
        if len(self.failures) < KEEP_REPRODUCERS:
            self.failures.append({"stage": stage, "what": what, "index": case["index"],
                                  "seed": case["seed"], "case": repr(case)})

    def as_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "results": dict(self.results),
                "signatures": dict(self.signatures),
                "kinds": dict(self.kinds), "failures": self.failures, "slow": self.slow,
                "cpu_max_ms": self.cpu_max_ms, "rss": self.rss}


def case_resolver(case: dict[str, Any]) -> MemoryResolver:
    return MemoryResolver(case["world"])


def problems_of(case: dict[str, Any], res: CheckResult) -> list[str]:
    """The invariants one result must keep (empty: all kept)."""
    bad = []
    if not isinstance(res, CheckResult) or not isinstance(res.result, Result):
        return [f"not a CheckResult: {res!r}"[:300]]
    if res.lookups > 10:
        bad.append(f"lookups {res.lookups} > 10")
    if res.void_lookups > 3:
        bad.append(f"void_lookups {res.void_lookups} > 3")
    errors = res.result in (Result.PERMERROR, Result.TEMPERROR)
    if errors != (res.problem is not None) or (errors and not res.problem):
        bad.append(f"problem {res.problem!r} with result {res.result}")
    if res.explanation is not None and res.result is not Result.FAIL:
        bad.append(f"explanation with result {res.result}")
    # the main domain holds exactly this RRset: the §4.5 outcome follows from the text
    rrset = case["world"][MAIN]["TXT"]
    if case["domain"] == MAIN and case["scope"] is None and len(rrset) == 1:
        data = b"".join(rrset[0])
        if not is_spf1_text(data):
            if res.result is not Result.NONE:
                bad.append(f"no v=spf1 record but {res.result}")
        else:
            try:
                parse_record(decode_record(data))
            except RecordSyntaxError:
                if res.result is not Result.PERMERROR:
                    bad.append(f"unparsable record but {res.result}")
    return bad


def header_problems(case: dict[str, Any], res: CheckResult) -> list[str]:
    identity = Identity.MAILFROM if case["mailfrom"] else Identity.HELO
    fields = [
        received_spf(res, client_ip=case["client"], identity=identity,
                     envelope_from=case["sender"], helo=case["helo"], receiver=case["receiver"]),
        authentication_results(res, authserv_id=case["receiver"] or "mx.example",
                               identity=identity, envelope_from=case["sender"],
                               helo=case["helo"]),
    ]
    bad = []
    for field in fields:
        text = str(field)
        if chars := hidden_chars(text):
            bad.append(f"{field.name} holds {chars[:5]}")
        if case["index"] % 4:
            continue  # folding on a sample: the unfolded text is what carries the risk
        for line in field.fold().split("\r\n"):
            if "\r" in line or "\n" in line:
                bad.append(f"{field.name} folded line holds a bare CR/LF")
            if len(line.encode("utf-8")) > 998:
                bad.append(f"{field.name} line of {len(line.encode())} octets")
    return bad


async def run_case(case: dict[str, Any], stats: RecordStats, *, headers: bool = True) -> float:
    """Parse, check and build the headers of one case; returns the CPU ms of check_host."""
    text = case["record"]
    try:
        parse_record(text)
        stats.counts["parsed"] += 1
    except RecordSyntaxError as exc:
        stats.counts["parse_errors"] += 1
        if not isinstance(exc.reason, str) or not isinstance(exc.column, int):
            stats.fail(case, "parse", f"RecordSyntaxError without reason/column: {exc!r}")
    except Exception:  # noqa: BLE001 - the point of the exercise
        stats.fail(case, "parse", traceback.format_exc(limit=8))
    resolver = case_resolver(case)
    client: Any = case["client"]
    if case["client_obj"]:
        client = ipaddress.ip_address(client)
    options = CheckOptions(scope=Scope.MFROM) if case["scope"] else CheckOptions()
    started = time.process_time()
    try:
        res = await check_host(client, case["domain"], case["sender"], resolver=resolver,
                               helo=case["helo"], receiver=case["receiver"], options=options)
    except Exception:  # noqa: BLE001
        stats.fail(case, "check_host", traceback.format_exc(limit=12))
        return (time.process_time() - started) * 1000
    cpu_ms = (time.process_time() - started) * 1000
    stats.results[res.result.value] += 1
    for bad in problems_of(case, res):
        stats.fail(case, "invariant", bad)
    if headers:
        try:
            for bad in header_problems(case, res):
                stats.fail(case, "headers", bad)
            if case["index"] % 8 == 0:  # the trace's lazy texts, on a sample
                for event in res.trace:
                    event.detail  # noqa: B018
                res.comment  # noqa: B018
        except Exception:  # noqa: BLE001
            stats.fail(case, "headers", traceback.format_exc(limit=8))
    return cpu_ms


def records_worker(args: tuple[int, int, int, int, int]) -> dict[str, Any]:
    """Cases ``start, start+step, …`` below ``count``, on one event loop."""
    seed, start, step, count, report_every = args
    stats = RecordStats()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stats.rss["start"] = rss_kib()
    t0 = time.monotonic()
    mine = len(range(start, count, step))

    async def main() -> None:
        for done, index in enumerate(range(start, count, step), 1):
            case = build_case(seed, index)
            stats.kinds[case["kind"]] += 1
            cpu_ms = await run_case(case, stats)
            stats.counts["records"] += 1
            stats.cpu_max_ms = max(stats.cpu_max_ms, cpu_ms)
            if cpu_ms > SLOW_MS:
                stats.counts["slow_50ms"] += 1
                if cpu_ms > VERY_SLOW_MS:
                    stats.counts["slow_1s"] += 1
                stats.slow.append((round(cpu_ms, 1), index, case["kind"], len(case["record"]),
                                   case["record"][:120]))
                stats.slow.sort(reverse=True)
                del stats.slow[KEEP_SLOW:]
            if done == max(1, mine // 10):
                stats.rss["after_10pct"] = rss_kib()
            if report_every and done % report_every == 0:
                rate = done / (time.monotonic() - t0)
                print(f"[worker {start}] {done:,}/{mine:,} records, {rate:,.0f}/s, "
                      f"{stats.counts['failures']} failures, RSS {rss_kib() // 1024} MiB",
                      file=sys.stderr, flush=True)

    try:
        loop.run_until_complete(main())
        stats.rss["end"] = rss_kib()
        # replay the slowest: a pause of the collector or of the machine is not the record's
        replayed = []
        for ms, index, kind, length, head in stats.slow:
            _clear_parse_caches()
            case = build_case(seed, index)
            best = min(loop.run_until_complete(run_case(case, RecordStats())) for _ in range(3))
            replayed.append((ms, index, kind, length, head, round(best, 2)))
        stats.slow = replayed  # type: ignore[assignment]
    finally:
        loop.close()
    stats.counts["seconds"] = int(time.monotonic() - t0)
    return stats.as_dict()


def _clear_parse_caches() -> None:
    """Empty spfkit's parse caches, so a replay parses as the first run did."""
    import spfkit.macros
    import spfkit.record.parse

    for module in (spfkit.record.parse, spfkit.macros):
        cached = getattr(module, "_parse_cached", None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


def shrink(case: dict[str, Any], stage: str) -> str:
    """A shorter record of ``case`` that still fails at ``stage`` (terms, then characters)."""

    def fails(text: str) -> bool:
        trial = dict(case, record=text)
        world = dict(trial["world"])
        world[MAIN] = dict(world[MAIN], TXT=[(text.encode("utf-8", "surrogatepass"),)])
        trial["world"] = world
        stats = RecordStats()
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(run_case(trial, stats))
        finally:
            loop.close()
        return stats.counts[f"failure:{stage}"] > 0

    text = case["record"]
    if not fails(text):
        return text  # depends on more than the record (the published bytes, the world)
    for sep in (" ", ""):
        parts = text.split(sep) if sep else list(text)
        i = 1 if sep else 0
        while i < len(parts) and len(parts) < 3000:
            trial = parts[:i] + parts[i + 1:]
            if fails(sep.join(trial)):
                parts = trial
            else:
                i += 1
        text = sep.join(parts)
    return text


def run_records(ns: argparse.Namespace) -> int:
    if ns.only is not None:
        case = build_case(ns.seed, ns.only)
        stats = RecordStats()
        asyncio.run(run_case(case, stats))
        print(json.dumps({k: v for k, v in case.items() if k != "world"}, default=repr, indent=1))
        print(json.dumps(stats.as_dict(), indent=1, default=repr))
        return 1 if stats.counts["failures"] else 0
    print(f"records: {ns.count:,} cases, seed {ns.seed}, {ns.processes} process(es); {machine()}",
          flush=True)
    started = time.monotonic()
    jobs = [(ns.seed, w, ns.processes, ns.count, ns.report_every) for w in range(ns.processes)]
    if ns.processes == 1:
        parts = [records_worker(jobs[0])]
    else:
        with multiprocessing.get_context("fork").Pool(ns.processes) as pool:
            parts = pool.map(records_worker, jobs)
    wall = time.monotonic() - started
    counts: Counter[str] = Counter()
    results: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    failures, slow = [], []
    signatures: Counter[str] = Counter()
    for part in parts:
        signatures.update(part["signatures"])
        counts.update(part["counts"])
        results.update(part["results"])
        kinds.update(part["kinds"])
        failures += part["failures"]
        slow += part["slow"]
    slow.sort(reverse=True)
    n = counts["records"]
    print(f"records:        {n:,} in {wall:,.0f} s ({n / wall:,.0f}/s)")
    print("generated:      " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    print(f"parse_record:   {counts['parsed']:,} parsed, {counts['parse_errors']:,} "
          f"RecordSyntaxError, {counts['failure:parse']:,} other exceptions")
    print("check_host:     " + ", ".join(f"{k} {v:,}" for k, v in results.most_common()))
    print(f"failures:       {counts['failures']:,} (exceptions in check_host "
          f"{counts['failure:check_host']:,}, broken invariants {counts['failure:invariant']:,},"
          f" header problems {counts['failure:headers']:,})")
    for sig, n in signatures.most_common(10):
        print(f"   {n:,} x {sig}")
    print(f"slow checks:    {counts['slow_50ms']:,} over {SLOW_MS:g} ms CPU, "
          f"{counts['slow_1s']:,} over {VERY_SLOW_MS:g} ms; worst "
          f"{max(p['cpu_max_ms'] for p in parts):.1f} ms")
    for ms, index, kind, length, head, replay in slow[:KEEP_SLOW]:
        print(f"   {ms:8.1f} ms (replayed: {replay:.2f} ms)  #{index} {kind}, {length:,} chars: "
              f"{head[:60]!r}")
    for i, part in enumerate(parts):
        rss = part["rss"]
        print(f"RSS worker {i}:   start {rss['start'] / 1024:.1f} MiB, after 10 % "
              f"{rss.get('after_10pct', 0) / 1024:.1f} MiB, end {rss['end'] / 1024:.1f} MiB "
              f"(growth {(rss['end'] - rss['start']) / 1024:+.1f} MiB, after 10 %: "
              f"{(rss['end'] - rss.get('after_10pct', rss['end'])) / 1024:+.1f} MiB)")
    if failures:
        out = Path(ns.reproducers)
        with out.open("w") as f:
            for failure in failures:
                case = eval(failure["case"], {"IPv4Address": ipaddress.IPv4Address,
                                              "IPv6Address": ipaddress.IPv6Address})
                failure["minimal_record"] = shrink(case, failure["stage"])
                f.write(json.dumps(failure) + "\n")
        print(f"reproducers:    {len(failures)} written to {out} "
              f"(replay: fuzz.py records --seed S --only INDEX)")
        for failure in failures[:5]:
            lines = failure["what"].strip().splitlines()
            where = [line.strip() for line in lines if "/src/spfkit/" in line][-1:]
            print(f"   #{failure['index']} {failure['stage']}: {lines[-1][:200]}"
                  + (f"\n      at {where[0][:160]}" if where else ""))
            print(f"      minimal record: {failure['minimal_record'][:200]!r}")
    return 1 if counts["failures"] else 0


# ============================================================================ policy: the server

POLICY_ZONE = r"""; hostile and ordinary records for the policy fuzzer (root zone, every name qualified)
$TTL 3600
.                       IN SOA  ns.fuzz.example. hostmaster.fuzz.example. ( 1 3600 600 86400 300 )
.                       IN NS   ns.fuzz.example.
ns.fuzz.example.        IN A    192.0.2.53
pass.fuzz.example.      IN TXT  "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
fail.fuzz.example.      IN TXT  "v=spf1 ip4:192.0.2.0/24 -all exp=exp.fuzz.example"
exp.fuzz.example.       IN TXT  "%{l} from %{i} via %{h} (%{s}) is not welcome at %{r}"
evilexp.fuzz.example.   IN TXT  "v=spf1 -all exp=ctrl.fuzz.example"
ctrl.fuzz.example.      IN TXT  "line one\013\010action=OK\010\010PREPEND X-Evil: 1\000\\ %{l}"
soft.fuzz.example.      IN TXT  "v=spf1 ?ip4:192.0.2.1 ~all"
macro.fuzz.example.     IN TXT  "v=spf1 exists:%{l}.%{d} exists:%{ir}.%{v}.w.fuzz.example exists:%{h}.w.fuzz.example -all"
*.w.fuzz.example.       IN A    127.0.0.2
loop.fuzz.example.      IN TXT  "v=spf1 include:loop.fuzz.example -all"
many.fuzz.example.      IN TXT  "v=spf1 a:a1.fuzz.example a:a2.fuzz.example a:a3.fuzz.example a:a4.fuzz.example a:a5.fuzz.example a:a6.fuzz.example a:a7.fuzz.example a:a8.fuzz.example a:a9.fuzz.example a:a10.fuzz.example a:a11.fuzz.example -all"
void.fuzz.example.      IN TXT  "v=spf1 a:nx1.fuzz.example a:nx2.fuzz.example a:nx3.fuzz.example a:nx4.fuzz.example -all"
long.fuzz.example.      IN TXT  "v=spf1 ip4:198.51.100.1 ip4:198.51.100.2 ip4:198.51.100.3 ip4:198.51.100.4 ip4:198.51.100.5 ip4:198.51.100.6 ip4:198.51.100.7 ip4:198.51.100.8 ip4:198.51.100.9 ip4:198.51.100.10 ip4:198.51.100.11 ip4:198.51.100.12 " "ip4:198.51.100.13 ip4:198.51.100.14 ip4:198.51.100.15 ip4:198.51.100.16 ip4:198.51.100.17 ip4:198.51.100.18 ip4:198.51.100.19 ip4:198.51.100.20 ip4:198.51.100.21 ip4:198.51.100.22 ip4:198.51.100.23 ip4:198.51.100.24 " "ip6:2001:db8:1::/48 x=%{l}%{l}%{l}%{l}%{l}%{l}%{l}%{l} ~all"
badsyntax.fuzz.example. IN TXT  "v=spf1 ip4:192.0.2.300 a:\013\010evil \200\255 -all"
nonascii.fuzz.example.  IN TXT  "v=spf1 a:\195\188ber.example include:\226\128\174.example -all"
two.fuzz.example.       IN TXT  "v=spf1 -all"
two.fuzz.example.       IN TXT  "v=spf1 +all"
ptr.fuzz.example.       IN TXT  "v=spf1 ptr -all"
redirect.fuzz.example.  IN TXT  "v=spf1 redirect=fail.fuzz.example"
mxrec.fuzz.example.     IN MX   10 mx.fuzz.example.
mxrec.fuzz.example.     IN TXT  "v=spf1 mx -all"
mx.fuzz.example.        IN A    192.0.2.25
mx.fuzz.example.        IN AAAA 2001:db8::25
mx.fuzz.example.        IN TXT  "v=spf1 a -all"
a1.fuzz.example.        IN A    198.51.100.201
nospf.fuzz.example.     IN A    192.0.2.40
25.2.0.192.in-addr.arpa. IN PTR mx.fuzz.example.
"""
POLICY_DOMAINS = ["pass", "fail", "evilexp", "soft", "macro", "loop", "many", "void", "long",
                  "badsyntax", "nonascii", "two", "ptr", "redirect", "mxrec", "mx", "nospf",
                  "nx", "exp"]
POLICY_CONFIG = """# written by benchmarks/fuzz.py
Header_Type = "both"
Receiver = "mx.receiver.example"
debugLevel = 1
log = "stderr"
read_timeout = 2.0
idle_timeout = 20.0
Lookup_Time = 4.0
deadline = 6.0
dns_timeout = 1.0
"""
READ_TIMEOUT = 2.0
DEADLINE = 6.0
POSTFIX_ATTRIBUTES = [  # what Postfix 3.7's smtpd sends (SMTPD_POLICY_README), in its order
    "request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender",
    "recipient", "recipient_count", "client_address", "client_name", "client_port",
    "reverse_client_name", "server_address", "server_port", "instance", "sasl_method",
    "sasl_username", "sasl_sender", "size", "ccert_subject", "ccert_issuer",
    "ccert_fingerprint", "ccert_pubkey_fingerprint", "encryption_protocol",
    "encryption_cipher", "encryption_keysize", "etrn_domain", "stress", "policy_context",
    "compatibility_level", "mail_version",
]


class PolicyServer:
    """``spfkit policyd --listen 127.0.0.1:0`` in a child process, its log in a file."""

    def __init__(self, workdir: Path) -> None:
        self.zone = workdir / "fuzz.zone"
        self.config = workdir / "fuzz-policyd.toml"
        self.log = workdir / "policyd.log"
        self.zone.write_text(POLICY_ZONE)
        self.config.write_text(POLICY_CONFIG)
        env = dict(os.environ, PYTHONPATH=str(SRC))
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "spfkit", "policyd", "--listen", "127.0.0.1:0",
             "--zone", str(self.zone), "--config", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log_file, env=env)
        self.port = self._wait_listening()

    def _wait_listening(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"policyd exited with {self.proc.returncode}: "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log.read_text(errors="replace"))
            if m:
                return int(m.group(1))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("policyd did not start listening within 30 s")

    def rss(self) -> int:
        return rss_kib(self.proc.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE + READ_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()
        return self.proc.returncode


# ============================================================================ policy: the streams


class Op:
    """What one step writes on a connection, and what it expects back."""

    def __init__(self, name: str, chunks: list[bytes], delays: list[float] | None = None,
                 canaries: list[tuple[int, str]] | None = None, closes: bool = False) -> None:
        self.name = name
        self.chunks = chunks
        self.delays = delays or []
        data = b"".join(chunks)
        self.size = len(data)
        self.expected = expected_replies(data) if not closes else 0
        self.canaries = canaries or []  # (reply number within the op, action prefix)
        self.closes = closes  # the client closes after writing (partial request)


def request_spans(data: bytes) -> list[tuple[int, int]]:
    """(first octet, last octet) of each request ``data`` completes."""
    spans, start, offset = [], 0, 0
    for line in data.split(b"\n")[:-1]:
        end = offset + len(line)
        if line in (b"", b"\r"):
            spans.append((start, end))
            start = end + 1
        offset = end + 1
    return spans


def expected_replies(data: bytes) -> int:
    """How many requests ``data`` completes: every line that is empty (after one CR) ends one."""
    lines = data.split(b"\n")[:-1]
    return sum(1 for line in lines if line == b"" or line == b"\r")


class Streams:
    """Builds hostile policy streams from one seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.serial = 0

    def instance(self) -> str:
        self.serial += 1
        return f"fz.{self.serial:x}.{self.r.getrandbits(24):x}"

    def hostile(self) -> bytes:
        r = self.r
        return r.choice([
            b"", b" ", b"a\rb", b"a\x00b", b"\xff\xfe\xfd", b"\xc3(", b"\xe2\x80\xae", b"\xe2\x80\xa8",
            b"\xc2\x85", b"\x1b[31mred", b"%{l}%{d}%%", b"action=REJECT", b"=", b"==", b"\t",
            b"x" * r.choice([100, 1000, 4000, 8000]), b'"quoted" \\back\\', b"\x7f", b"\r",
            "ü@ü.example".encode(), b"<>", b"<a@b>", b"@", b"a@b@c", b"\xef\xbb\xbf",
            bytes(r.getrandbits(8) for _ in range(r.randint(1, 40))).replace(b"\n", b"")])

    def address(self) -> bytes:
        r = self.r
        return self.pick_bytes([
            (30, lambda: f"192.0.2.{r.randint(1, 254)}"),
            (15, lambda: str(ipaddress.IPv4Address(r.getrandbits(32)))),
            (10, lambda: f"2001:db8::{r.getrandbits(16):x}"),
            (10, lambda: str(ipaddress.IPv6Address(r.getrandbits(128)))),
            (10, lambda: f"::ffff:192.0.2.{r.randint(1, 254)}"),
            (5, lambda: r.choice(["127.0.0.1", "::1", "0.0.0.0", "::", "203.0.113.9"])),
            (10, lambda: r.choice(["", "bogus", "1.2.3", "[192.0.2.1]", "192.0.2.1 ", " ::1",
                                   "fe80::1%eth0", "2001:db8::1/64", "999.1.1.1"])),
            (10, lambda: None),
        ])

    def pick_bytes(self, weighted: list[tuple[float, Callable[[], str | bytes | None]]]) -> bytes:
        total = sum(w for w, _ in weighted)
        x = self.r.random() * total
        for w, fn in weighted:  # noqa: B007 - the pick is used after the loop
            x -= w
            if x < 0:
                break
        value = fn()
        if value is None:
            return self.hostile()
        return value.encode() if isinstance(value, str) else value

    def domain(self) -> str:
        return self.r.choice(POLICY_DOMAINS) + ".fuzz.example"

    def request(self, hostile: float = 0.3, crlf: bool = False) -> bytes:
        """One request: Postfix's attributes, values mostly plausible, some hostile."""
        r = self.r

        def maybe(value: bytes) -> bytes:
            return self.hostile() if r.random() < hostile else value

        attrs: dict[str, bytes] = {name: b"" for name in POSTFIX_ATTRIBUTES}
        attrs.update({
            "request": b"smtpd_access_policy",
            "protocol_state": r.choice([b"RCPT"] * 8 + [b"DATA", b"MAIL", b"END-OF-MESSAGE",
                                                        b"CONNECT", b"rcpt", b" RCPT ", b"VRFY"]),
            "protocol_name": b"ESMTP", "client_name": b"unknown", "reverse_client_name": b"unknown",
            "client_address": self.address(),
            "helo_name": maybe(r.choice([self.domain(), "mx.fuzz.example", "[192.0.2.1]", ""]).encode()),
            "sender": maybe((r.choice(["user", "bob", "", "a.b"]) + "@" + self.domain()).encode()),
            "recipient": maybe(b"postmaster@receiver.example"),
            "instance": maybe(self.instance().encode()) if r.random() < 0.9 else b"fz.shared",
            "client_port": str(r.randint(1024, 65535)).encode(), "server_address": b"127.0.0.1",
            "server_port": b"25", "size": b"0", "recipient_count": b"0",
            "compatibility_level": b"3.6", "mail_version": b"3.7.11",
        })
        if r.random() < 0.05:
            attrs["sasl_username"] = maybe(b"alice")
        for name in r.sample(POSTFIX_ATTRIBUTES, r.randint(0, 3)):
            attrs[name] = self.hostile()  # any attribute can be hostile
        lines = [name.encode() + b"=" + value for name, value in attrs.items()]
        if r.random() < 0.1:
            r.shuffle(lines)
        if r.random() < 0.05:
            lines.append(r.choice(lines))  # a repeated attribute
        if r.random() < 0.05:
            lines.append(b"x_unknown_" + str(r.randint(0, 9)).encode() + b"=" + self.hostile())
        eol = b"\r\n" if crlf else b"\n"
        return b"".join(line + eol for line in lines) + eol

    def canary(self) -> tuple[bytes, str]:
        """A clean request whose answer is known: proves the replies are still in step."""
        r = self.r
        kind = r.randrange(3)
        lines = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
                 "helo_name": "nospf.fuzz.example", "instance": self.instance()}
        if kind == 0:
            lines.update(client_address="192.0.2.10", sender="c@pass.fuzz.example")
            want = "PREPEND Received-SPF: pass"
        elif kind == 1:
            lines.update(client_address="203.0.113.5", sender="c@fail.fuzz.example")
            want = "550 5.7.23"
        else:
            lines.update(client_address="not-an-address", sender="c@pass.fuzz.example")
            want = "DUNNO"
        return "".join(f"{k}={v}\n" for k, v in lines.items()).encode() + b"\n", want

    def garbage(self) -> bytes:
        r = self.r
        pieces = [r.choice([b"no equals sign here", b"=value without name", b"name", b"\x00=\x00",
                            b"\xff\xff=\xff", b"request", b"GET / HTTP/1.0", b"\r",
                            b"client_address=192.0.2.1\x00", self.hostile()])
                  for _ in range(r.randint(1, 6))]
        if r.random() < 0.3:
            pieces.insert(0, b"request=smtpd_access_policy")
        return b"\n".join(pieces) + b"\n\n"

    def huge_line(self) -> bytes:
        r = self.r
        name = r.choice([b"ccert_subject", b"sender", b"helo_name", b"x_big", b"", b"client_address"])
        size = r.choice([8193, 9000, 20000, 70000, 200000])
        line = name + b"=" + b"A" * size
        req = self.request(hostile=0)
        return line + b"\n" + req if r.random() < 0.5 else req[:-1] + line + b"\n\n"

    def huge_request(self) -> bytes:
        r = self.r
        if r.random() < 0.5:  # over 128 lines
            lines = [f"x{i}=y".encode() for i in range(r.choice([129, 200, 1000]))]
        else:  # over 64 KiB
            lines = [f"x{i}=".encode() + b"v" * 8000 for i in range(9)]
        return self.request(hostile=0)[:-1] + b"\n".join(lines) + b"\n\n"

    def unknown_type(self) -> bytes:
        r = self.r
        req = self.request(hostile=0.1)
        repl = r.choice([b"request=junk", b"request=", b"request=SMTPD_ACCESS_POLICY",
                         b"request=smtpd_access_policy\x00", b"xrequest=smtpd_access_policy"])
        return req.replace(b"request=smtpd_access_policy", repl, 1)

    def op(self) -> Op:
        r = self.r
        kind = r.choices(
            ["valid", "hostile", "garbage", "huge_line", "huge_request", "unknown", "burst",
             "split", "crlf", "empty", "slow", "too_slow", "partial_close"],
            weights=[35, 15, 7, 2, 2, 5, 14, 8, 4, 2, 1.5, 0.1, 3])[0]
        canaries: list[tuple[int, str]] = []
        if kind in ("valid", "hostile", "crlf"):
            data = self.request(hostile={"valid": 0.05, "hostile": 0.6, "crlf": 0.2}[kind],
                                crlf=kind == "crlf")
            if kind == "hostile" and r.random() < 0.3:  # an LF inside a value: a new line
                i = r.randrange(len(data) - 2)
                data = data[:i] + b"\n" + data[i:]
        elif kind == "garbage":
            data = self.garbage()
        elif kind == "huge_line":
            data = self.huge_line()
        elif kind == "huge_request":
            data = self.huge_request()
        elif kind == "unknown":
            data = self.unknown_type()
        elif kind == "empty":
            data = r.choice([b"\n", b"\r\n", b"\n\n\n"])
        elif kind == "burst":
            parts = []
            for _ in range(r.randint(2, 40)):
                pick = r.random()
                parts.append(self.request(0.3) if pick < 0.6 else self.garbage() if pick < 0.75
                             else self.unknown_type() if pick < 0.85 else self.canary()[0])
            data = b"".join(parts)
        else:  # split, slow, too_slow, partial_close: one request cut in pieces
            data = self.request(hostile=0.2)
        if kind not in ("too_slow", "partial_close") and r.random() < 0.3:
            extra, want = self.canary()
            canaries.append((expected_replies(data), want))
            data += extra
        if kind in ("split", "slow", "too_slow"):
            cuts = sorted(r.sample(range(1, len(data)), min(len(data) - 1, r.randint(1, 30))))
            if kind == "split" and r.random() < 0.2:
                cuts = list(range(1, min(len(data), 400)))  # a byte at a time
            chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
            if kind == "split":
                return Op(kind, chunks, canaries=canaries)
            total = READ_TIMEOUT * (r.uniform(0.2, 0.6) if kind == "slow" else 1.5)
            return Op(kind, chunks, [total / len(chunks)] * len(chunks), canaries=canaries)
        if kind == "partial_close":
            return Op(kind, [data[: r.randint(1, len(data) - 2)]], closes=True)
        return Op(kind, [data], canaries=canaries)


class PolicyStats:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.ops: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.latency: list[float] = []
        self.problems: list[str] = []

    def problem(self, what: str) -> None:
        self.counts["problems"] += 1
        if len(self.problems) < 20:
            self.problems.append(what)


def action_kind(action: str) -> str:
    word = action.split(" ", 1)[0]
    if word == "PREPEND":
        return " ".join(action.split(" ", 3)[:3]).rstrip(";")[:40]
    return word if not word[:1].isdigit() else " ".join(action.split(" ", 2)[:2])


def check_reply(raw: bytes, stats: PolicyStats) -> str:
    """One reply (without its final empty line): ``action=...``, one line, no control."""
    if not raw.startswith(b"action="):
        stats.problem(f"reply without action=: {raw[:120]!r}")
    if b"\r" in raw or b"\n" in raw:
        stats.problem(f"reply with CR/LF inside: {raw[:200]!r}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        stats.problem(f"reply that is not UTF-8: {raw[:200]!r}")
        text = raw.decode("utf-8", "replace")
    if hidden := hidden_chars(text):
        stats.problem(f"reply with control characters {hidden[:5]}: {raw[:200]!r}")
    action = text.partition("=")[2]
    if action.startswith("PREPEND "):
        header = action[len("PREPEND "):]
        if len(header.encode("utf-8")) > 990:
            stats.problem(f"PREPEND header of {len(header.encode())} octets (over 990): "
                          f"{header[:160]!r}...")
    return action


class Client:
    """One connection, sending ops and checking each reply as it comes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 stats: PolicyStats) -> None:
        self.reader, self.writer, self.stats = reader, writer, stats
        self.buffer = b""
        self.replies = 0

    async def read_reply(self, timeout: float) -> bytes | None:
        """The next reply, or None when the server closed (or said nothing in time)."""
        while True:
            end = self.buffer.find(b"\n\n")
            if end >= 0:
                raw, self.buffer = self.buffer[:end], self.buffer[end + 2:]
                return raw
            try:
                chunk = await asyncio.wait_for(self.reader.read(65536), timeout)
            except TimeoutError:
                self.stats.problem("no reply within the deadline")
                return None
            except ConnectionError:
                chunk = b""
            if not chunk:
                return None
            self.buffer += chunk

    async def run(self, op: Op) -> bool:
        """Write ``op`` and check its replies; False when the connection is over."""
        stats = self.stats
        stats.ops[op.name] += 1
        written: list[float] = []  # when each chunk went out
        try:
            for i, chunk in enumerate(op.chunks):
                self.writer.write(chunk)
                written.append(time.monotonic())
                await asyncio.wait_for(self.writer.drain(), DEADLINE + READ_TIMEOUT)
                if op.delays:
                    await asyncio.sleep(op.delays[i])
        except (ConnectionError, TimeoutError) as exc:
            if op.delays:
                self._judge_cut(op, written, None)
                return False
            stats.problem(f"{op.name}: write failed: {exc!r}")
            return False
        sent = time.monotonic()
        if op.closes:
            stats.counts["partial_then_close"] += 1
            return False
        wait = DEADLINE + 4.0
        canaries = dict(op.canaries)
        for number in range(op.expected):
            raw = await self.read_reply(wait)
            if raw is None:
                if op.delays:
                    self._judge_cut(op, written, number)
                else:
                    stats.counts["lost_replies"] += op.expected - number
                    stats.problem(f"{op.name}: connection closed after {number} of "
                                  f"{op.expected} replies")
                return False
            stats.latency.append(time.monotonic() - sent)
            stats.counts["replies"] += 1
            self.replies += 1
            action = check_reply(raw, stats)
            stats.actions[action_kind(action)] += 1
            if number in canaries:
                stats.counts["canaries"] += 1
                if not action.startswith(canaries[number]):
                    stats.counts["canary_mismatch"] += 1
                    stats.problem(f"{op.name}: reply {number} is {action[:80]!r}, "
                                  f"expected {canaries[number]!r}: out of step")
        if op.name == "too_slow":
            stats.counts["too_slow_answered"] += 1  # finished before the server's timer
        stats.counts["requests"] += op.expected
        return True

    def _judge_cut(self, op: Op, written: list[float], number: int | None) -> None:
        """The server closed a slow writer: fair only if a request of it took read_timeout.

        ``number`` is the first request left without an answer (None: the write failed, the
        request is the one being written). Times are the client's, taken as chunks went out."""
        data = b"".join(op.chunks)
        ends = [0]
        for chunk in op.chunks:
            ends.append(ends[-1] + len(chunk))

        def when(offset: int) -> float:  # the time the chunk holding ``offset`` was written
            for i in range(len(written)):
                if offset < ends[i + 1]:
                    return written[i]
            return time.monotonic()

        spans = request_spans(data) or [(0, len(data))]
        if number is None:  # the request that was being written when the write failed
            last = ends[len(written) - 1] if written else 0
            number = next((k for k, (_, end) in enumerate(spans) if end >= last), len(spans) - 1)
        start, end = spans[min(number, len(spans) - 1)]
        took = when(end) - when(start)
        if took >= READ_TIMEOUT - 0.25:
            self.stats.counts["closed_by_server_expected"] += 1
            return
        self.stats.counts["closed_by_server_early"] += 1
        self.stats.problem(
            f"{op.name}: the server closed the connection {took:.2f} s after the first octet "
            f"of request {number + 1} of {len(spans)} (read_timeout {READ_TIMEOUT:g} s), "
            f"{(written[-1] - written[0]) if written else 0.0:.2f} s after the op began")

    async def finish(self) -> None:
        """Half-close and read to the end: nothing may come that was not asked for."""
        try:
            if self.writer.can_write_eof():
                self.writer.write_eof()
            rest = self.buffer
            while True:
                chunk = await asyncio.wait_for(self.reader.read(65536), DEADLINE + 4)
                if not chunk:
                    break
                rest += chunk
            if rest:
                self.stats.problem(f"{len(rest)} unexpected octets after the last reply: "
                                   f"{rest[:100]!r}")
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self.writer.close()


async def policy_load(port: int, ns: argparse.Namespace, stats: PolicyStats,
                      server: PolicyServer) -> None:
    stop_at = time.monotonic() + ns.max_seconds
    budget = {"left": ns.count}
    samples: list[tuple[float, int]] = []

    async def connection_worker(worker: int) -> None:
        rng = random.Random(ns.seed * 1000 + worker)
        streams = Streams(rng)
        while budget["left"] > 0 and time.monotonic() < stop_at:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port, limit=1 << 20), 10)
            except (OSError, TimeoutError) as exc:
                stats.problem(f"cannot connect: {exc!r}")
                await asyncio.sleep(0.5)
                if not server.alive():
                    return
                continue
            stats.counts["connections"] += 1
            client = Client(reader, writer, stats)
            alive = True
            for _ in range(rng.choice([1, 5, 20, 100, 500])):
                if budget["left"] <= 0 or time.monotonic() >= stop_at:
                    break
                op = streams.op()
                before = client.replies
                budget["left"] -= op.expected  # claimed now: the workers share the budget
                alive = await client.run(op)
                budget["left"] += op.expected - (client.replies - before)  # cut off: unclaim
                if not alive:
                    break
            if alive:
                await client.finish()
            else:
                writer.close()

    async def sampler() -> None:
        t0 = time.monotonic()
        while budget["left"] > 0 and time.monotonic() < stop_at and server.alive():
            samples.append((time.monotonic() - t0, server.rss()))
            await asyncio.sleep(5)

    sampling = asyncio.ensure_future(sampler())
    await asyncio.gather(*(connection_worker(w) for w in range(ns.connections)))
    sampling.cancel()
    stats.counts["timed_out_run"] = int(time.monotonic() >= stop_at)
    stats.rss_samples = samples  # type: ignore[attr-defined]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def run_policy(ns: argparse.Namespace) -> int:
    print(f"policy: {ns.count:,} requests over {ns.connections} connections, seed {ns.seed}; "
          f"{machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="spfkit-fuzz-") as tmp:
        server = PolicyServer(Path(tmp))
        rss_start = server.rss()
        stats = PolicyStats()
        started = time.monotonic()
        try:
            asyncio.run(policy_load(server.port, ns, stats, server))
        finally:
            wall = time.monotonic() - started
            alive = server.alive()
            rss_end = server.rss()
            code = server.stop()
            log = server.log.read_text(errors="replace")
            if ns.keep_log:
                Path(ns.keep_log).write_text(log)
    c = stats.counts
    lines = log.splitlines()
    closes = Counter(re.sub(r"\d+", "N", line.split(": ", 1)[1] if ": " in line else line)[:80]
                     for line in lines if "closing a connection" in line
                     or "connection closed" in line or "refusing a connection" in line)
    tracebacks = sum("Traceback" in line for line in lines)
    internal = sum("error: internal error" in line for line in lines)
    malformed = sum("malformed policy request" in line for line in lines)
    print(f"requests:       {c['requests']:,} complete requests in {wall:,.0f} s "
          f"({c['requests'] / wall:,.0f}/s), {c['connections']:,} connections")
    print("streams:        " + ", ".join(f"{k} {v:,}" for k, v in stats.ops.most_common()))
    print(f"replies:        {c['replies']:,} (lost {c['lost_replies']:,}); canaries "
          f"{c['canaries']:,}, out of step {c['canary_mismatch']:,}")
    print("actions:        " + ", ".join(f"{k!r} {v:,}" for k, v in stats.actions.most_common(8)))
    print(f"latency:        p50 {percentile(stats.latency, 50) * 1000:.1f} ms, p99 "
          f"{percentile(stats.latency, 99) * 1000:.1f} ms, max "
          f"{max(stats.latency, default=0) * 1000:.1f} ms")
    print(f"closes:         {c['partial_then_close']:,} by the client inside a request; slow "
          f"writers cut off by the server {c['closed_by_server_expected']:,} after read_timeout, "
          f"{c['closed_by_server_early']:,} before it (too-slow answered in time "
          f"{c['too_slow_answered']:,})")
    for reason, n in closes.most_common(6):
        print(f"   server log: {n:,} x {reason}")
    print(f"server:         alive at the end: {alive}, exit status {code}; RSS start "
          f"{rss_start / 1024:.1f} MiB, end {rss_end / 1024:.1f} MiB "
          f"({(rss_end - rss_start) / 1024:+.1f} MiB); samples (s, MiB): "
          + ", ".join(f"{t:.0f}:{kib / 1024:.0f}" for t, kib in
                      getattr(stats, "rss_samples", [])[:: max(1, len(getattr(stats, "rss_samples", [])) // 8)]))
    print(f"server log:     {len(lines):,} lines, {malformed:,} malformed-request warnings, "
          f"{internal} internal errors, {tracebacks} tracebacks")
    print(f"problems:       {c['problems']:,} seen by the clients")
    for what in stats.problems[:10]:
        print(f"   {what[:300]}")
    for line in [line for line in lines if "error: internal error" in line][:3]:
        frames = re.findall(r'File "[^"]*/(src/spfkit/[^"]+)", line (\d+)', line)
        print(f"   server: {line.split(' | ')[0][:120]} ... {line.split(' | ')[-1][:160]}"
              + (f" (at {frames[-1][0]}:{frames[-1][1]})" if frames else ""))
    bad = c["problems"] or not alive or code != 0 or tracebacks or internal
    print(f"verdict:        {'FAILED' if bad else 'ok'}")
    return 1 if bad else 0


# ============================================================================ command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    rec = sub.add_parser("records", help="records through parse_record and check_host")
    rec.add_argument("--count", type=int, default=100_000)
    rec.add_argument("--seed", type=int, default=7208)
    rec.add_argument("--processes", type=int, default=2)
    rec.add_argument("--only", type=int, metavar="INDEX", help="replay one case and show it")
    rec.add_argument("--report-every", type=int, default=100_000, metavar="N",
                     help="progress line every N records per process (0: none)")
    rec.add_argument("--reproducers", default="fuzz-reproducers.jsonl", metavar="FILE")
    pol = sub.add_parser("policy", help="hostile streams through a live policy server")
    pol.add_argument("--count", type=int, default=10_000, help="complete requests to send")
    pol.add_argument("--connections", type=int, default=20)
    pol.add_argument("--seed", type=int, default=7208)
    pol.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long")
    pol.add_argument("--keep-log", metavar="FILE", help="copy the server's log here")
    ns = parser.parse_args(argv)
    return run_records(ns) if ns.mode == "records" else run_policy(ns)


if __name__ == "__main__":
    sys.exit(main())
