"""What the worker makes of an activity's failure: retried or not, when next, said how."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import exc as sa
from temporalio.common import RetryPolicy

from activities.failures import describe, is_transient, next_attempt_in
from workflows._activities import DATABASE_RETRY, SMTP_RETRY


@pytest.mark.parametrize(
    ("policy", "attempt", "wait"),
    [
        (DATABASE_RETRY, 1, timedelta(milliseconds=500)),
        (DATABASE_RETRY, 4, timedelta(seconds=4)),
        (DATABASE_RETRY, 30, timedelta(minutes=1)),  # capped
        (SMTP_RETRY, 3, timedelta(seconds=20)),
        (RetryPolicy(maximum_attempts=3), 2, timedelta(seconds=2)),
        (RetryPolicy(maximum_attempts=3), 3, None),  # the last: no next attempt
        (None, 1, timedelta(seconds=1)),  # the server's default policy
        (None, 20, timedelta(seconds=100)),
    ],
)
def test_the_next_attempt_follows_the_retry_policy(
    policy: RetryPolicy | None, attempt: int, wait: timedelta | None
):
    assert next_attempt_in(policy, attempt) == wait


def test_a_full_disk_is_transient_and_said_with_the_drivers_words():
    driver = asyncpg.exceptions.DiskFullError("could not extend file: No space left on device")
    # As SQLAlchemy's asyncpg adapter wraps it: its own error, caused by the driver's.
    adapter = Exception("<class 'asyncpg.exceptions.DiskFullError'>: could not extend file")
    adapter.__cause__ = driver
    try:
        raise sa.DBAPIError("INSERT INTO audit_events ...", None, adapter) from adapter
    except sa.DBAPIError as raised:
        error = raised
    assert describe(error) == (
        "the database refused the write (DiskFullError): "
        "could not extend file: No space left on device"
    )
    # Class 53 (insufficient resources): the same write succeeds once an operator frees space.
    assert is_transient(error)
