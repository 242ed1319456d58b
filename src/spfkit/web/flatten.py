"""Flatten a domain: ``/flatten``, the page, :func:`flatten_domain`, the answer of the API, and
:func:`flatten_offer`, the checker's offer for a tree over the limit (RFC 7208 §4.6.4).

``spfkit flatten`` in a browser: the records come from :func:`spfkit.flatten.flatten`, which
proves them equal to the source tree before it returns them, and their zone lines from
:func:`spfkit.flatten.zone.render_records`. Everything reads DNS through the request's
:class:`~spfkit.web.limits.BudgetResolver`: a tree the budget cannot read whole is never
called equivalent (``incomplete``), since both sides of the proof would have seen the same
timeouts. The lookups before are the checker's gauge (:func:`~spfkit.view.tree_view`), and
so are those after: the gauge of the flattened records served from memory over the same DNS.
``templates/flatten.html`` lays the page out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from spfkit.errors import RecordSyntaxError
from spfkit.flatten import Flattened, FlattenError, flatten
from spfkit.flatten.plan import Kept, nameable_targets, unknown_target
from spfkit.flatten.zone import render_records
from spfkit.lookup import OverlayResolver
from spfkit.lookup.protocol import Resolver
from spfkit.record.parse import parse_record
from spfkit.record.terms import Include
from spfkit.tree import RecordTree, build_tree
from spfkit.view.budget import Gauge
from spfkit.view.record_tree import tree_view
from spfkit.web.errors import field_errors
from spfkit.web.flatten_models import (
    FlattenedRecordModel,
    FlattenLookups,
    FlattenQuery,
    FlattenResponse,
    KeptTermModel,
    Outcome,
    Role,
)
from spfkit.web.limits import BudgetResolver
from spfkit.web.pages import WebContext, render, web_context
from spfkit.web.report_models import GaugeModel

__all__ = ["DomainFlattening", "FlattenOffer", "check_keep", "flatten_domain", "flatten_offer",
           "router"]

LABELS: Final = {"domain": "Domain", "keep": "Keep as written", "ttl": "TTL"}
#: how :func:`spfkit.flatten.flatten` and this module begin the reason of a tree over the limit
_BELOW_LIMIT: Final = "cannot flatten below the limit"
router = APIRouter()


def keep_targets(record: str) -> tuple[str, ...]:
    """The include targets and the redirect target of ``record`` (no macros): what ``keep``
    may name, in the record's order."""
    try:
        parsed = parse_record(record)
    except RecordSyntaxError:
        return ()
    names = [str(t.domain_spec) for t in parsed.mechanisms if isinstance(t, Include)]
    if parsed.redirect is not None:
        names.append(str(parsed.redirect.domain_spec))
    return tuple(dict.fromkeys(n.lower().rstrip(".") for n in names if "%" not in n))


@dataclass(frozen=True, slots=True)
class FlattenOffer:
    """The checker's offer to flatten ``domain``, whose tree needs ``needed`` lookups."""

    domain: str
    needed: Gauge
    includes: tuple[str, ...]


def flatten_offer(tree: RecordTree, needed: Gauge) -> FlattenOffer | None:
    """§4.6.4: an offer only for a tree whose real total is past the limit (within it,
    flattening fixes nothing and leaves a copy that drifts from the providers')."""
    if tree.root is None or not tree.root.record_text or needed.needed <= needed.limit:
        return None
    return FlattenOffer(tree.domain, needed, keep_targets(tree.root.record_text))


@dataclass(frozen=True, slots=True)
class FlatRecord:
    """One record to publish, with its zone lines."""

    name: str
    role: Role
    text: str
    bind: tuple[str, ...]
    tinydns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DomainFlattening:
    """One flattening: the source tree's count, the result or the reason, what DNS cost."""

    domain: str
    keep: tuple[str, ...]
    ttl: int
    record: str | None
    before: Gauge | None
    result: Flattened | None
    reason: str | None
    queries: int
    exhausted: bool
    max_queries: int
    #: what receivers will spend on the records once published (see :func:`_published_lookups`)
    published_lookups: Gauge | None = None

    @property
    def outcome(self) -> Outcome:
        if self.exhausted:
            return "incomplete"
        if self.result is not None and self.result.proof.equal and self.reason is None:
            return "equivalent"
        return "refused"

    @property
    def equivalent(self) -> bool:
        return self.outcome == "equivalent"

    @property
    def records(self) -> tuple[tuple[str, str], ...]:
        """The records to publish (top first), only when proven equivalent."""
        return self.result.records if self.result is not None and self.equivalent else ()

    @property
    def after(self) -> Gauge | None:
        return self.published_lookups if self.equivalent else None

    @property
    def kept(self) -> tuple[Kept, ...]:
        if self.result is None or not self.equivalent:
            return ()
        return tuple(i for i in self.result.plan.items if isinstance(i, Kept))

    @property
    def undecided(self) -> int:
        return self.result.proof.undecided if self.result is not None and self.equivalent else 0

    @property
    def includes(self) -> tuple[str, ...]:
        """The keep choices: the record's include/redirect targets, then any other name asked."""
        found = keep_targets(self.record) if self.record else ()
        return found + tuple(k for k in self.keep if k not in found)

    @property
    def why(self) -> str:
        if self.exhausted:
            return (f"this server asks at most {self.max_queries} DNS questions per request "
                    "(within a time limit), and that was not enough to read the whole tree and "
                    "prove the result; nothing is offered that is not proven. spfkit flatten "
                    f"{self.domain} on your own machine has no such bound")
        return self.reason or "the proof found an address where the results differ"

    @property
    def sentence(self) -> str:
        if self.equivalent:
            counts = ""
            if self.before is not None and self.after is not None:
                counts = f", with {self.after} DNS lookups instead of {self.before}"
            return (f"Equivalent: the flattened records give the same result as {self.domain}'s "
                    f"tree for every IPv4 and IPv6 address{counts}.")
        if self.outcome == "incomplete":
            return f"Not proven: {self.why}."
        return f"Not flattened: {self.why}."

    def lines(self, fmt: str, records: tuple[tuple[str, str], ...] | None = None) -> list[str]:
        """Zone lines (``bind``, ``tinydns``) or text of ``records`` (default: all of them)."""
        chosen = self.records if records is None else records
        return render_records(chosen, fmt, self.ttl).splitlines() if chosen else []

    @property
    def published(self) -> tuple[FlatRecord, ...]:
        return tuple(FlatRecord(name, "chained" if n else "top", text,
                                tuple(self.lines("bind", ((name, text),))),
                                tuple(self.lines("tinydns", ((name, text),))))
                     for n, (name, text) in enumerate(self.records))

    @property
    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.before is not None and self.before.needed <= self.before.limit:
            notes.append(f"{self.domain}'s tree needs {self.before} DNS lookups, within the "
                         "limit: it does not need flattening, and a flattened copy has to be "
                         "kept up to date by hand.")
        if self.outcome == "refused" and self.why.startswith(_BELOW_LIMIT):
            notes.append("Terms kept as written (ptr, exists, macros, the includes ticked to "
                         "keep) still cost their lookups once published. Drop the ones no "
                         "longer needed, keep fewer includes, or send some mail from a "
                         "subdomain with its own record.")
        if self.equivalent:
            if self.undecided:
                terms = ", ".join(k.text for k in self.kept)
                notes.append("Addresses that no network of the records lists reach the terms "
                             f"kept as written ({terms}) in the same order as before, and those "
                             "terms decide them as before.")
            if len(self.records) > 1:
                notes.append("Publish the chained records first and the top record last: then "
                             "no receiver meets an include of a name that is not published yet.")
            notes.append("Providers change their networks and a flattened copy does not "
                         f"follow: run spfkit flatten {self.domain} --state FILE, then spfkit "
                         f"watch {self.domain} --state FILE from cron to hear when it drifts.")
        return tuple(notes)

    def response(self) -> FlattenResponse:
        def gauge(g: Gauge | None) -> GaugeModel | None:
            return None if g is None else GaugeModel.model_validate(g.as_dict())

        return FlattenResponse(
            domain=self.domain, outcome=self.outcome, equivalent=self.equivalent,
            sentence=self.sentence, reason=None if self.equivalent else self.why,
            source_record=self.record,
            records=[FlattenedRecordModel(name=r.name, role=r.role, text=r.text,
                                          bind=list(r.bind), tinydns=list(r.tinydns))
                     for r in self.published],
            bind_lines=self.lines("bind"), tinydns_lines=self.lines("tinydns"),
            text_lines=self.lines("text"),
            lookups=FlattenLookups(before=gauge(self.before), after=gauge(self.after)),
            kept=[KeptTermModel(term=k.text, reason=k.reason) for k in self.kept],
            keep=list(self.keep), includes=list(self.includes),
            undecided_addresses=str(self.undecided), notes=list(self.notes),
            dns_queries=self.queries, query_limit_reached=self.exhausted,
        )


async def check_keep(query: FlattenQuery, resolver: BudgetResolver) -> None:
    """``spfkit flatten --keep``'s check: a name the tree does not reach is a typo, refused
    (:class:`RequestValidationError`, a 422 in the API, the field's alert on the page) in the
    command's words, with what can be kept. A top record that cannot be read is left to the
    flattening's own refusal; a tree the budget could not read whole refuses nothing."""
    if not query.keep:
        return
    try:
        _, known = await nameable_targets(query.domain, resolver)
    except FlattenError:
        return
    message = unknown_target(query.keep, known, query.domain)
    if message is None or resolver.exhausted:
        return
    raise RequestValidationError([{"loc": ("query", "keep"), "msg": message,
                                   "type": "value_error", "input": message.partition(":")[0]}])


async def flatten_domain(query: FlattenQuery, resolver: BudgetResolver) -> DomainFlattening:
    """``spfkit flatten`` of ``query.domain`` (validated), with the checker's count before;
    a ``keep`` the tree does not reach is refused first (:func:`check_keep`)."""
    await check_keep(query, resolver)
    tree = await build_tree(query.domain, resolver)
    before = tree_view(tree).budget.lookups if tree.root is not None else None
    record = tree.root.record_text if tree.root is not None else None
    result: Flattened | None = None
    reason: str | None = None
    after: Gauge | None = None
    try:
        result = await flatten(query.domain, resolver, keep=frozenset(query.keep))
    except (FlattenError, ValueError) as exc:
        reason = str(exc)
    else:
        after = await _published_lookups(result, resolver)
        if after.needed > after.limit:
            reason = (f"{_BELOW_LIMIT}: the flattened records still need "
                      f"{after.needed} lookups for a client that no network lists")
    return DomainFlattening(
        domain=tree.domain, keep=tuple(query.keep), ttl=query.ttl, record=record or None,
        before=before, result=result, reason=reason, queries=resolver.queries,
        exhausted=resolver.exhausted, max_queries=resolver.max_queries, published_lookups=after,
    )


async def _published_lookups(result: Flattened, resolver: Resolver) -> Gauge:
    """§4.6.4: the lookups of the records once published: the most the proof found for any
    client it decides, or — if more — what the checker's gauge will count for its sample
    clients, which no network lists and so reach every term kept as written too."""
    published = await build_tree(result.plan.domain, OverlayResolver(resolver,
                                                                      dict(result.records)))
    gauge = tree_view(published).budget.lookups
    needed = max(result.lookups, gauge.needed)
    return Gauge(needed, min(needed, gauge.limit), gauge.limit, gauge.at_least)


@router.get("/flatten", response_class=HTMLResponse, include_in_schema=False)
async def flatten_page(request: Request, ctx: WebContext = Depends(web_context)) -> HTMLResponse:
    """The form; with ``?domain=…`` (and ``keep=…``) the records, the counts and the verdict."""
    params = request.query_params
    raw = params.get("domain")
    keep = params.getlist("keep")
    ttl = params.get("ttl") or "3600"
    values: dict[str, object] = {"page": "check", "domain": raw or "", "keep": keep,
                                 "includes": keep, "ttl": ttl, "result": None}
    if raw is None:
        return render(request, "flatten.html", values)
    ctx.admit(request)
    try:
        query = FlattenQuery.model_validate({"domain": raw, "keep": keep, "ttl": ttl})
    except ValidationError as exc:
        return render(request, "flatten.html", values,
                      errors=field_errors(exc.errors(), LABELS, fallback="domain"))
    try:
        result = await ctx.evaluate(lambda budget: flatten_domain(query, budget))
    except RequestValidationError as exc:
        return render(request, "flatten.html", values,
                      errors=field_errors(exc.errors(), LABELS, fallback="keep"))
    values.update(result=result, includes=result.includes, keep=result.keep)
    return render(request, "flatten.html", values)
