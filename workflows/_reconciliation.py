"""Reconciliation (R8) and expiry: the exporter reports the actual net weights shipped under a
multi-shipment or time-frame certificate, and a certifier confirms them through a queue task.

Seven days (by default) before expiry the exporter is asked; at expiry a report never made is
flagged to the certifier. A report awaiting confirmation keeps the workflow running after the
certificate is used up or expired, so the certifier can still confirm it.
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import add_business_time
    from domain.customs import expires_at, needs_reconciliation
    from domain.errors import Conflict, Invalid
    from domain.lifecycle import Command, Party
    from domain.model import Reconciliation, TaskKind, TaskState
    from workflows._certificate_base import CertificateMachinery, refusal
    from workflows._certificate_rules import when
    from workflows.contracts import (
        CONFIRM_ACTUALS,
        REPORT_ACTUALS,
        SYSTEM,
        CommandResult,
        ConfirmActualsInput,
        FindingRecord,
        ReportActualsInput,
    )
from workflows.payloads import ActualsWrite, TaskWrite

MISSING_FLAG = FindingRecord(
    rule="R8",
    code="reconciliation_missing",
    message="The certificate expired without the exporter's report of actual net weights.",
    hard=False,
)


class ReconciliationUpdates(CertificateMachinery):
    @workflow.update(name=REPORT_ACTUALS)
    async def report_actuals(self, cmd: ReportActualsInput) -> CommandResult:
        await self._checked(lambda: self._check_report(cmd))
        s, now = self.state, workflow.now()
        s.reconciliation = Reconciliation.REPORTED
        task = s.task
        if task is None or task.kind is not TaskKind.RECONCILE or task.state is TaskState.CLOSED:
            # A report that corrects an earlier, unconfirmed one goes to the same task.
            s.task = TaskWrite(
                task_id=str(workflow.uuid4()),
                kind=TaskKind.RECONCILE,
                state=TaskState.OPEN,
                due_at=add_business_time(now, self.input.timers.review_escalation),
            )
        total = sum((shipment.net_kg for shipment in cmd.shipments), start=Decimal(0))
        change = self._change(
            "actuals_reported",
            cmd.actor,
            detail={"shipments": len(cmd.shipments), "net_kg": str(total)},
            task=True,
            actuals=ActualsWrite(shipments=cmd.shipments, reported_by=cmd.actor.user_id),
        )
        self._notify("actuals_reported", "certifier", net_kg=str(total))
        await self._project(change)
        return self._result()

    @report_actuals.validator
    def _validate_report_actuals(self, cmd: ReportActualsInput) -> None:
        self._admit(lambda: self._check_report(cmd))

    def _check_report(self, cmd: ReportActualsInput) -> None:
        self._check(Command.REPORT_ACTUALS, cmd.actor)
        if not needs_reconciliation(self.input.coverage):
            raise refusal(
                Conflict(
                    "a single-shipment certificate has no reconciliation report",
                    code="no_reconciliation",
                )
            )
        if self.state.reconciliation == Reconciliation.CONFIRMED:
            raise refusal(Conflict("the report is confirmed already", code="already_confirmed"))
        if not cmd.shipments or any(shipment.net_kg <= 0 for shipment in cmd.shipments):
            raise refusal(
                Invalid(
                    "shipments: at least one, each with net_kg greater than 0",
                    code="invalid_actuals",
                )
            )

    @workflow.update(name=CONFIRM_ACTUALS)
    async def confirm_actuals(self, cmd: ConfirmActualsInput) -> CommandResult:
        await self._checked(lambda: self._check_confirm(cmd))
        s = self.state
        assert s.task is not None
        s.reconciliation = Reconciliation.CONFIRMED
        s.task.state = TaskState.CLOSED
        change = self._change(
            "actuals_confirmed", cmd.actor, detail={"comment": cmd.comment}, task=True
        )
        await self._project(change)
        return self._result()

    @confirm_actuals.validator
    def _validate_confirm_actuals(self, cmd: ConfirmActualsInput) -> None:
        self._admit(lambda: self._check_confirm(cmd))

    def _check_confirm(self, cmd: ConfirmActualsInput) -> None:
        self._check_party(Party.ISSUING_CERTIFIER, cmd.actor, "confirming actual weights")
        if self.state.reconciliation != Reconciliation.REPORTED:
            raise refusal(
                Conflict("no reconciliation report awaits confirmation", code="nothing_to_confirm")
            )
        self._check(Command.CONFIRM_ACTUALS, cmd.actor)

    async def _request_reconciliation(self) -> None:
        self.state.reconciliation = Reconciliation.REQUESTED
        change = self._change("reconciliation_requested", SYSTEM)
        self._notify("reconciliation_requested", "exporter", expires_at=self._expiry_text())
        await self._project(change)

    async def _expire(self) -> None:
        s = self.state
        target = self._check(Command.EXPIRE, SYSTEM)
        missing = needs_reconciliation(self.input.coverage) and s.reconciliation in (
            None,
            Reconciliation.REQUESTED,
        )
        detail: dict[str, str] = {}
        if missing:
            s.reconciliation = Reconciliation.MISSING
            s.flags = [*s.flags, MISSING_FLAG]
            detail = {"reconciliation": Reconciliation.MISSING}
            self._notify("reconciliation_missing", "certifier", expired_at=self._expiry_text())
        change = self._change("expired", SYSTEM, to=target, detail=detail, flags=missing)
        await self._project(change)

    def _expiry_text(self) -> str:
        assert self.input.valid_until is not None
        return when(expires_at(self.input.valid_until))
