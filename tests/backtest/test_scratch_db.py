"""The backtest's scratch database: statements without a thread hop, and no lock-up when two
transactions overlap."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from greenlet import getcurrent  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.util import await_only, greenlet_spawn

from backtest import scratch_db
from backtest.clock import IoGauge, SimulatedClock
from backtest.scratch_db import scratch_database
from core.paths import var_dir

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_statements_run_in_the_event_loops_thread() -> None:
    """No hop to the connection's thread and back for each statement (the cost it saves)."""
    async with scratch_database(IoGauge()) as db, db.sessions.begin() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.create_function("thread_id", 0, threading.get_ident)
        ran_in = (await session.execute(text("SELECT thread_id()"))).scalar_one()
    assert ran_in == threading.get_ident()


async def test_driver_calls_that_finish_at_once_need_no_switch_to_the_tasks_greenlet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLAlchemy's adapter awaits each driver call (cursor, execute, fetch, close, commit)
    through a greenlet switch to the task and back; run inline, they finish at once and are
    answered in place (but a greenlet's first) - and a failing statement still raises
    SQLAlchemy's error."""
    switches: list[object] = []
    real = await_only

    def counted(awaitable: object) -> object:
        switches.append(getcurrent())  # the greenlet switching out
        return real(awaitable)  # type: ignore[arg-type]

    async with scratch_database(IoGauge()) as db:
        async with db.sessions.begin() as session:
            await session.execute(text("CREATE TABLE t (n INTEGER)"))  # connected by now
        monkeypatch.setattr("backtest.scratch_db.await_only", counted)
        async with db.sessions.begin() as session:
            await session.execute(text("INSERT INTO t VALUES (1), (2)"))
            rows = (await session.execute(text("SELECT n FROM t ORDER BY n"))).scalars()
            assert list(rows) == [1, 2]
        async with db.sessions() as session:
            with pytest.raises(OperationalError, match="no such table"):
                await session.execute(text("SELECT * FROM missing"))
            from_greenlets = list(switches)
    # One switch for each of SQLAlchemy's greenlets (an execute, a commit), not one for each
    # of the four or five driver calls a statement makes.
    assert from_greenlets
    assert len(set(map(id, from_greenlets))) == len(from_greenlets)


async def test_sqlalchemys_connection_api_which_insists_on_a_switch_works() -> None:
    """``AsyncConnection.execute`` raises ``AwaitRequired`` when its call made no greenlet
    switch: each greenlet's first driver call still switches."""
    async with scratch_database(IoGauge()) as db, db.sessions() as session:
        connection = await session.connection()
        assert (await connection.execute(text("SELECT 7"))).scalar_one() == 7
        assert (await connection.exec_driver_sql("SELECT 8")).scalar_one() == 8


async def test_a_driver_call_that_waits_is_awaited_by_the_task_with_its_outcome() -> None:
    """A call handed to the connection's thread yields a future on its first step: the task's
    greenlet awaits the rest of it - its result, or its error - as ``await_only`` would."""
    loop = asyncio.get_running_loop()

    async def driver_call(answer: asyncio.Future[int]) -> int:
        return await answer + 1

    answered: asyncio.Future[int] = loop.create_future()
    loop.call_soon(answered.set_result, 41)
    assert await greenlet_spawn(scratch_db._await_inline, driver_call(answered)) == 42
    failed: asyncio.Future[int] = loop.create_future()
    loop.call_soon(failed.set_exception, sqlite3.OperationalError("database is locked"))
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await greenlet_spawn(scratch_db._await_inline, driver_call(failed))


async def test_overlapping_transactions_wait_for_each_other_in_threads() -> None:
    """A transaction paused on something else holds the write lock: the second one must wait
    for it in its thread (on the event loop's thread it could never be released)."""
    gauge = IoGauge()
    clock = SimulatedClock(T0, gauge)
    async with scratch_database(gauge) as db:
        async with db.sessions.begin() as session:
            await session.execute(text("CREATE TABLE t (who TEXT)"))
        resume = asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with db.sessions.begin() as session:
                await session.execute(text("INSERT INTO t VALUES ('first')"))
                order.append("first wrote")
                await resume.wait()  # paused inside its transaction
            order.append("first committed")

        async def second() -> None:
            async with db.sessions.begin() as session:
                await session.execute(text("INSERT INTO t VALUES ('second')"))
            order.append("second committed")

        one = asyncio.ensure_future(first())
        await clock.settle()
        assert order == ["first wrote"]
        two = asyncio.ensure_future(second())
        await asyncio.sleep(0.05)  # the second waits in its thread, the loop stays free
        assert gauge.in_flight == 1
        assert not two.done()
        resume.set()
        await asyncio.wait_for(asyncio.gather(one, two), timeout=5)
        await clock.settle()
        assert order == ["first wrote", "first committed", "second committed"]
        async with db.sessions.begin() as session:
            rows = (await session.execute(text("SELECT who FROM t ORDER BY rowid"))).scalars()
            assert list(rows) == ["first", "second"]
        assert gauge.in_flight == 0


async def test_the_migrated_template_is_kept_for_the_next_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Migrating costs more than a short backtest: a later process copies the kept template
    (the same file, not rebuilt), and a template of another schema is removed."""
    cache = var_dir() / "cache"
    cache.mkdir(parents=True)
    (cache / "backtest-template-0ld5chema.db").write_bytes(b"an older schema's template")
    monkeypatch.setattr(scratch_db, "_template", None)  # as in a fresh process
    async with scratch_database(IoGauge()):
        pass
    kept = cache / f"backtest-template-{scratch_db.template_key()}.db"
    assert [p.name for p in cache.iterdir()] == [kept.name]
    built = kept.stat()
    monkeypatch.setattr(scratch_db, "_template", None)  # the next process
    async with scratch_database(IoGauge()) as db, db.sessions.begin() as session:
        tables = (await session.execute(text("SELECT name FROM sqlite_master"))).scalars().all()
    assert "orders" in tables  # the copy holds the migrated schema
    again = kept.stat()
    assert (again.st_ino, again.st_mtime_ns) == (built.st_ino, built.st_mtime_ns)
