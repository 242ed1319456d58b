"""The flattened records as zone lines: BIND, tinydns, or plain text (the wizard's writers,
:mod:`spfkit.wizard.zones`). Pure."""

from __future__ import annotations

from spfkit.wizard.zones import bind_lines, tinydns_lines

__all__ = ["render_records"]


def render_records(records: tuple[tuple[str, str], ...], fmt: str, ttl: int) -> str:
    """The records as BIND or tinydns zone lines, or text (one ``name record`` a line)."""
    if fmt == "bind":
        lines = [line for name, text in records for line in bind_lines(name, text, ttl)]
    elif fmt == "tinydns":
        lines = [line for name, text in records
                 for line in tinydns_lines(name, text, ttl, generic=True)]
    else:
        lines = [f"{name} {text}" for name, text in records]
    return "\n".join(lines)
