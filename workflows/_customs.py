"""The importer's part of a delivered certificate: acknowledgement and customs entries (R7).

An entry is identified by its (entry number, line): the same one again is a repeat, answered
with what is recorded and writing nothing, in any state, so a broker's retry after the
certificate was used up still gets its answer. A new entry goes through `domain.customs`.
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.customs import EntryOutcome, Validity, record_entry
    from domain.errors import Conflict, DomainError
    from domain.lifecycle import Command, Party
    from workflows._certificate_base import CertificateMachinery, refusal
    from workflows.contracts import (
        ACKNOWLEDGE,
        RECORD_ENTRY,
        SYSTEM,
        AcknowledgeInput,
        CommandResult,
        EntryLine,
        EntryResult,
        RecordEntryInput,
    )
from workflows.payloads import EntryWrite


def entry_key(entry: EntryLine) -> str:
    return f"{entry.entry_number}/{entry.line_number}"


class CustomsUpdates(CertificateMachinery):
    @workflow.update(name=ACKNOWLEDGE)
    async def acknowledge(self, cmd: AcknowledgeInput) -> CommandResult:
        await self._checked(lambda: self._check(Command.ACKNOWLEDGE, cmd.actor))
        s = self.state
        if s.acknowledged_at is not None:
            await self._when_projected()
            return self._result()  # acknowledging twice is acknowledging once
        s.acknowledged_at, s.acknowledged_by = workflow.now(), cmd.actor.user_id
        await self._project(self._change("acknowledged", cmd.actor))
        return self._result()

    @acknowledge.validator
    def _validate_acknowledge(self, cmd: AcknowledgeInput) -> None:
        self._admit(lambda: self._check(Command.ACKNOWLEDGE, cmd.actor))

    @workflow.update(name=RECORD_ENTRY)
    async def record_entry(self, cmd: RecordEntryInput) -> EntryResult:
        if self._is_repeat(cmd):
            await self._when_projected()
            return self._entry_result(repeat=True)
        outcome = await self._checked(lambda: self._entry_outcome(cmd))
        s = self.state
        key = entry_key(cmd.entry)
        self.entry_keys.add(key)
        s.entry_keys.append(key)
        s.remaining_kg = outcome.remaining_kg
        detail = {
            "entry_number": cmd.entry.entry_number,
            "line_number": cmd.entry.line_number,
            "quantity_kg": str(cmd.entry.quantity_kg),
            "remaining_kg": str(outcome.remaining_kg),
        }
        recorded = self._change(
            "entry_recorded",
            cmd.actor,
            detail=detail,
            entry=EntryWrite(entry=cmd.entry, recorded_by=cmd.actor.user_id),
            wake=False,
        )
        used = None
        if outcome.used:
            target = self._check(Command.EXHAUST, SYSTEM)
            used = self._change("used", SYSTEM, to=target, detail={"entry": key})
        await self._project_grouped(recorded, *([used] if used else []))
        return self._entry_result(repeat=False)

    @record_entry.validator
    def _validate_record_entry(self, cmd: RecordEntryInput) -> None:
        if not self._is_repeat(cmd):
            self._admit(lambda: self._entry_outcome(cmd))

    def _is_repeat(self, cmd: RecordEntryInput) -> bool:
        self._check_party(Party.IMPORTER, cmd.actor, "recording a customs entry")
        return entry_key(cmd.entry) in self.entry_keys

    def _entry_outcome(self, cmd: RecordEntryInput) -> EntryOutcome:
        if self.replacing:
            # The replacement is made for the certificate as it is: no entry may use it up now.
            raise refusal(
                Conflict("a replacement of this certificate is being made", code="replacing")
            )
        try:
            return record_entry(
                status=self.state.status,
                coverage=self.input.coverage,
                remaining_kg=self.state.remaining_kg or Decimal(0),
                quantity_kg=cmd.entry.quantity_kg,
                entry_date=cmd.entry.entry_date,
                validity=Validity(self.input.valid_from, self.input.valid_until),
                now=workflow.now(),
            )
        except DomainError as err:
            raise refusal(err) from None

    def _entry_result(self, *, repeat: bool) -> EntryResult:
        return EntryResult(
            certificate_id=self.input.certificate_id,
            status=self.state.status,
            remaining_kg=self.state.remaining_kg or Decimal(0),
            repeat=repeat,
        )

    async def _remind_acknowledgement(self) -> None:
        self.state.acknowledgement_reminded = True
        change = self._change("acknowledgement_reminder", SYSTEM)
        self._notify("acknowledgement_reminder", "importer")
        await self._project(change)
