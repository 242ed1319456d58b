"""The ``spfkit`` command line: a click group whose commands live in sibling modules.

Usage errors are one line on stderr and exit status 2 (never a traceback); every command
documents its own exit statuses in ``--help``.
"""

from __future__ import annotations

import importlib
import sys

import click

from spfkit import __version__

#: command name → "module:attribute"; imported only when that command runs, so that a
#: policy server spawned by Postfix for every connection starts without loading the rest
COMMANDS: dict[str, str] = {
    "check": "spfkit.cli.check:check_command",
    "lint": "spfkit.cli.lint:lint_command",
    "show": "spfkit.cli.show:show_command",
    "wizard": "spfkit.cli.wizard:wizard_command",
    "policyd": "spfkit.cli.policyd:policyd_command",
    "verify": "spfkit.cli.verify:verify_command",
    "verifier": "spfkit.cli.verifier:verifier_command",
    "web": "spfkit.cli.web:web_command",
}


class _LazyGroup(click.Group):
    """A click group that imports a command's module only when the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


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
