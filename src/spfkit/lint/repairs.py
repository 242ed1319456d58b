"""Targeted repairs of one term the parser rejected (RFC 7208 §4.5, §4.6.1, §5, §6, §12).

:func:`repair` gets the record text and the :class:`RecordSyntaxError` the real parser raised,
and proposes one edit that fixes that problem — a misspelt name, a wrong version, an address
of the other IP version, a comma-separated list — or says that no safe fix exists. The text
rules apply the edit and parse again, so every repair is checked by the parser itself.
Pure: no I/O imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv6Address
from typing import Final

from spfkit.errors import RecordSyntaxError, shorten
from spfkit.lint.spelling import MECHANISM_NAMES as MECHANISMS
from spfkit.lint.spelling import MODIFIER_NAMES, is_term, meant_name

__all__ = ["Edit", "repair", "starts_term", "words"]

_NAMED: Final = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)([:=/]|\Z)")
_STARTS_TERM: Final = re.compile(
    r"[+\-~?]?(all|include|a|mx|ptr|ip4|ip6|exists|redirect|exp)([:=/]|\Z)", re.IGNORECASE
)
_VERSION_LIKE: Final = re.compile(
    r"(v|ver|version)?[=:\-_]?(spf|sfp|psf|spf-)v?(1|1\.0|10|1\.1|01|2|2\.0)?", re.IGNORECASE
)
_MAX_BITS: Final = {"ip4": 32, "ip6": 128}
#: a host name with at least two labels and a letter TLD ("_spf.google.com")
_DOMAIN: Final = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+"
                            r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?")
#: the first label of a mail server's host name ("mail", "mx2", "smtp-out", "relay1")
_HOST_LABEL: Final = re.compile(r"(?:mail|mx|smtp|mta|relay|out|outbound|exchange)"
                                r"(?:-?(?:out|in|relay))?-?[0-9]*", re.IGNORECASE)
#: "~allCOPY", "-all." — the text after "all" is not a term of its own
_STUCK_TO_ALL: Final = re.compile(r"([+\-~?]?all)([^ ]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``text[start:end]`` by ``new``; ``code``/``message``/``fix`` describe why.

    ``new is None`` means: the problem is understood but there is no safe automatic fix.
    ``column`` is where the problem is (in the text the edit applies to).
    """

    code: str
    message: str
    fix: str
    column: int
    term: str
    start: int = 0
    end: int = 0
    new: str | None = None
    #: the RFC section, when it is not the code's own (generic syntax errors)
    rfc: str | None = None


def starts_term(text: str) -> bool:
    """Does ``text`` begin like a term: optional qualifier, a known name, then ':', '=', '/'?"""
    return _STARTS_TERM.match(text) is not None


def words(text: str) -> list[tuple[str, int]]:
    """§4.6.1: the terms of ``text`` (split on SP only) with their columns."""
    return [(m.group(), m.start()) for m in re.finditer(r"[^ ]+", text)]


def repair(text: str, error: RecordSyntaxError) -> Edit | None:
    """One edit that fixes ``error`` in ``text``, an unfixable diagnosis, or None (unknown)."""
    ws = words(text)
    if not ws:
        return None
    # the word the error points into (a column just past a word, as for "a:", is its own)
    index = max((i for i, (_, c) in enumerate(ws) if c <= error.column), default=0)
    if index == 0:
        return _version(ws)
    word, col = ws[index]
    following = ws[index + 1] if index + 1 < len(ws) else None
    for rule in (_separators, _ip_value, _spelling, _colon, _qualifier_alone, _run_together,
                 _bare_target, _stuck_to_all):
        edit = rule(word, col, following, error)
        if edit is not None:
            return edit
    return None


def _version_like(text: str) -> bool:
    return bool(_VERSION_LIKE.fullmatch(text.rstrip(";,.:")))


def _version(ws: list[tuple[str, int]]) -> Edit | None:
    """§4.5: the record must begin with exactly "v=spf1" followed by a space or its end."""
    head, _ = ws[0]
    why = (
        "receivers only use a TXT record that begins with exactly 'v=spf1' (§4.5), so they "
        "treat this domain as if it had no SPF record at all (result none)"
    )
    for k in (3, 2):  # "v = spf1", "v=spf 1"
        if len(ws) >= k and all(len(w) <= 8 for w, _ in ws[:k]):
            glued = "".join(w for w, _ in ws[:k])
            if _version_like(glued) and not is_term(ws[k - 1][0]):
                end = ws[k - 1][1] + len(ws[k - 1][0])
                written = shorten(_text_of(ws, k))
                return Edit("SPF-E207", f"the version is written '{written}' with spaces in "
                            f"it; {why}", "write it as 'v=spf1', without spaces",
                            0, head, 0, end, "v=spf1")
    if _version_like(head) and head.lower() != "v=spf1":
        sender_id = "2" in head
        fix = "write the version as 'v=spf1'" + (
            " (Sender ID records, rarely useful, start with 'spf2.0/mfrom,pra')" if sender_id else ""
        )
        return Edit("SPF-E207", f"the record starts with '{shorten(head)}', not 'v=spf1'; {why}",
                    fix, 0, head, 0, len(head), "v=spf1")
    if head.lower().startswith("v=spf1") and is_term(head[6:]):
        return Edit("SPF-E207", f"there is no space after 'v=spf1' in '{shorten(head)}'; {why}",
                    "put a space after 'v=spf1'", 6, head, 6, 6, " ")
    if is_term(head):
        return Edit("SPF-E207", f"the record has no version: it starts with the term "
                    f"'{shorten(head)}'; {why}", "begin the record with 'v=spf1 '",
                    0, head, 0, 0, "v=spf1 ")
    return None


def _text_of(ws: list[tuple[str, int]], k: int) -> str:
    return " ".join(w for w, _ in ws[:k])


def _split_name(word: str) -> tuple[str, str, str, str] | None:
    """(qualifier, name, separator, argument) of a term, or None when it has no name."""
    qualifier = word[0] if word[0] in "+-~?" else ""
    match = _NAMED.match(word, len(qualifier))
    if match is None:
        return None
    return qualifier, match.group(1), match.group(2), word[match.end():]


def _separators(word: str, col: int, following: tuple[str, int] | None,
                error: RecordSyntaxError) -> Edit | None:
    """§4.6.1: terms are separated by spaces, not ',' or ';' (and one ip4/ip6 = one network)."""
    pieces = [p for p in re.split(r"[,;]", word) if p]
    if len(pieces) == 1 and pieces[0] != word and is_term(pieces[0]):
        return Edit("SPF-E214", f"'{shorten(word)}' ends in a separator; terms are separated "
                    "by spaces only (§4.6.1), so the record is rejected (permerror)",
                    f"write '{pieces[0]}'", col, word, col, col + len(word), pieces[0])
    if len(pieces) < 2:
        return None
    if all(is_term(p) for p in pieces):
        new = " ".join(pieces)
    else:
        parts = _split_name(pieces[0])
        if parts is None or parts[1].lower() not in _MAX_BITS or parts[2] != ":":
            return None
        prefix = pieces[0][: len(pieces[0]) - len(parts[3])]
        new = " ".join([pieces[0], *(prefix + p for p in pieces[1:])])
        if not all(is_term(p) for p in new.split(" ")):
            return None
    return Edit("SPF-E214", f"'{shorten(word)}' lists several terms or networks separated by "
                "',' or ';'; SPF separates terms with spaces and allows one network per ip4/ip6 "
                "term (§4.6.1, §5.6), so the record is rejected (permerror)",
                f"write them as separate terms: '{shorten(new)}'", col, word, col,
                col + len(word), new)


def _ip_value(word: str, col: int, following: tuple[str, int] | None,
              error: RecordSyntaxError) -> Edit | None:
    """§5.6: ip4/ip6 need an address of their own version and a prefix length in range."""
    parts = _split_name(word)
    if parts is None:
        return None
    qualifier, name, sep, arg = parts
    kind = name.lower()
    if kind in ("a", "mx") and error.rfc == "5.6" and "CIDR" in error.reason:
        m = re.search(r"(/\d+)?(//\d+)?\Z", word)
        group = 1 if "IPv4" in error.reason else 2
        if m is None or m.group(group) is None:
            return None
        kept = (m.group(2) or "") if group == 1 else ""
        cut = word[: m.start(group)] + kept
        version, bits = ("IPv4", 32) if group == 1 else ("IPv6", 128)
        return Edit("SPF-E212", f"'{shorten(word)}' has a prefix length longer than an "
                    f"address; the record is rejected (permerror). The corrected record has "
                    f"'{cut}', which authorises only the hosts' own {version} addresses "
                    f"(/{bits}), no network around them",
                    f"write '{cut}' if that was meant; if a network was, its real prefix "
                    "length instead",
                    col, word, col, col + len(word), cut)
    if kind not in _MAX_BITS or sep != ":" or not arg:
        return None
    address, slash, length = arg.partition("/")
    head = f"{qualifier}{name}"
    other = "ip6" if kind == "ip4" else "ip4"
    if _is_address(address, other):
        new = f"{qualifier}{other}:{arg}"
        if is_term(new):
            return Edit("SPF-E213", f"'{shorten(address)}' is an {_version_name(other)} address "
                        f"but is written with '{name}:'; the record is rejected (permerror)",
                        f"write '{new}'", col, word, col, col + len(word), new)
    if kind == "ip4" and re.fullmatch(r"\d+(\.\d+){3}", address):
        octets = [int(o) for o in address.split(".")]
        if all(o <= 255 for o in octets) and address != ".".join(map(str, octets)):
            new = f"{head}:{'.'.join(map(str, octets))}{slash}{length}"
            return Edit("SPF-E219", f"'{address}' has leading zeros; SPF allows none (§5.6), "
                        "and some software would read '010' as octal 8, so the record is "
                        "rejected (permerror)", f"write '{new}' (check that is the address "
                        "you meant)", col, word, col, col + len(word), new)
    limit = _MAX_BITS[kind]
    if slash and length.isdigit() and int(length) > limit and _is_address(address, kind):
        new = f"{head}:{address}"
        # §5.6: no length fits "/33"; the fix reads it as one address, and says so, since
        # "10.0.0.0/33" may as well be a mistyped network: the fix must not narrow silently
        return Edit("SPF-E212", f"/{length} is longer than the {limit} bits of an "
                    f"{_version_name(kind)} address, so the record is rejected (permerror). "
                    f"The corrected record has '{new}', which authorises only that one "
                    f"address (/{limit})", f"write '{new}' if one address was meant; if a "
                    f"network was, its real prefix length instead (e.g. '{head}:{address}/"
                    f"{24 if kind == 'ip4' else 48}')", col, word, col, col + len(word), new)
    if not _is_address(address, kind):
        return Edit("SPF-E211", f"'{shorten(address)}' is not an {_version_name(kind)} address"
                    + (" (each of the four numbers must be 0–255)" if kind == "ip4" else "")
                    + "; receivers reject the whole record (permerror)",
                    "there is no safe automatic fix: write the address you meant, or remove "
                    f"the '{shorten(word)}' term", col, word)
    return None


def _version_name(kind: str) -> str:
    return "IPv4" if kind == "ip4" else "IPv6"


def _is_address(text: str, kind: str) -> bool:
    try:
        if kind == "ip4":
            return re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", text) is not None and \
                str(IPv4Address(text)) == text
        return bool(text) and "%" not in text and IPv6Address(text) is not None
    except (AddressValueError, ValueError):
        return False


def _spelling(word: str, col: int, following: tuple[str, int] | None,
              error: RecordSyntaxError) -> Edit | None:
    """§5, §6: a misspelt mechanism name, or a modifier written with ':' instead of '='."""
    parts = _split_name(word)
    if parts is None:
        return None
    qualifier, name, sep, arg = parts
    meant = meant_name(name, address=arg)
    if meant is None and name.lower() in MODIFIER_NAMES and sep == ":":
        new = f"{name}={arg}"
        return Edit("SPF-E210", f"'{shorten(word)}' writes the '{name}' modifier like a "
                    f"mechanism; modifiers take '=' (§6), so receivers reject the record",
                    f"write '{shorten(new)}'", col, word, col, col + len(word), new)
    if meant is None and name.lower() in MECHANISMS and sep == "=":
        new = f"{qualifier}{name}:{arg}"
        return Edit("SPF-E209", f"'{shorten(word)}' writes the '{name}' mechanism with '=' "
                    "like a modifier; mechanisms take ':' (§5), and with a qualifier this is "
                    "not even a valid modifier, so receivers reject the record",
                    f"write '{shorten(new)}'", col, word, col, col + len(word), new)
    if meant is None:
        return None
    if meant in MODIFIER_NAMES:
        new = f"{meant}={arg}"
    else:
        new = f"{qualifier}{meant}{':' if sep == '=' else sep}{arg}"
    return Edit("SPF-E208", f"'{name}' is not a mechanism SPF knows; it looks like a misspelt "
                f"'{meant}'. Receivers reject a record with an unknown mechanism (§5, permerror)",
                f"write '{shorten(new)}'", col, word, col, col + len(word), new)


def _colon(word: str, col: int, following: tuple[str, int] | None,
           error: RecordSyntaxError) -> Edit | None:
    """§5.3, §5.4: "a:"/"mx:" need a domain after ':' — or no ':' at all."""
    parts = _split_name(word)
    if parts is None or parts[2] != ":":
        return None
    qualifier, name, _, arg = parts
    if not arg and following is not None and not is_term(following[0]) \
            and is_term(word + following[0]):
        end = following[1] + len(following[0])
        return Edit("SPF-E216", f"there is a space after '{shorten(word)}'; the space ends the "
                    f"term, so '{shorten(following[0])}' is read as a term of its own and the "
                    "record is rejected (permerror)", f"remove the space: "
                    f"'{shorten(word + following[0])}'", col + len(word), word,
                    col, end, word + following[0])
    if name.lower() in ("a", "mx") and (not arg or arg.startswith("/")):
        new = f"{qualifier}{name}{arg}"
        return Edit("SPF-E215", f"'{shorten(word)}' has ':' but no domain after it; the "
                    "record is rejected (permerror)", f"write '{new}' for the domain's own "
                    f"name, or '{qualifier}{name}:example.com' for another",
                    col, word, col, col + len(word), new)
    return None


def _qualifier_alone(word: str, col: int, following: tuple[str, int] | None,
                     error: RecordSyntaxError) -> Edit | None:
    """§4.6.2: the qualifier is written directly before its mechanism ("-all", not "- all")."""
    if word not in ("+", "-", "~", "?") or following is None:
        return None
    if not is_term(word + following[0]):
        return None
    end = following[1] + len(following[0])
    return Edit("SPF-E217", f"the qualifier '{word}' stands alone, separated from "
                f"'{shorten(following[0])}' by a space; the record is rejected (permerror)",
                f"write '{shorten(word + following[0])}'", col, word, col, end,
                word + following[0])


def _run_together(word: str, col: int, following: tuple[str, int] | None,
                  error: RecordSyntaxError) -> Edit | None:
    """§4.6.1: two valid terms with the space between them lost ("mxinclude:…")."""
    if len(word) > 300:
        return None
    for k in range(1, len(word)):
        left, right = word[:k], word[k:]
        if starts_term(right) and is_term(left) and is_term(right):
            return Edit("SPF-E218", f"'{shorten(word)}' is two terms without a space between "
                        f"them ('{shorten(left)}' and '{shorten(right)}'); the record is "
                        "rejected (permerror)", f"put a space between them: "
                        f"'{shorten(left)} {shorten(right)}'", col + k, word,
                        col + k, col + k, " ")
    return None


def _bare_target(word: str, col: int, following: tuple[str, int] | None,
                 error: RecordSyntaxError) -> Edit | None:
    """§5: a domain or an address written alone, without "include:", "ip4:" or "ip6:"."""
    qualifier = word[0] if word[0] in "+-~?" else ""
    bare = word[len(qualifier):]
    address, _, length = bare.partition("/")
    if _is_address(address, "ip4") or ":" in address and _is_address(address, "ip6"):
        kind = "ip4" if "." in address and ":" not in address else "ip6"
        new = f"{qualifier}{kind}:{bare}"
        what, meant = f"an {_version_name(kind)} address", f"'{shorten(new)}'"
    elif _DOMAIN.fullmatch(bare) and not length:
        what = "a domain name"
        if _HOST_LABEL.fullmatch(bare.split(".", 1)[0]):  # "mail.example.com": one server
            new = f"{qualifier}a:{bare}"
            meant = (f"'{shorten(new)}' (its addresses; write 'include:{shorten(bare)}' "
                     "instead if it names a provider's SPF record)")
        else:
            new = f"{qualifier}include:{bare}"
            meant = (f"'{shorten(new)}' (a provider's SPF record; write 'a:{shorten(bare)}' "
                     "instead if it is one mail server's host name)")
    else:
        return None
    if not is_term(new):
        return None
    return Edit("SPF-E222", f"'{shorten(word)}' is {what} without a mechanism before it; "
                "receivers reject a record with an unknown term (§5, permerror)",
                f"write {meant}", col, word, col, col + len(word), new)


def _stuck_to_all(word: str, col: int, following: tuple[str, int] | None,
                  error: RecordSyntaxError) -> Edit | None:
    """§5.1: "all" takes no argument; text glued to it ("~allCOPY") was copied along."""
    match = _STUCK_TO_ALL.fullmatch(word)
    if match is None or match.group(2)[0] in ":=/" or is_term(match.group(2)):
        return None
    kept, junk = match.group(1), match.group(2)
    return Edit("SPF-E223", f"'{shorten(word)}' is '{kept}' with '{shorten(junk)}' stuck to "
                "it (text copied along with the record, such as a 'Copy' button's label); "
                "receivers reject the record (§5, permerror)", f"write '{kept}'",
                col + len(kept), word, col + len(kept), col + len(word), "")
