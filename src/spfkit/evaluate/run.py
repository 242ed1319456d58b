"""The state of one ``check_host()`` call: its inputs, budget, trace and DNS answers so far.

The evaluator reaches DNS only through :meth:`Evaluation.query`, which asks the injected
:class:`~spfkit.lookup.protocol.Resolver` at most once per (type, name) within one check and
records every question in the trace. Imports only ``lookup.protocol`` from ``lookup``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from spfkit.evaluate.budget import MAX_PTR_NAMES, Budget
from spfkit.evaluate.options import CheckOptions
from spfkit.identity import IPAddress
from spfkit.lookup.protocol import Lookup, LookupStatus, Resolver, RRType
from spfkit.macros import MacroContext, MacroString
from spfkit.results import Result, TraceEvent, TraceKind

_Memo = dict[tuple[RRType, str], "Lookup[Any] | asyncio.Future[Lookup[Any]]"]


class Evaluation:
    """Everything one evaluation shares across nested include and redirect calls."""

    __slots__ = (
        "resolver", "ip", "sender", "helo", "receiver", "options", "budget", "trace",
        "timestamp", "check_include", "_memo", "_tasks", "_later", "_askers", "_peek",
    )

    def __init__(
        self,
        resolver: Resolver,
        ip: IPAddress,
        sender: str,
        helo: str,
        receiver: str,
        options: CheckOptions,
        timestamp: int,
    ) -> None:
        self.resolver = resolver
        self.ip = ip
        self.sender = sender
        self.helo = helo
        self.receiver = receiver
        self.options = options
        self.budget = Budget(options.max_dns_terms, options.max_void_lookups)
        self.trace: list[TraceEvent] = []
        self.timestamp = timestamp
        #: §5.2: check_host() of an include target → its result (set by check_host)
        self.check_include: Callable[[str, int, tuple[str, ...]], Awaitable[Result]]
        self._memo: _Memo = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._later: list[asyncio.Handle] = []
        self._peek: Callable[[RRType, str], Lookup[Any] | None] | None = getattr(
            resolver, "peek", None
        )
        self._askers: dict[RRType, Callable[[str], Awaitable[Lookup[Any]]]] = {
            RRType.TXT: resolver.txt,
            RRType.A: resolver.a,
            RRType.AAAA: resolver.aaaa,
            RRType.MX: resolver.mx,
            RRType.PTR: resolver.ptr,
        }

    @property
    def address_type(self) -> RRType:
        """§5: A records are fetched for an IPv4 client, AAAA for an IPv6 one."""
        return RRType.A if isinstance(self.ip, IPv4Address) else RRType.AAAA

    def context(self, domain: str, validated_name: str = "unknown") -> MacroContext:
        return MacroContext(
            sender=self.sender,
            domain=domain,
            ip=self.ip,
            helo=self.helo,
            receiver=self.receiver,
            timestamp=self.timestamp,
            validated_name=validated_name,
        )

    def note(
        self, kind: TraceKind, depth: int, domain: str, text: str, detail: str = "",
        answer: Lookup[Any] | None = None,
    ) -> None:
        budget = self.budget
        self.trace.append(
            TraceEvent(kind, depth, domain, text, detail, budget.dns_terms, budget.void_lookups, answer)
        )

    # -- DNS ---------------------------------------------------------------------------

    async def query(self, rrtype: RRType, name: str, depth: int, domain: str) -> Lookup[Any]:
        """Ask the resolver (once per check for each question) and trace the answer."""
        key = (rrtype, name.lower())
        got = self._memo.get(key)
        if got is None:
            # mark the question as asked before awaiting, so a prefetch never repeats it
            pending: asyncio.Future[Lookup[Any]] = asyncio.get_running_loop().create_future()
            self._memo[key] = pending
            try:
                lookup: Lookup[Any] = await self._askers[rrtype](name)
            except BaseException:
                del self._memo[key]
                pending.cancel()
                raise
            pending.set_result(lookup)
            self._memo[key] = lookup
        elif isinstance(got, Lookup):
            lookup = got
        else:
            lookup = await got
            self._memo[key] = lookup
        self.note(TraceKind.QUERY, depth, domain, f"{rrtype.value} {name}", answer=lookup)
        return lookup

    def start(self, rrtype: RRType, name: str) -> None:
        """Send a question now whose answer a later step will need (no trace, no counting)."""
        key = (rrtype, name.lower())
        if key in self._memo:
            return
        if self._peek is not None and (known := self._peek(rrtype, name)) is not None:
            self._memo[key] = known  # already at hand: no background work needed
            return
        task = asyncio.ensure_future(self._askers[rrtype](name))
        self._memo[key] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def query_all(
        self, rrtype: RRType, names: Iterable[str], depth: int, domain: str
    ) -> list[Lookup[Any]]:
        """Independent lookups of one term, issued concurrently, answered in order."""
        names = list(names)
        if len(names) > 1:
            for name in names:
                self.start(rrtype, name)
        return [await self.query(rrtype, name, depth, domain) for name in names]

    async def peek(self, rrtype: RRType, name: str) -> Lookup[Any]:
        """The answer to a question already started, without tracing it (for prefetch)."""
        got = self._memo.get((rrtype, name.lower()))
        if got is None:
            self.start(rrtype, name)
            got = self._memo[(rrtype, name.lower())]
        return got if isinstance(got, Lookup) else await asyncio.shield(got)

    def spawn_when_waiting(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Run ``job()`` in the background once the evaluation first waits for DNS.

        An evaluation answered without ever waiting (warm cache, in-memory data) never
        pays for it: the callback is cancelled unrun when the evaluation closes.
        """
        self._later.append(asyncio.get_running_loop().call_soon(lambda: self.spawn(job())))

    def spawn(self, job: Awaitable[Any]) -> None:
        """Run background work (prefetch planning) that ends with the evaluation."""
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Cancel lookups nobody will read (the evaluation has its result)."""
        for handle in self._later:
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()

    # -- §7.3 "p" --------------------------------------------------------------------

    async def expand(self, spec: MacroString, domain: str, depth: int) -> str:
        """§7.3: expand a domain-spec; looks up the validated name only if "p" is used."""
        if "p" in spec.letters:
            validated = await self.validated_name(domain, depth)
            return spec.expand_domain(self.context(domain, validated))
        return spec.expand_domain(self.context(domain))

    async def validated_names(
        self, depth: int, domain: str, only_within: str | None = None, void_term: str | None = None
    ) -> list[str]:
        """§5.5: names of <ip>'s PTR records (first 10) whose addresses include <ip>.

        With ``only_within``, names outside that domain are not validated (they could not
        match), which saves their lookups. A DNS error on the PTR gives no names. With
        ``void_term`` (the "ptr" mechanism), an empty PTR answer counts as a void lookup.
        """
        ptr = await self.query(RRType.PTR, _reverse_name(self.ip), depth, domain)
        if void_term is not None and ptr.is_void:
            self.budget.charge_void_lookup(void_term)
        if ptr.status is not LookupStatus.ANSWER:
            return []
        names = [str(n) for n in ptr.records[:MAX_PTR_NAMES]]
        if only_within is not None:
            names = [n for n in names if is_within(n, only_within)]
        answers = await self.query_all(self.address_type, names, depth, domain)
        return [n for n, a in zip(names, answers) if self.ip in a.records]

    async def validated_name(self, domain: str, depth: int) -> str:
        """§7.3 "p": the domain itself, else a subdomain of it, else any validated name."""
        names = await self.validated_names(depth, domain)
        for candidate in names:
            if _same(candidate, domain):
                return candidate
        for candidate in names:
            if is_within(candidate, domain):
                return candidate
        return names[0] if names else "unknown"


def _same(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def is_within(name: str, domain: str) -> bool:
    """True when ``name`` is ``domain`` or a subdomain of it (case-insensitive)."""
    name, domain = name.rstrip(".").lower(), domain.rstrip(".").lower()
    return name == domain or name.endswith("." + domain)


def _reverse_name(ip: IPAddress) -> str:
    return ip.reverse_pointer
