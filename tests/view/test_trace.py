"""view/trace.py: the one trace → tree step of ``check --trace``, ``/test`` and the policy log."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from spfkit.evaluate import check
from spfkit.lookup import MemoryResolver
from spfkit.results import TraceEvent, TraceKind
from spfkit.view.trace import TraceNode, trace_nodes, walk

ZONE = MemoryResolver({
    "example.com": {"TXT": "v=spf1 include:_spf.example.net redirect=_spf.example.org"},
    "_spf.example.net": {"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"},
    "_spf.example.org": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"},
})


def trace(ip: str = "192.0.2.1") -> tuple[TraceEvent, ...]:
    return asyncio.run(check(ip, "alice@example.com", "", resolver=ZONE)).trace


def shape(nodes: tuple[TraceNode, ...]) -> list[object]:
    return [(n.kind.value, n.domain, shape(n.children)) if n.children else n.kind.value
            for n in nodes]


def test_one_branch_per_check_host() -> None:
    (top,) = trace_nodes(trace())
    assert top.kind is TraceKind.CHECK and top.depth == 0 and top.domain == "example.com"
    assert top.text == "check_host(192.0.2.1, example.com)"
    assert shape((top,)) == [("check", "example.com", [
        "query", "record",
        ("check", "_spf.example.net", ["query", "record", "term", "term", "result"]),  # include
        "term", "term",  # the include (no match: it was a softfail), the redirect
        ("check", "_spf.example.org", ["query", "record", "term", "result"]),
    ])]
    include = top.children[2]
    assert include.depth == 1 and all(step.depth == 1 for step in include.children)
    assert include.children[2].text == "ip4:198.51.100.0/24"
    assert include.children[2].detail == "no match"


def test_the_steps_keep_the_events() -> None:
    events = trace()
    assert tuple(node.event for node in walk(trace_nodes(events))) == events
    assert trace_nodes(()) == ()


def test_a_step_deeper_than_the_open_checks_joins_the_deepest() -> None:
    events = (
        TraceEvent(TraceKind.CHECK, 0, "a.example", "check a"),
        TraceEvent(TraceKind.NOTE, 3, "a.example", "deep note"),
        TraceEvent(TraceKind.CHECK, 2, "b.example", "check b"),  # skips depth 1
        TraceEvent(TraceKind.RESULT, 0, "a.example", "pass"),
    )
    (a,) = trace_nodes(events)
    assert [n.text for n in a.children] == ["deep note", "check b", "pass"]
    assert a.children[1].children == ()


def test_a_shallower_step_closes_the_deeper_checks() -> None:
    """The include returned: a later step at its depth without a new check is not in it."""
    events = (
        TraceEvent(TraceKind.CHECK, 0, "a.example", "check a"),
        TraceEvent(TraceKind.CHECK, 1, "b.example", "check b"),
        TraceEvent(TraceKind.TERM, 0, "a.example", "include:b.example"),
        TraceEvent(TraceKind.NOTE, 1, "a.example", "late"),
    )
    (a,) = trace_nodes(events)
    assert [n.text for n in a.children] == ["check b", "include:b.example", "late"]
    assert a.children[0].children == ()


_EVENTS = st.lists(st.builds(
    TraceEvent, st.sampled_from(list(TraceKind)), st.integers(0, 4), st.just("d.example"),
    st.text(max_size=3), note=st.just(""), answer=st.none()))


@given(_EVENTS)
def test_any_trace_reads_back_in_order_and_only_checks_have_steps(events: list[TraceEvent]) -> None:
    nodes = trace_nodes(events)
    assert [node.event for node in walk(nodes)] == events
    assert all(node.kind is TraceKind.CHECK for node in walk(nodes) if node.children)


def test_a_match_is_coloured_by_the_result_it_gives() -> None:
    """Issue 15 item 7: "-all match" is a fail, not a green "match"."""
    from spfkit.results import Result, TraceEvent, TraceKind
    from spfkit.view.trace import TraceNode

    def node(text: str, detail: str = "match", kind: TraceKind = TraceKind.TERM) -> TraceNode:
        return TraceNode(TraceEvent(kind, 0, "a.example", text, detail, 0, 0))

    assert node("-all").matched is Result.FAIL
    assert node("~all").matched is Result.SOFTFAIL
    assert node("?include:b.example").matched is Result.NEUTRAL
    assert node("+mx").matched is Result.PASS and node("ip4:192.0.2.0/24").matched is Result.PASS
    assert node("-all", "no match").matched is None
    assert node("redirect=b.example", "→ b.example").matched is None
    assert node("TXT a.example", "match", TraceKind.QUERY).matched is None
