"""DMARC records (RFC 7489 §6.3–§6.4, §6.6.3): parsing, properties, discovery at _dmarc."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.dmarc import (
    Alignment,
    DmarcRecord,
    DmarcStatus,
    DmarcSyntaxError,
    Policy,
    is_dmarc_text,
    lookup_dmarc,
    parse_dmarc,
)
from spfkit.lookup import LookupStatus, MemoryResolver

# --- examples from RFC 7489 Appendix B.2 -------------------------------------------------


def test_appendix_b_records() -> None:
    rec = parse_dmarc("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com")
    assert rec == DmarcRecord(p=Policy.NONE, rua=("mailto:dmarc-feedback@example.com",))
    rec = parse_dmarc("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; "
                      "ruf=mailto:auth-reports@thirdparty.example.net")
    assert rec.ruf == ("mailto:auth-reports@thirdparty.example.net",)
    rec = parse_dmarc("v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com, "
                      "mailto:tld-test@thirdparty.example.net!10m; pct=25")
    assert rec.p is Policy.QUARANTINE and rec.pct == 25
    assert rec.rua == ("mailto:dmarc-feedback@example.com", "mailto:tld-test@thirdparty.example.net!10m")


def test_defaults_of_section_6_3() -> None:
    rec = parse_dmarc("v=DMARC1; p=reject")
    assert (rec.pct, rec.adkim, rec.aspf, rec.fo, rec.rf, rec.ri) == (
        100, Alignment.RELAXED, Alignment.RELAXED, ("0",), ("afrf",), 86400)
    assert rec.sp is None and rec.subdomain_policy is Policy.REJECT
    assert parse_dmarc("v=DMARC1; p=reject; sp=none").subdomain_policy is Policy.NONE


def test_every_tag() -> None:
    rec = parse_dmarc("v=DMARC1;p=REJECT;sp=quarantine;pct=0;adkim=s;aspf=S;fo=1:d:s;"
                      "rf=afrf:iodef;ri=3600;rua=mailto:a@example.org;ruf=https://r.example/x;")
    assert rec == DmarcRecord(p=Policy.REJECT, sp=Policy.QUARANTINE, pct=0, adkim=Alignment.STRICT,
                              aspf=Alignment.STRICT, fo=("1", "d", "s"), rf=("afrf", "iodef"),
                              ri=3600, rua=("mailto:a@example.org",), ruf=("https://r.example/x",))


@pytest.mark.parametrize(("text", "tag", "words"), [
    ("p=none; v=DMARC1", "p=none", "v=DMARC1"),
    ("v=dmarc1; p=none", "v=dmarc1", "v=DMARC1"),
    ("v=DMARC1; p=always", "p=always", "policy"),
    ("v=DMARC1", "v=DMARC1", "no p="),
    ("v=DMARC1; p=none; pct=101", "pct=101", "more than 100"),
    ("v=DMARC1; p=none; pct=-1", "pct=-1", "decimal"),
    ("v=DMARC1; p=none; ri=4294967296", "ri=4294967296", "more than"),
    ("v=DMARC1; p=none; adkim=x", "adkim=x", "alignment"),
    ("v=DMARC1; p=none; fo=2", "fo=2", "option"),
    ("v=DMARC1; p=none; rua=dmarc@example.com", "rua=dmarc@example.com", "URI"),
    ("v=DMARC1; p=none; p=reject", "p=reject", "twice"),
    ("v=DMARC1; p=none; sp", "sp", "without '='"),
    ("v=DMARC1; p=none; v=DMARC1", "v=DMARC1", "first tag"),
    ("v=DMARC1; p=none; 1x=y", "1x=y", "tag name"),
])
def test_errors_name_tag_and_reason(text: str, tag: str, words: str) -> None:
    with pytest.raises(DmarcSyntaxError) as info:
        parse_dmarc(text)
    assert info.value.tag.startswith(tag[:20]) and words in str(info.value)


def test_unknown_tags_are_ignored_and_noted() -> None:
    rec = parse_dmarc("v=DMARC1; p=none; future=1")
    assert rec.p is Policy.NONE and "future" in rec.notes[0]


def test_missing_or_invalid_p_with_rua_reads_as_none() -> None:
    # §6.6.3: "if a "rua" tag is present and contains at least one syntactically valid
    # reporting URI, the Mail Receiver SHOULD act as if ... "p=none" was retrieved"
    for text in ("v=DMARC1; rua=mailto:r@example.com", "v=DMARC1; p=bogus; rua=mailto:r@example.com"):
        rec = parse_dmarc(text)
        assert rec.p is Policy.NONE and "§6.6.3" in rec.notes[-1]
    with pytest.raises(DmarcSyntaxError):
        parse_dmarc("v=DMARC1; p=bogus")


# --- properties ------------------------------------------------------------------------

_uri = st.builds(lambda user, host, size: f"mailto:{user}@{host}.example{size}",
                 st.from_regex(r"[a-z][a-z0-9.+-]{0,10}", fullmatch=True),
                 st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
                 st.sampled_from(["", "!10m", "!5", "!1g"]))
_records = st.builds(
    DmarcRecord,
    p=st.sampled_from(Policy), sp=st.none() | st.sampled_from(Policy), pct=st.integers(0, 100),
    rua=st.lists(_uri, max_size=3).map(tuple), ruf=st.lists(_uri, max_size=2).map(tuple),
    adkim=st.sampled_from(Alignment), aspf=st.sampled_from(Alignment),
    fo=st.lists(st.sampled_from("01ds"), min_size=1, max_size=4).map(tuple),
    rf=st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=2).map(tuple),
    ri=st.integers(0, 2**32 - 1),
)


def _render(rec: DmarcRecord, rng: random.Random) -> str:
    """Written here, independent of the parser: tags in a random order, random spacing and case."""
    tags = [f"p={rec.p.value.upper() if rng.random() < .3 else rec.p.value}", f"pct={rec.pct}",
            f"adkim={rec.adkim.value}", f"aspf={rec.aspf.value}", "fo=" + ":".join(rec.fo),
            "rf=" + ":".join(rec.rf), f"ri={rec.ri}"]
    if rec.sp is not None:
        tags.append(f"sp={rec.sp.value}")
    tags += [f"{name}=" + " , ".join(uris) for name, uris in (("rua", rec.rua), ("ruf", rec.ruf)) if uris]
    rng.shuffle(tags)
    sep = rng.choice([";", "; ", " ;\t", ";  "])
    return sep.join(["v=DMARC1", *tags]) + rng.choice(["", ";", "; "])


@given(_records, st.randoms())
def test_rendered_records_parse_back(rec: DmarcRecord, rng: random.Random) -> None:
    assert parse_dmarc(_render(rec, rng)) == rec


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_the_syntax_error(text: str) -> None:
    try:
        rec = parse_dmarc(text)
    except DmarcSyntaxError as exc:
        assert exc.reason
    else:
        assert text.lstrip().startswith(("v", "V")) and 0 <= rec.pct <= 100


@given(st.lists(st.sampled_from(["v=DMARC1", "p=none", "p=reject", "sp=quarantine", "pct=50", "pct=x",
                                 "rua=mailto:a@b.example", "adkim=s", "fo=1", "x=y", " ", "junk"]),
                max_size=8), st.sampled_from([";", " ; "]))
def test_tag_soup_parses_or_raises_the_syntax_error(tags: list[str], sep: str) -> None:
    text = sep.join(tags)
    try:
        rec = parse_dmarc(text)
    except DmarcSyntaxError:
        return
    assert tags[0] == "v=DMARC1" and isinstance(rec.p, Policy)


@given(st.binary(max_size=30))
def test_is_dmarc_text_is_the_version_tag_first(data: bytes) -> None:
    assert is_dmarc_text(b"v=DMARC1;" + data)
    assert not is_dmarc_text(b"x" + data)


# --- discovery at _dmarc.DOMAIN (§6.6.3) through a Resolver -----------------------------

_ZONE = {
    "_dmarc.one.example": {"TXT": ["v=DMARC1; p=reject; rua=mailto:r@one.example", "google-site=x"]},
    "_dmarc.split.example": {"TXT": ("v=DMARC1; ", "p=quarantine")},
    "_dmarc.two.example": {"TXT": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]},
    "_dmarc.bad.example": {"TXT": "v=DMARC1; p=maybe"},
    "_dmarc.other.example": {"TXT": "v=spf1 -all"},
    "_dmarc.slow.example": "TIMEOUT",
    "_dmarc.broken.example": "SERVFAIL",
    "nodmarc.example": {"TXT": "v=spf1 -all"},
}


def _lookup(domain: str):
    return asyncio.run(lookup_dmarc(MemoryResolver(_ZONE), domain))


def test_discovery_outcomes() -> None:
    one = _lookup("one.example")
    assert one.status is DmarcStatus.RECORD and one.record is not None and one.record.p is Policy.REJECT
    assert one.text == "v=DMARC1; p=reject; rua=mailto:r@one.example"
    split = _lookup("split.example.")
    assert split.record is not None and split.record.p is Policy.QUARANTINE
    two = _lookup("two.example")
    assert two.status is DmarcStatus.SEVERAL and two.record is None and "2" in two.error
    bad = _lookup("bad.example")
    assert bad.status is DmarcStatus.INVALID and bad.text == "v=DMARC1; p=maybe" and "policy" in bad.error
    assert _lookup("other.example").status is DmarcStatus.NONE
    nxd = _lookup("nodmarc.example")
    assert (nxd.status, nxd.dns) == (DmarcStatus.NONE, LookupStatus.NXDOMAIN)
    slow = _lookup("slow.example")
    assert (slow.status, slow.dns) == (DmarcStatus.DNS_ERROR, LookupStatus.TIMEOUT)
    assert _lookup("broken.example").dns is LookupStatus.SERVFAIL


def test_discovery_asks_exactly_one_question() -> None:
    resolver = MemoryResolver(_ZONE)
    asyncio.run(lookup_dmarc(resolver, "One.Example"))
    assert [(t.value, n.lower()) for t, n in resolver.queries] == [("TXT", "_dmarc.one.example")]
