"""The HTML reports of ``spfkit survey --report`` and ``spfkit stats --report``: one file, no
scripts, no external resources; charts are inline SVG drawn here (pure: summary dict → text).

Every value shown comes from the summary JSON (``Summary.as_dict`` / ``Tally.as_dict``) and is
HTML-escaped: domain names and include targets are chosen by the domains surveyed.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

__all__ = ["bar_chart", "render_report", "render_stats_report"]

_COLOURS: Final = ("#2f6fb0", "#d9534f", "#f0ad4e", "#5cb85c", "#777777", "#9b59b6", "#17a2b8")
_STYLE: Final = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:right}td:first-child,th:first-child{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:1em}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.card b{display:block;font-size:1.5em}svg text{font:12px system-ui,sans-serif}
"""


def bar_chart(rows: list[tuple[str, float, str]], *, unit: str = "%", width: int = 640,
              title: str = "") -> str:
    """Horizontal bars: ``(label, value, note)``; scaled to the largest value (100 for %)."""
    if not rows:
        return "<p>(nothing to show)</p>"
    top = 100.0 if unit == "%" else max(v for _, v, _ in rows) or 1.0
    label_w, bar_h, gap = 220, 18, 6
    height = len(rows) * (bar_h + gap) + gap
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    room = width - label_w - 120
    for i, (label, value, note) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(1.0, room * value / top) if value else 0.0
        colour = _COLOURS[i % len(_COLOURS)]
        shown = f"{value:.2f} %" if unit == "%" else f"{value:g}"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(label[:34])}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                     f"<title>{escape(label)}: {escape(shown)} {escape(note)}</title></rect>"
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{escape(shown)} {escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _column_chart(points: list[tuple[str, int]], *, width: int = 640, height: int = 200,
                  limit: int | None = None, title: str = "") -> str:
    """Vertical bars (a histogram); bars past ``limit`` are red (the §4.6.4 limit of 10)."""
    if not points:
        return "<p>(nothing to show)</p>"
    top = max(n for _, n in points) or 1
    step = (width - 40) / len(points)
    parts = [f'<svg role="img" aria-label="{escape(title)}" width="{width}" height="{height + 30}" '
             f'viewBox="0 0 {width} {height + 30}" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, n) in enumerate(points):
        h = (height - 20) * n / top
        x = 30 + i * step
        over = limit is not None and label.isdigit() and int(label) > limit
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{step * .8:.1f}" height="{h:.1f}" '
                     f'fill="{"#d9534f" if over else "#2f6fb0"}"><title>{escape(label)}: {n}</title></rect>'
                     f'<text x="{x + step * .4:.1f}" y="{height + 15}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _card(label: str, value: str) -> str:
    return f'<div class="card">{escape(label)}<b>{escape(value)}</b></div>'


def _page(title: str, body: list[str]) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style>'
            f"</head><body><h1>{escape(title)}</h1>{''.join(body)}</body></html>\n")


def render_report(data: dict[str, Any]) -> str:
    """The survey report: adoption, qualifiers, lookup histogram, providers, DMARC policy."""
    dns, spf, dmarc = data["dns"], data["spf"], data["dmarc"]
    body = ['<div class="cards">', _card("domains", f"{data['domains']:,}"),
            _card("publish SPF", f"{spf['publishing_pct']:.1f} %"),
            _card("publish DMARC", f"{dmarc['records_pct']:.1f} %"),
            _card("over 10 lookups", f"{spf['over_10_lookups_pct']:.1f} %"),
            _card("DNS timeouts", f"{dns['timeouts']:,}"), "</div>",
            "<h2>Adoption</h2><p>Shares of the domains that exist and answered "
            f"({dns['measured']:,}; {dns['errors']:,} DNS errors and {dns['nxdomain']:,} NXDOMAIN "
            "are not counted as publishing nothing).</p>",
            bar_chart([("SPF (any v=spf1)", spf["publishing_pct"], ""),
                       ("SPF, one valid record", spf["valid_pct"], ""),
                       ("DMARC record", dmarc["records_pct"], "")], title="adoption"),
            "<h2>Problems</h2><p>Shares of the publishing domains (several, syntax) and of the "
            "valid records (limits).</p>",
            bar_chart([("several records", spf["several_pct"], f"({spf['several']})"),
                       ("syntax errors", spf["invalid_pct"], f"({spf['invalid']})"),
                       ("over 10 DNS lookups", spf["over_10_lookups_pct"], f"({spf['over_10_lookups']})"),
                       ("over 2 void lookups", spf["void_over_2_pct"], f"({spf['void_over_2']})"),
                       ("over 100,000 IPv4 authorised", spf["over_100k_ipv4_pct"],
                        f"({spf['over_100k_ipv4']})")],
                      title="problems"),
            "<h2>The qualifier of all</h2>",
            bar_chart([(f"{q}all" if q != "none" else "no all (redirect)", v["pct"], f"({v['count']})")
                       for q, v in spf["all"].items()], title="qualifiers"),
            "<h2>DNS lookups per record</h2><p>§4.6.4 allows 10; red bars are over the limit.</p>",
            _column_chart(list((k, int(v)) for k, v in spf["lookups_histogram"].items()), limit=10,
                          title="lookup histogram"),
            "<h2>Top providers (include targets)</h2>",
            bar_chart([(e["include"], e["pct"], f"({e['count']})") for e in spf["top_includes"]],
                      title="providers"),
            "<h2>DMARC policy</h2>",
            bar_chart([(f"p={p}", v["pct"], f"({v['count']})") for p, v in dmarc["p"].items()],
                      title="dmarc policy")]
    if "input" in data:
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{v:,}</td></tr>" for k, v in data["input"].items())
        body.append(f"<h2>Input</h2><table>{rows}</table>")
    return _page("SPF and DMARC survey", body)


def render_stats_report(data: dict[str, Any]) -> str:
    """The received-mail report: results by identity, per day, top failing domains."""
    body: list[str] = []
    for identity, block in data["identities"].items():
        body.append(f"<h2>{escape(identity)} ({block['total']:,} messages)</h2>")
        body.append(bar_chart([(r, v["pct"], f"({v['count']})") for r, v in block["results"].items()],
                              title=identity))
    if data["per_day"]:
        body.append("<h2>Checks per day</h2>")
        body.append(_column_chart([(day[5:], sum(c.values())) for day, c in data["per_day"].items()],
                                  title="per day"))
    if data["top_failing_domains"]:
        body.append("<h2>Top failing sender domains</h2>")
        body.append(bar_chart([(e["domain"], e["count"], "") for e in data["top_failing_domains"]],
                              unit="", title="failing domains"))
    return _page("Received mail by SPF result", body)
