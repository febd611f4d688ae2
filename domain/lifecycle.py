"""The certificate state machine of DESIGN 3, as data, and the one function that applies it.

`transition` answers three questions in a fixed order, each with its own error:
who may give this command at all (Forbidden), does the state allow it now (Conflict), and do
the command's own guards hold (Conflict, e.g. a task someone else holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import Conflict, Forbidden, Invalid
from domain.model import Actor, Awaiting, Reconciliation, Role, Status


class Command(StrEnum):
    PASS_SCREENING = "pass_screening"  # a command's name, not a password # nosec B105
    FAIL_SCREENING = "fail_screening"
    CLAIM = "claim"
    RELEASE = "release"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    ANSWER = "answer"
    WITHDRAW = "withdraw"
    LAPSE = "lapse"
    ISSUE = "issue"
    DELIVER = "deliver"
    ACKNOWLEDGE = "acknowledge"
    RECORD_ENTRY = "record_entry"
    EXHAUST = "exhaust"
    REPORT_ACTUALS = "report_actuals"
    CONFIRM_ACTUALS = "confirm_actuals"
    VOID = "void"
    REPLACE = "replace"
    EXPIRE = "expire"


class Party(StrEnum):
    """The relation an actor must have to the certificate to give a command."""

    SYSTEM = "system"
    ISSUING_CERTIFIER = "issuing_certifier"
    EXPORTER = "exporter"
    IMPORTER = "importer"


S = Status
# An issued certificate is in force before the importer's mail goes out, and stays in force if it
# never can (the exporter hands the document over): it is used, reported on and expires as a
# delivered one does.
IN_FORCE = (S.ISSUED, S.DELIVERED)
# A reconciliation task (R8) lives on after the certificate was used up or expired.
RECONCILABLE = (*IN_FORCE, S.USED, S.EXPIRED)

# command -> (who, {from state: to state})
TRANSITIONS: dict[Command, tuple[Party, dict[Status, Status]]] = {
    Command.PASS_SCREENING: (Party.SYSTEM, {S.SUBMITTED: S.IN_REVIEW}),
    Command.FAIL_SCREENING: (Party.SYSTEM, {S.SUBMITTED: S.REJECTED}),
    # A review task while in review; a reconciliation task once in force, and after.
    Command.CLAIM: (Party.ISSUING_CERTIFIER, {s: s for s in (S.IN_REVIEW, *RECONCILABLE)}),
    Command.RELEASE: (Party.ISSUING_CERTIFIER, {s: s for s in (S.IN_REVIEW, *RECONCILABLE)}),
    Command.APPROVE: (Party.ISSUING_CERTIFIER, {S.IN_REVIEW: S.APPROVED}),
    Command.REJECT: (Party.ISSUING_CERTIFIER, {S.IN_REVIEW: S.REJECTED}),
    Command.REQUEST_INFO: (Party.ISSUING_CERTIFIER, {S.IN_REVIEW: S.INFO_REQUESTED}),
    Command.ANSWER: (Party.EXPORTER, {S.INFO_REQUESTED: S.IN_REVIEW}),
    Command.WITHDRAW: (
        Party.EXPORTER,
        {S.IN_REVIEW: S.WITHDRAWN, S.INFO_REQUESTED: S.WITHDRAWN},
    ),
    Command.LAPSE: (Party.SYSTEM, {S.INFO_REQUESTED: S.WITHDRAWN}),
    Command.ISSUE: (Party.SYSTEM, {S.APPROVED: S.ISSUED}),
    Command.DELIVER: (Party.SYSTEM, {S.ISSUED: S.DELIVERED}),
    Command.ACKNOWLEDGE: (Party.IMPORTER, {s: s for s in IN_FORCE}),
    Command.RECORD_ENTRY: (Party.IMPORTER, {s: s for s in IN_FORCE}),
    Command.EXHAUST: (Party.SYSTEM, dict.fromkeys(IN_FORCE, S.USED)),
    Command.REPORT_ACTUALS: (Party.EXPORTER, {s: s for s in IN_FORCE}),
    Command.CONFIRM_ACTUALS: (Party.ISSUING_CERTIFIER, {s: s for s in RECONCILABLE}),
    Command.VOID: (Party.ISSUING_CERTIFIER, dict.fromkeys(IN_FORCE, S.VOIDED)),
    Command.REPLACE: (Party.ISSUING_CERTIFIER, dict.fromkeys(IN_FORCE, S.REPLACED)),
    Command.EXPIRE: (Party.SYSTEM, dict.fromkeys(IN_FORCE, S.EXPIRED)),
}

# Whose move it is in each state that is not terminal (DESIGN 3).
AWAITING = {
    S.SUBMITTED: Awaiting.SYSTEM,
    S.IN_REVIEW: Awaiting.CERTIFIER,
    S.INFO_REQUESTED: Awaiting.EXPORTER,
    S.APPROVED: Awaiting.SYSTEM,
    S.ISSUED: Awaiting.SYSTEM,
    S.DELIVERED: Awaiting.IMPORTER,
}


def awaiting_for(status: Status, reconciliation: Reconciliation | str | None = None) -> Awaiting:
    """Who acts next: a report to confirm outlives the certificate; one asked for is owed by
    the exporter while the certificate is in force."""
    if reconciliation == Reconciliation.REPORTED:
        return Awaiting.CERTIFIER
    if status.is_terminal:
        return Awaiting.NONE
    if status in IN_FORCE and reconciliation == Reconciliation.REQUESTED:
        return Awaiting.EXPORTER
    return AWAITING.get(status, Awaiting.SYSTEM)


# Commands that need the actor to hold the certificate's current task.
NEEDS_CLAIM = frozenset(
    {Command.APPROVE, Command.REJECT, Command.REQUEST_INFO, Command.CONFIRM_ACTUALS}
)

# A rejection must say why and an information request must say what (DESIGN 3 and 6).
NEEDS_COMMENT = frozenset({Command.REJECT, Command.REQUEST_INFO})

ROLE_OF_PARTY = {
    Party.ISSUING_CERTIFIER: Role.CERTIFIER,
    Party.EXPORTER: Role.EXPORTER,
    Party.IMPORTER: Role.IMPORTER,
}


@dataclass(frozen=True)
class Parties:
    certifier_id: str
    exporter_id: str
    importer_id: str

    def organisation_of(self, party: Party) -> str | None:
        return {
            Party.ISSUING_CERTIFIER: self.certifier_id,
            Party.EXPORTER: self.exporter_id,
            Party.IMPORTER: self.importer_id,
        }.get(party)

    def includes(self, organisation_id: str | None) -> bool:
        return organisation_id in (self.certifier_id, self.exporter_id, self.importer_id)


@dataclass(frozen=True)
class Situation:
    """What the state machine needs to know about one certificate right now."""

    status: Status
    parties: Parties
    task_assignee: str | None = None


def may_act(actor: Actor, party: Party, parties: Parties) -> bool:
    if party is Party.SYSTEM:
        return actor.role is Role.SYSTEM
    return actor.role is ROLE_OF_PARTY[party] and actor.organisation_id == parties.organisation_of(
        party
    )


def transition(situation: Situation, command: Command, actor: Actor) -> Status:
    """The state after `command`, or the reason it is refused."""
    party, moves = TRANSITIONS[command]
    if not may_act(actor, party, situation.parties):
        raise Forbidden(f"{command} is not yours to do on this certificate", code="forbidden")
    target = moves.get(situation.status)
    if target is None:
        raise Conflict(
            f"{command} is not possible while the certificate is {situation.status}",
            code="invalid_state",
        )
    holder = situation.task_assignee
    if command is Command.CLAIM and holder not in (None, actor.user_id):
        raise Conflict("the task is claimed by another certifier", code="task_taken")
    if command is Command.RELEASE and holder != actor.user_id:
        code = "task_not_claimed" if holder is None else "task_taken"
        raise Conflict("you do not hold the task", code=code)
    if command in NEEDS_CLAIM and holder != actor.user_id:
        if holder is None:
            raise Conflict("claim the task before deciding", code="task_not_claimed")
        raise Conflict("the task is claimed by another certifier", code="task_taken")
    return target


def check_comment(command: Command, comment: str) -> None:
    """Invalid when `command` needs a comment and `comment` is blank."""
    if command in NEEDS_COMMENT and not comment.strip():
        raise Invalid(
            f"a comment is required to {command.replace('_', ' ')}",
            code="comment_required",
            field="comment",
        )
