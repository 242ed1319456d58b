"""An evaluation's trace as a tree: one branch per ``check_host()`` (RFC 7208 §4, §5.2, §6.1).

``check_host()`` records its steps as a flat sequence of :class:`~spfkit.results.TraceEvent`,
each with the include/redirect ``depth`` it happened at. :func:`trace_nodes` nests them once
for every front end: ``spfkit check --trace`` draws the nodes as a rich tree, the web's
``/test`` page as nested lists, the policy server writes them as debug log lines.

Pure data: imports no rich, click, fastapi or asyncio.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from spfkit.record.terms import Qualifier
from spfkit.results import Result, TraceEvent, TraceKind

__all__ = ["TraceNode", "trace_nodes", "walk"]


@dataclass(frozen=True, slots=True)
class TraceNode:
    """One step of the evaluation; a ``check`` node holds the steps of that ``check_host()``."""

    event: TraceEvent
    children: tuple[TraceNode, ...] = ()

    @property
    def kind(self) -> TraceKind:
        return self.event.kind

    @property
    def depth(self) -> int:
        """The include/redirect nesting level the step happened at (0: the top record)."""
        return self.event.depth

    @property
    def domain(self) -> str:
        return self.event.domain

    @property
    def text(self) -> str:
        return self.event.text

    @property
    def detail(self) -> str:
        return self.event.detail

    @property
    def matched(self) -> Result | None:
        """§4.6.2: the result a mechanism that matched gives (``-all`` matching is a fail,
        not good news); None for any other step."""
        if self.kind is not TraceKind.TERM or self.detail != "match" or not self.text:
            return None
        prefix = self.text[0]
        return (Qualifier(prefix) if prefix in "+-~?" else Qualifier.PASS).result


@dataclass(slots=True)
class _Branch:
    """A node while the trace is read: its event (None for the root) and its steps so far."""

    event: TraceEvent | None
    children: list[_Branch]

    def freeze(self) -> TraceNode:
        assert self.event is not None
        return TraceNode(self.event, tuple(child.freeze() for child in self.children))


def trace_nodes(events: Iterable[TraceEvent]) -> tuple[TraceNode, ...]:
    """The evaluation as a tree: one ``check`` node per check_host() (top, include, redirect).

    A ``check`` event at depth d opens a node under the open check of depth d - 1; any other
    event belongs to the open check of its depth (or the deepest open one, if the trace
    skips a level), and closes the checks deeper than that: they have returned. So every
    event joins the deepest open check, and read depth first (:func:`walk`) the nodes give
    back the events in their order.
    """
    root = _Branch(None, [])
    stack = [root]  # the open checks: root, depth 0, depth 1, ...
    for event in events:
        branch = _Branch(event, [])
        if event.kind is TraceKind.CHECK:
            del stack[event.depth + 1:]
            stack[-1].children.append(branch)
            stack.append(branch)
        else:
            del stack[event.depth + 2:]
            stack[-1].children.append(branch)
    return tuple(child.freeze() for child in root.children)


def walk(nodes: Iterable[TraceNode]) -> Iterator[TraceNode]:
    """Every node, depth first: the steps in the order the evaluation made them."""
    for node in nodes:
        yield node
        yield from walk(node.children)
