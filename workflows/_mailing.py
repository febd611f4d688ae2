"""Mail beside the certificate's life, never in its way (issue: mail never blocks).

Each queued mail is an activity of its own, started by the main loop and left running: while
the SMTP server is down its attempts back off and retry, and meanwhile timers fire and updates
answer. The main loop learns of each mail when it is done: a mail that went out leaves the
queue; a mail that can never go out (a message that cannot be built, every recipient refused
for good) leaves it too, written to the timeline with the reason and flagged to the certifier.

The queue lives in the workflow state, so continue-as-new carries what is not sent yet; the
outbox makes a mail started again after that, or after a worker crash, go out once.

Since revision 5 each mail is first tried once inside the workflow task that queued it (a local
activity, bounded by a few seconds): one history event instead of an activity's three and the
workflow task that takes in its outcome. Only a mail that try could not send goes to the
activity above; after a failed try none is tried inline for `INLINE_PAUSE`, so an SMTP outage
costs the workflow one bounded wait, not one per mail.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import _activities as act
    from workflows._certificate_base import CertificateMachinery
    from workflows._failures import ACTIVITY_FAILED, ActivityFailure, failure_reason
    from workflows.contracts import INLINE_MAIL_REVISION, SYSTEM
from workflows.payloads import MailInput

# The first workflow task of a run decides, once, whether mail goes out in the background.
BACKGROUND_PATCH = "background-mail"
# After a mail failed to go inline, mail goes straight to the background for this long.
INLINE_PAUSE = timedelta(minutes=5)


class MailSteps(CertificateMachinery):
    def _decide_mail_mode(self) -> None:
        """Once per run: a run of revision 5 or later takes its paths from its input, with no
        marker; one started since the lean patch records that one marker only (it implies
        background mail and issuance; see CertificateMachinery.lean)."""
        if self.input.revision >= INLINE_MAIL_REVISION:
            self.lean = self.background = self.inline = True
        elif workflow.patched(act.LEAN_PATCH):
            self.lean = self.background = True
        else:
            self.background = workflow.patched(BACKGROUND_PATCH)

    def _inline_open(self) -> bool:
        """Whether a mail may be tried inside this workflow task."""
        paused = self.inline_paused_until
        return self.inline and (paused is None or workflow.now() >= paused)

    def _inline_failed(self, key: str, err: ActivityFailure) -> None:
        reason = failure_reason(err)
        workflow.logger.info("%s did not go at once, it goes in the background: %s", key, reason)
        self.inline_paused_until = workflow.now() + INLINE_PAUSE

    async def _sent_inline(self, mail: MailInput) -> bool:
        """True when one try inside this workflow task sent `mail` (or found it sent)."""
        if not self._inline_open():
            return False
        try:
            await act.send_mail_inline(mail)
        except ACTIVITY_FAILED as err:
            self._inline_failed(mail.key, err)
            return False
        return True

    def _mail_done(self) -> bool:
        """Whether a mail or the delivery has an outcome for the main loop."""
        delivered = self.delivering is not None and self.delivering.done()
        return delivered or any(handle.done() for handle in self.sending.values())

    async def _mail_step(self) -> None:
        """Start what is queued and take in what is done; before the patch, send one by one."""
        if not self.background:
            await self._send_queued_mail()
            return
        for mail in list(self.state.pending_mail):
            if mail.key in self.sending:
                continue
            if await self._sent_inline(mail):
                self.state.pending_mail.remove(mail)
                continue
            self.sending[mail.key] = act.start_mail(mail)
        for key, handle in list(self.sending.items()):
            if not handle.done():
                continue
            del self.sending[key]
            mail = next(m for m in self.state.pending_mail if m.key == key)
            self.state.pending_mail.remove(mail)
            try:
                await handle
            except ActivityError as err:
                await self._mail_failed(mail, failure_reason(err))

    async def _flush_mail(self) -> None:
        """At the end of the workflow: every queued mail sent, or written off with its reason."""
        while self.state.pending_mail:
            await self._mail_step()
            if self.background and self.sending:
                if self.lean:
                    self._sync_search_attributes()
                await workflow.wait_condition(self._mail_done)

    async def _stop_mail(self) -> None:
        """Before continue-as-new: stop what is in flight; the next run starts it again."""
        handles = [*self.sending.values(), *([self.delivering] if self.delivering else [])]
        self.sending, self.delivering = {}, None
        for handle in handles:
            handle.cancel()
            with contextlib.suppress(ActivityError, asyncio.CancelledError):
                await handle

    async def _mail_failed(self, mail: MailInput, reason: str) -> None:
        workflow.logger.warning("mail %s failed for good: %s", mail.key, reason)
        what = mail.template.replace("_", " ")
        self._flag("mail", "mail_failed", f"The {what} mail to the {mail.role} failed: {reason}")
        detail = {"template": mail.template, "to": mail.role.value, "reason": reason}
        await self._project(self._change("mail_failed", SYSTEM, detail=detail, flags=True))
