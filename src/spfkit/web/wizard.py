"""The wizard in a browser: ``/wizard``, the page, and :func:`draft`, the answer of the API.

The same questions and explanations as ``spfkit wizard`` (``spfkit.wizard.draft.QUESTIONS``,
``ALL_EXPLANATIONS``, ``PTR_WARNING``, ``RECOMMENDATION``), the same record
(:func:`~spfkit.wizard.draft.build_record`), the same HELO records of the mail hosts (§2.3),
the same zone lines (:func:`~spfkit.wizard.zones.bind_lines`, :func:`tinydns_lines`), the
linter's static rules on each record and, when DNS answers, the tree of the drafted record as
receivers will walk it once published (§4.6.4, through an :class:`OverlayResolver`).
"""

from __future__ import annotations

import re
from typing import Final, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from spfkit.lookup.protocol import Resolver
from spfkit.web.errors import field_errors
from spfkit.web.limits import BudgetResolver
from spfkit.web.models import (
    FindingModel,
    MailHostRecordModel,
    PublishedRecord,
    WizardLookups,
    WizardRequest,
    WizardResponse,
)
from spfkit.web.pages import WebContext, form_lines, render, web_context
from spfkit.wizard.draft import (
    ALL_EXPLANATIONS,
    PTR_WARNING,
    QUESTIONS,
    RECOMMENDATION,
    RECOMMENDED_ALL,
    AllPolicy,
    WizardAnswers,
    build_record,
    parse_ip4,
    parse_ip6,
)
from spfkit.wizard.survey import look_up_mx, survey
from spfkit.wizard.zones import bind_lines, tinydns_lines

__all__ = ["LABELS", "answers_of", "draft", "router"]

MAX_DNS_TERMS: Final = 10  # RFC 7208 §4.6.4
_WHOLE: Final = re.compile(r"[+-]?[0-9]+")  # ASCII digits only, as the JSON body has them

#: the form's fields, named as the page's labels name them (for error messages)
LABELS: Final = {
    "domain": "Domain", "mx": "MX hosts", "a": "The domain's own address",
    "ip4": "IPv4 addresses or networks", "ip6": "IPv6 addresses or networks",
    "a_hosts": "Other domains' servers (a:)", "mx_domains": "Other domains' MX hosts (mx:)",
    "includes": "Mail providers (include:)", "ptr": "ptr", "all": "Mail from any other host",
    "ttl": "TTL", "mail_hosts": "Mail hosts' own names",
}
_TEXT_AREAS: Final = ("ip4", "ip6", "a_hosts", "mx_domains", "includes", "mail_hosts")

router = APIRouter()
Purpose = Literal["mail-from", "helo"]


def answers_of(request: WizardRequest) -> WizardAnswers:
    """The validated request as the wizard's answers (RFC 7208 §5)."""
    return WizardAnswers(
        mx=request.mx, a=request.a,
        ip4=tuple(parse_ip4(n) for n in request.ip4),
        ip6=tuple(parse_ip6(n) for n in request.ip6),
        a_hosts=tuple(request.a_hosts), mx_domains=tuple(request.mx_domains),
        includes=tuple(request.includes), ptr=request.ptr,
        all_policy=AllPolicy(request.all),
    )


async def draft(request: WizardRequest, resolver: Resolver | None) -> WizardResponse:
    """Everything ``spfkit wizard --format json`` prints, for the answers in ``request``.

    ``resolver`` None: no DNS (the MX hosts are not looked up, lookups are not counted).
    """
    domain = request.domain
    answers = answers_of(request)
    mx = await look_up_mx(resolver, domain)
    done = await survey(domain, answers, mx, resolver, tuple(request.mail_hosts))
    record, hosts, findings = done.record, done.mail_hosts, done.findings
    published = [(p.name, p.purpose, p.text) for p in done.published]
    notes = [*done.notes, *done.errors]
    mx_hosts, problem = mx.hosts, done.not_counted
    counts = done.lookups
    lookups = None if counts is None else WizardLookups(**counts.as_dict())
    records = [
        PublishedRecord(name=name, purpose=purpose, text=text,
                        bind=bind_lines(name, text, request.ttl),
                        tinydns=tinydns_lines(name, text, request.ttl))
        for name, purpose, text in published
    ]
    budget = resolver if isinstance(resolver, BudgetResolver) else None
    return WizardResponse(
        domain=domain, record=record.canonical(),
        all_explanation=ALL_EXPLANATIONS[answers.all_policy], dns_terms=answers.dns_terms,
        bind_lines=[line for r in records for line in r.bind],
        tinydns_lines=[line for r in records for line in r.tinydns],
        records=records,
        mail_host_records=[MailHostRecordModel(name=h.name, record=h.record.canonical())
                           for h in hosts],
        findings=[FindingModel.model_validate(f.as_dict()) for f in findings],
        lookups=lookups, lookups_not_counted=problem,
        mx_hosts=list(mx_hosts) if mx_hosts is not None else None,
        notes=notes, dns_queries=budget.queries if budget else 0,
        query_limit_reached=budget.exhausted if budget else False,
    )


def _form(query: dict[str, str], submitted: bool) -> dict[str, str | bool]:
    """The form as the user left it (checkboxes: present means ticked, once submitted)."""
    form: dict[str, str | bool] = {
        "domain": query.get("domain", ""),
        "mx": ("mx" in query) if submitted else True,
        "a": "a" in query, "ptr": "ptr" in query,
        "all": query.get("all", RECOMMENDED_ALL.value),
        "ttl": query.get("ttl", "3600"),
    }
    for name in _TEXT_AREAS:
        form[name] = query.get(name, "")
    return form


def _raw(form: dict[str, str | bool]) -> dict[str, object]:
    """The form as the JSON body of ``POST /api/wizard`` would carry it."""
    raw: dict[str, object] = {k: v for k, v in form.items() if k not in _TEXT_AREAS}
    ttl = str(form["ttl"]).strip()
    raw["ttl"] = _whole(ttl)
    for name in _TEXT_AREAS:
        raw[name] = form_lines(str(form[name]))
    return raw


def _whole(text: str) -> int | str:
    """A whole number as an int, negative too (so -1 is told the API's "must be at least 0"),
    anything else as it is (told "must be a whole number")."""
    if _WHOLE.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts: far past the largest TTL
            pass
    return text


def _page_context(form: dict[str, str | bool], result: WizardResponse | None) -> dict[str, object]:
    default = build_record(WizardAnswers()).canonical()
    return {
        "page": "wizard", "form": form, "result": result,
        "record": result.record if result else default,
        "questions": QUESTIONS, "ptr_warning": PTR_WARNING,
        "policies": [(p.value, ALL_EXPLANATIONS[p], p is RECOMMENDED_ALL) for p in AllPolicy],
        "recommendation": RECOMMENDATION,
        "chosen_explanation": _explanation(str(form["all"])),
    }


def _explanation(value: str) -> str:
    try:
        return ALL_EXPLANATIONS[AllPolicy(value)]
    except ValueError:
        return ""


@router.get("/wizard", response_class=HTMLResponse, include_in_schema=False)
async def wizard_page(request: Request, ctx: WebContext = Depends(web_context)) -> HTMLResponse:
    """The wizard's form; with ``?domain=…`` (the form submitted) the drafted records too."""
    query = {k: v for k, v in request.query_params.items()}
    submitted = "domain" in query
    form = _form(query, submitted)
    if not submitted:
        return render(request, "wizard.html", _page_context(form, None))
    ctx.admit(request)
    try:
        answers = WizardRequest.model_validate(_raw(form))
    except ValidationError as exc:
        errors = field_errors(exc.errors(), LABELS, fallback="domain")
        return render(request, "wizard.html", _page_context(form, None), errors=errors)
    result = await ctx.evaluate(lambda budget: draft(answers, budget))
    return render(request, "wizard.html", _page_context(form, result))
