"""The issuing certifier's corrections of an issued certificate (R6): void it, or replace it.

An issued certificate never changes: a replacement is a new certificate, written approved by
`create_replacement` with the changes, and run by its own CertificateWorkflow (a child that
outlives this one), which issues it with its own number. The original becomes `replaced`.
"""

from __future__ import annotations

import re

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from domain.customs import check_valid_until
    from domain.errors import Conflict, DomainError, Invalid
    from domain.lifecycle import Command
    from domain.model import Awaiting, Status, TaskState
    from workflows import _activities as act
    from workflows._certificate_base import CertificateMachinery, refusal
    from workflows._failures import failure_reason
    from workflows.contracts import (
        CERTIFICATE_WORKFLOW,
        CURRENT_REVISION,
        REPLACE,
        SA_AWAITING,
        SA_CERTIFIER,
        SA_EXPORTER,
        SA_HTS,
        SA_IMPORTER,
        SA_STATUS,
        VOID,
        ActorRef,
        CommandResult,
        ReplaceInput,
        ReplaceResult,
        VoidInput,
        certificate_workflow_id,
    )
from workflows.payloads import (
    CertificateInput,
    CreateReplacementInput,
    ProjectionInput,
    ReplacementRecord,
)

HTS_CODE = re.compile(r"[0-9]{10}")
ATOMIC_REPLACE_PATCH = "atomic-replace"


class CorrectionUpdates(CertificateMachinery):
    @workflow.update(name=VOID)
    async def void(self, cmd: VoidInput) -> CommandResult:
        target = await self._checked(
            lambda: self._check_correction(Command.VOID, cmd.actor, cmd.reason)
        )
        open_task = self._close_open_task()
        change = self._change(
            "voided", cmd.actor, to=target, detail={"reason": cmd.reason}, task=open_task
        )
        self._notify("certificate_voided", "importer", reason=cmd.reason)
        self._notify("certificate_voided", "exporter", reason=cmd.reason)
        await self._project(change)
        return self._result()

    @void.validator
    def _validate_void(self, cmd: VoidInput) -> None:
        self._admit(lambda: self._check_correction(Command.VOID, cmd.actor, cmd.reason))

    @workflow.update(name=REPLACE)
    async def replace(self, cmd: ReplaceInput) -> ReplaceResult:
        """All or nothing: the replacement's row and workflow exist before the original says
        `replaced` and anyone is told; if either cannot be made, nothing has changed."""
        if not (self.inline or workflow.patched(ATOMIC_REPLACE_PATCH)):
            return await self._replace_in_place(cmd)
        await self._checked(lambda: self._check_replace(cmd))
        self.replacing = True
        try:
            replacement_id = await self._make_replacement(cmd)
        finally:
            self.replacing, self.woken = False, True
        s = self.state
        # While the replacement was made, corrections and timers waited: the state is as checked.
        target = self._check_replace(cmd)
        change = self._mark_replaced(cmd, target, replacement_id)
        await self._project(change)
        return ReplaceResult(
            certificate_id=self.input.certificate_id,
            status=s.status,
            replacement_id=replacement_id,
        )

    async def _replace_in_place(self, cmd: ReplaceInput) -> ReplaceResult:
        """How replacements were made before they were atomic: kept for the histories of
        workflows that began a replacement that way."""
        target = self._check_replace(cmd)
        s = self.state
        replacement_id = str(workflow.uuid4())
        change = self._mark_replaced(cmd, target, replacement_id)
        making = CreateReplacementInput(
            original_id=self.input.certificate_id,
            replacement_id=replacement_id,
            changes=cmd.changes,
            reason=cmd.reason,
            at=workflow.now(),
        )
        await self._start_replacement(await act.create_replacement(making), cmd)
        await self._project(change)
        return ReplaceResult(
            certificate_id=self.input.certificate_id, status=s.status, replacement_id=replacement_id
        )

    def _mark_replaced(
        self, cmd: ReplaceInput, target: Status, replacement_id: str
    ) -> ProjectionInput:
        self.state.replaced_by_id = replacement_id
        open_task = self._close_open_task()
        detail = {
            "reason": cmd.reason,
            "replacement_id": replacement_id,
            "changes": cmd.changes.model_dump(mode="json", exclude_none=True),
        }
        change = self._change("replaced", cmd.actor, to=target, detail=detail, task=open_task)
        for to in ("importer", "exporter"):
            self._notify(
                "certificate_replaced", to, reason=cmd.reason, replacement_id=replacement_id
            )
        return change

    async def _make_replacement(self, cmd: ReplaceInput) -> str:
        """The replacement's row and its running workflow; undone, and refused, on failure."""
        making = CreateReplacementInput(
            original_id=self.input.certificate_id,
            replacement_id=str(workflow.uuid4()),
            changes=cmd.changes,
            reason=cmd.reason,
            at=workflow.now(),
        )
        try:
            record = await act.create_replacement(making)
        except ActivityError as err:
            raise self._replacement_refused(err) from None
        try:
            await self._start_replacement(record, cmd)
        except ChildWorkflowError as err:
            await act.discard_replacement(making)
            raise self._replacement_refused(err) from None
        return making.replacement_id

    def _replacement_refused(self, err: ActivityError | ChildWorkflowError) -> ApplicationError:
        reason = failure_reason(err) if isinstance(err, ActivityError) else str(err)
        workflow.logger.warning("replacement of %s failed: %s", self.input.certificate_id, reason)
        return refusal(
            Conflict(
                f"the replacement could not be created ({reason}); "
                "the certificate is unchanged, try again",
                code="replacement_failed",
            )
        )

    @replace.validator
    def _validate_replace(self, cmd: ReplaceInput) -> None:
        self._admit(lambda: self._check_replace(cmd))

    def _check_correction(self, command: Command, actor: ActorRef, reason: str) -> Status:
        target = self._check(command, actor)
        if self.replacing:
            raise refusal(
                Conflict("a replacement of this certificate is being made", code="replacing")
            )
        if not reason.strip():
            raise refusal(Invalid("reason: give the reason", code="reason_required"))
        return target

    def _check_replace(self, cmd: ReplaceInput) -> Status:
        target = self._check_correction(Command.REPLACE, cmd.actor, cmd.reason)
        changes, i = cmd.changes, self.input
        try:
            if changes.quantity_kg is not None and changes.quantity_kg <= 0:
                raise Invalid("quantity_kg must be greater than 0", code="invalid_quantity")
            if changes.hts_code is not None and not HTS_CODE.fullmatch(changes.hts_code):
                raise Invalid("hts_code: 10 digits", code="invalid_hts_code")
            valid_until = changes.valid_until or i.valid_until
            # Dates left as they were are not judged again: they were valid when issued.
            dates_changed = changes.valid_from is not None or changes.valid_until is not None
            if valid_until is not None and dates_changed:
                check_valid_until(changes.valid_from or i.valid_from, valid_until)
        except DomainError as err:
            raise refusal(err) from None
        return target

    def _close_open_task(self) -> bool:
        """Close a reconciliation task still open: nobody confirms a voided certificate."""
        task = self.state.task
        if task is None or task.state is TaskState.CLOSED:
            return False
        task.state = TaskState.CLOSED
        return True

    async def _start_replacement(self, record: ReplacementRecord, cmd: ReplaceInput) -> None:
        i = self.input
        replacement = CertificateInput(
            certificate_id=record.certificate_id,
            request_id=i.request_id,
            certifier_id=i.certifier_id,
            exporter_id=i.exporter_id,
            importer_id=i.importer_id,
            hts_code=record.hts_code,
            quantity_kg=record.quantity_kg,
            valid_from=record.valid_from,
            timers=i.timers,
            product_name=record.product_name,
            coverage=record.coverage,
            valid_until=record.valid_until,
            replaces_id=i.certificate_id,
            replaced_by=cmd.actor,
            replace_reason=cmd.reason,
            revision=CURRENT_REVISION,
        )
        workflow_id = certificate_workflow_id(record.certificate_id)
        try:
            await workflow.start_child_workflow(
                CERTIFICATE_WORKFLOW,
                replacement,
                id=workflow_id,
                # The replacement lives on after the original is finished.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(SA_STATUS, Status.APPROVED.value),
                        SearchAttributePair(SA_AWAITING, Awaiting.SYSTEM.value),
                        SearchAttributePair(SA_CERTIFIER, i.certifier_id),
                        SearchAttributePair(SA_EXPORTER, i.exporter_id),
                        SearchAttributePair(SA_IMPORTER, i.importer_id),
                        SearchAttributePair(SA_HTS, record.hts_code),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info("replacement workflow %s already exists", workflow_id)
