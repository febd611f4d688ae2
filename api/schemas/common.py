"""Shapes shared by every resource: pages, kilogram amounts and free text.

Every free-text field of every body is one of the text types below: printable (domain.text),
bounded in length, stripped of surrounding spaces. A refused value answers 422 naming its field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Generic, ParamSpec, TypeVar

from pydantic import BaseModel, BeforeValidator, PlainSerializer, StringConstraints
from pydantic_core import PydanticCustomError

from domain.errors import Invalid
from domain.text import first_unprintable, normalise_line_breaks

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")

# Stored exactly (Numeric 14,3); shown as a JSON number, which a double holds without loss.
Kg = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def _printable(*, multi_line: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        # Judged before stripping: a line break at the end of a one-line field is refused, not
        # silently dropped. A value that is no string is left to the string check to refuse.
        if not isinstance(value, str):
            return value
        unprintable = first_unprintable(value, multi_line=multi_line)
        if unprintable is not None:
            raise PydanticCustomError("unprintable", unprintable.describe(multi_line=multi_line))
        return normalise_line_breaks(value) if multi_line else value

    return check


ONE_LINE = BeforeValidator(_printable(multi_line=False))
MULTI_LINE = BeforeValidator(_printable(multi_line=True))


def _bounded(max_length: int, *, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


# What the exporter calls the product.
ProductName = Annotated[str, _bounded(200), ONE_LINE]
Port = Annotated[str, _bounded(120), ONE_LINE]
# Lot numbers, containers, bills of lading, shipment references: identifiers someone copies.
Reference = Annotated[str, _bounded(64), ONE_LINE]
TransportMode = Annotated[str, _bounded(32), ONE_LINE]
# Answers, reasons: multi-line, and never blank.
Message = Annotated[str, _bounded(5000), MULTI_LINE]
# A remark that may be left out (empty), multi-line.
Comment = Annotated[str, _bounded(5000, min_length=0), MULTI_LINE]


def field_rule(rule: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
    """Apply a domain rule inside a field validator: its refusal becomes that field's 422."""
    try:
        rule(*args, **kwargs)
    except Invalid as refused:
        raise PydanticCustomError(refused.code, refused.message) from None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(model: type[M], items: Iterable[Mapping[str, Any]], next_cursor: str | None) -> Page[M]:
    """A page of `model` from each item's fields, validated in one call: pydantic's core checks
    every item in one pass instead of a constructor call per item, and the answer is already of
    the route's response model (`Page[model]`), which FastAPI then takes as it is instead of
    validating the page again."""
    page_type: type[Page[M]] = Page[model]  # type: ignore[valid-type]
    return page_type.model_validate({"items": list(items), "next_cursor": next_cursor})
