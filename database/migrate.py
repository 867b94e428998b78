"""Schema migrations (Alembic) and the "is the database ready?" check.

Alembic is synchronous; perpfleet's engines are async. Each operation opens an
async connection and hands its sync facade to Alembic through
``connection.run_sync``, so the same coroutines serve the admin CLI (through
``asyncio.run``) and async code or tests (``await``) without a second driver.
Each upgrade or downgrade runs in one transaction: on PostgreSQL and on SQLite
(see :mod:`database.engine`) a failed migration leaves the schema as it was.
"""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from database.engine import (
    create_engine,
    database_url,
    display_url,
    normalise_url,
    sqlite_path,
)
from database.errors import DatabaseConfigError, DatabaseNotInitialised

_PACKAGE_DIR = Path(__file__).resolve().parent
ALEMBIC_INI = _PACKAGE_DIR / "alembic.ini"
MIGRATIONS_DIR = _PACKAGE_DIR / "migrations"


class SchemaState(enum.Enum):
    MISSING = "missing"  # no perpfleet schema at all
    OUTDATED = "outdated"  # an older revision: run migrate
    CURRENT = "current"
    UNKNOWN = "unknown"  # a revision this code does not know (written by newer code)


def alembic_config() -> Config:
    """The Alembic configuration of the packaged migrations, independent of the cwd."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


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
        async with _connect(maintenance, resolved) as connection:
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
                    f"and {role!r} may not create it ({_reason(exc)}); ask an administrator to "
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


async def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None when it has no perpfleet schema.

    A SQLite file that does not exist is reported as None without creating it.
    """
    resolved = url or database_url()
    if _sqlite_file_missing(resolved):
        return None
    engine = create_engine(resolved)
    try:
        async with _connect(engine, resolved) as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


async def schema_state(url: str | None = None) -> SchemaState:
    """Compare the database's revision with the code's head."""
    revision = await current_revision(url)
    if revision is None:
        return SchemaState.MISSING
    if revision == head_revision():
        return SchemaState.CURRENT
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    return SchemaState.OUTDATED if revision in known else SchemaState.UNKNOWN


async def is_initialised(url: str | None = None) -> bool:
    """True when the database has a perpfleet schema (of any revision)."""
    return await schema_state(url) is not SchemaState.MISSING


async def require_current_schema(url: str | None = None) -> None:
    """Raise :class:`DatabaseNotInitialised` with the command that fixes it unless at head.

    Used by the admin CLI before any data command and by ``runbot.py --check``.
    """
    resolved = url or database_url()
    state = await schema_state(resolved)
    where = display_url(resolved)
    if state is SchemaState.MISSING:
        raise DatabaseNotInitialised(
            f"database at {where} is not initialised; run `python -m database init`"
        )
    if state is SchemaState.OUTDATED:
        raise DatabaseNotInitialised(
            f"database at {where} is at an older schema revision; run `python -m database migrate`"
        )
    if state is SchemaState.UNKNOWN:
        raise DatabaseNotInitialised(
            f"database at {where} has a schema revision this version of perpfleet does not "
            "know (written by a newer version?); upgrade perpfleet"
        )


async def _run_alembic(url: str | None, operation: Callable[[Config], None]) -> None:
    resolved = url or database_url()
    engine = create_engine(resolved)

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        operation(config)

    try:
        async with _connect(engine, resolved) as connection, connection.begin():
            await connection.run_sync(run)
    except CommandError as exc:  # unknown revision, ambiguous target ...
        raise DatabaseConfigError(f"cannot migrate {display_url(resolved)}: {exc}") from None
    finally:
        await engine.dispose()


@asynccontextmanager
async def _connect(engine: AsyncEngine, url: str) -> AsyncIterator[AsyncConnection]:
    """A connection, with "server down / no such database / bad login" turned into one line."""
    try:
        connection = await engine.connect()
    except Exception as exc:  # any failure to connect is the URL's or the server's, not ours
        raise DatabaseConfigError(
            f"cannot connect to the database at {display_url(url)}: {_reason(exc)}"
        ) from None
    try:
        yield connection
    finally:
        await connection.close()


def _sqlite_file_missing(url: str) -> bool:
    """Connecting would create the file, turning "not initialised" into an empty database."""
    path = sqlite_path(url)
    return path is not None and not Path(path).exists()


def _reason(exc: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's wrapper text and links."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(original).strip().splitlines()
    # The asyncpg adapter prefixes "<class 'asyncpg.exceptions.X'>: ": the message is enough.
    first = re.sub(r"^<class '[\w.]+'>: ", "", lines[0]) if lines else ""
    return first or type(original).__name__
