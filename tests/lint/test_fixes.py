"""Fixed records (``spfkit.lint.fixes``) equal the old way: rebuild the text, parse it all again.

``RecordFixes`` skips the second parse when it can prove the answer (see its module doc);
these properties check that proof against the parser on records with every kind of term,
including the "redirect" and "exp" modifiers the parser counts across the record (§6).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network

from hypothesis import example, given
from hypothesis import strategies as st

from spfkit.errors import RecordSyntaxError
from spfkit.lint.fixes import RecordFixes
from spfkit.record import parse_record
from spfkit.record.model import Record, Version
from spfkit.record.terms import IP4, Mechanism, Qualifier, Term


def reference(record: Record, terms: Sequence[Term | str]) -> str | None:
    text = " ".join([record.version_text, *(str(t) for t in terms)])
    try:
        parse_record(text)
    except RecordSyntaxError:
        return None
    return text


_words = st.sampled_from([
    "a", "mx", "-all", "ip4:192.0.2.0/24", "ip6:2001:db8::/32", "include:_spf.example.net",
    "redirect=_spf.example.org", "exp=why.example.com", "default=deny", "foo=bar",
])
_new = st.sampled_from(["~all", "redirect=other.example", "exp=x.example", "ip4:10.0.0.0/8",
                        "a:%{d}", "bad term", "ip4:300.0.0.1", "é", ""])
_records = st.lists(_words, max_size=10).map(lambda w: "v=spf1 " + " ".join(w))


def parsed(text: str) -> Record | None:
    try:
        return parse_record(text)
    except RecordSyntaxError:
        return None


@given(text=_records, data=st.data(), new=_new)
@example(text="v=spf1 mx redirect=a.example", data=None, new="redirect=b.example")
def test_fixes_equal_a_full_parse(text: str, data: st.DataObject | None, new: str) -> None:
    record = parsed(text)
    if record is None:
        return
    fixes = RecordFixes(record)
    terms = record.terms
    if not terms:
        assert fixes.adding_mechanism(new) == reference(record, [new])
        return
    pick = data.draw(st.sampled_from(terms)) if data is not None else terms[-1]
    drop = data.draw(st.lists(st.sampled_from(terms))) if data is not None else [pick]
    assert fixes.without(*drop) == reference(
        record, [t for t in terms if not any(t is d for d in drop)])
    assert fixes.replacing(pick, new) == reference(record, [new if t is pick else t for t in terms])
    kept: list[Term | str] = [t for t in terms if t is not pick]
    last = max((i for i, t in enumerate(kept) if isinstance(t, Mechanism)), default=-1)
    assert fixes.adding_mechanism(new, drop=pick) == reference(
        record, [*kept[: last + 1], new, *kept[last + 1 :]])
    moved = [*(t for t in terms if t is not pick), pick]
    assert fixes.render(moved) == reference(record, moved)


def test_a_record_built_in_code_is_checked_as_before() -> None:
    net = IP4(Qualifier.PASS, network=IPv4Network("192.0.2.0/24"))
    # built in code, one term object twice: both go, and the text is checked
    fixes = RecordFixes(Record(Version.SPF1, (net, net)))
    assert fixes.without(net) == "v=spf1"
    assert fixes.replacing(net, "bad term") is None
    # words that do not parse back as the record (a scope with a space): every fix parsed
    odd = Record(Version.SPF2, (net,), ("mfrom pra",))
    assert RecordFixes(odd).without(net) == reference(odd, []) is None
