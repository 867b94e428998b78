"""The operations journal: the plan committed before any order, the result once it ends."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import AtomicOperation, Bot
from execution.atomic import AtomicStatus, OperationStore
from execution.atomic.operations import OperationJournalError
from execution.atomic.result import AtomicResult

PLAN = {"legs": [{"venue": "paper_a", "size": Decimal("0.5")}], "policy": "market"}


@pytest.fixture
async def store(db_sessions: async_sessionmaker[AsyncSession]) -> OperationStore:
    async with db_sessions.begin() as session:
        bot = Bot(name="operations-test", config={})
        session.add(bot)
    return OperationStore(db_sessions, bot.id)


def _ended(operation_id: str, status: AtomicStatus = AtomicStatus.COMPLETED) -> AtomicResult:
    result = AtomicResult(operation_id, [])
    result.status = status
    result.note("both legs filled")
    return result


async def test_an_operation_is_running_from_its_plan_until_it_finishes(
    store: OperationStore, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await store.begin("op-1", "arb_open", PLAN)
    running = await store.get("op-1")
    assert (running.purpose, running.status, running.result) == ("arb_open", "running", None)
    assert running.plan == {"legs": [{"venue": "paper_a", "size": "0.5"}], "policy": "market"}
    assert [o.operation_id for o in await store.unfinished()] == ["op-1"]
    async with db_sessions() as session:
        begun = await session.scalar(select(AtomicOperation.updated_at))

    await store.finish(_ended("op-1"), error="a note")

    finished = await store.get("op-1")
    assert finished.status == "completed"
    assert finished.result is not None
    assert finished.result["events"] == ["both legs filled"]
    assert finished.plan == running.plan
    assert await store.unfinished() == []
    async with db_sessions() as session:
        row = await session.scalar(select(AtomicOperation))
        assert row is not None
        assert row.error == "a note"
        assert begun is not None
        assert row.updated_at >= begun  # the column's onupdate applies


async def test_an_operation_finishes_once(store: OperationStore) -> None:
    await store.begin("op-2", None, PLAN)
    await store.finish(_ended("op-2", AtomicStatus.FAILED))
    with pytest.raises(OperationJournalError, match="already ended failed"):
        await store.finish(_ended("op-2"))
    assert (await store.get("op-2")).status == "failed"  # the first end stays


async def test_an_unknown_operation_cannot_finish(store: OperationStore) -> None:
    with pytest.raises(OperationJournalError, match="is not in this bot's journal"):
        await store.finish(_ended("op-unknown"))


async def test_another_bots_operation_cannot_be_finished_from_here(
    store: OperationStore, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with db_sessions.begin() as session:
        other_bot = Bot(name="operations-other", config={})
        session.add(other_bot)
    other = OperationStore(db_sessions, other_bot.id)
    await other.begin("op-theirs", None, PLAN)
    with pytest.raises(OperationJournalError, match="is not in this bot's journal"):
        await store.finish(_ended("op-theirs"))
    assert (await other.get("op-theirs")).status == "running"


async def test_a_refused_operation_is_stored_ended(store: OperationStore) -> None:
    result = _ended("op-3", AtomicStatus.PREFLIGHT_FAILED)
    await store.refused("op-3", "arb_open", PLAN, result)
    stored = await store.get("op-3")
    assert stored.status == "preflight_failed"
    assert stored.result is not None
    assert stored.result["status"] == "preflight_failed"
    assert await store.unfinished() == []
