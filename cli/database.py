"""Schema upgrades and demo data, for `nopic migrate`, `nopic seed` and `nopic dev`."""

from __future__ import annotations

from config.settings import Settings


async def migrate(settings: Settings) -> None:
    from persistence.migrate import upgrade

    await upgrade(settings.database_url)


async def seed_demo_data(settings: Settings) -> bool:
    from persistence.db import create_engine, create_sessionmaker
    from persistence.seed import seed_demo

    engine = create_engine(settings.database_url)
    try:
        return await seed_demo(create_sessionmaker(engine))
    finally:
        await engine.dispose()
