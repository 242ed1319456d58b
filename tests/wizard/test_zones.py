"""Zone lines for BIND and tinydns (RFC 1035 §3.3.14, §5.1; RFC 7208 §3.3; tinydns-data).

The BIND lines are read back with dnspython's master-file parser; the tinydns lines with a
small decoder written from tinydns-data's source (fields split at ``:`` first, then
``\\`` + up to three octal digits, or ``\\`` + any other character for itself).
"""

from __future__ import annotations

import re

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from spfkit.wizard.zones import (
    MAX_TTL,
    answer_size,
    bind_lines,
    bind_owner,
    split_strings,
    tinydns_lines,
    tinydns_strings,
)

LONG = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(60)) + " -all"


def bind_strings(line: str) -> tuple[bytes, ...]:
    """The character-strings of one ``OWNER TTL IN TXT ...`` line, as a DNS server reads them."""
    owner, ttl, klass, rrtype, rdata = line.split(" ", 4)
    assert (klass, rrtype) == ("IN", "TXT")
    parsed = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, rdata)
    return tuple(parsed.strings)


def tinydns_unescape(field: str) -> bytes:
    """tinydns-data's txtparse(): ``\\NNN`` (1-3 octal digits) or ``\\c`` for c."""
    data = field.encode("latin-1")
    out = bytearray()
    i = 0
    while i < len(data):
        ch = data[i]
        i += 1
        if ch == 0x5C:
            if i >= len(data):
                break
            ch = data[i]
            i += 1
            if 0x30 <= ch <= 0x37:
                ch -= 0x30
                for _ in range(2):
                    if i < len(data) and 0x30 <= data[i] <= 0x37:
                        ch = (ch << 3) + data[i] - 0x30
                        i += 1
                    else:
                        break
        out.append(ch & 0xFF)
    return bytes(out)


def tinydns_parse(line: str) -> tuple[str, bytes, int, tuple[bytes, ...]]:
    """(owner, text, ttl, strings) of a ``'`` or ``:…:16:`` line, as tinydns-data reads it."""
    assert "\n" not in line and line.isascii()
    kind, fields = line[0], line[1:].split(":")
    owner = tinydns_unescape(fields[0]).decode()
    if kind == "'":
        assert len(fields) == 3, fields
        text = tinydns_unescape(fields[1])
        return owner, text, int(fields[2]), tinydns_strings(text)
    assert kind == ":" and fields[1] == "16" and len(fields) == 4, fields
    rdata = tinydns_unescape(fields[2])
    strings: list[bytes] = []
    i = 0
    while i < len(rdata):
        n = rdata[i]
        strings.append(rdata[i + 1 : i + 1 + n])
        i += 1 + n
    assert i == len(rdata)
    return owner, b"".join(strings), int(fields[3]), tuple(strings)


# -- BIND ----------------------------------------------------------------------------------


def test_the_classic_line() -> None:
    assert bind_lines("example.net", "v=spf1 mx ~all") == [
        'example.net. 3600 IN TXT "v=spf1 mx ~all"'
    ]
    assert bind_lines("example.net.", "v=spf1 a -all", ttl=300) == [
        'example.net. 300 IN TXT "v=spf1 a -all"'
    ]


def test_long_record_is_split_after_spaces_into_255_octet_strings() -> None:
    (line,) = bind_lines("long.example.net", LONG)
    strings = bind_strings(line)
    assert len(strings) == 4
    assert all(len(s) <= 255 for s in strings)
    assert all(s.endswith(b" ") for s in strings[:-1])  # cut between terms
    assert b"".join(strings) == LONG.encode()
    assert strings == split_strings(LONG)


def test_quote_backslash_and_controls_are_escaped() -> None:
    text = 'say "hi" \\ tab\there caf\u00e9 \x7f'
    (line,) = bind_lines("example.net", text)
    assert line == ('example.net. 3600 IN TXT "say \\"hi\\" \\\\ tab\\009here caf\\195\\169 \\127"')
    assert b"".join(bind_strings(line)) == text.encode()


def test_owner_is_fully_qualified_and_escaped() -> None:
    assert bind_owner("Example.NET") == "Example.NET."
    assert bind_owner("_spf.example.net.") == "_spf.example.net."
    assert bind_owner("*.example.net") == "*.example.net."
    assert bind_owner("a;b.example.net") == "a\\059b.example.net."
    for bad in ("", ".", "a..b", "x" * 64 + ".net", ".".join(["abcdefghi"] * 26)):
        with pytest.raises(ValueError):
            bind_owner(bad)


@pytest.mark.parametrize("ttl", [-1, MAX_TTL + 1])
def test_ttl_range(ttl: int) -> None:
    with pytest.raises(ValueError, match="RFC 2181"):
        bind_lines("example.net", "v=spf1 -all", ttl)
    with pytest.raises(ValueError, match="RFC 2181"):
        tinydns_lines("example.net", "v=spf1 -all", ttl)


@settings(max_examples=300)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=2000))
@example(LONG)
@example(" " * 600)
@example("x" * 600)
@example("v=spf1 " + "a" * 300 + " " + "b" * 254 + " -all")
def test_printable_records_split_and_join_back(text: str) -> None:
    """RFC 7208 §3.3: every string at most 255 octets, joined without spaces = the record."""
    strings = split_strings(text)
    assert all(len(s) <= 255 for s in strings)
    assert all(strings) or strings == (b"",)
    assert b"".join(strings) == text.encode()
    (line,) = bind_lines("example.net", text)
    assert bind_strings(line) == strings


@given(st.binary(max_size=1200))
def test_any_octets_survive_the_master_file(data: bytes) -> None:
    text = data.decode("latin-1")  # one character per octet, written as UTF-8 by bind_lines
    (line,) = bind_lines("example.net", text)
    assert line.isascii() and "\n" not in line
    assert b"".join(bind_strings(line)) == text.encode("utf-8")


# -- tinydns -------------------------------------------------------------------------------


def test_the_classic_tinydns_line() -> None:
    assert tinydns_lines("example.net", "v=spf1 mx ~all") == ["'example.net:v=spf1 mx ~all:3600"]


def test_colons_are_octal_escaped() -> None:
    """The recipe's gotcha: an unescaped ':' ends the field and the rest becomes the TTL."""
    (line,) = tinydns_lines("example.net", "v=spf1 ip4:192.0.2.1 -all", 300)
    assert line == "'example.net:v=spf1 ip4\\072192.0.2.1 -all:300"
    assert tinydns_parse(line)[1:3] == (b"v=spf1 ip4:192.0.2.1 -all", 300)


def test_escapes_are_always_three_digits() -> None:
    """'\\0721' would be read as \\072 and '1'; a short escape before a digit would not be."""
    (line,) = tinydns_lines("example.net", "\n1:2\\3")
    assert line == "'example.net:\\0121\\0722\\1343:3600"
    assert tinydns_parse(line)[1] == b"\n1:2\\3"


def test_generic_form_has_the_bind_strings() -> None:
    (line,) = tinydns_lines("long.example.net", LONG, 300, generic=True)
    assert re.match(r":long\.example\.net:16:\\[0-7]{3}v=spf1 ip4\\072", line)
    owner, text, ttl, strings = tinydns_parse(line)
    assert (owner, text, ttl) == ("long.example.net", LONG.encode(), 300)
    assert strings == split_strings(LONG)


def test_tinydns_data_cuts_plain_lines_into_127_octet_strings() -> None:
    (line,) = tinydns_lines("long.example.net", LONG)
    strings = tinydns_parse(line)[3]
    assert [len(s) for s in strings[:-1]] == [127] * (len(strings) - 1)
    assert b"".join(strings) == LONG.encode()


@settings(max_examples=300)
@given(st.text(max_size=700), st.booleans())
@example("a:b\\c\n\r\x00\x7f\u00e9\U0001f600 ", False)
@example("1" * 300 + ":", True)
def test_tinydns_escaping_round_trips(text: str, generic: bool) -> None:
    (line,) = tinydns_lines("example.net", text, 60, generic=generic)
    owner, data, ttl, strings = tinydns_parse(line)
    assert (owner, data, ttl) == ("example.net", text.encode("utf-8", "surrogatepass"), 60)
    assert all(len(s) <= 255 for s in strings)


def test_tinydns_owner_escapes() -> None:
    (line,) = tinydns_lines("a:b.example.net.", "v=spf1 -all")
    assert line.startswith("'a\\072b.example.net:")
    assert tinydns_parse(line)[0] == "a:b.example.net"


def test_answer_size() -> None:
    """Header 12 + question (13 + 4) + answer (2 + 10 + 1 + 14) for example.net."""
    assert answer_size("example.net", (b"v=spf1 mx ~all",)) == 12 + 13 + 4 + 12 + 15
    assert answer_size("example.net", split_strings(LONG)) > 512
