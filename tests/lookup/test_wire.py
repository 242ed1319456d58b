"""The sans-I/O DNS codec: byte strings in, values out; checked against dnspython's encoder."""

from __future__ import annotations

from ipaddress import IPv4Address

import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spfkit.lookup import Lookup, LookupStatus, MXHost
from spfkit.lookup._names import labels_of
from spfkit.lookup._wire import (
    QType,
    Restart,
    WireError,
    decode_response,
    encode_query,
    interpret,
    matches,
)


def query_for(name: str, qtype: QType, qid: int = 0x1234):
    labels = labels_of(name)
    assert labels is not None
    return encode_query(qid, labels, qtype)


def respond(query, *answer: str, rcode: int = 0, authority: tuple[str, ...] = ()) -> bytes:
    """A response built by dnspython (name compression and all) to our query."""
    reply = dns.message.make_response(dns.message.from_wire(query.wire))
    reply.set_rcode(rcode)
    for section, texts in ((reply.answer, answer), (reply.authority, authority)):
        for text in texts:
            name, ttl, rdtype, data = text.split(" ", 3)
            section.append(dns.rrset.from_text(name, int(ttl), "IN", rdtype, data))
    return reply.to_wire()


def outcome(name: str, qtype: QType, *answer: str, rcode: int = 0, authority: tuple[str, ...] = ()):
    query = query_for(name, qtype)
    wire = respond(query, *answer, rcode=rcode, authority=authority)
    assert matches(wire, query)
    return interpret(decode_response(wire, query), query.question[:-5].lower(), qtype)


def test_query_is_what_dnspython_would_send():
    query = query_for("Example.COM", QType.TXT, qid=7)
    parsed = dns.message.from_wire(query.wire)
    expected = dns.message.make_query("Example.COM.", "TXT", use_edns=0, payload=1232)
    expected.id = 7
    assert parsed == expected
    assert parsed.flags == expected.flags  # RD only


def test_plain_query_has_no_opt():
    labels = labels_of("example.com")
    assert labels is not None
    assert dns.message.from_wire(encode_query(1, labels, QType.A, edns=False).wire).edns == -1


def test_each_type_decodes_with_compression():
    assert outcome(
        "e.test", QType.MX, "e.test. 60 MX 10 mail.e.test.", "e.test. 90 MX 5 Other.e.test."
    ) == Lookup(LookupStatus.ANSWER, (MXHost(10, "mail.e.test"), MXHost(5, "Other.e.test")), 60.0)
    assert outcome("e.test", QType.A, "e.test. 60 A 192.0.2.1").records == (
        IPv4Address("192.0.2.1"),
    )
    assert (
        outcome("e.test", QType.AAAA, "e.test. 60 AAAA 2001:db8::1").records[0].compressed
        == "2001:db8::1"
    )
    assert outcome(
        "1.2.0.192.in-addr.arpa", QType.PTR, "1.2.0.192.in-addr.arpa. 60 PTR host.e.test."
    ).records == ("host.e.test",)
    assert outcome("e.test", QType.TXT, 'e.test. 60 TXT "a" "" "b c"').records == (
        (b"a", b"", b"b c"),
    )


def test_answers_of_other_names_and_types_are_ignored():
    got = outcome(
        "e.test",
        QType.A,
        "other.test. 60 A 192.0.2.9",
        "e.test. 60 TXT x",
        "e.test. 30 A 192.0.2.1",
    )
    assert got == Lookup(LookupStatus.ANSWER, (IPv4Address("192.0.2.1"),), 30.0)


def test_cname_chain_and_ttl_minimum():
    got = outcome(
        "www.e.test",
        QType.A,
        "www.e.test. 40 CNAME x.e.test.",
        "x.e.test. 20 CNAME y.e.test.",
        "y.e.test. 300 A 192.0.2.3",
    )
    assert got == Lookup(LookupStatus.ANSWER, (IPv4Address("192.0.2.3"),), 20.0)


def test_negative_answers_take_the_soa_ttl():
    soa = ("e.test. 900 SOA ns.e.test. h.e.test. 1 2 3 4 60",)
    assert outcome("x.e.test", QType.A, rcode=dns.rcode.NXDOMAIN, authority=soa) == Lookup(
        LookupStatus.NXDOMAIN, (), 60.0
    )
    assert outcome("e.test", QType.A, authority=soa) == Lookup(LookupStatus.NODATA, (), 60.0)
    assert outcome("e.test", QType.A) == Lookup(LookupStatus.NODATA, (), 0.0)
    assert outcome(
        "w.e.test",
        QType.A,
        "w.e.test. 10 CNAME gone.e.test.",
        rcode=dns.rcode.NXDOMAIN,
        authority=soa,
    ) == Lookup(LookupStatus.NXDOMAIN, (), 10.0)


def test_alias_without_target_restarts():
    assert outcome("w.e.test", QType.TXT, "w.e.test. 10 CNAME T.Other.test.") == Restart(
        "t.other.test", 10.0
    )


@pytest.mark.parametrize(
    "rcode", [dns.rcode.SERVFAIL, dns.rcode.REFUSED, dns.rcode.NOTIMP, dns.rcode.FORMERR]
)
def test_other_rcodes_are_servfail(rcode):
    assert outcome("e.test", QType.A, rcode=rcode).status is LookupStatus.SERVFAIL


def test_cname_loop_is_servfail():
    got = outcome("a.test", QType.A, "a.test. 1 CNAME b.test.", "b.test. 1 CNAME a.test.")
    assert got.status is LookupStatus.SERVFAIL


def test_ttl_with_high_bit_is_zero():
    query = query_for("e.test", QType.A)
    wire = respond(query, "e.test. 4660 A 192.0.2.1").replace(
        b"\x00\x00\x12\x34", b"\x80\x00\x12\x34"
    )
    got = interpret(decode_response(wire, query), query.question[:-5].lower(), QType.A)
    assert got.ttl == 0.0


def test_matches_checks_id_qr_and_question():
    query = query_for("e.test", QType.A)
    wire = respond(query)
    assert matches(wire, query)
    assert matches(wire.replace(b"\x01e\x04test", b"\x01E\x04TEST"), query)  # 0x20 case
    assert not matches(query.wire, query)  # QR clear
    assert not matches(b"\x00\x00" + wire[2:], query)
    assert not matches(respond(query_for("f.test", QType.A)), query)
    assert not matches(wire[:11], query)


def test_forward_pointer_is_rejected():
    query = query_for("e.test", QType.A)
    header = bytearray(respond(query)[:12])
    header[6:8] = b"\x00\x01"
    bad = bytes(header) + query.question + b"\xc0\xff" + b"\x00" * 10
    with pytest.raises(WireError):
        decode_response(bad, query)


@given(st.binary(max_size=600))
def test_garbage_never_raises_anything_but_wire_error(tail):
    query = query_for("e.test", QType.TXT)
    wire = respond(query)[:12] + query.question + tail
    header = bytearray(wire[:12])
    header[6:8] = b"\x00\x03"
    header[8:10] = b"\x00\x02"
    wire = bytes(header) + wire[12:]
    try:
        reply = decode_response(wire, query)
    except WireError:
        return
    interpret(reply, query.question[:-5].lower(), QType.TXT)
