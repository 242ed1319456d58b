"""The explanation of a ``fail`` (RFC 7208 §6.2 "exp", §8.4).

Only the record whose term decided supplies it (not an include's); any trouble with "exp"
— no TXT, several, a DNS error, a bad macro, non-ASCII — gives the default explanation,
itself an explain-string (macros work).
"""

from __future__ import annotations

from spfkit.errors import MacroSyntaxError
from spfkit.evaluate.run import Evaluation, Frame
from spfkit.lookup.protocol import LookupStatus, RRType
from spfkit.macros import MacroContext, parse_macro_string
from spfkit.record.model import Record
from spfkit.record.select import decode_record, join_strings
from spfkit.results import TraceKind


async def explain(run: Evaluation, record: Record | None, domain: str) -> str:
    """§6.2: the explanation for a fail decided in ``record`` of ``domain``."""
    exp = record.explanation if record is not None else None
    frame = Frame(domain)
    ctx = run.context(domain)
    if exp is not None:
        target = await run.expand(exp.domain_spec, frame)
        lookup = await run.query(RRType.TXT, target, frame)
        if lookup.status is LookupStatus.ANSWER and len(lookup.records) == 1:
            text = decode_record(join_strings(lookup.records[0]))
            try:
                if "p" in (spec := parse_macro_string(text, explanation=True)).letters:
                    ctx = run.context(domain, await run.validated_name(frame))
                return spec.expand(ctx)
            except MacroSyntaxError as exc:
                run.note(TraceKind.NOTE, frame, "exp ignored", exc.reason)
        else:
            run.note(TraceKind.NOTE, frame, "exp ignored",
                     f"TXT {target}: {lookup.status.value}, {len(lookup.records)} records")
    return default_explanation(run.options.default_explanation, ctx)


def default_explanation(text: str, ctx: MacroContext) -> str:
    """§6.2: the receiver's own explanation (an explain-string: macros work), as text if it
    does not parse."""
    try:
        return parse_macro_string(text, explanation=True).expand(ctx)
    except MacroSyntaxError:
        return text
