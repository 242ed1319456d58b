"""RFC 7208 §7 macros: parsing (§7.1), the letters (§7.2), expansion and truncation (§7.3),
and the worked examples of §7.4.

Everything here is sync and pure: ``parse_macro_string`` and ``MacroString.expand`` never
touch DNS (the ``p`` letter is handed in as ``MacroContext.validated_name``).
"""

from __future__ import annotations

import time
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spfkit.errors import MacroSyntaxError
from spfkit.macros import (
    DELIMITERS,
    MAX_DOMAIN_LENGTH,
    Escape,
    Literal,
    Macro,
    MacroContext,
    MacroString,
    parse_macro_string,
    truncate_domain,
)

# --- the §7.4 setting -------------------------------------------------------------------
#
#   The <sender> is strong-bad@email.example.com.
#   The IPv4 SMTP client IP is 192.0.2.3.
#   The IPv6 SMTP client IP is 2001:db8::cb01.
#   The PTR domain name of the client IP is mx.example.org.

SENDER = "strong-bad@email.example.com"
DOMAIN = "email.example.com"
IP4 = ip_address("192.0.2.3")
IP6 = ip_address("2001:db8::cb01")


def ctx(ip: IPv4Address | IPv6Address = IP4, **kwargs: object) -> MacroContext:
    values: dict[str, object] = {"sender": SENDER, "domain": DOMAIN, "ip": ip}
    values.update(kwargs)
    return MacroContext(**values)  # type: ignore[arg-type]


def expand(text: str, context: MacroContext | None = None, *, explanation: bool = False) -> str:
    return parse_macro_string(text, explanation=explanation).expand(context or ctx())


# --- §7.4 examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("macro", "expansion"),
    [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
    ],
)
def test_rfc7208_7_4_single_macros(macro: str, expansion: str) -> None:
    assert expand(macro) == expansion


@pytest.mark.parametrize(
    ("macro_string", "expansion"),
    [
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ],
)
def test_rfc7208_7_4_macro_strings_ipv4(macro_string: str, expansion: str) -> None:
    assert expand(macro_string) == expansion
    # the same strings are valid domain-specs and need no truncation
    assert parse_macro_string(macro_string).expand_domain(ctx()) == expansion


def test_rfc7208_7_4_macro_string_ipv6() -> None:
    # spfkit writes the nibbles of an IPv6 %{i} in upper case, as the openspf suite
    # (v-macro-ip6) and pyspf expect; the RFC prints them in lower case. DNS names compare
    # case-insensitively (RFC 4343), so compare without case.
    want = (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
    )
    got = expand("%{ir}.%{v}._spf.%{d2}", ctx(IP6))
    assert got.lower() == want


# --- §7.2 every letter ------------------------------------------------------------------

FULL = ctx(
    helo="mx.example.org",
    receiver="mx.receiver.example",
    timestamp=1_700_000_000,
    validated_name="mx.example.org",
)


@pytest.mark.parametrize(
    ("letter", "value"),
    [
        ("s", "strong-bad@email.example.com"),  # <sender>
        ("l", "strong-bad"),  # local-part of <sender>
        ("o", "email.example.com"),  # domain of <sender>
        ("d", "email.example.com"),  # <domain>
        ("i", "192.0.2.3"),  # <ip>
        ("p", "mx.example.org"),  # the validated domain name of <ip>
        ("h", "mx.example.org"),  # HELO/EHLO domain
        ("v", "in-addr"),  # "in-addr" for IPv4
        ("c", "192.0.2.3"),  # SMTP client IP (easily readable format), exp only
        ("r", "mx.receiver.example"),  # domain name of host performing the check, exp only
        ("t", "1700000000"),  # current timestamp, exp only
    ],
)
def test_every_letter_ipv4(letter: str, value: str) -> None:
    assert expand("%{" + letter + "}", FULL, explanation=True) == value


@pytest.mark.parametrize(
    ("letter", "value"),
    [
        ("i", "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1"),
        ("v", "ip6"),
        ("c", "2001:db8::cb01"),
    ],
)
def test_ip_letters_ipv6(letter: str, value: str) -> None:
    # §7.3: "i" is the dot-format (one nibble per label); compared without case, see above
    got = expand("%{" + letter + "}", ctx(IP6), explanation=True)
    assert got.lower() == value.lower()


def test_defaults_for_p_and_r_are_unknown() -> None:
    # §7.3: "p" is "unknown" when no name validates; §7.2 "r" SHOULD be "unknown" if unset
    assert expand("%{p}") == "unknown"
    assert expand("%{r}", ctx(receiver=""), explanation=True) == "unknown"


@pytest.mark.parametrize(
    ("sender", "local", "domain"),
    [
        ("user@example.com", "user", "example.com"),
        ("a@b@example.com", "a@b", "example.com"),  # the last "@" splits (quoted local-parts)
        ("example.com", "postmaster", "example.com"),  # §4.3: no local-part → postmaster
        ("@example.com", "postmaster", "example.com"),
    ],
)
def test_local_part_and_sender_domain(sender: str, local: str, domain: str) -> None:
    context = ctx(sender=sender)
    assert expand("%{l}", context) == local
    assert expand("%{o}", context) == domain


# --- transformers and delimiters (§7.3) -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sender", "want"),
    [
        # openspf macro-reverse-split-on-dash
        ("%{l2r-}", "philip-gladstone-test@e11.example.com", "gladstone.philip"),
        # openspf macro-multiple-delimiters
        ("%{l2r+-}", "foo-bar+zip+quux@e12.example.com", "bar.foo"),
        ("%{l+}", "a+b+c@x.example", "a.b.c"),
        ("%{l,}", "a,b@x.example", "a.b"),
        ("%{l/}", "a/b@x.example", "a.b"),
        ("%{l_}", "a_b@x.example", "a.b"),
        ("%{l=}", "a=b@x.example", "a.b"),
        ("%{l.}", "a.b@x.example", "a.b"),
        ("%{l-.}", "a-b.c@x.example", "a.b.c"),
        ("%{l9}", "a.b.c@x.example", "a.b.c"),  # more digits than parts: all of them
        ("%{l1}", "a.b.c@x.example", "c"),
        ("%{lR}", "a.b.c@x.example", "c.b.a"),  # ABNF is case-insensitive: "R" reverses too
        ("%{l}", "a-b@x.example", "a-b"),  # no transformer: no splitting
    ],
)
def test_transformers_and_delimiters(text: str, sender: str, want: str) -> None:
    assert expand(text, ctx(sender=sender)) == want


@pytest.mark.parametrize(("text", "want"), [("%%", "%"), ("%_", " "), ("%-", "%20")])
def test_escapes(text: str, want: str) -> None:
    """§7.1: "%%" is a percent sign, "%_" a space, "%-" a URL-encoded space."""
    assert expand(text) == want
    assert parse_macro_string(text).parts == (Escape(text[1]),)


def test_macro_mania_in_domain() -> None:
    # openspf macro-macro-mania-in-domain
    text = "macro%%percent%_%_space%-url-space.example.com"
    assert expand(text) == "macro%percent  space%20url-space.example.com"


# --- URL escaping of upper-case letters (§7.3) ------------------------------------------


def test_upper_case_letter_is_url_escaped() -> None:
    # openspf upper-macro: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" stay as they are
    context = ctx(sender="~jack&jill=up-a_b3.c@e8.example.com")
    assert expand("%{L}", context) == "~jack%26jill%3Dup-a_b3.c"
    assert expand("%{S}") == "strong-bad%40email.example.com"


def test_url_escaping_keeps_exactly_the_rfc3986_unreserved_set() -> None:
    unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    assert expand("%{L}", ctx(sender=unreserved + "@x.example")) == unreserved
    reserved = "!#$&'*+,/:;=?[]"
    got = expand("%{L}", ctx(sender=reserved + "@x.example"))
    assert got.upper() == "".join(f"%{ord(ch):02X}" for ch in reserved)


def test_url_escaping_of_non_ascii_is_per_utf8_octet() -> None:
    got = expand("%{L}", ctx(sender="é@x.example"))
    assert got.upper() == "%C3%A9"


def test_url_escaping_applies_after_the_transformers() -> None:
    # "Uppercase macros expand exactly as their lowercase equivalents, and are then URL escaped"
    assert expand("%{L2r-}", ctx(sender="a b-c d@x.example")) == "c%20d.a%20b"
    assert expand("%{C}", ctx(IP6), explanation=True).upper() == "2001%3ADB8%3A%3ACB01"


# --- exp-only letters -------------------------------------------------------------------


@pytest.mark.parametrize("letter", ["c", "r", "t", "C", "R", "T"])
def test_c_r_t_only_in_explanations(letter: str) -> None:
    """§7.2: "c", "r" and "t" are allowed only in "exp" text."""
    with pytest.raises(MacroSyntaxError) as info:
        parse_macro_string("%{" + letter + "}.example.com")
    assert info.value.column == 2
    ms = parse_macro_string("%{" + letter + "}", explanation=True)
    assert ms.letters == {letter.lower()}


def test_t_is_the_timestamp() -> None:
    now = int(time.time())
    assert expand("%{t}", ctx(timestamp=now), explanation=True) == str(now)


def test_space_only_in_explanations() -> None:
    """§6.2 explain-string = *( macro-string / SP )."""
    with pytest.raises(MacroSyntaxError):
        parse_macro_string("a b")
    assert expand("%{o} does not designate %{c}", explanation=True) == (
        "email.example.com does not designate 192.0.2.3"
    )


# --- §7.3 truncation to 253 octets ------------------------------------------------------


def test_openspf_domain_name_truncation() -> None:
    # openspf domain-name-truncation: 8 copies of a 29-octet name behind "foobar."
    spec = parse_macro_string("foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com")
    context = ctx(sender="test@somewhat.long.exp.example.com")
    full = spec.expand(context)
    assert len(full) > MAX_DOMAIN_LENGTH
    got = spec.expand_domain(context)
    assert got == ".".join(["somewhat.long.exp.example.com"] * 8) + ".example.com"
    assert len(got) <= MAX_DOMAIN_LENGTH


def test_truncation_removes_whole_labels_from_the_left() -> None:
    labels = ["a" * 60] * 5 + ["example", "com"]
    name = ".".join(labels)
    assert len(name) == 316
    assert len(".".join(labels[1:])) == 255  # one label off is still too long
    assert truncate_domain(name) == ".".join(labels[2:])  # 194 octets


def test_truncation_rule_exactly() -> None:
    # 253 octets stay; 254 lose their first label
    name253 = "a" * 61 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63
    assert len(name253) == 253
    assert truncate_domain(name253) == name253
    name254 = "x" + name253
    assert truncate_domain(name254) == name253[62:]


def test_truncation_drops_a_trailing_dot() -> None:
    assert truncate_domain("example.com.") == "example.com"
    assert parse_macro_string("%{d}.").expand_domain(ctx()) == "email.example.com"


def test_a_single_label_longer_than_253_is_left_alone() -> None:
    # nothing can be removed from a one-label name; the resolver answers NXDOMAIN for it
    assert truncate_domain("a" * 300) == "a" * 300


# --- §7.3 digits: zero rejected, huge values harmless -----------------------------------


@pytest.mark.parametrize("text", ["%{d0}", "%{d00}", "%{d0r}", "%{d000000}"])
def test_digit_zero_is_rejected(text: str) -> None:
    """§7.3: "If a DIGIT is specified, the value MUST be nonzero." """
    with pytest.raises(MacroSyntaxError) as info:
        parse_macro_string(text)
    assert info.value.column == 3


def test_digit_zero_written_with_many_zeros_is_rejected() -> None:
    # seven zeros are still the value zero (§7.3)
    with pytest.raises(MacroSyntaxError) as info:
        parse_macro_string("%{d0000000}")
    assert info.value.column == 3


@pytest.mark.parametrize(
    ("text", "ip", "want"),
    [
        ("%{i1000r}", IP4, "3.2.0.192"),
        ("%{d99999999999999}", IP4, "email.example.com"),
        ("%{d99999}", IP4, "email.example.com"),
        ("%{d1000000000000000000000000000000000000000r}", IP4, "com.example.email"),
    ],
)
def test_huge_digit_values_are_harmless(text: str, ip: IPv4Address, want: str) -> None:
    started = time.perf_counter()
    assert expand(text, ctx(ip)) == want
    assert time.perf_counter() - started < 1.0


def test_huge_digits_on_ipv6() -> None:
    got = expand("%{i1000r}", ctx(IP6))
    assert got.lower() == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"


# --- syntax errors and their columns ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("%", 0),  # "%" at the end
        ("abc%", 3),
        ("%a", 0),  # "%" not followed by "{", "%", "_" or "-"
        ("-exists:%(ir)", 8),
        ("foo%.sbl.example.com", 3),  # openspf invalid-embedded-macro-char
        ("x%{", 1),  # unterminated
        ("x%{d", 1),
        ("%{}", 0),  # empty
        ("%{x}", 2),  # unknown letter
        ("%{a}.example.com", 2),  # openspf undef-macro
        ("%{d2r!}", 5),  # "!" is not a delimiter
        ("%{d2x}", 4),
        ("%{d-r}", 4),  # transformers come before delimiters
        ("ok %{d}", 2),  # space outside an explain-string
        ("%{d}\x00", 4),  # control character
        ("\x7f", 0),  # DEL
        ("é", 0),  # non-ASCII
        ("%{d}%{i}%{x}", 10),
    ],
)
def test_syntax_error_columns(text: str, column: int) -> None:
    with pytest.raises(MacroSyntaxError) as info:
        parse_macro_string(text)
    assert info.value.column == column
    assert info.value.text == text
    assert info.value.reason


def test_macro_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_macro_string("%")


# --- the parse tree ---------------------------------------------------------------------


def test_parse_tree() -> None:
    ms = parse_macro_string("x%{L2r-.}%%y")
    assert ms.parts == (
        Literal("x"),
        Macro("L", 2, True, "-."),
        Escape("%"),
        Literal("y"),
    )
    assert ms.letters == {"l"}
    assert not ms.is_literal
    assert parse_macro_string("example.com").is_literal
    assert parse_macro_string("") == MacroString(())


@pytest.mark.parametrize("text", ["%{dR}", "%{d2R}", "%{DR}"])
def test_round_trip_keeps_upper_case_r(text: str) -> None:
    # the ABNF's "r" is case-insensitive, so "R" parses; str() must give back what was written
    assert str(parse_macro_string(text)) == text


@pytest.mark.parametrize("text", ["%{d01}", "%{d0002r}"])
def test_round_trip_keeps_leading_zeros(text: str) -> None:
    assert str(parse_macro_string(text)) == text


@pytest.mark.parametrize("text", ["%{d2000}", "%{i99999999999999r}"])
def test_round_trip_keeps_large_digits(text: str) -> None:
    assert str(parse_macro_string(text)) == text


# --- Hypothesis properties --------------------------------------------------------------

#: characters that make macro syntax likely, so the strategies reach deep into the parser
MACROISH = "%{}%{}%slodiphvcrtSLODIPHVCRTaxr0123456789.-+,/_=~ é\x00\x7f"
_texts = st.one_of(st.text(), st.text(alphabet=MACROISH, max_size=40))


@given(text=_texts, explanation=st.booleans())
@example(text="%{d0000000}", explanation=False)
@example(text="%{dR}", explanation=False)
def test_any_text_parses_or_raises_macro_syntax_error(text: str, explanation: bool) -> None:
    try:
        parse_macro_string(text, explanation=explanation)
    except MacroSyntaxError as exc:
        assert 0 <= exc.column <= len(text)


@given(text=_texts, explanation=st.booleans())
@example(text="%{dR}", explanation=False)
@example(text="%{d01}", explanation=False)
@example(text="%{d2000}", explanation=False)
def test_str_of_parse_is_the_text(text: str, explanation: bool) -> None:
    try:
        ms = parse_macro_string(text, explanation=explanation)
    except MacroSyntaxError:
        return
    assert str(ms) == text


_LITERAL_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


@st.composite
def macro_strings(draw: st.DrawFn, explanation: bool = False) -> MacroString:
    """A normalised parse tree: no empty or adjacent literals, digits as the parser keeps them."""
    letters = "slodiphv" + ("crt" if explanation else "")
    chars = _LITERAL_CHARS + (" " if explanation else "")
    part = st.one_of(
        st.builds(Literal, st.text(alphabet=chars, min_size=1, max_size=8)),
        st.builds(Escape, st.sampled_from("%_-")),
        st.builds(
            Macro,
            st.sampled_from(letters + letters.upper()),
            st.none() | st.integers(min_value=1, max_value=1024),
            st.booleans(),
            st.text(alphabet="".join(sorted(DELIMITERS)), max_size=3),
        ),
    )
    parts: list[Literal | Escape | Macro] = []
    for p in draw(st.lists(part, max_size=8)):
        if isinstance(p, Literal) and parts and isinstance(parts[-1], Literal):
            parts[-1] = Literal(parts[-1].text + p.text)
        else:
            parts.append(p)
    return MacroString(tuple(parts))


@given(data=st.data(), explanation=st.booleans())
def test_parse_of_str_is_the_tree(data: st.DataObject, explanation: bool) -> None:
    ms = data.draw(macro_strings(explanation))
    assert parse_macro_string(str(ms), explanation=explanation) == ms


_contexts = st.builds(
    MacroContext,
    sender=st.text(max_size=300),
    domain=st.text(max_size=300),
    ip=st.ip_addresses(),
    helo=st.text(max_size=300),
    receiver=st.text(max_size=50),
    timestamp=st.integers(min_value=0, max_value=2**40),
    validated_name=st.text(max_size=300),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(ms=macro_strings(), context=_contexts)
def test_expand_domain_is_at_most_253_octets(ms: MacroString, context: MacroContext) -> None:
    """§7.3: an expanded domain name is cut to 253 octets by dropping left-hand labels.

    The one case it can stay longer: when what is left is a single label (no dot to cut at);
    the resolver then answers NXDOMAIN for a name that cannot exist.
    """
    got = ms.expand_domain(context)
    octets = len(got.encode("utf-8", "surrogateescape"))
    assert octets <= MAX_DOMAIN_LENGTH or "." not in got
    assert not got.endswith(".") or got == ""


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=st.text(alphabet=MACROISH, max_size=40), context=_contexts)
def test_expand_domain_of_anything_that_parses_never_raises(
    text: str, context: MacroContext
) -> None:
    try:
        ms = parse_macro_string(text)
    except MacroSyntaxError:
        return
    got = ms.expand_domain(context)
    assert len(got.encode("utf-8", "surrogateescape")) <= MAX_DOMAIN_LENGTH or "." not in got
