"""Shapes shared by every resource: pages and kilogram amounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, PlainSerializer

T = TypeVar("T")

# Stored exactly (Numeric 14,3); shown as a JSON number, which a double holds without loss.
Kg = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
