"""The pure parts of the certificate workflow: whose move it is, the review clock, its timers.

The review clock counts business time (domain.calendar) and stands still while the exporter
owes an answer; the information-request timers count calendar time from the question. After
delivery the timers count calendar time from delivery or up to the end of validity (R8).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.calendar import add_business_time, business_time_between, later
    from domain.customs import expires_at, needs_reconciliation, reconciliation_notice_at
    from domain.lifecycle import IN_FORCE
    from domain.model import Reconciliation, Status
from workflows.payloads import CertificateInput, CertificateState


class Timer(StrEnum):
    """A durable timer of the workflow; the value is the audit action it records."""

    REVIEW_REMINDER = "review_reminder"
    REVIEW_ESCALATED = "review_escalated"
    INFO_REMINDER = "info_reminder"
    LAPSED = "lapsed"
    ACKNOWLEDGEMENT_REMINDER = "acknowledgement_reminder"
    RECONCILIATION_REQUESTED = "reconciliation_requested"
    EXPIRED = "expired"


ISSUED_LIFE_TIMERS = frozenset(
    {Timer.ACKNOWLEDGEMENT_REMINDER, Timer.RECONCILIATION_REQUESTED, Timer.EXPIRED}
)


def awaits_confirmation(state: CertificateState) -> bool:
    """A reconciliation report the certifier has not confirmed keeps the workflow running."""
    return state.reconciliation == Reconciliation.REPORTED


def start_review_clock(state: CertificateState, now: datetime) -> None:
    state.review_since = now


def stop_review_clock(state: CertificateState, now: datetime) -> None:
    if state.review_since is not None:
        state.review_used += business_time_between(state.review_since, now)
        state.review_since = None


def review_elapsed(state: CertificateState, now: datetime) -> timedelta:
    running = timedelta(0)
    if state.review_since is not None:
        running = business_time_between(state.review_since, now)
    return state.review_used + running


def review_deadline(state: CertificateState, amount: timedelta, now: datetime) -> datetime:
    """When the review clock reaches `amount`, if it keeps running from now on."""
    left = amount - state.review_used
    start = state.review_since or now
    return add_business_time(start, left) if left > timedelta(0) else start


def due_timers(
    state: CertificateState, input: CertificateInput, now: datetime
) -> list[tuple[datetime, Timer]]:
    """The timers still to fire in the current state, earliest first."""
    timers = input.timers
    if state.status in IN_FORCE:
        return in_force_timers(state, input)
    due: list[tuple[datetime, Timer]] = []
    if state.status is Status.IN_REVIEW:
        if not state.review_reminded:
            due.append((review_deadline(state, timers.review_reminder, now), Timer.REVIEW_REMINDER))
        if not state.review_escalated:
            due.append(
                (review_deadline(state, timers.review_escalation, now), Timer.REVIEW_ESCALATED)
            )
    elif state.status is Status.INFO_REQUESTED and state.info_requested_at is not None:
        if not state.info_reminded:
            due.append((later(state.info_requested_at, timers.info_reminder), Timer.INFO_REMINDER))
        due.append((later(state.info_requested_at, timers.info_lapse), Timer.LAPSED))
    return sorted(due)


def in_force_timers(
    state: CertificateState, input: CertificateInput
) -> list[tuple[datetime, Timer]]:
    due: list[tuple[datetime, Timer]] = []
    timers = input.timers
    if state.acknowledged_at is None and not state.acknowledgement_reminded and state.delivered_at:
        due.append(
            (
                later(state.delivered_at, timers.acknowledgement_reminder),
                Timer.ACKNOWLEDGEMENT_REMINDER,
            )
        )
    # A certificate started before the validity was part of the input never expires by timer.
    if input.valid_until is not None:
        if needs_reconciliation(input.coverage) and state.reconciliation is None:
            notice_at = reconciliation_notice_at(input.valid_until, timers.reconciliation_notice)
            due.append((notice_at, Timer.RECONCILIATION_REQUESTED))
        due.append((expires_at(input.valid_until), Timer.EXPIRED))
    return sorted(due)


def when(moment: datetime | None) -> str:
    """A moment as mails show it."""
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def duration(amount: timedelta) -> str:
    hours = amount.total_seconds() / 3600
    if hours >= 24:
        return f"{round(hours / 24, 1):g} business days"
    return f"{round(hours, 1):g} hours"
