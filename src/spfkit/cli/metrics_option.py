"""``--metrics HOST:PORT``: the Prometheus endpoint of a long-running command (docs/metrics.md).

One option, one wording of its errors, for every service that has it (``policyd --listen``,
``milter``, ``web``). Without the option nothing is imported and the
service gets :data:`spfkit.metrics.NO_METRICS`; with it, ``prometheus_client`` is needed
(``spfkit[metrics]``) and a missing one is said as for a command's missing extra (exit 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from spfkit.metrics import ServiceMetrics
    from spfkit.metrics.prometheus import MetricsServer

__all__ = ["metrics_option", "start_metrics"]

F = TypeVar("F", bound=Callable[..., object])


def _address(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` or ``[IPv6]:PORT`` (an IP address; port 0 picks a free one)."""
    if value is None:
        return None
    from spfkit.policy._options import parse_listen

    try:
        address = parse_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if address.is_unix:
        raise click.BadParameter(f"{value!r}: the metrics endpoint is HTTP over TCP: HOST:PORT")
    return address.host, address.port


def metrics_option(command: F) -> F:
    """Adds ``--metrics HOST:PORT`` (passed as ``metrics_address``)."""
    return click.option(
        "--metrics", "metrics_address", metavar="HOST:PORT", callback=_address,
        help="Serve Prometheus metrics at http://HOST:PORT/metrics (needs the metrics "
        "extra: pip install 'spfkit[metrics]'; docs/metrics.md lists them).")(command)


def start_metrics(address: tuple[str, int] | None, service: str,
                  ) -> tuple[ServiceMetrics, MetricsServer | None]:
    """The metrics for ``service`` and their running endpoint, or the silent ones and None."""
    from spfkit.metrics import NO_METRICS

    if address is None:
        return NO_METRICS, None
    try:
        from spfkit.metrics.prometheus import PrometheusMetrics, serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "prometheus_client":
            raise
        raise click.ClickException("--metrics needs the metrics extra (prometheus_client is "
                                   "not installed): pip install 'spfkit[metrics]'") from None
    host, port = address
    metrics = PrometheusMetrics(service)
    try:
        server = serve(metrics, host, port)
    except OSError as exc:
        raise click.UsageError(f"--metrics: cannot listen on {host}:{port}: "
                               f"{exc.strerror or exc}") from None
    return metrics, server
