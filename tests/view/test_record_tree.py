"""view/record_tree.py: what ``spfkit show`` and the ``/check`` page show of a record tree.

Each test builds a real tree (``build_tree`` over an in-memory zone) and reads its view: the
structure both front ends draw and the plain words the web page prints.
"""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.lookup import MemoryResolver
from spfkit.results import Result
from spfkit.tree import Family, build_tree
from spfkit.view import NodeView, TermRow, tree_view
from spfkit.view.record_tree import (
    BEYOND_LIMIT,
    NOT_COUNTED,
    NOT_EVALUATED,
    BitKind,
    Count,
    Total,
    TreeView,
    count_phrase,
)

V4, V6 = Family.IPV4, Family.IPV6


def view_of(domain: str, zone: dict[str, Any]) -> TreeView:
    return tree_view(asyncio.run(build_tree(domain, MemoryResolver(zone))))


def root_of(domain: str, zone: dict[str, Any]) -> NodeView:
    root = view_of(domain, zone).root
    assert root is not None
    return root


def rows(node: NodeView) -> list[TermRow]:
    return [item for item in node.items if isinstance(item, TermRow)]


def nodes(node: NodeView) -> list[NodeView]:
    return [item for item in node.items if isinstance(item, NodeView)]


def kinds(row: TermRow) -> list[BitKind]:
    return [bit.kind for bit in row.bits]


CHAIN = {
    "example.com": {"TXT": "v=spf1 include:_spf.example.net mx ~all", "MX": [(10, "mail.example.com")]},
    "mail.example.com": {"A": ["192.0.2.25"], "AAAA": ["2001:db8::25"]},
    "_spf.example.net": {"TXT": "v=spf1 ip4:198.51.100.0/24 ~all"},
}


def test_a_record_its_terms_and_its_include() -> None:
    root = root_of("example.com", CHAIN)
    assert (root.title, root.target, root.top, root.is_node) == ("example.com", None, True, True)
    assert root.record == "v=spf1 include:_spf.example.net mx ~all"
    assert root.note is None and root.errors == () and root.exp is None
    assert root.status == "lookups 2 (total 2/10), void 0"
    (include,) = nodes(root)
    assert (include.title, include.target, include.top) == ("include:_spf.example.net", None, False)
    assert include.status == "lookups 1 (total 1/10), void 0"
    assert [r.text for r in rows(include)] == ["ip4:198.51.100.0/24", "~all"]
    assert all(r.bits == () for r in rows(include))  # no DNS, nothing to say
    mx, softfail = rows(root)
    assert (mx.mechanism, mx.is_node, mx.stopped, mx.families) == (True, False, False, (V4, V6))
    assert mx.lookups == (Count(None, 1, Total(2, 10)),)
    assert [b.text for b in mx.bits] == [
        "lookup +1 (total 2/10)", "mail.example.com: 192.0.2.25/32, 2001:db8::25/128"]
    assert mx.networks == (("mail.example.com", ("192.0.2.25/32", "2001:db8::25/128")),)
    assert softfail.bits == ()


def test_counts_per_family_when_the_families_differ() -> None:
    root = root_of("mx.example", {
        "mx.example": {"TXT": "v=spf1 mx a:v4only.mx.example -all", "MX": [(10, "m1.mx.example")]},
        "m1.mx.example": {"A": ["192.0.2.11"]}, "v4only.mx.example": {"A": ["192.0.2.13"]},
    })
    assert root.counts is not None and root.counts.families == (V4, V6)
    assert root.counts.void == (Count(V4, 0, Total(0, 2)), Count(V6, 1, Total(1, 2)))
    assert root.status == "lookups 2 (total 2/10), void IPv4 0, IPv6 1"
    _, a, _ = rows(root)
    assert [b.text for b in a.bits if b.kind is BitKind.VOID] == [
        "void (IPv6): AAAA v4only.mx.example: NODATA"]
    assert kinds(a) == [BitKind.LOOKUPS, BitKind.VOID, BitKind.NETWORKS]


def test_a_target_only_one_family_reaches_is_named_after_its_term() -> None:
    root = root_of("mac.example", {
        "mac.example": {"TXT": "v=spf1 include:%{v}._spf.mac.example redirect=_spf.mac.example"},
        "in-addr._spf.mac.example": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"},
        "ip6._spf.mac.example": {"TXT": "v=spf1 -all"},
        "_spf.mac.example": {"TXT": "v=spf1 -all"},
    })
    v4, v6, redirect = nodes(root)
    assert (v4.title, v4.target) == ("include:%{v}._spf.mac.example", "in-addr._spf.mac.example")
    assert v4.counts is not None and v4.counts.only is V4
    assert v4.status == "lookups 1 (total 1/10), void 0, (IPv4 client only)"
    assert (v6.target, v6.counts and v6.counts.only) == ("ip6._spf.mac.example", V6)
    assert (redirect.title, redirect.target) == ("redirect=_spf.mac.example", None)


def test_past_the_limit_and_what_the_whole_tree_needs() -> None:
    zone: dict[str, Any] = {
        "over.example": {"TXT": "v=spf1 " + " ".join(f"include:c{k}.example" for k in range(6)) + " -all"},
        **{f"c{k}.example": {"TXT": "v=spf1 a -all", "A": [f"192.0.2.{k + 1}"],
                             "AAAA": [f"2001:db8::{k + 1}"]} for k in range(6)},
    }
    view = view_of("over.example", zone)
    assert view.root is not None
    (error,) = view.root.errors
    assert error.term == "include:c5.example" and error.every_client and not error.beyond_limit
    assert error.text() == ("permerror: more than 10 DNS-querying terms (limit reached at "
                            "'include:c5.example') at include:c5.example (IPv4 client, IPv6 client)")
    assert error.text("every client").endswith("(every client)")
    last = nodes(view.root)[-1]
    assert last.counts is not None and last.counts.beyond == (V4, V6)
    assert last.status.endswith(", " + BEYOND_LIMIT)
    assert rows(last)[0].lookups == (Count(None, 1, Total(12, 10)),)
    assert kinds(rows(last)[0]) == [BitKind.LOOKUPS, BitKind.BEYOND, BitKind.NETWORKS]
    for run, family in zip(view.runs, (V4, V6)):
        assert run.family is family and run.result is Result.PERMERROR
        assert run.lookups == Total(10, 10) and run.void == Total(0, 2)
        assert run.needs is not None and (run.needs.lookups, run.needs.at_least) == (12, False)
        assert run.needs.text() == "the whole tree needs 12 lookups and 0 void lookups"
        assert run.needs.text(lambda n: f"*{n}*").startswith("the whole tree needs *12* lookups")


def test_after_an_error_records_are_shown_not_counted() -> None:
    root = root_of("miss.example", {
        "miss.example": {"TXT": "v=spf1 include:nothere.example include:ok.miss.example -all"},
        "ok.miss.example": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"},
    })
    (error,) = root.errors
    assert error.message == "permerror: include:nothere.example has no SPF record"
    missing, later = nodes(root)
    assert (missing.record, missing.missing) == (None, "(no SPF record)")
    assert later.note == NOT_COUNTED and later.counts is None and later.status == NOT_COUNTED
    assert all(r.bits == () for r in rows(later))  # not counted: not "not evaluated" either
    (all_,) = rows(root)
    assert [(b.kind, b.text) for b in all_.bits] == [(BitKind.NOT_EVALUATED, NOT_EVALUATED)]


def test_too_many_mx_names_stop_the_evaluation() -> None:
    root = root_of("many.example", {
        "many.example": {"TXT": "v=spf1 mx -all", "MX": [(k, f"m{k}.many.example") for k in range(11)]},
    })
    mx = rows(root)[0]
    assert mx.stopped and mx.beyond == ()
    assert [b.text for b in mx.bits[1:]] == ["11 MX names (limit 10)", "evaluation stopped here"]


def test_an_exp_receivers_ignore() -> None:
    bad = root_of("e.example", {"e.example": {"TXT": "v=spf1 -all exp=why.e.example"},
                                "why.e.example": {"TXT": ["one", "two"]}}).exp
    assert bad is not None and not bad.ok
    assert bad.text == ("exp → TXT why.e.example: 2 TXT records (exactly one is needed): "
                        "receivers ignore it (§6.2)")
    good = root_of("e.example", {"e.example": {"TXT": "v=spf1 -all exp=why.e.example"},
                                 "why.e.example": {"TXT": "Not from here"}}).exp
    assert good is not None and good.ok and good.text == "exp → TXT why.e.example: ok"


def test_a_domain_without_record_has_no_root() -> None:
    view = view_of("none.example", {"none.example": {"A": ["192.0.2.1"]}})
    assert view.root is None and [run.result for run in view.runs] == [Result.NONE, Result.NONE]
    assert all(run.needs is None for run in view.runs)


def test_count_phrase_draws_totals_as_asked() -> None:
    counts = (Count(V4, 1, Total(9, 10)), Count(V6, 2, Total(11, 10)))
    assert count_phrase(counts) == "IPv4 1 (total 9/10), IPv6 2 (total 11/10)"
    assert count_phrase(counts[:1], sign="+", total=lambda t: f"<{t}>") == "IPv4 +1 (total <9/10>)"
    assert count_phrase((Count(None, 0, Total(0, 2)),)) == "0 (total 0/2)"


def test_an_a_term_that_resolves_to_nothing() -> None:
    (a, _) = rows(root_of("void.example", {"void.example": {"TXT": "v=spf1 a:gone.void.example -all"}}))
    assert a.networks == () and not a.stopped
    assert [(b.kind, b.text) for b in a.bits] == [
        (BitKind.LOOKUPS, "lookup +1 (total 1/10)"),
        (BitKind.VOID, "void (IPv4): A gone.void.example: NXDOMAIN"),
        (BitKind.VOID, "void (IPv6): AAAA gone.void.example: NXDOMAIN"),
        (BitKind.NO_ADDRESSES, "no addresses"),
    ]
