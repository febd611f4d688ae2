"""Ids in the path and values in the query string are printable and bounded, like free text.

They are handed to the database as they come (a certificate id, a task id, the `q` search): a
NUL character that SQLite takes fails PostgreSQL with an error, not a 404. One dependency of the
whole app refuses such a value with 422 naming its parameter before the route runs, so no route,
present or future, has to remember it. Only the parameters an operation declares are judged: the
others never reach anything, and the operation does not declare a 422 for them.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from domain.errors import Invalid
from domain.text import first_unprintable

# Far beyond any id or search of ours (uuids, certificate numbers, `q` of 100 characters).
MAX_LENGTH = 1000


def check_printable(name: str, value: str) -> None:
    if len(value) > MAX_LENGTH:
        raise Invalid(f"should have at most {MAX_LENGTH} characters", field=name)
    unprintable = first_unprintable(value)
    if unprintable is not None:
        raise Invalid(unprintable.describe(multi_line=False), field=name)


def declared_query(dependant: Dependant) -> set[str]:
    """The query parameters of an operation, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    return names.union(*(declared_query(sub) for sub in dependant.dependencies))


async def printable_url(request: Request) -> None:
    """Invalid (422) for a path or declared query parameter that is not printable and bounded."""
    for name, value in request.path_params.items():
        check_printable(name, str(value))
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = declared_query(route.dependant)
    for name, value in request.query_params.multi_items():
        if name in declared:
            check_printable(name, value)
