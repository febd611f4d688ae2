"""Activities run to their end, even when Temporal cancels them.

Temporal cancels a local activity when it times out or its workflow task is lost (a saturated
worker, an eviction), and an activity when its workflow asks. A cancellation that lands inside
a transaction can leave that transaction's connection checked out and open: on SQLite it keeps
the write lock, and every later write of every workflow waits on it for good. That stall was
seen: a mail tried inline timed out on a busy worker, its cancellation hit the outbox write, and
the worker's connection held the WAL write lock with all its threads idle.

So the cancelled caller is answered at once and the database step finishes beside it. Every
such step is bounded by its own timeouts and idempotent (a projection is keyed by workflow run
and sequence, a number by its certificate), so finishing one that nobody waits for is harmless,
where interrupting it is not. The mail activities are cancelled as asked (a moot delivery, a
stopping worker must not wait for an SMTP server); only their outbox transactions run to their
end (`to_the_end`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from workflows.contracts import DELIVER_ACTIVITY, SEND_MAIL_ACTIVITY

T = TypeVar("T")
# Activities that talk to the SMTP server: cancelled as asked, their transactions shielded.
MAIL_ACTIVITIES = frozenset({SEND_MAIL_ACTIVITY, DELIVER_ACTIVITY})
# Steps left to finish after their caller was cancelled, kept referenced until they end.
_FINISHING: set[asyncio.Future[Any]] = set()

logger = logging.getLogger(__name__)


async def to_the_end(work: Awaitable[T]) -> T:
    """`work`, run to its end even when the caller is cancelled (who is answered at once)."""
    step = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(step)
    except asyncio.CancelledError:
        if not step.done():
            _FINISHING.add(step)
            step.add_done_callback(_finished)
        raise


def finishing() -> int:
    """How many steps whose caller was cancelled are still running."""
    return len(_FINISHING)


def _finished(step: asyncio.Future[Any]) -> None:
    _FINISHING.discard(step)
    if not step.cancelled() and step.exception() is not None:
        logger.info("a step finished after its cancellation ended with %r", step.exception())


class _FinishActivities(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if activity.info().activity_type in MAIL_ACTIVITIES:
            return await self.next.execute_activity(input)
        return await to_the_end(self.next.execute_activity(input))


class FinishActivities(Interceptor):
    """Let a cancelled activity finish instead of interrupting its transaction."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _FinishActivities(next)
