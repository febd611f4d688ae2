"""The certifier's review (DESIGN 3): claim and release of the current task (a review task, or
later a reconciliation task), decide, and the exporter's answer and withdrawal.

Each validator and handler runs the same check; the handler's own check is what keeps two
updates accepted in one workflow task from both winning.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.errors import DomainError
    from domain.lifecycle import Command, check_comment
    from domain.model import TaskKind, TaskState
    from workflows._certificate_base import CertificateMachinery, refusal
    from workflows._certificate_rules import review_deadline, start_review_clock, stop_review_clock
    from workflows.contracts import (
        ANSWER,
        CLAIM,
        DECIDE,
        RELEASE,
        WITHDRAW,
        AnswerInput,
        ClaimInput,
        CommandResult,
        DecideInput,
        ReleaseInput,
        WithdrawInput,
    )
from workflows.payloads import TaskWrite

DECISIONS = {
    "approve": Command.APPROVE,
    "reject": Command.REJECT,
    "request_info": Command.REQUEST_INFO,
}


class ReviewUpdates(CertificateMachinery):
    @workflow.update(name=CLAIM)
    async def claim(self, cmd: ClaimInput) -> CommandResult:
        await self._checked(lambda: self._check(Command.CLAIM, cmd.actor, cmd.task_id))
        task = self.state.task
        assert task is not None
        if task.assignee_id == cmd.actor.user_id:
            await self._when_projected()
            return self._result()  # claiming what one holds already changes nothing
        task.state, task.assignee_id = TaskState.CLAIMED, cmd.actor.user_id
        await self._project(
            self._change("claimed", cmd.actor, task=True, detail={"task_id": task.task_id})
        )
        return self._result()

    @claim.validator
    def _validate_claim(self, cmd: ClaimInput) -> None:
        self._admit(lambda: self._check(Command.CLAIM, cmd.actor, cmd.task_id))

    @workflow.update(name=RELEASE)
    async def release(self, cmd: ReleaseInput) -> CommandResult:
        await self._checked(lambda: self._check(Command.RELEASE, cmd.actor, cmd.task_id))
        task = self.state.task
        assert task is not None
        task.state, task.assignee_id = TaskState.OPEN, None
        await self._project(
            self._change("released", cmd.actor, task=True, detail={"task_id": task.task_id})
        )
        return self._result()

    @release.validator
    def _validate_release(self, cmd: ReleaseInput) -> None:
        self._admit(lambda: self._check(Command.RELEASE, cmd.actor, cmd.task_id))

    @workflow.update(name=DECIDE)
    async def decide(self, cmd: DecideInput) -> CommandResult:
        # The comment was checked by the validator: it is the command's own, not the state's.
        # Updates recorded before that check was here replay through this handler unchanged.
        target = await self._checked(lambda: self._check(DECISIONS[cmd.decision], cmd.actor))
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
        self._admit(lambda: self._check_decision(cmd))

    def _check_decision(self, cmd: DecideInput) -> None:
        command = DECISIONS[cmd.decision]
        self._check(command, cmd.actor)
        try:
            check_comment(command, cmd.comment)
        except DomainError as err:
            raise refusal(err) from None

    @workflow.update(name=ANSWER)
    async def answer(self, cmd: AnswerInput) -> CommandResult:
        target = await self._checked(lambda: self._check(Command.ANSWER, cmd.actor))
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
        self._admit(lambda: self._check(Command.ANSWER, cmd.actor))

    @workflow.update(name=WITHDRAW)
    async def withdraw(self, cmd: WithdrawInput) -> CommandResult:
        target = await self._checked(lambda: self._check(Command.WITHDRAW, cmd.actor))
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
        self._admit(lambda: self._check(Command.WITHDRAW, cmd.actor))
