"""Group commit on both databases: shared transactions, isolated failures, urgent first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.models import Bot
from execution.group_commit import GroupCommitter, QuietPointCommitter

Work = Callable[[AsyncSession], Awaitable[str]]
T = TypeVar("T")


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


async def test_a_quiet_point_committer_holds_every_write_until_flushed_then_commits_them_together(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    committer = QuietPointCommitter(db_sessions)
    commits = count_commits(db_engine)
    urgent = asyncio.ensure_future(committer.run(add_bot("intent")))
    deferred = asyncio.ensure_future(committer.run_deferred(add_bot("bookkeeping")))
    submitted = committer.submit(add_bot("move"))
    committer.expedite()  # held anyway: the next quiet point commits it
    for _ in range(5):
        await asyncio.sleep(0)
    assert [f.done() for f in (urgent, deferred, submitted)] == [False] * 3
    assert commits == [0]
    assert committer.flush()  # started: the loop has work now
    outcomes = list(await asyncio.gather(urgent, deferred, submitted))
    assert outcomes == ["intent", "bookkeeping", "move"]
    assert commits == [1]
    assert await bot_names(db_sessions) == {"intent", "bookkeeping", "move"}
    assert not committer.flush()  # nothing held: quiet


async def test_a_quiet_point_batch_commits_in_the_order_asked_and_fails_the_faulty_write_alone(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = QuietPointCommitter(db_sessions)
    seen: list[str] = []

    def reads_first(name: str) -> Work:
        async def work(session: AsyncSession) -> str:
            seen.append(",".join(sorted(await session.scalars(select(Bot.name)))))
            return await add_bot(name)(session)

        return work

    first = asyncio.ensure_future(committer.run_deferred(reads_first("a")))
    clash = asyncio.ensure_future(committer.run(add_bot("a")))  # unique name: this one fails
    last = asyncio.ensure_future(committer.run(reads_first("b")))
    await asyncio.sleep(0)
    assert committer.flush()
    assert await first == "a"
    with pytest.raises(IntegrityError):
        await clash
    assert await last == "b"
    assert seen[-1] == "a"  # the deferred write, asked first, came first
    assert await bot_names(db_sessions) == {"a", "b"}


async def test_a_released_quiet_point_committer_commits_what_it_held_and_then_at_once(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = QuietPointCommitter(db_sessions)
    held = asyncio.ensure_future(committer.run(add_bot("held")))
    await asyncio.sleep(0)
    committer.release()  # the clock no longer drives the loop: nobody would flush
    assert await asyncio.wait_for(held, 10) == "held"
    assert await asyncio.wait_for(committer.run(add_bot("later")), 10) == "later"
    assert not committer.flush()
    assert await bot_names(db_sessions) == {"held", "later"}


async def test_a_flush_while_the_last_one_is_under_way_commits_after_it(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = QuietPointCommitter(db_sessions)
    order: list[str] = []
    gate = asyncio.Event()

    def noting(name: str, wait: bool = False) -> Work:
        async def work(session: AsyncSession) -> str:
            if wait:
                await gate.wait()
            order.append(name)
            return await add_bot(name)(session)

        return work

    first = asyncio.ensure_future(committer.run(noting("first", wait=True)))
    await asyncio.sleep(0)
    assert committer.flush()
    await asyncio.sleep(0)
    second = asyncio.ensure_future(committer.run(noting("second")))
    await asyncio.sleep(0)
    assert committer.flush()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == []  # the second batch waits for the first transaction to end
    gate.set()
    assert list(await asyncio.gather(first, second)) == ["first", "second"]
    assert order == ["first", "second"]


async def test_a_quiet_point_transaction_sees_rows_as_they_are_now_not_as_it_last_read_them(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Its transactions share one session: each starts with nothing loaded, as a new one
    would, or a row changed by someone else in between would be read as it was."""
    committer = QuietPointCommitter(db_sessions)

    async def commit(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        pending = asyncio.ensure_future(committer.run(work))
        await asyncio.sleep(0)
        assert committer.flush()
        return await pending

    async def load(session: AsyncSession) -> Bot:
        return (await session.scalars(select(Bot).where(Bot.name == "b"))).one()

    async def config_of(session: AsyncSession) -> str:
        return str((await load(session)).config)

    await commit(add_bot("b"))
    kept = await commit(load)  # still referenced: a session would keep it in its identity map
    assert kept.config == {}
    async with db_sessions.begin() as other:
        (await other.scalars(select(Bot).where(Bot.name == "b"))).one().config = {"v": 2}
    assert await commit(config_of) == "{'v': 2}"


async def test_a_quiet_point_committer_says_when_it_starts_holding_writes(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    committer = QuietPointCommitter(db_sessions)
    told: list[int] = []
    committer.when_holding(lambda: told.append(len(committer._held)))
    first = committer.submit(add_bot("a"))
    second = committer.submit(add_bot("b"))
    assert told == [0]  # once, for the first write held: a flush is due
    assert committer.flush()
    assert list(await asyncio.gather(first, second)) == ["a", "b"]
    third = committer.submit(add_bot("c"))
    assert told == [0, 0]
    assert committer.flush()
    assert await third == "c"
