"""Split a flattened record into a top record and chained include records (RFC 7208 §3.3, §5.2).

All terms in one record when it fits ``max_bytes`` (default 450, so a UDP answer fits 512
octets, §3.4). Otherwise the runs of ``pass`` network terms move, largest first, into
chained records named by ``pattern`` (``_spf{n}.{domain}``): the top record gets
``include:_spf1.example.com``, which holds networks and ``include:_spf2.example.com``, and so
on; a chained record has no ``all`` (its end is ``neutral``: "no match", §5.2), so the
networks keep their place in the first-match order. Only ``pass`` runs move: an include's
non-pass result is "no match", so ``-``/``~``/``?`` terms and the terms kept as written stay
in the top record. If the top record is still too long, its terms continue in records linked
by ``redirect=`` (§6.1), unless a term that refers to the domain itself would have to move.
Each character-string is cut at 255 octets by the wizard's
:func:`~spfkit.wizard.zones.split_strings` when written. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spfkit.flatten.plan import Item, Kept, Networks, Plan
from spfkit.record.terms import Qualifier

__all__ = ["DEFAULT_PATTERN", "MAX_RECORD_BYTES", "PackError", "pack"]

MAX_RECORD_BYTES: Final = 450
DEFAULT_PATTERN: Final = "_spf{n}.{domain}"
_HEAD: Final = "v=spf1"


class PackError(Exception):
    """The record cannot be split within the limits; says why."""


@dataclass(frozen=True, slots=True)
class _Run:
    index: int
    tokens: list[str]


def _text(tokens: list[str]) -> str:
    return " ".join([_HEAD, *tokens])


def _size(tokens: list[str]) -> int:
    return len(_text(tokens).encode())


def record_name(pattern: str, n: int, domain: str) -> str:
    """The name of the n-th chained record."""
    return pattern.format(n=n, domain=domain).lower().rstrip(".")


def _chain(tokens: list[str], first: int, pattern: str, domain: str,
           max_bytes: int) -> list[tuple[str, str]]:
    """Records ``first``, ``first+1``… holding ``tokens``, each linked to the next."""
    out: list[tuple[str, str]] = []
    n = first
    rest = list(tokens)
    while rest:
        link = f"include:{record_name(pattern, n + 1, domain)}"
        body: list[str] = []
        while rest and _size([*body, rest[0], link]) <= max_bytes:
            body.append(rest.pop(0))
        if rest and not body:
            raise PackError(f"the term {rest[0]!r} does not fit a record of {max_bytes} octets")
        out.append((record_name(pattern, n, domain), _text(body + ([link] if rest else []))))
        n += 1
    return out


def pack(plan: Plan, *, max_bytes: int = MAX_RECORD_BYTES,
         pattern: str = DEFAULT_PATTERN) -> list[tuple[str, str]]:
    """``[(name, record text), …]``, the top record (``plan.domain``) first."""
    if "{n}" not in pattern:
        raise PackError("the name pattern needs {n}")
    items: list[Item] = list(plan.items)
    tokens = [_tokens(i) for i in items]
    inline = [t for ts in tokens for t in ts] + list(plan.tail)
    if _size(inline) <= max_bytes:
        return [(plan.domain, _text(inline))]
    runs = sorted((_Run(k, tokens[k]) for k, i in enumerate(items)
                   if isinstance(i, Networks) and i.qualifier is Qualifier.PASS),
                  key=lambda r: -_size(r.tokens))
    moved: dict[int, str] = {}
    guess = f"include:{record_name(pattern, 99, plan.domain)}"
    for run in runs:
        moved[run.index] = guess
        if _size(_top(tokens, moved, plan.tail)) <= max_bytes:
            break
    chained: list[tuple[str, str]] = []
    n = 1
    for index in sorted(moved):
        records = _chain(tokens[index], n, pattern, plan.domain, max_bytes)
        moved[index] = f"include:{records[0][0]}"
        chained.extend(records)
        n += len(records)
    top = _top(tokens, moved, plan.tail)
    if _size(top) <= max_bytes:
        return [(plan.domain, _text(top)), *chained]
    return [*_redirects(top, n, pattern, plan.domain, max_bytes), *chained]


def _depends_on_domain(token: str) -> bool:
    """Would this term mean something else in another record (§4.6.4 <domain>, %{d})?"""
    name = token.lstrip("+-~?").split(":", 1)[0].split("/", 1)[0].lower()
    return "%{d" in token.lower() or name in ("a", "mx", "ptr") and ":" not in token


def _redirects(top: list[str], n: int, pattern: str, domain: str,
               max_bytes: int) -> list[tuple[str, str]]:
    """§6.1: the top record's terms cut into a chain of records linked by ``redirect=``,
    which returns the next record's result as it stands (any qualifier may move). Each
    record repeats ``exp=`` (§6.2: the explanation comes from the record that failed)."""
    exp = [t for t in top if t.lower().startswith("exp=")]
    rest = [t for t in top if t not in exp]
    records: list[tuple[str, str]] = []
    name = domain
    while True:
        if _size([*rest, *exp]) <= max_bytes:
            return [*records, (name, _text([*rest, *exp]))]
        link = f"redirect={record_name(pattern, n, domain)}"
        body: list[str] = []
        while rest and _size([*body, rest[0], link, *exp]) <= max_bytes:
            body.append(rest.pop(0))
        if not body:
            raise PackError(f"the term {rest[0]!r} does not fit a record of {max_bytes} octets")
        if any(_depends_on_domain(t) for t in rest):
            raise PackError(f"the top record needs more than {max_bytes} octets, and a term "
                            "that refers to the domain itself cannot move to another record")
        records.append((name, _text([*body, link, *exp])))
        name = record_name(pattern, n, domain)
        n += 1


def _top(tokens: list[list[str]], moved: dict[int, str], tail: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for k, ts in enumerate(tokens):
        out.extend([moved[k]] if k in moved else ts)
    return out + list(tail)


def _tokens(item: Item) -> list[str]:
    return [item.text] if isinstance(item, Kept) else item.tokens()
