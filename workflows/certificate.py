"""CertificateWorkflow: the life of one certificate, from screening to a terminal state.

State lives here (DESIGN 4.1); every change is projected to the database before the update that
caused it returns (4.2). Update handlers change the state before their first await, so a second
update validated right after already sees the first one. Mails are queued by whoever changes the
state and sent by the main loop, so an update never waits for SMTP.

The updates live in mixins by stage of life: review (`_review`), the importer's use
(`_customs`), reconciliation (`_reconciliation`) and the certifier's corrections
(`_correction`); issuance and delivery are steps of the main loop (`_issuance`).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.lifecycle import Command
    from domain.model import Status, TaskKind, TaskState
    from domain.screening import FINDINGS_DETAIL
    from workflows import _activities as act
    from workflows._certificate_rules import (
        ISSUED_LIFE_TIMERS,
        Timer,
        awaits_confirmation,
        due_timers,
        duration,
        review_deadline,
        review_elapsed,
        start_review_clock,
    )
    from workflows._correction import CorrectionUpdates
    from workflows._customs import CustomsUpdates
    from workflows._failures import ACTIVITY_FAILED, screening_unavailable
    from workflows._issuance import IssuanceSteps
    from workflows._reconciliation import ReconciliationUpdates
    from workflows._review import ReviewUpdates
    from workflows.contracts import CERTIFICATE_WORKFLOW, SYSTEM
from workflows.payloads import CertificateInput, ScreenLineInput, TaskWrite

# The server suggests continue-as-new (by default at about 4,000 events or 4 MB); this backstop,
# for a server configured never to, keeps a history far below the hard limit of 51,200 events.
HISTORY_EVENTS_LIMIT = 10_000
# A timer far in the future is slept in steps: a certificate valid to the end of the calendar
# must not ask the server for a timer longer than it keeps.
LONGEST_WAIT = timedelta(days=365)
ZERO = timedelta(0)
ISSUANCE_PATCH = "issuance"


@workflow.defn(name=CERTIFICATE_WORKFLOW, sandboxed=True)
class CertificateWorkflow(
    ReviewUpdates, CustomsUpdates, ReconciliationUpdates, CorrectionUpdates, IssuanceSteps
):
    @workflow.init
    def __init__(self, input: CertificateInput) -> None:
        self._setup(input)

    @workflow.run
    async def run(self, input: CertificateInput) -> Status:
        self._decide_mail_mode()
        if input.state is None:
            if input.replaces_id is None:
                await self._screen()
            else:
                await self._begin_replacement()
        while True:
            self.woken = False
            await self._mail_step()
            await self._stop_moot_delivery()
            if self.background and self._continue_as_new_due():
                await self._continue_as_new()
            # Workflows approved before issuance existed wait, as that version did.
            if self.state.status is Status.APPROVED and (
                self.lean or workflow.patched(ISSUANCE_PATCH)
            ):
                await self._issue()
                continue
            if self.state.status is Status.ISSUED and await self._delivery_step():
                continue
            if self._finished():
                break
            if self._continue_as_new_due():
                await self._continue_as_new()
            await self._wait_for_next_timer()
        self.parked = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._stop_moot_delivery()
        await self._flush_mail()
        if self.lean:
            self._sync_search_attributes()
        return self.state.status

    async def _continue_as_new(self) -> None:
        self.parked = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.background:
            await self._stop_mail()
        if self.lean:
            self._sync_search_attributes()
        workflow.continue_as_new(self._handover())

    def _finished(self) -> bool:
        return self.state.status.is_terminal and not awaits_confirmation(self.state)

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_EVENTS_LIMIT
        )

    def _handover(self) -> CertificateInput:
        """What the next run starts from: the input, and the state instead of a history."""
        return self.input.model_copy(update={"state": self.state})

    async def _wait_for_next_timer(self) -> None:
        now = workflow.now()
        timers = due_timers(self.state, self.input, now)
        if timers and timers[0][0] <= now and not self.replacing:
            await self._fire(timers[0][1])
            return
        timeout = min(timers[0][0] - now, LONGEST_WAIT) if timers else None
        if self.lean:
            await self._wait_lean(timeout if timeout is None or timeout > ZERO else None, timers)
            return
        # The timeout means the timer is due; the loop fires it on its next turn.
        self.parked = True
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.woken or self._continue_as_new_due() or self._mail_done(),
                timeout=timeout if timeout is None or timeout > ZERO else None,
                timeout_summary=timers[0][1] if timers else None,
            )
        self.parked = False

    async def _wait_lean(
        self, timeout: timedelta | None, timers: list[tuple[datetime, Timer]]
    ) -> None:
        """Wait as `_wait_for_next_timer`, keeping the timer already started while its deadline
        stands: a claim or a mail sent does not cost a cancelled timer and a new one. A deadline
        beyond LONGEST_WAIT is slept towards in steps, each kept the same way."""
        self._sync_search_attributes()
        deadline = timers[0][0] if timers and timeout is not None else None
        if deadline != self.alarm_at:
            if self.alarm is not None:
                self.alarm.cancel()
            self.alarm, self.alarm_at = None, deadline
            if timeout is not None:
                summary = timers[0][1] if timers else None
                self.alarm = asyncio.create_task(workflow.sleep(timeout, summary=summary))
        alarm = self.alarm
        self.parked = True
        await workflow.wait_condition(
            lambda: (
                self.woken
                or self._continue_as_new_due()
                or self._mail_done()
                or (alarm is not None and alarm.done())
            )
        )
        self.parked = False
        if alarm is not None and alarm.done():
            # Rung: the loop fires the timer on its next turn, and the next wait starts anew.
            self.alarm, self.alarm_at = None, None

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
        try:
            line_findings = await act.screen_line(line, local=self.lean)
        except ACTIVITY_FAILED as err:
            if not self.background:
                raise
            line_findings = [screening_unavailable("R4", err)]
        findings = [*i.party_findings, *line_findings]
        findings_detail = {FINDINGS_DETAIL: [f.model_dump(mode="json") for f in findings]}
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
        if timer in ISSUED_LIFE_TIMERS:
            await self._fire_issued_life(timer)
            return
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

    async def _fire_issued_life(self, timer: Timer) -> None:
        if timer is Timer.ACKNOWLEDGEMENT_REMINDER:
            await self._remind_acknowledgement()
        elif timer is Timer.RECONCILIATION_REQUESTED:
            await self._request_reconciliation()
        else:
            await self._expire()
