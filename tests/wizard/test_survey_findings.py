"""The wizard lints what it built as ``spfkit lint`` lints it once published: a provider
whose record passes every address (an include of "+all") is SPF-E304 in both."""

from __future__ import annotations

import asyncio
from typing import Any

from spfkit.lint import lint_domain
from spfkit.lookup import MemoryResolver
from spfkit.wizard import WizardAnswers
from spfkit.wizard.survey import MxSurvey, survey

ZONE: dict[str, Any] = {
    "open.example": {"TXT": "v=spf1 +all"},
    "narrow.example": {"TXT": "v=spf1 ip4:198.51.100.0/24 -all"},
}


def _codes(include: str) -> tuple[set[str], set[str]]:
    answers = WizardAnswers(mx=False, ip4=(), includes=(include,))
    resolver = MemoryResolver(ZONE)
    draft = asyncio.run(survey("wiz.example", answers, MxSurvey(hosts=()), resolver))
    published = MemoryResolver({**ZONE, "wiz.example": {"TXT": draft.published[0].text}})
    report = asyncio.run(lint_domain("wiz.example", published))
    return {f.code for f in draft.findings}, {f.code for f in report.findings}


def test_an_include_that_passes_everyone_is_reported_by_the_wizard_as_by_lint() -> None:
    wizard_codes, lint_codes = _codes("open.example")
    assert "SPF-E304" in wizard_codes and "SPF-E304" in lint_codes


def test_a_narrow_provider_is_not() -> None:
    wizard_codes, lint_codes = _codes("narrow.example")
    assert "SPF-E304" not in wizard_codes and "SPF-E304" not in lint_codes
