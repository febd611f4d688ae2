"""ImportRequestWorkflow: record the request, screen its parties once (R3), start one
CertificateWorkflow per line (R1) and finish.

The children outlive this workflow (parent close policy ABANDON). Their starts are durable: a
worker that dies half-way replays the starts already in history and makes the rest, and a child
that already exists (a reset, or the API got there first) counts as started.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.model import Awaiting, Status
    from workflows import _activities as act
    from workflows._failures import ACTIVITY_FAILED, screening_unavailable
    from workflows.contracts import (
        CERTIFICATE_WORKFLOW,
        CURRENT_REVISION,
        IMPORT_REQUEST_WORKFLOW,
        INLINE_MAIL_REVISION,
        SA_AWAITING,
        SA_CERTIFIER,
        SA_EXPORTER,
        SA_HTS,
        SA_IMPORTER,
        SA_STATUS,
        FindingRecord,
        ImportRequestInput,
        RequestLine,
        certificate_workflow_id,
    )
from workflows.payloads import CertificateInput, ScreenPartiesInput


@workflow.defn(name=IMPORT_REQUEST_WORKFLOW, sandboxed=True)
class ImportRequestWorkflow:
    @workflow.run
    async def run(self, request: ImportRequestInput) -> list[str]:
        """The ids of the certificate workflows, one per line."""
        # Since this patch, both database steps are local activities (workflows._activities).
        local = request.revision >= INLINE_MAIL_REVISION or workflow.patched(act.LEAN_PATCH)
        try:
            await act.record_request(request, local=local)
        except ACTIVITY_FAILED as err:
            # The API records the request before it answers 201; the certificates go on, and a
            # row still missing shows as their projection failing, to operators, not as silence.
            workflow.logger.error("recording request %s failed: %s", request.request_id, err)
        parties = ScreenPartiesInput(
            certifier_id=request.certifier_id,
            exporter_id=request.exporter_id,
            importer_id=request.importer_id,
        )
        try:
            findings = await act.screen_parties(parties, local=local)
        except ACTIVITY_FAILED as err:
            # Screening that cannot run must not stop the request: the reviewer checks by hand.
            findings = [screening_unavailable("R3", err)]
        return list(
            await asyncio.gather(
                *(self._start_certificate(request, line, findings) for line in request.lines)
            )
        )

    async def _start_certificate(
        self, request: ImportRequestInput, line: RequestLine, findings: list[FindingRecord]
    ) -> str:
        workflow_id = certificate_workflow_id(line.certificate_id)
        try:
            await workflow.start_child_workflow(
                CERTIFICATE_WORKFLOW,
                certificate_input(request, line, findings),
                id=workflow_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                # A certificate is started once, ever: a finished one is not started again.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=certificate_search_attributes(request, line),
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info("certificate workflow %s already exists", workflow_id)
        return workflow_id


def certificate_input(
    request: ImportRequestInput, line: RequestLine, findings: list[FindingRecord]
) -> CertificateInput:
    return CertificateInput(
        certificate_id=line.certificate_id,
        request_id=request.request_id,
        certifier_id=request.certifier_id,
        exporter_id=request.exporter_id,
        importer_id=request.importer_id,
        hts_code=line.hts_code,
        quantity_kg=line.quantity_kg,
        valid_from=request.valid_from,
        timers=request.timers,
        party_findings=findings,
        product_name=line.product_name,
        coverage=request.coverage,
        valid_until=request.valid_until,
        revision=CURRENT_REVISION,
    )


def certificate_search_attributes(
    request: ImportRequestInput, line: RequestLine
) -> TypedSearchAttributes:
    """What operators filter certificate workflows by (DESIGN 4.1): ids and states only."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_STATUS, Status.SUBMITTED.value),
            SearchAttributePair(SA_AWAITING, Awaiting.SYSTEM.value),
            SearchAttributePair(SA_CERTIFIER, request.certifier_id),
            SearchAttributePair(SA_EXPORTER, request.exporter_id),
            SearchAttributePair(SA_IMPORTER, request.importer_id),
            SearchAttributePair(SA_HTS, line.hts_code),
        ]
    )
