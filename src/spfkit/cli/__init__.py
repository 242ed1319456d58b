"""The ``spfkit`` command line: a click group whose commands live in sibling modules.

Usage errors are one line on stderr and exit status 2 (never a traceback); every command
documents its own exit statuses in ``--help``.
"""

from __future__ import annotations

import sys

import click

from spfkit import __version__
from spfkit.cli.check import check_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="spfkit")
def cli() -> None:
    """spfkit — SPF (RFC 7208) and Sender ID tools for postmasters and mail operators."""


cli.add_command(check_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spfkit`` console script; returns the exit status."""
    try:
        cli.main(args=argv, prog_name="spfkit", standalone_mode=False)
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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
