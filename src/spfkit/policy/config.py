"""``spfkit policyd`` configuration: a TOML file (``tomllib``), or policyd-spf's own
``Name = value`` file (``legacy.py``), → a frozen :class:`PolicyConfig`.

Every option, its default and its meaning is in ``docs/policyd.md``; ``examples/policyd.toml``
sets each one. Option names follow Debian's policyd-spf where it has one (``HELO_reject``,
``Mail_From_reject``, ``PermError_reject``, ``TempError_Defer``, ``skip_addresses``,
``Whitelist``, ``HELO_Whitelist``, ``Domain_Whitelist``, ``Domain_Whitelist_PTR``,
``Reject_Not_Pass_Domains``, ``Header_Type``, ``Hide_Receiver``, ``Authserv_Id``,
``Lookup_Time``, ``Void_Limit``, ``debugLevel``); names are matched without regard to case.
Everything is checked when the file is loaded, and every mistake is reported at once: an
unknown name (with the closest known names suggested), a policyd-spf option spfkit does not
support (with what to use instead), a wrong type or value — each a :class:`ConfigProblem`
naming the key and its line, all in one :class:`ConfigError`.

Loading reads one file; nothing else touches the world.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from ipaddress import IPv4Network, IPv6Network, ip_network
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

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
from spfkit.policy.legacy import Format, translate
from spfkit.policy.legacy import detect as detect_format
from spfkit.results import Result

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "Format",
    "Fallback",
    "HeaderKind",
    "ListenAddress",
    "PolicyConfig",
    "RejectPolicy",
    "Verdict",
    "load_config",
    "parse_config",
    "parse_listen",
    "parse_toml",
    "read_text",
    "toml_key_lines",
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


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One mistake: ``key`` (None for the file as a whole), its ``line`` (None when unknown)."""

    reason: str
    key: str | None = None
    line: int | None = None

    def describe(self, source: str) -> str:
        """``"policyd.toml:3: HELO_reject: 'Fial' is not one of ..."``."""
        place = f"{source}:{self.line}" if source and self.line else source
        where = ": ".join(part for part in (place, self.key) if part)
        return f"{where}: {self.reason}" if where else self.reason


class ConfigError(SpfkitError):
    """A configuration that cannot be used: ``source`` (file) and every one of its ``problems``.

    ``reason``, ``key`` and ``line`` are the first problem's. ``str()`` is one line per
    problem, ``"policyd.toml:3: HELO_reject: 'Fial' is not one of ..."``.
    """

    def __init__(self, reason: str, key: str | None = None, source: str = "", *,
                 line: int | None = None, problems: Sequence[ConfigProblem] = ()) -> None:
        self.problems = tuple(problems) or (ConfigProblem(reason, key, line),)
        first = self.problems[0]
        self.reason, self.key, self.line = first.reason, first.key, first.line
        self.source = source
        super().__init__("\n".join(problem.describe(source) for problem in self.problems))

    def one_line(self) -> str:
        """Every problem on one line, ``"; "``-separated (for a log record)."""
        return "; ".join(problem.describe(self.source) for problem in self.problems)


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
    #: domains (and their subdomains) whose neutral and softfail are rejected like fail
    reject_not_pass_domains: tuple[str, ...] = ()
    # -- who is not checked
    skip_addresses: tuple[Network, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
    whitelist: tuple[Network, ...] = ()
    helo_whitelist: tuple[str, ...] = ()
    domain_whitelist: tuple[str, ...] = ()
    domain_whitelist_ptr: tuple[str, ...] = ()
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
    source_format: Format = field(default=Format.TOML, compare=False)
    #: remarks on a policyd-spf file's options (meaning changed, not applicable), for --check-config
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def check_helo(self) -> bool:
        """§2.3: check the HELO identity (policyd-spf ``HELO_reject = No_Check`` turns it off)."""
        return self.helo_reject is not RejectPolicy.NO_CHECK

    @property
    def check_mailfrom(self) -> bool:
        """§2.4: check the MAIL FROM identity (``Mail_From_reject = No_Check`` turns it off)."""
        return self.mail_from_reject is not RejectPolicy.NO_CHECK

    def rejects_not_pass(self, domain: str) -> bool:
        """``Reject_Not_Pass_Domains``: ``domain`` is a listed domain or below one."""
        name = domain.lower().rstrip(".")
        return any(name == listed or name.endswith("." + listed)
                   for listed in self.reject_not_pass_domains)

    def verdict(self, identity: Identity, result: Result, domain: str = "") -> Verdict:
        """What local policy does with ``result`` for ``identity`` of ``domain`` (before
        test-only mode).

        For a ``Reject_Not_Pass_Domains`` domain the policy is ``SPF_Not_Pass`` whatever the
        ``*_reject`` option says (as in policyd-spf). Then the ``[actions]`` table wins;
        otherwise the policyd-spf options decide: the ``*_reject`` policy's results are
        rejected, temperror deferred when ``TempError_Defer``, permerror rejected when
        ``PermError_reject`` (neither when the policy is ``False``: "never reject or defer"),
        everything else accepted.
        """
        listed = domain and self.reject_not_pass_domains and self.rejects_not_pass(domain)
        if listed and result in _REJECTED[RejectPolicy.SPF_NOT_PASS]:
            return Verdict.REJECT
        chosen = self.actions.get(identity, {}).get(result)
        if chosen is not None:
            return chosen
        policy = self.helo_reject if identity is Identity.HELO else self.mail_from_reject
        if listed:
            policy = RejectPolicy.SPF_NOT_PASS
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


def _canonical(data: Mapping[str, object], lines: Mapping[str, int],
               problems: list[ConfigProblem]) -> dict[str, object]:
    """File keys → canonical option names; unknown, unsupported and repeated keys are problems."""
    out: dict[str, object] = {}
    for key, value in data.items():
        if key.lower() == "milter" and isinstance(value, dict):
            continue  # the [milter] table: spfkit.milter.config reads it
        line = lines.get(key)
        option = _CANONICAL.get(key.lower())
        if option is None:
            hint = UNSUPPORTED.get(key.lower())
            if hint is not None:
                problems.append(ConfigProblem(f"not supported: {hint}", key, line))
                continue
            close = _close_matches(key.lower())
            names = " or ".join(repr(_CANONICAL[name].key) for name in close)
            problems.append(ConfigProblem(
                f"unknown option{f' (did you mean {names}?)' if close else ''}", key, line))
            continue
        if option.key in out:
            problems.append(ConfigProblem(
                "given twice (names are matched without regard to case)", key, line))
            continue
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
    data: Mapping[str, object], *, source: str = "", overrides: Mapping[str, object] | None = None,
    lines: Mapping[str, int] | None = None,
) -> PolicyConfig:
    """A checked :class:`PolicyConfig` from TOML data; ``overrides`` (canonical names, e.g.
    from the command line) replace the file's values; ``lines`` gives each file key's line.
    Raises :class:`ConfigError` with every problem found."""
    return _build(data, source=source, overrides=overrides, lines=lines or {})


def _build(data: Mapping[str, object], *, source: str, overrides: Mapping[str, object] | None,
           lines: Mapping[str, int], problems: Sequence[ConfigProblem] = (),
           source_format: Format = Format.TOML, notes: tuple[str, ...] = ()) -> PolicyConfig:
    found = list(problems)
    values = _canonical(data, lines, found)
    where = {_CANONICAL[key.lower()].key: line for key, line in lines.items()
             if key.lower() in _CANONICAL}
    given = dict(values)
    values.update(overrides or {})
    kwargs: dict[str, object] = {"source": source, "source_format": source_format, "notes": notes}
    for key, value in values.items():
        option = _CANONICAL[key.lower()]
        try:
            kwargs[option.attribute] = option.parse(value)
        except ValueError as exc:
            line = where.get(option.key) if key in given and value is given[key] else None
            found.append(ConfigProblem(str(exc), key, line))
    assert set(kwargs) <= _ATTRIBUTES
    config = PolicyConfig(**kwargs)  # type: ignore[arg-type]
    found += (ConfigProblem(reason, key, where.get(key)) for key, reason in _together(config))
    if found:
        found.sort(key=lambda problem: problem.line or 1 << 30)  # in file order, then the rest
        raise ConfigError(found[0].reason, found[0].key, source, line=found[0].line,
                          problems=found)
    return config


def _together(config: PolicyConfig) -> list[tuple[str, str]]:
    """Options that are each valid but not together: (key, reason)."""
    out = []
    if config.zones and config.nameservers:
        out.append(("zones", "zones and nameservers cannot be combined"))
    if config.lookup_time >= config.deadline:
        out.append(("Lookup_Time", f"must be less than deadline ({config.deadline:g} s), or a "
                    "slow check could never report temperror"))
    if config.read_timeout > config.idle_timeout:
        out.append(("read_timeout", "must not be more than idle_timeout"))
    if config.mail_from_reject is RejectPolicy.NULL:
        out.append(("Mail_From_reject", "Null is a HELO_reject value (a HELO fail rejected for "
                    "the null sender only); for MAIL FROM write Fail"))
    return out


_TOML_KEY: Final = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[.=]""")
_TOML_TABLE: Final = re.compile(r"""^\s*\[+\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))""")
_TOML_AT: Final = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_key_lines(text: str) -> dict[str, int]:
    """Each top-level key of a TOML text → the line (from 1) where it is first set.

    tomllib keeps no positions; this finds them in the text: ``key =`` and dotted ``key.x =``
    before the first table, and each table header ``[key]`` / ``[key.sub]``.
    """
    out: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        if (match := _TOML_TABLE.match(line)) is not None:
            in_table = True
        elif in_table or (match := _TOML_KEY.match(line)) is None:
            continue
        name = next(group for group in match.groups() if group is not None)
        out.setdefault(name, number)
    return out


def load_config(path: str | Path | None, overrides: Mapping[str, object] | None = None, *,
                source_format: Format | None = None) -> PolicyConfig:
    """Read and check ``path`` (``None``: the defaults), then apply ``overrides``.

    The file is spfkit's TOML or policyd-spf's ``Name = value`` format: ``source_format``, or
    else the one :func:`detect_format` finds.
    """
    if path is None:
        return parse_config({}, overrides=overrides)
    source = str(path)
    text = read_text(path)
    if (source_format or detect_format(text)) is Format.POLICYD_SPF:
        legacy = translate(text)
        problems = [ConfigProblem(error.text, error.key or None, error.line)
                    for error in legacy.errors]
        notes = tuple(f"{note.key}{f' (line {note.line})' if note.line else ''}: {note.text}"
                      for note in legacy.notes)
        return _build(legacy.data, source=source, overrides=overrides, lines=legacy.lines,
                      problems=problems, source_format=Format.POLICYD_SPF, notes=notes)
    data = parse_toml(text, source)
    return _build(data, source=source, overrides=overrides, lines=toml_key_lines(text))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """``text`` as TOML; :class:`ConfigError` with the line of the mistake when it is not."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_AT.search(str(exc))
        line = int(at.group(1)) if at else len(text.splitlines()) or None  # "at end of document"
        raise ConfigError(f"not valid TOML: {exc}", None, source, line=line) from None


def read_text(path: str | Path) -> str:
    """The file's text (UTF-8); :class:`ConfigError` when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", None, str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", None, str(path)) from None
