"""The option table of ``spfkit policyd``: each name, the attribute it sets, and its parser.

Every value type an option may hold is declared here too: the policy enums and the
:class:`ListenAddress` of ``listen`` / ``--listen`` (:func:`parse_listen`).

Parsers take what TOML gives (or a command-line value) and return the typed value, raising
``ValueError`` with a message that ``config.ConfigError`` prefixes with the file and the key.
Lists may be TOML arrays or, as policyd-spf writes them, one comma-separated string.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from types import MappingProxyType
from typing import Final, TypeVar

from spfkit.evaluate.options import FetchOrder
from spfkit.identity import Identity, is_valid_domain
from spfkit.macros import parse_macro_string
from spfkit.results import Result

__all__ = [
    "OPTIONS",
    "UNSUPPORTED",
    "Fallback",
    "HeaderKind",
    "ListenAddress",
    "Option",
    "RejectPolicy",
    "Verdict",
    "parse_actions",
    "parse_listen",
]

E = TypeVar("E", bound=StrEnum)


class Verdict(StrEnum):
    """What local policy does with one SPF result (RFC 7208 §8)."""

    ACCEPT = "accept"  # let it through, with the header
    REJECT = "reject"  # 550 5.7.23 (5.7.24 for permerror), RFC 7372
    DEFER = "defer"  # 451 4.7.24 (4.7.23 for a deferred fail-like result)


class Fallback(StrEnum):
    """The answer when no verdict could be reached in time, or at all."""

    DUNNO = "dunno"  # Postfix goes on with its next restriction: the mail is not held up
    DEFER = "defer"  # 451: the client tries again later


class HeaderKind(StrEnum):
    """A trace header field the server can have Postfix prepend."""

    RECEIVED_SPF = "Received-SPF"  # RFC 7208 §9.1
    AUTHENTICATION_RESULTS = "Authentication-Results"  # RFC 8601


class RejectPolicy(StrEnum):
    """policyd-spf's ``HELO_reject`` / ``Mail_From_reject`` values."""

    FAIL = "Fail"  # reject fail
    SOFTFAIL = "Softfail"  # reject fail and softfail
    SPF_NOT_PASS = "SPF_Not_Pass"  # reject fail, softfail and neutral
    NULL = "Null"  # HELO only: reject a HELO fail only for the null sender
    FALSE = "False"  # never reject or defer; headers only
    NO_CHECK = "No_Check"  # do not check this identity


_SYSLOG_FACILITIES: Final = frozenset(
    {"mail", "daemon", "user", "auth", "authpriv", "local0", "local1", "local2", "local3",
     "local4", "local5", "local6", "local7"}
)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _choice(enum: type[E], aliases: Mapping[str, E] | None = None) -> Callable[[object], E]:
    names = {member.value.lower(): member for member in enum}
    names.update({alias.lower(): member for alias, member in (aliases or {}).items()})

    def parse(value: object) -> E:
        if isinstance(value, str) and value.strip().lower() in names:
            return names[value.strip().lower()]
        choices = ", ".join(member.value for member in enum)
        raise ValueError(f"{value!r} is not one of {choices}")

    return parse


def _number(value: object) -> object:
    """A number given as text (``"20"``: policyd-spf's files, or a quoted TOML value) → int/float."""
    if isinstance(value, str):
        text = value.strip()
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return value


def _seconds(maximum: float | None = None, why: str = "") -> Callable[[object], float]:
    def parse(value: object) -> float:
        value = _number(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number of seconds, got {value!r}")
        if not value > 0:
            raise ValueError("must be more than 0 seconds")
        if maximum is not None and value >= maximum:
            raise ValueError(f"must be less than {maximum:g} seconds{why}")
        return float(value)

    return parse


def _integer(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        value = _number(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _items(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise ValueError(f"expected a list of strings (or one comma-separated string), got {value!r}")


def _networks(value: object) -> tuple[IPv4Network | IPv6Network, ...]:
    out = []
    for item in _items(value):
        try:
            out.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(out)


def _domains(value: object) -> tuple[str, ...]:
    out = []
    for item in _items(value):
        name = item.lower().rstrip(".")
        if not is_valid_domain(name):
            raise ValueError(f"{item!r} is not a domain name")
        out.append(name)
    return tuple(out)


def _nameservers(value: object) -> tuple[str, ...]:
    from spfkit.lookup.nameserver import Nameserver  # no I/O: only the address syntax

    items = _items(value)
    for item in items:
        Nameserver.parse(item)  # ValueError names the bad entry
    return tuple(items)


def _paths(value: object) -> tuple[str, ...]:
    return tuple(_items(value))


def _text(what: str, *, spaces: bool = False) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected {what}, got {value!r}")
        text = value.strip()
        if any(unicodedata.category(c).startswith(("C", "Z")) and not (spaces and c == " ")
               for c in text) or len(text) > 255:
            raise ValueError(f"{value!r} is not {what} (no controls{'' if spaces else ', no spaces'},"
                             " at most 255 characters)")
        return text

    return parse


def _explanation(value: object) -> str:
    text = _text("an explanation", spaces=True)(value)
    parse_macro_string(text, explanation=True)  # MacroSyntaxError is a ValueError
    return text


def _header_type(value: object) -> tuple[HeaderKind, ...]:
    words = {
        "spf": (HeaderKind.RECEIVED_SPF,),
        "received-spf": (HeaderKind.RECEIVED_SPF,),
        "ar": (HeaderKind.AUTHENTICATION_RESULTS,),
        "authentication-results": (HeaderKind.AUTHENTICATION_RESULTS,),
        "both": (HeaderKind.RECEIVED_SPF, HeaderKind.AUTHENTICATION_RESULTS),
        "none": (),
    }
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise ValueError(f"{value!r} is not one of SPF (Received-SPF), AR (Authentication-Results),"
                     " both, none")


def _mode(value: object) -> int:
    if isinstance(value, str) and value.strip() and set(value.strip()) <= set("01234567"):
        value = int(value.strip(), 8)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o777:
        raise ValueError(f"expected permission bits such as \"0660\" or 0o660, got {value!r}")
    return value


def _log(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() in ("auto", "syslog", "stderr"):
        return value.strip().lower()
    if isinstance(value, str) and value.startswith("/"):
        return value
    raise ValueError(f"{value!r} is not one of auto, syslog, stderr or an absolute file path")


def _facility(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() in _SYSLOG_FACILITIES:
        return value.strip().lower()
    raise ValueError(f"{value!r} is not a syslog facility ({', '.join(sorted(_SYSLOG_FACILITIES))})")


def _syslog_address(value: object) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("expected a socket path such as /dev/log, or HOST:PORT")


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where the long-running server listens: TCP ``host``:``port`` or a UNIX ``path``."""

    host: str = ""
    port: int = 0
    path: str = ""

    @property
    def is_unix(self) -> bool:
        return bool(self.path)

    def __str__(self) -> str:
        if self.path:
            return f"unix:{self.path}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(spec: str) -> ListenAddress:
    """``127.0.0.1:10023``, ``[::1]:10023``, ``inet:127.0.0.1:10023`` or ``unix:/path``.

    The host must be an IP address (a name would need DNS before the server runs). Port 0
    picks a free port. Raises ``ValueError`` for anything else.
    """
    text = spec.strip()
    if text.startswith("unix:"):
        path = text[5:]
        if not path.startswith("/"):
            raise ValueError(f"{spec!r}: a UNIX socket needs an absolute path (unix:/path)")
        return ListenAddress(path=path)
    text = text.removeprefix("inet:")
    if text.startswith("["):
        host, close, rest = text[1:].partition("]")
        if not close or not rest.startswith(":"):
            raise ValueError(f"{spec!r}: expected [IPv6]:PORT")
        port = rest[1:]
    else:
        host, colon, port = text.rpartition(":")
        if not colon or ":" in host:
            raise ValueError(f"{spec!r}: expected HOST:PORT, [IPv6]:PORT or unix:/path")
    try:
        ip_address(host)
    except ValueError:
        raise ValueError(f"{spec!r}: {host!r} is not an IP address") from None
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{spec!r}: the port must be 0-65535")
    return ListenAddress(host=host, port=int(port))


def _listen(value: object) -> ListenAddress | None:
    if not isinstance(value, str):
        raise ValueError(f"expected an address such as 127.0.0.1:10023 or unix:/path, got {value!r}")
    return parse_listen(value) if value.strip() else None


def parse_actions(value: object) -> Mapping[Identity, Mapping[Result, Verdict]]:
    """The ``[actions]`` table: ``[actions.helo]`` / ``[actions.mailfrom]``, result = verdict."""
    if not isinstance(value, dict):
        raise ValueError("expected a table with helo and mailfrom sub-tables")
    parse_verdict = _choice(Verdict)
    out: dict[Identity, Mapping[Result, Verdict]] = {}
    for name, table in value.items():
        identity = {"helo": Identity.HELO, "mailfrom": Identity.MAILFROM}.get(name.lower())
        if identity is None:
            raise ValueError(f"unknown identity {name!r}: use helo or mailfrom")
        if not isinstance(table, dict):
            raise ValueError(f"{name}: expected a table of result = action")
        verdicts: dict[Result, Verdict] = {}
        for result_name, verdict in table.items():
            try:
                result = Result(result_name.lower())
            except ValueError:
                results = ", ".join(r.value for r in Result)
                raise ValueError(f"{name}.{result_name}: not an SPF result ({results})") from None
            try:
                verdicts[result] = parse_verdict(verdict)
            except ValueError as exc:
                raise ValueError(f"{name}.{result_name}: {exc}") from None
        if verdicts:
            out[identity] = MappingProxyType(verdicts)
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its canonical ``key``, the PolicyConfig ``attribute`` and its parser."""

    key: str
    parse: Callable[[object], object]

    @property
    def attribute(self) -> str:
        return self.key.lower()


#: Postfix's smtpd_policy_service_timeout default: an answer later than this is never read.
_POSTFIX_TIMEOUT: Final = 100
_BELOW_POSTFIX: Final = (f" (Postfix's smtpd_policy_service_timeout is {_POSTFIX_TIMEOUT} s"
                          " by default)")

OPTIONS: Final[tuple[Option, ...]] = (
    Option("HELO_reject", _choice(RejectPolicy)),
    Option("Mail_From_reject", _choice(RejectPolicy)),
    Option("PermError_reject", _bool),
    Option("TempError_Defer", _bool),
    Option("actions", parse_actions),
    Option("test_only", _bool),
    Option("Header_Type", _header_type),
    Option("Hide_Receiver", _bool),
    Option("Authserv_Id", _text("an authserv-id")),
    Option("Receiver", _text("a host name")),
    Option("skip_addresses", _networks),
    Option("Whitelist", _networks),
    Option("HELO_Whitelist", _domains),
    Option("Domain_Whitelist", _domains),
    Option("Domain_Whitelist_PTR", _domains),
    Option("Reject_Not_Pass_Domains", _domains),
    Option("skip_sasl", _bool),
    Option("nameservers", _nameservers),
    Option("zones", _paths),
    Option("dns_timeout", _seconds(60)),
    Option("Lookup_Time", _seconds(_POSTFIX_TIMEOUT)),
    Option("Void_Limit", _integer(0, 100)),
    Option("fetch_order", _choice(FetchOrder)),
    Option("default_explanation", _explanation),
    Option("cache_size", _integer(1, 10_000_000)),
    Option("cache_bytes", _integer(1 << 20, 1 << 40)),
    Option("record_cache_bytes", _integer(0, 1 << 40)),
    Option("deadline", _seconds(_POSTFIX_TIMEOUT, _BELOW_POSTFIX)),
    Option("timeout_action", _choice(Fallback)),
    Option("error_action", _choice(Fallback)),
    Option("listen", _listen),
    Option("socket_mode", _mode),
    Option("max_connections", _integer(1, 1_000_000)),
    Option("idle_timeout", _seconds()),
    Option("read_timeout", _seconds()),
    Option("debugLevel", _integer(0, 5)),
    Option("log", _log),
    Option("syslog_facility", _facility),
    Option("syslog_address", _syslog_address),
)

_MILTER = "an option of policyd-spf's milter front end; spfkit policyd is a policy server only"
UNSUPPORTED: Final[Mapping[str, str]] = {
    "testonly": "policyd-spf's TestOnly (1 = act, 0 = never reject) is spfkit's "
    "test_only = true/false, in the opposite sense",
    "per_user": "per-recipient settings are not supported",
    "prospective": "not supported",
    "mock": "not supported",
    "reason_message": "reply texts are fixed: RFC 7372 codes with the domain's explanation",
    "reason_url": "reply texts are fixed: RFC 7372 codes with the domain's explanation",
    "no_mail": "not supported; [actions] chooses what each result does",
    "helo_pass_restriction": "not supported; list your restriction after check_policy_service",
    "mail_from_pass_restriction": "not supported; list your restriction after "
    "check_policy_service",
    "whitelist_lookup_time": "trusted-relay checks share Lookup_Time and deadline",
    "spf_enhanced_status_codes": "always on (RFC 7372)",
    "defaultseedonly": "not supported",
    "socket": _MILTER,
    "pidfile": _MILTER,
    "userid": _MILTER,
    "umask": _MILTER,
    "internalhosts": _MILTER,
    "inthosts": _MILTER,
    "macrolist": _MILTER,
    "macrolistverify": _MILTER,
}
