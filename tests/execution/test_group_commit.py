"""Group commit on both databases: shared transactions, isolated failures, urgent first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.models import Bot
from execution.group_commit import GroupCommitter

Work = Callable[[AsyncSession], Awaitable[str]]


def add_bot(name: str) -> Work:
    async def work(session: AsyncSession) -> str:
        session.add(Bot(name=name, config={}))
        await session.flush()
        return name

    return work


def count_commits(engine: AsyncEngine) -> list[int]:
    commits = [0]

    @event.listens_for(engine.sync_engine, "commit")
    def _count(_connection: object) -> None:
        commits[0] += 1

    return commits


async def bot_names(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(Bot.name)))


async def test_writes_issued_together_share_one_transaction(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    committer = GroupCommitter(db_sessions)
    commits = count_commits(db_engine)
    names = await asyncio.gather(*(committer.run(add_bot(f"bot-{i}")) for i in range(5)))
    assert names == [f"bot-{i}" for i in range(5)]
    assert commits == [1]
    assert await bot_names(db_sessions) == set(names)


async def test_a_failing_write_fails_alone(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    committer = GroupCommitter(db_sessions)
    await committer.run(add_bot("taken"))
    outcomes = await asyncio.gather(
        committer.run(add_bot("first")),
        committer.run(add_bot("taken")),  # unique name: this one, and only this one, fails
        committer.run(add_bot("second")),
        return_exceptions=True,
    )
    assert outcomes[0] == "first"
    assert isinstance(outcomes[1], IntegrityError)
    assert outcomes[2] == "second"
    assert await bot_names(db_sessions) == {"taken", "first", "second"}


async def test_urgent_writes_go_first_and_deferred_ones_wait_for_expedite(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = GroupCommitter(db_sessions, defer_seconds=3600)
    deferred = asyncio.ensure_future(committer.run_deferred(add_bot("bookkeeping")))
    await asyncio.sleep(0.05)
    assert await committer.run(add_bot("intent")) == "intent"
    assert await bot_names(db_sessions) == {"intent"}  # not made to carry the deferred write
    assert not deferred.done()
    committer.expedite()
    assert await asyncio.wait_for(deferred, 10) == "bookkeeping"
    assert await bot_names(db_sessions) == {"intent", "bookkeeping"}


async def test_a_cancelled_committer_fails_its_waiters(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = GroupCommitter(db_sessions, defer_seconds=3600)
    deferred = asyncio.ensure_future(committer.run_deferred(add_bot("never")))
    await asyncio.sleep(0.01)
    assert committer._task is not None
    committer._task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(deferred, 10)


async def test_a_submitted_write_is_not_waited_for_and_later_writes_queue_behind_it(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = GroupCommitter(db_sessions, defer_seconds=3600)
    seen: list[str] = []

    def reads_first(name: str) -> Work:
        async def work(session: AsyncSession) -> str:
            seen.extend(sorted(await session.scalars(select(Bot.name))))
            return name

        return work

    moved = committer.submit(add_bot("moved"))
    assert not moved.done()  # the caller goes on: nothing ran yet
    deferred = asyncio.ensure_future(committer.run_deferred(reads_first("later")))
    urgent = await committer.run(reads_first("urgent"))
    assert (await moved, urgent) == ("moved", "urgent")
    committer.expedite()
    assert await asyncio.wait_for(deferred, 10) == "later"
    assert seen == ["moved", "moved"]  # both later writes saw the submitted one
    failing = committer.submit(add_bot("moved"))  # unique name: fails, in its future alone
    with pytest.raises(IntegrityError):
        await failing


async def test_listeners_hear_of_each_committed_transaction_and_not_of_a_failed_one(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = GroupCommitter(db_sessions)
    heard: list[str] = []
    committer.after_commit(lambda: heard.append("committed"))
    await asyncio.gather(committer.run(add_bot("a")), committer.run(add_bot("b")))
    assert heard == ["committed"]  # one transaction for both writes
    await committer.run(add_bot("c"))
    assert heard == ["committed"] * 2
    with pytest.raises(IntegrityError):
        await committer.run(add_bot("c"))  # refused: nothing committed, nobody told
    assert heard == ["committed"] * 2
    assert await bot_names(db_sessions) == {"a", "b", "c"}
