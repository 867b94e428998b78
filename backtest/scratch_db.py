"""The database a backtest's journal, state store and bot rows live in: a scratch SQLite file.

A backtest runs the live order path, and that path journals every order before sending it;
its rows are scaffolding here (the results go to ``backtest_runs`` in the user's database),
so each run gets a private SQLite file in a temporary folder, copied from a template migrated
once per process (a migration costs far more than a copy), and deleted afterwards.

Its connections count their operations in flight (:class:`~backtest.clock.IoGauge`): the
simulated clock does not move while the journal is being written, so thread timing never
changes a result. aiosqlite runs every statement, fetch and commit through one method of its
connection, ``_execute``; :class:`_CountingConnection` wraps exactly that.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backtest.clock import IoGauge
from database.engine import create_engine, session_maker
from database.migrate import upgrade

_template: Path | None = None
_template_lock = asyncio.Lock()


class _CountingConnection(aiosqlite.Connection):
    """An aiosqlite connection that tells a gauge how many of its operations are in flight."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], gauge: IoGauge) -> None:
        super().__init__(connector, 64)
        self._gauge = gauge

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self._gauge.in_flight += 1
        try:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            self._gauge.in_flight -= 1


@dataclass
class ScratchDatabase:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def _migrated_template() -> Path:
    global _template
    async with _template_lock:
        if _template is None or not await asyncio.to_thread(_template.exists):
            folder = Path(tempfile.mkdtemp(prefix="perpfleet-backtest-template-"))
            path = folder / "template.db"
            await upgrade(f"sqlite+aiosqlite:///{path}")
            _template = path
        return _template


@asynccontextmanager
async def scratch_database(gauge: IoGauge) -> AsyncIterator[ScratchDatabase]:
    """A migrated private database whose I/O ``gauge`` counts; removed on exit."""
    template = await _migrated_template()
    folder = Path(tempfile.mkdtemp(prefix="perpfleet-backtest-"))
    path = folder / "run.db"
    try:
        path.touch(mode=0o600)  # private, like every database file the project creates
        shutil.copyfile(template, path)
        connector = partial(sqlite3.connect, str(path), check_same_thread=False)

        async def connect() -> aiosqlite.Connection:
            return await _CountingConnection(connector, gauge)

        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url, async_creator=connect)
        try:
            yield ScratchDatabase(url, engine, session_maker(engine))
        finally:
            await engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
