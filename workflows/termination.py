"""TerminationNoticeWorkflow: tell a certificate's parties that an administrator stopped it.

A terminated workflow runs no more code, so the notice is a workflow of its own, started by the
API with the termination; its id is the certificate's, so a repeated remedy tells nobody twice
(and each mail is keyed in the outbox, so a retried activity sends it once).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.model import Role
    from workflows import _activities as act
    from workflows._failures import failure_reason
    from workflows.contracts import TERMINATION_NOTICE_WORKFLOW, TerminationNotice
from workflows.payloads import MailInput

TEMPLATE = "certificate_terminated"


@workflow.defn(name=TERMINATION_NOTICE_WORKFLOW, sandboxed=True)
class TerminationNoticeWorkflow:
    @workflow.run
    async def run(self, notice: TerminationNotice) -> int:
        """The number of mails sent; one that fails for good is logged, not retried."""
        parties = [(notice.certifier_id, Role.CERTIFIER), (notice.exporter_id, Role.EXPORTER)]
        if notice.number is not None:  # the importer holds an issued certificate only
            parties.append((notice.importer_id, Role.IMPORTER))
        context = {
            "number": notice.number or "",
            "hts_code": notice.hts_code,
            "reason": notice.reason,
        }
        handles = [
            act.start_mail(
                MailInput(
                    key=f"{notice.certificate_id}:terminated:{role.value}",
                    template=TEMPLATE,
                    organisation_id=organisation,
                    role=role,
                    certificate_id=notice.certificate_id,
                    context=context,
                )
            )
            for organisation, role in parties
        ]
        sent = 0
        for handle in handles:
            try:
                sent += bool(await handle)
            except ActivityError as err:
                workflow.logger.warning(
                    "termination notice of %s failed: %s",
                    notice.certificate_id,
                    failure_reason(err),
                )
        return sent
