"""The wizard's :class:`~spfkit.wizard.interactive.Prompter` on a terminal, with click."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

__all__ = ["ClickPrompter"]

T = TypeVar("T")


class ClickPrompter:
    """:class:`Prompter` on the terminal with click, writing to stderr."""

    def ask(self, question: str, parse: Callable[[str], T], default: str) -> T:
        def convert(text: str) -> T:
            try:
                return parse(text)
            except ValueError as exc:
                # click.prompt prints "Error: <message>" and asks again
                raise click.UsageError(f"{exc} - try again.") from None

        # Enter on an empty default answers "none"; click would show that as "[]"
        shown = question if default else f"{question} [none]"
        value: T = click.prompt(
            shown, default=default, value_proc=convert, show_default=bool(default), err=True
        )
        return value

    def confirm(self, question: str, default: bool) -> bool:
        return click.confirm(question, default=default, err=True)

    def say(self, text: str) -> None:
        click.echo(text, err=True)
