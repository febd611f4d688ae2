"""How the workflows call their activities: by name, each with its timeout and retry policy.

Transient failures (database busy, SMTP down) are retried without limit, the wait between two
attempts doubling from the first interval up to a cap: the database 0.5 s to 1 min, mail 5 s to
10 min, the importer's delivery 2 s to `TimerSettings.delivery_retry_max_interval` (5 min). An
outage shows up to operators as a failing activity rather than as a failed certificate. Every
other failure is non-retryable (activities.failures) and reaches the workflow at once.

Short database work (projections, screening, the number, rendering) runs as a local activity in
workflows started since the `lean-lifecycle` patch: it runs in the worker that runs the workflow
task, and costs one marker in the history instead of three activity events and a workflow task.
Its retries stay in that worker (the workflow task is kept alive meanwhile); they show to
operators as a workflow task that takes long, not as a pending activity.

Since revision 5 a notification mail is first tried once as a local activity, bounded by
`INLINE_SMTP_TIMEOUT`: sent, it costs one marker instead of three activity events and the
workflow task that takes in the outcome. A try that fails hands the mail to the activity above,
with its retries; the outbox key makes the two never send it twice. The delivery stays an
activity: tried inside the approval's workflow task, with the rendering, it made the approval
answer late on a busy worker (BENCHMARKS.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import (
        ALLOCATE_NUMBER_ACTIVITY,
        CREATE_REPLACEMENT_ACTIVITY,
        DELIVER_ACTIVITY,
        DISCARD_REPLACEMENT_ACTIVITY,
        PROJECT_TRANSITION_ACTIVITY,
        PROJECT_TRANSITIONS_ACTIVITY,
        RECORD_REQUEST_ACTIVITY,
        RENDER_DOCUMENT_ACTIVITY,
        SCREEN_LINE_ACTIVITY,
        SCREEN_PARTIES_ACTIVITY,
        SEND_MAIL_ACTIVITY,
        FindingRecord,
        ImportRequestInput,
    )
from workflows.payloads import (
    AllocatedNumber,
    AllocateNumberInput,
    CreateReplacementInput,
    DeliveryInput,
    DeliveryOutcome,
    MailInput,
    ProjectionInput,
    RenderDocumentInput,
    RenderedDocument,
    ReplacementRecord,
    ScreenLineInput,
    ScreenPartiesInput,
)

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
# The mail activity heartbeats: a worker that dies mid-send is retried elsewhere this soon.
SMTP_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# Rendering a PDF is the slowest thing a worker does; a stuck render is retried elsewhere.
RENDER_TIMEOUT = timedelta(minutes=2)
DELIVERY_FIRST_RETRY = timedelta(seconds=2)
# Within the API's wait for an update (NOPIC_TEMPORAL_RPC_TIMEOUT_SECONDS, 10 s by default).
CORRECTION_TIMEOUT = timedelta(seconds=8)
# The patch since which workflows run their database work as local activities (see above).
LEAN_PATCH = "lean-lifecycle"
# One try of a mail inside the workflow task: an SMTP server that is slow or down costs the
# task at most this long, once (workflows._mailing pauses the tries after a failure).
INLINE_SMTP_TIMEOUT = timedelta(seconds=5)
INLINE_ONCE = RetryPolicy(maximum_attempts=1)
CORRECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=2),
)


async def _in_database(
    name: str,
    arg: Any,
    result_type: Any,
    timeout: timedelta = DATABASE_TIMEOUT,
    *,
    local: bool = False,
) -> Any:
    """An activity that reads or writes the database: bounded, retried while it is busy."""
    if local:
        return await workflow.execute_local_activity(
            name,
            arg,
            result_type=result_type,
            start_to_close_timeout=timeout,
            retry_policy=DATABASE_RETRY,
        )
    return await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timeout,
        retry_policy=DATABASE_RETRY,
    )


async def record_request(request: ImportRequestInput, *, local: bool = False) -> bool:
    return cast(bool, await _in_database(RECORD_REQUEST_ACTIVITY, request, bool, local=local))


async def screen_parties(
    parties: ScreenPartiesInput, *, local: bool = False
) -> list[FindingRecord]:
    return cast(
        "list[FindingRecord]",
        await _in_database(SCREEN_PARTIES_ACTIVITY, parties, list[FindingRecord], local=local),
    )


async def screen_line(line: ScreenLineInput, *, local: bool = False) -> list[FindingRecord]:
    return cast(
        "list[FindingRecord]",
        await _in_database(SCREEN_LINE_ACTIVITY, line, list[FindingRecord], local=local),
    )


async def project_transition(change: ProjectionInput, *, local: bool = False) -> bool:
    return cast(bool, await _in_database(PROJECT_TRANSITION_ACTIVITY, change, bool, local=local))


async def project_transitions(changes: list[ProjectionInput], *, local: bool = False) -> int:
    return cast(int, await _in_database(PROJECT_TRANSITIONS_ACTIVITY, changes, int, local=local))


def start_mail(
    mail: MailInput, retry_policy: RetryPolicy = SMTP_RETRY
) -> workflow.ActivityHandle[bool]:
    """A mail sent beside the workflow's main loop, which learns the outcome when it is done."""
    return cast(
        "workflow.ActivityHandle[bool]", _through_smtp(SEND_MAIL_ACTIVITY, mail, bool, retry_policy)
    )


def _through_smtp(
    name: str, arg: Any, result_type: Any, retry_policy: RetryPolicy
) -> workflow.ActivityHandle[Any]:
    """An activity that talks to the SMTP server: bounded, heartbeating, retried as told."""
    return workflow.start_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=SMTP_TIMEOUT,
        heartbeat_timeout=SMTP_HEARTBEAT_TIMEOUT,
        retry_policy=retry_policy,
    )


async def send_mail(mail: MailInput) -> bool:
    return await start_mail(mail)


async def send_mail_inline(mail: MailInput) -> bool:
    """One try of a mail in this workflow task; raises ActivityError when it did not go."""
    return cast(bool, await _inline(SEND_MAIL_ACTIVITY, mail, bool))


async def _inline(name: str, arg: Any, result_type: Any) -> Any:
    return await workflow.execute_local_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=INLINE_SMTP_TIMEOUT,
        retry_policy=INLINE_ONCE,
    )


def start_delivery(mail: MailInput, max_interval: timedelta) -> workflow.ActivityHandle[bool]:
    """The importer's mail with the document: retried while SMTP is down, with no attempt limit
    and backoff up to `max_interval`, so delivery happens soon after the server is back."""
    return start_mail(mail, _delivery_retry(max_interval))


def _delivery_retry(max_interval: timedelta) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=min(DELIVERY_FIRST_RETRY, max_interval),
        backoff_coefficient=2.0,
        maximum_interval=max_interval,
    )


def start_delivery_with_copy(
    delivery: DeliveryInput, max_interval: timedelta
) -> workflow.ActivityHandle[DeliveryOutcome]:
    """The delivery and the exporter's copy in one activity, retried as `start_delivery`."""
    return cast(
        "workflow.ActivityHandle[DeliveryOutcome]",
        _through_smtp(DELIVER_ACTIVITY, delivery, DeliveryOutcome, _delivery_retry(max_interval)),
    )


async def allocate_number(
    certificate: AllocateNumberInput, *, local: bool = False
) -> AllocatedNumber:
    return cast(
        AllocatedNumber,
        await _in_database(ALLOCATE_NUMBER_ACTIVITY, certificate, AllocatedNumber, local=local),
    )


async def render_document(
    document: RenderDocumentInput, *, local: bool = False
) -> RenderedDocument:
    return cast(
        RenderedDocument,
        await _in_database(
            RENDER_DOCUMENT_ACTIVITY, document, RenderedDocument, RENDER_TIMEOUT, local=local
        ),
    )


async def create_replacement(replacement: CreateReplacementInput) -> ReplacementRecord:
    """Bounded, unlike the other database steps: the certifier waits for the answer, and a
    replacement that cannot be made in that time is refused with nothing changed."""
    result = await workflow.execute_activity(
        CREATE_REPLACEMENT_ACTIVITY,
        replacement,
        result_type=ReplacementRecord,
        start_to_close_timeout=DATABASE_TIMEOUT,
        schedule_to_close_timeout=CORRECTION_TIMEOUT,
        retry_policy=CORRECTION_RETRY,
    )
    return cast(ReplacementRecord, result)


async def discard_replacement(replacement: CreateReplacementInput) -> bool:
    return cast(bool, await _in_database(DISCARD_REPLACEMENT_ACTIVITY, replacement, bool))
