"""What each operation declares besides its success: the errors it can answer, one body for all.

`responses=errors(401, 404)` on a route puts those statuses with `ErrorBody` in the OpenAPI
document; a route with parameters declares 422 too, which replaces FastAPI's own 422 schema
(its bodies are not ours).
"""

from __future__ import annotations

from typing import Any

from api.schemas.errors import ErrorBody

MEANING = {
    401: "No token, or one that is not valid or has expired.",
    403: "Not the caller's to do: another role, or another party of the certificate.",
    404: "Not found, or not visible to the caller.",
    409: "The state does not allow it now, or someone else got there first.",
    413: "The request body is over 1 MB.",
    422: "Invalid input; `errors` names each invalid field.",
    429: "Too many failed attempts of late; `Retry-After` says in how many seconds to try again.",
    503: "The database or the workflow engine did not answer in time; the same call may be "
    "sent again.",
}

# What every signed-in operation can answer: no valid token, or a service that did not answer.
SIGNED_IN = (401, 503)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": MEANING[code]} for code in sorted(codes)}


def errors_beside_a_document(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`errors` for a route whose success is a document, not JSON.

    FastAPI would file an error `model` under the route's own media type (a PDF, say), so the
    JSON body is named by reference; the routes that answer JSON put ErrorBody in the document.
    """
    json_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {code: {"description": MEANING[code], "content": json_body} for code in sorted(codes)}
