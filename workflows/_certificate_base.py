"""The machinery under CertificateWorkflow: guarding commands, recording changes, queueing mail.

Every change goes through `_change` (state first, sequence number, search attributes) and then
`_project` (the database write); the workflow class only decides which change to make.
"""

from __future__ import annotations

from typing import Any, Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import Conflict, DomainError
    from domain.lifecycle import Command, Parties, Situation, transition
    from domain.model import Role, Status
    from workflows import _activities as act
    from workflows._certificate_rules import awaiting_for, when
    from workflows.contracts import SA_AWAITING, SA_STATUS, ActorRef, CommandResult
from workflows.payloads import (
    CertificateInput,
    CertificateState,
    EventWrite,
    MailInput,
    ProjectionInput,
)


def refusal(err: DomainError) -> ApplicationError:
    """A domain refusal as Temporal carries it: the API maps it back by `type`, never by text."""
    return ApplicationError(
        err.detail, {"code": err.code}, type=type(err).__name__, non_retryable=True
    )


class CertificateMachinery:
    input: CertificateInput
    state: CertificateState
    # Set by every change so the main loop recomputes its timers and sends queued mail.
    woken: bool
    search_attributes: tuple[str, str] | None

    def _setup(self, input: CertificateInput) -> None:
        self.input = input
        self.state = input.state.model_copy(deep=True) if input.state else CertificateState()
        self.woken = False
        self.search_attributes = None

    @property
    def _parties(self) -> Parties:
        return Parties(self.input.certifier_id, self.input.exporter_id, self.input.importer_id)

    def _check(self, command: Command, actor: ActorRef, task_id: str | None = None) -> Status:
        """The state `command` leads to, or the refusal as a non-retryable ApplicationError."""
        task = self.state.task
        assignee = task.assignee_id if task is not None else None
        try:
            target = transition(
                Situation(self.state.status, self._parties, assignee), command, actor.to_actor()
            )
            if task_id is not None and (task is None or task.task_id != task_id):
                raise Conflict(
                    "this is not the certificate's current review task", code="task_not_current"
                )
        except DomainError as err:
            raise refusal(err) from None
        return target

    def _change(
        self,
        action: str,
        actor: ActorRef,
        *,
        to: Status | None = None,
        detail: dict[str, Any] | None = None,
        task: bool = False,
        flags: bool = False,
        first: bool = False,
    ) -> ProjectionInput:
        """Record a change already made to the task or flags, moving to `to` if given."""
        before = self.state.status
        if to is not None:
            self.state.status = to
        self.state.seq += 1
        self.woken = True
        awaiting = awaiting_for(self.state.status)
        if self.search_attributes != (self.state.status, awaiting):
            self.search_attributes = (self.state.status, awaiting)
            workflow.upsert_search_attributes(
                [SA_STATUS.value_set(self.state.status), SA_AWAITING.value_set(awaiting)]
            )
        return ProjectionInput(
            workflow_id=workflow.info().workflow_id,
            seq=self.state.seq,
            certificate_id=self.input.certificate_id,
            at=workflow.now(),
            status=self.state.status,
            awaiting=awaiting,
            flags=list(self.state.flags) if flags else None,
            task=self.state.task.model_copy() if task and self.state.task else None,
            event=EventWrite(
                action=action,
                actor=actor,
                from_status=None if first else before,
                to_status=self.state.status,
                detail=detail or {},
            ),
        )

    async def _project(self, change: ProjectionInput) -> None:
        await act.project_transition(change)

    def _mail(self, template: str, to: Literal["certifier", "exporter"], **extra: str) -> None:
        """Queue a mail for the main loop, keyed by the change that caused it."""
        organisation, role = (
            (self.input.certifier_id, Role.CERTIFIER)
            if to == "certifier"
            else (self.input.exporter_id, Role.EXPORTER)
        )
        task = self.state.task
        context = {
            "certificate_id": self.input.certificate_id,
            "product_name": self.input.product_name or self.input.hts_code,
            "hts_code": self.input.hts_code,
            "quantity_kg": str(self.input.quantity_kg),
            "exporter_id": self.input.exporter_id,
            "importer_id": self.input.importer_id,
            "due_at": when(task.due_at) if task else "",
            "assignee": (task.assignee_id or "") if task else "",
            "comment": self.state.info_question,
            "requested_at": when(self.state.info_requested_at),
            "lapse_at": when(
                self.state.info_requested_at + self.input.timers.info_lapse
                if self.state.info_requested_at
                else None
            ),
            **extra,
        }
        self.state.pending_mail.append(
            MailInput(
                key=f"{workflow.info().workflow_id}:{self.state.seq}:{template}",
                template=template,
                organisation_id=organisation,
                role=role,
                certificate_id=self.input.certificate_id,
                context=context,
            )
        )
        self.woken = True

    async def _send_queued_mail(self) -> None:
        while self.state.pending_mail:
            await act.send_mail(self.state.pending_mail[0])
            self.state.pending_mail.pop(0)

    def _result(self) -> CommandResult:
        task = self.state.task
        return CommandResult(
            certificate_id=self.input.certificate_id,
            status=self.state.status,
            awaiting=awaiting_for(self.state.status),
            task_id=task.task_id if task else None,
            task_state=task.state if task else None,
            assignee=task.assignee_id if task else None,
        )
