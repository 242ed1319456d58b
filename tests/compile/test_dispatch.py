"""The one entry point (``evaluate.check()`` → ``compile.dispatch``): compiled answers once a
domain is known, the evaluator for first checks, client-dependent terms, trace requests and
domains without a record; both give the same outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from spfkit.compile.dispatch import cache_for
from spfkit.evaluate import check
from spfkit.identity import Identity
from spfkit.lookup import MemoryResolver
from tests.compile.identity import outcome

ZONE: dict[str, Any] = {
    "example.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 include:%{l}.users.test a:mail.example.test "
                            "ip6:2001:db8::/32 -all exp=why.example.test"},
    "rbl.example.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 exists:%{i}.rbl.test -all"},
    "bob.users.test": {"TXT": "v=spf1 -all"},
    "alice.users.test": {"TXT": "v=spf1 ip4:198.51.100.7 -all"},
    "mail.example.test": {"A": "203.0.113.5"},
    "why.example.test": {"TXT": "%{i} may not send for %{d}"},
    "203.0.113.77.rbl.test": {"A": "127.0.0.2"},
    "nospf.test": {"TXT": "some verification"},
}


def _twice(ip: str, sender: str, resolver: MemoryResolver, **kw: Any) -> tuple[Any, Any]:
    async def run() -> tuple[Any, Any]:
        first = await check(ip, sender, "helo.test", resolver=resolver, **kw)
        second = await check(ip, sender, "helo.test", resolver=resolver, **kw)
        return first, second
    return asyncio.run(run())


def test_the_second_check_of_a_domain_is_compiled_and_equal() -> None:
    resolver = MemoryResolver(ZONE)
    first, second = _twice("192.0.2.9", "bob@example.test", resolver)
    assert first.trace and not second.trace  # the evaluator, then the compiled map
    assert outcome(second) == outcome(first)
    assert second.result.value == "pass" and second.mechanism == "ip4:192.0.2.0/24"


def test_a_fail_is_explained_for_each_client() -> None:
    resolver = MemoryResolver(ZONE)
    _twice("192.0.2.9", "bob@example.test", resolver)  # warms the cache
    a = asyncio.run(check("198.18.0.1", "bob@example.test", "h.test", resolver=resolver))
    b = asyncio.run(check("198.18.0.2", "bob@example.test", "h.test", resolver=resolver))
    assert not a.trace and not b.trace
    assert a.explanation == "198.18.0.1 may not send for example.test"
    assert b.explanation == "198.18.0.2 may not send for example.test"


def test_clients_reaching_a_client_macro_are_evaluated() -> None:
    resolver = MemoryResolver(ZONE)
    first, second = _twice("203.0.113.77", "bob@rbl.example.test", resolver)
    assert second.trace  # exists:%{i}… ends the compiled part: the evaluator answered
    assert second.result.value == "pass" and second.mechanism == "exists:%{i}.rbl.test"


def test_maps_that_use_the_sender_are_kept_per_sender() -> None:
    resolver = MemoryResolver(ZONE)
    _twice("198.51.100.7", "bob@example.test", resolver)
    alice = _twice("198.51.100.7", "alice@example.test", resolver)
    bob = asyncio.run(check("198.51.100.7", "bob@example.test", "helo.test", resolver=resolver))
    assert [r.result.value for r in alice] == ["pass", "pass"]
    assert not alice[1].trace and not bob.trace
    assert bob.result.value == "fail" and bob.lookups == 2


def test_an_ipv4_mapped_client_is_the_ipv4_client() -> None:
    resolver = MemoryResolver(ZONE)
    _twice("192.0.2.9", "bob@example.test", resolver)
    mapped = asyncio.run(check("::ffff:203.0.113.5", "bob@example.test", "h.test", resolver=resolver))
    assert not mapped.trace and mapped.mechanism == "a:mail.example.test"
    v6 = _twice("2001:db8::1", "bob@example.test", resolver)
    assert not v6[1].trace and outcome(v6[0]) == outcome(v6[1])


def test_trace_requests_use_the_evaluator() -> None:
    resolver = MemoryResolver(ZONE)
    traced = _twice("192.0.2.9", "bob@example.test", resolver, trace=True)
    assert all(r.trace for r in traced)


@pytest.mark.parametrize(("sender", "gone"), [("bob@nospf.test", False), ("bob@gone.test", True)])
def test_domains_without_a_record_are_compiled_and_say_whether_the_name_exists(
        sender: str, gone: bool) -> None:
    """nospf.test has a TXT record that is no SPF record; gone.test is not in the zone
    (NXDOMAIN): both "none", only the second a name that does not exist (§4.3-§4.4)."""
    resolver = MemoryResolver(ZONE)
    first, second = _twice("192.0.2.9", sender, resolver)
    assert first.trace and not second.trace  # the second answer is the compiled one
    assert second.result.value == "none" and outcome(second) == outcome(first)
    assert (first.no_such_domain, second.no_such_domain) == (gone, gone)


def test_helo_checks_share_the_entry_point() -> None:
    resolver = MemoryResolver(ZONE)
    results = [asyncio.run(check("192.0.2.1", "", "example.test", resolver=resolver,
                                 identity=Identity.HELO)) for _ in range(2)]
    assert not results[1].trace and outcome(results[0]) == outcome(results[1])
    cache = cache_for(resolver)
    assert cache is not None and len(cache) >= 1


def test_a_tree_too_fine_to_compile_is_left_to_the_evaluator() -> None:
    """An "a" with 2,000 addresses splits the space into 4,001 ranges, and 300 terms follow:
    past the compiler's bound every client is the evaluator's, with the evaluator's answer."""
    from spfkit.compile import compile_policy
    hosts = [f"10.{i // 250}.{i % 250}.1" for i in range(2000)]
    terms = " ".join(f"-ip4:172.16.{i // 250}.{i % 250}" for i in range(300))
    zone: dict[str, Any] = {"fine.test": {"TXT": f"v=spf1 a:h.test {terms} ~all"},
                            "h.test": {"A": hosts}}
    resolver = MemoryResolver(zone)
    policy = asyncio.run(compile_policy("fine.test", 4, resolver=resolver))
    assert policy.decisions == (None,)
    first, second = _twice("10.0.7.1", "x@fine.test", resolver)
    assert second.trace and outcome(first) == outcome(second)
    assert second.result.value == "pass"


def test_check_now_answers_only_what_needs_no_waiting() -> None:
    """``check_now`` is ``check`` without waiting: None for a first check (the evaluator's) and
    for a fail whose record has "exp" (a DNS lookup), the compiled answer otherwise."""
    from spfkit.evaluate import check_now

    resolver = MemoryResolver(ZONE)

    def now(ip: str, sender: str = "bob@example.test") -> Any:
        return check_now(ip, sender, "helo.test", resolver=resolver)

    assert now("192.0.2.9") is None  # nothing known yet
    first, second = _twice("192.0.2.9", "bob@example.test", resolver)
    warm = now("192.0.2.9")
    assert warm is not None and outcome(warm) == outcome(second) == outcome(first)
    assert now("198.18.0.1") is None  # fail, explained by exp=why.example.test: fetched later
    explained = asyncio.run(check("198.18.0.1", "bob@example.test", "h.test", resolver=resolver))
    assert explained.explanation == "198.18.0.1 may not send for example.test"
    assert now("192.0.2.9", "bob@other.test") is None  # another domain: not compiled


def test_check_now_gives_a_default_explanation_per_client() -> None:
    """A fail in a record without "exp" needs no DNS: the default explanation (§6.2) is
    expanded for each client, as ``check`` does."""
    from spfkit.evaluate import check_now

    resolver = MemoryResolver({"plain.test": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}})
    _twice("192.0.2.1", "x@plain.test", resolver)
    answers = [check_now(ip, "x@plain.test", "h.test", resolver=resolver)
               for ip in ("198.18.0.1", "198.18.0.2")]
    expected = [asyncio.run(check(ip, "x@plain.test", "h.test", resolver=resolver, trace=True))
                for ip in ("198.18.0.1", "198.18.0.2")]
    assert all(a is not None for a in answers)
    assert [outcome(a) for a in answers if a] == [outcome(e) for e in expected]
    assert answers[0] and answers[1] and answers[0].explanation != answers[1].explanation
