"""Record text → :class:`Record` (RFC 7208 §4.5–§4.6, §5, §6, §12 ABNF; RFC 4406 §3).

Pure and strict: any deviation from the ABNF raises :class:`RecordSyntaxError` naming the
term and its column, so ``check_host()`` can return permerror "anywhere in the record"
(§4.6). Parsed records are cached by their text. No I/O imports.
"""

from __future__ import annotations

import re
from ipaddress import (
    AddressValueError,
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
)
from typing import Final

from spfkit.bounded import SizedLRU
from spfkit.errors import MacroSyntaxError, RecordSyntaxError
from spfkit.macros import Literal, MacroString, parse_macro_string
from spfkit.record.model import Record, Version
from spfkit.record.terms import (
    IP4,
    IP6,
    MECHANISMS,
    MX,
    PTR,
    A,
    All,
    Exists,
    Explanation,
    Include,
    Mechanism,
    Modifier,
    Qualifier,
    Redirect,
    Term,
    UnknownModifier,
)

#: §12 name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9\-_.]*\Z")
_ALNUM: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
#: §12 ip4-cidr-length / ip6-cidr-length: no leading zeros
_DUAL_CIDR: Final = re.compile(r"(?:/(0|[1-9][0-9]{0,2}))?(?://(0|[1-9][0-9]{0,2}))?\Z")
_IP4: Final = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}\Z")
_SPF2: Final = re.compile(r"spf2\.0/([A-Za-z0-9_\-.]+(?:,[A-Za-z0-9_\-.]+)*)\Z", re.IGNORECASE)
_QUALIFIERS: Final = {q.value: q for q in Qualifier}


def is_spf1_text(text: str | bytes) -> bool:
    """§4.5: the record starts with "v=spf1" followed by a space or its end (any case)."""
    if isinstance(text, bytes):
        raw = text[:7].lower()
        return raw[:6] == b"v=spf1" and (len(raw) == 6 or raw[6:7] == b" ")
    head = text[:7].lower()
    return head[:6] == "v=spf1" and (len(head) == 6 or head[6] == " ")


def parse_record(text: str) -> Record:
    """Parse one SPF (``v=spf1``) or Sender ID (``spf2.0/…``) record.

    Raises :class:`RecordSyntaxError` (term, 0-based column, reason, RFC section).
    """
    result = _parse_cached(text)
    if isinstance(result, RecordSyntaxError):
        raise RecordSyntaxError(result.reason, result.term, result.column, result.rfc)
    return result


def estimated_size(chars: int) -> int:
    """Bytes a parsed record of ``chars`` characters takes (terms, macro trees, networks)."""
    return 512 + 48 * chars


#: §4.5 "parse records once": evaluation looks records up here by their text. Bounded in
#: bytes (a parsed record costs about 40 bytes per character of text, measured), and a record
#: longer than any real one needs (4,096 characters: a 512-octet UDP answer holds one record,
#: a TCP answer a few) is parsed for the check that fetched it and not kept.
RECORD_CACHE: Final[SizedLRU[str, Record | RecordSyntaxError]] = SizedLRU(
    16 * 1024 * 1024, max_entry_bytes=estimated_size(4096))  # evaluate.budget.LARGE_RECORD


def _parse_cached(text: str) -> Record | RecordSyntaxError:
    found = RECORD_CACHE.get(text)
    if found is None:
        try:
            found = _parse(text)
        except RecordSyntaxError as exc:
            found = exc.with_traceback(None)  # kept: its frames (and their locals) are not
        RECORD_CACHE.put(text, found, estimated_size(len(text)))
    return found


def _parse(text: str) -> Record:
    for column, ch in enumerate(text):
        if not (0x20 <= ord(ch) <= 0x7E):
            what = "a control character" if ord(ch) < 0x20 or ord(ch) == 0x7F else "a non-ASCII character"
            term = _term_at(text, column)
            raise RecordSyntaxError(
                f"{what} ({ch!r}): SPF records are 7-bit ASCII", term[0], term[1], "3.1"
            )
    if text.startswith(" "):
        raise RecordSyntaxError("the record starts with a space; it must start with 'v=spf1'", "", 0, "4.5")
    words = _split(text)
    if not words:
        raise RecordSyntaxError("empty record: no version", "", 0, "4.5")
    head, head_col = words[0]
    scopes: tuple[str, ...] = ()
    if head.lower() == "v=spf1":
        version = Version.SPF1
    else:
        match = _SPF2.match(head)
        if match is None:
            raise RecordSyntaxError("not an SPF record: it must start with 'v=spf1'", head, head_col, "4.5")
        version = Version.SPF2
        scopes = tuple(s.lower() for s in match.group(1).split(","))
    terms = tuple(_with_text(_parse_term(word, col), word) for word, col in words[1:])
    _check_modifier_counts(terms)
    return Record(version, terms, scopes, text=text)


def _with_text(term: Term, word: str) -> Term:
    # terms are frozen; the parser is the one place that records how a term was written
    object.__setattr__(term, "text", word)
    return term


def _split(text: str) -> list[tuple[str, int]]:
    """§4.6.1: terms are separated by one or more spaces (SP only)."""
    return [(m.group(), m.start()) for m in re.finditer(r"[^ ]+", text)]


def _term_at(text: str, column: int) -> tuple[str, int]:
    start = text.rfind(" ", 0, column) + 1
    end = text.find(" ", column)
    return text[start : end if end >= 0 else len(text)], start


def _check_modifier_counts(terms: tuple[Term, ...]) -> None:
    """§6: "redirect" and "exp" MUST NOT appear more than once each."""
    for kind in (Redirect, Explanation):
        seen = [t for t in terms if isinstance(t, kind)]
        if len(seen) > 1:
            raise RecordSyntaxError(
                f"the '{kind.name}' modifier appears more than once", str(seen[1]), seen[1].column, "6"
            )


def _parse_term(word: str, column: int) -> Term:
    """§4.6.1: term = directive / modifier."""
    cut = min((i for i in (word.find("="), word.find(":"), word.find("/")) if i >= 0), default=-1)
    if cut >= 0 and word[cut] == "=":
        return _parse_modifier(word, column, cut)
    qualifier = Qualifier.PASS
    body = word
    if word[0] in _QUALIFIERS:
        qualifier = _QUALIFIERS[word[0]]
        body = word[1:]
    split = min((i for i in (body.find(":"), body.find("/")) if i >= 0), default=len(body))
    name = body[:split].lower()
    arg = body[split:]
    cls = MECHANISMS.get(name)
    if cls is None:
        reason = f"unknown mechanism '{body[:split]}'" if body[:split] else "missing mechanism name"
        raise RecordSyntaxError(reason, word, column, "5")
    return _parse_mechanism(cls, qualifier, arg, word, column)


def _parse_modifier(word: str, column: int, eq: int) -> Modifier:
    """§6, §12: modifier = redirect / explanation / unknown-modifier."""
    name, value = word[:eq], word[eq + 1 :]
    if not _NAME.match(name):
        raise RecordSyntaxError(f"invalid modifier name {name!r}", word, column, "12")
    key = name.lower()
    if key == "redirect":
        return Redirect(column=column, domain_spec=_domain_spec(value, word, column + eq + 1))
    if key == "exp":
        return Explanation(column=column, domain_spec=_domain_spec(value, word, column + eq + 1))
    return UnknownModifier(column=column, key=name, value=_macro_string(value, word, column + eq + 1))


def _macro_string(text: str, word: str, column: int) -> MacroString:
    try:
        return parse_macro_string(text)
    except MacroSyntaxError as exc:
        raise RecordSyntaxError(exc.reason, word, column + exc.column, "7.1") from None


def _domain_spec(text: str, word: str, column: int) -> MacroString:
    """§12 domain-spec = macro-string domain-end."""
    if not text:
        raise RecordSyntaxError("missing domain name", word, column, "7.1")
    spec = _macro_string(text, word, column)
    last = spec.parts[-1]
    # a trailing macro-expand (a macro or %%, %_, %-) is a valid domain-end on its own
    if isinstance(last, Literal) and not _is_domain_end(last.text):
        raise RecordSyntaxError(
            f"{text!r} is not a valid domain name (it must end in '.' and a top-level label)",
            word, column, "7.1",
        )
    return spec


def _is_domain_end(text: str) -> bool:
    """§12 domain-end = ( "." toplabel [ "." ] ) / macro-expand, for a literal tail.

    toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ):
    a label of letters and digits that is not all digits, or one with inner hyphens.
    Written without regular expressions, so a 64 KB label costs linear time.
    """
    if text.endswith("."):
        text = text[:-1]
    dot = text.rfind(".")
    if dot < 0:
        return False
    label = text[dot + 1 :]
    if not label or not all(ch in _ALNUM or ch == "-" for ch in label):
        return False
    if "-" in label:
        return label[0] in _ALNUM and label[-1] in _ALNUM
    return not label.isdigit()


def _parse_mechanism(
    cls: type[Mechanism], qualifier: Qualifier, arg: str, word: str, column: int
) -> Mechanism:
    """§5: the argument rules of each mechanism."""
    arg_col = column + len(word) - len(arg)
    if cls is All:
        if arg:
            raise RecordSyntaxError("'all' takes no argument", word, column, "5.1")
        return All(qualifier, column)
    if cls in (Include, Exists):
        if not arg.startswith(":"):
            raise RecordSyntaxError(f"'{cls.name}' needs ':' and a domain", word, column, "5")
        spec = _domain_spec(arg[1:], word, arg_col + 1)
        return cls(qualifier, column, spec)
    if cls is PTR:
        if not arg:
            return PTR(qualifier, column)
        if not arg.startswith(":"):
            raise RecordSyntaxError("'ptr' takes no CIDR length", word, column, "5.5")
        return PTR(qualifier, column, _domain_spec(arg[1:], word, arg_col + 1))
    if cls is A or cls is MX:
        return _parse_a_mx(cls, qualifier, arg, word, column, arg_col)
    if cls is IP4:
        return _parse_ip4(qualifier, arg, word, column)
    return _parse_ip6(qualifier, arg, word, column)


def _parse_a_mx(
    cls: type[A] | type[MX], qualifier: Qualifier, arg: str, word: str, column: int, arg_col: int
) -> Mechanism:
    """§5.3, §5.4: [ ":" domain-spec ] [ dual-cidr-length ]."""
    domain_text = arg
    cidr4 = cidr6 = None
    # the dual-cidr-length is the longest "/n" / "//n" / "/n//m" suffix
    for start in range(len(arg)):
        if arg[start] == "/" and (match := _DUAL_CIDR.match(arg, start)):
            domain_text = arg[:start]
            cidr4 = int(match.group(1)) if match.group(1) is not None else None
            cidr6 = int(match.group(2)) if match.group(2) is not None else None
            break
    if cidr4 is not None and cidr4 > 32:
        raise RecordSyntaxError(f"IPv4 CIDR length /{cidr4} is over 32", word, column, "5.6")
    if cidr6 is not None and cidr6 > 128:
        raise RecordSyntaxError(f"IPv6 CIDR length //{cidr6} is over 128", word, column, "5.6")
    spec: MacroString | None = None
    if domain_text:
        if not domain_text.startswith(":"):
            raise RecordSyntaxError(f"bad argument {domain_text!r}", word, column, "5")
        spec = _domain_spec(domain_text[1:], word, arg_col + 1)
    return cls(qualifier, column, spec, cidr4, cidr6)


def _split_cidr(arg: str, word: str, column: int, limit: int) -> tuple[str, int | None]:
    if not arg.startswith(":"):
        raise RecordSyntaxError("needs ':' and a network", word, column, "5.6")
    address, slash, length = arg[1:].partition("/")
    if not slash:
        return address, None
    if not re.fullmatch(r"0|[1-9][0-9]{0,2}", length) or int(length) > limit:
        raise RecordSyntaxError(f"invalid CIDR length '/{length}'", word, column, "5.6")
    return address, int(length)


def _parse_ip4(qualifier: Qualifier, arg: str, word: str, column: int) -> IP4:
    """§5.6 ip4-network [ ip4-cidr-length ]."""
    address, length = _split_cidr(arg, word, column, 32)
    if not _IP4.match(address):
        raise RecordSyntaxError(f"{address!r} is not an IPv4 address", word, column, "5.6")
    prefix = 32 if length is None else length
    network = IPv4Network((IPv4Address(address), prefix), strict=False)
    return IP4(qualifier, column, network, address)


def _parse_ip6(qualifier: Qualifier, arg: str, word: str, column: int) -> IP6:
    """§5.6 ip6-network [ ip6-cidr-length ]."""
    address, length = _split_cidr(arg, word, column, 128)
    try:
        if "%" in address or not address:
            raise AddressValueError(address)
        ip = IPv6Address(address)
    except AddressValueError:
        raise RecordSyntaxError(f"{address!r} is not an IPv6 address", word, column, "5.6") from None
    prefix = 128 if length is None else length
    return IP6(qualifier, column, IPv6Network((ip, prefix), strict=False), address)
