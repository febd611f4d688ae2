"""The demo data of DESIGN 7: two certifiers, their exporters and importers, and an operator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import OperationStatus, OrganisationKind, Role
from persistence.models import CertifiedProduct, Organisation, RegistryOperation, User
from persistence.passwords import hash_password
from persistence.repositories.users import UserRepository

DEMO_PASSWORD = "demo"  # every demo user's password, printed at start (DESIGN 7) # nosec B105
_USER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "users.demo.nopic")


def demo_user_id(email: str) -> str:
    """Stable ids, so tests and logs name the same user on every fresh database."""
    return str(uuid.uuid5(_USER_NAMESPACE, email))


@dataclass(frozen=True)
class _Org:
    id: str
    name: str
    country: str
    certifier_id: str | None = None  # set for operations: who certifies them
    exporter: bool = False
    importer: bool = False


@dataclass(frozen=True)
class _Product:
    operation_id: str
    hts_code: str
    name: str
    kg_a_year: int


@dataclass(frozen=True)
class _User:
    email: str
    full_name: str
    role: Role
    organisation_id: str | None


ORGANISATIONS = (
    _Org("555", "Demo Organic Certifiers", "US"),
    _Org("5550000001", "Andes Organic Exports", "PE", certifier_id="555", exporter=True),
    _Org("5550000002", "Pacific Organic Imports", "US", certifier_id="555", importer=True),
    _Org("777", "Other Certification Body", "IT"),
    _Org("7770000001", "Mediterraneo Bio", "IT", certifier_id="777", exporter=True),
    _Org("7770000002", "Atlantic Natural Foods", "US", certifier_id="777", importer=True),
)

PRODUCTS = (
    _Product("5550000001", "0804400020", "Fresh Hass avocados", 500_000),
    _Product("5550000001", "0901110015", "Green Arabica coffee beans", 200_000),
    _Product("5550000001", "1008500010", "Quinoa", 300_000),
    _Product("7770000001", "1509209030", "Extra virgin olive oil", 100_000),
)

USERS = (
    _User("certifier@demo.test", "Carmen Reviewer", Role.CERTIFIER, "555"),
    _User("certifier2@demo.test", "Daniel Reviewer", Role.CERTIFIER, "555"),
    _User("exporter@demo.test", "Elena Quispe", Role.EXPORTER, "5550000001"),
    _User("importer@demo.test", "Ian Porter", Role.IMPORTER, "5550000002"),
    _User("other.certifier@demo.test", "Giulia Rossi", Role.CERTIFIER, "777"),
    _User("other.exporter@demo.test", "Marco Bianchi", Role.EXPORTER, "7770000001"),
    _User("other.importer@demo.test", "Alice Walker", Role.IMPORTER, "7770000002"),
    _User("admin@demo.test", "Ada Operator", Role.ADMIN, None),
)

_ORG_NAMES = {org.id: org.name for org in ORGANISATIONS}

# (email, role, organisation name), for the CLI to print at start.
DEMO_USERS: list[tuple[str, str, str]] = [
    (
        user.email,
        user.role.value,
        _ORG_NAMES[user.organisation_id] if user.organisation_id else "(operator)",
    )
    for user in USERS
]


async def seed_demo(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Write the demo data in one transaction if there are no users yet; False otherwise."""
    async with sessions() as session:
        if await UserRepository(session).count() > 0:
            return False
    # Hashed outside the transaction: Argon2 is slow on purpose. Every demo user has the same
    # published password, so one hash serves them all.
    password_hash = hash_password(DEMO_PASSWORD)
    try:
        async with sessions() as session, session.begin():
            if await UserRepository(session).count() > 0:
                return False
            await _add_demo_rows(session, datetime.now(UTC), password_hash)
    except IntegrityError:
        # Another process seeded the same empty database at the same moment: that is a no.
        async with sessions() as session:
            if await UserRepository(session).count() > 0:
                return False
        raise
    return True


async def _add_demo_rows(session: AsyncSession, now: datetime, password_hash: str) -> None:
    for org in ORGANISATIONS:
        kind = OrganisationKind.OPERATION if org.certifier_id else OrganisationKind.CERTIFIER
        session.add(
            Organisation(id=org.id, kind=kind, name=org.name, country=org.country, created_at=now)
        )
    # The models declare no relationships, so the unit of work does not order the inserts by
    # foreign key: each level is flushed before the rows that point to it.
    await session.flush()
    for org in ORGANISATIONS:
        if org.certifier_id is None:
            continue
        session.add(
            RegistryOperation(
                organisation_id=org.id,
                certifier_id=org.certifier_id,
                status=OperationStatus.CERTIFIED,
                is_exporter=org.exporter,
                is_importer=org.importer,
                updated_at=now,
            )
        )
    await session.flush()
    for product in PRODUCTS:
        session.add(
            CertifiedProduct(
                operation_id=product.operation_id,
                hts_code=product.hts_code,
                product_name=product.name,
                annual_capacity_kg=Decimal(product.kg_a_year),
            )
        )
    for user in USERS:
        session.add(
            User(
                id=demo_user_id(user.email),
                email=user.email,
                full_name=user.full_name,
                password_hash=password_hash,
                role=user.role,
                organisation_id=user.organisation_id,
                active=True,
                created_at=now,
            )
        )
