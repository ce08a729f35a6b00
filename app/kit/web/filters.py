"""A list page's filters (``?name=value``), read by the rules of the JSON API behind the page.

A value those rules refuse is said on the page, naming its field, in the page's language, and
the page lists nothing: a filter dropped without a word showed the whole list as if it were
the filtered one (an admin who mistyped a date in the audit trail's search read every event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from app.kit.i18n import N_, Lang, tr

M = TypeVar("M", bound=BaseModel)

#: What surrounds a filter without counting (what a paste brings): spaces, tabs, line breaks,
#: the ideographic space. Not the other control characters, which the text rule refuses.
_SPACES = " \t\r\n\u3000"

#: What a date filter takes (``kit.schemas.DateTimeParam``: a date, or a date and time).
DATE_HINT = N_("Enter a date as year-month-day, e.g. 2025-01-31.")
#: What an id filter takes (a UUID, as the pages show ids).
ID_HINT = N_(
    "Enter the whole id, 32 hexadecimal digits, e.g. 3f2b8c1e-5d4a-4b6f-9c2e-7a1d0e8f6b35."
)


@dataclass(frozen=True, slots=True)
class Filters(Generic[M]):
    """A page's filters as sent and as read."""

    #: Each filter as sent ("" when absent), shown again in its field.
    typed: dict[str, str]
    #: The filters read; None when one of them is not valid (then nothing is to be listed).
    values: M | None
    #: Per filter that is not valid, what is wrong with it, in the page's language
    #: (``macros/forms.html``'s ``error_summary`` names the fields).
    errors: dict[str, str]


def read_filters(
    request: Request, lang: Lang, model: type[M], hints: Mapping[str, str] | None = None
) -> Filters[M]:
    """The filters ``model`` declares (every field optional, with the API's types and bounds),
    read from the request's query; one left blank is no filter, and surrounding spaces
    (``_SPACES``) do not count. ``hints``: per filter, what it takes (an ``N_`` message:
    ``DATE_HINT``, ``ID_HINT``), said for a value that is none; a value too long, with a
    control character or not among the choices offered is said as such."""
    typed = {name: request.query_params.get(name, "") for name in model.model_fields}
    given = {name: text.strip(_SPACES) for name, text in typed.items()}
    try:
        values = model.model_validate({name: text for name, text in given.items() if text})
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(name, _message(lang, dict(error), (hints or {}).get(name)))
        return Filters(typed, None, errors)
    return Filters(typed, values, {})


def _message(lang: Lang, error: dict[str, Any], hint: str | None) -> str:
    kind = error.get("type", "")
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length", 0)
        return tr(lang, "Too long: at most %(n)s characters.", n=limit)
    if kind == "string_pattern_mismatch":  # the text rule (``kit.schemas.TEXT_PATTERN``)
        return tr(lang, "Must not contain control characters.")
    if kind in ("literal_error", "enum"):
        return tr(lang, "Choose one of the options shown.")
    return tr(lang, hint) if hint else tr(lang, "This value is not valid.")
