"""What a workflow does with an activity that failed for good: say why, in words people read.

Activities fail for good only through a non-retryable `ApplicationError` (activities.failures
turns every failure that a retry cannot fix into one); transient failures are retried by
Temporal and never reach the workflow.
"""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

from workflows.contracts import FindingRecord

# A regular activity that failed for good raises ActivityError, its cause the ApplicationError;
# a local activity raises the ApplicationError itself (or TimeoutError), with no wrapper.
ACTIVITY_FAILED = (ActivityError, ApplicationError, TimeoutError)
ActivityFailure = ActivityError | ApplicationError | TimeoutError

# Longer reasons are cut: they go into the timeline, a flag and a mail, not into a log.
MAX_REASON = 500


def failure_reason(error: ActivityFailure) -> str:
    cause = error.cause if isinstance(error, ActivityError) else error
    text = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
    return " ".join(text.split())[:MAX_REASON] or type(error).__name__


def screening_unavailable(rule: str, error: ActivityFailure) -> FindingRecord:
    """Screening that could not run is a question for the reviewer, not a reason to stop."""
    return FindingRecord(
        rule=rule,
        code="screening_unavailable",
        message=f"Automatic screening ({rule}) could not run: {failure_reason(error)}. "
        "Check it by hand.",
        hard=False,
    )
