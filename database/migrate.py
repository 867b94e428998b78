"""Schema migrations (Alembic); the "is the database ready?" check is
:mod:`database.schema_version` (no Alembic import in a bot process).

Alembic is synchronous; perpfleet's engines are async. Each operation opens an
async connection and hands its sync facade to Alembic through
``connection.run_sync``, so the same coroutines serve the admin CLI (through
``asyncio.run``) and async code or tests (``await``) without a second driver.
Each upgrade or downgrade runs in one transaction: on PostgreSQL and on SQLite
(see :mod:`database.engine`) a failed migration leaves the schema as it was.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from database.engine import create_engine, database_url, display_url, normalise_url
from database.errors import DatabaseConfigError
from database.schema_version import ALEMBIC_INI, MIGRATIONS_DIR, connect, reason


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations, independent of the cwd."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def ensure_database_exists(url: str | None = None) -> bool:
    """Create the PostgreSQL database ``url`` names when it does not exist; True if created.

    ``database init`` promises "create the database if needed". The server's maintenance
    database (``postgres``) is used to run ``CREATE DATABASE``; when the role may not create
    databases, the error says exactly what an administrator must run. SQLite files are
    created by connecting, so there is nothing to do for them.
    """
    resolved = normalise_url(url) if url else database_url()
    parsed = make_url(resolved)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    name = parsed.database
    maintenance = create_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",  # CREATE DATABASE cannot run inside a transaction
    )
    try:
        async with connect(maintenance, resolved) as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists:
                return False
            quoted = maintenance.dialect.identifier_preparer.quote(name)
            try:
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
            except DBAPIError as exc:
                role = parsed.username or "your role"
                raise DatabaseConfigError(
                    f"database {name!r} does not exist on {parsed.host}:{parsed.port or 5432} "
                    f"and {role!r} may not create it ({reason(exc)}); ask an administrator to "
                    f"run `createdb -h {parsed.host} -O {role} {name}`, then run "
                    "`python -m database init` again"
                ) from None
            return True
    finally:
        await maintenance.dispose()


async def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (default: the configured one) up to ``revision``."""
    await _run_alembic(url, lambda config: command.upgrade(config, revision))


async def downgrade(revision: str, url: str | None = None) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base`` drops everything)."""
    await _run_alembic(url, lambda config: command.downgrade(config, revision))


async def _run_alembic(url: str | None, operation: Callable[[Config], None]) -> None:
    resolved = url or database_url()
    engine = create_engine(resolved)

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        operation(config)

    try:
        async with connect(engine, resolved) as connection, connection.begin():
            await connection.run_sync(run)
    except CommandError as exc:  # unknown revision, ambiguous target ...
        raise DatabaseConfigError(f"cannot migrate {display_url(resolved)}: {exc}") from None
    finally:
        await engine.dispose()
