"""The strategy state store on SQLite and PostgreSQL: the first save inserts, later saves
replace the document (and its strategy) in place, and a load answers only the strategy that
saved it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Bot, StrategyState
from strategies.state_store import StrategyStateStore


async def _bot(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions.begin() as session:
        bot = Bot(name=name, config={})
        session.add(bot)
        await session.flush()
        return bot.id


async def test_saves_insert_once_then_replace_the_document(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    bot_id = await _bot(db_sessions, "state-a")
    store = StrategyStateStore(db_sessions, bot_id)
    assert await store.load("grid") is None

    await store.save("grid", {"entry_id": "g-1", "levels": ["100.5", "101"]})
    async with db_sessions() as session:
        first = await session.get(StrategyState, bot_id)
        assert first is not None
        created, updated = first.created_at, first.updated_at
    assert await store.load("grid") == {"entry_id": "g-1", "levels": ["100.5", "101"]}

    await store.save("grid", {"entry_id": None})
    await store.save("l2_imbalance", {"trades": {}})
    async with db_sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(StrategyState).where(StrategyState.bot_id == bot_id)
        )
        row = await session.get(StrategyState, bot_id)
    assert rows == 1
    assert row is not None
    assert row.created_at == created
    assert row.updated_at > updated  # refreshed by every save
    # The last save names another strategy: the grid's document is gone, not merged.
    assert await store.load("grid") is None
    assert await store.load("l2_imbalance") == {"trades": {}}


async def test_each_bot_keeps_its_own_state(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    one, two = await _bot(db_sessions, "state-b"), await _bot(db_sessions, "state-c")
    await StrategyStateStore(db_sessions, one).save("grid", {"n": 1})
    await StrategyStateStore(db_sessions, two).save("grid", {"n": 2})
    await StrategyStateStore(db_sessions, one).save("grid", {"n": 3})
    assert await StrategyStateStore(db_sessions, one).load("grid") == {"n": 3}
    assert await StrategyStateStore(db_sessions, two).load("grid") == {"n": 2}
