"""The verifier's report: three checks of one message, in words and as JSON.

A receiver checks the MAIL FROM identity (RFC 7208 §2.4; Sender ID scope ``mfrom``,
RFC 4406 §4), the HELO identity (RFC 7208 §2.3) and the Purported Responsible Address
(RFC 4407 §2; Sender ID scope ``pra``).  :func:`build_report` turns the three
:class:`~spfkit.results.CheckResult` values into :class:`Report` sections: the result, the
identity, the header fields a receiver would add (RFC 7208 §9.1 ``Received-SPF``,
RFC 8601 ``Authentication-Results``), the records fetched (trace ``record`` events), what
the result means (:mod:`spfkit.responder.advice`) and the lint findings for the domains
involved.  :func:`render_text` and :func:`as_json` present it.

Pure: imports no asyncio, socket or dnspython.  Header fields are built by
:mod:`spfkit.headers` (every value through its sanitiser); text that came from the message,
the client or DNS is shown in the body with its control characters escaped (:func:`shown`);
the JSON holds only valid Unicode, so its text is valid UTF-8 (RFC 8259 §8.1): octets of the
message that were not UTF-8 are escaped there as in the text (:func:`as_json`).

The ``mfrom`` check is SPF's (RFC 7208 §2.4), the result DMARC uses (RFC 7489 §4.1) and the
header fields show; Sender ID's ``mfrom`` scope (RFC 4406 §4), which reads ``spf2.0``
records, is shown beside it where it differs (:attr:`CheckSection.senderid`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from spfkit import visible
from spfkit.headers import HeaderField, authentication_results, received_spf
from spfkit.identity import Identity, subject_for
from spfkit.lint.findings import Finding
from spfkit.responder.advice import CheckName, meaning
from spfkit.responder.received import Origin, Source
from spfkit.results import CheckResult, Result, TraceKind
from spfkit.senderid.pra import PRAResult
from spfkit.visible import json_safe, visible_text

__all__ = ["CheckSection", "FetchedRecord", "Report", "ReportInputs", "as_json", "build_report",
           "json_text", "render_text", "shown"]

_WIDTH: Final = 76
_TITLES: Final[dict[CheckName, str]] = {
    "mfrom": "MAIL FROM (RFC 7208 §2.4; Sender ID scope mfrom, RFC 4406)",
    "helo": "HELO (RFC 7208 §2.3)",
    "pra": "Purported Responsible Address (RFC 4407 §2; Sender ID scope pra, RFC 4406)",
}


@dataclass(frozen=True, slots=True)
class FetchedRecord:
    """A record check_host() selected on its way (``text`` None: the domain has none)."""

    domain: str
    text: str | None
    depth: int = 0


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Everything the report shows; the checks were run by the caller."""

    ip: Origin
    helo: Origin
    mail_from: Origin
    receiver: str
    pra: PRAResult
    #: MAIL FROM with Sender ID's mfrom scope (RFC 4406 §4: spf2.0/mfrom records first)
    mfrom_result: CheckResult
    helo_result: CheckResult
    pra_result: CheckResult
    #: MAIL FROM as RFC 7208 receivers check it (no scope: spf2.0 records unseen); None: same
    spf_mfrom_result: CheckResult | None = None
    #: lint findings per domain, in the order the domains were involved
    findings: Mapping[str, Sequence[Finding]] = field(default_factory=dict)
    #: domains whose lint could not run, and why
    lint_errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckSection:
    """One check as the report shows it."""

    name: CheckName
    title: str
    identity: str | None  # the <sender> checked; None when there is no PRA
    domain: str  # the <domain> checked ("" when nothing could be checked)
    source: str  # where the identity came from, in words ("the From: header")
    result: CheckResult  # mfrom: the RFC 7208 result (what DMARC and the headers use)
    headers: tuple[HeaderField, ...]
    records: tuple[FetchedRecord, ...]
    meaning: str
    reason: str | None = None  # pra: why no PRA was found
    problems: tuple[str, ...] = ()  # pra: what RFC 4407 §2 ignored or tolerated
    #: mfrom: Sender ID's mfrom scope (RFC 4406 §4), when an spf2.0 record makes it differ
    senderid: CheckResult | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """The whole report (frozen); ``checks`` in the order mfrom, helo, pra."""

    ip: Origin
    helo: Origin
    mail_from: Origin
    receiver: str
    pra: PRAResult
    checks: tuple[CheckSection, CheckSection, CheckSection]
    findings: tuple[tuple[str, tuple[Finding, ...]], ...]
    lint_errors: tuple[tuple[str, str], ...] = ()

    def check(self, name: CheckName) -> CheckSection:
        return next(c for c in self.checks if c.name == name)


def _records(result: CheckResult) -> tuple[FetchedRecord, ...]:
    """The records check_host() selected, from the trace (RFC 7208 §4.4–§4.5)."""
    fetched = [FetchedRecord(e.domain, e.text, e.depth) for e in result.trace
               if e.kind is TraceKind.RECORD]
    if result.result is Result.NONE and result.domain and not fetched:
        fetched.append(FetchedRecord(result.domain, None))
    return tuple(fetched)


def _differs(a: CheckResult, b: CheckResult) -> bool:
    """Did two checks of one identity end differently or read different records?"""
    return a.result is not b.result or _records(a) != _records(b)


def build_report(inputs: ReportInputs) -> Report:
    """The report for three finished checks; pure."""
    ip, helo, mail_from = inputs.ip.value, inputs.helo.value, inputs.mail_from.value
    receiver, pra = inputs.receiver, inputs.pra
    checked = subject_for(Identity.MAILFROM, mail_from, helo)
    mfrom_sender, mfrom_domain = checked.sender, checked.domain
    mfrom_source = inputs.mail_from.description
    if not mail_from:
        mfrom_source += " (the null reverse-path: postmaster@HELO is checked, RFC 7208 §2.4)"

    def section(name: CheckName, result: CheckResult, identity: str | None, domain: str,
                source: str, headers: tuple[HeaderField, ...]) -> CheckSection:
        return CheckSection(
            name=name, title=_TITLES[name], identity=identity, domain=domain, source=source,
            result=result, headers=headers, records=_records(result),
            meaning=meaning(name, result.result, shown(identity or ""), shown(domain)),
        )

    # The SPF result is RFC 7208's: the one DMARC aligns on (RFC 7489 §4.1) and receivers
    # write into the header fields.  Sender ID's mfrom scope (RFC 4406 §4) only differs where
    # an spf2.0 record covers mfrom; RFC 7208 receivers never read those records.
    spf = inputs.spf_mfrom_result or inputs.mfrom_result
    mfrom = section(
        "mfrom", spf, mfrom_sender, mfrom_domain, mfrom_source,
        (
            received_spf(spf, client_ip=ip, identity=Identity.MAILFROM,
                         envelope_from=mail_from, helo=helo or None, receiver=receiver),
            authentication_results(spf, authserv_id=receiver, identity=Identity.MAILFROM,
                                   envelope_from=mail_from, helo=helo or None),
        ),
    )
    if _differs(spf, inputs.mfrom_result):
        mfrom = replace(mfrom, senderid=inputs.mfrom_result)
    helo_check = section(
        "helo", inputs.helo_result, helo, helo, inputs.helo.description,
        (
            received_spf(inputs.helo_result, client_ip=ip, identity=Identity.HELO,
                         envelope_from=None, helo=helo, receiver=receiver),
            authentication_results(inputs.helo_result, authserv_id=receiver,
                                   identity=Identity.HELO, envelope_from=None, helo=helo),
        ),
    )
    pra_source = (f"the {pra.header}: header (RFC 4407 §2)" if pra.header
                  else "nowhere: the message has no PRA (RFC 4407 §2 step 6)")
    pra_check = section(
        "pra", inputs.pra_result, pra.address, pra.domain or "", pra_source,
        (
            authentication_results(inputs.pra_result, authserv_id=receiver,
                                   identity=Identity.PRA, envelope_from=mail_from, helo=helo,
                                   pra=pra.address, pra_header=pra.header or "from"),
        ),
    )
    pra_check = replace(pra_check, reason=pra.reason, problems=pra.problems)
    findings = tuple((domain, tuple(items)) for domain, items in inputs.findings.items())
    return Report(inputs.ip, inputs.helo, inputs.mail_from, receiver, pra,
                  (mfrom, helo_check, pra_check), findings, tuple(inputs.lint_errors.items()))


# --------------------------------------------------------------------------- JSON


def _origin(origin: Origin) -> dict[str, object]:
    out: dict[str, object] = {"value": origin.value, "source": origin.source.value}
    if origin.header is not None and origin.header.hop is not None:
        hop = origin.header.hop
        out["header"] = {
            "index": hop.index, "count": hop.count, "by": hop.by, "from": hop.text,
            "passed": [{"index": p.hop.index, "by": p.hop.by, "from": p.hop.text,
                        "ip": p.hop.client.ip if p.hop.client else None, "why": p.why}
                       for p in origin.header.passed],
        }
    return out


def _records_json(result: CheckResult) -> list[dict[str, object]]:
    return [{"domain": f.domain, "record": f.text, "depth": f.depth} for f in _records(result)]


def _scope_json(result: CheckResult, same: bool) -> dict[str, object]:
    return {"result": result.result.value, "same": same, "domain": result.domain,
            "mechanism": result.mechanism, "problem": result.problem,
            "records": _records_json(result)}


def _check_json(section: CheckSection) -> dict[str, object]:
    r = section.result
    out: dict[str, object] = {
        "result": r.result.value,
        "identity": section.identity,
        "domain": section.domain or None,
        "source": section.source,
        "mechanism": r.mechanism,
        "explanation": r.explanation,
        "problem": r.problem,
        "lookups": r.lookups,
        "void_lookups": r.void_lookups,
        "headers": [str(h) for h in section.headers],
        "records": _records_json(section.result),
        "meaning": section.meaning,
    }
    return out


def as_json(report: Report) -> dict[str, object]:
    """A JSON-ready dict: ``mfrom``, ``helo`` and ``pra`` objects, each with at least
    ``result`` and ``identity``; ``pra`` has ``reason`` (why no PRA, else null); ``mfrom``
    is RFC 7208's, with ``senderid`` (RFC 4406 mfrom scope) and ``rfc7208`` beside it.

    Every string is valid Unicode (RFC 8259 §8.1): see :func:`spfkit.visible.json_safe`."""
    out: dict[str, object] = {
        "receiver": report.receiver,
        "ip": _origin(report.ip),
        "helo_name": _origin(report.helo),
        "mail_from": _origin(report.mail_from),
    }
    mfrom, pra = report.check("mfrom"), report.pra
    same = mfrom.senderid is None
    out["mfrom"] = {**_check_json(mfrom),
                    "rfc7208": _scope_json(mfrom.result, same),
                    "senderid": _scope_json(mfrom.senderid or mfrom.result, same)}
    out["helo"] = _check_json(report.check("helo"))
    out["pra"] = {**_check_json(report.check("pra")), "header": pra.header,
                  "reason": pra.reason, "problems": list(pra.problems), "step": pra.step}
    out["lint"] = {domain: [f.as_dict() for f in items] for domain, items in report.findings}
    out["lint_errors"] = dict(report.lint_errors)
    return {key: json_safe(value) for key, value in out.items()}


def json_text(report: Report) -> str:
    """The report as JSON text (:func:`as_json`, indented, non-ASCII as is): valid UTF-8."""
    return visible.json_text(as_json(report))


# --------------------------------------------------------------------------- text


#: text from the message, the client or DNS as the report shows it (records whole)
shown = visible_text


def _wrap(text: str, indent: str = "  ", hang: int = 0) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent,
                         subsequent_indent=indent + " " * hang, break_on_hyphens=False,
                         break_long_words=False) or [indent.rstrip()]


def _header_lines(header: HeaderField) -> list[str]:
    return ["  " + line for line in header.fold(_WIDTH - 2).split("\r\n")]


def _envelope_lines(report: Report) -> list[str]:
    pra = report.check("pra")
    rows = [
        ("client IP", report.ip.value, report.ip.description),
        ("HELO name", report.helo.value, "the same Received: header"
         if report.helo.header is not None and report.helo.header == report.ip.header
         and report.ip.source is Source.RECEIVED else report.helo.description),
        ("MAIL FROM", f"<{report.mail_from.value}>", report.mail_from.description),
        ("PRA", pra.identity or "(none)", pra.source if pra.identity else "see pra below"),
    ]
    lines = [f"  {label:<10} {shown(value):<30} {'from ' if value != '(none)' else ''}{source}"
             for label, value, source in rows]
    header = report.ip.header if report.ip.source is Source.RECEIVED else None
    if header is not None and header.hop is not None:
        hop = header.hop
        by = f" (by {shown(hop.by)})" if hop.by else ""
        lines[1:1] = _wrap(f"Received: header {hop.index}{by}: from {shown(hop.text or '')}",
                           " " * 13, 2)
        lines[1:1] = [line for p in header.passed for line in _wrap(
            f"passed: header {p.hop.index}{f' (by {shown(p.hop.by)})' if p.hop.by else ''}"
            f"{f' from {p.hop.client.ip}' if p.hop.client and p.hop.client.ip else ''}: "
            f"{p.why}", " " * 13, 2)]
    return lines


def _section_lines(section: CheckSection) -> list[str]:
    r = section.result
    heading = f"{section.name}: {r.result.value}"
    lines = ["", heading, "-" * len(heading)]
    lines.append(f"  {section.title}")
    lines.append(f"  identity:   {shown(section.identity or '(none)')}")
    lines.append(f"  taken from: {section.source}")
    if section.domain:
        lines.append(f"  domain:     {shown(section.domain)}")
    if r.mechanism == "default":
        lines.append(f"  decided by: no mechanism matched in the record of {shown(r.domain)} "
                     "(§4.7)")
    elif r.mechanism:
        lines.append(f"  decided by: {shown(r.mechanism)} in the record of {shown(r.domain)}")
    if section.senderid is not None:
        sid = section.senderid
        lines.extend(_wrap(
            f"Sender ID:  {sid.result.value} for receivers that apply Sender ID's mfrom scope "
            f"(RFC 4406 §4), which reads spf2.0 records first: decided by "
            f"{shown(sid.mechanism or 'no record')} in the record of {shown(sid.domain)}; "
            "SPF (RFC 7208) and DMARC never read spf2.0 records: the result above, the "
            "records and the header fields below are theirs", hang=12))
    if r.problem:
        lines.extend(_wrap(f"problem:    {shown(r.problem)}", hang=12))
    if r.explanation:
        lines.extend(_wrap(f"explanation: {shown(r.explanation)}", hang=13))
    for problem in section.problems:
        lines.extend(_wrap(f"note:       {shown(problem)}", hang=12))
    lines.append("  records fetched:")
    if not section.records:
        lines.append("    (none)")
    lines.extend(_record_lines(section.records))
    if section.senderid is not None:
        lines.append("  records fetched by Sender ID (mfrom scope):")
        lines.extend(_record_lines(_records(section.senderid)) or ["    (none)"])
    lines.append("  header a receiver would add:")
    for header in section.headers:
        lines.extend("  " + line for line in _header_lines(header))
    lines.append("  what it means:")
    lines.extend(_wrap(section.meaning, "    "))
    return lines


def _record_lines(records: Sequence[FetchedRecord]) -> list[str]:
    lines = []
    for rec in records:
        text = f'"{shown(rec.text)}"' if rec.text is not None else "(no SPF record)"
        lines.append(f"    {'  ' * rec.depth}{shown(rec.domain)}: {text}")
    return lines


def _lint_lines(report: Report) -> list[str]:
    lines = ["", "Lint findings for the records involved", "-" * 38]
    if not report.findings and not report.lint_errors:
        lines.append("  (no domain to lint)")
    for domain, findings in report.findings:
        if not findings:
            lines.append(f"  {shown(domain)}: no findings")
            continue
        lines.append(f"  {shown(domain)}:")
        for f in findings:
            where = f" ({shown(f.term)})" if f.term else ""
            lines.extend(_wrap(f"{f.severity.value} {f.code}{where}: {shown(f.message)} "
                               f"[RFC {f.rfc}]", "    "))
            lines.extend(_wrap(f"fix: {shown(f.fix)}", "      "))
    for domain, error in report.lint_errors:
        lines.append(f"  {shown(domain)}: not linted ({shown(error)})")
    return lines


def render_text(report: Report) -> str:
    """The report as plain text, for people (and the body of the verifier's reply)."""
    lines = [f"Authentication report from {shown(report.receiver)}", "",
             "The message was checked as a receiving mail server would check it:"]
    lines.extend(_envelope_lines(report))
    lines += ["", "Summary:"]
    for section in report.checks:
        lines.append(f"  {section.name:<6} {section.result.result.value:<10} "
                     f"{shown(section.identity or '(no PRA)')}")
        if section.senderid is not None:
            lines.append(f"  {'':<6} {section.senderid.result.value:<10} "
                         "(Sender ID mfrom scope, RFC 4406 §4; SPF is the line above)")
    for section in report.checks:
        lines.extend(_section_lines(section))
    lines.extend(_lint_lines(report))
    return "\n".join(lines) + "\n"
