"""The identity rules (``spfkit.identity``): RFC 7208 §2.3, §2.4, §4.1, §4.3, §5."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.identity import (
    Identity,
    Subject,
    is_valid_domain,
    normalize_ip,
    sender_with_local_part,
    strip_reverse_path,
    subject_for,
)


@pytest.mark.parametrize(
    ("text", "want"),
    [("192.0.2.1", IPv4Address("192.0.2.1")), (" ::FFFF:192.0.2.1 ", IPv4Address("192.0.2.1")),
     ("2001:db8::1", IPv6Address("2001:db8::1")), (IPv6Address("::ffff:c000:201"), IPv4Address("192.0.2.1"))],
)
def test_normalize_ip_treats_a_mapped_address_as_ipv4(text: str | IPv6Address, want: object) -> None:
    assert normalize_ip(text) == want


@pytest.mark.parametrize("text", ["", "192.0.2.300", "example.com", "1.2.3.4/24"])
def test_normalize_ip_rejects_what_is_no_address(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_ip(text)


@pytest.mark.parametrize(
    ("domain", "valid"),
    [("example.com", True), ("example.com.", True), ("com", False), ("", False), ("a..b", False),
     ("[192.0.2.1]", False), ("x" * 63 + ".com", True), ("x" * 64 + ".com", False),
     (".".join(["a" * 63] * 3) + "." + "b" * 61, True),  # 253 octets
     (".".join(["a" * 63] * 3) + "." + "b" * 62, False)],  # 254 octets
)
def test_is_valid_domain(domain: str, valid: bool) -> None:
    assert is_valid_domain(domain) is valid


@given(st.lists(st.text(alphabet="abc-", min_size=1, max_size=70), min_size=1, max_size=6))
def test_is_valid_domain_follows_the_label_rules(labels: list[str]) -> None:
    name = ".".join(labels)
    want = len(labels) >= 2 and all(len(label) <= 63 for label in labels) and len(name) <= 253
    assert is_valid_domain(name) is want


@pytest.mark.parametrize(
    ("sender", "want"),
    [("user@example.com", "user@example.com"), ("@example.com", "postmaster@example.com"),
     ("example.com", "postmaster@example.com"), ("", "postmaster@fallback.example")],
)
def test_sender_with_local_part(sender: str, want: str) -> None:
    assert sender_with_local_part(sender, "fallback.example") == want


@pytest.mark.parametrize(("given_", "want"), [("<a@b.example>", "a@b.example"), (" <> ", ""), ("a@b", "a@b")])
def test_strip_reverse_path(given_: str, want: str) -> None:
    assert strip_reverse_path(given_) == want


@pytest.mark.parametrize(
    ("identity", "mail_from", "want"),
    [(Identity.MAILFROM, "<user@example.com>", Subject(Identity.MAILFROM, "example.com", "user@example.com")),
     (Identity.MAILFROM, "<>", Subject(Identity.MAILFROM, "mx.example.org", "postmaster@mx.example.org")),
     (Identity.MAILFROM, "example.com", Subject(Identity.MAILFROM, "example.com", "postmaster@example.com")),
     (Identity.MAILFROM, "@example.com", Subject(Identity.MAILFROM, "example.com", "postmaster@example.com")),
     (Identity.HELO, "user@example.com", Subject(Identity.HELO, "mx.example.org", "postmaster@mx.example.org"))],
)
def test_subject_for(identity: Identity, mail_from: str, want: Subject) -> None:
    assert subject_for(identity, mail_from, " mx.example.org ") == want


def test_a_zone_index_is_dropped() -> None:
    """RFC 4007 §11: ``fe80::1%eth0`` names an interface of this host; found by the fuzzer,
    it made %{i} and "ptr" raise inside check_host."""
    assert normalize_ip("fe80::1%eth0") == IPv6Address("fe80::1")
    assert normalize_ip(IPv6Address("fe80::1%2")).scope_id is None
    assert str(normalize_ip("::ffff:192.0.2.1%eth0")) == "192.0.2.1"


def test_long_names_are_invalid_and_not_remembered() -> None:
    from spfkit.identity import _is_valid_domain

    before = _is_valid_domain.cache_info().currsize
    assert not is_valid_domain("a." * 5000 + "example")
    assert _is_valid_domain.cache_info().currsize == before


@pytest.mark.parametrize(("text", "says"), [
    ("fe80::1%eth0", "zone index ('eth0')"), ("192.0.2.1%1", "zone index"),
    ("300.1.1.1", "not an IPv4 or IPv6"), ("", "not an IPv4 or IPv6"),
])
def test_a_written_address_with_a_zone_index_or_none_at_all_is_refused(text: str, says: str) -> None:
    """``check`` and the web checker take the same addresses: a zone index would make the
    check one of another address than the one written."""
    from spfkit.identity import written_ip

    with pytest.raises(ValueError, match=re.escape(says)):
        written_ip(text)
    assert written_ip(" 2001:DB8::1 ") == "2001:DB8::1" and written_ip("192.0.2.1") == "192.0.2.1"


@pytest.mark.parametrize(("path", "mailbox"), [
    ("<@a.example,@b.example:b@env.example>", "b@env.example"),
    ("<@[IPv6:2001:db8::1]:u@x.example>", "u@x.example"),
    ("@relay.example:u@x.example", "u@x.example"),
    ('<"a:b"@x.example>', '"a:b"@x.example'),  # a colon in a quoted local-part is no route
    ("<>", ""), (" <user@example.com> ", "user@example.com"),
])
def test_a_source_route_is_dropped_from_the_reverse_path(path: str, mailbox: str) -> None:
    """RFC 5321 §4.1.2 / §3.3, Appendix C: the A-d-l is ignored; SPF checks the mailbox."""
    assert strip_reverse_path(path) == mailbox


def test_a_source_routed_sender_is_checked_by_its_mailbox() -> None:
    import asyncio

    from spfkit.evaluate import check
    from spfkit.lookup import MemoryResolver

    resolver = MemoryResolver({"env.example": {"TXT": "v=spf1 exists:%{l}.lp.%{d} -all"},
                               "b.lp.env.example": {"A": "127.0.0.2"}})
    result = asyncio.run(check("192.0.2.1", "<@a.example,@b.example:b@env.example>",
                               "h.example", resolver=resolver))
    assert result.result.value == "pass"
