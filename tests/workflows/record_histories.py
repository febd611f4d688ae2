"""Record the workflow histories that `test_replay.py` replays on every later version.

Run `.venv/bin/python -m tests.workflows.record_histories VERSION` once per released version of
the workflow code; it writes `histories/<name>-VERSION.json` and never overwrites a file. Keep
the files: a change that breaks their replay must go behind `workflow.patched`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from domain.model import Coverage
from persistence.db import create_engine, create_sessionmaker
from tests.conftest import SmtpServer, free_port, migrate_and_seed, serving, sqlite_url
from tests.workflows.issuing import approved, delivered, entry, reaches
from tests.workflows.issuing import record as record_entry
from tests.workflows.support import Harness, eventually, line, request_input, time_skipping_server
from tests.workflows.test_timers import fired
from workflows.contracts import (
    ACKNOWLEDGE,
    ANSWER,
    CLAIM,
    CONFIRM_ACTUALS,
    DECIDE,
    RELEASE,
    REPLACE,
    REPORT_ACTUALS,
    VOID,
    AcknowledgeInput,
    AnswerInput,
    CertificateChanges,
    ClaimInput,
    ConfirmActualsInput,
    DecideInput,
    ReleaseInput,
    ReplaceInput,
    ReplaceResult,
    ReportActualsInput,
    ShipmentActual,
    VoidInput,
    certificate_workflow_id,
    request_workflow_id,
)

HISTORIES = Path(__file__).parent / "histories"
Scenario = Callable[[Harness], Awaitable[dict[str, str]]]


async def review_scenario(harness: Harness) -> dict[str, str]:
    """Every update and timer of the review, ending approved."""
    [cert] = await harness.start_certificates(request_input())
    carmen = await harness.actor("certifier@demo.test")
    exporter = await harness.actor("exporter@demo.test")
    task = await harness.review_task(cert)
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    await harness.command(cert, RELEASE, ReleaseInput(actor=carmen, task_id=task.id))
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=task.id))
    question = DecideInput(actor=carmen, decision="request_info", comment="Which orchard?")
    await harness.command(cert, DECIDE, question)
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


async def issued_life_scenario(harness: Harness) -> dict[str, str]:
    """A multi-shipment certificate from approval to expiry: issuance, delivery, the
    acknowledgement reminder, acknowledgement, entries, the reconciliation notice, the report,
    expiry and the certifier's confirmation."""
    cert = await delivered(harness, coverage=Coverage.MULTIPLE_SHIPMENTS, days=20)
    importer = await harness.actor("importer@demo.test")
    exporter = await harness.actor("exporter@demo.test")
    carmen = await harness.actor("certifier@demo.test")
    await harness.env.sleep(timedelta(days=3))
    await harness.command(cert, ACKNOWLEDGE, AcknowledgeInput(actor=importer))
    await record_entry(harness, cert, entry("E-1", kg=5000))
    await record_entry(harness, cert, entry("E-1", kg=5000))
    await record_entry(harness, cert, entry("E-2", kg=7000))
    await harness.env.sleep(timedelta(days=12))
    shipments = [ShipmentActual(reference="BL-1", net_kg=Decimal(12000), date=date(2026, 12, 3))]
    reported = await harness.command(
        cert, REPORT_ACTUALS, ReportActualsInput(actor=exporter, shipments=shipments)
    )
    await harness.env.sleep(timedelta(days=6))
    await harness.command(cert, CLAIM, ClaimInput(actor=carmen, task_id=reported.task_id or ""))
    await harness.command(cert, CONFIRM_ACTUALS, ConfirmActualsInput(actor=carmen))
    await harness.handle(cert).result()
    return {"certificate_expired": certificate_workflow_id(cert)}


async def used_and_voided_scenario(harness: Harness) -> dict[str, str]:
    used = await delivered(harness)
    await record_entry(harness, used, entry(kg=18000))
    await harness.handle(used).result()
    voided = await delivered(harness)
    carmen = await harness.actor("certifier@demo.test")
    await harness.command(voided, VOID, VoidInput(actor=carmen, reason="Issued in error"))
    await harness.handle(voided).result()
    return {
        "certificate_used": certificate_workflow_id(used),
        "certificate_voided": certificate_workflow_id(voided),
    }


async def replaced_scenario(harness: Harness) -> dict[str, str]:
    original = await delivered(harness)
    carmen = await harness.actor("certifier@demo.test")
    result: ReplaceResult = await harness.handle(original).execute_update(
        REPLACE,
        ReplaceInput(
            actor=carmen, changes=CertificateChanges(quantity_kg=Decimal(15000)), reason="Scale"
        ),
        result_type=ReplaceResult,
    )
    harness.started.append(certificate_workflow_id(result.replacement_id))
    await harness.handle(original).result()
    await reaches(harness, result.replacement_id, "delivered")
    return {
        "certificate_replaced": certificate_workflow_id(original),
        "certificate_replacement": certificate_workflow_id(result.replacement_id),
    }


async def delivery_failed_scenario(harness: Harness) -> dict[str, str]:
    """Version 3: the importer's mailbox refuses the certificate for good; it stays issued,
    in force, and is used by an entry all the same."""
    cert = await approved(harness, coverage=Coverage.MULTIPLE_SHIPMENTS)
    await eventually(lambda: fired(harness, cert, "delivery_failed"))
    await record_entry(harness, cert, entry("E-1", kg=18000))
    await harness.handle(cert).result()
    return {"certificate_delivery_failed": certificate_workflow_id(cert)}


# Each scenario with the mailboxes its SMTP server refuses for good.
SCENARIOS: tuple[tuple[Scenario, frozenset[str]], ...] = (
    (review_scenario, frozenset()),
    (request_scenario, frozenset()),
    (issued_life_scenario, frozenset()),
    (used_and_voided_scenario, frozenset()),
    (replaced_scenario, frozenset()),
    (delivery_failed_scenario, frozenset({"importer@demo.test"})),
)


async def record(version: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = sqlite_url(Path(folder) / "nopic.db")
        await migrate_and_seed(url)
        engine = create_engine(url)
        smtp = SmtpServer(host="127.0.0.1", port=free_port())
        try:
            # One server per scenario: a child that completes would stop the clock of the next.
            for scenario, refused in SCENARIOS:
                async with (
                    time_skipping_server() as env,
                    Harness.running(env, create_sessionmaker(engine), smtp, Path(folder)) as h,
                ):
                    with serving(smtp, refused):
                        recorded = await scenario(h)
                    for name, workflow_id in recorded.items():
                        path = HISTORIES / f"{name}-{version}.json"
                        if path.exists():
                            raise SystemExit(f"{path} exists: recorded histories are kept")
                        history = await env.client.get_workflow_handle(workflow_id).fetch_history()
                        path.write_text(history.to_json())
                        print(f"wrote {path}")  # noqa: T201
        finally:
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1]))
