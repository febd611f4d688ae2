"""The worker's capacity settings are bounded, with a message that names the setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings

SECRET = "x" * 48


def test_the_worker_takes_twenty_workflow_tasks_at_a_time_by_default() -> None:
    assert Settings(env="test", jwt_secret=SECRET).worker_workflow_tasks == 20


@pytest.mark.parametrize("tasks", [0, 1, 1_001])
def test_a_workflow_task_count_out_of_bounds_is_refused(tasks: int) -> None:
    # The SDK needs two at least with a workflow cache: one sticky poller, one normal.
    with pytest.raises(ValidationError, match="worker_workflow_tasks"):
        Settings(env="test", jwt_secret=SECRET, worker_workflow_tasks=tasks)
