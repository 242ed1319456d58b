"""The DNS source options shared by every command that looks things up.

``--nameserver HOST[:PORT]`` (repeatable), ``--zone FILE`` (repeatable, offline) and
``--timeout SECONDS``; without either source, the system's resolver configuration is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from spfkit.cli.params import positive_seconds
from spfkit.lookup import CachingResolver, ZoneFileError, ZoneResolver, make_resolver
from spfkit.lookup.defaults import QUERY_TIMEOUT

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class DnsSource:
    """What the user asked for; :meth:`resolver` builds it (and fails with a usage error)."""

    nameservers: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    timeout: float = QUERY_TIMEOUT

    def resolver(self) -> ZoneResolver | CachingResolver:
        """The resolver asked for (``lookup.make_resolver``); bad input is a usage error."""
        if self.zones and self.nameservers:
            raise click.UsageError("--zone and --nameserver cannot be combined")
        try:
            return make_resolver(zones=self.zones, nameservers=self.nameservers,
                                 timeout=self.timeout)
        except ZoneFileError as exc:
            raise click.UsageError(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(f"--nameserver: {exc}") from None



def dns_options(func: F) -> F:
    """Add --nameserver, --zone and --timeout to a command (as ``dns_source``)."""
    func = click.option(
        "--timeout",
        type=float,
        default=QUERY_TIMEOUT,
        show_default=True,
        callback=positive_seconds,
        metavar="SECONDS",
        help="Time limit for each DNS query.",
    )(func)
    func = click.option(
        "--zone",
        "zones",
        multiple=True,
        metavar="FILE",
        help="Answer from this BIND master file instead of DNS (offline; repeatable).",
    )(func)
    func = click.option(
        "--nameserver",
        "nameservers",
        multiple=True,
        metavar="HOST[:PORT]",
        help="Ask this DNS server (IP address, optional port; repeatable) instead of the "
        "system's resolvers.",
    )(func)
    return func


def dns_source(nameservers: tuple[str, ...], zones: tuple[str, ...], timeout: float) -> DnsSource:
    return DnsSource(nameservers, zones, timeout)
