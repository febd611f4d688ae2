"""Which activity failures a retry can fix (DESIGN 4.3), decided in one place for every activity.

Temporal retries any exception that is not a non-retryable `ApplicationError`, forever under our
retry policies. That is right for an outage (the database or the SMTP server away for a while)
and wrong for everything else: a message that cannot be built fails the same way on every
attempt, and the certificate would wait for nothing. So the worker turns every failure that is
not known to be transient into a non-retryable `ApplicationError` carrying the original type and
message; the workflow catches it, writes it to the timeline, flags it, and goes on.
"""

from __future__ import annotations

from typing import Any

import aiosmtplib
from sqlalchemy import exc as sa
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from persistence.db import database_unreachable

# SMTP reply codes 4xx say "try again later" (RFC 5321 4.2.1); 5xx say "never".
SMTP_TRANSIENT = range(400, 500)


def is_transient(error: BaseException) -> bool:
    """True when the same attempt may succeed later: a server away, busy or slow."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return any(refused.code in SMTP_TRANSIENT for refused in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code in SMTP_TRANSIENT
    # A database away, locked or out of connections; OSError also covers aiosmtplib's connect,
    # disconnect and timeout errors.
    return database_unreachable(error) or isinstance(error, OSError | sa.InterfaceError)


def permanent(error: BaseException) -> ApplicationError:
    """`error` as a failure Temporal does not retry, typed by the original exception, with a
    message a certifier can act on (it goes into the timeline and the flag)."""
    return ApplicationError(describe(error), type=type(error).__name__, non_retryable=True)


def describe(error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "refused by the mail server: " + "; ".join(
            f"{refused.recipient} ({refused.code} {refused.message})"
            for refused in error.recipients
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"refused by the mail server ({error.code} {error.message})"
    return f"{type(error).__name__}: {error}"


class _ClassifyFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except ApplicationError:
            raise  # the activity said itself whether a retry helps
        except Exception as error:
            if is_transient(error):
                raise
            raise permanent(error) from error


class FailureClassifier(Interceptor):
    """Worker interceptor: only transient failures of an activity are retried."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ClassifyFailures(next)
