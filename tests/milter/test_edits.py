"""RFC 8601 §5: which Authentication-Results fields are ours (forged) — found by authserv-id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from spfkit.milter.edits import authserv_id_of, forged_indices


def test_authserv_id_forms() -> None:
    assert authserv_id_of("mx.example.org; spf=pass smtp.mailfrom=a@b") == "mx.example.org"
    assert authserv_id_of("  (a (nested) comment)\r\n mx.example.org 1; none") == "mx.example.org"
    assert authserv_id_of('"mx.example.org"; dkim=pass') == "mx.example.org"
    assert authserv_id_of('"mx\\".x"; none') == 'mx".x'
    assert authserv_id_of("mx.example.org;none") == "mx.example.org"
    assert authserv_id_of("") is None and authserv_id_of("   (only a comment)") is None
    assert authserv_id_of('"unterminated') is None


def test_forged_indices_highest_first_and_only_ours() -> None:
    fields = [
        ("Received", ""),
        ("Authentication-Results", "MX.Example.ORG.; spf=pass"),  # 1: ours (case, dot)
        ("authentication-results", "other.example; spf=fail"),  # 2: foreign, kept
        ("From", "a@b"),
        ("Authentication-Results", '(c) "mx.example.org"; dkim=pass'),  # 3: ours
        ("Authentication-Results", "mx.example.org.evil; spf=pass"),  # 4: not ours
    ]
    assert forged_indices(fields, ["mx.example.org"]) == (3, 1)
    assert forged_indices(fields, []) == ()
    assert forged_indices([("From", "x")], ["mx.example.org"]) == ()


@given(st.text(max_size=200))
def test_any_value_gives_a_str_or_none(value: str) -> None:
    found = authserv_id_of(value)
    assert found is None or (isinstance(found, str) and found)


@given(st.lists(st.tuples(st.sampled_from(["Authentication-Results", "From", "Received"]),
                          st.text(max_size=40)), max_size=30))
def test_indices_are_in_range_and_descending(fields) -> None:
    total = sum(1 for name, _ in fields if name == "Authentication-Results")
    found = forged_indices(fields, ["mx.example.org"])
    assert list(found) == sorted(found, reverse=True)
    assert all(1 <= index <= total for index in found)
