"""Click parameter callbacks shared by several commands: one wording for each usage error."""

from __future__ import annotations

import click

from spfkit.identity import normalize_ip


def client_ip(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """RFC 7208 §4.1 <ip>: an IPv4 or IPv6 address, given as written (stripped)."""
    if value is None:
        return None
    try:
        normalize_ip(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an IPv4 or IPv6 address") from None
    return value.strip()
