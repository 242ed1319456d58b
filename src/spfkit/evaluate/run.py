"""The state of one ``check_host()`` call: its inputs, budget, trace and DNS answers so far.

A :class:`Frame` is one level of the evaluation (§4: the <domain> whose record is being
evaluated, how deep in include/redirect it sits, and the path that led there); one
:class:`Evaluation` is shared by every level. The evaluator reaches DNS only through
:meth:`Evaluation.query`, which asks each question at most once per check (``memo.py``) and
records it in the trace. Imports only ``lookup.protocol`` from ``lookup``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from spfkit.errors import PermError, RecordSyntaxError
from spfkit.evaluate.budget import MAX_PTR_NAMES, Budget
from spfkit.evaluate.memo import Queries
from spfkit.evaluate.options import CheckOptions
from spfkit.identity import IPAddress
from spfkit.lookup.protocol import Lookup, LookupStatus, Resolver, RRType
from spfkit.macros import MacroContext, MacroString
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.results import TraceEvent, TraceKind


@dataclass(frozen=True, slots=True)
class Frame:
    """One check_host() level: <domain>, its include/redirect depth, the domains above it."""

    domain: str
    depth: int = 0
    #: the domains (lower case, no trailing dot) of the include/redirect path above this one
    chain: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.domain.rstrip(".").lower()

    @property
    def counts_void(self) -> bool:
        """§4.6.4: the record lookup of an include/redirect target can be a void lookup;
        that of the domain first asked about is not a term's lookup."""
        return self.depth > 0

    def check_loop(self) -> None:
        """§4.6.4 / §5.2: a domain met again on its own include/redirect path is a loop."""
        if self.key in self.chain:
            raise PermError(f"include/redirect loop: {' -> '.join((*self.chain, self.key))}")

    def child(self, target: str) -> Frame:
        """The level of an include or redirect target (§5.2, §6.1)."""
        return Frame(target, self.depth + 1, (*self.chain, self.key))


class Evaluation:
    """Everything one evaluation shares across nested include and redirect calls."""

    __slots__ = (
        "ip", "sender", "helo", "receiver", "options", "budget", "trace", "timestamp", "queries",
        "_records",
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
        self.ip = ip
        self.sender = sender
        self.helo = helo
        self.receiver = receiver
        self.options = options
        self.budget = Budget(options.max_dns_terms, options.max_void_lookups, options.max_work)
        self.trace: list[TraceEvent] = []
        self.timestamp = timestamp
        self.queries = Queries(resolver)
        self._records: dict[str, Record | RecordSyntaxError] = {}

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
        self, kind: TraceKind, frame: Frame, text: str, detail: str = "",
        answer: Lookup[Any] | None = None,
    ) -> None:
        budget = self.budget
        self.trace.append(TraceEvent(
            kind, frame.depth, frame.domain, text, detail, budget.dns_terms, budget.void_lookups,
            answer,
        ))

    def parse(self, text: str) -> Record:
        """§4.5: a record's text parsed at most once per check (also the large ones that
        the parser's own cache does not keep). Raises :class:`RecordSyntaxError`."""
        found = self._records.get(text)
        if found is None:
            try:
                found = parse_record(text)
            except RecordSyntaxError as exc:
                found = exc.with_traceback(None)
            self._records[text] = found
        if isinstance(found, RecordSyntaxError):
            raise RecordSyntaxError(found.reason, found.term, found.column, found.rfc)
        return found

    def letters(self) -> frozenset[str]:
        """§7: the macro letters used by the domain-specs of the records parsed so far."""
        used: set[str] = set()
        for record in self._records.values():
            if isinstance(record, Record):
                for mech in record.mechanisms:
                    spec = getattr(mech, "domain_spec", None)
                    if spec is not None:
                        used |= spec.letters
                if record.redirect is not None:
                    used |= record.redirect.domain_spec.letters
        return frozenset(used)

    # -- DNS ---------------------------------------------------------------------------

    async def query(self, rrtype: RRType, name: str, frame: Frame) -> Lookup[Any]:
        """Ask the resolver (once per check for each question) and trace the answer."""
        lookup = await self.queries.ask(rrtype, name)
        self.note(TraceKind.QUERY, frame, f"{rrtype.value} {name}", answer=lookup)
        return lookup

    async def query_all(self, rrtype: RRType, names: Iterable[str], frame: Frame) -> list[Lookup[Any]]:
        """Independent lookups of one term, issued concurrently, answered in order."""
        names = list(names)
        if len(names) > 1:
            for name in names:
                self.queries.start(rrtype, name)
        return [await self.query(rrtype, name, frame) for name in names]

    # -- §7.3 "p" --------------------------------------------------------------------

    async def expand(self, spec: MacroString, frame: Frame) -> str:
        """§7.3: expand a domain-spec; looks up the validated name only if "p" is used."""
        if "p" in spec.letters:
            validated = await self.validated_name(frame)
            return spec.expand_domain(self.context(frame.domain, validated))
        return spec.expand_domain(self.context(frame.domain))

    async def validated_names(
        self, frame: Frame, only_within: str | None = None, void_term: str | None = None
    ) -> list[str]:
        """§5.5: names of <ip>'s PTR records (first 10) whose addresses include <ip>.

        With ``only_within``, names outside that domain are not validated (they could not
        match), which saves their lookups. A DNS error on the PTR gives no names. With
        ``void_term`` (the "ptr" mechanism), an empty PTR answer counts as a void lookup.
        """
        ptr = await self.query(RRType.PTR, self.ip.reverse_pointer, frame)
        if void_term is not None and ptr.is_void:
            self.budget.charge_void_lookup(void_term)
        if ptr.status is not LookupStatus.ANSWER:
            return []
        names = [str(n) for n in ptr.records[:MAX_PTR_NAMES]]
        if only_within is not None:
            names = [n for n in names if is_within(n, only_within)]
        answers = await self.query_all(self.address_type, names, frame)
        return [n for n, a in zip(names, answers) if self.ip in a.records]

    async def validated_name(self, frame: Frame) -> str:
        """§7.3 "p": the domain itself, else a subdomain of it, else any validated name."""
        names = await self.validated_names(frame)
        for candidate in names:
            if _same(candidate, frame.domain):
                return candidate
        for candidate in names:
            if is_within(candidate, frame.domain):
                return candidate
        return names[0] if names else "unknown"


def _same(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def is_within(name: str, domain: str) -> bool:
    """True when ``name`` is ``domain`` or a subdomain of it (case-insensitive)."""
    name, domain = name.rstrip(".").lower(), domain.rstrip(".").lower()
    return name == domain or name.endswith("." + domain)
