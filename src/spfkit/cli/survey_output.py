"""Printing a summary (``spfkit survey``, ``spfkit stats``): a rich table or JSON, and the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

__all__ = ["emit", "summary_table"]


def emit(data: dict[str, Any], *, as_json: bool, table: Callable[[dict[str, Any]], Table],
         report: str | None, render: Callable[[dict[str, Any]], str]) -> None:
    """Write the HTML report when asked, then print ``data`` as JSON or as a table."""
    if report:
        Path(report).write_text(render(data), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        Console().print(table(data))


def _row(table: Table, label: str, count: object, pct: float | None = None, of: str = "") -> None:
    table.add_row(label, str(count), f"{pct:.2f} %" if pct is not None else "", of)


def summary_table(data: dict[str, Any]) -> Table:
    """Counts and shares, each with what it is a share of."""
    dns, spf, dmarc = data["dns"], data["spf"], data["dmarc"]
    table = Table(title=f"SPF and DMARC over {data['domains']} domains", title_justify="left")
    for name, justify in (("", "left"), ("domains", "right"), ("share", "right"), ("of", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    _row(table, "DNS errors (TXT)", dns["errors"], dns["errors_pct"], "all")
    _row(table, "  of which timeouts", dns["timeouts"], dns["timeouts_pct"], "all")
    _row(table, "NXDOMAIN", dns["nxdomain"])
    _row(table, "SPF published", spf["publishing"], spf["publishing_pct"], "measured")
    _row(table, "  one valid record", spf["valid"], spf["valid_pct"], "measured")
    _row(table, "  several records", spf["several"], spf["several_pct"], "publishing")
    _row(table, "  syntax errors", spf["invalid"], spf["invalid_pct"], "publishing")
    _row(table, "  over 10 lookups", spf["over_10_lookups"], spf["over_10_lookups_pct"], "valid")
    _row(table, "  void lookups over 2", spf["void_over_2"], spf["void_over_2_pct"], "valid")
    _row(table, "  over 100,000 IPv4 authorised", spf["over_100k_ipv4"], spf["over_100k_ipv4_pct"],
         "valid")
    for q, share in spf["all"].items():
        _row(table, f"  {q}all" if q != "none" else "  no all", share["count"], share["pct"], "valid")
    _row(table, "  TXT over 512 octets (TCP)", spf["tcp_needed"])
    for inc in spf["top_includes"][:10]:
        _row(table, f"  include:{inc['include']}", inc["count"], inc["pct"], "valid")
    _row(table, "DMARC record", dmarc["records"], dmarc["records_pct"], "measured")
    for p, share in dmarc["p"].items():
        _row(table, f"  p={p}", share["count"], share["pct"], "DMARC")
    _row(table, "  invalid / several", f"{dmarc['invalid']} / {dmarc['several']}")
    return table
