"""Evaluated answers remembered for clients a compiled map leaves to the evaluator
(RFC 7208 §4.4, §5.5, §7): a "ptr", ``exists:%{i}…`` or ``%{p}`` makes a domain's answer
depend on the client, so the map cannot hold it, but the same client asking again about
the same domain gets the same answer for as long as the DNS answers it was built from.

An answer is kept under (domain, options, client address), with the sender or HELO when
the records read use their macros (``%{s}``, ``%{l}``, ``%{o}``, ``%{h}``), for no longer
than the smallest TTL of the DNS answers the evaluation read; an answer that read a DNS
error or a TTL-0 answer, or a ``temperror``, is not kept. The receiver and the time
(``%{r}``, ``%{t}``) may appear only in "exp" (§7.2), and a ``fail`` keeps its record, not
its explanation: that is expanded per client (§6.2, ``dispatch.compiled_answer``). Bounded in bytes
(:class:`~spfkit.bounded.SizedLRU`), one answer per (domain, client). Pure: no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Final, Protocol

from spfkit.bounded import LRUStats, SizedLRU
from spfkit.compile.policy_map import Decision, decision
from spfkit.record.model import Record
from spfkit.results import CheckResult, Result


class Evaluated(Protocol):
    """What an evaluation reports (``evaluate.check_host.Evaluated``; a Protocol here, as
    the evaluator's package reaches this module through the dispatcher)."""

    @property
    def answer(self) -> CheckResult: ...
    @property
    def record(self) -> Record | None: ...
    def ttl(self) -> float: ...
    def letters(self) -> frozenset[str]: ...

__all__ = ["RememberedAnswers", "decision_of"]

#: bytes of one remembered answer as ``tracemalloc`` counts them: the key tuple and the
#: client's int, the entry (tuple, expiry float, the LRU's own slot), the Decision and its
#: CheckResult; measured by tests/compile/test_answers.py
ANSWER_BYTES: Final = 560
#: §7.2 letters whose values an answer is kept under, besides the domain and the client
_INPUTS: Final = (("s", "sender"), ("l", "sender"), ("o", "sender"), ("h", "helo"))


def decision_of(evaluated: Evaluated) -> Decision:
    """The evaluator's answer as a :data:`Decision` (without its trace and explanation; a
    fail's record kept when its "exp" explains it)."""
    a = evaluated.answer
    return decision(a.result, a.domain, a.mechanism, a.problem, a.lookups, a.void_lookups,
                    evaluated.record, a.no_such_domain)


class RememberedAnswers:
    """Evaluated answers by (domain key, IP version, client address); see the module doc."""

    __slots__ = ("_answers", "_clock")

    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._answers: SizedLRU[Hashable, tuple[float, tuple[str, ...], tuple[str, ...], Decision]] = (
            SizedLRU(max_bytes))

    def get(self, key: Hashable, sender: str, helo: str) -> Decision | None:
        """The answer kept for this client (``key``) if it is fresh and was made for the
        same values of the inputs it depends on."""
        found = self._answers.get(key)
        if found is None:
            return None
        expires, inputs, values, decision = found
        if self._clock() >= expires:
            self._answers.discard(key)
            return None
        if inputs and values != _values(inputs, sender, helo):
            return None
        return decision

    def put(self, key: Hashable, evaluated: Evaluated, sender: str, helo: str) -> bool:
        """Keep ``evaluated`` for this client if it can be (see the module doc); True if kept."""
        if evaluated.answer.result is Result.TEMPERROR:
            return False
        ttl = evaluated.ttl()
        if not 0 < ttl < float("inf"):
            return False
        letters = evaluated.letters()
        inputs = tuple(sorted({what for letter, what in _INPUTS if letter in letters}))
        values = _values(inputs, sender, helo)
        entry = (self._clock() + ttl, inputs, values, decision_of(evaluated))
        self._answers.put(key, entry, ANSWER_BYTES + sum(len(v) + 49 for v in values))
        return True

    def stats(self) -> LRUStats:
        return self._answers.stats()

    def __len__(self) -> int:
        return len(self._answers)


def _values(inputs: tuple[str, ...], sender: str, helo: str) -> tuple[str, ...]:
    return tuple(sender if what == "sender" else helo for what in inputs)
