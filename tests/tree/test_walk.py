"""``tree.walk``: a trace → a tree, pure (hand-written traces, no event loop)."""

from __future__ import annotations

from spfkit.lookup.protocol import Lookup, LookupStatus
from spfkit.results import Result, TraceEvent, TraceKind
from spfkit.tree.model import ErrorKind, Family, NodeKind
from spfkit.tree.walk import walk_trace

RECORD = "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a ~all"
TXT = Lookup(LookupStatus.ANSWER, ((RECORD.encode(),),))
NODATA: Lookup[object] = Lookup(LookupStatus.NODATA)


def ev(kind: TraceKind, text: str, note: str = "", lookups: int = 0, void: int = 0,
       answer: Lookup[object] | None = None, depth: int = 0, domain: str = "example.com") -> TraceEvent:
    return TraceEvent(kind, depth, domain, text, note, lookups, void, answer)


def test_static_terms_without_their_own_events() -> None:
    """An evaluator may trace a run of non-matching ip4/ip6 as one item: they still count as tried."""
    trace = [
        ev(TraceKind.CHECK, "check_host(255.255.255.254, example.com)"),
        ev(TraceKind.QUERY, "TXT example.com", answer=TXT),
        ev(TraceKind.RECORD, RECORD),
        ev(TraceKind.QUERY, "A example.com", lookups=1, answer=NODATA),
        ev(TraceKind.TERM, "a", "no match", lookups=1, void=1),
        ev(TraceKind.TERM, "~all", "match", lookups=1, void=1),
        ev(TraceKind.RESULT, "softfail", "matched ~all", lookups=1, void=1),
    ]
    root = walk_trace(trace, Family.IPV4, max_lookups=10, max_void=2)
    assert root is not None and root.kind is NodeKind.TOP
    outcomes = [(v.text, v.outcomes[Family.IPV4].detail) for v in root.terms]
    assert outcomes == [("ip4:192.0.2.0/24", "no match"), ("ip6:2001:db8::/32", "no match"),
                        ("a", "no match"), ("~all", "match")]
    a = root.terms[2].outcomes[Family.IPV4]
    assert (a.lookups, a.void, a.voids) == (1, 1, ("A example.com: NODATA",))
    cost = root.costs[Family.IPV4]
    assert (cost.lookups, cost.total_lookups, cost.void, cost.result) == (1, 1, 1, Result.SOFTFAIL)


def test_default_result_marks_every_mechanism_tried() -> None:
    record = "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32"
    trace = [
        ev(TraceKind.CHECK, "check_host(...)"),
        ev(TraceKind.QUERY, "TXT example.com", answer=Lookup(LookupStatus.ANSWER, ((record.encode(),),))),
        ev(TraceKind.RECORD, record),
        ev(TraceKind.RESULT, "neutral", "no mechanism matched (§4.7 default)"),
    ]
    root = walk_trace(trace, Family.IPV6, max_lookups=10, max_void=2)
    assert root is not None
    assert [v.outcomes[Family.IPV6].detail for v in root.terms] == ["no match", "no match"]


def test_a_matched_neutral_leaves_later_terms_untried() -> None:
    record = "v=spf1 ?all ip4:192.0.2.0/24"
    trace = [
        ev(TraceKind.CHECK, "check_host(...)"),
        ev(TraceKind.QUERY, "TXT example.com", answer=Lookup(LookupStatus.ANSWER, ((record.encode(),),))),
        ev(TraceKind.RECORD, record),
        ev(TraceKind.TERM, "?all", "match"),
        ev(TraceKind.RESULT, "neutral", "matched ?all"),
    ]
    root = walk_trace(trace, Family.IPV4, max_lookups=10, max_void=2)
    assert root is not None
    assert not root.terms[1].evaluated


def test_an_unparsable_record_keeps_its_text() -> None:
    bad = "v=spf1 ip4:192.0.2.300 -all"
    trace = [
        ev(TraceKind.CHECK, "check_host(...)"),
        ev(TraceKind.QUERY, "TXT example.com", answer=Lookup(LookupStatus.ANSWER, ((bad.encode(),),))),
        ev(TraceKind.RESULT, "permerror", "syntax error in the record of example.com"),
    ]
    root = walk_trace(trace, Family.IPV4, max_lookups=10, max_void=2)
    assert root is not None and root.record is None and root.record_text == bad
    assert [e.kind for e in root.errors] == [ErrorKind.BAD_RECORD]


def test_empty_trace() -> None:
    assert walk_trace([], Family.IPV4, max_lookups=10, max_void=2) is None


def test_error_after_untraced_static_terms_sits_at_the_dns_term() -> None:
    record = "v=spf1 ip4:192.0.2.0/24 mx -all"
    trace = [
        ev(TraceKind.CHECK, "check_host(...)"),
        ev(TraceKind.QUERY, "TXT example.com", answer=Lookup(LookupStatus.ANSWER, ((record.encode(),),))),
        ev(TraceKind.RECORD, record),
        ev(TraceKind.QUERY, "MX example.com", lookups=1, answer=Lookup(LookupStatus.TIMEOUT)),
        ev(TraceKind.RESULT, "temperror", "DNS TIMEOUT for MX example.com", lookups=1),
    ]
    root = walk_trace(trace, Family.IPV4, max_lookups=10, max_void=2)
    assert root is not None
    [error] = root.errors
    assert (error.kind, error.term, error.result) == (ErrorKind.DNS, "mx", Result.TEMPERROR)
    assert [v.outcomes[Family.IPV4].detail for v in root.terms[:2]] == ["no match", "error"]
    assert not root.terms[2].evaluated
