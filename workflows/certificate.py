"""CertificateWorkflow: the life of one certificate, from screening to the certifier's decision.

State lives here (DESIGN 4.1); every change is projected to the database before the update that
caused it returns (4.2). Update handlers change the state before their first await, so a second
update validated right after already sees the first one. Mails are queued by whoever changes the
state and sent by the main loop, so an update never waits for SMTP.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.lifecycle import Command
    from domain.model import Status, TaskKind, TaskState
    from workflows import _activities as act
    from workflows._certificate_base import CertificateMachinery
    from workflows._certificate_rules import (
        Timer,
        due_timers,
        duration,
        review_deadline,
        review_elapsed,
        start_review_clock,
        stop_review_clock,
    )
    from workflows.contracts import (
        ANSWER,
        CERTIFICATE_WORKFLOW,
        CLAIM,
        DECIDE,
        RELEASE,
        SYSTEM,
        WITHDRAW,
        AnswerInput,
        ClaimInput,
        CommandResult,
        DecideInput,
        ReleaseInput,
        WithdrawInput,
    )
from workflows.payloads import CertificateInput, ScreenLineInput, TaskWrite

DECISIONS = {
    "approve": Command.APPROVE,
    "reject": Command.REJECT,
    "request_info": Command.REQUEST_INFO,
}


@workflow.defn(name=CERTIFICATE_WORKFLOW, sandboxed=True)
class CertificateWorkflow(CertificateMachinery):
    @workflow.init
    def __init__(self, input: CertificateInput) -> None:
        self._setup(input)

    @workflow.run
    async def run(self, input: CertificateInput) -> Status:
        if input.state is None:
            await self._screen()
        while True:
            self.woken = False
            await self._send_queued_mail()
            if self.state.status.is_terminal:
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self.input.model_copy(update={"state": self.state}))
            await self._wait_for_next_timer()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._send_queued_mail()
        return self.state.status

    async def _wait_for_next_timer(self) -> None:
        now = workflow.now()
        timers = due_timers(self.state, self.input.timers, now)
        if timers and timers[0][0] <= now:
            await self._fire(timers[0][1])
            return
        timeout = (timers[0][0] - now) if timers else None
        # The timeout means the timer is due; the loop fires it on its next turn.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.woken or workflow.info().is_continue_as_new_suggested(),
                timeout=timeout,
                timeout_summary=timers[0][1] if timers else None,
            )

    async def _screen(self) -> None:
        i = self.input
        await self._project(
            self._change("submitted", SYSTEM, detail={"request_id": i.request_id}, first=True)
        )
        line = ScreenLineInput(
            certificate_id=i.certificate_id,
            exporter_id=i.exporter_id,
            hts_code=i.hts_code,
            quantity_kg=i.quantity_kg,
            year=i.valid_from.year,
        )
        findings = [*i.party_findings, *await act.screen_line(line)]
        findings_detail = {"findings": [f.model_dump() for f in findings]}
        if any(f.hard for f in findings):
            target = self._check(Command.FAIL_SCREENING, SYSTEM)
            self.state.flags = findings
            change = self._change(
                "screening_failed", SYSTEM, to=target, detail=findings_detail, flags=True
            )
            reasons = "\n".join(f"- {f.message}" for f in findings if f.hard)
            self._mail("certificate_rejected", "exporter", reasons=reasons, by_screening="yes")
        else:
            target = self._check(Command.PASS_SCREENING, SYSTEM)
            now = workflow.now()
            self.state.flags = findings
            start_review_clock(self.state, now)
            self.state.task = TaskWrite(
                task_id=str(workflow.uuid4()),
                kind=TaskKind.REVIEW,
                state=TaskState.OPEN,
                due_at=review_deadline(self.state, i.timers.review_escalation, now),
            )
            change = self._change(
                "screening_passed", SYSTEM, to=target, detail=findings_detail, task=True, flags=True
            )
            flags = "\n".join(f"- {f.message}" for f in findings)
            self._mail("review_task_created", "certifier", flags=flags)
        await self._project(change)

    async def _fire(self, timer: Timer) -> None:
        s, now = self.state, workflow.now()
        if timer is Timer.REVIEW_REMINDER:
            s.review_reminded = True
            change = self._change(timer, SYSTEM)
            waited = duration(review_elapsed(s, now))
            self._mail("review_reminder", "certifier", waited=waited)
        elif timer is Timer.REVIEW_ESCALATED:
            s.review_escalated = True
            if s.task is not None:
                s.task.escalated = True
            change = self._change(timer, SYSTEM, task=True)
            self._mail("review_escalated", "certifier")
        elif timer is Timer.INFO_REMINDER:
            s.info_reminded = True
            change = self._change(timer, SYSTEM)
            self._mail("info_reminder", "exporter")
        else:
            target = self._check(Command.LAPSE, SYSTEM)
            change = self._change(timer, SYSTEM, to=target, detail={"question": s.info_question})
            self._mail("info_lapsed", "exporter")
        await self._project(change)

    # The updates. Each validator and handler runs the same check; the handler's own check is
    # what keeps two updates accepted in one workflow task from both winning.

    @workflow.update(name=CLAIM)
    async def claim(self, cmd: ClaimInput) -> CommandResult:
        self._check(Command.CLAIM, cmd.actor, cmd.task_id)
        task = self.state.task
        assert task is not None
        if task.assignee_id == cmd.actor.user_id:
            return self._result()  # claiming what one holds already changes nothing
        task.state, task.assignee_id = TaskState.CLAIMED, cmd.actor.user_id
        await self._project(
            self._change("claimed", cmd.actor, task=True, detail={"task_id": task.task_id})
        )
        return self._result()

    @claim.validator
    def _validate_claim(self, cmd: ClaimInput) -> None:
        self._check(Command.CLAIM, cmd.actor, cmd.task_id)

    @workflow.update(name=RELEASE)
    async def release(self, cmd: ReleaseInput) -> CommandResult:
        self._check(Command.RELEASE, cmd.actor, cmd.task_id)
        task = self.state.task
        assert task is not None
        task.state, task.assignee_id = TaskState.OPEN, None
        await self._project(
            self._change("released", cmd.actor, task=True, detail={"task_id": task.task_id})
        )
        return self._result()

    @release.validator
    def _validate_release(self, cmd: ReleaseInput) -> None:
        self._check(Command.RELEASE, cmd.actor, cmd.task_id)

    @workflow.update(name=DECIDE)
    async def decide(self, cmd: DecideInput) -> CommandResult:
        target = self._check(DECISIONS[cmd.decision], cmd.actor)
        s, now = self.state, workflow.now()
        assert s.task is not None
        s.task.state = TaskState.CLOSED
        stop_review_clock(s, now)
        detail = {"comment": cmd.comment}
        if cmd.decision == "approve":
            change = self._change("approved", cmd.actor, to=target, detail=detail, task=True)
        elif cmd.decision == "reject":
            change = self._change("rejected", cmd.actor, to=target, detail=detail, task=True)
            self._mail("certificate_rejected", "exporter", reasons=cmd.comment, by_screening="no")
        else:
            s.info_requested_at, s.info_requested_by = now, cmd.actor.user_id
            s.info_question, s.info_reminded = cmd.comment, False
            change = self._change("info_requested", cmd.actor, to=target, detail=detail, task=True)
            self._mail("info_requested", "exporter")
        await self._project(change)
        return self._result()

    @decide.validator
    def _validate_decide(self, cmd: DecideInput) -> None:
        self._check(DECISIONS[cmd.decision], cmd.actor)

    @workflow.update(name=ANSWER)
    async def answer(self, cmd: AnswerInput) -> CommandResult:
        target = self._check(Command.ANSWER, cmd.actor)
        s, now = self.state, workflow.now()
        start_review_clock(s, now)
        s.info_requested_at = None
        s.task = TaskWrite(
            task_id=str(workflow.uuid4()),
            kind=TaskKind.REVIEW,
            state=TaskState.CLAIMED if s.info_requested_by else TaskState.OPEN,
            assignee_id=s.info_requested_by,
            due_at=review_deadline(s, self.input.timers.review_escalation, now),
            escalated=s.review_escalated,
        )
        change = self._change(
            "answered", cmd.actor, to=target, detail={"message": cmd.message}, task=True
        )
        self._mail("info_answered", "certifier", message=cmd.message)
        await self._project(change)
        return self._result()

    @answer.validator
    def _validate_answer(self, cmd: AnswerInput) -> None:
        self._check(Command.ANSWER, cmd.actor)

    @workflow.update(name=WITHDRAW)
    async def withdraw(self, cmd: WithdrawInput) -> CommandResult:
        target = self._check(Command.WITHDRAW, cmd.actor)
        s = self.state
        stop_review_clock(s, workflow.now())
        open_task = s.task is not None and s.task.state is not TaskState.CLOSED
        if s.task is not None:
            s.task.state = TaskState.CLOSED
        change = self._change(
            "withdrawn", cmd.actor, to=target, detail={"reason": cmd.reason}, task=open_task
        )
        await self._project(change)
        return self._result()

    @withdraw.validator
    def _validate_withdraw(self, cmd: WithdrawInput) -> None:
        self._check(Command.WITHDRAW, cmd.actor)
