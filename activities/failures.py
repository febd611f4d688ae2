"""Which activity failures a retry can fix (DESIGN 4.3), decided in one place for every activity.

Temporal retries any exception that is not a non-retryable `ApplicationError`, forever under our
retry policies. That is right for an outage (the database or the SMTP server away for a while)
and wrong for everything else: a message that cannot be built fails the same way on every
attempt, and the certificate would wait for nothing. So the worker turns every failure that is
not known to be transient into a non-retryable `ApplicationError` carrying the original type and
message; the workflow catches it, writes it to the timeline, flags it, and goes on.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
from sqlalchemy import exc as sa
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from persistence.db import database_unreachable
from persistence.repositories.operations import FailingStepRecorder

logger = logging.getLogger(__name__)

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
    if isinstance(error, sa.DBAPIError) and error.orig is not None:
        # SQLAlchemy's text leads with how the statement was run; the driver's says what failed
        # (its parameters are hidden: persistence.db).
        driver = error.orig.__cause__ or error.orig
        message = " ".join(str(driver).split()) or type(driver).__name__
        return f"the database refused the write ({type(driver).__name__}): {message}"
    return f"{type(error).__name__}: {error}"


def next_attempt_in(policy: RetryPolicy | None, attempt: int) -> timedelta | None:
    """How long Temporal waits after failed attempt number `attempt`; None after the last."""
    policy = policy or RetryPolicy()
    if policy.maximum_attempts and attempt >= policy.maximum_attempts:
        return None
    wait = policy.initial_interval * policy.backoff_coefficient ** (attempt - 1)
    longest = policy.maximum_interval or policy.initial_interval * 100
    return min(wait, longest)


class _ClassifyFailures(ActivityInboundInterceptor):
    def __init__(
        self, next: ActivityInboundInterceptor, recorder: FailingStepRecorder | None
    ) -> None:
        super().__init__(next)
        self.recorder = recorder

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            result = await self.next.execute_activity(input)
        except ApplicationError as error:
            # The activity said itself whether a retry helps.
            await self._failed(error, retried=not error.non_retryable)
            raise
        except Exception as error:
            if is_transient(error):
                await self._failed(error, retried=True)
                raise
            await self._failed(error, retried=False)
            raise permanent(error) from error
        if activity.info().attempt > 1:
            await self._record(None)  # it failed before: it is not failing any more
        return result

    async def _failed(self, error: BaseException, *, retried: bool) -> None:
        info = activity.info()
        wait = next_attempt_in(info.retry_policy, info.attempt) if retried else None
        if wait is not None or info.attempt > 1:
            await self._record((describe(error), wait) if wait is not None else None)

    async def _record(self, failure: tuple[str, timedelta] | None) -> None:
        """Write what the administrators' stuck view reads; never the activity's concern:
        the database may be what fails, and the activity's own outcome goes on regardless."""
        if self.recorder is None:
            return
        info = activity.info()
        try:
            if failure is None:
                await self.recorder.cleared(info.workflow_id or "", info.activity_id)
                return
            error, wait = failure
            now = datetime.now(UTC)
            await self.recorder.failed(
                workflow_id=info.workflow_id or "",
                run_id=info.workflow_run_id or "",
                activity_id=info.activity_id,
                activity_type=info.activity_type,
                local=info.is_local,
                attempt=info.attempt,
                error=error,
                now=now,
                next_attempt_at=now + wait,
            )
        except Exception as exc:  # the database away: the worker log still tells
            logger.warning(
                "could not record the failing step %s of %s: %s",
                info.activity_type,
                info.workflow_id,
                exc,
            )


class FailureClassifier(Interceptor):
    """Worker interceptor: only transient failures of an activity are retried, and each
    failed attempt that will be retried is recorded for the administrators (`recorder`)."""

    def __init__(self, recorder: FailingStepRecorder | None = None) -> None:
        self.recorder = recorder

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ClassifyFailures(next, self.recorder)
