"""Database fixtures: every DB test runs on SQLite and on PostgreSQL.

* ``db_url`` — an empty database (a fresh SQLite file, or a freshly created
  PostgreSQL database dropped after the test), for migration tests;
* ``migrated_db_url`` — a database at head, copied from a template migrated
  once per session (a file copy, or ``CREATE DATABASE ... TEMPLATE``), so
  tests do not pay for a migration each;
* ``db_engine`` / ``db_sessions`` / ``db_session`` on top of it.

PostgreSQL comes from ``$PERPFLEET_TEST_POSTGRES_URL`` (an admin URL, default
``postgresql://postgres@127.0.0.1:5432/test``). When it is unreachable the
postgresql variants are skipped with the reason, unless
``PERPFLEET_TEST_REQUIRE_POSTGRES=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.engine import create_engine, session_maker
from database.migrate import upgrade

POSTGRES_URL_ENV = "PERPFLEET_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REQUIRE_POSTGRES_ENV = "PERPFLEET_TEST_REQUIRE_POSTGRES"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@dataclass
class PostgresServer:
    """The test server, reached through its admin URL; creates and drops scratch databases.

    ``CREATE DATABASE`` costs ~0.25 s (it syncs to disk), so the next migrated
    copy is created in a background thread while the current test runs.
    """

    admin_dsn: str
    unavailable_reason: str | None = None
    template: str | None = None
    _spare: Future[str] | None = None
    _worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))

    def take_migrated(self) -> str:
        """A fresh copy of the migrated template (the caller drops it)."""
        spare, self._spare = self._spare, None
        name = spare.result() if spare is not None else self.create(self.template)
        self._spare = self._worker.submit(self.create, self.template)
        return name

    def close(self) -> None:
        if self._spare is not None:
            self.drop(self._spare.result())
        self._worker.shutdown()
        if self.template is not None:
            self.drop(self.template)

    def url_for(self, database: str) -> str:
        return (
            make_url(self.admin_dsn)
            .set(drivername="postgresql+asyncpg", database=database)
            .render_as_string(hide_password=False)
        )

    def create(self, template: str | None = None) -> str:
        name = f"perpfleet_test_{uuid.uuid4().hex[:16]}"
        clause = f" TEMPLATE {template}" if template else ""
        self._admin(f"CREATE DATABASE {name}{clause}")
        return name

    def drop(self, name: str) -> None:
        # FORCE terminates the connections still open on it (PostgreSQL 13+).
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        async def run() -> None:
            connection = await asyncpg.connect(self.admin_dsn, timeout=5)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(run())


def _admin_dsn() -> str:
    url = make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Probe the server once; build the migrated template database when it is there."""
    server = PostgresServer(_admin_dsn())
    try:
        server._admin("SELECT 1")
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        where = make_url(server.admin_dsn).render_as_string(hide_password=True)
        server.unavailable_reason = f"PostgreSQL at {where} is unreachable: {exc}"
        yield server
        return
    server.template = server.create()
    try:
        asyncio.run(upgrade(server.url_for(server.template)))
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        if server.unavailable_reason is not None:
            if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
                pytest.fail(f"{server.unavailable_reason} (and {REQUIRE_POSTGRES_ENV}=1)")
            pytest.skip(server.unavailable_reason)
    return backend


def _scratch_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, *, migrated: bool
) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "db" / "perpfleet.db"
        path.parent.mkdir(mode=0o700)  # as database.engine creates them: private
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            path.chmod(0o600)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.take_migrated() if migrated else server.create()
    try:
        yield server.url_for(name)
    finally:
        server.drop(name)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the parametrized backend (async driver URL)."""
    yield from _scratch_database(request, db_backend, tmp_path, migrated=False)


@pytest.fixture
def migrated_db_url(
    request: pytest.FixtureRequest, db_backend: str, tmp_path: Path
) -> Iterator[str]:
    """A database at the head revision on the parametrized backend."""
    yield from _scratch_database(request, db_backend, tmp_path, migrated=True)


@pytest.fixture
async def db_engine(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def db_sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_maker(db_engine)


@pytest.fixture
async def db_session(
    db_sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with db_sessions() as session:
        yield session
