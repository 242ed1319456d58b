"""``spfkit policyd``: the Postfix SMTP access policy server (see docs/policyd.md).

Kept light to import: Postfix's spawn(8) starts one process per SMTP connection, so the policy
modules are imported only when the command runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from spfkit.cli.metrics_option import metrics_option, start_metrics
from spfkit.cli.service_options import ConfigurationError, service_options
from spfkit.policy.entry import CONFIG_DIR, default_config, remote_warning, serve

if TYPE_CHECKING:
    from spfkit.policy.config import PolicyConfig
    from spfkit.policy.service import Explanation, PolicyService

#: where an installed wheel keeps docs/*.md and examples/ (pyproject.toml's data-files)
DOC_DIR = os.path.join(sys.prefix, "share", "doc", "spfkit")
_MAX_EXPLAIN_INPUT = 1 << 20


@click.command("policyd", epilog=f"\b\nDocumentation:  {DOC_DIR}/docs/policyd.md\n"
               f"Example file:   {DOC_DIR}/examples/policyd.toml")
@click.option("--config", "config_path", metavar="FILE",
              help="Configuration file: spfkit's TOML or policyd-spf's policyd-spf.conf, told "
              f"apart by their syntax [default: {CONFIG_DIR}/policyd.toml when it exists; "
              "docs/policyd.md lists every option, examples/policyd.toml sets each].")
@click.option("--listen", metavar="ADDR",
              help="Run as a server on HOST:PORT, [IPv6]:PORT or unix:/path instead of "
              "answering on stdin/stdout (Postfix spawn(8) mode); a non-loopback address "
              "gets a warning on stderr.")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="With --listen HOST:PORT: this many server processes share the port "
              "(SO_REUSEPORT), one per core; a worker that dies is restarted.")
@service_options(
    test_only="Decide and log, but never reject or defer (overrides test_only).",
    log="Where to log [default: syslog in spawn mode, stderr with --listen].",
    log_level="warning, info (one line per decision) or debug (adds the evaluation "
    "trace); overrides debugLevel.")
@metrics_option
@click.option("--check-config", is_flag=True,
              help="Check the configuration (and load its zone files), print a summary, exit.")
@click.option("--import", "import_path", metavar="FILE",
              help="Write policyd-spf's FILE as spfkit's TOML (stdout, or -o), with a comment "
              "per option whose meaning changed or that does not apply, and exit.")
@click.option("-o", "--output", "output_path", metavar="FILE",
              help="With --import: write the TOML to FILE instead of stdout.")
@click.option("--explain", is_flag=True,
              help="Read one policy request (name=value lines) on stdin, print what would be "
              "answered and why, exit.")
def policyd_command(
    config_path: str | None,
    listen: str | None,
    workers: int,
    overrides: dict[str, object],
    check_config: bool,
    import_path: str | None,
    output_path: str | None,
    explain: bool,
    metrics_address: tuple[str, int] | None,
) -> None:
    """Postfix policy server: answer check_policy_service requests with the SPF verdict.

    Without --listen it answers requests on stdin and stdout until end of input, as Postfix's
    spawn(8) runs it (master.cf: "policy unix - n n - 0 spawn user=nobody argv=/usr/local/bin/spfkit
    policyd"). With --listen it is a long-running server for many connections: SIGTERM stops
    it after the answers in flight, SIGHUP reloads --config.

    --nameserver, --zone, --timeout, --listen, --test-only, --log and --log-level override
    the configuration file.

    --import FILE writes policyd-spf's configuration file as spfkit's TOML (--config also
    reads such a file directly).

    --metrics needs --listen (spawn(8) starts a process per connection) and one worker.

    Exit status: 0 when stopped or at end of input (or a valid --check-config or --import),
    1 when the server cannot start (or --output cannot be written, or, with --workers, a
    worker kept dying), 2 for a usage error or an invalid configuration (every mistake
    listed, each with its key and line).
    """
    if check_config and explain:
        raise click.UsageError("--check-config and --explain cannot be combined")
    if output_path is not None and import_path is None:
        raise click.UsageError("--output goes with --import")
    if import_path is not None:
        if config_path or listen or check_config or explain:
            raise click.UsageError(
                "--import takes no --config, --listen, --check-config or --explain")
        _import(import_path, output_path)
        return
    if listen is not None:
        overrides["listen"] = listen

    from spfkit.policy.config import ConfigError, load_config

    if config_path is None:
        config_path = default_config()

    def load() -> PolicyConfig:
        return load_config(config_path, overrides)

    try:
        config = load()
        if metrics_address is not None and (config.listen is None or check_config or explain):
            raise click.UsageError("--metrics needs --listen (or listen in the configuration)"
                                   " and cannot be combined with --check-config or --explain")
        if workers > 1 and (config.listen is None or config.listen.is_unix):
            raise click.UsageError("--workers needs a TCP listen address (--listen HOST:PORT)")
        if workers > 1 and metrics_address is not None:
            raise click.UsageError("--metrics serves one process's counters: it cannot be "
                                   "combined with --workers (run one worker per --metrics port)")
        _run(config, load, check_config=check_config, explain=explain,
             metrics_address=metrics_address, workers=workers)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None


def _run(config: PolicyConfig, load: Callable[[], PolicyConfig], *, check_config: bool,
         explain: bool, metrics_address: tuple[str, int] | None = None,
         workers: int = 1) -> None:
    from spfkit.policy.logs import configure_logging
    from spfkit.policy.server import ServerError
    from spfkit.policy.service import PolicyService, make_resolver

    resolver = make_resolver(config)  # loads zone files: a bad one fails here, at start-up
    if (warning := remote_warning(config)) is not None:
        click.echo(warning, err=True)
    if check_config:
        _print_summary(config)
        return
    if explain:
        configure_logging(config, stdio=False, level=40)
        service = PolicyService(config, resolver)
        _explain(service)
        return
    metrics = start_metrics(metrics_address, "policyd") if config.listen and workers == 1 else None
    try:
        status = serve(config, load, resolver, workers=workers, metrics=metrics)
    except ServerError as exc:
        raise click.ClickException(str(exc)) from None
    raise click.exceptions.Exit(status)


def _import(path: str, output: str | None) -> None:
    from spfkit.policy.config import ConfigError, load_config, read_text
    from spfkit.policy.legacy import Format, to_toml, toml_only, translate

    try:
        text = read_text(path)
        # --import says the file is policyd-spf's: read it so, unless it cannot be (a file
        # of bare Name = value lines is valid TOML too; comments only: policyd-spf's defaults)
        if toml_only(text):
            raise ConfigurationError(f"{path}: already spfkit's TOML format (not policyd-spf's "
                                     "Name = value lines): use it with --config as it is")
        # every mistake is reported before anything is written
        load_config(path, source_format=Format.POLICYD_SPF)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    result = to_toml(translate(text), path)
    if output is None:
        click.echo(result, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(result)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None


def verdict_lines(config: PolicyConfig) -> list[str]:
    """``--check-config``'s lines for HELO and MAIL FROM: what each result does, if checked."""
    from spfkit.identity import Identity
    from spfkit.results import Result

    lines = []
    for identity, checked in ((Identity.HELO, config.check_helo),
                              (Identity.MAILFROM, config.check_mailfrom)):
        if not checked:
            lines.append(f"  {identity.value}: not checked")
            continue
        table = ", ".join(f"{r.value}={config.verdict(identity, r).value}" for r in Result)
        lines.append(f"  {identity.value}: {table}")
    return lines


def _print_summary(config: PolicyConfig) -> None:
    source = config.source or "(no file: the defaults)"
    click.echo(f"{source}: OK")
    if config.source:
        click.echo(f"  format: {config.source_format.value}"
                   + (" (Name = value lines; policyd-spf's defaults where it is silent)"
                      if config.source_format.value == "policyd-spf" else ""))
    for note in config.notes:
        click.echo(f"  note: {note}")
    for line in verdict_lines(config):
        click.echo(line)
    if config.reject_not_pass_domains:
        click.echo("  fail, softfail, neutral rejected for (Reject_Not_Pass_Domains): "
                   + ", ".join(config.reject_not_pass_domains))
    headers = ", ".join(kind.value for kind in config.header_type) or "none"
    click.echo(f"  headers: {headers}; test_only: {str(config.test_only).lower()}")
    dns = (f"zones {', '.join(config.zones)}" if config.zones else
           f"nameservers {', '.join(config.nameservers)}" if config.nameservers else
           "the system's nameservers")
    click.echo(f"  DNS: {dns}; deadline {config.deadline:g} s, Lookup_Time {config.lookup_time:g} s")
    where = str(config.listen) if config.listen else "stdin/stdout (spawn)"
    click.echo(f"  listen: {where}")


def _explain(service: PolicyService) -> None:
    from spfkit.policy.protocol import PolicyReader

    data = sys.stdin.buffer.read(_MAX_EXPLAIN_INPUT)
    reader = PolicyReader()
    items = reader.feed(data)
    if not items and reader.pending:  # the last request may lack its empty line
        items = reader.feed(b"\n" if data.endswith(b"\n") else b"\n\n")
    if not items:
        raise click.UsageError("--explain needs one policy request (name=value lines) on stdin")
    explanation = asyncio.run(service.explain(items[0]))
    for line in explanation_lines(explanation, debug=service.config.debuglevel >= 2):
        click.echo(line)


def explanation_lines(explanation: Explanation, *, debug: bool = False) -> list[str]:
    """The text ``--explain`` prints: the request, each check, the decision and the reply."""
    from spfkit.headers import quote_value
    from spfkit.policy.protocol import ProtocolError
    from spfkit.policy.service import trace_lines

    item, decision = explanation.item, explanation.decision
    if isinstance(item, ProtocolError):
        return [f"request:  malformed: {quote_value(item.reason)}",
                f"reply:    action={explanation.reply.action}"]
    lines = [
        f"request:  state={quote_value(item.protocol_state)} client={item.client_address} "
        f"helo={quote_value(item.helo_name)} sender={quote_value(item.sender or '<>')} "
        f"recipient={quote_value(item.recipient)} instance={quote_value(item.instance)}",
    ]
    lines.extend(f"note:     {quote_value(note)}" for note in item.notes)
    checks = explanation.checks
    if explanation.note:
        lines.append(f"skip:     {explanation.note}")
    elif checks is not None and checks.skip is not None:
        lines.append(f"skip:     {checks.skip}")
    elif checks is not None:
        for name, result in (("helo", checks.helo), ("mailfrom", checks.mailfrom)):
            if result is None:
                lines.append(f"{name + ':':9} not checked")
                continue
            text = f"{name + ':':9} {result.result.value} (domain {quote_value(result.domain or '-')}"
            text += f", mechanism {quote_value(result.mechanism)})" if result.mechanism else ")"
            if result.explanation:
                text += f" explanation {quote_value(result.explanation)}"
            if result.problem:
                text += f" problem {quote_value(result.problem)}"
            lines.append(text)
            if debug:
                lines.extend(f"          {line}" for line in trace_lines(result))
    lines.append(f"decision: {decision.outcome.value}: {decision.why}")
    if decision.would:
        lines.append(f"would:    {decision.would}")
    lines.append(f"reply:    action={explanation.reply.action}")
    lines.extend(f"header:   {header}" for header in decision.headers)
    if decision.log_line:
        lines.append(f"log:      {decision.log_line}")
    return lines
