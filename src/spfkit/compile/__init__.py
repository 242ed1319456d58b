"""Compiled policies: a domain's SPF tree resolved once into an address map (RFC 7208 §4–§6).

* :func:`compile_policy` — the pure compiler (a :class:`~spfkit.lookup.protocol.Resolver`
  in, a :class:`PolicyMap` out);
* :class:`PolicyMap` — sorted client ranges → :data:`Decision` (the ``CheckResult``); address counts and the
  flattened network list (``PolicyMap.networks(Result.PASS)``);
* :func:`authorised_addresses` — :class:`AddressCounts` of a domain (both IP versions);
* :class:`CompiledCache` and ``dispatch.check_host_compiled`` — the maps kept, and the one
  entry point that ``evaluate.check()`` goes through.
"""


import typing

from spfkit import _lazy

if typing.TYPE_CHECKING:
    from spfkit.compile.authorised import authorised_addresses
    from spfkit.compile.cache import CompiledCache
    from spfkit.compile.compiler import TooComplex, compile_policy
    from spfkit.compile.counts import AddressCounts, Contributor, address_counts
    from spfkit.compile.policy_map import Decision, ExplainedFail, PolicyMap

#: imported on first use: the first check of a domain is the evaluator's, so a process that
#: answers once (a policy server spawned per connection) never loads the compiler
__getattr__ = _lazy.lazy_exports(__name__, {
    "authorised_addresses": "spfkit.compile.authorised",
    "CompiledCache": "spfkit.compile.cache",
    "TooComplex": "spfkit.compile.compiler",
    "compile_policy": "spfkit.compile.compiler",
    "AddressCounts": "spfkit.compile.counts",
    "Contributor": "spfkit.compile.counts",
    "address_counts": "spfkit.compile.counts",
    "Decision": "spfkit.compile.policy_map",
    "ExplainedFail": "spfkit.compile.policy_map",
    "PolicyMap": "spfkit.compile.policy_map",
})

__all__ = [
    "AddressCounts",
    "CompiledCache",
    "Contributor",
    "Decision",
    "ExplainedFail",
    "PolicyMap",
    "TooComplex",
    "address_counts",
    "authorised_addresses",
    "compile_policy",
]
