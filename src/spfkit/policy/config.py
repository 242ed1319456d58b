"""``spfkit policyd`` configuration: a TOML file (``tomllib``) → a frozen :class:`PolicyConfig`.

Every option, its default and its meaning is in ``docs/policyd.md``; ``examples/policyd.toml``
sets each one. Option names follow Debian's policyd-spf where it has one (``HELO_reject``,
``Mail_From_reject``, ``PermError_reject``, ``TempError_Defer``, ``skip_addresses``,
``Whitelist``, ``HELO_Whitelist``, ``Domain_Whitelist``, ``Header_Type``, ``Hide_Receiver``,
``Authserv_Id``, ``Lookup_Time``, ``Void_Limit``, ``debugLevel``); names are matched without
regard to case. Everything is checked when the file is loaded: an unknown name (with the closest
known names suggested), a policyd-spf option spfkit does not support (with what to use
instead), a wrong type or value — each a :class:`ConfigError` naming the file and the key.

Loading reads one file; nothing else touches the world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from types import MappingProxyType
from typing import Final

from spfkit.errors import SpfkitError
from spfkit.evaluate.options import CheckOptions, FetchOrder
from spfkit.identity import Identity
from spfkit.lookup.defaults import CACHE_BYTES, CACHE_ENTRIES, QUERY_TIMEOUT
from spfkit.policy._options import (
    OPTIONS,
    UNSUPPORTED,
    Fallback,
    HeaderKind,
    ListenAddress,
    RejectPolicy,
    Verdict,
    parse_listen,
)
from spfkit.results import Result

__all__ = [
    "ConfigError",
    "Fallback",
    "HeaderKind",
    "ListenAddress",
    "PolicyConfig",
    "RejectPolicy",
    "Verdict",
    "load_config",
    "parse_config",
    "parse_listen",
]

Network = IPv4Network | IPv6Network
#: What one check does by default (RFC 7208 §4.6.4, §6.2): the policy's defaults are the same.
_EVALUATION: Final = CheckOptions()

# policyd-spf's policies (its _get_resultcodes): the results each one rejects.
_REJECTED: Final[Mapping[RejectPolicy, frozenset[Result]]] = {
    RejectPolicy.FAIL: frozenset({Result.FAIL}),
    RejectPolicy.NULL: frozenset({Result.FAIL}),
    RejectPolicy.SOFTFAIL: frozenset({Result.FAIL, Result.SOFTFAIL}),
    RejectPolicy.SPF_NOT_PASS: frozenset({Result.FAIL, Result.SOFTFAIL, Result.NEUTRAL}),
    RejectPolicy.FALSE: frozenset(),
    RejectPolicy.NO_CHECK: frozenset(),
}


class ConfigError(SpfkitError):
    """A configuration that cannot be used: ``source`` (file), ``key`` and ``reason``.

    ``str()`` is one line, ``"policyd.toml: HELO_reject: 'Fial' is not one of ..."``.
    """

    def __init__(self, reason: str, key: str | None = None, source: str = "") -> None:
        self.reason = reason
        self.key = key
        self.source = source
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """The whole configuration of ``spfkit policyd``; the defaults are the documented ones.

    Attribute names are the option names in lower case; ``docs/policyd.md`` explains each.
    """

    # -- actions (RFC 7208 §8; RFC 7372 codes)
    helo_reject: RejectPolicy = RejectPolicy.FAIL
    mail_from_reject: RejectPolicy = RejectPolicy.FAIL
    permerror_reject: bool = False
    temperror_defer: bool = True
    actions: Mapping[Identity, Mapping[Result, Verdict]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    test_only: bool = False
    # -- headers (RFC 7208 §9.1, RFC 8601)
    header_type: tuple[HeaderKind, ...] = (HeaderKind.RECEIVED_SPF,)
    hide_receiver: bool = True
    authserv_id: str = ""
    receiver: str = ""
    # -- who is not checked
    skip_addresses: tuple[Network, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    whitelist: tuple[Network, ...] = ()
    helo_whitelist: tuple[str, ...] = ()
    domain_whitelist: tuple[str, ...] = ()
    skip_sasl: bool = True
    # -- DNS and the checks (RFC 7208 §4.6.4)
    nameservers: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    dns_timeout: float = QUERY_TIMEOUT
    lookup_time: float = _EVALUATION.time_budget
    void_limit: int = _EVALUATION.max_void_lookups
    #: how include/redirect targets are fetched ahead (docs/prefetch.md)
    fetch_order: FetchOrder = _EVALUATION.fetch_order
    default_explanation: str = _EVALUATION.default_explanation
    cache_size: int = CACHE_ENTRIES
    #: estimated bytes of DNS answers in the shared cache, and of parsed records (what senders
    #: publish decides each entry's size: the bounds are in bytes)
    cache_bytes: int = CACHE_BYTES
    record_cache_bytes: int = 16 * 1024 * 1024
    # -- never hang Postfix
    deadline: float = 30.0
    timeout_action: Fallback = Fallback.DUNNO
    error_action: Fallback = Fallback.DUNNO
    # -- the server
    listen: ListenAddress | None = None
    socket_mode: int = 0o666
    max_connections: int = 1000
    idle_timeout: float = 330.0
    read_timeout: float = 10.0
    # -- logging
    debuglevel: int = 1
    log: str = "auto"
    syslog_facility: str = "mail"
    syslog_address: str = "/dev/log"
    # -- where it came from (for messages)
    source: str = field(default="", compare=False)

    @property
    def check_helo(self) -> bool:
        """§2.3: check the HELO identity (policyd-spf ``HELO_reject = No_Check`` turns it off)."""
        return self.helo_reject is not RejectPolicy.NO_CHECK

    @property
    def check_mailfrom(self) -> bool:
        """§2.4: check the MAIL FROM identity (``Mail_From_reject = No_Check`` turns it off)."""
        return self.mail_from_reject is not RejectPolicy.NO_CHECK

    def verdict(self, identity: Identity, result: Result) -> Verdict:
        """What local policy does with ``result`` for ``identity`` (before test-only mode).

        The ``[actions]`` table wins; otherwise the policyd-spf options decide: the
        ``*_reject`` policy's results are rejected, temperror deferred when
        ``TempError_Defer``, permerror rejected when ``PermError_reject`` (neither when
        the policy is ``False``: "never reject or defer"), everything else accepted.
        """
        chosen = self.actions.get(identity, {}).get(result)
        if chosen is not None:
            return chosen
        policy = self.helo_reject if identity is Identity.HELO else self.mail_from_reject
        if result in _REJECTED[policy]:
            return Verdict.REJECT
        if policy in (RejectPolicy.FALSE, RejectPolicy.NO_CHECK):
            return Verdict.ACCEPT
        if result is Result.TEMPERROR and self.temperror_defer:
            return Verdict.DEFER
        if result is Result.PERMERROR and self.permerror_reject:
            return Verdict.REJECT
        return Verdict.ACCEPT


_ATTRIBUTES: Final = frozenset(f.name for f in fields(PolicyConfig))
_CANONICAL: Final = {option.key.lower(): option for option in OPTIONS}


def _canonical(data: Mapping[str, object], source: str) -> dict[str, object]:
    """File keys → canonical option names; unknown, unsupported and repeated keys refused."""
    out: dict[str, object] = {}
    for key, value in data.items():
        option = _CANONICAL.get(key.lower())
        if option is None:
            hint = UNSUPPORTED.get(key.lower())
            if hint is not None:
                raise ConfigError(f"not supported: {hint}", key, source)
            close = _close_matches(key.lower())
            names = " or ".join(repr(_CANONICAL[name].key) for name in close)
            raise ConfigError(f"unknown option{f' (did you mean {names}?)' if close else ''}",
                              key, source)
        if option.key in out:
            raise ConfigError("given twice (names are matched without regard to case)",
                              key, source)
        out[option.key] = value
    return out


def _close_matches(word: str) -> list[str]:
    """The known names nearest to ``word``: the best match and any nearly as good."""
    import difflib  # only when there is a mistake to explain

    scored = sorted(((difflib.SequenceMatcher(None, word, name).ratio(), name)
                     for name in _CANONICAL), reverse=True)
    if not scored or scored[0][0] < 0.6:
        return []
    return [name for ratio, name in scored[:3] if ratio >= max(0.6, scored[0][0] - 0.1)]


def parse_config(
    data: Mapping[str, object], *, source: str = "", overrides: Mapping[str, object] | None = None
) -> PolicyConfig:
    """A checked :class:`PolicyConfig` from TOML data; ``overrides`` (canonical names, e.g.
    from the command line) replace the file's values. Raises :class:`ConfigError`."""
    values = _canonical(data, source)
    values.update(overrides or {})
    kwargs: dict[str, object] = {"source": source}
    for key, value in values.items():
        option = _CANONICAL[key.lower()]
        try:
            kwargs[option.attribute] = option.parse(value)
        except ValueError as exc:
            raise ConfigError(str(exc), key, source) from None
    assert set(kwargs) <= _ATTRIBUTES
    config = PolicyConfig(**kwargs)  # type: ignore[arg-type]
    _check_together(config, source)
    return config


def _check_together(config: PolicyConfig, source: str) -> None:
    if config.zones and config.nameservers:
        raise ConfigError("zones and nameservers cannot be combined", "zones", source)
    if config.lookup_time >= config.deadline:
        raise ConfigError(
            f"must be less than deadline ({config.deadline:g} s), or a slow check could "
            "never report temperror", "Lookup_Time", source)
    if config.read_timeout > config.idle_timeout:
        raise ConfigError("must not be more than idle_timeout", "read_timeout", source)


def load_config(path: str | Path | None, overrides: Mapping[str, object] | None = None) -> PolicyConfig:
    """Read and check ``path`` (``None``: the defaults), then apply ``overrides``."""
    if path is None:
        return parse_config({}, overrides=overrides)
    import tomllib

    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", None, source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", None, source) from None
    return parse_config(data, source=source, overrides=overrides)
