"""view.dmarc: the DMARC record beside SPF on /check, in words (issue 15 item 7)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from spfkit.dmarc import lookup_dmarc
from spfkit.lookup import MemoryResolver, ZoneResolver
from spfkit.view.budget import Level
from spfkit.view.dmarc import dmarc_view

ZONE = ZoneResolver(Path(__file__).resolve().parents[1] / "fixtures" / "issue15.zone")


def view_of(resolver, domain: str):  # type: ignore[no-untyped-def]
    return dmarc_view(asyncio.run(lookup_dmarc(resolver, domain)))


def test_a_reject_policy() -> None:
    view = view_of(ZONE, "fine.example")
    assert view.present and view.policy is not None and view.policy.value == "reject"
    assert view.record == "v=DMARC1; p=reject; rua=mailto:dmarc@fine.example"
    assert view.text.startswith("p=reject: receivers are asked to reject")
    assert view.level is Level.OK


def test_no_record() -> None:
    view = view_of(ZONE, "nodmarc.example")
    assert not view.present and view.policy is None and view.record is None
    assert view.text.startswith("no DMARC record at _dmarc.nodmarc.example")
    assert view.level is Level.NEAR


@pytest.mark.parametrize(("txt", "policy", "words", "level"), [
    ("v=DMARC1; p=none", "none", "monitoring only", Level.NEAR),
    ("v=DMARC1; p=quarantine; pct=20", "quarantine", "for 20% of it", Level.OK),
    ("v=DMARC1; p=reject; sp=none", "reject", "subdomains: sp=none", Level.OK),
])
def test_policies(txt: str, policy: str, words: str, level: Level) -> None:
    view = view_of(MemoryResolver({"_dmarc.d.example": {"TXT": txt}}), "d.example")
    assert view.policy is not None and view.policy.value == policy
    assert words in view.text and view.level is level


def test_an_unusable_record() -> None:
    view = view_of(MemoryResolver({"_dmarc.d.example": {"TXT": "v=DMARC1; p=bogus"}}), "d.example")
    assert not view.present and view.level is Level.OVER
    assert view.text.startswith("no usable DMARC record at _dmarc.d.example")
