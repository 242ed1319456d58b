"""view/check.py: a check and what shows it — its JSON and its two headers."""

from __future__ import annotations

import asyncio
import json

from spfkit.evaluate import check
from spfkit.headers import authentication_results, received_spf
from spfkit.identity import Identity, subject_for
from spfkit.lookup import MemoryResolver
from spfkit.results import Result
from spfkit.view import CheckReport

ZONE = MemoryResolver({"example.com": {"TXT": "v=spf1 ip4:192.0.2.0/24 -all"}})


def report(ip: str, sender: str, helo: str = "") -> CheckReport:
    identity = Identity.MAILFROM
    result = asyncio.run(check(ip, sender, helo, resolver=ZONE, identity=identity,
                               receiver="mx.example.org"))
    return CheckReport(ip, sender, helo, identity, subject_for(identity, sender, helo),
                       "mx.example.org", result)


def test_the_json_of_a_fail() -> None:
    r = report("198.51.100.1", "alice@example.com")
    data = json.loads(json.dumps(r.as_dict()))
    assert data["result"] == "fail" and data["meaning"] == Result.FAIL.meaning
    assert data["mechanism"] == "-all" and data["domain"] == "example.com"
    assert data["sender"] == "alice@example.com" and data["checked_domain"] == "example.com"
    assert data["identity"] == "mailfrom" and data["ip"] == "198.51.100.1" and data["helo"] == ""
    assert data["trace"] == [event.as_dict() for event in r.result.trace]
    assert data["received_spf"].startswith("Received-SPF: fail ")
    assert data["authentication_results"] == str(r.authentication_results())


def test_the_headers_are_those_of_headers_py() -> None:
    r = report("192.0.2.7", "", helo="mail.example.com")  # the null sender: postmaster@HELO
    assert r.subject.sender == "postmaster@mail.example.com"
    assert str(r.received_spf()) == str(received_spf(
        r.result, client_ip="192.0.2.7", identity=Identity.MAILFROM, envelope_from="",
        helo="mail.example.com", receiver="mx.example.org"))
    assert str(r.authentication_results()) == str(authentication_results(
        r.result, authserv_id="mx.example.org", identity=Identity.MAILFROM, envelope_from="",
        helo="mail.example.com"))
    assert report("192.0.2.7", "a@example.com").as_dict()["helo"] == ""
