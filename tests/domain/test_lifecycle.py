"""The certificate state machine against DESIGN 3, for every state, command and kind of actor."""

from __future__ import annotations

import itertools

import pytest

from domain.errors import Conflict, Forbidden
from domain.lifecycle import (
    NEEDS_CLAIM,
    TRANSITIONS,
    Command,
    Parties,
    Party,
    Situation,
    transition,
)
from domain.model import TERMINAL, Actor, Role, Status

S, C, P = Status, Command, Party
RECONCILABLE = (S.ISSUED, S.DELIVERED, S.USED, S.EXPIRED)

# The "next" column of DESIGN 3, copied by hand: the test fails if the code drifts from the design.
DESIGN_NEXT: dict[Status, set[Status]] = {
    S.SUBMITTED: {S.IN_REVIEW, S.REJECTED},
    S.IN_REVIEW: {S.INFO_REQUESTED, S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.ISSUED},
    S.INFO_REQUESTED: {S.IN_REVIEW, S.WITHDRAWN},
    S.ISSUED: {S.DELIVERED, S.USED, S.EXPIRED, S.VOIDED, S.REPLACED},
    S.DELIVERED: {S.USED, S.EXPIRED, S.VOIDED, S.REPLACED},
    S.USED: set(),
    S.EXPIRED: set(),
    S.VOIDED: set(),
    S.REPLACED: set(),
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
}

# Every command by hand, with who gives it (DESIGN 3: only the issuing certifier decides, only the
# exporter answers or withdraws, only the importer acknowledges or records entries; timers and
# screening are the system's). Moves to the same state are actions that keep it.
EXPECTED: dict[Command, tuple[Party, dict[Status, Status]]] = {
    C.PASS_SCREENING: (P.SYSTEM, {S.SUBMITTED: S.IN_REVIEW}),
    C.FAIL_SCREENING: (P.SYSTEM, {S.SUBMITTED: S.REJECTED}),
    # Review tasks in review; reconciliation tasks (R8) once in force, used or expired.
    C.CLAIM: (P.ISSUING_CERTIFIER, {x: x for x in (S.IN_REVIEW, *RECONCILABLE)}),
    C.RELEASE: (P.ISSUING_CERTIFIER, {x: x for x in (S.IN_REVIEW, *RECONCILABLE)}),
    C.APPROVE: (P.ISSUING_CERTIFIER, {S.IN_REVIEW: S.APPROVED}),
    C.REJECT: (P.ISSUING_CERTIFIER, {S.IN_REVIEW: S.REJECTED}),
    C.REQUEST_INFO: (P.ISSUING_CERTIFIER, {S.IN_REVIEW: S.INFO_REQUESTED}),
    C.ANSWER: (P.EXPORTER, {S.INFO_REQUESTED: S.IN_REVIEW}),
    C.WITHDRAW: (P.EXPORTER, {S.IN_REVIEW: S.WITHDRAWN, S.INFO_REQUESTED: S.WITHDRAWN}),
    C.LAPSE: (P.SYSTEM, {S.INFO_REQUESTED: S.WITHDRAWN}),
    C.ISSUE: (P.SYSTEM, {S.APPROVED: S.ISSUED}),
    C.DELIVER: (P.SYSTEM, {S.ISSUED: S.DELIVERED}),
    # An issued certificate is in force before (or without) its delivery: DESIGN 3 lets it be
    # used and expire, and the importer may have it from the exporter.
    C.ACKNOWLEDGE: (P.IMPORTER, {S.ISSUED: S.ISSUED, S.DELIVERED: S.DELIVERED}),
    C.RECORD_ENTRY: (P.IMPORTER, {S.ISSUED: S.ISSUED, S.DELIVERED: S.DELIVERED}),
    C.EXHAUST: (P.SYSTEM, {S.ISSUED: S.USED, S.DELIVERED: S.USED}),
    C.REPORT_ACTUALS: (P.EXPORTER, {S.ISSUED: S.ISSUED, S.DELIVERED: S.DELIVERED}),
    # R8: the certifier confirms actuals even after the certificate was used up or expired.
    C.CONFIRM_ACTUALS: (P.ISSUING_CERTIFIER, {x: x for x in RECONCILABLE}),
    C.VOID: (P.ISSUING_CERTIFIER, {S.ISSUED: S.VOIDED, S.DELIVERED: S.VOIDED}),
    C.REPLACE: (P.ISSUING_CERTIFIER, {S.ISSUED: S.REPLACED, S.DELIVERED: S.REPLACED}),
    C.EXPIRE: (P.SYSTEM, {S.ISSUED: S.EXPIRED, S.DELIVERED: S.EXPIRED}),
}

PARTIES = Parties(certifier_id="cert-1", exporter_id="exp-1", importer_id="imp-1")
REVIEWER = Actor("alice", Role.CERTIFIER, "cert-1")
COLLEAGUE = Actor("bob", Role.CERTIFIER, "cert-1")
EXPORTER = Actor("eve", Role.EXPORTER, "exp-1")
IMPORTER = Actor("ivan", Role.IMPORTER, "imp-1")
SYSTEM = Actor.system()
RIGHT_ACTOR = {
    P.SYSTEM: SYSTEM,
    P.ISSUING_CERTIFIER: REVIEWER,
    P.EXPORTER: EXPORTER,
    P.IMPORTER: IMPORTER,
}

# Everyone who might try a command, and the one party each of them is (None: no party at all).
ACTORS: dict[str, tuple[Actor, Party | None]] = {
    "issuing certifier": (REVIEWER, P.ISSUING_CERTIFIER),
    "certifier of another organisation": (Actor("mal", Role.CERTIFIER, "cert-2"), None),
    "exporter": (EXPORTER, P.EXPORTER),
    "exporter of another organisation": (Actor("xe", Role.EXPORTER, "exp-2"), None),
    "importer": (IMPORTER, P.IMPORTER),
    "importer of another organisation": (Actor("xi", Role.IMPORTER, "imp-2"), None),
    "exporter role in the certifier's organisation": (Actor("odd", Role.EXPORTER, "cert-1"), None),
    "certifier role in the exporter's organisation": (Actor("odd", Role.CERTIFIER, "exp-1"), None),
    "administrator": (Actor("root", Role.ADMIN, None), None),
    "system": (SYSTEM, P.SYSTEM),
    "person posing as system": (Actor("system", Role.ADMIN, None), None),
}


def situation(status: Status, command: Command, assignee: str | None = None) -> Situation:
    """A certificate in `status` whose review task is held so that `command`'s guards pass."""
    if assignee is None and (command is C.RELEASE or command in NEEDS_CLAIM):
        assignee = REVIEWER.user_id
    return Situation(status=status, parties=PARTIES, task_assignee=assignee)


def test_transition_table_is_the_hand_written_one():
    assert TRANSITIONS == EXPECTED


def test_state_changes_are_exactly_the_design_next_column():
    changes = {
        (source, target)
        for _, moves in TRANSITIONS.values()
        for source, target in moves.items()
        if source != target
    }
    designed = {(source, target) for source, nexts in DESIGN_NEXT.items() for target in nexts}
    assert changes == designed


def test_terminal_states_are_those_without_a_next_state():
    # `terminated` is no state of the lifecycle: an administrator's remedy ends the workflow
    # from outside it (DESIGN 5, admin), and no command leads there or away.
    ended = {status for status, nexts in DESIGN_NEXT.items() if not nexts}
    assert ended | {Status.TERMINATED} == TERMINAL
    assert Status.TERMINATED not in DESIGN_NEXT
    assert all(status.is_terminal == (status in TERMINAL) for status in Status)


def test_no_command_leads_out_of_a_terminal_state():
    for _, moves in TRANSITIONS.values():
        for source, target in moves.items():
            assert source not in TERMINAL or target == source


@pytest.mark.parametrize(
    ("status", "command"),
    list(itertools.product(Status, Command)),
    ids=lambda value: str(value),
)
def test_every_command_in_every_state_moves_as_designed(status: Status, command: Command):
    party, moves = EXPECTED[command]
    actor = RIGHT_ACTOR[party]
    if status in moves:
        assert transition(situation(status, command), command, actor) is moves[status]
    else:
        with pytest.raises(Conflict) as refused:
            transition(situation(status, command), command, actor)
        assert refused.value.code == "invalid_state"


WRONG_ACTORS = [
    pytest.param(command, actor, id=f"{command}-by-{label}")
    for command in Command
    for label, (actor, is_party) in ACTORS.items()
    if is_party is not EXPECTED[command][0]
]


@pytest.mark.parametrize(("command", "actor"), WRONG_ACTORS)
def test_a_command_from_anyone_but_its_party_is_forbidden(command: Command, actor: Actor):
    allowed_state = next(iter(EXPECTED[command][1]))
    with pytest.raises(Forbidden) as refused:
        transition(situation(allowed_state, command), command, actor)
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize("command", [C.APPROVE, C.REJECT, C.REQUEST_INFO])
def test_exporter_cannot_decide(command: Command):
    with pytest.raises(Forbidden):
        transition(situation(S.IN_REVIEW, command, assignee=EXPORTER.user_id), command, EXPORTER)


def test_certifier_of_another_organisation_cannot_claim():
    outsider = Actor("mal", Role.CERTIFIER, "cert-2")
    with pytest.raises(Forbidden):
        transition(situation(S.IN_REVIEW, C.CLAIM), C.CLAIM, outsider)


@pytest.mark.parametrize("status", [S.IN_REVIEW, S.INFO_REQUESTED])
def test_importer_cannot_withdraw(status: Status):
    with pytest.raises(Forbidden):
        transition(situation(status, C.WITHDRAW), C.WITHDRAW, IMPORTER)


SYSTEM_COMMANDS = [command for command, (party, _) in EXPECTED.items() if party is P.SYSTEM]
PEOPLE = [REVIEWER, EXPORTER, IMPORTER, Actor("root", Role.ADMIN, None)]


@pytest.mark.parametrize(
    ("command", "person"),
    list(itertools.product(SYSTEM_COMMANDS, PEOPLE)),
    ids=lambda value: str(value) if isinstance(value, Command) else value.role,
)
def test_person_cannot_give_a_system_command(command: Command, person: Actor):
    with pytest.raises(Forbidden):
        transition(situation(next(iter(EXPECTED[command][1])), command), command, person)


def test_system_cannot_claim():
    with pytest.raises(Forbidden):
        transition(situation(S.IN_REVIEW, C.CLAIM), C.CLAIM, SYSTEM)


def test_wrong_actor_is_told_forbidden_even_when_the_state_would_refuse_too():
    with pytest.raises(Forbidden):
        transition(situation(S.REJECTED, C.APPROVE), C.APPROVE, EXPORTER)


def test_claim_of_an_open_task_succeeds():
    assert transition(situation(S.IN_REVIEW, C.CLAIM), C.CLAIM, REVIEWER) is S.IN_REVIEW


def test_claiming_a_task_one_already_holds_is_idempotent():
    held = situation(S.IN_REVIEW, C.CLAIM, assignee=REVIEWER.user_id)
    assert transition(held, C.CLAIM, REVIEWER) is S.IN_REVIEW


def test_second_claim_by_another_certifier_is_task_taken():
    held = situation(S.IN_REVIEW, C.CLAIM, assignee=COLLEAGUE.user_id)
    with pytest.raises(Conflict) as refused:
        transition(held, C.CLAIM, REVIEWER)
    assert refused.value.code == "task_taken"


def test_holder_can_release_the_task():
    held = situation(S.IN_REVIEW, C.RELEASE, assignee=REVIEWER.user_id)
    assert transition(held, C.RELEASE, REVIEWER) is S.IN_REVIEW


def test_releasing_an_open_task_is_task_not_claimed():
    open_task = Situation(S.IN_REVIEW, PARTIES, task_assignee=None)
    with pytest.raises(Conflict) as refused:
        transition(open_task, C.RELEASE, REVIEWER)
    assert refused.value.code == "task_not_claimed"


def test_releasing_another_certifiers_task_is_task_taken():
    held = situation(S.IN_REVIEW, C.RELEASE, assignee=COLLEAGUE.user_id)
    with pytest.raises(Conflict) as refused:
        transition(held, C.RELEASE, REVIEWER)
    assert refused.value.code == "task_taken"


@pytest.mark.parametrize("command", sorted(NEEDS_CLAIM))
def test_deciding_without_a_claim_is_task_not_claimed(command: Command):
    open_task = Situation(next(iter(EXPECTED[command][1])), PARTIES, task_assignee=None)
    with pytest.raises(Conflict) as refused:
        transition(open_task, command, REVIEWER)
    assert refused.value.code == "task_not_claimed"


@pytest.mark.parametrize("command", sorted(NEEDS_CLAIM))
def test_deciding_on_another_certifiers_claim_is_task_taken(command: Command):
    held = situation(next(iter(EXPECTED[command][1])), command, assignee=COLLEAGUE.user_id)
    with pytest.raises(Conflict) as refused:
        transition(held, command, REVIEWER)
    assert refused.value.code == "task_taken"


def test_only_decisions_and_confirming_actuals_need_a_claim():
    assert {C.APPROVE, C.REJECT, C.REQUEST_INFO, C.CONFIRM_ACTUALS} == NEEDS_CLAIM


@pytest.mark.parametrize(
    "command", [command for command in Command if command not in NEEDS_CLAIM | {C.CLAIM, C.RELEASE}]
)
def test_commands_without_a_claim_ignore_who_holds_the_task(command: Command):
    party, moves = EXPECTED[command]
    status = next(iter(moves))
    held = Situation(status, PARTIES, task_assignee=COLLEAGUE.user_id)
    assert transition(held, command, RIGHT_ACTOR[party]) is moves[status]


def test_parties_include_only_the_three_named_organisations():
    assert all(PARTIES.includes(org) for org in ("cert-1", "exp-1", "imp-1"))
    assert not PARTIES.includes("cert-2")
    assert not PARTIES.includes(None)
