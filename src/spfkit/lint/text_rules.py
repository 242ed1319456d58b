"""Rules on one published TXT record: its text and its strings (RFC 7208 §3.1–§3.4, §4.5).

The record is parsed by the real parser (:func:`spfkit.record.parse_record`). Before that,
text that is never right in a record is repaired — quotes around it (§4.5), look-alike and
full-width characters (§3.1), tabs and exotic spaces (§4.6.1), a string split that loses or
adds a space (§3.3) — and after it, each :class:`RecordSyntaxError` is handed to
:mod:`spfkit.lint.repairs` for one targeted fix, and the text is parsed again, until it
parses or no safe fix is known. Every repair is its own finding, with the column of the
problem in the *original* text; ``fixed_record`` is the repaired text, given only when it
parses. The string-split and size rules are in :mod:`spfkit.lint.strings`.
Pure: no I/O imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from spfkit.errors import RecordSyntaxError, shorten
from spfkit.lint.codes import finding
from spfkit.lint.findings import Finding
from spfkit.lint.pasted import identify
from spfkit.lint.repairs import Edit, repair
from spfkit.lint.spelling import INVISIBLE, QUOTES, SPACES, ascii_for, char_name
from spfkit.lint.strings import size_rules, split_rules
from spfkit.record.model import Record
from spfkit.record.parse import parse_record

__all__ = ["TextCheck", "check_text"]

_MAX_REPAIRS: Final = 40


@dataclass(frozen=True, slots=True)
class TextCheck:
    """What the text rules found, and the record they could parse (repaired or not).

    ``record`` is None when the text could not be repaired into a record. ``origin[i]`` is
    the column in the original text of column ``i`` of ``record.text``, so rules over the
    parsed record can report columns of the text as published.
    """

    findings: tuple[Finding, ...]
    record: Record | None
    origin: tuple[int, ...]

    @property
    def repaired(self) -> bool:
        """Whether the record had to be repaired to parse (or to be clean)."""
        return any(f.fixed_record is not None for f in self.findings)

    def original_column(self, column: int | None) -> int | None:
        if column is None or not self.origin:
            return column
        return self.origin[min(column, len(self.origin) - 1)]


class _Editor:
    """The text being repaired, with the original column of each of its characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.origin = list(range(len(text) + 1))

    def replace(self, start: int, end: int, new: str) -> None:
        if end - start == len(new):
            mapped = self.origin[start:end]
        else:
            mapped = [self.origin[start]] * len(new)
        self.text = self.text[:start] + new + self.text[end:]
        self.origin = self.origin[:start] + mapped + self.origin[end:]


@dataclass(frozen=True, slots=True)
class _Pending:
    """A repair made; its finding gets ``fixed_record`` once the whole text parses."""

    code: str
    message: str
    fix: str
    column: int
    term: str | None


def check_text(
    text: str,
    *,
    domain: str | None = None,
    strings: tuple[bytes, ...] | None = None,
    rrset_octets: int | None = None,
) -> TextCheck:
    """Lint one record text; ``strings`` are its DNS character-strings when known.

    ``rrset_octets`` is the size of all TXT records at the name (for §3.4); by default the
    size of this record alone. Without ``strings`` the text was typed or pasted (``lint
    --record``, the wizard), so quotation marks around it are read as dig's (SPF-I220).
    """
    if (pasted := _pasted(text, domain)) is not None:
        return TextCheck((pasted,), None, ())
    ed = _Editor(text)
    pending: list[_Pending] = []
    out: list[Finding] = []
    if strings is not None:
        edits, found = split_rules(text, strings, domain)
        out += found
        for edit in edits:  # right to left, so the columns of the rest stay valid
            pending.append(_Pending(edit.code, edit.message, edit.fix, edit.column, edit.term))
            ed.replace(edit.start, edit.end, edit.new or "")
    _quotes(ed, pending, presented=strings is None)
    _characters(ed, pending)
    _spaces(ed, pending)
    record, last = _parse_and_repair(ed, pending)
    fixed = ed.text if record is not None else None
    findings = [
        finding(p.code, p.message, p.fix, domain=domain, column=p.column, term=p.term,
                fixed_record=fixed)
        for p in pending
    ]
    if last is not None:
        findings.append(_unfixable(last, ed, domain))
    findings.extend(out)
    findings.extend(size_rules(text, fixed or text, strings, domain, rrset_octets))
    return TextCheck(tuple(findings), record, tuple(ed.origin) if record is not None else ())


def _parse_and_repair(ed: _Editor, pending: list[_Pending]) -> tuple[Record | None, Edit | None]:
    """Parse; on each error apply one repair and parse again (§12 via the real parser)."""
    for _ in range(_MAX_REPAIRS):
        try:
            return parse_record(ed.text), None
        except RecordSyntaxError as exc:
            edit = repair(ed.text, exc)
            if edit is None or edit.new is None:
                return None, edit or _generic(exc)
            before = ed.text
            pending.append(_Pending(edit.code, edit.message, edit.fix,
                                    ed.origin[min(edit.column, len(ed.text))], edit.term))
            ed.replace(edit.start, edit.end, edit.new)
            if ed.text == before:  # pragma: no cover - every repair changes the text
                return None, _generic(exc)
    try:
        return parse_record(ed.text), None
    except RecordSyntaxError as exc:
        return None, _generic(exc)


def _generic(exc: RecordSyntaxError) -> Edit:
    """A problem the parser found and no repair knows: its reason, and no automatic fix."""
    if exc.rfc == "4.5" or not exc.term and exc.column == 0:
        effect = "receivers do not recognise it as an SPF record (result none, §4.5)"
    else:
        effect = "receivers reject the whole record (permerror)"
    where = f" in '{shorten(exc.term)}'" if exc.term else ""
    return Edit("SPF-E299", f"{exc.reason}{where}; {effect}",
                f"there is no automatic fix: correct this by hand (RFC 7208 §{exc.rfc})",
                exc.column, exc.term, rfc=f"7208 §{exc.rfc}")


def _unfixable(edit: Edit, ed: _Editor, domain: str | None) -> Finding:
    column = ed.origin[min(edit.column, len(ed.text))]
    return finding(edit.code, edit.message, edit.fix, domain=domain, column=column,
                   term=edit.term or None, rfc=edit.rfc)


def _pasted(text: str, domain: str | None) -> Finding | None:
    """§4.5: a DKIM key, a DMARC policy or a verification token where the SPF record belongs."""
    stripped = text.strip().strip("".join(QUOTES)).strip()
    foreign = identify(stripped)
    if foreign is None:
        return None
    return finding(
        "SPF-E221", f"this is not an SPF record but {foreign.what}: '{shorten(stripped, 50)}'. "
        "Receivers only use a TXT record that begins with 'v=spf1' (§4.5), so as an SPF "
        "record it does nothing", f"publish it as {foreign.belongs}, and give the SPF record "
        "its own TXT record starting with 'v=spf1' (e.g. 'v=spf1 mx ~all')",
        domain=domain, column=0, term=shorten(stripped, 50))


# -- §3.1, §4.5, §4.6.1: characters that are never right ----------------------------------------


def _quotes(ed: _Editor, pending: list[_Pending], *, presented: bool) -> None:
    """§4.5: quotation marks are zone-file syntax; inside the text they hide "v=spf1".

    ``presented``: the text was pasted, not read from DNS, so quoted strings around it are
    how dig and zone files print a TXT record (§3.3), not part of it: a note, not an error.
    """
    text = ed.text
    if not any(ch in QUOTES for ch in text):
        return
    segments = _quoted_segments(text)
    cuts: list[tuple[int, int]] = []
    if segments is not None:
        cuts.append((0, segments[0][0] + 1))
        cuts.extend((close, following + 1)
                    for (_, close), (following, _) in pairwise(segments))
        cuts.append((segments[-1][1], len(text)))
        if len(segments) == 1:
            message = (f"the record is wrapped in quotation marks ({text[segments[0][0]]}…"
                       f"{text[segments[0][1]]}); they are published as part of the text, "
                       "so it does not start with 'v=spf1' and receivers ignore it (§4.5)")
        else:
            message = ("the text contains zone-file quoting (\"…\" \"…\"): the quotation "
                       "marks and the spaces between them are published as part of the "
                       "record, so receivers do not recognise it (§4.5)")
        fix = ("remove the quotation marks; in a zone file each string goes between plain "
               "\" \", in a DNS provider's web form paste the record without quotes")
        if presented and all(text[o] == '"' == text[c] for o, c in segments):
            joined = (" (and its strings joined without spaces, as receivers join them, "
                      "§3.3)")
            message = ("the text is in quotation marks, as dig and zone files print a TXT "
                       "record; they are not part of the record, so they were removed "
                       f"before linting{joined if len(segments) > 1 else ''}")
            fix = ("nothing, if the record is published without them; in a DNS provider's "
                   "web form paste the text without the quotation marks (some forms publish "
                   "them as part of it)")
            pending.append(_Pending("SPF-I220", message, fix, ed.origin[segments[0][0]], '"'))
            for start, end in sorted(cuts, reverse=True):
                ed.replace(start, end, "")
            return
    else:
        lead = re.match(r" *[" + re.escape("".join(QUOTES)) + r"]+", text)
        tail = re.search(r"[" + re.escape("".join(QUOTES)) + r"]+ *\Z", text)
        if lead:
            cuts.append((0, lead.end()))
        if tail and (not lead or tail.start() >= lead.end()):
            cuts.append((tail.start(), len(text)))
        if not cuts:
            return
        message = ("the record starts or ends with a quotation mark, which is published as "
                   "part of the text; receivers do not recognise it or reject it (§4.5)")
        fix = "remove the quotation marks"
    first = next(i for i, ch in enumerate(text) if ch in QUOTES)
    pending.append(_Pending("SPF-E201", message, fix, ed.origin[first], text[first]))
    for start, end in sorted(cuts, reverse=True):
        ed.replace(start, end, "")


def _quoted_segments(text: str) -> list[tuple[int, int]] | None:
    """The (open, close) quote positions when ``text`` is only quoted strings and spaces."""
    segments: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i == n:
            break
        if text[i] not in QUOTES:
            return None
        close = next((j for j in range(i + 1, n) if text[j] in QUOTES), None)
        if close is None:
            return None
        segments.append((i, close))
        i = close + 1
    return segments or None


def _characters(ed: _Editor, pending: list[_Pending]) -> None:
    """§3.1 (US-ASCII), §4.6.1 (SP only): look-alikes, full-width forms, exotic spaces."""
    groups: dict[tuple[str, str], list[int]] = {}
    replacement: dict[str, str] = {}
    for i, ch in enumerate(ed.text):
        if ch == " " or ch.isascii() and ch.isprintable():
            continue
        if ch in INVISIBLE:
            code, new = "SPF-E203", ""
        elif ch in SPACES:
            code, new = "SPF-E203", " "
        elif (mapped := ascii_for(ch)) is not None:
            code, new = "SPF-E202", mapped
        else:
            continue
        groups.setdefault((code, ch), []).append(i)
        replacement[ch] = new
    wide = [key for key in groups if _full_width(key[1])]
    if len(wide) > 1:  # typed with a full-width input method: one finding, not one a letter
        places = sorted(i for key in wide for i in groups.pop(key))
        pending.append(_Pending("SPF-E202", _full_width_message(ed.text, places), "retype "
                                "the record with the input method in half-width (direct, "
                                "ASCII) mode, or paste the corrected record",
                                ed.origin[places[0]], None))
        for i in places:
            ed.replace(i, i + 1, replacement[ed.text[i]])
    for (code, ch), places in groups.items():
        times = f" ({len(places)} times)" if len(places) > 1 else ""
        if code == "SPF-E202":
            message = (f"{char_name(ch)} looks like '{replacement[ch]}' but is not ASCII"
                       f"{times}; SPF records are plain US-ASCII (§3.1), so receivers reject "
                       "or ignore the record")
            fix = f"type '{replacement[ch]}' (ASCII) instead; word processors and chat tools "\
                  "replace characters like this"
        else:
            what = "an invisible character" if ch in INVISIBLE else "a tab, line break or "\
                "non-ASCII space"
            message = (f"{what}, {char_name(ch)}{times}, stands where only a plain space "
                       "may (§4.6.1); receivers reject or ignore the record")
            fix = "use single ASCII spaces between terms" if replacement[ch] else \
                "delete the invisible character"
        pending.append(_Pending(code, message, fix, ed.origin[places[0]], None))
    for i in sorted((i for places in groups.values() for i in places), reverse=True):
        ed.replace(i, i + 1, replacement[ed.text[i]])


def _full_width(ch: str) -> bool:
    """A character of an East Asian input method's full-width mode (U+FF01–FF5E, U+3000)."""
    return "\uff01" <= ch <= "\uff5e" or ch == "\u3000"


def _full_width_message(text: str, places: list[int]) -> str:
    sample = "".join(text[i] for i in places[:6])
    return (f"the record is typed in full-width characters ({len(places)} of them, "
            f"'{sample}…'), which look like ASCII letters, digits and spaces but are not; "
            "SPF records are plain US-ASCII (§3.1), so receivers ignore the record or "
            "reject it")


def _spaces(ed: _Editor, pending: list[_Pending]) -> None:
    """§4.5: nothing before the version; §4.6.1: one space between terms (more is legal)."""
    lead = re.match(r" +", ed.text)
    if lead:
        pending.append(_Pending(
            "SPF-E204", "the record starts with a space, so it does not begin with 'v=spf1' "
            "and receivers ignore it (§4.5: the result is none)", "remove the leading space",
            ed.origin[0], None))
        ed.replace(0, lead.end(), "")
    tail = re.search(r" +\Z", ed.text)
    if tail and tail.start() > 0:
        pending.append(_Pending(
            "SPF-I205", "the record ends with a space. RFC 7208 allows it (§4.5 'record = "
            "version terms *SP'), but some older receivers mis-parse it", "remove the "
            "trailing space", ed.origin[tail.start()], None))
        ed.replace(tail.start(), tail.end(), "")
    doubled = list(re.finditer(r"  +", ed.text))
    if doubled:
        times = f" ({len(doubled)} places)" if len(doubled) > 1 else ""
        pending.append(_Pending(
            "SPF-I206", f"more than one space between terms{times}. RFC 7208 allows it "
            "(§4.6.1), but some receivers and tools mis-parse it", "use one space between "
            "terms", ed.origin[doubled[0].start()], None))
        for match in reversed(doubled):
            ed.replace(match.start(), match.end(), " ")
