"""The administrators' view (issue 8): figures, what is stuck and why, and the remedies.

Each reason a workflow is stuck is provoked for real on the Temporal dev server: a review task
left past its escalation, an SMTP server that is not there, a deploy whose workflow code no
longer replays its histories, a database that refuses the projection's writes, and no worker.
Each shows in `/api/admin/stuck` with its reason, and its remedy clears it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import workflow
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)

from api.app import create_app
from api.temporal import BUSY, NOT_READY
from cli.worker import WORKFLOWS, build_worker
from config.settings import Settings
from domain.model import Role, Status
from persistence.db import create_engine, create_sessionmaker
from persistence.models import AdminAction, FailingStep
from persistence.seed import demo_user_id
from tests.api.conftest import settings_for
from tests.api.flow import (
    ADMIN,
    CERTIFIER,
    CERTIFIER2,
    EXPORTER,
    IMPORTER,
    OTHER_CERTIFIER,
    OTHER_EXPORTER,
    OTHER_IMPORTER,
    Auth,
    delivered,
    eventually,
    in_review,
    line,
    review_task,
    submit,
)
from tests.conftest import SmtpServer, free_port, migrate_and_seed, serving
from tests.helpers import postgres_database
from workflows.certificate import CertificateWorkflow
from workflows.contracts import (
    CERTIFICATE_WORKFLOW,
    CLAIM,
    ActorRef,
    ClaimInput,
    CommandResult,
    certificate_workflow_id,
)
from workflows.payloads import CertificateInput

NOT_ADMINS = (EXPORTER, CERTIFIER, IMPORTER, OTHER_CERTIFIER, OTHER_EXPORTER, OTHER_IMPORTER)
# A second of business time: the review is past its escalation almost at once.
SECONDS = 1 / 86_400


@asynccontextmanager
async def stack(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    *,
    worker: bool = True,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over `settings`, with a worker of its task queue unless told otherwise."""
    app = create_app(settings, sessions=sessions, temporal=temporal_client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api", timeout=30) as api,
    ):
        if not worker:
            yield api
            return
        async with build_worker(temporal_client, settings, sessions):
            yield api


async def stuck(api: httpx.AsyncClient, auth: Auth, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/api/admin/stuck", params=params, headers=auth(ADMIN))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def stuck_for(
    api: httpx.AsyncClient, auth: Auth, reason: str, certificate_id: str
) -> dict[str, Any] | None:
    """The group of `reason` that names `certificate_id`'s workflow, if any."""
    for group in await stuck(api, auth, reason=reason):
        if any(w["certificate_id"] == certificate_id for w in group["workflows"]):
            return group
    return None


async def audited(sessions: async_sessionmaker[AsyncSession], workflow_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.execute(
            select(AdminAction).where(AdminAction.workflow_id == workflow_id)
        )
        return [f"{a.action}:{a.outcome}:{a.admin_email}:{a.reason}" for a in rows.scalars()]


async def test_only_administrators_see_operations(api: httpx.AsyncClient, auth: Auth):
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/admin/stats", None),
        ("GET", "/api/admin/stuck", None),
        ("GET", "/api/admin/stuck/overdue_task:review", None),
        ("POST", "/api/admin/stuck/overdue_task:review/terminate", {"reason": "x"}),
        ("POST", "/api/admin/workflows/certificate-x/retry", {}),
        ("POST", "/api/admin/workflows/certificate-x/terminate", {"reason": "x"}),
        ("POST", "/api/admin/workflows/certificate-x/reset", {}),
        ("GET", "/api/admin/actions", None),
    ]
    for method, path, body in calls:
        anonymous = await api.request(method, path, json=body)
        assert anonymous.status_code == 401, (path, anonymous.text)
        for email in NOT_ADMINS:
            refused = await api.request(method, path, json=body, headers=auth(email))
            assert refused.status_code == 403, (path, email, refused.text)
            assert refused.json()["code"] == "not_an_admin"


async def test_stats_count_states_certifiers_tasks_and_issuance(
    live_api: httpx.AsyncClient, auth: Auth
):
    reviewed, _ = await in_review(live_api, auth)
    issued = await delivered(live_api, auth)
    response = await live_api.get("/api/admin/stats", headers=auth(ADMIN))
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["by_state"]["in_review"] >= 1
    assert stats["by_state"]["delivered"] >= 1
    assert stats["total"] == sum(stats["by_state"].values())
    [demo] = [c for c in stats["by_certifier"] if c["certifier_id"] == "555"]
    assert demo["name"] == "Demo Organic Certifiers"
    assert demo["by_state"]["delivered"] >= 1
    assert demo["total"] >= 2
    assert stats["tasks"]["open"] >= 1
    assert stats["tasks"]["overdue"] == 0
    assert len(stats["issued_per_hour"]) == 24
    assert stats["issued_per_hour"][-1]["issued"] >= 1
    assert stats["issued_last_day"] == sum(h["issued"] for h in stats["issued_per_hour"])
    assert reviewed != issued["id"]


async def test_overdue_review_is_stuck_until_a_certifier_decides_or_it_is_terminated(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    smtp_server: SmtpServer,
    auth: Auth,
):
    hurried = settings.model_copy(
        update={
            "review_reminder_business_days": SECONDS,
            "review_escalation_business_days": 2 * SECONDS,
        }
    )
    async with stack(hurried, sessions, temporal_client) as api:
        decided, task = await in_review(api, auth)
        ended, _ = await in_review(api, auth)

        async def both_overdue() -> dict[str, Any] | None:
            group = await stuck_for(api, auth, "overdue_task", decided)
            names = {w["certificate_id"] for w in group["workflows"]} if group else set()
            return group if group and ended in names else None

        group = await eventually(both_overdue, what="two overdue reviews")
        assert group["cause"] == "overdue_task:review"
        assert group["remedies"] == ["terminate"]
        assert group["count"] >= 2
        assert "past due" in group["detail"]
        named = {w["certificate_id"]: w for w in group["workflows"]}
        assert {decided, ended} <= set(named)
        assert "not claimed" in named[decided]["detail"]
        assert named[decided]["since"]

        # The remedy of a human step: a certifier takes it up.
        claimed = await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
        assert claimed.status_code == 200, claimed.text
        decision = {"decision": "reject", "comment": "the lots are not certified"}
        rejected = await api.post(
            f"/api/certificates/{decided}/decision", json=decision, headers=auth(CERTIFIER)
        )
        assert rejected.status_code == 200, rejected.text

        # Or the administrator ends it; a dry run of the cause first.
        dry = await api.post(
            "/api/admin/stuck/overdue_task:review/terminate",
            json={"reason": "exporter went out of business"},
            headers=auth(ADMIN),
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"]
        assert ended in str(dry.json()["workflows"])
        assert dry.json()["results"] == []
        assert dry.json()["count"] >= 1
        assert decided not in str(dry.json()["workflows"])

        workflow_id = certificate_workflow_id(ended)
        reason = {"reason": "exporter went out of business"}
        done = await api.post(
            f"/api/admin/workflows/{workflow_id}/terminate", json=reason, headers=auth(ADMIN)
        )
        assert done.status_code == 200, done.text
        assert done.json()["outcome"] == "done"
        seen = await api.get(f"/api/certificates/{ended}", headers=auth(EXPORTER))
        assert seen.json()["status"] == "terminated"
        events = await api.get(f"/api/certificates/{ended}/events", headers=auth(CERTIFIER))
        assert events.json()["items"][-1]["action"] == "terminated"
        description = await temporal_client.get_workflow_handle(workflow_id).describe()
        assert description.status is WorkflowExecutionStatus.TERMINATED
        # The parties are told: the certifier organisation and the exporter.
        told = await eventually(partial(notices, smtp_server), what="the parties told")
        assert {CERTIFIER, CERTIFIER2, EXPORTER} == told

        # Safe to repeat: nothing more is done, and each attempt is on record.
        again = await api.post(
            f"/api/admin/workflows/{workflow_id}/terminate", json=reason, headers=auth(ADMIN)
        )
        assert again.status_code == 409
        assert again.json()["code"] == "nothing_to_do"
        assert await audited(sessions, workflow_id) == [
            f"terminate:done:{ADMIN}:exporter went out of business",
            f"terminate:skipped:{ADMIN}:exporter went out of business",
        ]
        actions = await api.get(
            "/api/admin/actions", params={"workflow_id": workflow_id}, headers=auth(ADMIN)
        )
        assert [a["outcome"] for a in actions.json()["items"]] == ["skipped", "done"]

        for certificate_id in (decided, ended):
            assert await stuck_for(api, auth, "overdue_task", certificate_id) is None


async def test_mail_failing_for_the_same_reason_is_one_line_and_retry_sends_it_now(
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    database_url: str,
    tmp_path: Path,
    auth: Auth,
):
    down = SmtpServer(host="127.0.0.1", port=free_port())
    address = temporal_client.service_client.config.target_host
    settings = settings_for(database_url, tmp_path, temporal_address=address, smtp=down)
    async with stack(settings, sessions, temporal_client) as api:
        created = await submit(api, auth, lines=[line(), line(hts_code="0901110015")])
        first, second = (c["id"] for c in created["certificates"])

        async def failing_twice() -> dict[str, Any] | None:
            group = await stuck_for(api, auth, "failing_activity", first)
            names = {w["certificate_id"] for w in group["workflows"]} if group else set()
            return group if group and second in names else None

        group = await eventually(failing_twice, timeout=30, what="both mails failing")
        # Both certificates' mails to the certifier fail the same way: one line, a count.
        assert group["count"] == 2
        assert group["remedies"] == ["retry", "terminate"]
        assert group["cause"].startswith("failing_activity:send_mail:")
        assert "Connect call failed" in group["detail"] or "refused" in group["detail"]
        detail = group["workflows"][0]["detail"]
        assert "send_mail (activity) failed" in detail
        assert "next attempt at" in detail

        with serving(down):
            dry = await api.post(
                f"/api/admin/stuck/{group['cause']}/retry", json={}, headers=auth(ADMIN)
            )
            assert dry.status_code == 200, dry.text
            assert dry.json()["count"] == 2
            assert dry.json()["results"] == []
            assert len(down.received) == 0
            done = await api.post(
                f"/api/admin/stuck/{group['cause']}/retry",
                json={"dry_run": False, "reason": "SMTP relay fixed"},
                headers=auth(ADMIN),
            )
            assert done.status_code == 200, done.text
            assert [r["outcome"] for r in done.json()["results"]] == ["done", "done"]
            # Sent now, not after the backoff (its next attempt was seconds to minutes away).
            await down.wait_for(2, timeout=10)
            await eventually(
                lambda: _not(stuck_for(api, auth, "failing_activity", first)), what="cleared"
            )
            assert await stuck_for(api, auth, "failing_activity", second) is None
            assert await audited(sessions, certificate_workflow_id(first)) == [
                f"retry:done:{ADMIN}:SMTP relay fixed"
            ]
            # Again: nothing is failing any more, which is said, and audited too.
            again = await api.post(
                f"/api/admin/workflows/{certificate_workflow_id(first)}/retry",
                headers=auth(ADMIN),
            )
            assert again.status_code == 409
            assert "no activity" in again.json()["detail"]


async def _not(found: Any) -> bool:
    return await found is None


# A deploy whose workflow code no longer replays the histories it meets: one step more before
# anything else, as a careless change would add it.
@workflow.defn(name=CERTIFICATE_WORKFLOW, sandboxed=False)
class BadDeploy(CertificateWorkflow):
    @workflow.run
    async def run(self, input: CertificateInput) -> Status:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(input)


async def test_commands_beyond_the_servers_limit_per_workflow_answer_503_not_500(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    auth: Auth,
):
    """The server holds at most 10 updates of one workflow in flight. With its worker gone,
    twelve claims at once: ten wait for a worker, the others are refused as RESOURCE_EXHAUSTED
    (the SDK tries them again a few times, then the API until its deadline). All twelve answer
    503 with why, none a 500."""
    async with stack(settings, sessions, temporal_client) as api:
        _, task = await in_review(api, auth)
    # Long enough for the SDK's own retries of the refusal to end before the API's deadline
    # for some of them, so that the API's own retries are met as well.
    patient = settings.model_copy(update={"temporal_rpc_timeout_seconds": 20})
    async with stack(patient, sessions, temporal_client, worker=False) as api:
        answers = await asyncio.gather(
            *(
                api.post(
                    f"/api/tasks/{task['id']}/claim",
                    headers={**auth(CERTIFIER), "Idempotency-Key": f"busy-{n}"},
                )
                for n in range(12)
            )
        )
    assert {answer.status_code for answer in answers} == {503}, [a.text for a in answers]
    details = [answer.json()["detail"] for answer in answers]
    assert set(details) <= {BUSY, "the workflow engine did not answer in time"}, details
    assert all(answer.headers["Retry-After"] == "1" for answer in answers)


async def test_a_bad_deploy_is_stuck_and_reset_after_the_fix(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    auth: Auth,
):
    async with stack(settings, sessions, temporal_client) as api:
        certificate_id, task = await in_review(api, auth)
    workflow_id = certificate_workflow_id(certificate_id)
    carmen = ActorRef(user_id=demo_user_id(CERTIFIER), role=Role.CERTIFIER, organisation_id="555")
    bad = [w for w in WORKFLOWS if w is not CertificateWorkflow] + [BadDeploy]
    settings_bad = settings.model_copy(update={"worker_cached_workflows": 1})
    async with (
        stack(settings, sessions, temporal_client, worker=False) as api,
        build_worker(temporal_client, settings_bad, sessions, workflows=bad),
    ):
        # A command makes a workflow task, which the bad code fails on every attempt.
        handle = temporal_client.get_workflow_handle(workflow_id)
        with pytest.raises(WorkflowUpdateRPCTimeoutOrCancelledError):
            await handle.execute_update(
                CLAIM,
                ClaimInput(actor=carmen, task_id=task["id"]),
                rpc_timeout=timedelta(seconds=2),
                result_type=CommandResult,
            )
        group = await eventually(
            lambda: stuck_for(api, auth, "workflow_task_failure", certificate_id),
            timeout=60,
            what="the workflow task failure to be reported",
        )
        assert group["remedies"] == ["reset", "terminate"]
        assert "Nondeterminism" in group["detail"] or "nondetermin" in group["detail"].lower()
        [named] = [w for w in group["workflows"] if w["certificate_id"] == certificate_id]
        assert named["since"] is not None
        assert "workflow task failed" in named["detail"]
        # A person's command meanwhile: the server refuses updates while the workflow's task
        # fails; the API says to try again (503), not that it broke (500).
        refused = await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
        assert refused.status_code == 503, refused.text
        assert refused.json()["detail"] == NOT_READY
        assert refused.headers["retry-after"] == "1"

    # The bad worker is gone; the fix is deployed: reset to the last good workflow task.
    async with stack(settings, sessions, temporal_client, worker=False) as api:
        reset = await api.post(
            f"/api/admin/workflows/{workflow_id}/reset",
            json={"reason": "release 1.2.1 fixes the replay"},
            headers=auth(ADMIN),
        )
        assert reset.status_code == 200, reset.text
        assert "last good workflow task" in reset.json()["detail"]
    async with stack(settings, sessions, temporal_client) as api:
        await eventually(
            lambda: _not(stuck_for(api, auth, "workflow_task_failure", certificate_id)),
            timeout=30,
            what="the reset workflow to run",
        )

        # It takes commands again. Reset to the workflow task that screened it, the new run
        # opens its review task anew and the old run's closes; reset to a later one, the task
        # stays. Either way the queue holds one task of it, and it can be claimed.
        async def claimed_once() -> httpx.Response | None:
            tasks = await api.get("/api/tasks", params={"limit": 200}, headers=auth(CERTIFIER))
            live = [t for t in tasks.json()["items"] if t["certificate_id"] == certificate_id]
            if len(live) != 1:
                return None
            answer = await api.post(f"/api/tasks/{live[0]['id']}/claim", headers=auth(CERTIFIER))
            return answer if answer.status_code == 200 else None

        await eventually(claimed_once, timeout=30, what="one live task of the reset run, claimed")
        assert await audited(sessions, workflow_id) == [
            f"reset:done:{ADMIN}:release 1.2.1 fixes the replay"
        ]


async def test_a_projection_the_database_refuses_is_lag_until_it_takes_it(
    temporal_client: Client, smtp_server: SmtpServer, tmp_path: Path, auth: Auth
):
    """PostgreSQL refuses to write the timeline (disk full, as a trigger says it); the claim
    waits in the workflow, the database is behind, and catches up once the disk is freed."""
    async with postgres_database() as url:
        await migrate_and_seed(url)
        address = temporal_client.service_client.config.target_host
        settings = settings_for(url, tmp_path, temporal_address=address, smtp=smtp_server)
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        try:
            async with stack(settings, sessions, temporal_client) as api:
                certificate_id, task = await in_review(api, auth)
                async with engine.begin() as connection:
                    for statement in DISK_FULL:
                        await connection.execute(text(statement))
                try:
                    claim = asyncio.create_task(
                        api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
                    )
                    await lagging_until_the_disk_is_freed(api, auth, certificate_id)
                finally:
                    # Else the worker would retry the write for ever and never stop.
                    async with engine.begin() as connection:
                        await connection.execute(FREE_DISK)
                await eventually(
                    lambda: _not(stuck_for(api, auth, "projection_lag", certificate_id)),
                    timeout=30,
                    what="the database to catch up",
                )
                answered = await claim
                assert answered.status_code in (200, 503), answered.text
                await review_task(api, auth, certificate_id, state="claimed")
                async with sessions() as session:
                    assert await session.scalar(select(FailingStep.workflow_id)) is None
        finally:
            await engine.dispose()


async def lagging_until_the_disk_is_freed(
    api: httpx.AsyncClient, auth: Auth, certificate_id: str
) -> None:
    group = await eventually(
        lambda: stuck_for(api, auth, "projection_lag", certificate_id),
        timeout=30,
        what="the projection lag",
    )
    assert "the database is behind the workflow" in group["detail"]
    assert "No space left on device" in group["detail"]
    assert "DiskFullError" in group["detail"]
    [named] = group["workflows"]
    assert "project_transition (local activity) failed" in named["detail"]
    # Retrying now is the worker's own business for a local step; it says so.
    workflow_id = certificate_workflow_id(certificate_id)
    retried = await api.post(f"/api/admin/workflows/{workflow_id}/retry", headers=auth(ADMIN))
    assert retried.status_code == 409, retried.text
    assert "by itself" in retried.json()["detail"]


FREE_DISK = text("DROP TRIGGER IF EXISTS disk_full ON audit_events")
DISK_FULL = (
    """CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'could not extend file: No space left on device'
            USING ERRCODE = 'disk_full';
    END $$""",
    """CREATE TRIGGER disk_full BEFORE INSERT ON audit_events
    FOR EACH ROW WHEN (NEW.action = 'claimed') EXECUTE FUNCTION refuse_write()""",
)


async def test_no_worker_is_stuck_and_commands_answer_503_at_once(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    temporal_client: Client,
    auth: Auth,
):
    """An API whose task queue no worker polls, over the database of a stack whose worker
    runs the certificate: the administrators see it, and commands are refused at once."""
    alone = settings.model_copy(update={"temporal_task_queue": f"{settings.temporal_task_queue}-2"})
    async with (
        stack(settings, sessions, temporal_client) as served,
        stack(alone, sessions, temporal_client, worker=False) as api,
    ):
        certificate_id, task = await in_review(served, auth)
        [group] = await stuck(api, auth, reason="no_worker")
        assert group["workflow_id"] is None
        assert group["count"] == 1
        assert alone.temporal_task_queue in group["detail"]
        assert group["remedies"] == []
        started = time.monotonic()
        refused = await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "no_worker"
        assert time.monotonic() - started < alone.temporal_rpc_timeout_seconds
        async with build_worker(temporal_client, alone, sessions):
            await eventually(
                lambda: _empty(stuck(api, auth, reason="no_worker")), what="a worker seen"
            )
            claimed = await api.post(f"/api/tasks/{task['id']}/claim", headers=auth(CERTIFIER))
            assert claimed.status_code == 200, claimed.text
        assert certificate_id == claimed.json()["certificate_id"]


async def _empty(found: Any) -> bool:
    return not await found


async def notices(smtp: SmtpServer) -> set[str]:
    """Who got the notice that the operators stopped a certificate."""
    subject = "stopped by the NOP-IC operators"
    told = {
        recipient
        for mail in smtp.received
        if subject in str(mail.message["Subject"])
        for recipient in mail.rcpt_tos
    }
    return told if EXPORTER in told and CERTIFIER in told else set()
