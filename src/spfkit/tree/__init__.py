"""The include/redirect tree of a domain's SPF record (RFC 7208 §4.6.4, §5.2, §6.1, §6.2).

``await build_tree(domain, resolver)`` evaluates the record with ``check_host()`` for a sample
IPv4 and a sample IPv6 client and turns the traces into a :class:`RecordTree`: every record
reached, the lookups each costs with the running totals, void lookups, the networks each
authorises, and errors where they sit. ``spfkit show`` prints it; ``spfkit lint`` (tree
rules) and the wizard read it.
"""

from spfkit.tree.build import SAMPLE_IPV4, SAMPLE_IPV6, build_tree
from spfkit.tree.model import (
    Cost,
    ErrorKind,
    ExpLookup,
    Family,
    FamilyRun,
    MacroUse,
    Network,
    NodeKind,
    RecordTree,
    TermOutcome,
    TermView,
    TreeError,
    TreeNode,
)

__all__ = [
    "SAMPLE_IPV4",
    "SAMPLE_IPV6",
    "Cost",
    "ErrorKind",
    "ExpLookup",
    "Family",
    "FamilyRun",
    "MacroUse",
    "Network",
    "NodeKind",
    "RecordTree",
    "TermOutcome",
    "TermView",
    "TreeError",
    "TreeNode",
    "build_tree",
]
