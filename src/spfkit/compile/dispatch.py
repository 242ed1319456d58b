"""The one entry point of a check: a compiled answer when one applies, the evaluator otherwise
(RFC 7208 §4). ``evaluate.identities.check()`` — what ``check``, ``policyd``, the milter and
the web call — comes through here.

A compiled answer equals ``check_host()``'s in every field but the trace (it has none): the
result, the deciding term and its domain, the §4.6.4 counts, the problem and, for a fail, the
explanation, expanded for this client by the evaluator's own ``exp`` code (§6.2). The first
check of a domain is the evaluator's (a one-off check costs what it did); the second compiles
the domain. A client the map leaves to the evaluator ("ptr", ``%{i}`` …) is evaluated, and
its answer remembered for the next time (``compile.answers``: keyed by client, TTL-bound).
Maps live in one :class:`CompiledCache` per resolver (the DNS state they were built from),
held only as long as the resolver itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from dataclasses import replace
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final
from weakref import WeakKeyDictionary

from spfkit.compile.cache import CompiledCache, PolicyKey
from spfkit.compile.policy_map import Decision, PolicyMap, answer_and_record
from spfkit.evaluate.check_host import check_host, evaluate_check
from spfkit.evaluate.explanation import default_explanation, explain
from spfkit.evaluate.options import CheckOptions
from spfkit.evaluate.run import Evaluation
from spfkit.identity import (
    IPAddress,
    idn_arguments,
    is_valid_domain,
    normalize_ip,
    sender_with_local_part,
)
from spfkit.lookup.protocol import Resolver
from spfkit.macros import MacroContext
from spfkit.results import CheckResult, Result

__all__ = ["answer_now", "cache_for", "check_host_compiled", "compiled_answer", "policy_for"]

_DEFAULT_OPTIONS = CheckOptions()
_CACHES: WeakKeyDictionary[Any, CompiledCache] = WeakKeyDictionary()


def cache_for(resolver: Resolver) -> CompiledCache | None:
    """The compiled maps made from ``resolver``'s answers (created on first use), or None
    for a resolver that cannot carry one (not weakly referenceable)."""
    try:
        found = _CACHES.get(resolver)
        if found is None:
            found = _CACHES[resolver] = CompiledCache()
    except TypeError:
        return None
    return found


def _options_key(options: CheckOptions) -> Hashable:
    """The options that change results (not the explanation text: that is per client);
    None for the defaults."""
    if options is _DEFAULT_OPTIONS:
        return None
    key = (options.scope, options.max_dns_terms, options.max_void_lookups, options.max_work)
    return None if key == _DEFAULT_KEY else key


_DEFAULT_KEY: Final = (_DEFAULT_OPTIONS.scope, _DEFAULT_OPTIONS.max_dns_terms,
                       _DEFAULT_OPTIONS.max_void_lookups, _DEFAULT_OPTIONS.max_work)


async def policy_for(
    domain: str, version: int, *, resolver: Resolver, sender: str = "", helo: str = "",
    options: CheckOptions = _DEFAULT_OPTIONS, cache: CompiledCache | None = None,
) -> PolicyMap | None:
    """The compiled map of ``domain`` for one IP version (from ``cache`` when fresh), or
    None when compiling took longer than the check's time limit."""
    key: PolicyKey = (domain, version, _options_key(options))
    sender = sender_with_local_part(sender, domain)
    if cache is not None and (found := cache.get(key, sender, helo)) is not None:
        return found
    # the second check of a domain loads the compiler (see the docstring)
    from spfkit.compile.compiler import compile_policy

    try:
        async with asyncio.timeout(options.time_budget):
            policy = await compile_policy(domain, version, resolver=resolver, sender=sender,
                                          helo=helo, options=options)
    except TimeoutError:
        return None
    if cache is not None:
        cache.put(key, policy, sender, helo)
    return policy


async def check_host_compiled(
    ip: str | IPAddress,
    domain: str,
    sender: str,
    *,
    resolver: Resolver,
    helo: str = "",
    receiver: str | None = None,
    options: CheckOptions = _DEFAULT_OPTIONS,
    cache: CompiledCache | None = None,
) -> CheckResult:
    """§4 ``check_host()``, answered from ``cache``'s compiled map of ``domain`` when it
    decides this client, else from the answer remembered for this client, else by the
    evaluator. Same arguments and errors as ``check_host``."""
    client = normalize_ip(ip)
    domain, sender, helo = idn_arguments(domain, sender, helo)
    if cache is None or not is_valid_domain(domain):
        return await check_host(client, domain, sender, resolver=resolver, helo=helo,
                                receiver=receiver, options=options)
    full_sender = sender_with_local_part(sender, domain)
    options_key = _options_key(options)
    key: PolicyKey = (domain, client.version, options_key)
    policy = cache.get(key, full_sender, helo)
    if policy is None and not cache.first_time(key):
        policy = await policy_for(domain, client.version, resolver=resolver, sender=sender,
                                  helo=helo, options=options, cache=cache)
    if policy is None:  # a first check, or compiling took too long
        return await check_host(client, domain, sender, resolver=resolver, helo=helo,
                                receiver=receiver, options=options)
    decision, remember = _decided(policy, cache, client, domain, full_sender, helo, options_key)
    if decision is not None:
        answer = _answered(decision, client, full_sender, helo, receiver, options)
        if answer is None:  # a fail explained by the domain's "exp": fetched now
            answer = await compiled_answer(decision, client, full_sender, resolver=resolver,
                                           helo=helo, receiver=receiver, options=options)
        if answer is not None:
            return answer
    evaluated = await evaluate_check(client, domain, sender, resolver=resolver, helo=helo,
                                     receiver=receiver, options=options)
    if remember is not None:
        cache.answers.put(remember, evaluated, full_sender, helo)
    return evaluated.answer


def answer_now(
    ip: str | IPAddress, domain: str, sender: str, *, helo: str = "",
    receiver: str | None = None, options: CheckOptions = _DEFAULT_OPTIONS,
    cache: CompiledCache | None = None,
) -> CheckResult | None:
    """:func:`check_host_compiled`'s answer when it needs neither DNS nor the evaluator (the
    usual warm check: ``cache`` has a fresh map of ``domain`` that decides this client, or
    the client's remembered answer, and a fail needs no "exp" lookup), else None."""
    if cache is None:
        return None
    client = normalize_ip(ip)
    domain, sender, helo = idn_arguments(domain, sender, helo)
    if not is_valid_domain(domain):
        return None
    full_sender = sender_with_local_part(sender, domain)
    options_key = _options_key(options)
    policy = cache.get((domain, client.version, options_key), full_sender, helo)
    if policy is None:
        return None
    decision, _ = _decided(policy, cache, client, domain, full_sender, helo, options_key)
    if decision is None:
        return None
    return _answered(decision, client, full_sender, helo, receiver, options)


def _decided(policy: PolicyMap, cache: CompiledCache, client: IPv4Address | IPv6Address,
             domain: str, sender: str, helo: str, options_key: Hashable,
             ) -> tuple[Decision | None, tuple[Hashable, ...] | None]:
    """The map's decision for ``client``, else the answer remembered for it; and, when the
    map leaves the client to the evaluator, the key its answer is remembered under."""
    address = int(client)
    found = policy.decide(address)
    if found is not None:
        return found, None
    remember = (domain, options_key, client.version, address)
    return cache.answers.get(remember, sender, helo), remember


def _answered(decision: Decision, client: IPv4Address | IPv6Address, sender: str, helo: str,
              receiver: str | None, options: CheckOptions) -> CheckResult | None:
    """The ``CheckResult`` of ``decision`` when no DNS is needed: anything but a fail as it
    is, a fail with the default explanation expanded for this client (§6.2); None for a
    fail whose record has "exp" (:func:`compiled_answer` fetches it)."""
    if decision.result is not Result.FAIL:
        assert isinstance(decision, CheckResult)  # only a fail is an ExplainedFail
        return decision
    answer, record = answer_and_record(decision)
    if record is not None and record.explanation is not None:
        return None
    ctx = MacroContext(sender, answer.domain, client, helo, receiver or "unknown", int(time.time()))
    return replace(answer, explanation=default_explanation(options.default_explanation, ctx))


async def compiled_answer(
    decision: Decision, client: IPv4Address | IPv6Address, sender: str, *, resolver: Resolver,
    helo: str = "", receiver: str | None = None, options: CheckOptions = _DEFAULT_OPTIONS,
) -> CheckResult | None:
    """The ``CheckResult`` of a compiled decision for one client; a fail's explanation is
    expanded now (§6.2: it may use the client's macros). None if that took too long."""
    if (answer := _answered(decision, client, sender, helo, receiver, options)) is not None:
        return answer
    answer, record = answer_and_record(decision)
    assert record is not None
    run = Evaluation(resolver, client, sender, helo, receiver or "unknown", options,
                     int(time.time()))
    try:
        async with asyncio.timeout(options.time_budget):
            explanation = await explain(run, record, answer.domain)
    except TimeoutError:
        return None
    finally:
        run.queries.close()
    return replace(answer, explanation=explanation)
