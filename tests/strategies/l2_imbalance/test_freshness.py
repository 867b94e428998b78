"""The DataStale guard: no entry on an old or just-resynced book; exits still run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import structlog

from core.errors import DataStale, TimeStopReached
from exchange_clients.types import BookSnapshot
from strategies.l2_imbalance.freshness import BookFreshness
from tests.strategies.l2_imbalance.helpers import (
    BUY_BOOK,
    ENTRY_SIZE,
    D,
    Sessions,
    book,
    config,
    last_breach,
    position,
    quote,
    rows,
    scalper,
)
from tests.strategies.rig import StrategyRig, strategy_rig

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def snapshot(sequence: int | None, ts: datetime = T0) -> BookSnapshot:
    return BookSnapshot("BTC", ((D(1), D(1)),), ((D(2), D(1)),), ts, sequence)


def guard() -> BookFreshness:
    return BookFreshness(max_age=timedelta(seconds=2), quiet=timedelta(seconds=5))


def test_a_book_whose_sequence_stopped_is_stale_even_stamped_now() -> None:
    fresh = guard()
    fresh.observe(snapshot(1), T0)
    later = T0 + timedelta(seconds=2)
    fresh.check(snapshot(1, later), later)  # 2 s: at the bound, not over it
    later = T0 + timedelta(seconds=2.5)
    fresh.observe(snapshot(1, later), later)
    with pytest.raises(DataStale, match=r"book unchanged for 2\.5 s, max_book_age_seconds is 2"):
        fresh.check(snapshot(1, later), later)
    fresh.observe(snapshot(2, later), later)
    fresh.check(snapshot(2, later), later)


def test_a_book_stamped_old_is_stale() -> None:
    fresh = guard()
    now = T0 + timedelta(seconds=3)
    fresh.observe(snapshot(None, T0), now)
    with pytest.raises(DataStale, match="unchanged for 3 s"):
        fresh.check(snapshot(None, T0), now)


def test_a_sequence_going_back_is_a_resync() -> None:
    fresh = guard()
    fresh.observe(snapshot(10), T0)
    fresh.observe(snapshot(3), T0 + timedelta(seconds=1))
    with pytest.raises(DataStale, match="resynced 1 s ago, resync_quiet_seconds is 5"):
        fresh.check(snapshot(3), T0 + timedelta(seconds=2))
    later = T0 + timedelta(seconds=6)
    fresh.observe(snapshot(4, later), later)
    fresh.check(snapshot(4, later), later)


def test_a_book_quoted_again_after_being_withdrawn_is_a_resync() -> None:
    """A live feed's WebSocket drop: the book is published empty, then rebuilt (numbered on)."""
    fresh = guard()
    fresh.observe(snapshot(10), T0)
    fresh.check(snapshot(10), T0)
    empty = BookSnapshot("BTC", (), (), T0 + timedelta(seconds=1), 11)
    fresh.observe(empty, T0 + timedelta(seconds=1))
    back = T0 + timedelta(seconds=3)
    fresh.observe(snapshot(12, back), back)
    with pytest.raises(DataStale, match="resynced 1 s ago"):
        fresh.check(snapshot(12, back), back + timedelta(seconds=1))
    later = back + timedelta(seconds=5)
    fresh.observe(snapshot(13, later), later)
    fresh.check(snapshot(13, later), later)


async def stale_signal(rig: StrategyRig, seconds: float) -> None:
    """The buy book, seen by the strategy (paused: no entry), then left alone ``seconds``."""
    rig.context.paused.set()
    await book(rig, BUY_BOOK)
    await rig.step()
    await rig.advance(seconds)
    rig.context.paused.clear()


async def test_no_entry_on_a_book_older_than_the_bound(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await stale_signal(rig, 2.5)
        await rig.step()
        assert await rows(rig) == []
        assert isinstance(last_breach(rig), DataStale)
        await book(rig, ((("99.9", "11"),), (("100.0", "3"),)))  # the book moves again
        await rig.step()
        assert len(await rows(rig, purpose="l2_entry")) == 1


async def test_the_age_bound_is_a_parameter(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config(max_book_age_seconds=D(3))) as rig:
        await stale_signal(rig, 2.5)
        await rig.step()
        assert len(await rows(rig, purpose="l2_entry")) == 1


async def reconnect(rig: StrategyRig) -> None:
    """Drop the venue's connection and bring it back: the client publishes Reconnected."""
    client = rig.venues.clients["paper"]
    client.faults.disconnect()
    with pytest.raises(Exception, match="connection lost"):
        await client.positions()
    client.faults.reconnect()
    await client.positions()  # the first request through: reconnected, resynced


async def test_no_entry_right_after_a_resync(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await reconnect(rig)
        await book(rig, BUY_BOOK)
        await rig.step()
        assert await rows(rig) == []
        assert "resynced 0 s ago" in str(last_breach(rig))
        await rig.advance(5)
        await book(rig, ((("99.9", "11"),), (("100.0", "3"),)))
        await rig.step()
        assert len(await rows(rig, purpose="l2_entry")) == 1


async def test_the_resync_quiet_time_is_a_parameter(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config(resync_quiet_seconds=D(0))) as rig:
        await reconnect(rig)
        await book(rig, BUY_BOOK)
        await rig.step()
        assert len(await rows(rig, purpose="l2_entry")) == 1


async def test_exits_still_run_on_a_stale_or_resynced_book(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        assert (await position(rig)) is not None
        await reconnect(rig)
        await quote(rig, "99.8", "99.9")  # stop-loss level, moments after a resync
        await rig.step()
        assert [r.status for r in await rows(rig, purpose="l2_exit")] == ["filled"]
        assert await position(rig) is None
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        await rig.advance(60)  # the book never moved: stale for a minute
        await rig.step()
        assert isinstance(last_breach(rig), TimeStopReached)
        assert await position(rig) is None
        assert scalper(rig).closed_trades == 1
        assert (await rows(rig, purpose="l2_entry"))[0].filled_size == ENTRY_SIZE


async def test_a_refusal_repeated_every_step_is_logged_once(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await stale_signal(rig, 2.5)
        with structlog.testing.capture_logs() as logs:
            await rig.step(3)
        limits = [line for line in logs if line["event"] == "limit"]
        assert [line["limit"] for line in limits] == ["DataStale"]
        assert len(scalper(rig).breaches) == 3
