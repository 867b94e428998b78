"""Is the database ready? The schema check every process makes at start, without Alembic.

Importing Alembic costs a bot process ~11 MB and ~0.15 s for a question one query answers:
the revision the database records (``alembic_version``, the table Alembic maintains) against
the newest revision this code ships, read from the migration files' ``revision`` /
``down_revision`` lines. Migrating itself (:mod:`database.migrate`) still uses Alembic; a test
checks that both agree on the head.
"""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from database.engine import create_engine, database_url, display_url, sqlite_path
from database.errors import DatabaseConfigError, DatabaseNotInitialised

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = MIGRATIONS_DIR.parent / "alembic.ini"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
_REVISION = re.compile(r'^revision(?::\s*str)?\s*=\s*"([^"]+)"', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision(?::[^=]+)?=\s*(?:"([^"]+)"|None)', re.MULTILINE)


class SchemaState(enum.Enum):
    MISSING = "missing"  # no perpfleet schema at all
    OUTDATED = "outdated"  # an older revision: run migrate
    CURRENT = "current"
    UNKNOWN = "unknown"  # a revision this code does not know (written by newer code)


@cache
def known_revisions() -> tuple[frozenset[str], str]:
    """Every revision the shipped migrations define, and the head (the one nothing follows)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS_DIR.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:
            raise RuntimeError(f"{path.name}: no revision/down_revision line")
        revisions.add(revision.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have exactly one head, found {sorted(heads)}")
    return frozenset(revisions), heads.pop()


def head_revision() -> str:
    """The newest revision this code knows."""
    return known_revisions()[1]


async def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None when it has no perpfleet schema.

    A SQLite file that does not exist is reported as None without creating it.
    """
    resolved = url or database_url()
    if _sqlite_file_missing(resolved):
        return None
    engine = create_engine(resolved)
    try:
        async with connect(engine, resolved) as connection:
            has_table = await connection.run_sync(
                lambda sync: inspect(sync).has_table("alembic_version")
            )
            if not has_table:
                return None
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            return str(revision) if revision is not None else None
    finally:
        await engine.dispose()


async def schema_state(url: str | None = None) -> SchemaState:
    """Compare the database's revision with the code's head."""
    revision = await current_revision(url)
    if revision is None:
        return SchemaState.MISSING
    known, head = known_revisions()
    if revision == head:
        return SchemaState.CURRENT
    return SchemaState.OUTDATED if revision in known else SchemaState.UNKNOWN


async def is_initialised(url: str | None = None) -> bool:
    """True when the database has a perpfleet schema (of any revision)."""
    return await schema_state(url) is not SchemaState.MISSING


async def require_current_schema(url: str | None = None) -> None:
    """Raise :class:`DatabaseNotInitialised` with the command that fixes it unless at head.

    Used by the admin CLI before any data command, by every bot at start and by
    ``runbot.py --check``.
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


@asynccontextmanager
async def connect(engine: AsyncEngine, url: str) -> AsyncIterator[AsyncConnection]:
    """A connection, with "server down / no such database / bad login" turned into one line."""
    try:
        connection = await engine.connect()
    except Exception as exc:  # any failure to connect is the URL's or the server's, not ours
        raise DatabaseConfigError(
            f"cannot connect to the database at {display_url(url)}: {reason(exc)}"
        ) from None
    try:
        yield connection
    finally:
        await connection.close()


def reason(exc: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's wrapper text and links."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(original).strip().splitlines()
    # The asyncpg adapter prefixes "<class 'asyncpg.exceptions.X'>: ": the message is enough.
    first = re.sub(r"^<class '[\w.]+'>: ", "", lines[0]) if lines else ""
    return first or type(original).__name__


def _sqlite_file_missing(url: str) -> bool:
    """Connecting would create the file, turning "not initialised" into an empty database."""
    path = sqlite_path(url)
    return path is not None and not Path(path).exists()
