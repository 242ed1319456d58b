"""Which relays of a message's path are the receiver's own: trusted and internal networks.

Each MTA prepends a ``Received:`` field naming the host it got the message from (RFC 5321
§4.4). Only the fields written by the receiver's own hosts can be believed; the first host
*they* name that is not one of them is the SMTP client SPF checks (RFC 7208 §2.1, §4.1).
Like SpamAssassin's ``trusted_networks``/``internal_networks``, loopback, private
(RFC 1918), unique-local (RFC 4193) and link-local addresses are the receiver's own by
default — a content filter on 127.0.0.1 (amavis), a relay on the LAN — and
``--trusted-relay NET`` adds the networks of its other relays. Pure: imports no asyncio,
socket or dnspython.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Final

from spfkit.identity import normalize_ip

__all__ = ["DEFAULT_RELAYS", "INTERNAL_NETWORKS", "Network", "TrustedRelays", "parse_network"]

Network = IPv4Network | IPv6Network

#: never a sender on the Internet: the receiver's own hosts or its LAN, and why
INTERNAL_NETWORKS: Final[tuple[tuple[Network, str], ...]] = tuple(
    (ip_network(net), why) for net, why in (
        ("127.0.0.0/8", "loopback"), ("::1/128", "loopback"),
        ("10.0.0.0/8", "private, RFC 1918"), ("172.16.0.0/12", "private, RFC 1918"),
        ("192.168.0.0/16", "private, RFC 1918"),
        ("fc00::/7", "unique local, RFC 4193"),
        ("169.254.0.0/16", "link-local"), ("fe80::/10", "link-local"),
    )
)


def parse_network(text: str) -> Network:
    """``192.0.2.0/24``, ``2001:db8::/32`` or one address; ``ValueError`` otherwise.

    Host bits are allowed (``192.0.2.7/24`` means its network), as in SpamAssassin.
    """
    address, slash, length = text.strip().partition("/")
    base = normalize_ip(address)  # IPv4-mapped IPv6 is IPv4, as for the client itself
    return ip_network(f"{base}/{length}" if slash else str(base), strict=False)


@dataclass(frozen=True, slots=True)
class TrustedRelays:
    """The receiver's own relays: ``networks`` given, and the internal ones when ``internal``."""

    networks: tuple[Network, ...] = ()
    internal: bool = True

    def why_trusted(self, ip: str) -> str | None:
        """Why ``ip`` is one of the receiver's own hosts ("loopback", "trusted relay
        192.0.2.0/24"), or None when it is not (or is not an address)."""
        try:
            address = normalize_ip(ip)
        except ValueError:
            return None
        for net in self.networks:
            if address.version == net.version and address in net:
                return f"trusted relay {net}"
        if self.internal:
            for net, why in INTERNAL_NETWORKS:
                if address.version == net.version and address in net:
                    return why
        return None


#: no relays of its own given: the internal networks only
DEFAULT_RELAYS: Final = TrustedRelays()
