"""Click parameter callbacks shared by several commands: one wording for each usage error."""

from __future__ import annotations

import math

import click

from spfkit.identity import is_valid_domain, written_ip
from spfkit.macros import parse_macro_string


def client_ip(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """RFC 7208 §4.1 <ip>: an IPv4 or IPv6 address, given as written (stripped)."""
    if value is None:
        return None
    try:
        return written_ip(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def domain_name(value: str) -> str:
    """A domain name as a user writes one (RFC 7208 §4.3): stripped, without a final dot;
    ``click.BadParameter`` for anything else (an address, a macro, white space inside)."""
    name = value.strip().rstrip(".")
    if not is_valid_domain(name) or any(c.isspace() or c in "@%" for c in name):
        raise click.BadParameter(f"{value!r} is not a domain name (like example.com)")
    return name


def domain(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A ``DOMAIN`` argument: :func:`domain_name`."""
    return domain_name(value)


def domains(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """A repeatable option of domain names: each :func:`domain_name`, in lower case."""
    return tuple(domain_name(v).lower() for v in value)


def finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A number that is one: ``nan`` and ``inf`` pass click's ``FloatRange`` but mean nothing
    as a rate or a time limit."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number")
    return value


def positive_seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A time limit: a finite number of seconds more than 0 (``nan`` and ``inf`` are not)."""
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"{value!r}: must be more than 0 seconds (a finite number)")
    return value


def explanation(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """RFC 7208 §6.2: an explanation string is a macro-string (``%{c}``, ``%{r}``, ``%{t}``
    allowed); one that does not parse is refused here, not used for every fail."""
    try:
        parse_macro_string(value, explanation=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


#: ``--time-budget SECONDS`` of the commands that check (RFC 7208 §4.6.4 asks for a limit)
time_budget_option = click.option(
    "--time-budget", type=float, default=20.0, show_default=True, metavar="SECONDS",
    callback=positive_seconds, help="Time limit of each check (RFC 7208 §4.6.4).")
