"""Shared pieces of the evaluator tests: in-memory zones and the ``run`` fixture's checker.

Every ``run`` test runs twice: sequentially, and with prefetch over a resolver with some
latency, so prefetched lookups really happen.
"""


from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from spfkit.evaluate import CheckOptions, check_host
from spfkit.lookup.memory import MemoryResolver
from spfkit.results import CheckResult, Result
from tests.evaluate.latency import Latency

IP = "192.0.2.1"
OTHER = "198.51.100.7"



def check_zone(
    zone: dict[str, Any],
    prefetch: bool,
    *,
    ip: str = IP,
    domain: str = "example.com",
    sender: str = "user@example.com",
    helo: str = "mail.example.org",
    receiver: str | None = None,
    options: CheckOptions | None = None,
) -> tuple[CheckResult, Any]:
    resolver: Any = Latency(zone) if prefetch else MemoryResolver(zone)
    opts = replace(options or CheckOptions(), prefetch=prefetch)
    result = asyncio.run(
        check_host(ip, domain, sender, resolver=resolver, helo=helo, receiver=receiver, options=opts)
    )
    return result, resolver


Run = Callable[..., tuple[CheckResult, Any]]



def spf(text: str, **more: object) -> dict[str, object]:
    return {"TXT": text, **more}


def result_of(run: Run, record: str, extra: dict[str, Any] | None = None, **kwargs: Any) -> Result:
    zone: dict[str, Any] = {"example.com": spf(record)}
    zone.update(extra or {})
    return run(zone, **kwargs)[0].result


#: include/redirect targets, one for each result a recursive check_host() can give (§5.2)
INCLUDED = {
    "pass.example": spf("v=spf1 +all"),
    "fail.example": spf("v=spf1 -all"),
    "softfail.example": spf("v=spf1 ~all"),
    "neutral.example": spf("v=spf1 ?all"),
    "default.example": spf("v=spf1 ip4:203.0.113.1"),
    "temperror.example": "TIMEOUT",
    "servfail.example": {"TXT": "SERVFAIL"},
    "permerror.example": spf("v=spf1 moo"),
    "none.example": {"TXT": "not an spf record"},
    "nxdomain.example": "NXDOMAIN",
    "two.example": {"TXT": ["v=spf1 +all", "v=spf1 -all"]},
}
