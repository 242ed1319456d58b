"""``spfkit milter`` configuration: the ``[milter]`` table of the policyd TOML file.

One file serves both front ends: the top-level options mean what they mean for
``spfkit policyd`` (``spfkit.policy.config``: receiver, skip networks, header kind,
test-only, DNS limits, ``HELO_reject`` / ``Mail_From_reject`` / ``[actions]``), and the
``[milter]`` table holds what only the milter has: its socket, the Sender ID (PRA, RFC 4406
§4, RFC 4407 §2) policy, the stage SPF rejects at, forged-header removal (RFC 8601 §5) and the
control socket. Every key is checked when the file is loaded (:class:`MilterConfigError` is
the policy's :class:`~spfkit.policy.config.ConfigError`, naming file and key).

Loading reads one file; nothing else touches the world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final

from spfkit.identity import Identity
from spfkit.policy.config import (
    ConfigError,
    ListenAddress,
    PolicyConfig,
    RejectPolicy,
    Verdict,
    parse_config,
    parse_listen,
    parse_toml,
    read_text,
)
from spfkit.results import Result

__all__ = [
    "MILTER_TABLE",
    "MilterConfig",
    "MilterConfigError",
    "MilterSocket",
    "NoPRA",
    "RejectStage",
    "libmilter_socket",
    "load_milter_config",
    "parse_milter_config",
    "parse_milter_socket",
    "postfix_socket",
]

MILTER_TABLE: Final = "milter"
MilterConfigError = ConfigError

class RejectStage(StrEnum):
    """Where an SPF reject or defer is answered (RFC 5321 §3.3)."""

    MAIL = "mail"  # to MAIL FROM, as pyspf-milter does
    RCPT = "rcpt"  # to each RCPT TO, as a policy service at smtpd_recipient_restrictions


class NoPRA(StrEnum):
    """RFC 4407 §2 step 6: what to do when no PRA can be determined (an ill-formed message)."""

    ACCEPT = "accept"  # mark it: sender-id=permerror, the message goes on (sid-milter's way)
    REJECT = "reject"  # 550 5.7.1: the message is ill-formed


#: The milter's socket: policyd's :class:`ListenAddress` (TCP host and port, or a UNIX path).
MilterSocket = ListenAddress


def libmilter_socket(where: ListenAddress) -> str:
    """The spelling smfi_setconn() takes: ``unix:/path``, ``inet:PORT@HOST``, ``inet6:…``."""
    if where.path:
        return f"unix:{where.path}"
    family = "inet6" if ":" in where.host else "inet"
    return f"{family}:{where.port}@{where.host}"


def postfix_socket(where: ListenAddress) -> str:
    """The spelling Postfix's ``smtpd_milters`` takes: ``unix:/path``, ``inet:HOST:PORT``."""
    return str(where) if where.path else f"inet:{where}"


def parse_milter_socket(spec: str) -> ListenAddress:
    """``unix:/path``, ``inet:HOST:PORT``, ``inet:PORT@HOST`` or ``HOST:PORT``; ValueError else.

    libmilter's spellings are rewritten into policyd's (``parse_listen``), which checks them.
    """
    text = spec.strip()
    kind, colon, rest = text.partition(":")
    if colon and kind in ("local", "unix"):
        text = f"unix:{rest}"
    elif colon and kind in ("inet", "inet6"):
        port, at, host = rest.partition("@")
        text = (f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}") if at else rest
    try:
        return parse_listen(text)
    except ValueError:
        raise ValueError(f"expected unix:/path or inet:HOST:PORT, got {spec!r}") from None


@dataclass(frozen=True, slots=True)
class MilterConfig:
    """The policy's configuration plus the milter's own (``docs/milter.md`` explains each)."""

    policy: PolicyConfig = field(default_factory=PolicyConfig)
    listen: ListenAddress | None = None
    #: RFC 4406 §4: check the PRA (``pra`` scope) at the end of the header
    check_pra: bool = True
    pra_reject: RejectPolicy = RejectPolicy.FALSE
    pra_actions: Mapping[Result, Verdict] = field(default_factory=lambda: MappingProxyType({}),
                                                  hash=False)
    no_pra: NoPRA = NoPRA.ACCEPT
    reject_stage: RejectStage = RejectStage.RCPT
    remove_forged: bool = True
    control_socket: str = ""
    #: how long Postfix may wait for one reply: libmilter's smfi_settimeout (seconds)
    milter_timeout: int = 300
    #: bytes of header the PRA is looked for in; beyond that the header is not kept
    max_header_bytes: int = 1 << 20

    @property
    def test_only(self) -> bool:
        return self.policy.test_only

    def pra_verdict(self, result: Result) -> Verdict:
        """What local policy does with the Sender ID (``pra``) result (before test-only).

        The rule is the policy's own for MAIL FROM (``PolicyConfig.verdict``), with
        ``pra_reject`` as the policy and ``pra_actions`` as the ``[actions]`` table.
        """
        as_mailfrom = replace(self.policy, mail_from_reject=self.pra_reject,
                              actions=MappingProxyType({Identity.MAILFROM: self.pra_actions}))
        return as_mailfrom.verdict(Identity.MAILFROM, result)


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _enum(kind: type[StrEnum], *, without: tuple[StrEnum, ...] = ()):  # type: ignore[no-untyped-def]
    """A value of ``kind`` but those ``without`` (named in the error as not allowed)."""
    allowed = [member for member in kind if member not in without]

    def parse(key: str, value: object) -> StrEnum:
        if isinstance(value, str):
            for member in kind:
                if member.value.lower() == value.strip().lower():
                    if member in without:
                        raise ValueError(f"{member.value} is for HELO_reject only; use one of "
                                         f"{', '.join(repr(m.value) for m in allowed)}")
                    return member
        names = ", ".join(repr(m.value) for m in allowed)
        raise ValueError(f"{value!r} is not one of {names}")
    return parse


def _int(low: int, high: int):  # type: ignore[no-untyped-def]
    def parse(key: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")
        return value
    return parse


def _socket(key: str, value: object) -> ListenAddress | None:
    if not isinstance(value, str):
        raise ValueError(f"expected unix:/path or inet:HOST:PORT, got {value!r}")
    return parse_milter_socket(value) if value.strip() else None


def _path(key: str, value: object) -> str:
    if not isinstance(value, str) or (value and not value.startswith("/")):
        raise ValueError(f"expected an absolute path, got {value!r}")
    return value


def _pra_actions(key: str, value: object) -> Mapping[Result, Verdict]:
    if not isinstance(value, dict):
        raise ValueError("expected a table of result = action")
    out: dict[Result, Verdict] = {}
    parse_verdict = _enum(Verdict)
    for name, verdict in value.items():
        try:
            result = Result(name.lower())
        except ValueError:
            raise ValueError(f"{name}: not a Sender ID result "
                             f"({', '.join(r.value for r in Result)})") from None
        out[result] = parse_verdict(key, verdict)
    return MappingProxyType(out)


_PARSERS: Final = {
    "listen": ("listen", _socket),
    "check_pra": ("check_pra", _bool),
    "pra_reject": ("pra_reject", _enum(RejectPolicy, without=(RejectPolicy.NULL,))),
    "pra_actions": ("pra_actions", _pra_actions),
    "no_pra": ("no_pra", _enum(NoPRA)),
    "reject_stage": ("reject_stage", _enum(RejectStage)),
    "remove_forged": ("remove_forged", _bool),
    "control_socket": ("control_socket", _path),
    "milter_timeout": ("milter_timeout", _int(1, 3600)),
    "max_header_bytes": ("max_header_bytes", _int(64 * 1024, 64 << 20)),
}


def parse_milter_config(data: Mapping[str, object], *, source: str = "",
                        overrides: Mapping[str, object] | None = None,
                        milter_overrides: Mapping[str, object] | None = None) -> MilterConfig:
    """A checked :class:`MilterConfig` from TOML data (the policy's keys plus ``[milter]``)."""
    shared = {key: value for key, value in data.items() if key.lower() != MILTER_TABLE}
    table = next((value for key, value in data.items() if key.lower() == MILTER_TABLE), {})
    if not isinstance(table, dict):
        raise ConfigError("expected a table ([milter])", MILTER_TABLE, source)
    policy = parse_config(shared, source=source, overrides=overrides)
    values: dict[str, object] = {}
    for key, value in {**table, **(milter_overrides or {})}.items():
        entry = _PARSERS.get(key.lower())
        if entry is None:
            known = ", ".join(sorted(_PARSERS))
            raise ConfigError(f"unknown option of [milter] (known: {known})",
                              f"milter.{key}", source)
        attribute, parse = entry
        try:
            values[attribute] = parse(key, value)
        except ValueError as exc:
            raise ConfigError(str(exc), f"milter.{key}", source) from None
    return MilterConfig(policy=policy, **values)  # type: ignore[arg-type]


def load_milter_config(path: str | Path | None, overrides: Mapping[str, object] | None = None,
                       milter_overrides: Mapping[str, object] | None = None) -> MilterConfig:
    """Read and check ``path`` (``None``: the defaults), then apply the overrides."""
    if path is None:
        return parse_milter_config({}, overrides=overrides, milter_overrides=milter_overrides)
    source = str(path)
    data = parse_toml(read_text(path), source)  # ConfigError: unreadable, not UTF-8, not TOML
    return parse_milter_config(data, source=source, overrides=overrides,
                               milter_overrides=milter_overrides)
