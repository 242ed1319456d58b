"""Which DNS servers to ask: an address and a port each, or the system's (RFC 1035 §4.2).

:class:`Nameserver` parses the ``--nameserver`` / ``nameservers =`` syntax (an IP address
literal, an optional port, ``[IPv6]:port``); :func:`system_nameservers` reads
``/etc/resolv.conf``. Parsing does no I/O; reading the system configuration touches one file
(and dnspython, only for a file this module cannot read itself).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

__all__ = ["Nameserver", "system_nameservers"]


@dataclass(frozen=True, slots=True)
class Nameserver:
    """One server to ask: an IP address literal and a port."""

    host: str
    port: int = 53

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, spec: str, default_port: int = 53) -> Nameserver:
        """``"192.0.2.1"``, ``"192.0.2.1:5300"``, ``"::1"``, ``"[::1]:5300"`` → Nameserver.

        Raises ValueError for anything else; host names are refused because resolving them
        would need the very resolver being configured.
        """
        text = spec.strip()
        host, port = text, default_port
        if text.startswith("["):
            close = text.find("]")
            rest = text[close + 1 :] if close > 0 else "?"
            if rest and not rest.startswith(":"):
                raise ValueError(f"bad nameserver {spec!r}: expected [IPv6]:PORT")
            host = text[1:close]
            if rest:
                port = _port(rest[1:], spec)
        elif text.count(":") == 1:
            host, _, rest = text.partition(":")
            port = _port(rest, spec)
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            raise ValueError(f"bad nameserver {spec!r}: {host!r} is not an IP address") from None
        return cls(host, port)


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"bad nameserver {spec!r}: port must be 1-65535")
    return int(text)


def system_nameservers(path: str = "/etc/resolv.conf") -> list[str]:
    """The nameservers of the system configuration (``/etc/resolv.conf``).

    The ``nameserver`` lines are read directly (a policy server spawned per connection
    starts faster without loading dnspython's resolver); anything unusual is left to
    dnspython. Like the C library, falls back to 127.0.0.1 when the file names none.
    """
    try:
        with open(path, encoding="ascii", errors="replace") as conf:
            lines = conf.read().splitlines()
    except OSError:
        lines = []
    found = []
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            address = words[1].split("%", 1)[0]  # a link-local scope cannot be used here
            try:
                ipaddress.ip_address(address)
            except ValueError:
                continue
            found.append(address)
    if found:
        return found
    import dns.resolver  # only here: reading configuration is the one job dnspython does

    try:
        configured = dns.resolver.Resolver(configure=True).nameservers
    except (dns.resolver.NoResolverConfiguration, OSError):
        return ["127.0.0.1"]
    servers = [ns if isinstance(ns, str) else getattr(ns, "address", "") for ns in configured]
    return [ns for ns in servers if ns] or ["127.0.0.1"]
