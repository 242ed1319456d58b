"""The codec's one-go path for a whole plain request (``PolicyReader._whole``) must answer
exactly as the line-by-line reading does: for any bytes, feeding them in one chunk gives the
same items, in the same order, and leaves the same state as feeding them octet by octet
(which never takes the one-go path)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.policy.protocol import PolicyReader, PolicyRequest, ProtocolError

NAMES = st.sampled_from(["request", "client_address", "helo_name", "sender", "instance",
                         "protocol_state", "ccert_subject", "x", "", "r\xe9"])
VALUES = st.one_of(
    st.sampled_from(["smtpd_access_policy", "192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1",
                     "not-an-ip", "RCPT", "a@example.com", "", "mail.example.com"]),
    st.text(max_size=12),
)
LINE = st.one_of(
    st.builds(lambda n, v: f"{n}={v}".encode("utf-8", "surrogatepass"), NAMES, VALUES),
    st.binary(max_size=12),
    st.sampled_from([b"", b"\r", b"novalue", b"=x", b"sender=a\x00b", b"helo_name=\xff\xfe"]),
)


def one_request(lines: list[bytes], end: bytes) -> bytes:
    return b"".join(line + b"\n" for line in lines) + end


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    requests = draw(st.lists(st.lists(LINE, max_size=8), min_size=1, max_size=3))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b""]), min_size=len(requests),
                         max_size=len(requests)))
    return b"".join(one_request(r, e) for r, e in zip(requests, ends, strict=True))


def reader(limits: tuple[int, int, int]) -> PolicyReader:
    line, request, attributes = limits
    return PolicyReader(max_line_octets=line, max_request_octets=request, max_attributes=attributes)


LIMITS = st.one_of(st.just((8192, 65536, 128)),
                   st.tuples(st.integers(1, 40), st.integers(1, 80), st.integers(1, 6)))


def view(item: PolicyRequest | ProtocolError) -> tuple[object, ...]:
    if isinstance(item, ProtocolError):
        return ("error", item.reason, dict(item.attributes))
    return ("request", dict(item.attributes), item.client_ip, item.notes)


@settings(max_examples=400, deadline=None)
@given(streams(), LIMITS)
def test_one_chunk_reads_as_octet_by_octet(data: bytes, limits: tuple[int, int, int]) -> None:
    whole, drip = reader(limits), reader(limits)
    at_once = [view(item) for item in whole.feed(data)]
    one_by_one = [view(item) for i in range(len(data)) for item in drip.feed(data[i:i + 1])]
    assert at_once == one_by_one
    assert whole.state is drip.state and whole.pending == drip.pending


def test_a_plain_request_takes_the_one_go_path_and_is_read_whole() -> None:
    data = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.7\n"
            b"helo_name=mx.example.org\nsender=<a@example.org>\ninstance=1.2\nsender=<a@example.org>\n\n")
    codec = PolicyReader()
    assert codec._whole(data) is not None  # noqa: SLF001 - the path under test
    (item,) = codec.feed(data)
    assert isinstance(item, PolicyRequest)
    assert (item.protocol_state, item.client_address, item.sender, item.instance) == \
        ("RCPT", "192.0.2.7", "a@example.org", "1.2")
    assert not codec.pending
    for other in (data.replace(b"\n", b"\r\n"), data + data, b"x" + data[:-1],
                  data.replace(b"instance=1.2\n", b"instance=1.2\ninstance=3\n")):
        assert codec._whole(other) is None  # noqa: SLF001
