"""Requests and transitions as the workflows would write them, for repository tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import Awaiting, Coverage, OrganicCategory, Role, Status, TaskKind, TaskState
from persistence.db import transaction
from persistence.models import AuditEvent
from persistence.repositories import ProjectionRepository, RequestRepository
from persistence.seed import demo_user_id
from workflows.contracts import ActorRef, ImportRequestInput, RequestLine, Shipment
from workflows.payloads import EventWrite, ProjectionInput, TaskWrite

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AVOCADO = "0804400020"
COFFEE = "0901110015"
QUINOA = "1008500010"
OLIVE_OIL = "1509209030"

ANDES = ("555", "5550000001", "5550000002")
MEDITERRANEO = ("777", "7770000001", "7770000002")


def import_request(
    *,
    parties: tuple[str, str, str] = ANDES,
    lines: list[tuple[str, Decimal]] | None = None,
    created_at: datetime = T0,
    valid_from: date = date(2026, 12, 1),
    lots: list[str] | None = None,
    product_name: str = "Fresh Hass avocados",
) -> ImportRequestInput:
    certifier, exporter, importer = parties
    creator = "exporter@demo.test" if parties == ANDES else "other.exporter@demo.test"
    return ImportRequestInput(
        request_id=str(uuid.uuid4()),
        created_by=demo_user_id(creator),
        created_at=created_at,
        certifier_id=certifier,
        exporter_id=exporter,
        importer_id=importer,
        coverage=Coverage.SINGLE_SHIPMENT,
        valid_from=valid_from,
        valid_until=valid_from + timedelta(days=30),
        country_of_origin="PE",
        port_of_export="Callao",
        port_of_entry="Los Angeles",
        shipment=Shipment(transport_mode="sea", bill_of_lading="MSCU1234567"),
        lines=[
            RequestLine(
                certificate_id=str(uuid.uuid4()),
                line_no=n,
                hts_code=hts,
                product_name=product_name,
                organic_category=OrganicCategory.ORGANIC,
                quantity_kg=kg,
                lot_numbers=lots or [f"L-{n}"],
            )
            for n, (hts, kg) in enumerate(lines or [(AVOCADO, Decimal(18000))], start=1)
        ],
    )


async def record(
    sessions: async_sessionmaker[AsyncSession], request: ImportRequestInput
) -> list[str]:
    async with transaction(sessions) as session:
        await RequestRepository(session).record(request)
    return [line.certificate_id for line in request.lines]


def transition(
    certificate_id: str,
    seq: int,
    status: Status,
    *,
    at: datetime = T0,
    task: TaskWrite | None = None,
    awaiting: Awaiting = Awaiting.CERTIFIER,
) -> ProjectionInput:
    return ProjectionInput(
        workflow_id=f"certificate-{certificate_id}",
        seq=seq,
        certificate_id=certificate_id,
        at=at,
        status=status,
        awaiting=awaiting,
        task=task,
        event=EventWrite(
            action=f"to_{status}",
            actor=ActorRef(user_id="system", role=Role.SYSTEM),
            to_status=status,
        ),
    )


def review_task(
    *,
    due_at: datetime,
    state: TaskState = TaskState.OPEN,
    kind: TaskKind = TaskKind.REVIEW,
    assignee: str | None = None,
    task_id: str | None = None,
) -> TaskWrite:
    return TaskWrite(
        task_id=task_id or str(uuid.uuid4()),
        kind=kind,
        state=state,
        assignee_id=assignee,
        due_at=due_at,
    )


async def project(sessions: async_sessionmaker[AsyncSession], change: ProjectionInput) -> bool:
    async with transaction(sessions) as session:
        return await ProjectionRepository(session).apply(change)


async def timeline(
    sessions: async_sessionmaker[AsyncSession], certificate_id: str, count: int
) -> None:
    """`count` audit events of one certificate, as a long customs life leaves them behind.

    Entries projected together share their time, so every group of three has one `at`.
    """
    async with transaction(sessions) as session:
        session.add_all(
            AuditEvent(
                workflow_id=f"certificate-{certificate_id}",
                seq=seq,
                certificate_id=certificate_id,
                at=T0 + timedelta(seconds=seq // 3),
                actor_id=demo_user_id("importer@demo.test"),
                actor_role=Role.IMPORTER,
                action="entry_recorded",
                from_status=Status.DELIVERED,
                to_status=Status.DELIVERED,
                detail={"entry_number": f"ENT-{seq}"},
            )
            for seq in range(1, count + 1)
        )
