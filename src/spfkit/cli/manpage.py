"""Manual pages from the command line itself: click's command tree → troff, one page a command.

``python -m spfkit.cli.manpage DIR`` (or ``scripts/make-man.sh``) writes ``spfkit.1`` and
``spfkit-COMMAND.1`` for every command in :data:`spfkit.cli.COMMANDS`, from the same help text
``--help`` prints: NAME (the summary), SYNOPSIS (click's usage), DESCRIPTION (the help's
paragraphs; click's ``\\b`` paragraphs keep their lines, or become a list when each line is
an example and its meaning), OPTIONS (each option's help record,
defaults included) and SEE ALSO. Nothing but the text changes form: a page cannot say what
``--help`` does not. Text is escaped for troff (backslashes, leading dots and quotes,
hyphens in options), and every character outside ASCII is written as ``\\[uXXXX]``, so the
pages render the same in any locale. The pages carry no date (reproducible builds).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import click

from spfkit import __version__

__all__ = ["escape", "main", "page", "pages", "write_pages"]

SECTION: Final = "1"
MANUAL: Final = "spfkit manual"


def escape(text: str) -> str:
    """``text`` as troff input on one line: ``\\`` doubled as ``\\e``, ``-`` as ``\\-``,
    non-ASCII as ``\\[uXXXX]``, and a leading ``.`` or ``'`` made harmless."""
    out = []
    for char in text.replace("\\", "\\e"):
        if char == "-":
            out.append("\\-")
        elif ord(char) > 127:
            out.append(f"\\[u{ord(char):04X}]")
        else:
            out.append(char)
    line = "".join(out)
    return f"\\&{line}" if line.startswith((".", "'")) else line


def _paragraphs(help_text: str) -> Iterator[tuple[bool, list[str]]]:
    """click's help as (keep lines?, lines) paragraphs; text after ``\\f`` is not help."""
    text = inspect.cleandoc(help_text.split("\f", 1)[0])
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if not lines:
            continue
        if lines[0].strip() == "\b":
            yield True, lines[1:]
        else:
            yield False, [" ".join(" ".join(lines).split())]


_ITEM: Final = re.compile(r"^(\s*)(\S.*?)\s{2,}(\S.*)$")  # "  0  clean: no findings"


def _kept(block: list[str]) -> list[str]:
    """A ``\\b`` paragraph: lines of "term  meaning" (a meaning's continuation indented
    deeper) become a list, other lines stay lines; troff breaks and indents them itself."""
    out = [".PP"]
    indent: int | None = None
    for line in block:
        depth = len(line) - len(line.lstrip())
        item = _ITEM.match(line)
        if indent is not None and depth > indent and not (item and len(item.group(1)) == indent):
            out.append(escape(line.strip()))  # continues the meaning above
        elif item:
            indent = len(item.group(1))
            out.extend([".TP", f"\\fB{escape(item.group(2))}\\fR", escape(item.group(3))])
        else:
            indent = None
            out.extend([".PP" if out[-1] != ".PP" else ".br", escape(line.strip())])
    if any(len(word) > 40 for word in " ".join(block).split()):  # a path: never broken
        return [".PP", ".nf", *(escape(line) for line in block), ".fi"]
    return out


def page(command: click.Command, ctx: click.Context, *, name: str, see_also: list[str]) -> str:
    """The troff source of the page of ``command`` (run as ``ctx``), called ``name``."""
    title = name.upper()
    help_text = "\n\n".join(inspect.cleandoc(text) for text in (
        command.help or command.short_help or "", command.epilog or "") if text)
    summary = command.get_short_help_str(limit=1000)
    lines = [f'.TH "{escape(title)}" "{SECTION}" "" "spfkit {__version__}" "{MANUAL}"',
             ".nh",  # no hyphenation: option and page names stay whole (searchable, copyable)
             ".SH NAME", f"{escape(name)} \\- {escape(summary)}",
             ".SH SYNOPSIS", f".B {escape(ctx.command_path)}",
             escape(" ".join(command.collect_usage_pieces(ctx)))]
    lines.append(".SH DESCRIPTION")
    for keep, block in _paragraphs(help_text):
        if keep:
            lines.extend(_kept(block))
        else:
            lines.extend([".PP", escape(block[0])])
    records = [r for p in command.get_params(ctx) if (r := p.get_help_record(ctx))]
    if records:
        lines.append(".SH OPTIONS")
        for opts, text in records:
            lines.extend([".TP", f"\\fB{escape(opts)}\\fR", escape(" ".join(text.split()))])
    if isinstance(command, click.Group):
        lines.append(".SH COMMANDS")
        for sub in command.list_commands(ctx):
            found = command.get_command(ctx, sub)
            if found is not None and not found.hidden:
                lines.extend([".TP", f"\\fB{escape(sub)}\\fR",
                              escape(found.get_short_help_str(limit=1000))])
    if see_also:
        lines.extend([".SH SEE ALSO",
                      ",\n".join(f".BR \\%{escape(other)} ({SECTION})"  # \% never hyphenates
                                for other in see_also)])
    return "\n".join(lines) + "\n"


def pages(group: click.Group | None = None) -> dict[str, str]:
    """``{file name: troff}`` for the group (``spfkit``) and each of its commands."""
    if group is None:
        from spfkit.cli import cli as group
    assert group is not None
    root = click.Context(group, info_name="spfkit")
    names = [n for n in group.list_commands(root) if (c := group.get_command(root, n))
             and not c.hidden]
    found: dict[str, str] = {
        f"spfkit.{SECTION}": page(group, root, name="spfkit",
                                  see_also=[f"spfkit-{n}" for n in names])}
    for name in names:
        command = group.get_command(root, name)
        assert command is not None
        ctx = click.Context(command, info_name=name, parent=root)
        others = ["spfkit"] + [f"spfkit-{n}" for n in names if n != name]
        found[f"spfkit-{name}.{SECTION}"] = page(command, ctx, name=f"spfkit-{name}",
                                                 see_also=others)
    return found


def write_pages(directory: Path) -> list[Path]:
    """Write every page into ``directory`` (made if missing); the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in pages().items():
        path = directory / file_name
        path.write_text(text, encoding="ascii")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m spfkit.cli.manpage DIR``: write the pages, print their paths."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m spfkit.cli.manpage DIR", file=sys.stderr)
        return 2
    for path in write_pages(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
