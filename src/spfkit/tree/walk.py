"""One evaluation's trace → its include/redirect tree (RFC 7208 §4.6.4, §5.2, §6.1).

The evaluator is the only counter: each :class:`~spfkit.results.TraceEvent` carries the
running DNS-term and void-lookup counts right after it, so a node's cost is the sum of the
increases at its own events. Attribution follows the order in which ``check_host()`` writes
the trace:

* a CHECK event (depth d+1) opens a node; the increase it shows is the ``include`` or
  ``redirect`` term of the parent being charged (§4.6.4 charges before the query);
* QUERY events (with their ``answer``) come right before the TERM event of the term that made
  them; for an ``include``, the target's whole subtree comes before the include's TERM, for a
  ``redirect`` its TERM comes first and the target's CHECK right after;
* a RESULT permerror/temperror is noted once, by the innermost domain: the error sits there.

Pure: no I/O imports (the trace is already made).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Network

from spfkit.errors import PermError, RecordSyntaxError
from spfkit.lookup.protocol import Lookup, LookupStatus
from spfkit.record.model import Record
from spfkit.record.parse import parse_record
from spfkit.record.select import select_record
from spfkit.record.terms import IP4, IP6, MX, A, Include, Mechanism, Redirect, Term
from spfkit.results import Result, TraceEvent, TraceKind
from spfkit.tree.model import (
    Cost,
    ErrorKind,
    Family,
    Network,
    NodeKind,
    TermOutcome,
    TermView,
    TreeError,
    TreeNode,
)

__all__ = ["Overlay", "read_record", "static_networks", "walk_trace"]


@dataclass(frozen=True, slots=True)
class Overlay:
    """Where the receiver's evaluation (limits 10/2) stopped, laid over a walk with lifted limits.

    The lifted walk's trace starts with the same events; at index ``stop`` the receiver's
    evaluation ended with ``event`` (its RESULT permerror) instead.
    """

    stop: int
    event: TraceEvent
    kind: ErrorKind


def read_record(answer: Lookup[tuple[bytes, ...]]) -> tuple[str | None, Record | None, str | None]:
    """The record text, the parsed record and the problem, from one TXT answer (§4.5, §4.6)."""
    if answer.status is not LookupStatus.ANSWER:
        return None, None, None
    try:
        text = select_record(answer.records)
    except PermError as exc:
        return None, None, exc.reason
    if text is None:
        return None, None, None
    try:
        return text, parse_record(text), None
    except RecordSyntaxError as exc:
        return text, None, str(exc)


@dataclass(eq=False)
class _Open:
    """A node whose events are still being read."""

    domain: str
    depth: int
    kind: NodeKind
    via: str | None
    base_lookups: int
    base_void: int
    beyond: bool
    record_text: str | None = None
    record: Record | None = None
    bad_record: str | None = None
    txt: TraceEvent | None = None
    order: list[int] = field(default_factory=list)  # indexes into record.terms, evaluation order
    next_eval: int = 0
    outcomes: dict[int, TermOutcome] = field(default_factory=dict)
    networks: dict[int, list[Network]] = field(default_factory=dict)
    children: dict[int, list[TreeNode]] = field(default_factory=dict)
    mx_names: dict[int, int] = field(default_factory=dict)
    loose: list[TreeNode] = field(default_factory=list)  # include targets awaiting their TERM
    redirect_at: int | None = None
    pending_lookups: int = 0
    pending_void: int = 0
    own_lookups: int = 0
    own_void: int = 0
    queries: list[TraceEvent] = field(default_factory=list)
    term_start: int | None = None
    result: Result | None = None
    errors: list[TreeError] = field(default_factory=list)
    failed: bool = False  # its evaluation ended here with an error (not the receiver overlay)
    matched: bool = False  # a mechanism matched (§4.6.2)

    @property
    def current(self) -> int | None:
        """Index (in record.terms) of the term being evaluated, or the next one."""
        return self.order[self.next_eval] if self.next_eval < len(self.order) else None

    def current_term(self) -> Term | None:
        """The term in progress: the next one, or a redirect whose target is being evaluated."""
        idx = self.current if self.redirect_at is None else self.redirect_at
        return self.record.terms[idx] if idx is not None and self.record is not None else None

    def charge(self, lookups: int, void: int, index: int) -> None:
        self.pending_lookups += lookups
        self.pending_void += void
        self.own_lookups += lookups
        self.own_void += void
        if self.term_start is None:
            self.term_start = index


class _Walk:
    def __init__(self, family: Family, max_lookups: int, max_void: int, overlay: Overlay | None):
        self.family = family
        self.max_lookups = max_lookups
        self.max_void = max_void
        self.overlay = overlay
        self.stack: list[_Open] = []
        self.root: TreeNode | None = None
        self.last = (0, 0)
        self.stopped: set[int] = set()  # id() of finished nodes whose evaluation ended in an error

    def run(self, trace: Sequence[TraceEvent]) -> TreeNode | None:
        stop = self.overlay.stop if self.overlay else None
        for i, ev in enumerate(trace):
            if self.overlay is not None and i == stop:
                self._receiver_stopped(self.overlay)
            beyond = stop is not None and i >= stop
            if ev.kind is TraceKind.CHECK:
                self._close_to(ev.depth)
                self._open(ev, i, beyond)
            else:
                self._close_to(ev.depth + 1)
                if not self.stack:
                    continue  # e.g. the time limit noted at depth 0 after every node closed
                self._event(self.stack[-1], ev, i, beyond)
            self.last = (ev.lookups, ev.void_lookups)
        self._close_to(0)
        return self.root

    # -- nodes ----------------------------------------------------------------------------

    def _open(self, ev: TraceEvent, index: int, beyond: bool) -> None:
        dl, dv = ev.lookups - self.last[0], ev.void_lookups - self.last[1]
        parent = self.stack[-1] if self.stack else None
        kind, via, base = NodeKind.TOP, None, ev.lookups
        if parent is not None:
            parent.charge(dl, dv, index)  # an include term, charged right before the CHECK
            base = self.last[0]
            if parent.redirect_at is not None:  # §6.1: charged before its TERM, already read
                kind, via = NodeKind.REDIRECT, _text(parent, parent.redirect_at)
                base -= parent.outcomes[parent.redirect_at].lookups
            else:
                kind, via = NodeKind.INCLUDE, _text(parent, parent.current)
        self.stack.append(_Open(ev.domain, ev.depth, kind, via, base, self.last[1], beyond))

    def _close_to(self, depth: int) -> None:
        while self.stack and self.stack[-1].depth >= depth:
            node = self._finish(self.stack.pop())
            if not self.stack:
                self.root = node
                continue
            parent = self.stack[-1]
            if parent.redirect_at is not None:
                parent.children.setdefault(parent.redirect_at, []).append(node)
            else:
                parent.loose.append(node)

    def _event(self, node: _Open, ev: TraceEvent, index: int, beyond: bool) -> None:
        node.charge(ev.lookups - self.last[0], ev.void_lookups - self.last[1], index)
        if ev.kind is TraceKind.QUERY:
            if node.txt is None and node.record is None and ev.text == f"TXT {node.domain}":
                node.txt = ev
                if ev.answer is not None:
                    node.record_text, _, node.bad_record = read_record(ev.answer)
            else:
                node.queries.append(ev)
        elif ev.kind is TraceKind.RECORD:
            node.record_text, node.bad_record = ev.text, None
            node.record = parse_record(ev.text)
            node.term_start = None  # what follows belongs to the terms
            node.order = [i for i, t in enumerate(node.record.terms) if isinstance(t, Mechanism)]
            node.order += [i for i, t in enumerate(node.record.terms) if isinstance(t, Redirect)][:1]
        elif ev.kind is TraceKind.TERM:
            self._term(node, ev, beyond)
        elif ev.kind is TraceKind.RESULT:
            if ev.text in ("permerror", "temperror"):
                node.errors.append(self._error(node, ev, beyond))
                node.failed = True
            else:
                node.result = Result(ev.text)
                if node.record is not None and node.result is Result.NEUTRAL and not node.matched:
                    self._skip_static(node, None)  # §4.7: every mechanism was tried

    def _term(self, node: _Open, ev: TraceEvent, beyond: bool) -> None:
        assert node.record is not None
        self._skip_static(node, ev.text)
        idx = node.current
        if idx is None:
            return
        term = node.record.terms[idx]
        stop = self.overlay.stop if self.overlay else None
        start = node.term_start if node.term_start is not None else stop
        node.outcomes[idx] = TermOutcome(
            detail=ev.detail, lookups=node.pending_lookups, void=node.pending_void,
            total_lookups=ev.lookups, total_void=ev.void_lookups,
            voids=_voids(node.queries, node.pending_void),
            beyond_limit=beyond if start is None or stop is None else start >= stop,
        )
        self._resolved(node, idx, term)
        if isinstance(term, Include) and node.loose:
            node.children.setdefault(idx, []).extend(node.loose)
            node.loose.clear()
        if isinstance(term, Redirect):
            node.redirect_at = idx
        node.matched = node.matched or ev.detail == "match"
        node.pending_lookups = node.pending_void = 0
        node.queries.clear()
        node.term_start = None
        node.next_eval += 1

    def _skip_static(self, node: _Open, text: str | None, *, before_dns: bool = False) -> None:
        """Advance to the term written ``text`` (None: past every mechanism; ``before_dns``:
        to the next DNS-querying term, the one an error can stop at).

        Terms passed over were tried before it without a TERM event of their own: only
        ``all``/``ip4``/``ip6``, which query nothing, can be (an evaluator may trace a run of
        them that did not match as one item). They did not match and cost nothing.
        """
        assert node.record is not None
        terms = node.record.terms
        while node.current is not None and str(terms[node.current]) != text:
            idx = node.current
            if text is None and (isinstance(terms[idx], Redirect)
                                 or before_dns and terms[idx].queries_dns):
                return
            if not terms[idx].queries_dns and idx not in node.outcomes:
                lookups, void = self.last
                node.outcomes[idx] = TermOutcome("no match", 0, 0, lookups, void)
            node.next_eval += 1

    def _resolved(self, node: _Open, idx: int, term: Term) -> None:
        """§5.3, §5.4: the networks an ``a``/``mx`` term authorises, from its answers."""
        if not isinstance(term, (A, MX)):
            return
        nets = node.networks.setdefault(idx, [])
        if isinstance(term, A):
            answers = [q for q in node.queries if q.text.split(" ", 1)[0] in ("A", "AAAA")][-1:]
        else:
            mx = next((q for q in node.queries if q.text.startswith("MX ")), None)
            if mx is None or mx.answer is None:
                return
            if mx.answer.status is LookupStatus.ANSWER:
                node.mx_names[idx] = len(mx.answer.records)
            hosts = {str(h.exchange).lower() for h in mx.answer.records}
            answers = [q for q in node.queries if q.text.split(" ", 1)[0] in ("A", "AAAA")
                       and q.text.split(" ", 1)[1].lower() in hosts]
        for q in answers:
            host = q.text.split(" ", 1)[1]
            for addr in q.answer.records if q.answer is not None else ():
                nets.append(Network(_network(addr, term), term.qualifier, host))

    def _error(self, node: _Open, ev: TraceEvent, beyond: bool) -> TreeError:
        if node.record is not None:
            self._skip_static(node, None, before_dns=True)
        term = node.current_term()
        kind = self._classify(node, ev, term)
        if term is not None and node.current not in node.outcomes:
            self._resolved(node, node.current or 0, term)  # an "mx" with too many names
        return TreeError(kind, Result(ev.text), ev.detail, self.family,
                         str(term) if term is not None else None, beyond)

    def _classify(self, node: _Open, ev: TraceEvent, term: Term | None) -> ErrorKind:
        if ev.text == "temperror":
            return ErrorKind.DNS
        if ev.void_lookups > self.max_void:
            return ErrorKind.VOID_LIMIT
        key = node.domain.rstrip(".").lower()
        if any(o.domain.rstrip(".").lower() == key for o in self.stack[:-1]):
            if node.txt is None:
                return ErrorKind.LOOP
        if node.record is None and node.txt is not None:
            return ErrorKind.BAD_RECORD
        if isinstance(term, MX):
            mx = next((q for q in node.queries if q.text.startswith("MX ")), None)
            if mx is not None and mx.answer is not None and len(mx.answer.records) > 10:
                return ErrorKind.MX_LIMIT
        if isinstance(term, (Include, Redirect)):
            at = node.redirect_at if node.redirect_at is not None else -1
            targets = node.loose if isinstance(term, Include) else node.children.get(at, [])
            if targets and targets[-1].costs.get(self.family, _NO_COST).result is Result.NONE:
                return ErrorKind.NO_RECORD
        if ev.lookups >= self.max_lookups and term is not None and term.queries_dns:
            if node.pending_lookups == 0 and not node.queries and not node.loose:
                return ErrorKind.LOOKUP_LIMIT
        return ErrorKind.OTHER

    def _receiver_stopped(self, overlay: Overlay) -> None:
        """Mark where the receiver's evaluation ended (the lifted walk goes on past it)."""
        depth = overlay.event.depth
        if depth >= len(self.stack):
            return
        node = self.stack[depth]
        if node.record is not None:
            self._skip_static(node, None, before_dns=True)
        term = node.current_term()
        node.errors.append(TreeError(
            overlay.kind, Result.PERMERROR, overlay.event.detail, self.family,
            str(term) if term is not None else None,
        ))

    def _finish(self, node: _Open) -> TreeNode:
        lookups, void = self.last
        if node.loose:  # an include whose evaluation stopped inside its target
            node.children.setdefault(node.current or 0, []).extend(node.loose)
        idx = node.current
        stopped = node.failed or any(id(c) in self.stopped for cs in node.children.values() for c in cs)
        if idx is not None and idx not in node.outcomes and stopped:
            node.outcomes[idx] = TermOutcome(
                "error", node.pending_lookups, node.pending_void, lookups, void,
                _voids(node.queries, node.pending_void), node.beyond,
            )
            node.pending_lookups = node.pending_void = 0
        node_voids: tuple[str, ...] = ()
        if node.pending_void and node.txt is not None:
            node_voids = _voids([node.txt], node.pending_void)
        result = node.result
        if result is None and node.redirect_at is not None:
            inner = node.children.get(node.redirect_at, [])
            if inner and (cost := inner[-1].costs.get(self.family)) is not None:
                result = cost.result  # §6.1: the redirect target's result is the domain's
        cost = Cost(
            lookups=lookups - node.base_lookups, own_lookups=node.own_lookups,
            total_lookups=lookups, void=void - node.base_void, own_void=node.own_void,
            total_void=void, result=result, voids=node_voids, beyond_limit=node.beyond,
        )
        views: tuple[TermView, ...] = ()
        if node.record is not None:
            views = tuple(
                TermView(
                    term=t,
                    outcomes={self.family: node.outcomes[i]} if i in node.outcomes else {},
                    networks=tuple(static_networks(t) or node.networks.get(i, ())),
                    children=tuple(node.children.get(i, ())),
                    mx_names=node.mx_names.get(i),
                )
                for i, t in enumerate(node.record.terms)
            )
        done = TreeNode(
            domain=node.domain, kind=node.kind, via=node.via, record_text=node.record_text,
            record=node.record, terms=views, costs={self.family: cost}, errors=tuple(node.errors),
        )
        if stopped:
            self.stopped.add(id(done))
        return done


_NO_COST = Cost(0, 0, 0, 0, 0, 0)


def walk_trace(
    trace: Sequence[TraceEvent],
    family: Family,
    *,
    max_lookups: int,
    max_void: int,
    overlay: Overlay | None = None,
) -> TreeNode | None:
    """The tree of one evaluation (None if the trace is empty)."""
    return _Walk(family, max_lookups, max_void, overlay).run(trace)


def _text(node: _Open, idx: int | None) -> str | None:
    if idx is None or node.record is None:
        return None
    return str(node.record.terms[idx])


def _voids(queries: list[TraceEvent], count: int) -> tuple[str, ...]:
    """The first ``count`` void answers among a term's queries: the ones §4.6.4 charged."""
    if count <= 0:
        return ()
    void = [q for q in queries if q.answer is not None and q.answer.is_void]
    return tuple(f"{q.text}: {q.answer.status.value}" for q in void[:count] if q.answer is not None)


def static_networks(term: Term) -> list[Network]:
    """§5.6: the network an ``ip4``/``ip6`` term names (no DNS needed)."""
    if isinstance(term, (IP4, IP6)):
        return [Network(term.network, term.qualifier)]
    return []


def _network(addr: object, term: A | MX) -> IPv4Network | IPv6Network:
    """§5.6: an address widened to the term's CIDR length for its family."""
    if isinstance(addr, IPv4Address):
        return IPv4Network((addr, 32 if term.cidr4 is None else term.cidr4), strict=False)
    return IPv6Network((str(addr), 128 if term.cidr6 is None else term.cidr6), strict=False)
