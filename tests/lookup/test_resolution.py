"""Resolution: the stub resolver's every decision, driven with byte strings (no socket, no loop)."""

from __future__ import annotations

import itertools

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from spfkit.lookup import Lookup, LookupStatus, Nameserver, RRType
from spfkit.lookup.resolution import MAX_RESTARTS, Resolution, Send

SERVERS = (Nameserver("192.0.2.1"), Nameserver("192.0.2.2", 5300))


def resolution(name: str = "example.com", rrtype: RRType = RRType.A, servers=SERVERS,
               deadline: float = 10.0) -> Resolution:
    return Resolution(rrtype, name, servers, deadline, new_id=itertools.count(1).__next__)


def reply(send: Send, *answer: str, rcode: int = 0, truncated: bool = False,
          authority: tuple[str, ...] = ()) -> bytes:
    """dnspython's response to the query of ``send``."""
    message = dns.message.make_response(dns.message.from_wire(send.query.wire))
    message.set_rcode(rcode)
    if truncated:
        message.flags |= dns.flags.TC
    for section, texts in ((message.answer, answer), (message.authority, authority)):
        for text in texts:
            name, ttl, rdtype, data = text.split(" ", 3)
            section.append(dns.rrset.from_text(name, int(ttl), "IN", rdtype, data))
    return message.to_wire()


def question(send: Send) -> tuple[str, int, bool]:
    parsed = dns.message.from_wire(send.query.wire)
    return parsed.question[0].name.to_text(), parsed.question[0].rdtype, parsed.edns >= 0


def test_an_impossible_name_is_nxdomain_without_a_query() -> None:
    assert resolution("a..example").start(0.0) == Lookup(LookupStatus.NXDOMAIN)


def test_first_query_goes_over_udp_with_edns_to_the_first_server() -> None:
    send = resolution().start(0.0)
    assert isinstance(send, Send)
    assert (send.server, send.tcp, send.deadline) == (SERVERS[0], False, 5.0)  # half the time
    assert question(send) == ("example.com.", 1, True)
    assert send.query.qid == 1


def test_an_answer_ends_it() -> None:
    r = resolution()
    send = r.start(0.0)
    assert isinstance(send, Send)
    got = r.received(reply(send, "example.com. 300 A 192.0.2.7"), 0.1)
    assert isinstance(got, Lookup) and got.status is LookupStatus.ANSWER and got.ttl == 300


def test_silence_passes_the_time_left_to_the_next_server_then_times_out() -> None:
    r = resolution()
    first = r.start(0.0)
    assert isinstance(first, Send)
    second = r.received(None, 5.0)
    assert isinstance(second, Send)
    assert (second.server, second.deadline) == (SERVERS[1], 10.0)
    assert r.received(None, 10.0) == Lookup(LookupStatus.TIMEOUT)


def test_servfail_or_refused_moves_on_at_once_and_is_remembered() -> None:
    r = resolution()
    first = r.start(0.0)
    assert isinstance(first, Send)
    second = r.received(reply(first, rcode=dns.rcode.REFUSED), 0.5)
    assert isinstance(second, Send) and second.server == SERVERS[1]
    assert second.deadline == pytest.approx(10.0)  # all of the time left
    assert r.received(None, 10.0) == Lookup(LookupStatus.SERVFAIL)  # more telling than silence


def test_unreachable_server_or_garbage_is_servfail_for_that_server() -> None:
    r = resolution()
    first = r.start(0.0)
    assert isinstance(first, Send)
    second = r.received(ConnectionRefusedError(), 0.0)
    assert isinstance(second, Send) and second.server == SERVERS[1]
    garbage = second.query.wire[:2] + b"\x81\x80" + b"\x00\x01\x00\x05" + b"\x00" * 4
    assert r.received(garbage + second.query.wire[12:], 0.1) == Lookup(LookupStatus.SERVFAIL)


def test_deadline_passed_asks_no_further_server() -> None:
    r = resolution()
    assert isinstance(r.start(0.0), Send)
    assert r.received(None, 10.0) == Lookup(LookupStatus.TIMEOUT)


def test_truncated_answer_is_asked_again_over_tcp_to_the_same_server() -> None:
    r = resolution(rrtype=RRType.TXT)
    udp = r.start(0.0)
    assert isinstance(udp, Send)
    tcp = r.received(reply(udp, truncated=True), 0.1)
    assert isinstance(tcp, Send)
    assert (tcp.server, tcp.query, tcp.tcp, tcp.deadline) == (udp.server, udp.query, True, 5.0)
    got = r.received(reply(tcp, 'example.com. 60 TXT "v=spf1 -all"'), 0.2)
    assert isinstance(got, Lookup) and got.records == ((b"v=spf1 -all",),)


def test_truncated_twice_or_a_foreign_tcp_reply_is_servfail() -> None:
    r = resolution(servers=SERVERS[:1])
    udp = r.start(0.0)
    assert isinstance(udp, Send)
    tcp = r.received(reply(udp, truncated=True), 0.1)
    assert isinstance(tcp, Send)
    assert r.received(reply(tcp, truncated=True), 0.2) == Lookup(LookupStatus.SERVFAIL)

    r = resolution(servers=SERVERS[:1])
    udp = r.start(0.0)
    assert isinstance(udp, Send)
    tcp = r.received(reply(udp, truncated=True), 0.1)
    assert isinstance(tcp, Send)
    other = bytearray(reply(tcp))
    other[0] ^= 0xFF  # another id
    assert r.received(bytes(other), 0.2) == Lookup(LookupStatus.SERVFAIL)


@pytest.mark.parametrize("rcode", [dns.rcode.FORMERR, dns.rcode.NOTIMP])
def test_a_server_without_edns_is_asked_again_plainly(rcode: int) -> None:
    r = resolution()
    first = r.start(0.0)
    assert isinstance(first, Send)
    again = r.received(reply(first, rcode=rcode), 0.1)
    assert isinstance(again, Send)
    assert again.server == first.server and not again.tcp
    assert question(again) == ("example.com.", 1, False)
    assert again.query.qid != first.query.qid
    # a plain query answered FORMERR too is that server's failure
    third = r.received(reply(again, rcode=rcode), 0.2)
    assert isinstance(third, Send) and third.server == SERVERS[1]
    assert question(third)[2]  # the next server is asked with EDNS again


def test_cname_left_unresolved_is_asked_for_its_target_ttl_cut_to_the_alias() -> None:
    r = resolution("www.example.com")
    first = r.start(0.0)
    assert isinstance(first, Send)
    restart = r.received(reply(first, "www.example.com. 30 CNAME host.example.net."), 0.1)
    assert isinstance(restart, Send)
    assert restart.server == SERVERS[0]  # the servers are asked in order again
    assert question(restart)[0] == "host.example.net."
    got = r.received(reply(restart, "host.example.net. 300 A 192.0.2.9"), 0.2)
    assert isinstance(got, Lookup) and got.status is LookupStatus.ANSWER and got.ttl == 30


def test_cname_restarts_are_bounded_and_loops_fail_at_once() -> None:
    r = resolution("n0.example")
    send = r.start(0.0)
    for i in range(MAX_RESTARTS):
        assert isinstance(send, Send)
        send = r.received(reply(send, f"n{i}.example. 60 CNAME n{i + 1}.example."), 0.0)
    assert isinstance(send, Send)
    last = reply(send, f"n{MAX_RESTARTS}.example. 60 CNAME n{MAX_RESTARTS + 1}.example.")
    assert r.received(last, 0.0) == Lookup(LookupStatus.SERVFAIL)

    r = resolution("a.example")
    send = r.start(0.0)
    assert isinstance(send, Send)
    send = r.received(reply(send, "a.example. 60 CNAME b.example."), 0.0)
    assert isinstance(send, Send)
    looped = r.received(reply(send, "b.example. 60 CNAME a.example."), 0.0)
    assert looped == Lookup(LookupStatus.SERVFAIL)


def test_negative_answer_carries_the_soa_ttl() -> None:
    r = resolution("nx.example")
    send = r.start(0.0)
    assert isinstance(send, Send)
    soa = "example. 600 SOA ns.example. host.example. 1 2 3 4 120"
    got = r.received(reply(send, rcode=dns.rcode.NXDOMAIN, authority=(soa,)), 0.1)
    assert got == Lookup(LookupStatus.NXDOMAIN, (), 120.0)


def test_a_refused_connection_says_so_instead_of_servfail() -> None:
    """A server's SERVFAIL and nothing listening are different troubles for the operator."""
    one = resolution(rrtype=RRType.TXT, servers=(Nameserver.parse("127.0.0.1:9"),), deadline=2.0)
    assert isinstance(one.start(0.0), Send)
    final = one.received(ConnectionRefusedError(111, "Connection refused"), 0.1)
    assert isinstance(final, Lookup) and final.status is LookupStatus.SERVFAIL
    assert final.outcome == ("failure (server 127.0.0.1:9 refused the connection: nothing "
                             "answers on that port)")
    assert Lookup(LookupStatus.SERVFAIL).outcome == "SERVFAIL"
