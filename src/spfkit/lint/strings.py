"""How a record is cut into DNS character-strings, and how big it is (RFC 7208 §3.3, §3.4).

§3.3: "If a published record contains multiple character-strings, then the record MUST be
treated as if those strings are concatenated together without adding spaces." A string
holds at most 255 octets (RFC 1035 §3.3), so long records are split — and a split that
drops the space between two terms, or adds one inside a term, changes the record.
§3.4: the name and its TXT records ought to stay under 450 octets to fit a UDP answer.
Pure: no I/O imports.
"""

from __future__ import annotations

import re
from typing import Final

from spfkit.errors import RecordSyntaxError, shorten
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding
from spfkit.lint.repairs import Edit, starts_term
from spfkit.lint.spelling import is_term
from spfkit.record.parse import parse_record
from spfkit.record.select import decode_record

__all__ = ["MAX_STRING", "UDP_SAFE", "size_rules", "split_rules", "zone_strings"]

#: RFC 1035 §3.3: a <character-string> is one length octet and at most 255 octets
MAX_STRING: Final = 255
#: §3.4: "If the size of the DNS message, the combined length of the DNS name and the text of
#: all the records of a given type is under 450 octets, then DNS answers ought to fit in UDP"
UDP_SAFE: Final = 450


def zone_strings(text: str) -> str:
    """``text`` as zone-file character-strings of at most 255 octets, split after spaces."""
    chunks: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > MAX_STRING:
        cut = MAX_STRING
        while len(rest[:cut].encode("utf-8")) > MAX_STRING:
            cut -= 1
        space = rest.rfind(" ", 0, cut)
        cut = space + 1 if space > 0 else cut
        chunks.append(rest[:cut])
        rest = rest[cut:]
    chunks.append(rest)
    return _quoted(chunks)


def _quoted(chunks: list[str]) -> str:
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def _is_version(word: str) -> bool:
    try:
        return not parse_record(word).terms
    except RecordSyntaxError:
        return False


def _valid(word: str, first: bool) -> bool:
    return _is_version(word) if first else is_term(word)


def _parses(text: str) -> bool:
    try:
        parse_record(text)
    except RecordSyntaxError:
        return False
    return True


def split_rules(
    text: str, strings: tuple[bytes, ...], domain: str | None
) -> tuple[list[Edit], list[Finding]]:
    """§3.3: edits that repair splits which lose or add a space, and other string findings.

    The edits are in ``text``'s columns, right to left, so they can be applied in order.
    """
    out: list[Finding] = []
    decoded = [decode_record(s) for s in strings]
    offset = 0
    for data, part in zip(strings, decoded):
        if len(data) > MAX_STRING:
            out.append(finding(
                "SPF-E110", f"a character-string of {len(data)} octets: DNS cannot carry "
                f"more than {MAX_STRING} octets in one string, so the zone tool that made it "
                "mis-handles TXT records (the record may be cut or refused)",
                f"publish the record as several strings: {zone_strings(text)}",
                domain=domain, column=offset))
        offset += len(part)
    if "".join(decoded) != text:
        return [], out
    ends: dict[int, int] = {}
    offset = 0
    for index, part in enumerate(decoded[:-1]):
        offset += len(part)
        ends.setdefault(offset, index)
    fixed = list(decoded)
    edits: list[Edit] = []
    for b in sorted((b for b in ends if 0 < b < len(text)), reverse=True):
        index = ends[b]
        edit = _lost_space(text, b, domain, out)
        if edit is None:
            edit = _added_space(text, b)
            if edit is not None:
                if fixed[index].endswith(" "):
                    fixed[index] = fixed[index][:-1]
                else:
                    fixed[index + 1] = fixed[index + 1][1:]
        else:
            fixed[index] += " "
        if edit is not None:
            edits.append(edit)
    corrected = _quoted(fixed)
    return [Edit(e.code, e.message, f"{e.fix}: {corrected}", e.column, e.term, e.start, e.end,
                 e.new) for e in edits], out


def _lost_space(text: str, b: int, domain: str | None, out: list[Finding]) -> Edit | None:
    if text[b - 1] == " " or text[b] == " ":
        return None
    start = text.rfind(" ", 0, b) + 1
    end = text.find(" ", b)
    end = len(text) if end < 0 else end
    left, right, whole = text[start:b], text[b:end], text[start:end]
    first = start == 0
    if not (_valid(left, first) and is_term(right)):
        return None
    if not _valid(whole, first):
        return Edit(
            "SPF-E112", f"one character-string ends with '{shorten(left)}' and the next "
            f"starts with '{shorten(right)}'. Strings are joined without adding a space "
            f"(§3.3), so receivers read '{shorten(whole)}' and reject the record",
            "end the first string with a space", b, whole, b, b, " ")
    if starts_term(right) and not re.fullmatch(r"[0-9A-Fa-f:./]+", right):
        fixed = text[:b] + " " + text[b:]
        out.append(finding(
            "SPF-W113", f"one character-string ends with '{shorten(left)}' and the next "
            f"starts with '{shorten(right)}'; joined without a space (§3.3) they read "
            f"'{shorten(whole)}'. If two terms were meant, a space was lost",
            "if two terms were meant, end the first string with a space", domain=domain,
            column=b, term=whole, fixed_record=fixed if _parses(fixed) else None))
    return None


def _added_space(text: str, b: int) -> Edit | None:
    if text[b - 1] == " " and text[b] != " " and (b < 2 or text[b - 2] != " "):
        space = b - 1
    elif text[b] == " " and text[b - 1] != " " and b + 1 < len(text) and text[b + 1] != " ":
        space = b
    else:
        return None
    start = text.rfind(" ", 0, space) + 1
    end = text.find(" ", space + 1)
    end = len(text) if end < 0 else end
    left, right = text[start:space], text[space + 1:end]
    if not left or not right:
        return None
    first = start == 0
    if (_valid(left, first) and is_term(right)) or not _valid(left + right, first):
        return None
    return Edit(
        "SPF-E112", f"a space was added where two character-strings meet: '{shorten(left)}' "
        f"and '{shorten(right)}' are one term, '{shorten(left + right)}', cut in two (§3.3: "
        "strings are joined as they are), so receivers reject the record",
        "split the strings without the extra space", space, left + " " + right,
        space, space + 1, "")


def size_rules(original: str, text: str, strings: tuple[bytes, ...] | None,
               domain: str | None, rrset_octets: int | None) -> list[Finding]:
    """§3.3: a record over 255 octets needs several strings; §3.4: the 450-octet guideline."""
    out: list[Finding] = []
    octets = len(original.encode("utf-8"))
    if strings is None and octets > MAX_STRING:
        out.append(finding(
            "SPF-I111", f"the record is {octets} octets long; one DNS character-string holds "
            f"at most {MAX_STRING}, so it must be published as several strings, which "
            "receivers join without spaces (§3.3)",
            f"publish it as: {zone_strings(text)}", domain=domain))
    total = (rrset_octets if rrset_octets is not None else octets) + len(domain or "")
    if total >= UDP_SAFE:
        over = (" — over 512 octets, the classic DNS-over-UDP limit: receivers must retry "
                "over TCP (or use EDNS0), and some fail with temperror") if total > 512 else ""
        out.append(finding(
            "SPF-W114", f"the name and its TXT records come to {total} octets; RFC 7208 §3.4 "
            f"says answers ought to fit in UDP only when this is under {UDP_SAFE}{over}",
            "shorten the record: move networks into an include: on a subdomain, remove "
            "unused terms, or remove other TXT records at this name", domain=domain))
    return out
