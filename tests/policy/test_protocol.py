"""The policy codec at the byte level: partial reads, line ends, limits, garbage (no event loop)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit.policy.protocol import (
    KEY_ATTRIBUTES,
    MAX_ACTION_OCTETS,
    PolicyReader,
    PolicyReply,
    PolicyRequest,
    ProtocolError,
    ReaderState,
    render,
)

REQUEST = (
    b"request=smtpd_access_policy\n"
    b"protocol_state=RCPT\n"
    b"protocol_name=ESMTP\n"
    b"helo_name=mail.example.net\n"
    b"queue_id=8045F2AB23\n"
    b"sender=alice@example.net\n"
    b"recipient=bob@example.org\n"
    b"recipient_count=0\n"
    b"client_address=192.0.2.10\n"
    b"client_name=mail.example.net\n"
    b"reverse_client_name=mail.example.net\n"
    b"instance=123.456.7\n"
    b"sasl_method=\n"
    b"sasl_username=\n"
    b"ccert_subject=\n"
    b"size=12345\n"
    b"\n"
)


def request(**attrs: str) -> bytes:
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "192.0.2.10"}
    base.update(attrs)
    return b"".join(f"{k}={v}\n".encode() for k, v in base.items()) + b"\n"


def one(data: bytes) -> PolicyRequest | ProtocolError:
    items = PolicyReader().feed(data)
    assert len(items) == 1, items
    return items[0]


# --------------------------------------------------------------------------- well-formed input


def test_a_postfix_request_with_typed_views() -> None:
    req = one(REQUEST)
    assert isinstance(req, PolicyRequest)
    assert req.protocol_state == "RCPT"
    assert req.client_ip == ip_address("192.0.2.10") and req.client_address == "192.0.2.10"
    assert req.helo_name == "mail.example.net"
    assert req.sender == "alice@example.net"
    assert req.recipient == "bob@example.org"
    assert req.instance == "123.456.7"
    assert req.queue_id == "8045F2AB23"
    assert req.sasl_username == ""
    assert req.get("size") == "12345" and req.get("nope") == ""
    assert req.notes == ()


def test_every_split_point_gives_the_same_request() -> None:
    whole = one(REQUEST)
    for cut in range(len(REQUEST) + 1):
        reader = PolicyReader()
        items = reader.feed(REQUEST[:cut]) + reader.feed(REQUEST[cut:])
        assert items == [whole], cut
        assert not reader.pending


def test_byte_by_byte_and_pending() -> None:
    reader = PolicyReader()
    items = []
    for index, byte in enumerate(REQUEST):
        items += reader.feed(bytes([byte]))
        if index < len(REQUEST) - 1:
            assert reader.pending
    assert items == [one(REQUEST)] and not reader.pending


def test_the_reader_state_follows_the_stream() -> None:
    reader = PolicyReader(max_line_octets=40)
    assert reader.state is ReaderState.IDLE
    reader.feed(b"request=smtpd_access_policy\ncli")
    assert reader.state is ReaderState.ATTRIBUTES and reader.pending
    reader.feed(b"ent_address=192.0.2.1\nccert_subject=" + b"x" * 30)  # unused, over-long
    assert reader.state is ReaderState.OVERLONG
    reader.feed(b"yyy\n")
    assert reader.state is ReaderState.ATTRIBUTES
    reader.feed(b"no equals sign\nsender=a@example.com\n")
    assert reader.state is ReaderState.REFUSED
    (item,) = reader.feed(b"\r\n")
    assert isinstance(item, ProtocolError) and "line 4 is not name=value" in item.reason
    assert reader.state is ReaderState.IDLE and not reader.pending
    reader.feed(b"sender=" + b"s" * 50)  # a key attribute over-long: refused, rest dropped
    assert reader.state is ReaderState.OVERLONG
    reader.feed(b"s\nx=1\n")
    assert reader.state is ReaderState.REFUSED
    assert reader.close() is not None and reader.state is ReaderState.IDLE


def test_crlf_lines_and_empty_crlf_line() -> None:
    assert one(REQUEST.replace(b"\n", b"\r\n")) == one(REQUEST)


def test_many_requests_in_one_chunk_stay_in_order() -> None:
    data = b"".join(request(instance=str(n), sender=f"u{n}@example.com") for n in range(50))
    items = PolicyReader().feed(data)
    assert [item.instance for item in items if isinstance(item, PolicyRequest)] == \
        [str(n) for n in range(50)]


def test_value_may_hold_equals_signs_and_angle_brackets_are_stripped() -> None:
    req = one(request(sender="<a=b@example.com>", ccert_issuer="CN=x"))
    assert isinstance(req, PolicyRequest)
    assert req.sender == "a=b@example.com" and req.get("ccert_issuer") == "CN=x"


def test_null_sender_and_ipv6_client() -> None:
    req = one(request(sender="", client_address="2001:db8::25"))
    assert isinstance(req, PolicyRequest)
    assert req.sender == "" and req.client_ip == ip_address("2001:db8::25")


def test_unknown_attributes_are_kept_and_ignored() -> None:
    req = one(request(future_attribute="x", server_port="25"))
    assert isinstance(req, PolicyRequest) and req.get("future_attribute") == "x"


# --------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"protocol_state=RCPT\nclient_address=192.0.2.1\n\n", "no request attribute"),
        (b"request=junk\nclient_address=192.0.2.1\n\n", "is not smtpd_access_policy"),
        (request(client_address=""), "no client_address"),
        (b"request=smtpd_access_policy\nprotocol_state=RCPT\n\n", "no client_address"),
        (request(client_address="unknown"), "is not an IP address"),
        (request() [:-1] + b"this line has no equals sign\n\n", "is not name=value"),
        (request()[:-1] + b"=value-without-name\n\n", "is not name=value"),
        (request()[:-1] + b"x=a\0b\n\n", "NUL"),
        (request(sender="a@example.com")[:-1] + b"sender=other@example.com\n\n", "'sender' sent twice"),
        (request()[:-1] + b"client_address=192.0.2.99\n\n", "'client_address' sent twice"),
        (b"\n", "empty request"),
    ],
)
def test_malformed_requests_become_errors(data: bytes, reason: str) -> None:
    item = one(data)
    assert isinstance(item, ProtocolError)
    assert reason in item.reason


def test_an_error_keeps_what_was_read_for_the_log() -> None:
    item = one(b"client_address=192.0.2.7\ninstance=abc\nbroken line\n\n")
    assert isinstance(item, ProtocolError)
    assert item.attributes["client_address"] == "192.0.2.7"


def test_a_repeated_unused_attribute_keeps_the_first_value() -> None:
    req = one(request()[:-1] + b"size=1\nsize=2\n\n")
    assert isinstance(req, PolicyRequest)
    assert req.get("size") == "1"
    assert any("repeated" in note for note in req.notes)


def test_a_repeated_key_attribute_with_the_same_value_is_fine() -> None:
    assert isinstance(one(request()[:-1] + b"client_address=192.0.2.10\n\n"), PolicyRequest)


def test_binary_not_utf8_is_replaced_not_refused() -> None:
    req = one(request(helo_name="x") .replace(b"helo_name=x", b"helo_name=mail\xff\xfe.example.com"))
    assert isinstance(req, PolicyRequest)
    assert req.helo_name == "mail\ufffd\ufffd.example.com"
    assert any("UTF-8" in note for note in req.notes)


def test_the_reader_is_back_in_step_after_an_error() -> None:
    reader = PolicyReader()
    items = reader.feed(b"garbage\nmore garbage\n\n" + request(instance="ok"))
    assert isinstance(items[0], ProtocolError)
    assert isinstance(items[1], PolicyRequest) and items[1].instance == "ok"


def test_every_empty_line_is_answered_once() -> None:
    items = PolicyReader().feed(b"\n\n\n")
    assert len(items) == 3 and all(isinstance(i, ProtocolError) for i in items)


# --------------------------------------------------------------------------- limits


def test_an_overlong_key_attribute_is_an_error_and_memory_stays_bounded() -> None:
    reader = PolicyReader(max_line_octets=100)
    items = reader.feed(b"request=smtpd_access_policy\nsender=" + b"a" * 10_000)
    assert items == [] and len(reader._line) <= 101
    for _ in range(100):  # a line that never ends costs nothing more
        assert reader.feed(b"b" * 10_000) == []
        assert len(reader._line) == 0
    items = reader.feed(b"@example.com\nclient_address=192.0.2.1\n\n" + request(instance="next"))
    assert isinstance(items[0], ProtocolError) and "'sender' longer than 100" in items[0].reason
    assert isinstance(items[1], PolicyRequest) and items[1].instance == "next"


def test_an_overlong_unused_attribute_is_dropped_not_fatal() -> None:
    """A client certificate subject is sender-controlled: it must not switch SPF off."""
    data = request(ccert_subject="x" * 20_000, sender="a@example.com")
    req = one(data)
    assert isinstance(req, PolicyRequest)
    assert req.sender == "a@example.com" and "ccert_subject" not in req.attributes
    assert any("dropped" in note for note in req.notes)


def test_an_overlong_line_without_a_name_is_an_error() -> None:
    item = PolicyReader(max_line_octets=10).feed(b"x" * 50 + b"\n\n")
    assert len(item) == 1 and isinstance(item[0], ProtocolError)
    assert "longer than 10" in item[0].reason


def test_too_many_attributes() -> None:
    data = request()[:-1] + b"".join(b"x%d=1\n" % n for n in range(200)) + b"\n"
    item = PolicyReader(max_attributes=50).feed(data)
    assert len(item) == 1 and isinstance(item[0], ProtocolError)
    assert "more than 50 attribute lines" in item[0].reason


def test_request_size_limit() -> None:
    data = request()[:-1] + b"".join(b"x%d=%s\n" % (n, b"y" * 900) for n in range(20)) + b"\n"
    item = PolicyReader(max_request_octets=4096).feed(data)
    assert len(item) == 1 and isinstance(item[0], ProtocolError)
    assert "longer than 4096 octets" in item[0].reason


def test_close_reports_a_request_without_its_empty_line() -> None:
    reader = PolicyReader()
    assert reader.feed(b"request=smtpd_access_policy\nclient_address=192.0.2.1\n") == []
    error = reader.close()
    assert isinstance(error, ProtocolError) and "no empty line" in error.reason
    assert reader.close() is None and not reader.pending


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PolicyReader(max_line_octets=0)


# --------------------------------------------------------------------------- replies


def test_render() -> None:
    assert render(PolicyReply("DUNNO")) == b"action=DUNNO\n\n"
    assert render(PolicyReply("550 5.7.23 nope")) == b"action=550 5.7.23 nope\n\n"
    assert render(PolicyReply("PREPEND X: \u00e9")) == "action=PREPEND X: \u00e9\n\n".encode()


@pytest.mark.parametrize("bad", ["", "  ", "DUNNO\n", "550 a\r\nX: y", "x\0", "x\u2028y", "a\tb"])
def test_a_reply_cannot_hold_a_line_break_or_control(bad: str) -> None:
    with pytest.raises(ValueError):
        PolicyReply(bad)


def test_a_reply_is_length_bounded() -> None:
    PolicyReply("x" * MAX_ACTION_OCTETS)
    with pytest.raises(ValueError):
        PolicyReply("x" * (MAX_ACTION_OCTETS + 1))


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=8))
def test_any_byte_stream_gives_only_requests_and_errors_in_bounded_memory(
    data: bytes, cuts: list[int]
) -> None:
    reader = PolicyReader(max_line_octets=64, max_request_octets=512, max_attributes=8)
    items = []
    previous = 0
    for cut in sorted(cuts) + [len(data)]:
        items += reader.feed(data[previous:cut])
        previous = max(previous, cut)
        assert len(reader._line) <= 65
        assert sum(len(k) + len(v) for k, v in reader._attrs.items()) <= 512
    assert all(isinstance(item, (PolicyRequest, ProtocolError)) for item in items)
    # one item per empty line: never more answers than request ends
    assert len(items) <= data.replace(b"\r\n", b"\n").count(b"\n")


@given(st.lists(st.sampled_from(sorted(KEY_ATTRIBUTES | {"size", "x"})), max_size=10),
       st.text(max_size=40))
def test_well_formed_requests_round_trip(names: list[str], value: str) -> None:
    value = value.replace("\n", "").replace("\0", "").replace("\r", "")
    attrs = {"request": "smtpd_access_policy", "client_address": "192.0.2.1"}
    for name in names:
        attrs.setdefault(name, value)
    data = b"".join(f"{k}={v}\n".encode() for k, v in attrs.items()) + b"\n"
    item = one(data)
    if isinstance(item, PolicyRequest):
        assert dict(item.attributes) == attrs
    else:  # only the request/client_address values can make it unusable
        assert item.reason


@given(st.text(max_size=300))
def test_render_never_emits_a_second_line(text: str) -> None:
    try:
        reply = PolicyReply(text)
    except ValueError:
        return
    wire = render(reply)
    assert wire.endswith(b"\n\n")
    body = wire[:-2]
    assert b"\n" not in body and b"\r" not in body and b"\0" not in body


# --------------------------------------------------------------------------- layout


def test_the_codec_and_the_decision_touch_no_world() -> None:
    """style.md §1: policy/protocol.py (and the pure decide/config) import no asyncio, socket, dns."""
    import ast
    from pathlib import Path

    import spfkit.policy as package

    root = Path(package.__file__).parent
    for name in ("protocol.py", "decide.py", "decision.py", "config.py", "_options.py"):
        tree = ast.parse((root / name).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not imported & {"asyncio", "socket", "dns", "selectors", "subprocess"}, name


def test_the_package_exports_exactly_its_all() -> None:
    import spfkit.policy as package

    for name in package.__all__:  # a lazy namespace defines each name when first used
        getattr(package, name)
    public = {name for name, value in vars(package).items()
              if not name.startswith("_") and type(value).__name__ != "module"}
    assert set(package.__all__) == public
