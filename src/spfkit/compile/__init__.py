"""Compiled policies: a domain's SPF tree resolved once into an address map (RFC 7208 §4–§6).

* :func:`compile_policy` — the pure compiler (a :class:`~spfkit.lookup.protocol.Resolver`
  in, a :class:`PolicyMap` out);
* :class:`PolicyMap` — sorted client ranges → :class:`Decision`; address counts and the
  flattened network list (``PolicyMap.networks(Result.PASS)``);
* :func:`authorised_addresses` — :class:`AddressCounts` of a domain (both IP versions);
* :class:`CompiledCache` and ``dispatch.check_host_compiled`` — the maps kept, and the one
  entry point that ``evaluate.check()`` goes through.
"""

from spfkit.compile.authorised import authorised_addresses
from spfkit.compile.cache import CompiledCache
from spfkit.compile.compiler import TooComplex, compile_policy
from spfkit.compile.counts import AddressCounts, Contributor, address_counts
from spfkit.compile.policy_map import Decision, PolicyMap

__all__ = [
    "AddressCounts",
    "CompiledCache",
    "Contributor",
    "Decision",
    "PolicyMap",
    "TooComplex",
    "address_counts",
    "authorised_addresses",
    "compile_policy",
]
