"""One exception vocabulary for the whole service; the API maps it to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


ERRORS_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls for cls in (Unauthorized, Forbidden, NotFound, Conflict, Invalid, Unavailable)
}
