"""Compiled policies: a domain's SPF tree resolved once into an address map (RFC 7208 §4–§6).

* :func:`compile_policy` — the pure compiler (a :class:`~spfkit.lookup.protocol.Resolver`
  in, a :class:`PolicyMap` out);
* :class:`PolicyMap` — sorted client ranges → :class:`Decision`; address counts and the
  flattened network list.
"""

from spfkit.compile.compiler import TooComplex, compile_policy
from spfkit.compile.policy_map import Decision, PolicyMap

__all__ = ["Decision", "PolicyMap", "TooComplex", "compile_policy"]
