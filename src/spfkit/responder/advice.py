"""What a result means for the sender's mail, in plain words (RFC 7208 §8; RFC 4406).

RFC 7208 §8 gives receivers no single rule ("there is no comprehensive normative
requirement for message handling in response to any particular result"), so these texts
say what receivers *typically* do, §8.1–§8.7 in order, then what the sender can do about
it.  The PRA texts add Sender ID's part: RFC 4406 reads a ``v=spf1`` record as
``spf2.0/mfrom,pra`` (§3.4) and receivers that apply it reject a ``fail`` outright.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

from typing import Final, Literal

from spfkit.results import Result

__all__ = ["CheckName", "meaning"]

CheckName = Literal["mfrom", "helo", "pra"]

_WHO: Final[dict[CheckName, str]] = {
    "mfrom": "the envelope sender (MAIL FROM) {identity}",
    "helo": "the HELO name {identity}",
    "pra": "the Purported Responsible Address {identity} (what most readers see as the sender)",
}

# RFC 7208 §8.1-§8.7: what receivers typically do, one sentence or two per result.
_RECEIVERS: Final[dict[Result, str]] = {
    Result.NONE: "Receivers have nothing to go on (RFC 7208 §8.1): the mail is judged on "
    "other grounds (reputation, content, DKIM), and many filters score a missing record a "
    "little worse than a pass. Anyone can use this name without being caught by SPF.",
    Result.NEUTRAL: "Receivers treat a neutral exactly like none (RFC 7208 §8.2): the record "
    "explicitly says nothing about this client, so the mail is judged on other grounds.",
    Result.PASS: "Receivers know the mail really comes from a server the domain authorises "
    "(RFC 7208 §8.3), so the domain's reputation can be applied to it. A pass alone does not "
    "make mail wanted; it only makes it attributable.",
    Result.FAIL: "The domain states that this client may not use the name (RFC 7208 §8.4). "
    "Many receivers reject such mail during the SMTP session (550 5.7.23 or 5.7.1); others "
    "accept it and file it as spam. Expect this mail to be lost.",
    Result.SOFTFAIL: "The domain says the client is probably not authorised but asks "
    "receivers not to reject on that alone (RFC 7208 §8.5). Receivers usually accept the "
    "mail and mark it or score it as more likely spam.",
    Result.TEMPERROR: "A DNS problem stopped the check (RFC 7208 §8.6). Receivers usually "
    "answer with a temporary error (451 4.4.3) and the sending server retries later; if the "
    "problem lasts, the mail is delayed and finally bounced.",
    Result.PERMERROR: "The published records cannot be interpreted (RFC 7208 §8.7). Some "
    "receivers reject the mail (550 5.5.2), most treat it as if there were no record: "
    "either way the domain loses the protection it meant to publish.",
}

# What the sender can do, per check and result; "{domain}" is the domain checked.
_ACTIONS: Final[dict[tuple[CheckName, Result], str]] = {
    ("mfrom", Result.NONE): "Publish a record for {domain} listing the servers that send its "
    "mail, ending in ~all or -all.",
    ("mfrom", Result.NEUTRAL): "If this server sends {domain}'s mail, list it in the record "
    "so receivers see a pass.",
    ("mfrom", Result.FAIL): "If this server is yours, add it to the record of {domain} "
    "(ip4:, ip6:, a, mx or include: of your provider) before sending more mail.",
    ("mfrom", Result.SOFTFAIL): "If this server is yours, add it to the record of {domain}.",
    ("mfrom", Result.PERMERROR): "Fix the record of {domain}: see the problem above and the "
    "lint findings below.",
    ("mfrom", Result.TEMPERROR): "Check that every name server of {domain} answers TXT "
    "queries, over UDP and TCP.",
    ("helo", Result.NONE): "Publish \"v=spf1 a -all\" for the HELO name {domain} (RFC 7208 "
    "§2.3 recommends a HELO record); bounces, whose MAIL FROM is empty, are checked by "
    "this name alone (RFC 7208 §2.4).",
    ("helo", Result.NEUTRAL): "Publish \"v=spf1 a -all\" (or list the server's address) for "
    "the HELO name {domain}.",
    ("helo", Result.FAIL): "The server announces itself as {domain}, whose record does not "
    "list its address: fix the record or the server's HELO name.",
    ("helo", Result.SOFTFAIL): "List the server's address in the record of its HELO name "
    "{domain}.",
    ("helo", Result.PERMERROR): "Fix the record of the HELO name {domain}.",
    ("helo", Result.TEMPERROR): "Check that the name servers of {domain} answer TXT queries.",
    ("pra", Result.NONE): "Sender ID finds no record for {domain}; a v=spf1 record is used for "
    "the PRA too once you publish one (RFC 4406 §3.4).",
    ("pra", Result.FAIL): "Receivers that still apply Sender ID reject this with \"550 5.7.1 "
    "Sender ID (PRA) Not Permitted\". If mail is sent for {domain} by servers outside its "
    "v=spf1 record (a newsletter service, a forwarding list), either list them or publish "
    "\"spf2.0/pra ?all\" to opt out of the PRA check (RFC 4406 §3.4).",
    ("pra", Result.SOFTFAIL): "Sender ID reads the v=spf1 record for the PRA too (RFC 4406 "
    "§3.4); list this server, or publish an spf2.0/pra record that fits header addresses.",
    ("pra", Result.PERMERROR): "Either the record of {domain} is broken, or the message has no "
    "usable PRA: a message needs exactly one From: (or a Sender:) with a single address.",
    ("pra", Result.TEMPERROR): "Check that the name servers of {domain} answer TXT queries.",
}


# What a pass is worth to DMARC (RFC 7489 §4.1: the SPF result of MAIL FROM, of HELO when
# MAIL FROM is empty; Sender ID is not used)
_DMARC: Final[dict[CheckName, str]] = {
    "mfrom": "DMARC can use it (RFC 7489 §3.1.2) when this domain matches the From: domain.",
    "helo": "DMARC uses a HELO pass only for mail with an empty MAIL FROM (a bounce), "
    "RFC 7489 §4.1.",
    "pra": "DMARC does not use Sender ID results (RFC 7489 §4.1).",
}


def meaning(check: CheckName, result: Result, identity: str, domain: str) -> str:
    """Plain words: whose name was checked, what receivers typically do, what to do."""
    who = _WHO[check].format(identity=identity or "(none)")
    text = f"For {who}: {result.value}. {_RECEIVERS[result]}"
    if result is Result.PASS:
        text += " " + _DMARC[check]
    action = _ACTIONS.get((check, result))
    if action:
        text += " " + action.format(domain=domain or "the domain")
    return text
