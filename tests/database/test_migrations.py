"""Migrations: up/down/up on both backends, models == migrations, seeded venues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.venues import VENUES
from database.engine import create_engine
from database.errors import DatabaseConfigError, DatabaseNotInitialised
from database.migrate import alembic_config, downgrade, upgrade
from database.models import Base, Venue
from database.schema_version import (
    SchemaState,
    current_revision,
    head_revision,
    is_initialised,
    require_current_schema,
    schema_state,
)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _schema_diff(url: str, metadata: MetaData) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    model_tables = set(Base.metadata.tables)
    assert await schema_state(db_url) is SchemaState.MISSING

    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()
    assert await _tables(db_url) >= model_tables

    await downgrade("base", db_url)
    assert await schema_state(db_url) is SchemaState.MISSING
    assert await _tables(db_url) & model_tables == set()

    await upgrade(db_url)
    assert await schema_state(db_url) is SchemaState.CURRENT
    assert await _tables(db_url) >= model_tables


async def test_models_and_migrations_agree(migrated_db_url: str) -> None:
    assert await _schema_diff(migrated_db_url, Base.metadata) == []


async def test_schema_comparison_can_see_a_difference(db_url: str) -> None:
    """Guards the test above: on an empty database the comparison reports every table."""
    diff = await _schema_diff(db_url, Base.metadata)
    added = {
        entry[1].name for entry in diff if isinstance(entry, tuple) and entry[0] == "add_table"
    }
    assert added == set(Base.metadata.tables)


async def test_venues_are_seeded_from_the_catalogue(db_session: AsyncSession) -> None:
    rows = {
        venue.name: (venue.display_name, venue.kind, venue.funding_interval_hours)
        for venue in await db_session.scalars(select(Venue))
    }
    catalogue = {
        venue.name: (venue.display_name, venue.kind, venue.default_funding_interval_hours)
        for venue in VENUES.values()
    }
    assert rows == catalogue


async def test_uninitialised_database_names_the_fix(db_url: str) -> None:
    assert not await is_initialised(db_url)
    with pytest.raises(
        DatabaseNotInitialised, match=r"is not initialised; run `python -m database init`"
    ):
        await require_current_schema(db_url)
    await upgrade(db_url)
    assert await is_initialised(db_url)
    await require_current_schema(db_url)


async def test_checking_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert await schema_state(f"sqlite+aiosqlite:///{path}") is SchemaState.MISSING
    assert not path.exists()


async def test_unknown_revision_is_a_user_error(db_url: str) -> None:
    with pytest.raises(DatabaseConfigError, match="Can't locate revision identified by 'nope'"):
        await upgrade(db_url, "nope")


async def test_unreachable_server_is_one_clear_error() -> None:
    url = "postgresql+asyncpg://postgres:topsecretpw@127.0.0.1:1/none"
    with pytest.raises(DatabaseConfigError) as caught:
        await upgrade(url)
    message = str(caught.value)
    assert message.startswith(
        "cannot connect to the database at postgresql+asyncpg://postgres:***@"
    )
    assert "topsecretpw" not in message


def test_the_light_schema_check_agrees_with_alembic_on_the_revisions() -> None:
    """Bots check the schema without importing Alembic: both must name the same head."""
    from alembic.script import ScriptDirectory

    from database.schema_version import known_revisions

    scripts = ScriptDirectory.from_config(alembic_config())
    known, head = known_revisions()
    assert head == scripts.get_current_head() == head_revision()
    assert known == {script.revision for script in scripts.walk_revisions()}


@pytest.mark.parametrize(
    ("revision", "table", "row", "says"),
    [
        (
            "0014",
            "order_intents",
            "('pending-1', 1, '()')",
            "1 order intent(s) are not in the orders table yet",
        ),
        (
            "0015",
            "order_id_reservations",
            "('reserved-1', 1, 'paper', 1, 'BTC', 'entry', CURRENT_TIMESTAMP)",
            "1 reserved client order id(s) are still held",
        ),
    ],
)
async def test_a_downgrade_refuses_to_drop_what_a_bot_still_needs(
    migrated_db_url: str, revision: str, table: str, row: str, says: str
) -> None:
    """An intent not yet in ``orders``, or a reserved id an order may have been sent under,
    would be lost with its table: the downgrade stops and says what to do."""
    engine = create_engine(migrated_db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"INSERT INTO {table} VALUES {row}"))  # noqa: S608
    finally:
        await engine.dispose()
    with pytest.raises(RuntimeError, match=rf"{re.escape(says)}: start each bot once"):
        await downgrade(revision, migrated_db_url)
    assert await current_revision(migrated_db_url) == head_revision()
    assert table in await _tables(migrated_db_url)
