"""Activities run to their end, even when Temporal cancels them.

Temporal cancels a local activity when it times out or its workflow task is lost (a saturated
worker, an eviction), and an activity when its workflow asks. A cancellation that lands inside
a transaction can leave that transaction's connection checked out and open: on SQLite it keeps
the write lock, and every later write of every workflow waits on it for good. That stall was
seen: a mail tried inline timed out on a busy worker, its cancellation hit the outbox write, and
the worker's connection held the WAL write lock with all its threads idle.

So the cancelled caller is answered at once and the activity finishes beside it. Every step is
bounded by its own timeouts and idempotent (a projection is keyed by workflow run and sequence,
a number by its certificate, a mail by its outbox key, which a later attempt finds sent), so
finishing one that nobody waits for is harmless, where interrupting it is not. A delivery that
became moot meanwhile ends its attempt under way (seconds, bounded by the SMTP timeout) and is
not tried again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

logger = logging.getLogger(__name__)


class _FinishActivities(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, finishing: set[asyncio.Task[Any]]):
        super().__init__(next)
        self.finishing = finishing

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        step = asyncio.ensure_future(self.next.execute_activity(input))
        try:
            return await asyncio.shield(step)
        except asyncio.CancelledError:
            if not step.done():
                # Kept referenced until it ends; its outcome is only logged.
                self.finishing.add(step)
                step.add_done_callback(self._finished)
            raise

    def _finished(self, step: asyncio.Task[Any]) -> None:
        self.finishing.discard(step)
        if not step.cancelled() and step.exception() is not None:
            logger.info("a cancelled activity ended with %r", step.exception())


class FinishActivities(Interceptor):
    """Let a cancelled activity finish instead of interrupting its transaction."""

    def __init__(self) -> None:
        self.finishing: set[asyncio.Task[Any]] = set()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _FinishActivities(next, self.finishing)
