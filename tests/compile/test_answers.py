"""Evaluator answers remembered for the clients a compiled map leaves to the evaluator
("ptr", ``exists:%{i}…``, ``%{p}``): equal to ``check_host()``'s in every field and both
headers, kept per client (and per sender or HELO when the records use them), never past the
smallest TTL of the DNS answers read, never after a DNS error, a TTL-0 answer or a
temperror, and within their bytes."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import Any

from spfkit.compile.answers import ANSWER_BYTES, RememberedAnswers
from spfkit.compile.cache import CompiledCache
from spfkit.compile.dispatch import check_host_compiled
from spfkit.evaluate import CheckOptions, check
from spfkit.evaluate.check_host import check_host, evaluate_check
from spfkit.lookup import CachingResolver, MemoryResolver
from spfkit.results import CheckResult
from tests.compile.identity import headers, outcome

ZONE: dict[str, Any] = {
    "rbl.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 exists:%{i}.rbl.zone.test -all exp=why.rbl.test"},
    "why.rbl.test": {"TXT": "%{i} is listed for %{d} (asked as %{l})"},
    "203.0.113.77.rbl.zone.test": {"A": "127.0.0.2"},
    "ptr.test": {"TXT": "v=spf1 ptr:ptr.test ~all"},
    "77.113.0.203.in-addr.arpa": {"PTR": "mail.ptr.test"},
    "mail.ptr.test": {"A": "203.0.113.77"},
    "users.test": {"TXT": "v=spf1 exists:%{l}.%{i}.u.users.test -all"},
    "alice.203.0.113.77.u.users.test": {"A": "127.0.0.2"},
    "helo.test": {"TXT": "v=spf1 exists:%{i}.%{h}.h.test ?all"},
    "203.0.113.77.mx.one.test.h.test": {"A": "127.0.0.2"},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _checks(resolver: Any, ip: str, mail_from: str, helo: str = "mx.one.test",
                  times: int = 3) -> list[CheckResult]:
    return [await check(ip, mail_from, helo, resolver=resolver) for _ in range(times)]


def _same_as_evaluator(got: CheckResult, resolver: Any, ip: str, sender: str, helo: str) -> None:
    domain = sender.rsplit("@", 1)[1]
    want = asyncio.run(check_host(ip, domain, sender, resolver=resolver, helo=helo))
    assert outcome(got) == outcome(want)
    assert headers(got, ip, sender, helo) == headers(want, ip, sender, helo)


def test_a_client_left_to_the_evaluator_is_answered_from_memory_the_next_time() -> None:
    resolver = MemoryResolver(ZONE)
    first, second, third = asyncio.run(_checks(resolver, "203.0.113.77", "bob@rbl.test"))
    # first: the evaluator; second: compiled, but exists:%{i} leaves this client to the
    # evaluator (and the answer is remembered); third: the remembered answer
    assert first.trace and second.trace and not third.trace
    assert third.result.value == "pass" and third.mechanism == "exists:%{i}.rbl.zone.test"
    _same_as_evaluator(third, resolver, "203.0.113.77", "bob@rbl.test", "mx.one.test")


def test_a_remembered_fail_is_explained_for_each_check() -> None:
    """The exp text uses %{i} and %{l}: a remembered fail keeps its record, and the
    explanation is expanded again, for this sender (§6.2)."""
    resolver = MemoryResolver(ZONE)
    results = asyncio.run(_checks(resolver, "198.51.100.1", "bob@rbl.test"))
    assert results[2].result.value == "fail" and not results[2].trace
    assert results[2].explanation == "198.51.100.1 is listed for rbl.test (asked as bob)"
    carol = asyncio.run(check("198.51.100.1", "carol@rbl.test", "mx.one.test", resolver=resolver))
    assert not carol.trace  # the records do not use the sender: the same answer …
    assert carol.explanation == "198.51.100.1 is listed for rbl.test (asked as carol)"  # … explained anew
    _same_as_evaluator(carol, resolver, "198.51.100.1", "carol@rbl.test", "mx.one.test")


def test_ptr_answers_are_remembered_per_client() -> None:
    resolver = MemoryResolver(ZONE)
    listed = asyncio.run(_checks(resolver, "203.0.113.77", "x@ptr.test"))
    other = asyncio.run(check("203.0.113.78", "x@ptr.test", "mx.one.test", resolver=resolver))
    assert not listed[2].trace and listed[2].result.value == "pass"
    assert other.trace and other.result.value == "softfail"  # another client: evaluated
    for ip, got in (("203.0.113.77", listed[2]), ("203.0.113.78", other)):
        _same_as_evaluator(got, resolver, ip, "x@ptr.test", "mx.one.test")


def test_answers_that_use_the_sender_or_helo_are_kept_under_them() -> None:
    resolver = MemoryResolver(ZONE)
    alice = asyncio.run(_checks(resolver, "203.0.113.77", "alice@users.test"))
    bob = asyncio.run(check("203.0.113.77", "bob@users.test", "mx.one.test", resolver=resolver))
    assert not alice[2].trace and alice[2].result.value == "pass"
    assert bob.trace and bob.result.value == "fail"  # not alice's answer
    _same_as_evaluator(bob, resolver, "203.0.113.77", "bob@users.test", "mx.one.test")
    helo = asyncio.run(_checks(resolver, "203.0.113.77", "x@helo.test", helo="mx.one.test"))
    other = asyncio.run(check("203.0.113.77", "x@helo.test", "mx.two.test", resolver=resolver))
    assert not helo[2].trace and helo[2].result.value == "pass"
    assert other.trace and other.result.value == "neutral"


def test_trace_requests_always_run_the_evaluator() -> None:
    resolver = MemoryResolver(ZONE)
    asyncio.run(_checks(resolver, "203.0.113.77", "bob@rbl.test"))
    traced = asyncio.run(check("203.0.113.77", "bob@rbl.test", "mx.one.test", resolver=resolver,
                               trace=True))
    assert traced.trace


def test_a_remembered_answer_lives_no_longer_than_its_answers_have_left() -> None:
    clock = Clock()
    resolver = CachingResolver(MemoryResolver(ZONE, ttl=300), clock=clock)
    cache = CompiledCache(clock=clock)

    async def once() -> CheckResult:
        return await check_host_compiled("203.0.113.77", "rbl.test", "bob@rbl.test",
                                         resolver=resolver, helo="mx.one.test", cache=cache)

    asyncio.run(once())  # evaluated, the domain now known; answers cached at t=1000
    clock.now += 100
    assert asyncio.run(once()).trace  # compiled, this client evaluated and remembered
    clock.now += 199
    assert not asyncio.run(once()).trace  # 299 s after the DNS answers were cached
    clock.now += 1  # they expire from the DNS cache now: so do the map and the answer
    assert asyncio.run(once()).trace


def test_answers_from_a_failure_or_a_ttl_of_0_are_not_kept() -> None:
    answers = RememberedAnswers(1 << 20, Clock())
    timeout = dict(ZONE, **{"203.0.113.77.rbl.zone.test": "TIMEOUT"})
    for zone, ttl in ((timeout, 300.0), (ZONE, 0.0)):
        resolver = MemoryResolver(zone, ttl=ttl)
        evaluated = asyncio.run(evaluate_check("203.0.113.77", "rbl.test", "bob@rbl.test",
                                               resolver=resolver, helo="h.test"))
        assert evaluated.ttl() == 0.0
        assert not answers.put(("rbl.test", None, 4, 1), evaluated, "bob@rbl.test", "h.test")
    assert len(answers) == 0
    resolver = MemoryResolver(ZONE, ttl=300)
    evaluated = asyncio.run(evaluate_check("203.0.113.77", "rbl.test", "bob@rbl.test",
                                           resolver=resolver, helo="h.test"))
    assert evaluated.ttl() == 300.0
    assert answers.put(("rbl.test", None, 4, 1), evaluated, "bob@rbl.test", "h.test")


def test_remembered_answers_stay_within_their_bytes_and_the_estimate_tracks_memory() -> None:
    zone = dict(ZONE)
    resolver = MemoryResolver(zone, ttl=300)
    evaluated = [asyncio.run(evaluate_check(f"198.51.{i // 250}.{i % 250}", "rbl.test",
                                            "bob@rbl.test", resolver=resolver, helo="h.test"))
                 for i in range(400)]
    bounded = RememberedAnswers(100 * ANSWER_BYTES)
    for i, e in enumerate(evaluated):
        bounded.put(("rbl.test", None, 4, 3_000_000_000 + i), e, "bob@rbl.test", "h.test")
    assert bounded.stats().bytes <= 100 * ANSWER_BYTES and 90 <= len(bounded) <= 100
    answers = RememberedAnswers(1 << 30)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, e in enumerate(evaluated):
        answers.put(("rbl.test", None, 4, 3_000_000_000 + i), e, "bob@rbl.test", "h.test")
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    estimate = answers.stats().bytes
    assert 0.7 * kept <= estimate <= 1.3 * kept, (kept, estimate)


def test_options_that_change_results_are_part_of_the_key() -> None:
    resolver = MemoryResolver(ZONE)
    tight = CheckOptions(max_dns_terms=0)
    asyncio.run(_checks(resolver, "203.0.113.77", "bob@rbl.test"))
    got = asyncio.run(check("203.0.113.77", "bob@rbl.test", "mx.one.test", resolver=resolver,
                            options=tight))
    assert got.result.value == "permerror"


def test_a_u_label_domain_is_compiled_under_its_a_label() -> None:
    """RFC 8616 §3: the compiled path converts as the evaluator does; the map it builds is
    the A-label domain's, so both spellings share it and answer alike."""
    zone = {"xn--bcher-kva.example": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}}
    resolver = MemoryResolver(zone)
    cache = CompiledCache()

    async def once(ip: str, domain: str) -> CheckResult:
        return await check_host_compiled(ip, domain, f"a@{domain}", resolver=resolver,
                                         helo="h.test", cache=cache)

    first = asyncio.run(once("192.0.2.1", "b\u00fccher.example"))
    assert first.trace and first.result.value == "pass"  # evaluated: the domain's first check
    for ip, want in (("192.0.2.9", "pass"), ("198.51.100.1", "fail")):
        for spelling in ("b\u00fccher.example", "xn--bcher-kva.example"):
            answer = asyncio.run(once(ip, spelling))
            assert not answer.trace and answer.result.value == want  # from the map
            assert answer.domain == "xn--bcher-kva.example"


def test_ipv6_counts_leave_out_the_ipv4_mapped_addresses() -> None:
    """RFC 7208 §5: a client at ::ffff:a.b.c.d is checked as IPv4, so an ip6 term over
    ::ffff:0:0/96 authorises no IPv6 client: the count says so."""
    from spfkit.compile import authorised_addresses as compiled_counts

    zone = {"m.example": {"TXT": "v=spf1 ip6:::ffff:0:0/96 -all"},
            "n.example": {"TXT": "v=spf1 ip6:::ffff:0:0/95 -all"},
            "o.example": {"TXT": "v=spf1 ip6:2001:db8::/64 ip6:::ffff:10.0.0.0/104 -all"}}
    resolver = MemoryResolver(zone)
    counts = {d: asyncio.run(compiled_counts(d, resolver=resolver)) for d in zone}
    assert counts["m.example"].ipv6 == 0
    assert counts["n.example"].ipv6 == 1 << 32  # ::fffe:0:0/96 is not mapped
    assert counts["o.example"].ipv6 == 1 << 64
    assert asyncio.run(check_host("::ffff:10.1.2.3", "o.example", "a@o.example",
                                  resolver=resolver)).result.value == "fail"
