"""The machinery under CertificateWorkflow: guarding commands, recording changes, queueing mail.

Every change goes through `_change` (state first, sequence number, search attributes) and then
`_project` (the database write); the workflow class only decides which change to make.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.calendar import later
    from domain.errors import Conflict, DomainError, Forbidden
    from domain.lifecycle import (
        Command,
        Parties,
        Party,
        Situation,
        awaiting_for,
        may_act,
        transition,
    )
    from domain.model import Role, Status, TaskState
    from workflows import _activities as act
    from workflows._certificate_rules import when
    from workflows.contracts import SA_AWAITING, SA_STATUS, ActorRef, CommandResult, FindingRecord
from workflows.payloads import (
    ActualsWrite,
    CertificateInput,
    CertificateState,
    CertificateWrite,
    EntryWrite,
    EventWrite,
    MailInput,
    ProjectionInput,
)

T = TypeVar("T")
Recipient = Literal["certifier", "exporter", "importer"]
# Changes projected in one transaction at most; beyond it the payload grows for little gain.
GROUP_LIMIT = 200
# Refusals that may be the workflow catching up with what the database already shows.
CATCHING_UP = frozenset({"invalid_state", "task_not_current"})
# How long an update refused only for that waits for the main loop before it is refused.
CATCH_UP_LIMIT = timedelta(seconds=10)


def _catching_up(err: ApplicationError) -> bool:
    details = err.details
    code = details[0].get("code") if details and isinstance(details[0], dict) else None
    return code in CATCHING_UP


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
    # The same keys as `state.entry_keys`, for a constant-time look-up on every entry.
    entry_keys: set[str]
    # Changes waiting for `_project_grouped`'s next transaction, and the task that writes them.
    unprojected: list[tuple[list[ProjectionInput], asyncio.Future[None]]]
    projector: asyncio.Task[None] | None
    # The highest sequence number known to be in the database.
    projected_seq: int
    # Mail goes out beside the main loop, never in its way (workflows._mailing); histories
    # recorded before that replay the old way, one mail after the other.
    background: bool
    sending: dict[str, workflow.ActivityHandle[bool]]
    delivering: workflow.ActivityHandle[Any] | None
    # A replacement is being created: corrections and timers wait until it is done or undone.
    replacing: bool
    # Since the `lean-lifecycle` patch (workflows._mailing): database work as local activities,
    # one search-attribute upsert when the main loop waits, and one timer kept while its
    # deadline stands. Histories recorded before it replay the old way.
    lean: bool
    # Since revision 5 (workflows.contracts), lean, and each notification mail tried once
    # inside the workflow task that queued it (workflows._mailing); the background activity
    # only when that try fails. Until `inline_paused_until` after a failed try, none is tried.
    inline: bool
    inline_paused_until: datetime | None
    alarm: asyncio.Task[None] | None
    alarm_at: datetime | None
    # The main loop is parked in its wait: everything the workflow decided is in its history.
    # Until then a step's local activities may have written the database ahead of the history
    # (a workflow task lost with its worker is run again from the last one recorded), and a
    # client may already act on what it read there: see `_admit` and `_checked`.
    parked: bool

    def _setup(self, input: CertificateInput) -> None:
        self.input = input
        if input.state is not None:
            self.state = input.state.model_copy(deep=True)
        else:
            # A replacement is the issuing certifier's own correction: it starts approved.
            first = Status.APPROVED if input.replaces_id else Status.SUBMITTED
            self.state = CertificateState(status=first)
        self.entry_keys = set(self.state.entry_keys)
        self.unprojected, self.projector = [], None
        self.projected_seq = self.state.seq
        self.woken = False
        self.search_attributes = None
        self.background, self.sending, self.delivering = False, {}, None
        self.replacing = False
        self.lean, self.alarm, self.alarm_at = False, None, None
        self.inline, self.inline_paused_until = False, None
        self.parked = False

    @property
    def _parties(self) -> Parties:
        return Parties(self.input.certifier_id, self.input.exporter_id, self.input.importer_id)

    def _check(self, command: Command, actor: ActorRef, task_id: str | None = None) -> Status:
        """The state `command` leads to, or the refusal as a non-retryable ApplicationError."""
        task = self.state.task
        live = task is not None and task.state is not TaskState.CLOSED
        # A closed task is nobody's any more: after approval the reviewer holds nothing.
        assignee = task.assignee_id if task is not None and live else None
        try:
            target = transition(
                Situation(self.state.status, self._parties, assignee), command, actor.to_actor()
            )
            if task_id is not None and (task is None or task.task_id != task_id or not live):
                raise Conflict(
                    "this is not the certificate's current task", code="task_not_current"
                )
        except DomainError as err:
            raise refusal(err) from None
        return target

    def _admit(self, check: Callable[[], object]) -> None:
        """An update's validator: `check`, except that while the main loop is still at work a
        refusal for the state or the task is admitted, and the handler's `_checked` decides.

        A worker that dies after a step's local activities wrote the database, before its
        workflow task was recorded, leaves a client reading a review task that the workflow,
        run again, has yet to create. Its claim must wait for the step, not be refused.
        Refused updates leave no trace in a history, so this replays as before."""
        try:
            check()
        except ApplicationError as err:
            if self.parked or not _catching_up(err):
                raise

    async def _checked(self, check: Callable[[], T]) -> T:
        """An update's handler: its own `check`; if that refuses the command only because the
        main loop is still at work, wait for the loop to park (at most CATCH_UP_LIMIT) and
        check again. A command the check passes does not wait at all, so every update
        recorded before this replays unchanged."""
        try:
            return check()
        except ApplicationError as err:
            if self.parked or not _catching_up(err):
                raise
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self.parked, timeout=CATCH_UP_LIMIT, timeout_summary="catching up"
            )
        return check()

    def _flag(self, rule: str, code: str, message: str) -> None:
        """Raise a flag for the certifier (and the exporter), in place of one of the same code."""
        flag = FindingRecord(rule=rule, code=code, message=message, hard=False)
        self.state.flags = [*(f for f in self.state.flags if f.code != code), flag]

    def _check_party(self, party: Party, actor: ActorRef, what: str) -> None:
        """Only who may give a command, whatever the state (a repeated entry, say)."""
        if not may_act(actor.to_actor(), party, self._parties):
            raise refusal(Forbidden(f"{what} is not yours to do on this certificate"))

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
        entry: EntryWrite | None = None,
        actuals: ActualsWrite | None = None,
        wake: bool = True,
    ) -> ProjectionInput:
        """Record a change already made to the task or flags, moving to `to` if given.

        `wake=False` is for changes that touch neither timers nor mail (a customs entry), so
        thousands of them do not cost the main loop a timer each.
        """
        before = self.state.status
        if to is not None:
            self.state.status = to
        self.state.seq += 1
        self.woken = self.woken or wake or to is not None
        awaiting = awaiting_for(self.state.status, self.state.reconciliation)
        if not self.lean:
            self._sync_search_attributes()
        return ProjectionInput(
            workflow_id=workflow.info().workflow_id,
            run_id=workflow.info().run_id,
            seq=self.state.seq,
            certificate_id=self.input.certificate_id,
            at=workflow.now(),
            status=self.state.status,
            awaiting=awaiting,
            flags=list(self.state.flags) if flags else None,
            task=self.state.task.model_copy() if task and self.state.task else None,
            certificate=self._issued_columns(),
            entry=entry,
            actuals=actuals,
            event=EventWrite(
                action=action,
                actor=actor,
                from_status=None if first else before,
                to_status=self.state.status,
                detail=detail or {},
            ),
        )

    def _sync_search_attributes(self) -> None:
        """Tell the server the status and whose move it is, if they changed since it was told.

        Before the lean patch, on every change; since, when the main loop is about to wait, so
        the changes of one workflow task (approved, then issued) cost one upsert."""
        status = self.state.status
        awaiting = awaiting_for(status, self.state.reconciliation)
        if self.search_attributes is None and self.lean:
            known = workflow.info().typed_search_attributes
            self.search_attributes = (known.get(SA_STATUS) or "", known.get(SA_AWAITING) or "")
        if self.search_attributes != (status, awaiting):
            self.search_attributes = (status, awaiting)
            workflow.upsert_search_attributes(
                [SA_STATUS.value_set(status), SA_AWAITING.value_set(awaiting)]
            )

    def _issued_columns(self) -> CertificateWrite | None:
        """All the columns of the issued life, every time: changes projected concurrently may
        land out of order, and only the newest write of the row is kept."""
        s = self.state
        if s.issued_at is None:
            return None
        return CertificateWrite(
            issued_at=s.issued_at,
            remaining_kg=s.remaining_kg,
            acknowledged_at=s.acknowledged_at,
            acknowledged_by=s.acknowledged_by,
            reconciliation=s.reconciliation,
            replaced_by_id=s.replaced_by_id,
        )

    async def _project(self, change: ProjectionInput) -> None:
        await act.project_transition(change, local=self.lean)
        self.projected_seq = max(self.projected_seq, change.seq)

    async def _when_projected(self) -> None:
        """Wait until every change made so far is in the database: a command that changes
        nothing (a repeated click) must not answer before the one it repeats is readable."""
        seen = self.state.seq
        await workflow.wait_condition(lambda: self.projected_seq >= seen)

    async def _project_grouped(self, *changes: ProjectionInput) -> None:
        """Project `changes` with those of other updates waiting at the same time, in one
        activity and one transaction (group commit): an importer's broker may send hundreds
        of entries at once, and each returns once its own write is in the database."""
        written = asyncio.get_running_loop().create_future()
        self.unprojected.append((list(changes), written))
        if self.projector is None or self.projector.done():
            self.projector = asyncio.create_task(self._project_waiting())
        await written

    async def _project_waiting(self) -> None:
        while self.unprojected:
            group: list[tuple[list[ProjectionInput], asyncio.Future[None]]] = []
            while self.unprojected and sum(len(c) for c, _ in group) < GROUP_LIMIT:
                group.append(self.unprojected.pop(0))
            try:
                await act.project_transitions(
                    [c for changes, _ in group for c in changes], local=self.lean
                )
            except Exception as exc:  # a non-retryable failure: every update waiting learns it
                for _, written in group:
                    written.set_exception(exc)
            else:
                self.projected_seq = max(
                    [self.projected_seq, *(c.seq for changes, _ in group for c in changes)]
                )
                for _, written in group:
                    written.set_result(None)

    def _mail(self, template: str, to: Literal["certifier", "exporter"], **extra: str) -> None:
        """Queue a mail for the main loop, keyed by the change that caused it."""
        key = f"{workflow.info().workflow_id}:{self.state.seq}:{template}"
        self.state.pending_mail.append(self._mail_input(key, template, to, extra))
        self.woken = True

    def _notify(self, template: str, to: Recipient, *, attach: bool = False, **extra: str) -> None:
        """Queue a mail of the issued life; its key names the recipient, as one change may
        tell the importer and copy the exporter with the same template."""
        key = self._mail_key(template, to)
        self.state.pending_mail.append(self._mail_input(key, template, to, extra, attach=attach))
        self.woken = True

    def _mail_key(self, template: str, to: Recipient) -> str:
        return f"{workflow.info().workflow_id}:{self.state.seq}:{template}:{to}"

    def _mail_input(
        self, key: str, template: str, to: Recipient, extra: dict[str, str], *, attach: bool = False
    ) -> MailInput:
        organisation, role = {
            "certifier": (self.input.certifier_id, Role.CERTIFIER),
            "exporter": (self.input.exporter_id, Role.EXPORTER),
            "importer": (self.input.importer_id, Role.IMPORTER),
        }[to]
        return MailInput(
            key=key,
            template=template,
            organisation_id=organisation,
            role=role,
            certificate_id=self.input.certificate_id,
            context=self._mail_context(extra),
            attach_document=attach,
        )

    def _mail_context(self, extra: dict[str, str]) -> dict[str, str]:
        task, s, i = self.state.task, self.state, self.input
        return {
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
                later(self.state.info_requested_at, self.input.timers.info_lapse)
                if self.state.info_requested_at
                else None
            ),
            "number": s.number or "",
            "coverage": i.coverage.value.replace("_", " "),
            "valid_from": i.valid_from.isoformat(),
            "valid_until": i.valid_until.isoformat() if i.valid_until else "",
            "remaining_kg": str(s.remaining_kg) if s.remaining_kg is not None else "",
            **extra,
        }

    async def _send_queued_mail(self) -> None:
        while self.state.pending_mail:
            await act.send_mail(self.state.pending_mail[0])
            self.state.pending_mail.pop(0)

    def _result(self) -> CommandResult:
        task = self.state.task
        return CommandResult(
            certificate_id=self.input.certificate_id,
            status=self.state.status,
            awaiting=awaiting_for(self.state.status, self.state.reconciliation),
            task_id=task.task_id if task else None,
            task_state=task.state if task else None,
            assignee=task.assignee_id if task else None,
        )
