"""Choosing the record from a TXT RRset: RFC 7208 §4.5 and, for Sender ID, RFC 4406 §4.4.

``select_record`` gets what DNS returned — each TXT record as its tuple of character-strings —
and returns the one record text that applies, ``None``, or raises ``PermError``.
"""

from __future__ import annotations

import pytest

from spfkit.errors import PermError
from spfkit.record import Scope, parse_record, select_record


def rrset(*records: str | bytes | tuple[bytes, ...]) -> list[tuple[bytes, ...]]:
    out: list[tuple[bytes, ...]] = []
    for r in records:
        if isinstance(r, tuple):
            out.append(r)
        else:
            out.append((r.encode() if isinstance(r, str) else r,))
    return out


# --- RFC 7208 §4.5 ----------------------------------------------------------------------


def test_no_records_is_none() -> None:
    assert select_record([]) is None


@pytest.mark.parametrize(
    "records",
    [
        ["hello world"],  # not SPF at all
        ["v=spf10 -all"],  # §4.5: "v=spf10" is not "v=spf1"
        ["v=spf1.0 -all"],
        ["v=spf1-all"],
        ["v=spf1\t-all"],  # only a space (or the end) may follow the version
        [" v=spf1 -all"],  # the record must start with the version
        ["spf2.0/mfrom,pra -all"],  # Sender ID records do not count for RFC 7208
        ["v=spf2 -all"],
        [()],  # a TXT RR with no character-strings (openspf null-text): joined, it is ""
    ],
)
def test_not_an_spf_record(records: list[str | tuple[bytes, ...]]) -> None:
    assert select_record(rrset(*records)) is None


def test_one_record_among_others() -> None:
    got = select_record(rrset("google-site-verification=xyz", "v=spf1 -all", "\x96"))
    assert got == "v=spf1 -all"


@pytest.mark.parametrize("text", ["v=spf1", "V=SPF1 -all", "v=Spf1 mx -all", "v=spf1 "])
def test_version_case_and_bare_version(text: str) -> None:
    # §4.5: the version is matched case-insensitively; "v=spf1" alone is a record
    assert select_record(rrset(text)) == text


def test_two_records_is_permerror() -> None:
    """§4.5: more than one record "MUST" give permerror (openspf multitxt2, multispf1)."""
    with pytest.raises(PermError) as info:
        select_record(rrset("v=spf1 -all", "V=SPF1 +all"))
    assert "more than one" in info.value.reason


def test_two_identical_records_is_permerror() -> None:
    with pytest.raises(PermError):
        select_record(rrset("v=spf1 -all", "v=spf1 -all"))


def test_character_strings_are_joined_without_spaces() -> None:
    # §3.3 and openspf null-text: "v=spf1 ip4:" "192.0.2.5 -all" is one record
    got = select_record([(b"v=spf1 ip4:", b"192.0.2.5 -all")])
    assert got == "v=spf1 ip4:192.0.2.5 -all"
    assert parse_record(got).terms  # and it parses as one ip4 term
    assert select_record([(b"v=spf1", b" -all")]) == "v=spf1 -all"
    assert select_record([(b"v=sp", b"f1 -all")]) == "v=spf1 -all"


def test_a_record_split_after_the_version_is_not_confused_with_two() -> None:
    assert select_record([(b"v=spf1 ", b"-all"), (b"other",)]) == "v=spf1 -all"


def test_non_ascii_bytes_survive_to_the_parser() -> None:
    # §4.5 selects on the version only; the parser then reports the bad byte (permerror)
    got = select_record([(b"v=spf1 a:\xef\xbb\xbfgarbage.example.net -all",)])
    assert got is not None and got.startswith("v=spf1 ")
    assert not got.isascii()
    got = select_record([(b"v=spf1 \x80a:example.net -all",)])
    assert got is not None and not got.isascii()


def test_non_spf_non_ascii_records_are_ignored() -> None:
    # openspf non-ascii-non-spf
    assert select_record([(b"v=spf1 a:example.net -all",), (b"\x96",)]) == "v=spf1 a:example.net -all"


# --- RFC 4406 §4.4: Sender ID scopes ----------------------------------------------------


@pytest.mark.parametrize("scope", [Scope.PRA, Scope.MFROM])
def test_spf1_alone_serves_both_scopes(scope: Scope) -> None:
    # RFC 4406 §3.4: a "v=spf1" record is read as "spf2.0/mfrom,pra"
    assert select_record(rrset("v=spf1 -all"), scope) == "v=spf1 -all"


def test_spf2_pra_record() -> None:
    records = rrset("spf2.0/pra -all")
    assert select_record(records, Scope.PRA) == "spf2.0/pra -all"
    assert select_record(records, Scope.MFROM) is None
    assert select_record(records) is None  # RFC 7208 ignores spf2.0


def test_spf2_pra_beside_spf1() -> None:
    """spf2.0 wins for the scopes it lists; v=spf1 answers for the other."""
    records = rrset("v=spf1 +all", "spf2.0/pra -all")
    assert select_record(records, Scope.PRA) == "spf2.0/pra -all"
    assert select_record(records, Scope.MFROM) == "v=spf1 +all"
    assert select_record(records) == "v=spf1 +all"


@pytest.mark.parametrize("order", [0, 1])
def test_spf2_mfrom_pra_beside_spf1(order: int) -> None:
    # rfc4406-tests v2-preferred-over-v1(-reversed): whatever the RR order
    records = rrset("spf2.0/mfrom,pra -all", "v=spf1 +all")
    if order:
        records.reverse()
    assert select_record(records, Scope.PRA) == "spf2.0/mfrom,pra -all"
    assert select_record(records, Scope.MFROM) == "spf2.0/mfrom,pra -all"
    assert select_record(records, None) == "v=spf1 +all"  # scope=None ignores spf2.0


def test_two_spf2_records_for_one_scope_is_permerror() -> None:
    # rfc4406-tests redundant-v2
    records = rrset("spf2.0/mfrom -all", "spf2.0/mfrom,pra -all", "v=spf1 -all")
    with pytest.raises(PermError) as info:
        select_record(records, Scope.MFROM)
    assert "spf2.0/mfrom" in info.value.reason
    # only one of them covers pra: no conflict there
    assert select_record(records, Scope.PRA) == "spf2.0/mfrom,pra -all"


def test_spf2_wins_even_over_two_spf1_records() -> None:
    records = rrset("v=spf1 -all", "v=spf1 +all", "spf2.0/pra ~all")
    assert select_record(records, Scope.PRA) == "spf2.0/pra ~all"
    with pytest.raises(PermError):
        select_record(records, Scope.MFROM)  # falls back to v=spf1, and there are two


@pytest.mark.parametrize("text", ["SPF2.0/PRA -all", "spf2.0/Pra,MFROM -all"])
def test_spf2_version_and_scopes_are_case_insensitive(text: str) -> None:
    assert select_record(rrset(text), Scope.PRA) == text


@pytest.mark.parametrize("text", ["spf2.0/prax -all", "spf2.0/ -all", "spf2.0 -all", "spf2.0/mfrom-all"])
def test_spf2_record_not_listing_the_scope(text: str) -> None:
    assert select_record(rrset(text), Scope.PRA) is None


def test_scope_none_ignores_spf2_even_when_alone() -> None:
    assert select_record(rrset("spf2.0/mfrom,pra -all", "spf2.0/pra +all")) is None
