"""The nouns of an SPF record: qualifiers, mechanisms, modifiers (RFC 7208 §4.6.1, §5, §6, §12).

Terms are frozen values produced by ``record.parse`` and shared by the evaluator, the linter,
the wizard and ``show``. ``column`` (0-based offset in the record text) is kept for messages
but takes no part in equality, so ``parse(render(r)) == r``. Pure: no I/O imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import ClassVar

from spfkit.macros import MacroString
from spfkit.results import Result


class Qualifier(StrEnum):
    """§4.6.2: the prefix of a mechanism and the result it gives on a match."""

    PASS = "+"
    FAIL = "-"
    SOFTFAIL = "~"
    NEUTRAL = "?"

    @property
    def result(self) -> Result:
        return _QUALIFIER_RESULT[self]


_QUALIFIER_RESULT: dict[Qualifier, Result] = {
    Qualifier.PASS: Result.PASS,
    Qualifier.FAIL: Result.FAIL,
    Qualifier.SOFTFAIL: Result.SOFTFAIL,
    Qualifier.NEUTRAL: Result.NEUTRAL,
}


@dataclass(frozen=True, slots=True)
class Mechanism:
    """§5: a mechanism; subclasses carry their arguments."""

    name: ClassVar[str] = ""
    #: §4.6.4: whether evaluating this mechanism causes DNS queries (and counts).
    queries_dns: ClassVar[bool] = False
    qualifier: Qualifier = Qualifier.PASS
    column: int = field(default=0, compare=False)
    #: the term as written in the record (set by the parser); empty for terms built in code
    text: str = field(default="", compare=False, repr=False, kw_only=True)

    def argument(self) -> str:
        """The text after the mechanism name (``:domain``, ``/24`` ...), canonical."""
        return ""

    def canonical(self) -> str:
        """The term in canonical form: no "+", lower-case name."""
        prefix = "" if self.qualifier is Qualifier.PASS else self.qualifier.value
        return f"{prefix}{self.name}{self.argument()}"

    def __str__(self) -> str:
        return self.text or self.canonical()


@dataclass(frozen=True, slots=True)
class LocalMechanism(Mechanism):
    """A mechanism matched from the record alone, without DNS: "all", "ip4", "ip6" (§5.1, §5.6)."""

    def matches(self, ip: IPv4Address | IPv6Address) -> bool:
        """Does <ip> match this mechanism?"""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class DNSMechanism(Mechanism):
    """A mechanism that causes DNS queries (§4.6.4), aimed at its ``domain-spec`` (§4.8):
    "include", "a", "mx", "ptr", "exists". ``None`` means the current <domain>."""

    queries_dns: ClassVar[bool] = True
    domain_spec: MacroString | None = None


def _cidr_text(cidr4: int | None, cidr6: int | None) -> str:
    text = f"/{cidr4}" if cidr4 is not None else ""
    return text + (f"//{cidr6}" if cidr6 is not None else "")


@dataclass(frozen=True, slots=True)
class All(LocalMechanism):
    """§5.1 "all": always matches."""

    name: ClassVar[str] = "all"

    def matches(self, ip: IPv4Address | IPv6Address) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Include(DNSMechanism):
    """§5.2 "include": matches when check_host() of the target returns pass."""

    name: ClassVar[str] = "include"
    domain_spec: MacroString = field(default_factory=lambda: MacroString(()))

    def argument(self) -> str:
        return f":{self.domain_spec}"


@dataclass(frozen=True, slots=True)
class _AddressMechanism(DNSMechanism):
    """The shared shape of "a" and "mx": ``[ ":" domain-spec ] [ dual-cidr-length ]``."""

    cidr4: int | None = None
    cidr6: int | None = None

    def argument(self) -> str:
        target = f":{self.domain_spec}" if self.domain_spec is not None else ""
        return target + _cidr_text(self.cidr4, self.cidr6)


@dataclass(frozen=True, slots=True)
class A(_AddressMechanism):
    """§5.3 "a": matches when <ip> is one of the target's addresses (dual CIDR, §5.6)."""

    name: ClassVar[str] = "a"


@dataclass(frozen=True, slots=True)
class MX(_AddressMechanism):
    """§5.4 "mx": matches when <ip> is an address of one of the target's MX hosts."""

    name: ClassVar[str] = "mx"


@dataclass(frozen=True, slots=True)
class PTR(DNSMechanism):
    """§5.5 "ptr" (do not use): matches a validated name of <ip> within the target."""

    name: ClassVar[str] = "ptr"

    def argument(self) -> str:
        return f":{self.domain_spec}" if self.domain_spec is not None else ""


@dataclass(frozen=True, slots=True)
class _NetworkMechanism(LocalMechanism):
    """The shared shape of "ip4" and "ip6" (§5.6): a network, matched without DNS."""

    version: ClassVar[int] = 0
    network: IPv4Network | IPv6Network = IPv4Network("0.0.0.0/32")
    #: as written (``ip4:192.0.2.1/24`` keeps its host bits in the text)
    address_text: str = field(default="", compare=False)
    _range: tuple[int, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        net = self.network
        object.__setattr__(self, "_range", (int(net.network_address), int(net.broadcast_address)))

    def matches(self, ip: IPv4Address | IPv6Address) -> bool:
        """§5.6: a client of this mechanism's IP version inside the network."""
        low, high = self._range
        return ip.version == self.version and low <= int(ip) <= high

    def argument(self) -> str:
        address = self.address_text or str(self.network.network_address)
        prefix = self.network.prefixlen
        return f":{address}" + ("" if prefix == self.network.max_prefixlen else f"/{prefix}")


@dataclass(frozen=True, slots=True)
class IP4(_NetworkMechanism):
    """§5.6 "ip4": matches when an IPv4 <ip> is in the network."""

    name: ClassVar[str] = "ip4"
    version: ClassVar[int] = 4
    network: IPv4Network = IPv4Network("0.0.0.0/32")


@dataclass(frozen=True, slots=True)
class IP6(_NetworkMechanism):
    """§5.6 "ip6": matches when an IPv6 <ip> is in the network."""

    name: ClassVar[str] = "ip6"
    version: ClassVar[int] = 6
    network: IPv6Network = IPv6Network("::/128")


@dataclass(frozen=True, slots=True)
class Exists(DNSMechanism):
    """§5.7 "exists": matches when the target has an A record (for any client)."""

    name: ClassVar[str] = "exists"
    domain_spec: MacroString = field(default_factory=lambda: MacroString(()))

    def argument(self) -> str:
        return f":{self.domain_spec}"


@dataclass(frozen=True, slots=True)
class Modifier:
    """§6: a ``name=value`` term."""

    name: ClassVar[str] = ""
    queries_dns: ClassVar[bool] = False
    column: int = field(default=0, compare=False)
    #: the term as written in the record (set by the parser); empty for terms built in code
    text: str = field(default="", compare=False, repr=False, kw_only=True)

    def value_text(self) -> str:
        return ""

    def canonical(self) -> str:
        return f"{self.name}={self.value_text()}"

    def __str__(self) -> str:
        return self.text or self.canonical()


@dataclass(frozen=True, slots=True)
class Redirect(Modifier):
    """§6.1 "redirect": evaluate another domain's record when no mechanism matched."""

    name: ClassVar[str] = "redirect"
    queries_dns: ClassVar[bool] = True
    domain_spec: MacroString = field(default_factory=lambda: MacroString(()))

    def value_text(self) -> str:
        return str(self.domain_spec)


@dataclass(frozen=True, slots=True)
class Explanation(Modifier):
    """§6.2 "exp": where to find the explanation of a fail result."""

    name: ClassVar[str] = "exp"
    domain_spec: MacroString = field(default_factory=lambda: MacroString(()))

    def value_text(self) -> str:
        return str(self.domain_spec)


@dataclass(frozen=True, slots=True)
class UnknownModifier(Modifier):
    """§6 last paragraph: a modifier this implementation does not know; ignored."""

    key: str = ""
    value: MacroString = field(default_factory=lambda: MacroString(()))

    def value_text(self) -> str:
        return str(self.value)

    def canonical(self) -> str:
        return f"{self.key}={self.value}"


Term = Mechanism | Modifier

#: mechanism name → class, for the parser (§12 "mechanism")
MECHANISMS: dict[str, type[Mechanism]] = {
    cls.name: cls for cls in (All, Include, A, MX, PTR, IP4, IP6, Exists)
}
