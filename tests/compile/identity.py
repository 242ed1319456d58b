"""The identity law of compiled policies: for a client, the compiled answer equals
``check_host()``'s in every field callers use, and therefore in both headers.

Shared by the tests of this package: :func:`compare` compiles one domain for one IP version
and checks the compiled answer against the evaluator at the given addresses (by default every
range's first and last address, the addresses just outside it, and random ones inside), for
the IPv4 client and its IPv4-mapped IPv6 form.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from spfkit.compile import PolicyMap, compile_policy
from spfkit.compile.dispatch import compiled_answer
from spfkit.evaluate import CheckOptions
from spfkit.evaluate.check_host import check_host
from spfkit.headers import authentication_results, received_spf
from spfkit.identity import Identity, normalize_ip, sender_with_local_part
from spfkit.lookup.protocol import Resolver
from spfkit.results import CheckResult

FIELDS = ("result", "domain", "mechanism", "problem", "lookups", "void_lookups", "explanation",
          "no_such_domain")


def outcome(result: CheckResult) -> dict[str, object]:
    return {name: getattr(result, name) for name in FIELDS}


def headers(result: CheckResult, client: str, sender: str, helo: str) -> tuple[str, str]:
    rs = received_spf(result, client_ip=client, identity=Identity.MAILFROM, envelope_from=sender,
                      helo=helo or None, receiver="mx.receiver.test")
    ar = authentication_results(result, authserv_id="mx.receiver.test", identity=Identity.MAILFROM,
                                envelope_from=sender, helo=helo or None)
    return str(rs), str(ar)


def probe_points(policy: PolicyMap, rng: random.Random, randoms: int = 2) -> list[int]:
    """Every range's boundaries (first, last, first-1, last+1) and random addresses inside."""
    end = (1 << (32 if policy.version == 4 else 128)) - 1
    points: set[int] = set()
    for first, last, _ in policy.ranges():
        points.update(x for x in (first, last, first - 1, last + 1) if 0 <= x <= end)
        points.update(rng.randint(first, last) for _ in range(randoms))
    return sorted(points)


@dataclass
class Tally:
    """How many clients were compared, and how many the map left to the evaluator."""

    compared: int = 0
    fallback: int = 0
    results: dict[str, int] = field(default_factory=dict)


async def compare(
    resolver: Resolver, domain: str, sender: str, helo: str, *, version: int,
    options: CheckOptions | None = None, points: list[int] | None = None,
    rng: random.Random | None = None, tally: Tally | None = None, receiver: str | None = None,
) -> PolicyMap:
    """Compile ``domain`` and assert the identity law at ``points`` (default: probe_points)."""
    options = options or CheckOptions()
    tally = tally if tally is not None else Tally()
    policy = await compile_policy(domain, version, resolver=resolver, sender=sender, helo=helo,
                                  options=options)
    chosen = points if points is not None else probe_points(policy, rng or random.Random(0))
    for x in chosen:
        ip = IPv4Address(x) if version == 4 else IPv6Address(x)
        clients: list[IPv4Address | IPv6Address] = [ip]
        if version == 4:
            clients.append(IPv6Address(f"::ffff:{ip}"))
        decision = policy.decide(x)
        for client in clients:
            if normalize_ip(client).version != version:
                continue  # §5: an IPv4-mapped client is an IPv4 one; the IPv4 map answers it
            if decision is None:
                tally.fallback += 1
                continue
            want = await check_host(client, domain, sender, resolver=resolver, helo=helo,
                                    receiver=receiver, options=options)
            got = await compiled_answer(decision, normalize_ip(client),
                                        sender_with_local_part(sender, domain), resolver=resolver,
                                        helo=helo, receiver=receiver, options=options)
            assert got is not None
            detail = (f"{domain} client {client} sender {sender!r} helo {helo!r}:\n"
                      f"  evaluator {outcome(want)}\n  compiled  {outcome(got)}")
            assert outcome(got) == outcome(want), detail
            assert headers(got, str(client), sender, helo) == headers(want, str(client), sender, helo), detail
            tally.compared += 1
            tally.results[want.result.value] = tally.results.get(want.result.value, 0) + 1
    return policy
