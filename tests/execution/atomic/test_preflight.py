"""Preflight checks that need a venue: leverage allowed, set and confirmed; nothing sent."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from execution.atomic import AtomicStatus, AtomicTolerances, Leg
from tests.execution.atomic.rig import D, atomic_rig

Sessions = async_sessionmaker[AsyncSession]


async def test_leverage_is_set_on_every_venue_before_sending(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        result = await rig.run(tolerances=AtomicTolerances(leverage=D(3)))
        assert result.status is AtomicStatus.COMPLETED
        assert [await c.get_leverage("BTC") for c in rig.clients.values()] == [D(3), D(3)]
        for client in rig.clients.values():
            position = await client.position("BTC")
            assert position is not None
            assert position.leverage == D(3)


async def test_leverage_above_a_venue_maximum_is_refused_before_anything(
    db_sessions: Sessions,
) -> None:
    async with atomic_rig(db_sessions) as rig:
        before = [await c.get_leverage("BTC") for c in rig.clients.values()]
        result = await rig.run(tolerances=AtomicTolerances(leverage=D(50)))
        assert result.status is AtomicStatus.PREFLIGHT_FAILED
        assert result.problems == [
            "paper_a: leverage 50x exceeds the BTC maximum of 20x",
            "paper_b: leverage 50x exceeds the BTC maximum of 20x",
        ]
        assert [await c.get_leverage("BTC") for c in rig.clients.values()] == before
        assert (rig.a.sent, rig.b.sent) == ([], [])
        assert await rig.journal_rows() == []


async def test_margin_counts_the_leverage_and_the_buffer(db_sessions: Sessions) -> None:
    # 1 BTC at up to 100.5 (touch 100.0 + 0.5 % slippage) at 10x = 10.05 USD, + 20 % = 12.06.
    async with atomic_rig(db_sessions, balance=D("12.05")) as rig:
        result = await rig.run(tolerances=AtomicTolerances(leverage=D(10)))
        assert result.status is AtomicStatus.PREFLIGHT_FAILED
        assert any("needs 12.06 USD margin" in p for p in result.problems), result.problems
    async with atomic_rig(db_sessions, balance=D("12.10")) as rig:
        result = await rig.run(tolerances=AtomicTolerances(leverage=D(10)))
        assert result.status is AtomicStatus.COMPLETED


async def test_reduce_only_legs_never_open_a_position(db_sessions: Sessions) -> None:
    # Closing legs for a pair that is no longer there: the venues refuse them, nothing opens.
    async with atomic_rig(db_sessions, balance=D(1)) as rig:  # no margin: not needed to close
        closing = [
            Leg("paper_a", "BTC", "sell", D(1), reduce_only=True),
            Leg("paper_b", "BTC", "buy", D(1), reduce_only=True),
        ]
        result = await rig.drive(asyncio.ensure_future(rig.executor.execute(closing)))
        assert result.status is not AtomicStatus.PREFLIGHT_FAILED
        assert result.net_exposure == 0
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        assert all(row.reduce_only for row in await rig.journal_rows())
        await rig.assert_journal_is_true()
