"""Records made to be included: a provider's ``_spf.`` name (RFC 7208 §5.2).

An ``include`` asks only whether the included record gives ``pass`` (§5.2: any other result
is "not match", and evaluation goes on in the includer), so how such a record ends — ``?all``,
``~all``, or no ``all`` (§4.7: neutral) — changes nothing for its includers. It matters only
for mail whose own MAIL FROM or HELO domain is that name, which for a name like
``_spf.example.net`` is rare. The linter cannot see who includes a record; it goes by the
name, as providers name them, and says so. Pure: no I/O imports.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["made_to_be_included"]

#: the first label of the names providers publish include targets under:
#: _spf, spf, _spf1, spf2, _spf-eu, spfa, _netblocks, _netblocks3, ...
_TARGET_LABEL: Final = re.compile(r"_?(?:spf[a-z0-9]?|spf-[a-z0-9-]+|_?netblocks\d*)",
                                  re.IGNORECASE)


def made_to_be_included(domain: str | None) -> bool:
    """Whether ``domain`` is named like an include target (``_spf.example.net``)."""
    if not domain or "." not in domain.strip("."):
        return False
    return _TARGET_LABEL.fullmatch(domain.strip(".").split(".", 1)[0]) is not None
