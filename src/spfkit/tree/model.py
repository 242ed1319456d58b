"""The include/redirect tree of a domain's SPF record, as the evaluator walked it (RFC 7208 §4.6.4, §5.2, §6.1).

A :class:`RecordTree` is what ``spfkit show`` prints and what the tree rules of ``spfkit lint``
read: one :class:`TreeNode` per record reached (the top record, each ``include`` target, each
``redirect`` target), its terms in the order written, the lookups each costs and the running
totals of §4.6.4, the networks each authorises, and errors where they sit.

Every count here was made by ``check_host()`` itself (``tree.build`` turns its traces into
this tree); nothing in this module counts. Pure data: no asyncio, socket or dnspython imports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Final

from spfkit.lookup.protocol import LookupStatus
from spfkit.record.model import Record
from spfkit.record.terms import Qualifier, Term
from spfkit.results import CheckResult, Result

__all__ = [
    "SENDER_LETTERS", "Cost", "ErrorKind", "ExpLookup", "Family", "FamilyRun", "MacroUse", "Needed", "Network", "NodeKind",
    "RecordTree", "TermOutcome", "TermView", "TreeError", "TreeNode",
]


#: §7.2 letters whose value comes from the message or the client rather than the record
#: ("d" is the record's own domain; "v" only tells the families apart, and both are evaluated)
SENDER_LETTERS: Final = frozenset("slohipc")


class Family(StrEnum):
    """The client's address family; the tree is evaluated once for each (§5: A or AAAA)."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"

    @property
    def label(self) -> str:
        return "IPv4" if self is Family.IPV4 else "IPv6"


class NodeKind(StrEnum):
    """How a record was reached."""

    TOP = "top"
    INCLUDE = "include"  # §5.2
    REDIRECT = "redirect"  # §6.1


class ErrorKind(StrEnum):
    """What went wrong where a :class:`TreeError` sits (derived from the trace's structure)."""

    LOOKUP_LIMIT = "lookup-limit"  # §4.6.4: the 11th DNS-querying term
    VOID_LIMIT = "void-limit"  # §4.6.4: the 3rd void lookup
    MX_LIMIT = "mx-limit"  # §4.6.4: more than 10 MX names
    NO_RECORD = "no-record"  # §5.2 / §6.1: include/redirect target without a record (sits at the term)
    LOOP = "loop"  # the domain is already on the include/redirect path
    BAD_RECORD = "bad-record"  # the record does not parse, or there are several (§4.5, §4.6)
    DNS = "dns"  # temperror: a DNS error or the time limit (§2.6.6, §4.4)
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class TreeError:
    """An error where it sits: in this node's record, at ``term`` when one was being evaluated.

    ``family`` is the client family whose evaluation met it, or None when it was found by
    looking ahead past the point where every evaluation had stopped. ``beyond_limit``: only
    the walk with the §4.6.4 limits lifted got here; receivers stop earlier.
    """

    kind: ErrorKind
    result: Result
    message: str
    family: Family | None
    term: str | None = None
    beyond_limit: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "result": self.result.value,
            "message": self.message,
            "family": self.family.value if self.family else None,
            "term": self.term,
            "beyond_limit": self.beyond_limit,
        }


@dataclass(frozen=True, slots=True)
class Network:
    """A network a term names: ``ip4``/``ip6`` as written, ``a``/``mx`` as resolved + CIDR (§5.6)."""

    network: IPv4Network | IPv6Network
    qualifier: Qualifier = Qualifier.PASS
    host: str | None = None  # the name an ``a``/``mx`` term resolved

    def as_dict(self) -> dict[str, object]:
        return {"network": str(self.network), "qualifier": self.qualifier.value, "host": self.host}


@dataclass(frozen=True, slots=True)
class TermOutcome:
    """One family's evaluation of one term; counts are the evaluator's trace counts.

    ``lookups``/``void`` are what the term itself charged (an ``include`` charges 1, what its
    target's record costs is in the child node); ``total_*`` the running totals right after it.
    """

    detail: str  # "match", "no match", "→ target", or "error" when the evaluation stopped here
    lookups: int
    void: int
    total_lookups: int
    total_void: int
    voids: tuple[str, ...] = ()  # the void lookups: "AAAA mail.example.com: NODATA"
    beyond_limit: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "detail": self.detail, "lookups": self.lookups, "void_lookups": self.void,
            "total_lookups": self.total_lookups, "total_void_lookups": self.total_void,
            "voids": list(self.voids), "beyond_limit": self.beyond_limit,
        }


@dataclass(frozen=True, slots=True)
class TermView:
    """A term of a record as written, and what each family's evaluation made of it."""

    term: Term
    outcomes: Mapping[Family, TermOutcome] = field(default_factory=dict)
    networks: tuple[Network, ...] = ()
    children: tuple[TreeNode, ...] = ()  # the include/redirect target (two if the families differ)
    mx_names: int | None = None  # how many MX records an ``mx`` term found

    @property
    def text(self) -> str:
        return str(self.term)

    @property
    def evaluated(self) -> bool:
        return bool(self.outcomes)

    def as_dict(self) -> dict[str, object]:
        return {
            "term": self.text,
            "evaluated": self.evaluated,
            "outcomes": {f.value: o.as_dict() for f, o in self.outcomes.items()},
            "networks": [n.as_dict() for n in self.networks],
            "mx_names": self.mx_names,
            "children": [c.as_dict() for c in self.children],
        }


@dataclass(frozen=True, slots=True)
class Cost:
    """One family's §4.6.4 counts at a node, from the evaluator's running counters.

    ``lookups`` is what reaching the node costs: the ``include``/``redirect`` term that leads to
    it plus everything in its record and below; ``own_lookups`` its own record's terms only
    (an ``include`` in it counts 1, the include's record is the child's); ``total_lookups`` the
    running total after the node. The same for void lookups.
    """

    lookups: int
    own_lookups: int
    total_lookups: int
    void: int
    own_void: int
    total_void: int
    result: Result | None = None  # what check_host() returned for this domain, if it returned
    voids: tuple[str, ...] = ()  # void lookups of the node itself (its TXT lookup)
    beyond_limit: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "lookups": self.lookups, "own_lookups": self.own_lookups,
            "total_lookups": self.total_lookups, "void_lookups": self.void,
            "own_void_lookups": self.own_void, "total_void_lookups": self.total_void,
            "result": self.result.value if self.result else None,
            "voids": list(self.voids), "beyond_limit": self.beyond_limit,
        }


@dataclass(frozen=True, slots=True)
class ExpLookup:
    """§6.2: the TXT lookup of an ``exp=`` target (not a counted term; made by ``tree.build``)."""

    target: str
    status: LookupStatus
    texts: tuple[str, ...] = ()
    problem: str | None = None  # why a receiver would ignore it; None when usable

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "status": self.status.value, "texts": list(self.texts),
                "problem": self.problem}


@dataclass(frozen=True, slots=True)
class TreeNode:
    """One record of the tree: the top record, or an include/redirect target.

    ``costs`` has an entry for each family whose evaluation reached the node; a node with
    none was fetched only to show it (``counted`` False: after an error or a match stopped every
    evaluation, its record was looked up without evaluating or counting anything).
    """

    domain: str
    kind: NodeKind
    via: str | None = None  # the term that reached it, as written: "include:_spf.example.net"
    record_text: str | None = None
    record: Record | None = None
    terms: tuple[TermView, ...] = ()
    costs: Mapping[Family, Cost] = field(default_factory=dict)
    errors: tuple[TreeError, ...] = ()
    exp: ExpLookup | None = None
    counted: bool = True

    @property
    def evaluated(self) -> bool:
        return bool(self.costs)

    @property
    def missing(self) -> str:
        """Why the node shows no record text: a loop, a DNS error, several records, or none."""
        kinds = {e.kind for e in self.errors}
        if ErrorKind.LOOP in kinds:
            return "(loop: not evaluated again)"
        if ErrorKind.DNS in kinds:
            return "(TXT lookup failed)"
        if ErrorKind.BAD_RECORD in kinds:
            return "(several SPF records)"
        return "(no SPF record)"

    @property
    def children(self) -> tuple[TreeNode, ...]:
        return tuple(child for view in self.terms for child in view.children)

    @property
    def networks(self) -> tuple[Network, ...]:
        return tuple(net for view in self.terms for net in view.networks)

    def walk(self) -> Iterator[TreeNode]:
        """This node and every node below it, depth first, in term order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def as_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "kind": self.kind.value,
            "via": self.via,
            "record": self.record_text,
            "evaluated": self.evaluated,
            "counted": self.counted,
            "costs": {f.value: c.as_dict() for f, c in self.costs.items()},
            "errors": [e.as_dict() for e in self.errors],
            "exp": self.exp.as_dict() if self.exp else None,
            "terms": [t.as_dict() for t in self.terms],
        }


@dataclass(frozen=True, slots=True)
class MacroUse:
    """§7: a term whose target depends on the sender or the client (``%{s}``, ``%{i}``...)."""

    domain: str
    term: str
    letters: str  # the sender-dependent letters used, sorted: "io"


@dataclass(frozen=True, slots=True)
class Needed:
    """§4.6.4 counts of the evaluation with the limits lifted: what the tree really costs.

    ``complete`` is False when that evaluation also stopped at an error (another one, or
    ``tree.needs.EXPLORE_LIMIT``): the counts are then lower bounds.
    """

    lookups: int
    void: int
    complete: bool

    @classmethod
    def of(cls, result: CheckResult) -> Needed:
        """The counts of an evaluation made with the limits lifted (``tree.needs.lifted``)."""
        return cls(result.lookups, result.void_lookups,
                   result.result not in (Result.PERMERROR, Result.TEMPERROR))


@dataclass(frozen=True, slots=True)
class FamilyRun:
    """The evaluation for one client family.

    ``result`` is ``check_host()`` with the limits receivers use (10 DNS-querying terms, 2
    void lookups); ``needed_*`` are the same evaluator's counts with the limits lifted, i.e.
    what the tree really costs (equal to ``result``'s counts when it stays within them).
    ``complete`` is False when that walk stopped at an error: the needed counts are then
    lower bounds.
    """

    family: Family
    client: IPv4Address | IPv6Address
    result: CheckResult
    needed_lookups: int
    needed_void: int
    complete: bool

    def as_dict(self) -> dict[str, object]:
        r = self.result
        return {
            "client": str(self.client), "result": r.result.value, "problem": r.problem,
            "domain": r.domain, "mechanism": r.mechanism,
            "lookups": r.lookups, "void_lookups": r.void_lookups,
            "needed_lookups": self.needed_lookups, "needed_void_lookups": self.needed_void,
            "complete": self.complete,
        }


@dataclass(frozen=True, slots=True)
class RecordTree:
    """A domain's record and everything it reaches, evaluated for an IPv4 and an IPv6 client.

    ``root`` is None when the domain publishes no SPF record. ``lookups_v4`` etc. are exactly
    ``check_host()``'s ``CheckResult.lookups``/``void_lookups`` for the sample clients.
    """

    domain: str
    root: TreeNode | None
    v4: FamilyRun
    v6: FamilyRun
    sample_sender: str
    sample_helo: str
    macro_uses: tuple[MacroUse, ...] = ()
    notes: tuple[str, ...] = ()
    max_lookups: int = 10
    max_void: int = 2

    @property
    def result_v4(self) -> CheckResult:
        return self.v4.result

    @property
    def result_v6(self) -> CheckResult:
        return self.v6.result

    @property
    def lookups_v4(self) -> int:
        return self.v4.result.lookups

    @property
    def lookups_v6(self) -> int:
        return self.v6.result.lookups

    @property
    def void_v4(self) -> int:
        return self.v4.result.void_lookups

    @property
    def void_v6(self) -> int:
        return self.v6.result.void_lookups

    @property
    def sender_dependent(self) -> bool:
        """§7: the tree depends on the sender or client; counts are for the sample values."""
        return bool(self.macro_uses)

    def run(self, family: Family) -> FamilyRun:
        return self.v4 if family is Family.IPV4 else self.v6

    def nodes(self) -> Iterator[TreeNode]:
        if self.root is not None:
            yield from self.root.walk()

    def as_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "sample": {
                "sender": self.sample_sender, "helo": self.sample_helo,
                "ipv4": str(self.v4.client), "ipv6": str(self.v6.client),
            },
            "limits": {"lookups": self.max_lookups, "void_lookups": self.max_void},
            "ipv4": self.v4.as_dict(),
            "ipv6": self.v6.as_dict(),
            "sender_dependent": self.sender_dependent,
            "macro_uses": [
                {"domain": m.domain, "term": m.term, "letters": m.letters} for m in self.macro_uses
            ],
            "notes": list(self.notes),
            "root": self.root.as_dict() if self.root else None,
        }
