"""``spfkit-policyd``: ``spfkit policyd`` as Postfix's spawn(8) starts it, without click.

spawn(8) starts one process per SMTP connection, so start-up is paid per connection. This
entry point reads the command lines master.cf gives (``--config``, ``--nameserver``,
``--zone``, ``--timeout``, ``--test-only``, ``--log``, ``--log-level``, ``--listen``) itself,
and hands every other one — ``--help``, ``--check-config``, ``--explain``, ``--import``,
``--workers``, ``--metrics``, any mistake — to ``spfkit policyd`` (click), so that options,
help and error messages stay the same, word for word. What both run is here once:
:func:`overrides` (the options as configuration keys) and :func:`serve`.

Loads neither click nor the ``spfkit.cli`` package unless it hands over.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from spfkit.lookup.protocol import Resolver
    from spfkit.metrics import ServiceMetrics
    from spfkit.metrics.prometheus import MetricsServer
    from spfkit.policy.config import PolicyConfig
    from spfkit.policy.service import PolicyService

__all__ = ["CONFIG_DIR", "LEVELS", "default_config", "main", "overrides", "remote_warning",
           "serve"]

#: read when no --config is given and it exists; SPFKIT_CONFIG_DIR moves it (docs/operations.md)
CONFIG_DIR: Final = "/etc/spfkit"
#: ``--log-level`` → the configuration's ``debugLevel``
LEVELS: Final = {"warning": 0, "info": 1, "debug": 2}
#: the options read here, each taking one value (``--opt VALUE`` or ``--opt=VALUE``)
_VALUED: Final = frozenset({"--config", "--listen", "--nameserver", "--zone", "--timeout",
                            "--log", "--log-level"})


def default_config(name: str = "policyd.toml") -> str | None:
    """``name`` (``policyd.toml``, the milter's ``milter.toml``) in ``$SPFKIT_CONFIG_DIR``
    (else :data:`CONFIG_DIR`) if it exists."""
    path = os.path.join(os.environ.get("SPFKIT_CONFIG_DIR") or CONFIG_DIR, name)
    return path if os.path.exists(path) else None


def overrides(nameservers: Sequence[str], zones: Sequence[str], timeout: float | None,
              test_only: bool, log_target: str | None, log_level: str | None) -> dict[str, object]:
    """The configuration keys the service options set (a source given replaces the other;
    the caller refuses ``--zone`` with ``--nameserver``)."""
    keys: dict[str, object] = {}
    if nameservers:
        keys.update(nameservers=list(nameservers), zones=[])
    if zones:
        keys.update(zones=list(zones), nameservers=[])
    if timeout is not None:
        keys["dns_timeout"] = timeout
    if test_only:
        keys["test_only"] = True
    if log_target is not None:
        keys["log"] = log_target
    if log_level is not None:
        keys["debugLevel"] = LEVELS[log_level]
    return keys


def remote_warning(config: PolicyConfig) -> str | None:
    """A policy server anyone can reach answers anyone (as ``web`` needs --allow-remote)."""
    from ipaddress import ip_address

    where = config.listen
    if where is None or where.is_unix or ip_address(where.host).is_loopback:
        return None
    return (f"spfkit: warning: --listen {where} is not a loopback address: anyone who can reach "
            "it may query it; firewall the port to your Postfix hosts, or listen on 127.0.0.1 "
            f"and use check_policy_service inet:127.0.0.1:{where.port}")


def serve(config: PolicyConfig, load: Callable[[], PolicyConfig], resolver: Resolver, *,
          workers: int = 1,
          metrics: tuple[ServiceMetrics, MetricsServer | None] | None = None) -> int:
    """Answer on stdin/stdout (spawn(8)) or serve ``config.listen`` (``workers`` processes)
    until stopped; the exit status. Raises ``ServerError`` when the server cannot start."""
    from spfkit.policy.logs import configure_logging, stop_logging
    from spfkit.policy.server import PolicyServer, run_stdio
    from spfkit.policy.service import PolicyService

    if config.listen is None:
        service = PolicyService(config, resolver)
        configure_logging(config, stdio=True, queued=True)
        try:
            return run_stdio(service, reload=load)
        finally:
            _stop_logging(stop_logging)
    if workers > 1:
        from spfkit.policy.workers import run_workers

        return run_workers(config, load, resolver, workers)
    import asyncio

    from spfkit.metrics import NO_METRICS

    counters, endpoint = metrics or (NO_METRICS, None)
    service = PolicyService(config, resolver, metrics=counters)
    configure_logging(config, stdio=False, queued=True)
    _watch(counters, endpoint, service)
    try:
        asyncio.run(PolicyServer(service, reload=load).serve())
    finally:
        if endpoint is not None:
            endpoint.close()
        _stop_logging(stop_logging)
    return 0


def _watch(metrics: ServiceMetrics, endpoint: MetricsServer | None, service: PolicyService) -> None:
    """The parsed-record cache and the log queue, read at each scrape; the endpoint logged."""
    from spfkit.policy.logs import running_queue
    from spfkit.record.parse import RECORD_CACHE

    metrics.watch_cache("records", RECORD_CACHE.stats)
    if (queue := running_queue()) is not None:
        metrics.watch_log(queue)
    if endpoint is not None:
        service.log.info("serving metrics on %s", endpoint.url)


def _stop_logging(stop: Callable[[], bool]) -> None:
    """A log sink still stalled at exit (a pipe nobody reads) must not hang the exit."""
    if not stop():
        os._exit(0)  # the answers are all written; only unwritten log lines are lost


# --------------------------------------------------------------------------- the command line


def _parse(args: Sequence[str]) -> dict[str, list[str]] | None:
    """The options read here, each with its values in order; None for any other command
    line (then click reads it: its help, its checks, its messages)."""
    found: dict[str, list[str]] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--test-only":
            found.setdefault(arg, []).append("")
            continue
        name, equals, value = arg.partition("=")
        if name not in _VALUED:
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        if value.startswith("-"):
            return None  # click's reading of such a value is for click to give
        found.setdefault(name, []).append(value)
    return found


def _settings(found: dict[str, list[str]]) -> tuple[str | None, dict[str, object]] | None:
    """(--config, the configuration keys) as ``spfkit policyd`` makes them; None when click
    would refuse the values (it then says why)."""
    last = {name: values[-1] for name, values in found.items()}
    nameservers, zones = found.get("--nameserver", []), found.get("--zone", [])
    timeout: float | None = None
    if "--timeout" in last:
        try:
            timeout = float(last["--timeout"])
        except ValueError:
            return None
        if timeout <= 0:
            return None
    level = last.get("--log-level")
    if (zones and nameservers) or (level is not None and level not in LEVELS):
        return None
    keys = overrides(nameservers, zones, timeout, "--test-only" in found, last.get("--log"), level)
    if "--listen" in last:
        keys["listen"] = last["--listen"]
    return last.get("--config"), keys


def _hand_over(args: Sequence[str]) -> int:
    from spfkit.cli import main as spfkit_main

    return spfkit_main(["policyd", *args])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spfkit-policyd`` console script: ``spfkit policyd ARGS``."""
    args = list(sys.argv[1:] if argv is None else argv)
    found = _parse(args)
    settings = None if found is None else _settings(found)
    if settings is None:
        return _hand_over(args)
    config_path, keys = settings
    from spfkit.policy.config import ConfigError, load_config
    from spfkit.policy.server import ServerError
    from spfkit.policy.service import make_resolver

    path = config_path if config_path is not None else default_config()

    def load() -> PolicyConfig:
        return load_config(path, keys)

    try:
        config = load()
        resolver = make_resolver(config)  # loads zone files: a bad one fails here, at start-up
    except ConfigError as exc:
        print(f"spfkit: error: {exc}", file=sys.stderr)  # as ConfigurationError says it
        return 2
    if (warning := remote_warning(config)) is not None:
        print(warning, file=sys.stderr)
    try:
        return serve(config, load, resolver)
    except ServerError as exc:
        print(f"spfkit: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
