"""Processing limits (RFC 7208 §4.6.4) against adversarial zones, through ``lookup.memory``.

Each test asserts the result, that ``problem`` names the limit, and — the point of the
limits — how many questions the resolver actually received.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from spfkit.evaluate import CheckOptions, check_host
from spfkit.lookup.protocol import BaseResolver, Lookup, LookupStatus, RRType
from spfkit.results import Result, TraceKind
from tests.evaluate.common import IP, Run, spf


def names(resolver: Any, rrtype: RRType | None = None) -> list[str]:
    """The names asked (of one type), sorted: prefetch may change the order, not the set."""
    return sorted(n for t, n in resolver.queries if rrtype is None or t == rrtype)


def assert_each_question_once(resolver: Any) -> None:
    """``Evaluation`` promises one question per (type, name) per check (``evaluate/run.py``)."""
    asked = [(t, n.lower()) for t, n in resolver.queries]
    repeated = sorted({q for q in asked if asked.count(q) > 1})
    assert not repeated, f"asked more than once: {repeated}"


@pytest.mark.parametrize(
    "zone",
    [
        {"example.com": spf("v=spf1 a:h1.example.com a:h2.example.com -all"),
         "h1.example.com": {"A": "198.51.100.1"}, "h2.example.com": {"A": "198.51.100.2"}},
        {"example.com": spf("v=spf1 include:b.example.com -all"), "b.example.com": spf("v=spf1 ?all")},
        {"example.com": {"TXT": "v=spf1 mx -all", "MX": (10, "mx.example.com")},
         "mx.example.com": {"A": "198.51.100.1"}},
    ],
    ids=["a", "include", "mx"],
)
def test_each_question_is_asked_once(run: Run, zone: dict[str, Any]) -> None:
    _, resolver = run(zone)
    assert_each_question_once(resolver)


# --- loops ------------------------------------------------------------------------------


def test_include_loop_is_permerror(run: Run) -> None:
    # openspf include-loop
    zone = {
        "example.com": spf("v=spf1 include:b.example.com -all"),
        "b.example.com": spf("v=spf1 include:example.com -all"),
    }
    result, resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "loop" in result.problem
    # never more than the 10 DNS terms allow: 1 + 10 TXT questions at most
    assert len(resolver.queries) <= 11
    assert result.lookups <= 10


def test_redirect_loop_is_permerror(run: Run) -> None:
    # openspf redirect-loop
    zone = {"example.com": spf("v=spf1 ip4:1.1.1.1 redirect=example.com")}
    result, resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.problem is not None and ("loop" in result.problem or "10" in result.problem)
    assert len(resolver.queries) <= 11


def test_two_step_redirect_loop(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 redirect=b.example.com"),
        "b.example.com": spf("v=spf1 redirect=example.com"),
    }
    result, resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "loop" in result.problem
    assert len(resolver.queries) <= 11


def test_the_same_include_twice_is_not_a_loop(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 include:b.example.com include:b.example.com -all"),
        "b.example.com": spf("v=spf1 ip4:198.51.100.1 -all"),
    }
    result, _resolver = run(zone)
    assert result.result is Result.FAIL
    assert result.lookups == 2


# --- §4.6.4: at most 10 DNS-querying terms ----------------------------------------------


def _a_terms(n: int) -> dict[str, Any]:
    zone: dict[str, Any] = {
        "example.com": spf("v=spf1 " + " ".join(f"a:h{i}.example.com" for i in range(1, n + 1)) + " -all")
    }
    for i in range(1, n + 1):
        zone[f"h{i}.example.com"] = {"A": "198.51.100.1"}
    return zone


def test_ten_dns_terms_are_allowed(run: Run) -> None:
    result, resolver = run(_a_terms(10))
    assert result.result is Result.FAIL
    assert result.lookups == 10
    assert len(resolver.queries) == 11


def test_the_11th_dns_term_is_permerror_and_never_queried(run: Run) -> None:
    result, resolver = run(_a_terms(11))
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "10" in result.problem
    assert result.mechanism == "a:h11.example.com"
    assert result.lookups == 10
    assert "h11.example.com" not in names(resolver)
    assert len(resolver.queries) == 11  # the TXT, then one A per allowed term


def test_mixed_dns_terms_count_together(run: Run) -> None:
    # openspf mech-over-limit: a mx a mx a mx a mx a ptr a = 11 DNS terms
    zone = {
        "example.com": {
            "TXT": "v=spf1 a mx a mx a mx a mx a ptr a ip4:192.0.2.1 -all",
            "A": "198.51.100.20",
            "MX": (10, "example.com"),
        }
    }
    result, _resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.mechanism == "a"
    assert result.lookups == 10


def test_include_counts_and_so_do_its_terms(run: Run) -> None:
    # openspf include-over-limit: a include:(8 a) a → 11
    zone = {
        "example.com": {"TXT": "v=spf1 a include:inc.example.com a ip4:192.0.2.1 -all", "A": "198.51.100.21"},
        "inc.example.com": {"TXT": "v=spf1 a a a a a a a a", "A": "198.51.100.10"},
    }
    result, _ = run(zone)
    assert result.result is Result.PERMERROR
    assert result.lookups == 10


def test_include_at_limit_passes(run: Run) -> None:
    # openspf include-at-limit: a include:(8 a) ip4 → exactly 10
    zone = {
        "example.com": {"TXT": "v=spf1 a include:inc.example.com ip4:192.0.2.1 mx -all", "A": "198.51.100.21"},
        "inc.example.com": {"TXT": "v=spf1 a a a a a a a a", "A": "198.51.100.10"},
    }
    result, resolver = run(zone)
    assert result.result is Result.PASS
    assert result.lookups == 10
    assert "MX" not in [t for t, _ in resolver.queries]


def test_a_lower_configured_term_limit(run: Run) -> None:
    result, resolver = run(_a_terms(5), options=CheckOptions(max_dns_terms=3))
    assert result.result is Result.PERMERROR
    assert result.lookups == 3
    assert len(resolver.queries) == 4


def test_deep_include_chain_stops_at_the_11th(run: Run) -> None:
    zone: dict[str, Any] = {
        f"l{i}.example.com": spf(f"v=spf1 include:l{i + 1}.example.com -all") for i in range(20)
    }
    zone["l20.example.com"] = spf("v=spf1 +all")
    result, resolver = run(zone, domain="l0.example.com")
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "10" in result.problem
    assert result.mechanism == "include:l11.example.com"
    assert result.lookups == 10
    # the TXT of l0 .. l10; l11's record is never asked for
    assert names(resolver) == sorted([f"l{i}.example.com" for i in range(11)])


def test_deep_redirect_chain_stops_at_the_11th(run: Run) -> None:
    zone: dict[str, Any] = {
        f"r{i}.example.com": spf(f"v=spf1 redirect=r{i + 1}.example.com") for i in range(20)
    }
    zone["r20.example.com"] = spf("v=spf1 +all")
    result, resolver = run(zone, domain="r0.example.com")
    assert result.result is Result.PERMERROR
    assert result.lookups == 10
    assert len(resolver.queries) == 11


# --- §4.6.4: void lookups ---------------------------------------------------------------


def _void_terms(n: int) -> dict[str, Any]:
    return {"example.com": spf("v=spf1 " + " ".join(f"a:n{i}.example.com" for i in range(1, n + 1)) + " ?all")}


def test_two_void_lookups_are_allowed(run: Run) -> None:
    # openspf void-at-limit
    result, _resolver = run(_void_terms(2))
    assert result.result is Result.NEUTRAL
    assert result.void_lookups == 2


def test_the_third_void_lookup_is_permerror(run: Run) -> None:
    # openspf void-over-limit
    result, resolver = run(_void_terms(5))
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "void" in result.problem and "2" in result.problem
    assert result.mechanism == "a:n3.example.com"
    assert result.void_lookups == 3
    assert names(resolver) == sorted(["example.com", "n1.example.com", "n2.example.com", "n3.example.com"])


def test_void_lookups_count_across_includes(run: Run) -> None:
    zone = {
        "example.com": spf("v=spf1 a:n1.example.com a:n2.example.com include:inc.example.com -all"),
        "inc.example.com": spf("v=spf1 a:n3.example.com a:n4.example.com a:n5.example.com ?all"),
    }
    result, resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.mechanism == "a:n3.example.com"
    assert result.void_lookups == 3
    assert names(resolver) == sorted([
        "example.com", "n1.example.com", "n2.example.com", "inc.example.com", "n3.example.com"
    ])


def test_nodata_is_void_too(run: Run) -> None:
    zone = _void_terms(3)
    for i in (1, 2, 3):
        zone[f"n{i}.example.com"] = {"TXT": "not spf"}  # exists, no A: NODATA
    result, _ = run(zone)
    assert result.result is Result.PERMERROR
    assert result.void_lookups == 3


def test_void_limit_is_configurable(run: Run) -> None:
    result, _ = run(_void_terms(5), options=CheckOptions(max_void_lookups=4))
    assert result.result is Result.PERMERROR
    assert result.void_lookups == 5
    result, _ = run(_void_terms(4), options=CheckOptions(max_void_lookups=4))
    assert result.result is Result.NEUTRAL


def test_exp_lookup_is_not_a_void_lookup(run: Run) -> None:
    # openspf exp-void: two voids, then a non-existent exp= domain, still fail
    zone = {"example.com": spf("v=spf1 a:n1.example.com a:n2.example.com exp=nxdomain.example.com -all")}
    result, resolver = run(zone)
    assert result.result is Result.FAIL
    assert result.void_lookups == 2
    assert names(resolver, RRType.TXT).count("nxdomain.example.com") == 1


# --- §4.6.4: MX and PTR names -----------------------------------------------------------


def test_eleven_mx_names_is_permerror_without_address_lookups(run: Run) -> None:
    zone = {
        "example.com": {
            "TXT": "v=spf1 mx -all",
            "MX": [(i, f"mx{i}.example.com") for i in range(11)],
        },
        **{f"mx{i}.example.com": {"A": IP} for i in range(11)},
    }
    result, resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "MX" in result.problem and "10" in result.problem
    assert result.mechanism == "mx"
    assert [t for t, _ in resolver.queries] == [RRType.TXT, RRType.MX]


def test_ten_mx_names_are_fine(run: Run) -> None:
    zone = {
        "example.com": {"TXT": "v=spf1 mx -all", "MX": [(i, f"mx{i}.example.com") for i in range(10)]},
        **{f"mx{i}.example.com": {"A": "198.51.100.1"} for i in range(10)},
    }
    zone["mx9.example.com"] = {"A": IP}
    result, resolver = run(zone)
    assert result.result is Result.PASS
    assert len(names(resolver, RRType.A)) == 10


def test_ptr_with_20_names_validates_only_10(run: Run) -> None:
    zone: dict[str, Any] = {
        "example.com": spf("v=spf1 ptr -all"),
        "1.2.0.192.in-addr.arpa": {"PTR": [f"p{i}.example.com" for i in range(20)]},
    }
    for i in range(20):
        zone[f"p{i}.example.com"] = {"A": "198.51.100.1"}
    zone["p15.example.com"] = {"A": IP}  # the 16th name would validate, but is never tried
    result, resolver = run(zone)
    assert result.result is Result.FAIL
    assert len(names(resolver, RRType.PTR)) == 1
    assert names(resolver, RRType.A) == sorted([f"p{i}.example.com" for i in range(10)])


def test_p_macro_with_20_names_validates_only_10(run: Run) -> None:
    zone: dict[str, Any] = {
        "example.com": spf("v=spf1 exists:%{p}.x.example.com -all"),
        "1.2.0.192.in-addr.arpa": {"PTR": [f"p{i}.example.com" for i in range(20)]},
    }
    for i in range(20):
        zone[f"p{i}.example.com"] = {"A": "198.51.100.1"}
    result, resolver = run(zone)
    assert result.result is Result.FAIL
    assert len(names(resolver, RRType.A)) <= 11  # 10 validations + the exists query


# --- size -------------------------------------------------------------------------------


def test_a_1000_term_record_of_ip4(run: Run) -> None:
    terms = " ".join(f"ip4:10.0.{i // 256}.{i % 256}" for i in range(1000))
    started = time.perf_counter()
    result, resolver = run({"example.com": spf(f"v=spf1 {terms} -all")})
    assert time.perf_counter() - started < 5.0
    assert result.result is Result.FAIL
    assert result.lookups == 0
    assert len(resolver.queries) == 1  # the record; the default explanation needs no DNS


def test_a_1000_term_record_of_dns_terms(run: Run) -> None:
    zone: dict[str, Any] = {"example.com": spf("v=spf1 " + " ".join(f"a:h{i}.example.com" for i in range(1000)) + " -all")}
    for i in range(1000):
        zone[f"h{i}.example.com"] = {"A": "198.51.100.1"}
    result, resolver = run(zone)
    assert result.result is Result.PERMERROR
    assert result.lookups == 10
    assert len(resolver.queries) == 11


def _strings(text: str) -> tuple[str, ...]:
    """A TXT record as DNS carries it: character-strings of at most 255 octets."""
    return tuple(text[i : i + 255] for i in range(0, len(text), 255))


def test_a_64kb_txt_record_of_terms(run: Run) -> None:
    body = " ".join(["ip4:198.51.100.1"] * 3900)
    text = f"v=spf1 {body} -all"
    assert len(text) > 64_000
    started = time.perf_counter()
    result, resolver = run({"example.com": {"TXT": _strings(text)}})
    assert time.perf_counter() - started < 5.0
    assert result.result is Result.FAIL
    assert len(resolver.queries) == 1


def test_a_64kb_txt_record_of_junk(run: Run) -> None:
    text = "v=spf1 " + "a" * 65_000
    result, resolver = run({"example.com": {"TXT": _strings(text)}})
    assert result.result is Result.PERMERROR
    assert len(resolver.queries) == 1


_PATHOLOGICAL = textwrap.dedent(
    """
    import asyncio, time
    from spfkit.evaluate import CheckOptions, check_host
    from spfkit.lookup.memory import MemoryResolver
    text = "v=spf1 include:x." + "a" * 65400 + "!"
    zone = {"example.com": {"TXT": tuple(text[i:i + 255] for i in range(0, len(text), 255))}}
    started = time.perf_counter()
    result = asyncio.run(check_host("192.0.2.1", "example.com", "u@example.com",
                                    resolver=MemoryResolver(zone),
                                    options=CheckOptions(time_budget=1.0)))
    print(result.result.value, time.perf_counter() - started)
    """
)


def test_a_64kb_txt_record_with_one_long_label_returns_quickly() -> None:
    """A published record must not stall the receiver: parsing is not covered by the
    asyncio time budget, so it has to be fast on its own. Run in a child process so a
    blow-up fails after 10 s."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _PATHOLOGICAL], capture_output=True, text=True, timeout=10, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("check_host() on a 64 KB record took more than 10 s")
    assert out.returncode == 0, out.stderr
    value, elapsed = out.stdout.split()
    assert value == "permerror"
    assert float(elapsed) < 5.0


def _i1000r_record(size: int = 63_000) -> str:
    """The issue's record: "v=spf1 exists:" and %{i1000r} thousands of times (~63 KB)."""
    return "v=spf1 exists:" + "%{i1000r}" * ((size - 20) // 9) + " -all"


def test_nine_includes_of_63kb_macro_records_end_on_the_work_budget(run: Run) -> None:
    """§4.6.4 "unreasonable load": such a tree once kept one check busy for 40 s of CPU."""
    bomb = _i1000r_record()
    zone: dict[str, Any] = {"example.com": spf(
        "v=spf1 " + " ".join(f"include:i{k}.example.net" for k in range(9)) + " -all")}
    zone.update({f"i{k}.example.net": {"TXT": _strings(bomb)} for k in range(9)})
    started = time.process_time()
    result, resolver = run(zone, ip="2001:db8::1")
    assert time.process_time() - started < 2.0
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "work budget" in result.problem
    assert len(result.problem) < 200  # a 63 KB term is never quoted whole
    # the budget ended the check before every include was evaluated (eager prefetch, the
    # default, may have fetched all nine targets: they are within the 10-term limit)
    assert len([e for e in result.trace if e.kind is TraceKind.CHECK]) < 1 + 9
    assert len(names(resolver, RRType.TXT)) <= 1 + 9


def test_one_large_record_is_within_the_work_budget(run: Run) -> None:
    text = "v=spf1 " + " ".join(f"ip4:10.0.{i // 256}.{i % 256}" for i in range(3000)) + " -all"
    assert 40_000 < len(text) < 131_072
    result, _ = run({"example.com": {"TXT": _strings(text)}})
    assert result.result is Result.FAIL


def test_the_work_budget_is_configurable(run: Run) -> None:
    zone: dict[str, Any] = {"example.com": spf("v=spf1 a:h.example.com -all"),
                            "h.example.com": {"A": [f"198.51.100.{n}" for n in range(1, 101)]}}
    assert run(zone)[0].result is Result.FAIL
    result, _ = run(zone, options=CheckOptions(max_work=100))
    assert result.result is Result.PERMERROR and "work budget of 100" in (result.problem or "")
    assert (result.problem or "").endswith("at a:h.example.com)")


# --- non-ASCII and control characters ---------------------------------------------------


@pytest.mark.parametrize(
    "txt",
    [
        b"v=spf1 a:\xef\xbb\xbfgarbage.example.net -all",  # openspf non-ascii-policy
        b"v=spf1 \x80a:example.net -all",  # non-ascii-mech
        b"v=spf1 a:example.net \x96all",  # non-ascii-result
        b"v=spf1 a:ctrl.example.com\x0dptr -all",  # control-char-policy
        b"v=spf1 ip4:192.0.2.5\x0a include:x.example.com ~all",  # badip4
        b"v=spf1 a:foo.example.com\x00",  # a-null
    ],
)
def test_non_ascii_and_control_characters_are_permerror(run: Run, txt: bytes) -> None:
    result, resolver = run({"example.com": {"TXT": [txt]}, "ctrl.example.com": {"A": IP}})
    assert result.result is Result.PERMERROR
    assert result.problem is not None and "ASCII" in result.problem
    assert len(resolver.queries) == 1  # §4.6: detected before any term is evaluated


# --- macro bombs ------------------------------------------------------------------------


def _longest(resolver: Any) -> int:
    return max(len(n.encode()) for n in names(resolver))


def test_i1000r_on_ipv6(run: Run) -> None:
    zone = {"example.com": spf("v=spf1 exists:%{i1000r}.%{i1000r}.%{i1000r}.x.example.com -all")}
    result, resolver = run(zone, ip="2001:db8::1")
    assert result.result is Result.FAIL
    assert len(resolver.queries) == 2
    assert _longest(resolver) <= 253


def test_d99999(run: Run) -> None:
    zone = {"example.com": spf("v=spf1 exists:%{d99999}.%{d99999999999}.x.example.com -all")}
    result, resolver = run(zone)
    assert result.result is Result.FAIL
    assert names(resolver, RRType.A) == ["example.com.example.com.x.example.com"]


def test_local_part_repeated_beyond_253_octets_is_truncated(run: Run) -> None:
    # §7.3: ... the left side is truncated to fit, by removing successive domain labels
    local = "a" * 60
    zone = {"example.com": spf("v=spf1 exists:%{l}%{l}%{l}%{l}%{l}%{l}.x.example.com -all")}
    result, resolver = run(zone, sender=f"{local}@example.com")
    assert result.result is Result.FAIL
    assert names(resolver, RRType.A) == ["x.example.com"]


def test_dotted_local_part_repeated_is_truncated_label_by_label(run: Run) -> None:
    local = ".".join(["b" * 19] * 3)  # 59 octets
    zone = {"example.com": spf("v=spf1 exists:%{l}.%{l}.%{l}.%{l}.%{l}.%{l}.x.example.com -all")}
    result, resolver = run(zone, sender=f"{local}@example.com")
    assert result.result is Result.FAIL
    asked = names(resolver, RRType.A)
    assert len(asked) == 1
    assert 253 - 20 < len(asked[0]) <= 253
    assert asked[0].endswith(".x.example.com")


def test_macro_bomb_in_every_dns_term(run: Run) -> None:
    bomb = "%{l}%{l}%{l}%{l}%{l}.%{i1000r}.%{d99999r}"
    zone = {
        "example.com": spf(
            f"v=spf1 a:{bomb}.x.example.com mx:{bomb}.x.example.com ptr:{bomb}.example.com "
            f"exists:{bomb}.example.com include:{bomb}.example.com -all"
        )
    }
    result, resolver = run(zone, sender=("z" * 60) + "@example.com")
    assert result.result in (Result.PERMERROR, Result.FAIL)
    assert _longest(resolver) <= 253
    assert len(resolver.queries) <= 11


# --- DNS trouble and the time budget ----------------------------------------------------


def test_timeout_is_temperror(run: Run) -> None:
    zone = {"example.com": spf("v=spf1 include:slow.example -all"), "slow.example": "TIMEOUT"}
    result, resolver = run(zone)
    assert result.result is Result.TEMPERROR
    assert result.problem is not None and "TIMEOUT" in result.problem
    assert names(resolver) == sorted(["example.com", "slow.example"])


def test_timeout_of_the_record_itself(run: Run) -> None:
    result, resolver = run({"example.com": "TIMEOUT"})
    assert result.result is Result.TEMPERROR
    assert len(resolver.queries) == 1


class SlowResolver(BaseResolver):
    """A Resolver that takes ``delay`` seconds to answer anything (NXDOMAIN)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.queries: list[tuple[str, str]] = []

    async def lookup(self, rrtype: RRType, name: str) -> Lookup[Any]:
        self.queries.append((rrtype.value, name))
        await asyncio.sleep(self.delay)
        return Lookup(LookupStatus.NXDOMAIN)


def test_whole_check_time_budget() -> None:
    """§4.6.4: "MTAs or other processors SHOULD impose a limit on the maximum amount of
    elapsed time to evaluate check_host()" — exceeding it is temperror."""
    resolver = SlowResolver(10.0)
    started = time.perf_counter()
    result = asyncio.run(
        check_host(IP, "example.com", "u@example.com", resolver=resolver,
                   options=CheckOptions(time_budget=0.5))
    )
    elapsed = time.perf_counter() - started
    assert result.result is Result.TEMPERROR
    assert result.problem is not None and "time" in result.problem
    assert elapsed < 5.0  # generous: the budget is 0.5 s, each answer would take 10 s
    assert resolver.queries == [("TXT", "example.com")]
