"""What one line of a decision log, or the trace headers of one message, say about one check.

Pure parsers (no I/O), each → :class:`Observation` values (identity, result, domain, time):

* :func:`from_log_line` — ``spfkit policyd``'s decision lines (``SPF <result>: client=…
  identity=…``), behind a syslog, ISO 8601 or Python-logging timestamp, or none;
* :func:`from_milter_line` — ``spfkit milter``'s line per message (``client=… helo=…
  envelope-from=…: helo=… mailfrom=… sender-id=… pra=…; action=…``): one observation per
  identity it checked;
* :func:`from_headers` — ``Received-SPF:`` (RFC 7208 §9.1) and ``Authentication-Results:``
  (RFC 8601 §2.7.2: ``spf``, ``sender-id``) fields of one message, topmost first. A message
  counts once per identity, from the topmost receiver only: trace fields are prepended (RFC
  5321 §4.4), so the first field names the receiver (``receiver=`` of Received-SPF, the
  authserv-id of Authentication-Results) and fields of other receivers further down the path
  are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

from spfkit.results import Result

__all__ = ["Observation", "from_headers", "from_log_line", "from_milter_line", "parse_time"]

_RESULTS: Final = frozenset(r.value for r in Result)
#: "SPF fail: client=…" (policyd's decision line; "SPF skipped"/"no verdict" carry no result)
_LINE: Final = re.compile(r"\bSPF (?P<result>[a-z]+): (?P<rest>client=.*)$")
_KEY: Final = re.compile(r"(?:^|\s)(?P<key>[a-z][a-z-]*)=(?P<value>\"(?:[^\"\\]|\\.)*\"|[^\s;:]+)")
_SYSLOG_TIME: Final = re.compile(r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d)\b")
_ISO_TIME: Final = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(?:[.,]\d+)?(?P<tz>Z|[+-]\d\d:?\d\d)?")
_MONTHS: Final = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_IDENTITIES: Final = {"mailfrom": "mailfrom", "helo": "helo", "pra": "pra"}


@dataclass(frozen=True, slots=True)
class Observation:
    """One check's outcome as recorded: ``identity`` is ``mailfrom``, ``helo`` or ``pra``."""

    identity: str
    result: str  # a Result token
    domain: str | None = None  # the checked identity's domain
    when: datetime | None = None


def parse_time(line: str, year: int | None = None) -> datetime | None:
    """The timestamp a log line starts with (ISO 8601 / Python logging, or syslog's
    ``Mmm dd hh:mm:ss`` in ``year``, default this year), in UTC when a zone is given."""
    if m := _ISO_TIME.match(line):
        when = datetime.fromisoformat(m.group("stamp").replace(" ", "T"))
        tz = m.group("tz")
        if tz:
            tz = "+00:00" if tz == "Z" else tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
            when = datetime.fromisoformat(when.isoformat() + tz).astimezone(timezone.utc).replace(tzinfo=None)
        return when
    if m := _SYSLOG_TIME.match(line):
        month = _MONTHS.get(m.group("mon"))
        if month is None:
            return None
        hh, mm, ss = (int(x) for x in m.group("hms").split(":"))
        return datetime(year or datetime.now().year, month, int(m.group("day")), hh, mm, ss)
    return None


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _keys(text: str) -> dict[str, str]:
    return {m.group("key").lower(): _unquote(m.group("value")) for m in _KEY.finditer(text)}


def _domain_of(address: str | None) -> str | None:
    if not address or address == "<>":
        return None
    return address.rpartition("@")[2].strip("<>").rstrip(".").lower() or None


def from_log_line(line: str, *, year: int | None = None) -> Observation | None:
    """The check a decision line reports, or None for any other line."""
    m = _LINE.search(line)
    if m is None or m.group("result") not in _RESULTS:
        return None
    keys = _keys(m.group("rest").split(": ", 1)[0])
    identity = _IDENTITIES.get(keys.get("identity", ""))
    if identity is None:
        return None
    domain = _domain_of(keys.get("envelope-from")) if identity == "mailfrom" else keys.get("helo")
    return Observation(identity, m.group("result"), domain.lower() if domain else None,
                       parse_time(line, year))


#: the milter's message line: the envelope, ": ", the results, "; action=" (milter/session.py)
_MILTER: Final = re.compile(r"\bspfkit-milter\[\d+\]: (?P<envelope>client=\S*.*?envelope-from=\S*)"
                            r"(?: queue-id=\S+)?: (?P<results>.*); action=(?P<action>.*)$")
_MILTER_RESULT: Final = re.compile(r"(?:^|\s)(?P<key>helo|mailfrom|sender-id)=(?P<result>[a-z]+)\b")


def from_milter_line(line: str, *, year: int | None = None) -> list[Observation]:
    """The checks the milter's line about one message reports (none for other lines, none
    for the extra "test-only: would be …" line, so a message counts once, and none for a
    transaction the client aborted: no mail was received)."""
    m = _MILTER.search(line)
    if m is None or m.group("action").startswith(("test-only:", "aborted")):
        return []
    keys = _keys(m.group("envelope"))
    when = parse_time(line, year)
    found: list[Observation] = []
    for r in _MILTER_RESULT.finditer(m.group("results")):
        result = r.group("result")
        if result not in _RESULTS:
            continue
        key = r.group("key")
        if key == "sender-id":
            pra = _keys(m.group("results")).get("pra")
            found.append(Observation("pra", result, _domain_of(pra if pra != "none" else None),
                                     when))
        elif key == "helo":
            helo = keys.get("helo")
            found.append(Observation("helo", result, helo.lower() if helo else None, when))
        else:
            found.append(Observation("mailfrom", result, _domain_of(keys.get("envelope-from")),
                                     when))
    return found


def _received_spf(value: str) -> tuple[str, list[Observation]]:
    """RFC 7208 §9.1: ``result [comment] key=value; …`` → (receiver, observations)."""
    head = value.strip().split(None, 1)
    if not head or head[0].lower() not in _RESULTS:
        return "", []
    keys = _keys(re.sub(r"\([^()]*\)", " ", value))
    identity = _IDENTITIES.get(keys.get("identity", "mailfrom").lower(), "mailfrom")
    domain = _domain_of(keys.get("envelope-from")) if identity != "helo" else keys.get("helo")
    return keys.get("receiver", "").lower(), [Observation(identity, head[0].lower(),
                                                          domain.lower() if domain else None)]


_AR_METHOD: Final = re.compile(r"(?:^|;)\s*(?P<method>spf|sender-id|senderid)\s*=\s*(?P<result>[a-z]+)"
                               r"(?P<props>[^;]*)", re.IGNORECASE)


def _authentication_results(value: str) -> tuple[str, list[Observation]]:
    """RFC 8601 §2.2, §2.7.2: ``authserv-id; spf=pass smtp.mailfrom=…; sender-id=… header.from=…``."""
    found: list[Observation] = []
    authserv = value.split(";", 1)[0].split()[0].lower() if value.split(";", 1)[0].split() else ""
    for m in _AR_METHOD.finditer(re.sub(r"\([^()]*\)", " ", value)):
        result = m.group("result").lower()
        if result not in _RESULTS:
            continue
        props = {k.lower(): v for k, v in re.findall(r"([a-z]+\.[a-z-]+)=(\S+)", m.group("props"), re.IGNORECASE)}
        if m.group("method").lower() == "spf":
            if "smtp.helo" in props and "smtp.mailfrom" not in props:
                found.append(Observation("helo", result, props["smtp.helo"].lower()))
            else:
                found.append(Observation("mailfrom", result, _domain_of(props.get("smtp.mailfrom"))))
        else:
            pra = next((v for k, v in props.items() if k.startswith("header.")), None)
            found.append(Observation("pra", result, _domain_of(pra)))
    return authserv, found


def from_headers(fields: Iterable[tuple[str, str]], when: datetime | None = None) -> list[Observation]:
    """The checks a message's trace fields report, at most one per identity (see the module doc)."""
    seen: dict[str, Observation] = {}
    top: str | None = None  # the receiver of the first field counted
    for name, value in fields:
        lowered = name.lower()
        if lowered == "received-spf":
            receiver, found = _received_spf(value)
        elif lowered == "authentication-results":
            receiver, found = _authentication_results(value)
        else:
            continue
        if not found:
            continue
        if top is None:
            top = receiver
        elif receiver and top and receiver != top:
            continue  # a receiver further down the path
        for obs in found:
            seen.setdefault(obs.identity, Observation(obs.identity, obs.result, obs.domain, when))
    return list(seen.values())
