"""A message's header as (name, value) fields: RFC 5322 §2.2, §4.5 obsolete syntax."""

from __future__ import annotations

from email import message_from_bytes

import pytest

from spfkit.senderid import field_name, find_pra, header_fields


def test_fields_names_as_written_values_unfolded() -> None:
    data = (b"Received: from a (a [192.0.2.1])\r\n\tby b; d\r\nX-Empty:\r\n"
            b"Subject:  two  spaces \r\n\r\nBody: not a field\r\n")
    assert header_fields(data) == [("Received", "from a (a [192.0.2.1])\tby b; d"),
                                   ("X-Empty", ""), ("Subject", "two  spaces ")]


@pytest.mark.parametrize("line", [b"Sender : s@x.example", b"Sender\t: s@x.example",
                                  b"Sender \t :s@x.example"])
def test_white_space_before_the_colon_is_obsolete_syntax_not_the_end(line: bytes) -> None:
    # RFC 5322 §4.5.2 obs-sender = "Sender" *WSP ":" mailbox CRLF; §4: MUST be accepted
    fields = header_fields(b"Received: x\r\n" + line + b"\r\nFrom: a@y.example\r\n\r\n")
    assert fields == [("Received", "x"), ("Sender", "s@x.example"), ("From", "a@y.example")]


def test_obsolete_fields_count_for_the_pra() -> None:
    assert find_pra(b"From: a@y.example\nFrom : b@z.example\n\n").reason == (
        "the message has 2 From: headers and no Sender:; a PRA needs exactly one "
        "(RFC 4407 §2 step 4)")
    assert find_pra(b"From : a@y.example\n\n").address == "a@y.example"


def test_the_header_ends_at_the_empty_line_or_a_line_that_is_no_field() -> None:
    assert header_fields(b"A: 1\nB: 2\n\nC: 3\n") == [("A", "1"), ("B", "2")]
    assert header_fields(b"A: 1\nnot a field\nC: 3\n") == [("A", "1")]
    assert header_fields(b"A: 1\n: no name\nC: 3\n") == [("A", "1")]
    assert header_fields(b"A: 1\rB: 2\r\n") == [("A", "1"), ("B", "2")]  # any line end
    assert header_fields(b"") == [] and header_fields("") == []


def test_mbox_from_line_and_leading_continuation() -> None:
    assert header_fields(b"From a@y.example Tue Nov 24 09:30:02 2026\nFrom: a@y.example\n") == [
        ("From", "a@y.example")]
    assert header_fields(b"From : a@y.example\n") == [("From", "a@y.example")]  # obs-from
    assert header_fields(b" stray\nA: 1\n") == [("A", "1")]


def test_octets_that_are_not_utf8_are_kept_as_surrogate_escapes() -> None:
    assert header_fields(b"From: J\xf6rg <a@y.example>\n") == [("From", "J\udcf6rg <a@y.example>")]
    assert header_fields("From: Jörg <a@y.example>".encode()) == [("From", "Jörg <a@y.example>")]


def test_a_parsed_message_and_field_name() -> None:
    msg = message_from_bytes(b"From: a@y.example\nSubject: hi\n there\n\n")
    assert header_fields(msg) == [("From", "a@y.example"), ("Subject", "hi there")]
    assert field_name("Sender \t") == "Sender" and field_name("From") == "From"
