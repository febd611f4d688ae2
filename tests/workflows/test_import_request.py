"""ImportRequestWorkflow: one certificate workflow per line (R1), started durably (DESIGN 4.1)."""

from __future__ import annotations

from functools import partial

from temporalio.client import WorkflowExecutionDescription, WorkflowExecutionStatus

from tests.workflows.support import (
    AVOCADOS,
    COFFEE,
    QUINOA,
    Harness,
    eventually,
    line,
    request_input,
)
from workflows.contracts import (
    CERTIFICATE_WORKFLOW,
    SA_AWAITING,
    SA_CERTIFIER,
    SA_EXPORTER,
    SA_HTS,
    SA_IMPORTER,
    SA_STATUS,
    certificate_workflow_id,
    request_workflow_id,
)
from workflows.import_request import certificate_input, certificate_search_attributes


async def in_review(harness: Harness, certificate_id: str) -> WorkflowExecutionDescription | None:
    description = await harness.handle(certificate_id).describe()
    status = description.typed_search_attributes.get(SA_STATUS)
    return description if status == "in_review" else None


async def test_three_lines_give_three_certificate_workflows(harness: Harness) -> None:
    request = request_input(line(AVOCADOS), line(COFFEE, 5000), line(QUINOA, 7000))

    certificates = await harness.submit(request)

    parent = harness.env.client.get_workflow_handle(request_workflow_id(request.request_id))
    assert await parent.result() == [certificate_workflow_id(c) for c in certificates]
    for certificate_id, hts_code in zip(certificates, [AVOCADOS, COFFEE, QUINOA], strict=True):
        # The status is in the database once screening's local activity wrote it; the search
        # attributes follow when the workflow task that also tried the review mail completes.
        description = await eventually(partial(in_review, harness, certificate_id))
        assert description.status is WorkflowExecutionStatus.RUNNING
        assert description.parent_id == parent.id
        attributes = description.typed_search_attributes
        assert [attributes.get(key) for key in (SA_CERTIFIER, SA_EXPORTER, SA_IMPORTER)] == [
            "555",
            "5550000001",
            "5550000002",
        ]
        assert (attributes.get(SA_HTS), attributes.get(SA_STATUS)) == (hts_code, "in_review")
        assert attributes.get(SA_AWAITING) == "certifier"
        assert await harness.status(certificate_id) == "in_review"
    assert len(await harness.smtp.wait_for(3)) == 3
    await harness.assert_replays(parent.id, *(certificate_workflow_id(c) for c in certificates))


async def test_a_certificate_workflow_that_already_exists_counts_as_started(
    harness: Harness,
) -> None:
    # As after a crash (or a reset) once the first of three children had started: starting the
    # request again must start the two others and leave the first one alone.
    request = request_input(line(AVOCADOS), line(COFFEE, 5000), line(QUINOA, 7000))
    first = request.lines[0]
    existing = await harness.env.client.start_workflow(
        CERTIFICATE_WORKFLOW,
        certificate_input(request, first, []),
        id=certificate_workflow_id(first.certificate_id),
        task_queue=harness.task_queue,
        search_attributes=certificate_search_attributes(request, first),
    )

    certificates = await harness.submit(request)

    parent = harness.env.client.get_workflow_handle(request_workflow_id(request.request_id))
    assert len(await parent.result()) == 3
    assert (await existing.describe()).run_id == existing.result_run_id
    for certificate_id in certificates:
        assert await harness.status(certificate_id) == "in_review"
    await harness.assert_replays(parent.id)
