"""``spfkit milter``: SPF and Sender ID checked inside the MTA (see docs/milter.md).

Needs the ``milter`` extra (pymilter, built against libmilter): the command imports it only
when it runs.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING

import click

from spfkit.cli.metrics_option import metrics_option, start_metrics
from spfkit.cli.service_options import ConfigurationError, service_options

if TYPE_CHECKING:
    from spfkit.milter.config import MilterConfig


@click.command("milter")
@click.option("--config", "config_path", metavar="FILE",
              help="TOML configuration file: policyd's options plus a [milter] table "
              "(docs/milter.md) [default: /etc/spfkit/milter.toml when it exists].")
@click.option("--listen", metavar="unix:/path|inet:HOST:PORT",
              help="The milter socket (overrides [milter] listen).")
@service_options(
    test_only="Decide, mark and log, but never reject or defer (overrides test_only).",
    log="Where to log [default: stderr].",
    log_level="warning, info (one line per message) or debug; overrides debugLevel.")
@metrics_option
@click.option("--check-config", is_flag=True,
              help="Check the configuration (and load its zone files), print a summary, exit.")
@click.option("--stats", is_flag=True,
              help="Print the running milter's counters (JSON) from its control socket, exit.")
@click.option("--control-socket", metavar="PATH",
              help="The control socket (overrides [milter] control_socket).")
def milter_command(
    config_path: str | None,
    listen: str | None,
    overrides: dict[str, object],
    metrics_address: tuple[str, int] | None,
    check_config: bool,
    stats: bool,
    control_socket: str | None,
) -> None:
    """Milter: check SPF (HELO, MAIL FROM) and Sender ID (PRA) inside Postfix or Sendmail.

    A long-running service on a libmilter socket (Postfix main.cf: "smtpd_milters =
    inet:127.0.0.1:8894"). One DNS cache serves every message. SIGHUP reloads --config (a
    configuration that is invalid is refused and the running one kept; the counters go on);
    SIGTERM stops after the messages in flight.

    --nameserver, --zone, --timeout, --listen, --test-only, --log and --log-level override
    the configuration file. --metrics serves the counters --stats prints (and DNS, cache and
    latency figures) to Prometheus; it cannot be combined with --check-config or --stats.

    Exit status: 0 when stopped (or a valid --check-config, or --stats answered),
    1 when the milter cannot start (or --metrics lacks the metrics extra) or the control
    socket does not answer, 2 for a usage error or an invalid configuration.
    """
    if check_config and stats:
        raise click.UsageError("--check-config and --stats cannot be combined")
    if metrics_address is not None and (check_config or stats):
        raise click.UsageError("--metrics cannot be combined with --check-config or --stats")
    milter_overrides: dict[str, object] = {}
    if listen is not None:
        milter_overrides["listen"] = listen
    if control_socket is not None:
        milter_overrides["control_socket"] = control_socket

    from spfkit.milter.config import load_milter_config
    from spfkit.policy.config import ConfigError
    from spfkit.policy.entry import default_config

    if config_path is None:
        config_path = default_config("milter.toml")

    def load() -> MilterConfig:
        return load_milter_config(config_path, overrides, milter_overrides)

    try:
        config = load()
        if stats:
            _stats(config)
            return
        _run(config, load, check_config=check_config, metrics_address=metrics_address)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None


def _stats(config: MilterConfig) -> None:
    from spfkit.milter.control import ask

    path = config.control_socket
    if not path:
        raise click.UsageError("--stats needs --control-socket or [milter] control_socket")
    try:
        answer = ask(path)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"the milter's control socket {path} does not answer: "
                                   f"{getattr(exc, 'strerror', None) or exc}") from None
    click.echo(json.dumps(answer, indent=2, sort_keys=True))


def _run(config: MilterConfig, load: object, *, check_config: bool,
         metrics_address: tuple[str, int] | None = None) -> None:
    from spfkit.milter.server import MilterServer
    from spfkit.policy.logs import configure_logging, stop_logging
    from spfkit.policy.server import ServerError
    from spfkit.policy.service import make_resolver

    make_resolver(config.policy)  # loads zone files: a bad one fails here, at start-up
    if check_config:
        _print_summary(config)
        return
    if config.listen is None:
        raise click.UsageError("no milter socket: give --listen or [milter] listen")
    from spfkit import logsink
    from spfkit.record.parse import RECORD_CACHE

    metrics, endpoint = start_metrics(metrics_address, "milter")
    logger = configure_logging(config.policy, stdio=False)
    _name_lines(logger)
    queue = logsink.start(logger)  # a stalled log sink never holds a reply to the MTA
    metrics.watch_cache("records", RECORD_CACHE.stats)
    metrics.watch_log(queue)
    if endpoint is not None:
        logger.info("serving metrics on %s", endpoint.url)
    assert callable(load)
    server = MilterServer(config, load, logger=logger, metrics=metrics)
    try:
        status = server.serve()
    except ServerError as exc:  # the socket: policyd's line and exit status
        raise click.ClickException(str(exc)) from None
    finally:
        if endpoint is not None:
            endpoint.close()
        if not (queue.stop() and stop_logging()):
            os._exit(0)
    raise click.exceptions.Exit(status)


def _name_lines(logger: logging.Logger) -> None:
    """The policy's log sinks, with this program's name on each line (``spfkit-milter[PID]:``)."""
    from logging.handlers import SysLogHandler

    from spfkit.logsink import OneLineFormatter

    name = f"spfkit-milter[{os.getpid()}]: "
    for handler in logger.handlers:
        if isinstance(handler, SysLogHandler):
            handler.ident = name
        elif isinstance(handler.formatter, OneLineFormatter) and handler.formatter.prefix:
            handler.formatter.prefix = name


def _print_summary(config: MilterConfig) -> None:
    from spfkit.cli.policyd import verdict_lines
    from spfkit.results import Result

    policy = config.policy
    click.echo(f"{policy.source or '(no file: the defaults)'}: OK")
    for line in verdict_lines(policy):
        click.echo(line)
    if config.check_pra:
        table = ", ".join(f"{r.value}={config.pra_verdict(r).value}" for r in Result)
        click.echo(f"  pra: {table}; no PRA: {config.no_pra.value}")
    else:
        click.echo("  pra: not checked")
    headers = ", ".join(kind.value for kind in policy.header_type) or "none"
    click.echo(f"  headers: {headers}; remove forged: {str(config.remove_forged).lower()}; "
               f"test_only: {str(policy.test_only).lower()}; reject at: {config.reject_stage.value}")
    from spfkit.milter.config import postfix_socket

    where = postfix_socket(config.listen) if config.listen else "(not set)"
    click.echo(f"  listen: {where}; control socket: "
               f"{config.control_socket or '(none)'}")
