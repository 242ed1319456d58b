"""policyd-spf's configuration file (Debian's ``postfix-policyd-spf-python``), read as spfkit's.

The format, as policyd-spf's own reader defines it: one ``Name = value`` per line; ``#`` starts
a comment anywhere in a line; name and value are stripped of blanks and the value is never
quoted; lists are comma-separated. policyd-spf skips, with only a log line, a line it cannot
split in two at ``=`` and a name it does not know; spfkit reports each as an error with its
line number, like every other mistake.

:func:`detect` tells this format from TOML; :func:`translate` turns a file into spfkit option
values **with policyd-spf's meaning** (its defaults where the file is silent and they differ
from spfkit's, ``TestOnly`` the other way round, only ``True`` true for ``PermError_reject``);
each option whose meaning changed or that does not apply gets a :class:`Remark`, and each one
spfkit cannot honour an error saying what to use instead. :func:`to_toml` writes the same
configuration as spfkit's TOML (``spfkit policyd --import``), a comment per remark.

Pure: imports no asyncio, socket or dnspython; reads no file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from spfkit.policy._options import OPTIONS, HeaderKind, ListenAddress

__all__ = ["Format", "Remark", "Translation", "detect", "is_blank", "to_toml", "toml_only",
           "translate"]


class Format(StrEnum):
    """The two configuration formats ``--config`` reads."""

    TOML = "TOML"
    POLICYD_SPF = "policyd-spf"


@dataclass(frozen=True, slots=True)
class Remark:
    """A note or an error about one option: ``line`` 0 when it is about a default."""

    line: int
    key: str
    text: str


@dataclass(frozen=True, slots=True)
class Translation:
    """A policyd-spf file as spfkit option values (canonical keys, in file order)."""

    data: Mapping[str, object]
    lines: Mapping[str, int]
    notes: tuple[Remark, ...]
    errors: tuple[Remark, ...]


class _Refused(Exception):
    """An option spfkit cannot honour; the text says what to use instead."""


_LINE: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=([^=]*)$")
#: a table, a quoted value, an inline array or table: TOML's own syntax
_TOML_ONLY: Final = re.compile(r"""^\s*(\[|[^=]*=\s*["'\[{])""")
_CANONICAL: Final = {option.key.lower(): option for option in OPTIONS}

# policyd-spf's defaults (its defaultConfigData) where they differ from spfkit's: a file that
# leaves them out meant these.
_DEFAULTS: Final[Mapping[str, tuple[object, str]]] = {
    "TempError_Defer": (False, "policyd-spf's default (False); spfkit's own default is true"),
    "Hide_Receiver": (False, "policyd-spf's default (No); spfkit's own default is true"),
}


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, the line without its comment) for each line with something on it."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append((number, line))
    return out


def is_blank(text: str) -> bool:
    """Nothing but comments and blank lines: a file of either format that sets nothing (for
    policyd-spf, every option at its own default)."""
    return not _lines(text)


def toml_only(text: str) -> bool:
    """Some line has TOML's own syntax (a table, a quoted value, an array): the text cannot be
    policyd-spf's format."""
    return any(_TOML_ONLY.match(line) for _, line in _lines(text))


def detect(text: str) -> Format:
    """policyd-spf's format when no line has TOML's own syntax (a table, a quoted value, an
    array), some line has policyd-spf's (``Name = value``), and the file is not valid TOML or
    names ``TestOnly`` (which TOML files cannot use); else TOML. Lines of neither shape are
    then reported as policyd-spf's errors, each with its number.

    A valid TOML file of bare numbers and booleans reads the same either way but for the
    defaults, and is taken as TOML (what ``--import`` writes must load as TOML).
    """
    lines = _lines(text)
    if toml_only(text) or not any(_LINE.match(line) for _, line in lines):
        return Format.TOML
    import tomllib

    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return Format.POLICYD_SPF
    names = {m.group(1).lower() for _, line in lines if (m := _LINE.match(line))}
    return Format.POLICYD_SPF if names & {"testonly", "defaultseedonly"} else Format.TOML


# -- a function per policyd-spf option whose value or meaning differs: value → (key, value, note)
_Rule = Callable[[str], tuple[str | None, object, str]]


def _debug_level(value: str) -> tuple[str | None, object, str]:
    if re.fullmatch(r"-?\d+", value):
        level = int(value)
        if level < 0:
            return "debugLevel", 0, (f"policyd-spf's {level} (log nothing, not even errors) "
                                     "is 0 here: errors and warnings only")
        if level > 5:
            return "debugLevel", 5, f"{level} logs no more than 5 in policyd-spf: 5"
    return "debugLevel", value, ""


def _test_only(value: str) -> tuple[str | None, object, str]:
    if not re.fullmatch(r"-?\d+", value):
        raise _Refused(f"expected 1 (act on results) or 0 (test only), got {value!r}")
    test = int(value) == 0  # policyd-spf: only 0 means "never reject or defer"
    return "test_only", test, (f"policyd-spf's TestOnly = {value} is test_only = "
                               f"{str(test).lower()} (the other way round)")


def _exactly_true(name: str) -> _Rule:
    def rule(value: str) -> tuple[str | None, object, str]:
        note = ""
        if value not in ("True", "False"):
            note = f"policyd-spf treats only 'True' as true, so {value!r} meant false"
        return name, value == "True", note

    return rule


def _reject_policy(name: str, values: tuple[str, ...]) -> _Rule:
    """``HELO_reject`` / ``Mail_From_reject``: policyd-spf compares the value as written, and
    one it does not know rejects no result (only ``PermError_reject`` and ``TempError_Defer``
    still act): no spfkit value means that, so such a file is refused, not read otherwise."""
    def rule(value: str) -> tuple[str | None, object, str]:
        if value in values:
            return name, value, ""
        meant = next((known for known in values if known.lower() == value.lower()), None)
        why = (f"policyd-spf compares it as written, so {value!r} (not {meant!r})" if meant else
               f"{value!r} is not one of {', '.join(values)}: policyd-spf")
        raise _Refused(f"{why} rejects no result there; write the value you mean")

    return rule


def _hide_receiver(value: str) -> tuple[str | None, object, str]:
    note = "" if value in ("Yes", "No") else \
        f"policyd-spf hides the receiver for anything but 'No' ({value!r})"
    return "Hide_Receiver", value != "No", note


def _authserv_id(value: str) -> tuple[str | None, object, str]:
    if value == "HOSTNAME":
        return "Authserv_Id", "", "HOSTNAME (this host's name) is spfkit's default: empty"
    return "Authserv_Id", value, ""


def _enhanced_codes(value: str) -> tuple[str | None, object, str]:
    if value == "No":
        raise _Refused("not supported: spfkit always answers with RFC 7372 codes "
                       "(5.7.23, 5.7.24, 4.7.24)")
    return None, None, "not applicable: RFC 7372 codes are always used"


def _no_mail(value: str) -> tuple[str | None, object, str]:
    if value == "True":
        raise _Refused("not supported: spfkit rejects by result (HELO_reject, Mail_From_reject, "
                       "[actions]), not by the shape of the record")
    return None, None, "not applicable: False is policyd-spf's default, normal SPF processing"


def _mock(value: str) -> tuple[str | None, object, str]:
    raise _Refused("not supported: policyd-spf runs as a mock instance for any value here (even "
                   "False); spfkit needs no mock instance: drop the second check_policy_service")


def _noted(text: str) -> _Rule:
    def rule(value: str) -> tuple[str | None, object, str]:
        return None, None, text

    return rule


def _refused(text: str) -> _Rule:
    def rule(value: str) -> tuple[str | None, object, str]:
        raise _Refused(text)

    return rule


_MILTER: Final = _noted("not applicable: an option of policyd-spf's milter front end, ignored "
                        "by the policy server")
_RULES: Final[Mapping[str, _Rule]] = {
    "debuglevel": _debug_level,
    "testonly": _test_only,
    "defaultseedonly": _noted("not imported: policyd-spf reads TestOnly (default 1) instead of "
                              "this old name"),
    "permerror_reject": _exactly_true("PermError_reject"),
    "temperror_defer": _exactly_true("TempError_Defer"),
    "hide_receiver": _hide_receiver,
    "helo_reject": _reject_policy("HELO_reject", ("Fail", "Softfail", "SPF_Not_Pass", "Null",
                                                  "False", "No_Check")),
    # policyd-spf's Null is a HELO policy: its MAIL FROM code has no branch for it
    "mail_from_reject": _reject_policy("Mail_From_reject", ("Fail", "Softfail", "SPF_Not_Pass",
                                                            "False", "No_Check")),
    "authserv_id": _authserv_id,
    "spf_enhanced_status_codes": _enhanced_codes,
    "no_mail": _no_mail,
    "mock": _mock,
    "whitelist_lookup_time": _noted("not applicable: the trusted-relay tests share Lookup_Time "
                                    "and deadline"),
    "reason_message": _noted("not applicable: replies carry RFC 7372 codes and the domain's "
                             "explanation"),
    "queueid": _noted("not applicable: policyd-spf's reader ignores this name; spfkit's log "
                      "lines always carry the queue id"),
    "per_user": _refused("not supported: per-recipient settings; run one spfkit policyd per "
                         "policy, each with its own --config, chosen by a Postfix restriction "
                         "class"),
    "prospective": _refused("not supported: to test outbound mail use `spfkit check IP SENDER`"),
    "helo_pass_restriction": _refused("not supported: list your restriction after "
                                      "check_policy_service"),
    "mail_from_pass_restriction": _refused("not supported: list your restriction after "
                                           "check_policy_service"),
    **{name: _MILTER for name in ("socket", "pidfile", "userid", "umask", "internalhosts",
                                  "inthosts", "macrolist")},
}


def translate(text: str) -> Translation:
    """``text`` in policyd-spf's format → spfkit option values, notes and errors (module doc)."""
    data: dict[str, object] = {}
    lines: dict[str, int] = {}
    notes: list[Remark] = []
    errors: list[Remark] = []
    seen: dict[str, int] = {}  # each name (lower case) → its first line
    for number, line in _lines(text):
        match = _LINE.match(line)
        if match is None:
            count = line.count("=")
            why = ("no '=' on this line" if not count else "more than one '=' on this line"
                   if count > 1 else f"{line.partition('=')[0].strip()!r} is not an option name")
            errors.append(Remark(number, "", f"expected Name = value: {why}"))
            continue
        name, value = match.group(1), match.group(2).strip()
        if (first := seen.setdefault(name.lower(), number)) != number:
            # names are matched without regard to case, as in TOML files
            errors.append(Remark(number, name, f"given twice (first on line {first})"))
            continue
        rule = _RULES.get(name.lower())
        try:
            key, converted, note = rule(value) if rule else (name, value, "")
        except _Refused as exc:
            errors.append(Remark(number, name, str(exc)))
            continue
        if note:
            notes.append(Remark(number, name, note))
        if key is None:
            continue
        key = _CANONICAL[key.lower()].key if key.lower() in _CANONICAL else key
        data[key] = converted
        lines[key] = number
    for key, (value, why) in _DEFAULTS.items():
        if key not in data:
            data[key] = value
            notes.append(Remark(0, key, why))
    return Translation(data, lines, tuple(notes), tuple(errors))


def _toml_value(key: str, value: object) -> str:
    import json  # only --import writes TOML: not on the policy server's start-up path

    if isinstance(value, bool):
        return str(value).lower()
    if key == "socket_mode" and isinstance(value, int):
        return f'"{value:04o}"'
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if key == "Header_Type" and isinstance(value, tuple):
        kinds = set(value)
        return json.dumps("both" if len(kinds) == 2 else "none" if not kinds else
                          "SPF" if HeaderKind.RECEIVED_SPF in kinds else "AR")
    if isinstance(value, tuple):
        return "[" + ", ".join(json.dumps(str(item)) for item in value) + "]"
    if value is None:
        return '""'
    if isinstance(value, StrEnum | ListenAddress):
        return json.dumps(str(value))
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(translation: Translation, source: str) -> str:
    """The translated file as spfkit's TOML, a comment per note (values as spfkit parses them).

    Raises ``ValueError`` for a value spfkit does not accept (load the file first to report them).
    """
    out = [f"# spfkit policyd configuration, imported from {source} (policyd-spf's format)",
           "# by `spfkit policyd --import`. Every option is in docs/policyd.md.", ""]
    pending = list(translation.notes)
    for key, raw in translation.data.items():
        option = _CANONICAL[key.lower()]
        line = translation.lines.get(key, 0)
        for note in [n for n in pending if (n.line == line if line else n.key == key)]:
            pending.remove(note)
            where = f"line {note.line}" if note.line else "not in the file"
            out.append(f"# {note.key} ({where}): {note.text}")
        value = option.parse(raw)
        if isinstance(value, tuple) and isinstance(raw, str) and key != "Header_Type":
            value = tuple(item.strip() for item in raw.split(",") if item.strip())  # as written
        out.append(f"{option.key} = {_toml_value(option.key, value)}")
    if pending:
        out += ["", "# Options left out:"]
        out += [f"# {note.key} (line {note.line}): {note.text}" for note in pending]
    return "\n".join(out) + "\n"
