"""The survey's summary: counts and shares over the per-domain results (pure, no I/O).

Denominators, so every percentage means one thing:

* ``domains`` — every domain surveyed; ``dns_errors`` (timeouts and SERVFAIL of the domain's
  TXT query, RFC 7208 §4.4) and ``nxdomain`` are counted apart and are **not** "no record";
* ``measured`` = domains − dns_errors − nxdomain: the domains whose publication is known;
  SPF adoption (any v=spf1 record: one, several, or one that does not parse) is over it;
* ``several``, ``invalid`` — over the publishing domains; ``over_10_lookups``, ``void_over_2``,
  ``over_100k_ipv4`` (more than 100,000 IPv4 addresses authorised, lint's SPF-W350), qualifier shares of ``all`` and the include counts — over the domains with one valid record;
* DMARC adoption (one valid record, RFC 7489 §6.6.3) over the domains whose ``_dmarc`` query was
  answered and which exist; ``p=`` shares over the domains with a DMARC record.

Percentages are rounded to two decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from spfkit.lint.address_rules import MANY_IPV4
from spfkit.survey.result import DomainResult, SpfStatus

__all__ = ["Summary", "percent", "summarise"]

_QUALIFIERS = ("+", "?", "~", "-", "none")


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


@dataclass(slots=True)
class Summary:
    """Running counts; :meth:`add` one result at a time (a survey may not fit in memory)."""

    domains: int = 0
    nxdomain: int = 0
    timeouts: int = 0
    servfail: int = 0
    spf: Counter[str] = field(default_factory=Counter)
    qualifiers: Counter[str] = field(default_factory=Counter)
    includes: Counter[str] = field(default_factory=Counter)
    lookups: Counter[int] = field(default_factory=Counter)  # histogram, valid records
    over_10: int = 0
    void_over_2: int = 0
    over_100k: int = 0  # valid records that let more than 100,000 IPv4 addresses pass
    tcp: int = 0
    dmarc: Counter[str] = field(default_factory=Counter)
    dmarc_p: Counter[str] = field(default_factory=Counter)
    dmarc_nxdomain: int = 0
    dmarc_rua: int = 0
    dmarc_pct_below_100: int = 0
    probe_failures: int = 0

    def add(self, r: DomainResult) -> None:
        self.domains += 1
        self.spf[r.spf] += 1
        if r.spf == SpfStatus.DNS_ERROR:
            self.timeouts += r.dns == "TIMEOUT"
            self.servfail += r.dns != "TIMEOUT"
            self.probe_failures += (r.spf_error or "").startswith("probe failed")
        self.nxdomain += r.dns == "NXDOMAIN"
        self.tcp += r.tcp
        if r.spf == SpfStatus.RECORD:
            self.qualifiers[r.all or "none"] += 1
            self.includes.update(r.includes)
            if r.lookups is not None:
                self.lookups[r.lookups] += 1
                self.over_10 += r.lookups > 10
            self.void_over_2 += (r.void or 0) > 2
            self.over_100k += (r.pass_ipv4 or 0) > MANY_IPV4  # lint's SPF-W350 threshold
        self.dmarc[r.dmarc] += 1
        self.dmarc_nxdomain += r.dmarc == "none" and r.dns == "NXDOMAIN"
        if r.dmarc == "record" and r.dmarc_p:
            self.dmarc_p[r.dmarc_p] += 1
            self.dmarc_rua += bool(r.dmarc_rua)
            self.dmarc_pct_below_100 += (r.dmarc_pct or 100) < 100

    def as_dict(self) -> dict[str, object]:
        """Counts and percentages (see the module doc for each denominator)."""
        dns_errors = self.spf[SpfStatus.DNS_ERROR]
        measured = self.domains - dns_errors - self.nxdomain
        publishing = self.spf[SpfStatus.RECORD] + self.spf[SpfStatus.SEVERAL] + self.spf[SpfStatus.INVALID]
        valid = self.spf[SpfStatus.RECORD]
        dmarc_base = self.domains - self.dmarc["dns-error"] - self.dmarc_nxdomain
        dmarc_records = self.dmarc["record"]
        return {
            "domains": self.domains,
            "dns": {"errors": dns_errors, "timeouts": self.timeouts, "servfail": self.servfail,
                    "nxdomain": self.nxdomain, "measured": measured,
                    "errors_pct": percent(dns_errors, self.domains),
                    "timeouts_pct": percent(self.timeouts, self.domains),
                    "probe_failures": self.probe_failures},
            "spf": {
                "publishing": publishing, "publishing_pct": percent(publishing, measured),
                "valid": valid, "valid_pct": percent(valid, measured),
                "several": self.spf[SpfStatus.SEVERAL], "several_pct": percent(self.spf[SpfStatus.SEVERAL], publishing),
                "invalid": self.spf[SpfStatus.INVALID], "invalid_pct": percent(self.spf[SpfStatus.INVALID], publishing),
                "over_10_lookups": self.over_10, "over_10_lookups_pct": percent(self.over_10, valid),
                "void_over_2": self.void_over_2, "void_over_2_pct": percent(self.void_over_2, valid),
                "over_100k_ipv4": self.over_100k, "over_100k_ipv4_pct": percent(self.over_100k, valid),
                "all": {q: {"count": self.qualifiers[q], "pct": percent(self.qualifiers[q], valid)}
                        for q in _QUALIFIERS},
                "lookups_histogram": {str(k): v for k, v in sorted(self.lookups.items())},
                "top_includes": [{"include": name, "count": n, "pct": percent(n, valid)}
                                 for name, n in sorted(self.includes.items(), key=lambda kv: (-kv[1], kv[0]))[:20]],
                "tcp_needed": self.tcp,
            },
            "dmarc": {
                "measured": dmarc_base, "records": dmarc_records,
                "records_pct": percent(dmarc_records, dmarc_base),
                "several": self.dmarc["several"], "invalid": self.dmarc["invalid"],
                "dns_errors": self.dmarc["dns-error"],
                "p": {p: {"count": self.dmarc_p[p], "pct": percent(self.dmarc_p[p], dmarc_records)}
                      for p in ("none", "quarantine", "reject")},
                "rua": self.dmarc_rua, "rua_pct": percent(self.dmarc_rua, dmarc_records),
                "pct_below_100": self.dmarc_pct_below_100,
            },
        }


def summarise(results: Iterable[DomainResult]) -> Summary:
    summary = Summary()
    for result in results:
        summary.add(result)
    return summary
