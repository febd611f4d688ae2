"""One exception vocabulary for the whole service; the API maps it to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None) -> None:
        # The detail names the field it is about, as every 422 does: "valid_until: must be ...";
        # `message` is the same without the name, for a caller that names the field its own way.
        self.field = field
        self.message = detail
        self.detail = f"{field}: {detail}" if field else detail
        super().__init__(self.detail)
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


class TooManyAttempts(DomainError):
    """Refused before it is tried: too many failures of the same kind of late (429). The caller
    may try again after `retry_after` seconds."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    status_code = 503
    code = "unavailable"


ERRORS_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (Unauthorized, Forbidden, NotFound, Conflict, Invalid, TooManyAttempts, Unavailable)
}
