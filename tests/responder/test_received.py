"""The walk down the Received: chain (RFC 5321 §4.4) past the receiver's own relays (pure).

The fields are those real MTAs write: Postfix, amavisd-new re-injecting on 127.0.0.1, Exim,
an internal relay on a private network; a forged chain; a local submission.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.responder.received import (
    ClientHeader,
    Source,
    envelope_from_fields,
    find_client,
)
from spfkit.responder.relays import INTERNAL_NETWORKS, TrustedRelays, parse_network
from spfkit.senderid.pra import header_fields

POSTFIX_AFTER_AMAVIS = (
    "from localhost (localhost [127.0.0.1])\r\n\tby mx.example.org (Postfix) with ESMTP id "
    "4Qx9V02mZbz9t\r\n\tfor <reader@example.org>; Tue, 24 Nov 2026 09:30:04 +0000 (UTC)")
AMAVIS = ("from mx.example.org ([127.0.0.1])\r\n\tby localhost (mx.example.org [127.0.0.1]) "
          "(amavisd-new, port 10024)\r\n\twith ESMTP id Hq3xVZ0pQm1L for <reader@example.org>;"
          "\r\n\tTue, 24 Nov 2026 09:30:03 +0000 (UTC)")
MX = ("from out1.mailprovider.example (out1.mailprovider.example [198.51.100.20])\r\n\tby "
      "mx.example.org (Postfix) with ESMTPS id 4Qx9Tz3Lq5z9s\r\n\tfor <reader@example.org>; "
      "Tue, 24 Nov 2026 09:30:02 +0000 (UTC)")
SENDER_SIDE = ("from localhost (localhost [127.0.0.1])\r\n\tby out1.mailprovider.example "
               "(Postfix) with ESMTP id 1A2B3C; Tue, 24 Nov 2026 09:30:01 +0000 (UTC)")
EXIM = ("from [203.0.113.9] (helo=laptop.example.net)\r\n\tby mx.example.org with esmtpsa "
        "(Exim 4.96)\r\n\tid 1rAbCd-000123-4x; Tue, 24 Nov 2026 09:30:02 +0000")


def received(*values: str) -> list[tuple[str, str]]:
    return [("Received", v) for v in values]


def test_one_local_amavis_hop_is_passed_over() -> None:
    found = find_client(received(POSTFIX_AFTER_AMAVIS, AMAVIS, MX, SENDER_SIDE))
    assert found.hop is not None and found.problem is None
    assert (found.hop.index, found.hop.count, found.hop.by) == (3, 4, "mx.example.org")
    assert found.hop.client is not None and found.hop.client.ip == "198.51.100.20"
    assert found.hop.client.helo == "out1.mailprovider.example"
    assert found.hop.text == ("out1.mailprovider.example (out1.mailprovider.example "
                              "[198.51.100.20])")
    assert [(p.hop.index, p.hop.by, p.why) for p in found.passed] == [
        (1, "mx.example.org", "loopback"), (2, "localhost", "loopback")]
    assert found.description == "Received: header 3 of 4, past 2 trusted hops"


def test_without_the_default_the_topmost_hop_is_the_client() -> None:
    found = find_client(received(POSTFIX_AFTER_AMAVIS, AMAVIS, MX),
                        TrustedRelays(internal=False))
    assert found.hop is not None and found.hop.index == 1 and found.passed == ()
    assert found.hop.client is not None and found.hop.client.ip == "127.0.0.1"
    assert found.description == "the topmost Received: header"


@pytest.mark.parametrize(("address", "why"), [
    ("10.20.0.5", "private, RFC 1918"), ("172.31.255.1", "private, RFC 1918"),
    ("192.168.1.10", "private, RFC 1918"), ("IPv6:fd12:3456::1", "unique local, RFC 4193"),
    ("IPv6:fe80::1", "link-local"), ("169.254.3.4", "link-local"), ("IPv6:::1", "loopback"),
    ("IPv6:::ffff:10.0.0.1", "private, RFC 1918"),
])
def test_private_hops_are_passed_over(address: str, why: str) -> None:
    relay = f"from relay.corp.example ([{address}]) by store.corp.example with ESMTP; d"
    found = find_client(received(relay, MX))
    assert [p.why for p in found.passed] == [why]
    assert found.hop is not None and found.hop.index == 2


@pytest.mark.parametrize("address", ["172.32.0.1", "100.64.0.1", "192.0.2.1", "11.0.0.1",
                                     "IPv6:2001:db8::1", "IPv6:fec0::1"])
def test_public_and_other_special_addresses_are_clients(address: str) -> None:
    found = find_client(received(f"from h.example ([{address}]) by mx.example.org; d", MX))
    assert found.hop is not None and found.hop.index == 1 and found.passed == ()


def test_a_forged_chain_below_the_client_is_never_read() -> None:
    """A spammer can write any Received: below its own; the walk stops at its address."""
    spammer = ("from out1.mailprovider.example (dsl-66.isp.example [203.0.113.66]) by "
               "mx.example.org (Postfix) with ESMTP id 4Qx9X7; d")
    forged_private = "from x ([10.0.0.1]) by out1.mailprovider.example; d"
    found = find_client(received(POSTFIX_AFTER_AMAVIS, spammer, forged_private, MX))
    assert found.hop is not None and found.hop.index == 2
    assert found.hop.client is not None and found.hop.client.ip == "203.0.113.66"
    assert found.hop.client.helo == "out1.mailprovider.example"  # the HELO it claimed


def test_trusted_relays_are_passed_over_and_named() -> None:
    relays = TrustedRelays((parse_network("198.51.100.0/24"),))
    found = find_client(received(MX, EXIM), relays)
    assert [p.why for p in found.passed] == ["trusted relay 198.51.100.0/24"]
    assert found.hop is not None and found.hop.client is not None
    assert (found.hop.client.ip, found.hop.client.helo) == ("203.0.113.9", "laptop.example.net")


def test_no_received_header() -> None:
    assert find_client([("From", "a@example.com")]) == ClientHeader(
        None, (), "the message has no Received: header")


def test_a_local_submission_is_a_hop_of_our_own() -> None:
    pickup = "by mx.example.org (Postfix, from userid 1000)\r\n\tid 4Qx9; d"
    found = find_client(received(pickup, MX))
    assert [p.why for p in found.passed] == ["no from-clause (local submission)"]
    assert found.hop is not None and found.hop.index == 2
    alone = find_client(received(pickup))
    assert alone.hop is None and alone.problem is not None and "local submission" in alone.problem


def test_every_hop_trusted_says_so() -> None:
    found = find_client(received(POSTFIX_AFTER_AMAVIS, AMAVIS))
    assert found.hop is None and found.problem == (
        "all 2 Received: headers are the receiver's own hops (trusted relays, or no "
        "from-clause)")


def test_a_from_clause_without_an_address_ends_the_walk() -> None:
    found = find_client(received(AMAVIS, "from mail.example.net by mx.example.org; d", MX))
    assert found.hop is None and found.problem == "Received: header 2 names no client address"


def test_envelope_records_the_header_with_ip_and_helo() -> None:
    fields = header_fields(("Return-Path: <a@news.example.com>\r\n"
                            f"Received: {AMAVIS}\r\nReceived: {MX}\r\n\r\n").encode())
    env = envelope_from_fields(fields)
    assert env.ip is not None and env.helo is not None and env.client is not None
    assert (env.ip.value, env.ip.source, env.ip.header) == ("198.51.100.20", Source.RECEIVED,
                                                             env.client)
    assert env.helo.header is env.client and env.client.hop is not None
    assert env.ip.description == "Received: header 2 of 2, past 1 trusted hop"
    given_ip = envelope_from_fields(fields, ip="192.0.2.1")
    assert given_ip.ip is not None and given_ip.ip.header is None
    assert given_ip.ip.description == "the command line"


@pytest.mark.parametrize(("text", "network"), [
    ("192.0.2.0/24", "192.0.2.0/24"), ("192.0.2.7/24", "192.0.2.0/24"),
    ("192.0.2.7", "192.0.2.7/32"), ("2001:db8::/32", "2001:db8::/32"),
    ("::ffff:192.0.2.1", "192.0.2.1/32"), (" 10.0.0.0/8 ", "10.0.0.0/8"),
])
def test_parse_network(text: str, network: str) -> None:
    assert parse_network(text) == ip_network(network)


@pytest.mark.parametrize("text", ["", "mx.example.org", "192.0.2.0/33", "2001:db8::/129",
                                  "192.0.2.0/", "192.0.2.0/x", "/24"])
def test_parse_network_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_network(text)


def test_internal_networks_are_the_documented_ones() -> None:
    assert {str(n) for n, _ in INTERNAL_NETWORKS} == {
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
        "fc00::/7", "169.254.0.0/16", "fe80::/10"}


@given(st.lists(st.text(max_size=120), max_size=6))
def test_any_chain_gives_a_hop_or_a_problem_and_only_trusted_hops_above(values: list[str]
                                                                         ) -> None:
    found = find_client(received(*values))
    assert (found.hop is None) != (found.problem is None)
    for passed in found.passed:
        client = passed.hop.client
        assert client is None or client.ip is not None and \
            TrustedRelays().why_trusted(client.ip) == passed.why
    if found.hop is not None:
        assert found.hop.client is not None and found.hop.client.ip is not None
        assert TrustedRelays().why_trusted(found.hop.client.ip) is None
        assert [p.hop.index for p in found.passed] == list(range(1, found.hop.index))
