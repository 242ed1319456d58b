"""policyd-spf's per-domain options, as policyd-spf.conf(5) describes them, over real DNS.

``Reject_Not_Pass_Domains`` ("if mail from a domain in this list has a Neutral/Softfail result,
it will be rejected (as if it had a Fail result)"; "does not change the effect of
PermError_reject or TempError_Defer"), ``Domain_Whitelist_PTR`` ("Matching is done using the
same rules as the SPF PTR mechanism"; "List the parent domain and all subdomains will match"),
``Domain_Whitelist``, ``HELO_Whitelist``, ``Whitelist``, ``skip_addresses``. Answers come from a
real DNS server on 127.0.0.1, through the same resolver the server uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spfkit.identity import Identity
from spfkit.policy.config import Verdict, load_config, parse_config
from spfkit.policy.protocol import PolicyRequest
from spfkit.policy.service import PolicyService, make_resolver
from spfkit.results import Result
from tests.fixtures.dnsserver import ZoneDataServer

ZONE: dict[str, Any] = {
    "softy.example": [{"TXT": "v=spf1 ip4:192.0.2.1 ~all"}],
    "mail.softy.example": [{"TXT": "v=spf1 ip4:192.0.2.1 ?all"}],
    "neutral.example": [{"TXT": "v=spf1 ?all"}],
    "broken.example": [{"TXT": "v=spf1 ip4:192.0.2.300 -all"}],
    "other.example": [{"TXT": "v=spf1 ~all"}],
    # a forwarder without SPF, found by its reverse DNS
    "7.100.51.198.in-addr.arpa": [{"PTR": "out1.mx.forwarder.example"}],
    "out1.mx.forwarder.example": [{"A": "198.51.100.7"}],
    # a PTR name whose forward lookup does not come back to the client: not validated
    "8.100.51.198.in-addr.arpa": [{"PTR": "out2.mx.forwarder.example"}],
    "out2.mx.forwarder.example": [{"A": "198.51.100.99"}],
    # a PTR name that only ends in the text of the trusted domain
    "9.100.51.198.in-addr.arpa": [{"PTR": "notforwarder.example"}],
    "notforwarder.example": [{"A": "198.51.100.9"}],
}


@pytest.fixture(scope="module")
def dns() -> Iterator[ZoneDataServer]:
    with ZoneDataServer(ZONE) as server:
        yield server


def answer(config: dict[str, Any], dns: ZoneDataServer, **attrs: str) -> str:
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "client_address": "203.0.113.9",
            "helo_name": "client.invalid", "sender": "alice@softy.example",
            "recipient": "bob@example.org", "instance": "i1"}
    base.update(attrs)
    cfg = parse_config({"Receiver": "mx.example.org", "nameservers": [f"127.0.0.1:{dns.port}"],
                        "dns_timeout": 2, **config})
    service = PolicyService(cfg, make_resolver(cfg))
    return asyncio.run(service.handle(PolicyRequest.build(base))).action


# ----------------------------------------------------------------- Reject_Not_Pass_Domains

@pytest.mark.parametrize(("sender", "rejected"), [
    ("alice@softy.example", True),  # softfail of a listed domain
    ("alice@mail.softy.example", True),  # neutral of a subdomain of it
    ("alice@other.example", False),  # softfail of a domain not listed: accepted as before
])
def test_listed_domains_softfail_and_neutral_are_rejected(dns: ZoneDataServer, sender: str,
                                                          rejected: bool) -> None:
    action = answer({"Reject_Not_Pass_Domains": "softy.example"}, dns, sender=sender)
    assert action.startswith("550 5.7.23") is rejected, action
    if not rejected:
        assert action.startswith("PREPEND Received-SPF: softfail")


def test_the_listed_domains_pass_is_still_accepted(dns: ZoneDataServer) -> None:
    action = answer({"Reject_Not_Pass_Domains": "softy.example"}, dns, client_address="192.0.2.1")
    assert action.startswith("PREPEND Received-SPF: pass")


def test_listed_domains_do_not_change_permerror_or_temperror(dns: ZoneDataServer) -> None:
    config = {"Reject_Not_Pass_Domains": "broken.example", "PermError_reject": False}
    assert answer(config, dns, sender="a@broken.example").startswith("PREPEND Received-SPF: permerror")


def test_the_helo_name_is_checked_against_the_list_too(dns: ZoneDataServer) -> None:
    action = answer({"Reject_Not_Pass_Domains": "neutral.example"}, dns,
                    helo_name="neutral.example", sender="x@other.example")
    assert action.startswith("550 5.7.23") and "HELO" in action


def test_a_listed_domain_overrides_a_never_reject_policy_but_not_test_only() -> None:
    config = parse_config({"Mail_From_reject": "False", "Reject_Not_Pass_Domains": ["softy.example"]})
    assert config.verdict(Identity.MAILFROM, Result.SOFTFAIL, "softy.example") is Verdict.REJECT
    assert config.verdict(Identity.MAILFROM, Result.SOFTFAIL, "other.example") is Verdict.ACCEPT
    assert config.verdict(Identity.MAILFROM, Result.SOFTFAIL, "notsofty.example") is Verdict.ACCEPT
    tested = parse_config({"test_only": True, "Reject_Not_Pass_Domains": ["softy.example"]})
    assert tested.verdict(Identity.MAILFROM, Result.NEUTRAL, "softy.example") is Verdict.REJECT


def test_test_only_still_never_rejects_a_listed_domain(dns: ZoneDataServer) -> None:
    action = answer({"Reject_Not_Pass_Domains": "softy.example", "test_only": True}, dns)
    assert action.startswith("PREPEND Received-SPF: softfail")


def test_explain_says_the_receiver_policy_rejected_it(dns: ZoneDataServer) -> None:
    cfg = parse_config({"nameservers": [f"127.0.0.1:{dns.port}"], "Mail_From_reject": "False",
                        "Reject_Not_Pass_Domains": ["softy.example"]})
    request = PolicyRequest.build({"request": "smtpd_access_policy", "protocol_state": "RCPT",
                                   "client_address": "203.0.113.9", "helo_name": "client.invalid",
                                   "sender": "alice@softy.example"})
    explained = asyncio.run(PolicyService(cfg, make_resolver(cfg)).explain(request))
    assert explained.decision.why == ("MAIL FROM softfail: reject "
                                      "(policy SPF_Not_Pass for Reject_Not_Pass_Domains)")


# ----------------------------------------------------------------- Domain_Whitelist_PTR

@pytest.mark.parametrize(("client", "trusted"), [
    ("198.51.100.7", True),  # out1.mx.forwarder.example, validated: below the listed domain
    ("198.51.100.8", False),  # its PTR name does not resolve back to it (§5.5)
    ("198.51.100.9", False),  # "notforwarder.example" is not within "forwarder.example"
    ("203.0.113.9", False),  # no PTR record at all
])
def test_ptr_whitelist_trusts_validated_names_within_the_domain(dns: ZoneDataServer, client: str,
                                                               trusted: bool) -> None:
    action = answer({"Domain_Whitelist_PTR": "forwarder.example"}, dns, client_address=client,
                    sender="alice@other.example")
    assert (action == "DUNNO") is trusted, action


# ----------------------------------------------------------------- from a policyd-spf file

def test_a_policyd_spf_file_with_per_domain_options(tmp_path: Path, dns: ZoneDataServer) -> None:
    path = tmp_path / "policyd-spf.conf"
    path.write_text(
        "debugLevel = 1\nTestOnly = 1\n"
        "Reject_Not_Pass_Domains = softy.example,hotmail.com\n"
        "Domain_Whitelist_PTR = forwarder.example\n"
        "Whitelist = 192.168.0.0/31,192.168.1.12\n"
        "HELO_Whitelist = relay.example.com\n"
        f"nameservers = 127.0.0.1:{dns.port}\n"
    )
    config = load_config(path)
    service = PolicyService(config, make_resolver(config))

    def ask(**attrs: str) -> str:
        base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "helo_name": "c.invalid",
                "sender": "alice@softy.example", "recipient": "bob@example.org"}
        return asyncio.run(service.handle(PolicyRequest.build({**base, **attrs}))).action

    assert ask(client_address="203.0.113.9").startswith("550 5.7.23")
    assert ask(client_address="198.51.100.7") == "DUNNO"
    assert ask(client_address="192.168.1.12") == "DUNNO"
    assert config.helo_whitelist == ("relay.example.com",)
