"""Run a benchmark on each database a bot may journal to: a SQLite file, then PostgreSQL.

PostgreSQL gets a scratch database created on the server at ``PERPFLEET_BENCH_POSTGRES_URL``
(default: the local one) and dropped afterwards, so a benchmark never writes into a database
someone uses; when no server answers, that half is skipped with a note.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from database.migrate import upgrade

POSTGRES_ENV = "PERPFLEET_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

Bench = Callable[[str], Awaitable[None]]


def on_each_database(bench: Bench) -> None:
    """``bench(url)`` on a migrated SQLite file, then on a migrated scratch PostgreSQL db."""
    with tempfile.TemporaryDirectory() as tmp:
        sys.stdout.write("  journal on SQLite (file, WAL)\n")
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(_migrated(url, bench))
    asyncio.run(_on_scratch_postgres(os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES), bench))


async def _migrated(url: str, bench: Bench) -> None:
    await upgrade(url)
    await bench(url)


async def _on_scratch_postgres(server: str, bench: Bench) -> None:
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        sys.stdout.write(f"  journal on PostgreSQL: skipped ({exc})\n")
        return
    name = f"perpfleet_bench_{uuid.uuid4().hex[:12]}"
    try:
        await connection.execute(f"CREATE DATABASE {name}")
        sys.stdout.write("  journal on PostgreSQL\n")
        await _migrated(
            make_url(server).set(database=name).render_as_string(hide_password=False), bench
        )
    finally:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.close()
