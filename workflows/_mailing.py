"""Mail beside the certificate's life, never in its way (issue: mail never blocks).

Each queued mail is an activity of its own, started by the main loop and left running: while
the SMTP server is down its attempts back off and retry, and meanwhile timers fire and updates
answer. The main loop learns of each mail when it is done: a mail that went out leaves the
queue; a mail that can never go out (a message that cannot be built, every recipient refused
for good) leaves it too, written to the timeline with the reason and flagged to the certifier.

The queue lives in the workflow state, so continue-as-new carries what is not sent yet; the
outbox makes a mail started again after that, or after a worker crash, go out once.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import _activities as act
    from workflows._certificate_base import CertificateMachinery
    from workflows._failures import failure_reason
    from workflows.contracts import SYSTEM
from workflows.payloads import MailInput

# The first workflow task of a run decides, once, whether mail goes out in the background.
BACKGROUND_PATCH = "background-mail"


class MailSteps(CertificateMachinery):
    def _decide_mail_mode(self) -> None:
        """Once per run: a run started since the lean patch records that one marker only (it
        implies background mail and issuance; see CertificateMachinery.lean)."""
        if workflow.patched(act.LEAN_PATCH):
            self.lean = self.background = True
        else:
            self.background = workflow.patched(BACKGROUND_PATCH)

    def _mail_done(self) -> bool:
        """Whether a mail or the delivery has an outcome for the main loop."""
        delivered = self.delivering is not None and self.delivering.done()
        return delivered or any(handle.done() for handle in self.sending.values())

    async def _mail_step(self) -> None:
        """Start what is queued and take in what is done; before the patch, send one by one."""
        if not self.background:
            await self._send_queued_mail()
            return
        for mail in self.state.pending_mail:
            if mail.key not in self.sending:
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
