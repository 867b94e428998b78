"""Alembic environment: runs migrations on the connection perpfleet hands in.

:mod:`database.migrate` passes a sync connection (from an async engine's
``run_sync``) in ``config.attributes["connection"]``. When Alembic's own CLI is
used instead, the URL is resolved the way the application resolves it.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from database.engine import create_engine, database_url
from database.models import Base


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_configured_url() -> None:
    engine = create_engine()
    try:
        async with engine.connect() as connection, connection.begin():
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    """``alembic upgrade --sql``: print the SQL for a DBA instead of executing it."""
    context.configure(url=database_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (given := context.config.attributes.get("connection")) is not None:
    _configure_and_run(given)
else:
    asyncio.run(_run_from_configured_url())
