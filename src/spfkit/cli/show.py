"""``spfkit show DOMAIN``: the published record and its include/redirect tree, with lookup counts.

``dig`` plus a lookup counter (RFC 7208 §4.6.4): each record reached, what it costs and the
running total against the limit of 10, void lookups against 2, the networks each record
authorises, and errors where they sit. The tree comes from ``spfkit.tree.build_tree``, i.e.
from the evaluator's own counters, and what to show of it from ``spfkit.view.tree_view`` (the
web's ``/check`` page shows the same); this module only draws it with rich.
"""

from __future__ import annotations

import asyncio
import sys

import click
from rich.console import Console
from rich.tree import Tree

from spfkit.cli import params
from spfkit.cli.dns_options import dns_options, dns_source
from spfkit.cli.output import budget_markup, escape
from spfkit.compile import AddressCounts, authorised_addresses
from spfkit.identity import is_valid_domain
from spfkit.lookup import Resolver
from spfkit.tree import Family, RecordTree, build_tree
from spfkit.view.budget import Level
from spfkit.view.check import authorised_dict, authorised_text
from spfkit.view.record_tree import (
    Bit,
    BitKind,
    NodeCounts,
    NodeView,
    RunView,
    TermRow,
    Total,
    TreeView,
    count_phrase,
    tree_view,
)
from spfkit.visible import json_text


def _sender(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    domain = value.rpartition("@")[2]
    if not value.strip() or not is_valid_domain(domain):
        raise click.BadParameter(f"{value!r} is not an address like user@example.com or a domain")
    return value.strip()


@click.command("show")
@click.argument("domain", callback=params.domain)
@dns_options
@click.option("--sender", default=None, metavar="ADDR", callback=_sender,
              help="Sample MAIL FROM address for macros such as %{s} %{l} %{o} (RFC 7208 §7) "
              "[default: postmaster@DOMAIN].")
@click.option("--helo", default=None, metavar="HOST",
              help="Sample HELO name for the %{h} macro [default: DOMAIN].")
@click.option("--json", "as_json", is_flag=True,
              help="Print the tree as one JSON object instead of text.")
def show_command(
    domain: str,
    nameservers: tuple[str, ...],
    zones: tuple[str, ...],
    timeout: float,
    sender: str | None,
    helo: str | None,
    as_json: bool,
) -> None:
    """Show DOMAIN's SPF record and every include/redirect it reaches, with lookup counts.

    Each record is shown with the DNS lookups it costs and the running total against the
    limit of 10 (RFC 7208 §4.6.4), its void lookups (limit 2), the networks it authorises
    and any error where it sits. The counts are those of a real check (spfkit check), made
    for an IPv4 and an IPv6 client address that no record lists (255.255.255.254 and
    ffff:...:fffe), so every term up to "all" is evaluated; they differ between the two
    when a/mx targets lack AAAA records. Records after an error are still shown, marked
    "not counted".

    Exit status: 0 when the tree was shown (even with errors in it: judging them is the job
    of spfkit lint), 2 for a usage error.
    """
    resolver: Resolver = dns_source(nameservers, zones, timeout).resolver()
    tree, counts = asyncio.run(_tree_and_counts(domain, resolver, sender, helo))
    view = tree_view(tree)
    if as_json:
        data = {**tree.as_dict(), "budget": view.budget_dict(), "authorised": authorised_dict(counts)}
        sys.stdout.write(json_text(data))
        return
    # emoji off: "ip6:2001:db8:100::/48" must not become a 💯; a pipe gets one line per term
    wide = None if sys.stdout.isatty() else 1000
    console = Console(highlight=False, emoji=False, width=wide)
    if view.root is None:
        if tree.result_v4.no_such_domain:
            console.print(f"[bold]{escape(tree.domain)}[/] does not exist (NXDOMAIN): check the "
                          "spelling of the domain")
        else:
            console.print(f"[bold]{escape(tree.domain)}[/] publishes no SPF record")
    else:
        console.print(render_tree(view.root))
    for line in footer(tree, view):
        console.print(line)
    if view.root is not None:
        console.print(f"{escape(tree.domain)} {escape(authorised_text(counts))}")


async def _tree_and_counts(domain: str, resolver: Resolver, sender: str | None,
                           helo: str | None) -> tuple[RecordTree, AddressCounts]:
    """The tree, and what the domain authorises (from its compiled policy, §2.6.3)."""
    tree = await build_tree(domain, resolver, sender=sender, helo=helo)
    counts = await authorised_addresses(domain, resolver=resolver, sender=sender or "",
                                        helo=helo or domain)
    return tree, counts


def render_tree(root: NodeView) -> Tree:
    """The record tree as a rich Tree: one branch per record, its terms below it."""
    top = Tree(_node_label(root), guide_style="dim")
    _fill(top, root)
    return top


def _fill(branch: Tree, node: NodeView) -> None:
    for error in node.errors:
        whom = "every client" if error.every_client else None
        branch.add(f"[bold red]✗ {escape(error.text(whom))}[/]")
    if node.exp is not None:
        exp, style = node.exp, "green" if node.exp.ok else "yellow"
        branch.add(f"exp → TXT {escape(exp.target)}: [{style}]{escape(exp.state)}[/]")
    for item in node.items:
        if isinstance(item, NodeView):
            _fill(branch.add(_node_label(item)), item)
        else:
            branch.add(_term_label(item))


def _node_label(node: NodeView) -> str:
    head = f"[bold]{escape(node.title)}[/]"
    if node.target is not None:
        head += f" → [bold]{escape(node.target)}[/]"
    record = f'[cyan]"{escape(node.record)}"[/]' if node.record else _no_record_markup(node)
    if node.counts is None:
        return f"{head}  {record}  [dim]{node.note}[/]"
    return f"{head}  {record}  {_counts(node.counts)}"


def _no_record_markup(node: NodeView) -> str:
    style = "dim" if node.missing == "(no SPF record)" else "red"
    return f"[{style}]{escape(node.missing)}[/]"


def _counts(counts: NodeCounts) -> str:
    """``lookups 3 (total 3/10)  void 0``, per family when the two differ."""
    parts = ["lookups " + count_phrase(counts.lookups, total=_total)]
    if len(counts.void) == 1:  # the families agree
        c = counts.void[0]
        parts.append(f"void {c.own}" + (f" (total {_total(c.total)})" if c.own else ""))
    else:
        parts.append("void " + count_phrase(counts.void, total=_total))
    if counts.only is not None:
        parts.append(f"[dim]({counts.only.label} client only)[/]")
    parts.extend(_beyond(counts.beyond, counts.families))
    return "  ".join(parts)


def _beyond(families: tuple[Family, ...], of: tuple[Family, ...]) -> list[str]:
    """The lifted-limits walk got here, receivers (for these families) do not."""
    if not families:
        return []
    who = "" if len(families) == len(of) else f" for an {families[0].label} client"
    return [f"[yellow]beyond the limit{who}: receivers stop before this[/]"]


def _total(total: Total) -> str:
    value, limit = total.value, total.limit
    style = "bold red" if value > limit else "yellow" if value >= limit - 2 and limit == 10 else ""
    return f"[{style}]{total}[/]" if style else str(total)


#: how a term's bits are styled (lookups, beyond and networks are drawn from their parts)
_BIT_STYLE = {
    BitKind.VOID: "yellow",
    BitKind.MX_NAMES: "bold red",
    BitKind.STOPPED: "bold red",
    BitKind.NOT_EVALUATED: "dim",
    BitKind.NO_ADDRESSES: "dim",
}


def _term_label(row: TermRow) -> str:
    label = f"[bold]{escape(row.text)}[/]" if row.mechanism else escape(row.text)
    return "  ".join([label, *(_bit(bit, row) for bit in row.bits)])


def _bit(bit: Bit, row: TermRow) -> str:
    match bit.kind:
        case BitKind.LOOKUPS:
            return "lookup " + count_phrase(row.lookups, sign="+", total=_total)
        case BitKind.BEYOND:
            return _beyond(row.beyond, row.families)[0]
        case BitKind.NETWORKS:
            return "; ".join(f"{escape(host)}: {', '.join(nets)}" for host, nets in row.networks)
    return f"[{_BIT_STYLE[bit.kind]}]{escape(bit.text)}[/]"


def footer(tree: RecordTree, view: TreeView) -> list[str]:
    """Totals for each client family against the limits, and how the counts were made."""
    lines = [""]
    lines.extend(_family_line(run) for run in view.runs)
    if view.budget.meaning:
        style = "bold red" if view.budget.level is Level.OVER else "yellow"
        lines.append(f"[{style}]{view.budget.lookups} DNS lookups, {view.budget.void} void "
                     f"lookups: {escape(view.budget.meaning)}[/]")
    lines.append(
        f"[dim]sample: MAIL FROM {escape(tree.sample_sender)}, HELO {escape(tree.sample_helo)}, "
        f"clients {tree.v4.client} and {tree.v6.client} (no record lists them, so every term "
        "up to 'all' is evaluated)[/]"
    )
    if tree.sender_dependent:
        uses = ", ".join(f"{m.term} in {m.domain}" for m in tree.macro_uses)
        lines.append(f"[yellow]the tree depends on the sender or client (§7 macros: {escape(uses)}); "
                     "the counts are for the sample values above[/]")
    lines.extend(f"[dim]note: {escape(n)}[/]" for n in tree.notes)
    return lines


def _family_line(run: RunView) -> str:
    """``sample IPv4 client … (no record lists it): 11/10 DNS lookups … → permerror: …``."""
    text = (f"{escape(run.who)}: {budget_markup(run.budget, meaning=False)} → "
            f"[bold]{run.result.value}[/]: "
            f"{escape(run.says)}")
    if run.problem:
        text += f" ({escape(run.problem)})"
    return text
