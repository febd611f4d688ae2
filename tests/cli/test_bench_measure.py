"""Billable actions are counted from history events by the rule written in cli/bench_measure."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskStartedEventAttributes,
    HistoryEvent,
    MarkerRecordedEventAttributes,
)

from cli.bench_measure import HistoryCount


def event(kind: EventType.ValueType, **attributes: object) -> HistoryEvent:
    return HistoryEvent(event_type=kind, **attributes)  # type: ignore[arg-type]


def marker(name: str) -> HistoryEvent:
    attributes = MarkerRecordedEventAttributes(marker_name=name)
    return event(EventType.EVENT_TYPE_MARKER_RECORDED, marker_recorded_event_attributes=attributes)


def test_retries_and_local_activities_count_but_patches_and_workflow_tasks_do_not() -> None:
    retried = ActivityTaskStartedEventAttributes(attempt=3)
    count = HistoryCount()
    count.add(
        [
            event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
            event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
            event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
            marker("core_patch"),
            marker("core_local_activity"),
            event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
            event(
                EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
                activity_task_started_event_attributes=retried,
            ),
            event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
            event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
            event(EventType.EVENT_TYPE_TIMER_STARTED),
            event(EventType.EVENT_TYPE_TIMER_CANCELED),
        ]
    )
    # started 1, local activity 1, activity 1 + 2 retries, update 1, upsert 1, timer 1
    assert (count.events, count.actions) == (11, 8)
    assert count.kinds == {
        "activities": 1,
        "local activities": 1,
        "updates": 1,
        "search attribute upserts": 1,
        "timers": 1,
    }
