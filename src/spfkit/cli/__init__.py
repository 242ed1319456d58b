"""The ``spfkit`` command line: a click group whose commands live in sibling modules.

Usage errors are one line on stderr and exit status 2 (never a traceback); every command
documents its own exit statuses in ``--help``.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

import click
from click.utils import make_default_short_help

from spfkit import __version__
from spfkit.errors import InputError


@dataclass(frozen=True, slots=True)
class _Entry:
    """Where a command lives, its one-line help, and the extra it needs installed."""

    target: str  # "module:attribute"
    summary: str
    fixed: bool = False  # ``summary`` is the command's short_help (shown whole)
    extra: str | None = None  # pip install 'spfkit[extra]'
    modules: tuple[str, ...] = ()  # what that extra provides


#: command name → where it lives; imported only when that command runs, so that a policy
#: server spawned by Postfix for every connection (and ``spfkit --help``) starts without
#: loading the rest. ``summary`` is the first paragraph of the command's help, or its
#: ``short_help`` where it sets one (``fixed``); a test checks they stay equal.
COMMANDS: dict[str, _Entry] = {
    "check": _Entry("spfkit.cli.check:check_command",
                    "Check whether IP may send mail for SENDER (RFC 7208 check_host())."),
    "lint": _Entry("spfkit.cli.lint:lint_command",
                   "Check the SPF record of DOMAIN (RFC 7208) for errors, risks and deprecated forms."),
    "show": _Entry("spfkit.cli.show:show_command",
                   "Show DOMAIN's SPF record and every include/redirect it reaches, with lookup counts."),
    "wizard": _Entry("spfkit.cli.wizard:wizard_command",
                     "Draft a domain's SPF record and print it as zone lines.", fixed=True),
    "flatten": _Entry("spfkit.cli.flatten:flatten_command",
                      "Flatten DOMAIN's SPF tree into networks within the lookup limit, proven equal."),
    "watch": _Entry("spfkit.cli.watch:watch_command",
                    "Resolve DOMAINs' SPF trees again and report what changed since the state file."),
    "policyd": _Entry("spfkit.cli.policyd:policyd_command",
                      "Postfix policy server: answer check_policy_service requests with the SPF verdict."),
    "verify": _Entry("spfkit.cli.verify:verify_command",
                     "Report what receivers make of a message: MAIL FROM, HELO and PRA checks."),
    "verifier": _Entry("spfkit.cli.verifier:verifier_command",
                       "Answer mail to check-auth@HOSTNAME with an authentication report.",
                       extra="verifier", modules=("aiosmtpd",)),
    "milter": _Entry("spfkit.cli.milter:milter_command",
                     "Milter: check SPF (HELO, MAIL FROM) and Sender ID (PRA) inside Postfix or Sendmail.",
                     extra="milter", modules=("Milter",)),
    "web": _Entry("spfkit.cli.web:web_command",
                  "Serve the wizard, checker (with flattening) and tester in a browser.", fixed=True,
                  extra="web", modules=("fastapi", "starlette", "uvicorn", "jinja2", "pydantic")),
    # survey: the single-machine run needs the core install only; --dask (dask.distributed)
    # and .parquet (pyarrow) say themselves which extra to install
    "survey": _Entry("spfkit.cli.survey:survey_command",
                     "Survey SPF (RFC 7208) and DMARC (RFC 7489) over a list of domains.",
                     extra="survey"),
    "stats": _Entry("spfkit.cli.stats:stats_command",
                    "Share of received mail by SPF result, from policyd/milter logs or mail headers."),
}


class _NeedsExtra(click.Command):
    """A command whose extra is not installed: ``--help`` works (with the command's own
    options when its module loads without the extra); anything else says what to install."""

    def __init__(self, name: str, entry: _Entry, module: str,
                 command: click.Command | None) -> None:
        self.message = (f"'spfkit {name}' needs the {entry.extra} extra ({module} is not "
                        f"installed): pip install 'spfkit[{entry.extra}]'")
        needs = f"Needs: pip install 'spfkit[{entry.extra}]'"
        if command is None:
            super().__init__(name, short_help=entry.summary, help=f"{entry.summary}\n\n{needs}",
                             context_settings={"ignore_unknown_options": True,
                                               "allow_extra_args": True})
            return
        super().__init__(name, params=command.params, help=command.help,
                         epilog=f"{command.epilog}\n\n{needs}" if command.epilog else needs,
                         short_help=command.short_help, options_metavar=command.options_metavar,
                         context_settings=command.context_settings)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not set(args) & set(ctx.help_option_names):
            raise click.ClickException(self.message)  # whatever the options: install first
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> None:
        raise click.ClickException(self.message)


def _missing_module(entry: _Entry) -> str | None:
    """The first module of ``entry``'s extra that is not installed (None: all are)."""
    for name in entry.modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").partition(".")[0]
            if top in entry.modules:
                return top  # fastapi installed without pydantic: "pydantic is not installed"
            raise
    return None


class _LazyGroup(click.Group):
    """A click group that imports a command's module only when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attr = entry.target.partition(":")
        try:  # a command module imports its extra only when it runs, if it can
            command = getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            top = (exc.name or "").partition(".")[0]
            if entry.extra is None or top not in entry.modules:
                raise
            return _NeedsExtra(cmd_name, entry, top, None)
        assert isinstance(command, click.Command)
        missing = _missing_module(entry)
        return command if missing is None else _NeedsExtra(cmd_name, entry, missing, command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing any command (as
        click writes it: a help-derived summary is cut to the width left)."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, entry.summary if entry.fixed else make_default_short_help(entry.summary, limit))
                for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="spfkit")
def cli() -> None:
    """spfkit — SPF (RFC 7208) and Sender ID tools for postmasters and mail operators."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spfkit`` console script; returns the exit status."""
    try:
        status = cli.main(args=argv, prog_name="spfkit", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see 'spfkit {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else ""
        if exc.ctx and not exc.ctx.parent:
            hint = " (see 'spfkit --help')"
        click.echo(f"spfkit: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except InputError as exc:  # a file found unreadable while it was being read
        click.echo(f"spfkit: error: {exc}", err=True)
        return 2
    except click.Abort:
        click.echo("spfkit: aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"spfkit: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    # without standalone mode, click returns what ctx.exit(n) was given instead of exiting
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
