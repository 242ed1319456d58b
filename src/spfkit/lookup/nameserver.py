"""Which DNS server to ask: an address and a port (RFC 1035 §4.2).

:class:`Nameserver` parses the ``--nameserver`` / ``nameservers =`` syntax (an IP address
literal, an optional port, ``[IPv6]:port``). Pure: the configuration layers validate with it
without importing sockets; the system's servers are read by ``lookup/stub.py``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["Nameserver"]


@dataclass(frozen=True, slots=True)
class Nameserver:
    """One server to ask: an IP address literal and a port."""

    host: str
    port: int = 53

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

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
