"""``spfkit lint`` over several domains: the names, a bounded number at a time, one line each.

The domains come from the arguments and ``--from-file FILE`` (``-`` for standard input: one
domain a line, ``#`` starts a comment); each is linted by :func:`spfkit.lint.lint_domain`
through one shared resolver, at most ``jobs`` at a time, and reported in the order given.
``--format csv`` and ``--format json`` print one line per domain
(:class:`spfkit.lint.summary.LintSummary`); text prints each report in full.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Iterable, Sequence
from typing import Final

import click

from spfkit.identity import is_valid_domain
from spfkit.lint import LintReport, lint_domain
from spfkit.lint.summary import COLUMNS, LintSummary
from spfkit.lookup.protocol import Resolver
from spfkit.tree import RecordTree, build_tree
from spfkit.visible import json_text

__all__ = ["MAX_DOMAINS", "MAX_JOBS", "domain_name", "lint_domains", "read_domains",
           "unique", "write_csv", "write_json_lines"]

#: more than this is a survey (``spfkit survey``), not a handful
MAX_DOMAINS: Final = 10_000
#: concurrent domains at most (``--jobs``)
MAX_JOBS: Final = 64
_MAX_FILE: Final = 4 * 1024 * 1024


def domain_name(text: str, where: str) -> str:
    """``text`` as a domain name (no trailing dot), or a usage error naming ``where``."""
    name = text.strip().rstrip(".")
    if not name or " " in name or not is_valid_domain(name):
        raise click.UsageError(f"{where}: {text.strip()!r} is not a domain name")
    return name


def read_domains(path: str) -> list[str]:
    """The domains of a file (``-``: standard input), one a line; blank lines and ``#…`` skipped."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(_MAX_FILE + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(_MAX_FILE + 1)
    except OSError as exc:
        raise click.UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > _MAX_FILE:
        raise click.UsageError(f"{path} is over {_MAX_FILE // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.UsageError(f"{path} is not UTF-8 text") from None
    shown = "standard input" if path == "-" else path
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if content:
            names.append(domain_name(content, f"{shown}, line {number}"))
    return names


def unique(names: Iterable[str]) -> list[str]:
    """Each domain once (case-insensitively), in the order first given."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


async def lint_domains(names: Sequence[str], resolver: Resolver, jobs: int, *,
                       trees: dict[str, RecordTree] | None = None) -> list[LintReport]:
    """:func:`lint_domain` for each name, at most ``jobs`` at once, reports in order.

    ``trees``: when given, each domain's tree (built once, for the lint and the gauge's real
    totals, RFC 7208 §4.6.4) is stored in it by name.
    """
    gate = asyncio.Semaphore(jobs)

    async def one(name: str) -> LintReport:
        async with gate:
            if trees is None:
                return await lint_domain(name, resolver)
            tree = trees[name] = await build_tree(name, resolver)
            return await lint_domain(name, resolver, tree=tree)

    return list(await asyncio.gather(*(one(name) for name in names)))


def write_csv(reports: Sequence[LintReport]) -> None:
    """A header line, then one row per domain (:data:`COLUMNS`)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    for report in reports:
        writer.writerow(LintSummary.of(report).as_row())


def write_json_lines(reports: Sequence[LintReport]) -> None:
    """One JSON object per line and domain (JSON Lines)."""
    for report in reports:
        sys.stdout.write(json_text(LintSummary.of(report).as_dict(), indent=None))
