"""The options ``policyd`` and ``milter`` share: where to look things up, test-only, logging.

``--nameserver``/``--zone``/``--timeout`` (:mod:`spfkit.cli.dns_options`), ``--test-only``,
``--log`` and ``--log-level`` each override a key of the configuration file; the command gets
them as one ``overrides`` mapping (``policy.config`` key → value) instead of six arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from click.core import ParameterSource

from spfkit.cli.dns_options import dns_options
from spfkit.policy.entry import LEVELS, overrides

__all__ = ["LEVELS", "ConfigurationError", "service_options"]

F = TypeVar("F", bound=Callable[..., Any])

class ConfigurationError(click.ClickException):
    """A configuration that cannot be used: one line on stderr, exit status 2."""

    exit_code = 2


def service_options(*, test_only: str, log: str, log_level: str) -> Callable[[F], F]:
    """Add the DNS options, ``--test-only``, ``--log`` and ``--log-level`` (their help texts
    given); the command receives ``overrides: dict[str, object]`` for them."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, nameservers: tuple[str, ...], zones: tuple[str, ...],
                timeout: float, test_only: bool, log_target: str | None,
                log_level: str | None, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            timeout_given = ctx.get_parameter_source("timeout") is not ParameterSource.DEFAULT
            return command(*args, overrides=_overrides(
                nameservers, zones, timeout if timeout_given else None, test_only, log_target,
                log_level), **kwargs)

        wrapped = click.option("--log-level", type=click.Choice(list(LEVELS)),
                               help=log_level)(run)
        wrapped = click.option("--log", "log_target", metavar="syslog|stderr|FILE",
                               help=log)(wrapped)
        wrapped = click.option("--test-only", is_flag=True, help=test_only)(wrapped)
        return cast(F, dns_options(wrapped))

    return decorate


def _overrides(nameservers: tuple[str, ...], zones: tuple[str, ...], timeout: float | None,
               test_only: bool, log_target: str | None, log_level: str | None,
               ) -> dict[str, object]:
    """The configuration keys the options set (a source given replaces the other one)."""
    if zones and nameservers:
        raise click.UsageError("--zone and --nameserver cannot be combined")
    return overrides(nameservers, zones, timeout, test_only, log_target, log_level)
