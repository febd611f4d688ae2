"""An administrator resets a certificate's workflow (issue 6, point 5): the new run numbers its
transitions again from the reset point, with content of its own, and the projection applies
them instead of taking them for retries of what the old run wrote.

Against the real dev server: the time-skipping test server has no reset.
"""

from __future__ import annotations

import uuid

import httpx
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client

from persistence.seed import demo_user_id
from tests.api.flow import CERTIFIER, CERTIFIER2, EXPORTER, Auth, eventually, in_review
from workflows.contracts import certificate_workflow_id


async def reset_before_first_update(client: Client, workflow_id: str) -> str:
    """Reset to the workflow task completed before the first update was accepted, dropping
    that update (an operator undoing a wrong claim, say); the new run's id."""
    handle = client.get_workflow_handle(workflow_id)
    last_completed = None
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            break
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            last_completed = event.event_id
    assert last_completed is not None
    answer = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            reason="test: undo a claim",
            workflow_task_finish_event_id=last_completed,
            request_id=str(uuid.uuid4()),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
        )
    )
    return str(answer.run_id)


async def test_a_reset_workflow_projects_its_new_run(
    live_api: httpx.AsyncClient, auth: Auth, temporal_client: Client
) -> None:
    certificate_id, task = await in_review(live_api, auth)
    claimed = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
    assert claimed.status_code == 200, claimed.text

    new_run = await reset_before_first_update(
        temporal_client, certificate_workflow_id(certificate_id)
    )

    # In the new run nobody holds the task: the other certifier claims it, and the claim gets
    # the sequence number the undone one had, with content of its own.
    async def claim() -> httpx.Response | None:
        answer = await live_api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER2))
        return answer if answer.status_code == 200 else None

    await eventually(claim, what="the claim in the new run")
    detail = await live_api.get(f"/api/certificates/{certificate_id}", headers=auth(CERTIFIER2))
    assert [t["assignee"] for t in detail.json()["tasks"]] == [demo_user_id(CERTIFIER2)]

    events = await live_api.get(
        f"/api/certificates/{certificate_id}/events", headers=auth(EXPORTER)
    )
    claims = [e for e in events.json()["items"] if e["action"] == "claimed"]
    # Both claims happened; the trail keeps both, in order.
    assert [e["actor_id"] for e in claims] == [demo_user_id(CERTIFIER), demo_user_id(CERTIFIER2)]
    assert new_run
