from sqlalchemy import func, select

from domain.model import Role
from persistence.models import CertifiedProduct, Organisation, RegistryOperation, User
from persistence.passwords import verify_password
from persistence.repositories import RegistryRepository, UserRepository
from persistence.seed import DEMO_PASSWORD, DEMO_USERS, demo_user_id, seed_demo

MODELS = (Organisation, RegistryOperation, CertifiedProduct, User)


async def _counts(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            m.__tablename__: await session.scalar(select(func.count()).select_from(m))
            for m in MODELS
        }


async def test_seed_writes_the_demo_once(db):
    before = await _counts(db)
    assert before == {
        "organisations": 6,
        "registry_operations": 4,
        "certified_products": 4,
        "users": 8,
    }
    assert await seed_demo(db) is False
    assert await _counts(db) == before


async def test_every_demo_user_signs_in_with_demo(db):
    async with db() as session:
        users = UserRepository(session)
        for email, role, _ in DEMO_USERS:
            user = await users.by_email(email)
            assert user is not None
            assert user.id == demo_user_id(email)
            assert user.role == role
            assert verify_password(user.password_hash, DEMO_PASSWORD)


async def test_admin_belongs_to_no_organisation(db):
    async with db() as session:
        admin = await UserRepository(session).by_email("admin@demo.test")
    assert admin is not None
    assert admin.role == Role.ADMIN
    assert admin.organisation_id is None


async def test_exporter_is_certified_by_555_with_its_products(db):
    async with db() as session:
        registry = RegistryRepository(session)
        exporter = await registry.operation("5550000001")
        products = await registry.products("5550000001")
        olive_oil = await registry.products("7770000001")
        importer = await session.get(RegistryOperation, "5550000002")
    assert exporter is not None
    assert exporter.certifier_id == "555"
    assert exporter.status == "certified"
    assert exporter.name == "Andes Organic Exports"
    assert {(p.hts_code, int(p.annual_capacity_kg)) for p in products} == {
        ("0804400020", 500_000),
        ("0901110015", 200_000),
        ("1008500010", 300_000),
    }
    assert [(p.hts_code, int(p.annual_capacity_kg)) for p in olive_oil] == [("1509209030", 100_000)]
    assert importer is not None
    assert (importer.is_importer, importer.is_exporter, importer.certifier_id) == (
        True,
        False,
        "555",
    )


async def test_certifiers_are_not_registry_operations(db):
    async with db() as session:
        assert await RegistryRepository(session).operation("555") is None
        certifier = await RegistryRepository(session).organisation("777")
    assert certifier is not None
    assert (certifier.kind, certifier.country) == ("certifier", "IT")
