"""Validation errors in words a postmaster reads: the API's 422 body and the pages' alerts.

pydantic says "Value error, '300.1.1.1' is not …" or "Input should be a valid integer";
:func:`clean_message` keeps spfkit's own sentence and rewords pydantic's, :func:`api_detail`
builds FastAPI's ``{"detail": [{"loc", "msg", "type"}]}``, and :func:`field_errors` names the
field by its label for the pages ("IP address: '300.1.1.1' is not an IPv4 or IPv6 address").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldError", "api_detail", "clean_message", "field_errors"]

_TEMPLATES: dict[str, str] = {
    "missing": "a value is needed",
    "string_type": "must be text",
    "string_too_long": "is longer than {max_length} characters",
    "too_long": "has more than {max_length} entries",
    "list_type": "must be a list of texts",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "extra_forbidden": "is not a field of this request",
    "json_invalid": "the request body is not valid JSON",
    "model_attributes_type": "the request body must be a JSON object",
    "dict_type": "the request body must be a JSON object",
    "model_type": "the request body must be a JSON object",
    "string_unicode": "must be text (UTF-8)",
}


def clean_message(error: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence: spfkit's own for value errors, reworded otherwise."""
    kind = str(error.get("type", ""))
    message = str(error.get("msg", ""))
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    template = _TEMPLATES.get(kind)
    if template is None:
        return message
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return message


def api_detail(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, object]]:
    """FastAPI's 422 ``detail``: ``loc`` (where), ``msg`` (a clear sentence), ``type``."""
    return [
        {"loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
         "msg": clean_message(e), "type": str(e.get("type", "value_error"))}
        for e in errors
    ]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One bad field of a form: its element id (for ``aria-describedby``) and the message."""

    field: str  # the request field: "ip", "a_hosts"
    element_id: str  # the form element: "ip", "a-hosts"
    message: str  # "IP address: '300.1.1.1' is not an IPv4 or IPv6 address"

    @property
    def message_id(self) -> str:
        return f"{self.element_id}-error"


def field_errors(
    errors: Sequence[Mapping[str, Any]], labels: Mapping[str, str], *, fallback: str
) -> list[FieldError]:
    """The errors of one form, one per field (the first), named by the field's label.

    ``loc`` ``("ip4", 1)`` is line 2 of the ``ip4`` text area; an error of the whole form
    (no field) goes to ``fallback``, the field it concerns most.
    """
    found: dict[str, FieldError] = {}
    for error in errors:
        loc = [p for p in error.get("loc", ()) if p not in ("body", "query")]
        field = str(loc[0]) if loc and str(loc[0]) in labels else fallback
        if field in found:
            continue
        where = labels[field]
        if len(loc) > 1 and isinstance(loc[1], int):
            where += f", line {loc[1] + 1}"
        found[field] = FieldError(field, field.replace("_", "-"),
                                  f"{where}: {clean_message(error)}")
    return list(found.values())
