"""Received-SPF (RFC 7208 §9.1), Authentication-Results (RFC 8601) and the value sanitiser.

Expected strings are written by hand from the RFC examples; the property tests prove
that no input can put a line break or a control character into a header.
"""

from __future__ import annotations

import ast
import email
import email.policy
import re
import unicodedata
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfkit import headers
from spfkit.headers import (
    ELLIPSIS,
    MAX_COMMENT_OCTETS,
    MAX_VALUE_OCTETS,
    HeaderField,
    authentication_results,
    comment_text,
    quote_value,
    received_spf,
)
from spfkit.identity import Identity
from spfkit.results import CheckResult, Result

IP = IPv4Address("192.0.2.1")
SENDER = "myname@example.com"
HELO = "foo.example.com"
RECEIVER = "mybox.example.org"

# Everything the sanitiser must never let through: category Cc (C0, DEL, C1), surrogates,
# U+2028/U+2029 (str.splitlines and so the email parser split on these).
_FORBIDDEN = {"Cc", "Cs", "Zl", "Zp"}
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-^_`{|}~]+)*")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_COMMENT_BODY = re.compile(r"(?:[^()\\]|\\.)*", re.DOTALL)


def _unquote(rendered: str) -> str:
    """RFC 5322 §3.2.4, read back: a token as is, a quoted-string without its quoted-pairs."""
    if not rendered.startswith('"'):
        return rendered
    return re.sub(r"\\(.)", r"\1", rendered[1:-1], flags=re.DOTALL)


def _parse(text: str) -> email.message.EmailMessage:
    message = email.message_from_string(text + "\r\n\r\n", policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def _mailfrom(result: CheckResult, **kwargs: object) -> HeaderField:
    args: dict[str, object] = {
        "client_ip": IP,
        "identity": Identity.MAILFROM,
        "envelope_from": SENDER,
        "helo": HELO,
        "receiver": RECEIVER,
    }
    args.update(kwargs)
    return received_spf(result, **args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- RFC 7208 §9.1


def test_rfc7208_first_example() -> None:
    """§9.1 first example; we always add identity= (after receiver=), as the second one has it."""
    field = _mailfrom(CheckResult(Result.PASS, "example.com"))
    assert str(field) == (
        "Received-SPF: pass (mybox.example.org: domain of myname@example.com designates "
        "192.0.2.1 as permitted sender) receiver=mybox.example.org; identity=mailfrom; "
        'client-ip=192.0.2.1; envelope-from="myname@example.com"; helo=foo.example.com;'
    )


def test_rfc7208_first_example_folded() -> None:
    field = _mailfrom(CheckResult(Result.PASS, "example.com"))
    assert field.fold() == (
        "Received-SPF: pass (mybox.example.org: domain of myname@example.com designates\r\n"
        " 192.0.2.1 as permitted sender) receiver=mybox.example.org; identity=mailfrom;\r\n"
        ' client-ip=192.0.2.1; envelope-from="myname@example.com";\r\n'
        " helo=foo.example.com;"
    )
    assert all(len(line) <= 78 for line in field.fold().split("\r\n"))


def test_rfc7208_second_example() -> None:
    """§9.1 second example, exactly: no receiver= and no helo=."""
    field = received_spf(
        CheckResult(Result.FAIL, "example.com"),
        client_ip="192.0.2.1",
        identity=Identity.MAILFROM,
        envelope_from=SENDER,
        helo=None,
        comment="mybox.example.org: domain of myname@example.com does not designate "
        "192.0.2.1 as permitted sender",
    )
    assert str(field) == (
        "Received-SPF: fail (mybox.example.org: domain of myname@example.com does not "
        "designate 192.0.2.1 as permitted sender) identity=mailfrom; client-ip=192.0.2.1; "
        'envelope-from="myname@example.com";'
    )


_KEYS = (
    "receiver=mybox.example.org; identity=mailfrom; client-ip=192.0.2.1; "
    'envelope-from="myname@example.com"; helo=foo.example.com;'
)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            CheckResult(Result.PASS, "example.com", mechanism="ip4:192.0.2.0/24"),
            (
                "pass (mybox.example.org: domain of myname@example.com designates 192.0.2.1 "
                f'as permitted sender) {_KEYS} mechanism="ip4:192.0.2.0/24";'
            ),
        ),
        (
            CheckResult(Result.FAIL, "example.com", mechanism="all"),
            (
                "fail (mybox.example.org: domain of myname@example.com does not designate "
                f"192.0.2.1 as permitted sender) {_KEYS} mechanism=all;"
            ),
        ),
        (
            CheckResult(Result.SOFTFAIL, "example.com", mechanism="all"),
            (
                "softfail (mybox.example.org: domain of transitioning myname@example.com does "
                f"not designate 192.0.2.1 as permitted sender) {_KEYS} mechanism=all;"
            ),
        ),
        (
            CheckResult(Result.NEUTRAL, "example.com", mechanism="default"),
            (
                "neutral (mybox.example.org: 192.0.2.1 is neither permitted nor denied by domain "
                f"of myname@example.com) {_KEYS} mechanism=default;"
            ),
        ),
        (
            CheckResult(Result.NONE, "example.com"),
            (
                "none (mybox.example.org: domain of myname@example.com does not designate "
                f"permitted sender hosts) {_KEYS}"
            ),
        ),
        (
            CheckResult(
                Result.PERMERROR,
                "example.com",
                mechanism="include:_spf.example.com",
                problem="more than 10 DNS-querying terms",
            ),
            (
                "permerror (mybox.example.org: error in processing during lookup of "
                f'myname@example.com) {_KEYS} mechanism="include:_spf.example.com"; '
                'problem="more than 10 DNS-querying terms";'
            ),
        ),
        (
            CheckResult(Result.TEMPERROR, "example.com", problem="DNS timeout"),
            (
                "temperror (mybox.example.org: error in processing during lookup of "
                f'myname@example.com) {_KEYS} problem="DNS timeout";'
            ),
        ),
    ],
    ids=lambda v: v.result.value if isinstance(v, CheckResult) else "",
)
def test_every_result(result: CheckResult, expected: str) -> None:
    field = _mailfrom(result)
    assert field.name == "Received-SPF"
    assert field.value == expected
    assert _parse(field.fold()).get_all("Received-SPF") is not None


def test_problem_only_for_errors() -> None:
    """§9.1 problem: "if an error was returned"."""
    field = _mailfrom(CheckResult(Result.PASS, "example.com", problem="stray"))
    assert "problem=" not in field.value


def test_ipv6_client_ip_is_quoted() -> None:
    """§9.1 ABNF: ":" is not atext, so an IPv6 address is no dot-atom."""
    field = _mailfrom(CheckResult(Result.PASS, "example.com"), client_ip="2001:DB8::1")
    assert 'client-ip="2001:db8::1";' in field.value
    assert "designates 2001:db8::1 as permitted sender" in field.value
    loopback = _mailfrom(CheckResult(Result.PASS, "example.com"), client_ip=IPv6Address("::1"))
    assert 'client-ip="::1";' in loopback.value


def test_helo_identity_and_null_reverse_path() -> None:
    """§2.3: HELO checks use postmaster@<helo>; §2.4: so does a null MAIL FROM."""
    helo = received_spf(
        CheckResult(Result.PASS, HELO),
        client_ip=IP,
        identity=Identity.HELO,
        envelope_from=None,
        helo=HELO,
    )
    assert helo.value == (
        "pass (domain of postmaster@foo.example.com designates 192.0.2.1 as permitted "
        "sender) identity=helo; client-ip=192.0.2.1; helo=foo.example.com;"
    )
    null = _mailfrom(CheckResult(Result.NONE, HELO), envelope_from="", receiver=None)
    assert null.value == (
        "none (domain of postmaster@foo.example.com does not designate permitted sender "
        'hosts) identity=mailfrom; client-ip=192.0.2.1; envelope-from=""; helo=foo.example.com;'
    )


def test_pra_identity_names_the_pra() -> None:
    field = _mailfrom(
        CheckResult(Result.FAIL, "example.net"), identity=Identity.PRA, pra="boss@example.net"
    )
    assert field.value.startswith(
        "fail (mybox.example.org: domain of boss@example.net does not designate"
    )
    assert "identity=pra;" in field.value


def test_comment_override_and_omission() -> None:
    result = CheckResult(Result.PASS, "example.com")
    assert _mailfrom(result, comment="ok (really)").value.startswith(r"pass (ok \(really\)) ")
    assert _mailfrom(result, comment="").value == f"pass {_KEYS}"


def test_extension_keys() -> None:
    field = _mailfrom(CheckResult(Result.PASS, "example.com"), extensions=[("x-queue", "4XYZ")])
    assert field.value.endswith(" x-queue=4XYZ;")
    for bad in ("client-ip", "Helo", "x y", "-x", ""):
        with pytest.raises(ValueError):
            _mailfrom(CheckResult(Result.PASS, "example.com"), extensions=[(bad, "v")])


def test_client_ip_must_be_an_ip() -> None:
    with pytest.raises(ValueError):
        _mailfrom(CheckResult(Result.PASS, "example.com"), client_ip="mail.example.com")


# --------------------------------------------------------------------------- hostile values


def test_injected_helo_is_escaped() -> None:
    field = _mailfrom(CheckResult(Result.PASS, "example.com"), helo="evil\r\nX-Injected: 1")
    assert field.value.endswith(r' helo="evil\\x0d\\x0aX-Injected: 1";')
    message = _parse(field.fold())
    assert message.keys() == ["Received-SPF"]
    assert message["X-Injected"] is None


def test_envelope_from_with_quote_semicolon_paren() -> None:
    field = _mailfrom(CheckResult(Result.PASS, "example.com"), envelope_from='a"b;c(d@example.com')
    assert field.value == (
        r'pass (mybox.example.org: domain of a"b;c\(d@example.com designates 192.0.2.1 as '
        r"permitted sender) receiver=mybox.example.org; identity=mailfrom; "
        r'client-ip=192.0.2.1; envelope-from="a\"b;c(d@example.com"; helo=foo.example.com;'
    )
    assert _parse(str(field)).keys() == ["Received-SPF"]


def test_header_field_refuses_line_breaks() -> None:
    for value in ("a\r\nB: c", "a\nb", "a\x00", "a\u2028b", "a\x85b"):
        with pytest.raises(ValueError):
            HeaderField("X-Test", value)
    for name in ("Bad Name", "Bad:Name", "", "Bad\r\nName"):
        with pytest.raises(ValueError):
            HeaderField(name, "v")


# --------------------------------------------------------------------------- quote_value


@pytest.mark.parametrize(
    ("raw", "rendered"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("mybox.example.org", "mybox.example.org"),
        ("-all", "-all"),
        ("default", "default"),
        ("myname@example.com", '"myname@example.com"'),
        ("ip4:192.0.2.0/24", '"ip4:192.0.2.0/24"'),
        ("a=b", '"a=b"'),  # atext, but an RFC 2045 tspecial
        ("a..b", '"a..b"'),
        (".a", '".a"'),
        ("", '""'),
        ("two words", '"two words"'),
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("tab\there", r'"tab\\x09here"'),
        ("nul\x00 del\x7f c1\x85", r'"nul\\x00 del\\x7f c1\\x85"'),
        ("bidi\u202eevil", r'"bidi\\u202eevil"'),
        ("line\u2028sep", r'"line\\u2028sep"'),
        ("lone\udc80", r'"lone\\udc80"'),
        ("tag\U000e0001", r'"tag\\U000e0001"'),
        ("müller@bücher.example", '"müller@bücher.example"'),  # RFC 6532: kept
    ],
)
def test_quote_value(raw: str, rendered: str) -> None:
    assert quote_value(raw) == rendered


def test_quote_value_caps_length() -> None:
    huge = quote_value("x" * 1_000_000)
    assert len(huge) == MAX_VALUE_OCTETS
    assert huge == '"' + "x" * (MAX_VALUE_OCTETS - 2 - len(ELLIPSIS)) + ELLIPSIS + '"'
    # A cut never splits an escape or a multi-octet character.
    assert quote_value("\r" * 1000).endswith(r'\\x0d..."')
    wide = quote_value("€" * 1000)
    assert len(wide.encode()) <= MAX_VALUE_OCTETS
    assert wide.endswith('€..."')
    # Exactly at the limit: nothing is cut.
    exact = "y" * MAX_VALUE_OCTETS
    assert quote_value(exact) == exact
    assert quote_value(exact + "y").endswith('..."')


def test_comment_text() -> None:
    assert comment_text("a (b) c\\d") == r"a \(b\) c\\d"
    assert comment_text("x\r\ny") == r"x\\x0d\\x0ay"
    assert comment_text('quote " ok') == 'quote " ok'
    capped = comment_text("(" * 10_000)
    assert len(capped) <= MAX_COMMENT_OCTETS
    assert capped.endswith(r"\(...")


# --------------------------------------------------------------------------- RFC 8601


def _ar(result: CheckResult, **kwargs: object) -> HeaderField:
    args: dict[str, object] = {
        "authserv_id": "mx.example.org",
        "identity": Identity.MAILFROM,
        "envelope_from": "sender@example.com",
        "helo": HELO,
    }
    args.update(kwargs)
    return authentication_results(result, **args)  # type: ignore[arg-type]


def test_authentication_results_mailfrom() -> None:
    field = _ar(CheckResult(Result.PASS, "example.com"))
    assert str(field) == (
        "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=sender@example.com"
    )


def test_authentication_results_rfc8601_example() -> None:
    """RFC 8601 Appendix B: ``example.com; spf=pass smtp.mailfrom=example.net``."""
    field = _ar(
        CheckResult(Result.PASS, "example.net"),
        authserv_id="example.com",
        envelope_from=None,
        helo=None,
    )
    assert field.value == "example.com; spf=pass smtp.mailfrom=example.net"


def test_authentication_results_helo_pra_and_null_sender() -> None:
    helo = _ar(CheckResult(Result.NONE, HELO), identity=Identity.HELO, envelope_from=None)
    assert helo.value == "mx.example.org; spf=none smtp.helo=foo.example.com"
    pra = _ar(CheckResult(Result.PASS, "example.com"), identity=Identity.PRA, pra="a@example.com")
    assert pra.value == "mx.example.org; sender-id=pass header.from=a@example.com"
    resent = _ar(
        CheckResult(Result.FAIL, "example.com"),
        identity=Identity.PRA,
        pra="a@example.com",
        pra_header="Resent-From",
    )
    assert resent.value == "mx.example.org; sender-id=fail header.resent-from=a@example.com"
    with pytest.raises(ValueError):
        _ar(CheckResult(Result.PASS, "x.example"), identity=Identity.PRA, pra_header="To")
    null = _ar(CheckResult(Result.PASS, HELO), envelope_from="")
    assert null.value == "mx.example.org; spf=pass smtp.mailfrom=postmaster@foo.example.com"


def test_authentication_results_reason_comment_and_quoting() -> None:
    field = _ar(
        CheckResult(Result.PERMERROR, "example.com", problem="void lookup limit"),
        comment="see (RFC 7208)",
    )
    assert field.value == (
        r"mx.example.org; spf=permerror (see \(RFC 7208\)) reason="
        '"void lookup limit" smtp.mailfrom=sender@example.com'
    )
    hostile = _ar(
        CheckResult(Result.FAIL, "example.com"),
        authserv_id="mx example\r\n",
        envelope_from='evil";x\n@example.com',
    )
    assert hostile.value == (
        r'"mx example\\x0d\\x0a"; spf=fail smtp.mailfrom="evil\";x\\x0a@example.com"'
    )
    assert _parse(hostile.fold()).keys() == ["Authentication-Results"]


# --------------------------------------------------------------------------- properties


def _assert_safe(field: HeaderField) -> None:
    unfolded = str(field)
    assert "\r" not in unfolded and "\n" not in unfolded
    assert not any(unicodedata.category(c) in _FORBIDDEN for c in unfolded)
    unfolded.encode("utf-8")  # RFC 6532: valid UTF-8, no lone surrogates
    for width in (78, 20):
        folded = field.fold(width)
        assert folded.replace("\r\n", "") == unfolded  # folding only adds CRLF
        body = folded.replace("\r\n ", "")
        assert "\r" not in body and "\n" not in body  # every CRLF is followed by WSP
        lines = folded.split("\r\n")
        assert all(line.strip() for line in lines)  # RFC 5322 §3.2.2: no blank lines
        assert all(len(line.encode()) <= 998 for line in lines)  # RFC 5322 §2.1.1
        message = _parse(folded)
        assert message.keys() == [field.name]
        assert message.get_payload() == ""


_text = st.text(max_size=600)
_maybe = st.none() | _text


@given(
    result=st.sampled_from(Result),
    domain=_text,
    mechanism=_maybe,
    problem=_maybe,
    client_ip=st.ip_addresses(),
    identity=st.sampled_from(Identity),
    envelope_from=_maybe,
    helo=_maybe,
    receiver=_maybe,
    comment=_maybe,
    pra=_maybe,
    extension=_text,
)
def test_received_spf_never_injects(
    result: Result,
    domain: str,
    mechanism: str | None,
    problem: str | None,
    client_ip: IPv4Address | IPv6Address,
    identity: Identity,
    envelope_from: str | None,
    helo: str | None,
    receiver: str | None,
    comment: str | None,
    pra: str | None,
    extension: str,
) -> None:
    field = received_spf(
        CheckResult(result, domain, mechanism=mechanism, problem=problem),
        client_ip=client_ip,
        identity=identity,
        envelope_from=envelope_from,
        helo=helo,
        receiver=receiver,
        comment=comment,
        pra=pra,
        extensions=[("x-note", extension)],
    )
    _assert_safe(field)


@given(
    result=st.sampled_from(Result),
    domain=_text,
    problem=_maybe,
    authserv_id=_text,
    identity=st.sampled_from(Identity),
    envelope_from=_maybe,
    helo=_maybe,
    pra=_maybe,
    pra_header=st.sampled_from(["from", "Sender", "resent-from", "RESENT-SENDER"]),
    comment=_maybe,
)
def test_authentication_results_never_injects(
    result: Result,
    domain: str,
    problem: str | None,
    authserv_id: str,
    identity: Identity,
    envelope_from: str | None,
    helo: str | None,
    pra: str | None,
    pra_header: str,
    comment: str | None,
) -> None:
    field = authentication_results(
        CheckResult(result, domain, problem=problem),
        authserv_id=authserv_id,
        identity=identity,
        envelope_from=envelope_from,
        helo=helo,
        pra=pra,
        pra_header=pra_header,
        comment=comment,
    )
    _assert_safe(field)


@given(st.text(max_size=2000))
def test_quote_value_is_token_or_quoted_string(raw: str) -> None:
    rendered = quote_value(raw)
    assert _TOKEN.fullmatch(rendered) or _QUOTED.fullmatch(rendered)
    assert len(rendered.encode("utf-8")) <= MAX_VALUE_OCTETS
    assert not any(unicodedata.category(c) in _FORBIDDEN | {"Cf"} for c in rendered)


@given(st.text(max_size=2000))
def test_comment_text_is_comment_content(raw: str) -> None:
    rendered = comment_text(raw)
    assert _COMMENT_BODY.fullmatch(rendered)
    assert len(rendered.encode("utf-8")) <= MAX_COMMENT_OCTETS
    assert not any(unicodedata.category(c) in _FORBIDDEN | {"Cf"} for c in rendered)


_printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=120
)


@given(_printable)
def test_quote_value_round_trips_printable_text(raw: str) -> None:
    """Printable input short enough not to be cut reads back unchanged."""
    assert _unquote(quote_value(raw)) == raw


@given(_printable)
def test_comment_text_round_trips_printable_text(raw: str) -> None:
    assert re.sub(r"\\(.)", r"\1", comment_text(raw), flags=re.DOTALL) == raw


# Printable ASCII, the fast paths' domain, with the characters each path escapes made common,
# at lengths on both sides of the limits (a quote or backslash doubles: 255 of them are 510).
_ASCII = st.sampled_from([chr(c) for c in range(0x20, 0x7F)] + ['"', "\\", "(", ")", "."] * 8)
_LIMITS = [254, 255, 256, 507, 508, 509, 510, 511, 512, 513, 514]


@st.composite
def _near_limit(draw: st.DrawFn) -> str:
    """Text of a length at or near a limit, of one filler with a few other characters set in."""
    n = draw(st.one_of(st.sampled_from(_LIMITS), st.integers(0, 520)))
    filler = draw(st.sampled_from(["a", "a.", " ", '"', "\\", "(", "\u00e9", "\x00"]))
    text = list((filler * n)[:n])
    for _ in range(draw(st.integers(0, 3)) if text else 0):
        text[draw(st.integers(0, n - 1))] = draw(st.sampled_from('"\\() .a\u00e9\x00'))
    return "".join(text)


@settings(max_examples=1000)  # each example costs microseconds; the limits need many
@given(st.one_of(st.text(max_size=600), st.text(_ASCII, max_size=600), _near_limit()))
def test_the_fast_paths_answer_as_the_general_ones(raw: str) -> None:
    """quote_value and comment_text take a whole-string path for plain ASCII; it must give
    exactly what the general, character-by-character path gives, for every input."""
    assert quote_value(raw) == headers._quote_any(raw)
    assert comment_text(raw) == headers._comment_any(raw)


def test_headers_module_is_pure() -> None:
    """Style §1: headers.py and identity.py import no asyncio, socket or dnspython."""
    for module in (headers, __import__("spfkit.identity").identity):
        assert module.__file__ is not None
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert not imported & {"asyncio", "socket", "dns"}


def test_all_matches_public_names() -> None:
    """Style §5.12: ``__all__`` lists exactly the public names the module defines."""
    assert headers.__file__ is not None
    tree = ast.parse(Path(headers.__file__).read_text(encoding="utf-8"))
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
    assert set(headers.__all__) == {name for name in defined if not name.startswith("_")}


@given(st.text())
def test_ascii_text_is_ascii_and_leaves_ascii_alone(s: str) -> None:
    from spfkit.headers import ascii_text

    out = ascii_text(s)
    assert out.isascii()
    if s.isascii():
        assert out == s
    else:  # each other character is its escape, in place
        assert out == "".join(c if c.isascii() else c.encode("unicode_escape").decode() for c in s)


def test_milter_replies_are_ascii() -> None:
    from spfkit.milter.senderid import Reply

    reply = Reply("550", "5.7.1", "Sender ID permerror: loop a \u2192 b (b\u00fccher)")
    assert str(reply) == "550 5.7.1 Sender ID permerror: loop a \\u2192 b (b\\xfccher)"
