"""Issuance and delivery (DESIGN 3, R5): from `approved` to `issued` to `delivered`.

Issuance allocates the number, renders and signs the document, then moves to `issued`. Delivery
is the importer's mail with the signed PDF: it is retried without limit while SMTP is down, and
the certificate is `delivered` once it is sent. A void or a replacement meanwhile stops it.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.lifecycle import Command
    from domain.model import Status
    from workflows import _activities as act
    from workflows._certificate_base import CertificateMachinery
    from workflows.contracts import SYSTEM
from workflows.payloads import AllocateNumberInput, RenderDocumentInput


class IssuanceSteps(CertificateMachinery):
    async def _begin_replacement(self) -> None:
        """The first change of a replacement: its row was written approved by the original."""
        i = self.input
        detail = {"replaces_id": i.replaces_id or "", "reason": i.replace_reason}
        await self._project(
            self._change("replacement_created", i.replaced_by or SYSTEM, detail=detail, first=True)
        )

    async def _issue(self) -> None:
        i, s = self.input, self.state
        number = await act.allocate_number(AllocateNumberInput(certificate_id=i.certificate_id))
        issued_at = workflow.now()
        document = await act.render_document(
            RenderDocumentInput(certificate_id=i.certificate_id, issued_at=issued_at)
        )
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
        s.delivery = None
        target = self._check(Command.DELIVER, SYSTEM)
        s.delivered_at = workflow.now()
        change = self._change("delivered", SYSTEM, to=target)
        self._notify("certificate_issued_copy", "exporter", attach=True)
        await self._project(change)
