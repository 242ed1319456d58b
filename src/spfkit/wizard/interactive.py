"""The wizard's questions (RFC 7208 §5, §8, §2.3), asked through an injectable :class:`Prompter`.

:func:`interview` asks, in order: the domain's MX hosts (``mx``), its own address (``a``),
IPv4 and IPv6 networks (``ip4``, ``ip6``), other domains' servers (``a:``, ``mx:``), mail
providers (``include:``), ``ptr`` (offered, but discouraged with the reason of §5.5), the end
of the record (``-all``/``~all``/``?all``, one sentence each and the recommendation as the
default), and the mail hosts whose HELO names get a record of their own (§2.3). Every question
comes with a one-line explanation; an answer that does not parse is explained and asked again.

The terminal is reached only through the :class:`Prompter` handed in: the CLI's
``spfkit.cli.prompter.ClickPrompter`` uses ``click.prompt`` / ``click.confirm`` on stderr (so
stdout carries only the zone lines); tests pass a scripted one. No DNS here, and no terminal
library: what DNS knows (the MX hosts) is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Protocol, TypeVar

from spfkit.wizard.draft import (
    ALL_EXPLANATIONS,
    PTR_WARNING,
    QUESTIONS,
    RECOMMENDATION,
    AllPolicy,
    WizardAnswers,
    parse_all_policy,
    parse_domain,
    parse_domain_spec,
    parse_ip4,
    parse_ip6,
)

__all__ = ["Interview", "Prompter", "interview", "parse_list"]

T = TypeVar("T")


class Prompter(Protocol):
    """How questions reach a person: ask until ``parse`` accepts, confirm, or just say."""

    def ask(self, question: str, parse: Callable[[str], T], default: str) -> T:
        """Ask ``question``; Enter means ``default``; a ``ValueError`` from ``parse`` is
        shown and the question asked again."""
        ...

    def confirm(self, question: str, default: bool) -> bool: ...

    def say(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Interview:
    """What the person answered: the record's answers and the extra HELO host names."""

    answers: WizardAnswers
    mail_hosts: tuple[str, ...]


def parse_list(parse: Callable[[str], T]) -> Callable[[str], tuple[T, ...]]:
    """A parser of answers separated by spaces or commas, each checked by ``parse``."""

    def parse_all(text: str) -> tuple[T, ...]:
        return tuple(parse(item) for item in re.split(r"[\s,]+", text.strip()) if item)

    return parse_all


def _spec_text(text: str) -> str:
    return str(parse_domain_spec(text))


def interview(
    domain: str,
    prompter: Prompter,
    *,
    defaults: WizardAnswers | None = None,
    mail_hosts: Sequence[str] = (),
    mx_hosts: Sequence[str] | None = None,
    helo_hosts: Sequence[str] = (),
) -> Interview:
    """Ask every question about ``domain``; ``defaults`` are what Enter answers.

    ``mx_hosts`` are the domain's MX hosts when DNS could tell (None: unknown, ``()``: none,
    which makes "no" the default for ``mx``); ``helo_hosts`` are the MX hosts that will get a
    HELO record anyway, named so the last question can say so.
    """
    defaults = defaults or WizardAnswers()
    say = prompter.say
    say(f"SPF wizard for {domain}: which hosts send mail as ...@{domain}?")
    say("Press Enter to take the answer in [brackets]; lists are separated by spaces.")

    say("")
    say(QUESTIONS["mx"])
    mx_default = defaults.mx
    if mx_hosts is not None:
        if mx_hosts:
            say(f"  {domain}'s MX hosts: {', '.join(mx_hosts)}")
        else:
            say(f"  {domain} has no MX records: mx would match nothing (and be a void lookup).")
            mx_default = False
    mx = prompter.confirm(f"Do {domain}'s MX hosts send its mail?", mx_default)

    say("")
    say(QUESTIONS["a"])
    own_a = prompter.confirm(f"Does {domain}'s own address send mail?", defaults.a)

    say("")
    say(QUESTIONS["ip4"])
    ip4 = prompter.ask(
        "Other IPv4 addresses or networks", parse_list(parse_ip4), _joined(defaults.ip4)
    )
    say("")
    say(QUESTIONS["ip6"])
    ip6 = prompter.ask(
        "Other IPv6 addresses or networks", parse_list(parse_ip6), _joined(defaults.ip6)
    )
    say("")
    say(QUESTIONS["a_hosts"])
    a_hosts = prompter.ask(
        "Servers of other domains (host names)", parse_list(_spec_text), _joined(defaults.a_hosts)
    )
    say("")
    say(QUESTIONS["mx_domains"])
    mx_domains = prompter.ask(
        "Domains whose MX hosts send your mail",
        parse_list(_spec_text),
        _joined(defaults.mx_domains),
    )
    say("")
    say(QUESTIONS["includes"])
    includes = prompter.ask(
        "Mail providers (include: domains)", parse_list(_spec_text), _joined(defaults.includes)
    )

    say("")
    say(PTR_WARNING)
    ptr = prompter.confirm(
        f"Use ptr anyway (any host whose reverse DNS name ends in {domain})?", defaults.ptr
    )

    say("")
    say(QUESTIONS["all_policy"])
    for policy in AllPolicy:
        say(f"  {ALL_EXPLANATIONS[policy]}")
    say(f"  {RECOMMENDATION}")
    all_policy = prompter.ask(
        "Mail from other hosts: fail, softfail or neutral",
        parse_all_policy,
        defaults.all_policy.value,
    )

    say("")
    say(QUESTIONS["mail_hosts"])
    if mx and helo_hosts:
        say(f"  These MX hosts get one already: {', '.join(helo_hosts)}")
    extra = prompter.ask(
        "Other mail hosts' names (HELO)", parse_list(parse_domain), _joined(mail_hosts)
    )

    answers = WizardAnswers(
        mx=mx,
        a=own_a,
        ip4=ip4,
        ip6=ip6,
        a_hosts=a_hosts,
        mx_domains=mx_domains,
        includes=includes,
        ptr=ptr,
        all_policy=all_policy,
    )
    return Interview(answers, extra)


def _joined(items: Sequence[object]) -> str:
    """A default answer: the items as typed (a single address without its /32 or /128)."""
    texts = []
    for item in items:
        if isinstance(item, (IPv4Network, IPv6Network)) and item.prefixlen == item.max_prefixlen:
            item = item.network_address
        texts.append(str(item))
    return " ".join(texts)
