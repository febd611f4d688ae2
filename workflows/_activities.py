"""How the workflows call their activities: by name, each with its timeout and retry policy.

Transient failures (database busy, SMTP down) are retried without limit at a capped interval,
so an outage shows up to operators as a failing activity rather than as a failed certificate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        PROJECT_TRANSITION_ACTIVITY,
        RECORD_REQUEST_ACTIVITY,
        SCREEN_LINE_ACTIVITY,
        SCREEN_PARTIES_ACTIVITY,
        SEND_MAIL_ACTIVITY,
        FindingRecord,
        ImportRequestInput,
    )
from workflows.payloads import MailInput, ProjectionInput, ScreenLineInput, ScreenPartiesInput

DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
SMTP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
DATABASE_TIMEOUT = timedelta(seconds=30)
SMTP_TIMEOUT = timedelta(minutes=1)


async def record_request(request: ImportRequestInput) -> bool:
    result = await workflow.execute_activity(
        RECORD_REQUEST_ACTIVITY,
        request,
        result_type=bool,
        start_to_close_timeout=DATABASE_TIMEOUT,
        retry_policy=DATABASE_RETRY,
    )
    return cast(bool, result)


async def screen_parties(parties: ScreenPartiesInput) -> list[FindingRecord]:
    result = await workflow.execute_activity(
        SCREEN_PARTIES_ACTIVITY,
        parties,
        result_type=list[FindingRecord],
        start_to_close_timeout=DATABASE_TIMEOUT,
        retry_policy=DATABASE_RETRY,
    )
    return cast("list[FindingRecord]", result)


async def screen_line(line: ScreenLineInput) -> list[FindingRecord]:
    result = await workflow.execute_activity(
        SCREEN_LINE_ACTIVITY,
        line,
        result_type=list[FindingRecord],
        start_to_close_timeout=DATABASE_TIMEOUT,
        retry_policy=DATABASE_RETRY,
    )
    return cast("list[FindingRecord]", result)


async def project_transition(change: ProjectionInput) -> bool:
    result = await workflow.execute_activity(
        PROJECT_TRANSITION_ACTIVITY,
        change,
        result_type=bool,
        start_to_close_timeout=DATABASE_TIMEOUT,
        retry_policy=DATABASE_RETRY,
    )
    return cast(bool, result)


async def send_mail(mail: MailInput) -> bool:
    result = await workflow.execute_activity(
        SEND_MAIL_ACTIVITY,
        mail,
        result_type=bool,
        start_to_close_timeout=SMTP_TIMEOUT,
        retry_policy=SMTP_RETRY,
    )
    return cast(bool, result)
