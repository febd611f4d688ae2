"""Record the workflow histories that `test_replay.py` replays on every later version.

Run `.venv/bin/python -m tests.workflows.record_histories VERSION` once per released version of
the workflow code; it writes `histories/<name>-VERSION.json` and never overwrites a file. Keep
the files: a change that breaks their replay must go behind `workflow.patched`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller

from persistence.db import create_engine, create_sessionmaker
from tests.conftest import SmtpServer, _RecordingHandler, free_port, migrate_and_seed, sqlite_url
from tests.workflows.support import Harness, line, request_input, time_skipping_server
from workflows.contracts import (
    ANSWER,
    CLAIM,
    DECIDE,
    RELEASE,
    AnswerInput,
    ClaimInput,
    DecideInput,
    ReleaseInput,
    certificate_workflow_id,
    request_workflow_id,
)

HISTORIES = Path(__file__).parent / "histories"


async def review_scenario(harness: Harness) -> dict[str, str]:
    """Every update and timer of the review, ending approved."""
    [cert] = await harness.start_certificates(request_input())
    carmen = await harness.actor("certifier@demo.test")
    exporter = await harness.actor("exporter@demo.test")
    task = await harness.review_task(cert)
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    await harness.command(cert, RELEASE, ReleaseInput(actor=carmen, task_id=task.id))
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    await harness.command(cert, DECIDE, DecideInput(actor=carmen, decision="request_info"))
    await harness.env.sleep(timedelta(days=8))
    await harness.command(cert, ANSWER, AnswerInput(actor=exporter, message="Farm 7"))
    await harness.env.sleep(timedelta(days=10))
    await harness.command(cert, DECIDE, DecideInput(actor=carmen, decision="approve"))
    await harness.smtp.wait_for(6)
    return {"certificate_review": certificate_workflow_id(cert)}


async def request_scenario(harness: Harness) -> dict[str, str]:
    """A request of two lines, one of them rejected by screening."""
    request = request_input(line(), line(hts_code="9999999999"))
    _, rejected = await harness.submit(request)
    await harness.handle(rejected).result()
    return {
        "import_request": request_workflow_id(request.request_id),
        "certificate_rejected": certificate_workflow_id(rejected),
    }


async def record(version: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = sqlite_url(Path(folder) / "nopic.db")
        await migrate_and_seed(url)
        engine = create_engine(url)
        smtp = SmtpServer(host="127.0.0.1", port=free_port())
        controller = Controller(_RecordingHandler(smtp), hostname=smtp.host, port=smtp.port)
        controller.start()
        try:
            # One server per scenario: a child that completes would stop the clock of the next.
            for scenario in (review_scenario, request_scenario):
                async with (
                    time_skipping_server() as env,
                    Harness.running(env, create_sessionmaker(engine), smtp, Path(folder)) as h,
                ):
                    for name, workflow_id in (await scenario(h)).items():
                        path = HISTORIES / f"{name}-{version}.json"
                        if path.exists():
                            raise SystemExit(f"{path} exists: recorded histories are kept")
                        history = await env.client.get_workflow_handle(workflow_id).fetch_history()
                        path.write_text(history.to_json())
                        print(f"wrote {path}")  # noqa: T201
        finally:
            controller.stop()
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1]))
