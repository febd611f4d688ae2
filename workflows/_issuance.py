"""Issuance and delivery (DESIGN 3, R5): from `approved` to `issued` to `delivered`.

Issuance allocates the number, renders and signs the document, then moves to `issued`. Delivery
is the importer's mail with the signed PDF: it is retried without limit while SMTP is down, and
the certificate is `delivered` once it is sent. A void or a replacement meanwhile stops it.

Neither may hold a certificate for nothing. Issuance that fails for good is written to the
timeline and flagged, and tried again after a growing pause (a fixed worker then issues it).
A delivery that fails for good leaves the certificate `issued`, in force, with the flag
`delivery_failed`; the exporter gets the document to hand over. With background mail
(workflows._mailing) the delivery runs beside the main loop, so the timers of an issued
certificate (reconciliation notice, expiry) fire while the SMTP server is down.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.lifecycle import Command
    from domain.model import Status
    from workflows import _activities as act
    from workflows._failures import ACTIVITY_FAILED, ActivityFailure, failure_reason
    from workflows._mailing import MailSteps
    from workflows.contracts import SYSTEM
from workflows.payloads import (
    AllocateNumberInput,
    DeliveryInput,
    DeliveryOutcome,
    RenderDocumentInput,
)

# Issuance tried again after a failure for good: 1 minute, doubling up to 6 hours.
ISSUANCE_RETRY_FIRST = timedelta(minutes=1)
ISSUANCE_RETRY_MAX = timedelta(hours=6)


class IssuanceSteps(MailSteps):
    async def _begin_replacement(self) -> None:
        """The first change of a replacement: its row was written approved by the original."""
        i = self.input
        detail = {"replaces_id": i.replaces_id or "", "reason": i.replace_reason}
        await self._project(
            self._change("replacement_created", i.replaced_by or SYSTEM, detail=detail, first=True)
        )

    async def _issue(self) -> None:
        i, s = self.input, self.state
        try:
            number = await act.allocate_number(
                AllocateNumberInput(certificate_id=i.certificate_id), local=self.lean
            )
            issued_at = workflow.now()
            document = await act.render_document(
                RenderDocumentInput(certificate_id=i.certificate_id, issued_at=issued_at),
                local=self.lean,
            )
        except ACTIVITY_FAILED as err:
            if not self.background:
                raise
            await self._issuance_failed(err)
            return
        target = self._check(Command.ISSUE, SYSTEM)
        s.number, s.issued_at, s.remaining_kg = number.number, issued_at, i.quantity_kg
        detail = {"number": number.number, "sha256": document.sha256, "key_id": document.key_id}
        change = self._change("issued", SYSTEM, to=target, detail=detail)
        s.delivery = self._mail_input(
            self._mail_key("certificate_issued", "importer"),
            "certificate_issued",
            "importer",
            {},
            attach=True,
        )
        if self.lean:
            s.delivery_copy = self._mail_input(
                self._mail_key("certificate_issued_copy", "exporter"),
                "certificate_issued_copy",
                "exporter",
                {},
                attach=True,
            )
        await self._project(change)

    async def _issuance_failed(self, err: ActivityFailure) -> None:
        """Say it once per reason, then pause before the next try; updates still answer."""
        s, reason = self.state, failure_reason(err)
        s.issuance_failures += 1
        if s.issuance_failure != reason:
            s.issuance_failure = reason
            self._flag(
                "R5",
                "issuance_failed",
                f"The certificate could not be issued: {reason}. It is tried again automatically.",
            )
            await self._project(
                self._change("issuance_failed", SYSTEM, detail={"reason": reason}, flags=True)
            )
        pause = min(ISSUANCE_RETRY_FIRST * 2 ** (s.issuance_failures - 1), ISSUANCE_RETRY_MAX)
        if not self.lean:
            await workflow.sleep(pause, summary="issuance retry")
            return
        # Since the lean patch an update that moves the certificate on (a withdrawal) ends
        # the pause, and the status it leaves shows to operators meanwhile.
        self._sync_search_attributes()
        self.parked = True
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: s.status is not Status.APPROVED,
                timeout=pause,
                timeout_summary="issuance retry",
            )
        self.parked = False

    async def _delivery_step(self) -> bool:
        """Move delivery on; True when the certificate changed and the loop starts again.

        Before the background-mail patch the delivery held the loop until it was done.
        """
        if not self.background:
            await self._deliver()
            return True
        s = self.state
        if s.delivery is None:
            return False  # failed for good: the certificate waits in force for its timers
        if self.delivering is None:
            longest = self.input.timers.delivery_retry_max_interval
            if s.delivery_copy is None:
                self.delivering = act.start_delivery(s.delivery, longest)
            else:
                both = DeliveryInput(delivery=s.delivery, exporter_copy=s.delivery_copy)
                self.delivering = act.start_delivery_with_copy(both, longest)
            return False
        if not self.delivering.done():
            return False
        sending, self.delivering = self.delivering, None
        try:
            outcome = await sending
        except ActivityError as err:
            await self._delivery_failed(err)
            return True
        await self._delivered(outcome if isinstance(outcome, DeliveryOutcome) else None)
        return True

    async def _stop_moot_delivery(self) -> None:
        """A certificate voided, replaced, used or expired before its delivery went out."""
        if self.delivering is None or self.state.status is Status.ISSUED:
            return
        sending, self.delivering = self.delivering, None
        self.state.delivery = self.state.delivery_copy = None
        sending.cancel()
        with contextlib.suppress(ActivityError, asyncio.CancelledError):
            await sending
        workflow.logger.info("delivery of %s stopped", self.input.certificate_id)

    async def _delivery_failed(self, err: ActivityError) -> None:
        s, reason = self.state, failure_reason(err)
        s.delivery, s.delivery_copy, s.delivery_failed = None, None, True
        self._flag(
            "delivery",
            "delivery_failed",
            f"The certificate could not be delivered to the importer: {reason}. "
            "The exporter has the document to hand over.",
        )
        change = self._change("delivery_failed", SYSTEM, detail={"reason": reason}, flags=True)
        self._notify("delivery_failed", "exporter", attach=True, reason=reason)
        await self._project(change)

    async def _deliver(self) -> None:
        s = self.state
        assert s.delivery is not None
        sending = act.start_delivery(s.delivery, self.input.timers.delivery_retry_max_interval)
        await workflow.wait_condition(lambda: sending.done() or s.status is not Status.ISSUED)
        if s.status is not Status.ISSUED:
            # Voided or replaced before the importer could be reached: nothing more to send.
            if not sending.done():
                sending.cancel()
            try:
                await sending
            except ActivityError:
                workflow.logger.info("delivery of %s stopped", self.input.certificate_id)
            s.delivery = None
            return
        await sending
        await self._delivered()

    async def _delivered(self, outcome: DeliveryOutcome | None = None) -> None:
        """`outcome` is that of a delivery that took the exporter's copy along."""
        s = self.state
        copy = s.delivery_copy if outcome is not None else None
        s.delivery = s.delivery_copy = None
        target = self._check(Command.DELIVER, SYSTEM)
        s.delivered_at = workflow.now()
        change = self._change("delivered", SYSTEM, to=target)
        if copy is None:
            self._notify("certificate_issued_copy", "exporter", attach=True)
        await self._project(change)
        if copy is not None and outcome is not None and outcome.copy_failure is not None:
            await self._mail_failed(copy, outcome.copy_failure)
