"""Maker entries with break-even alignment (``AtomicTolerances(sequenced=True)``), both DBs.

The scripted books (tick 0.1): asks 1 @ 100.0, 2 @ 100.5; bids 1 @ 99.5, 2 @ 99.0 on both
venues. paper_a leads (buy 1 BTC); its maker bid rests inside the spread at 99.6. paper_b
follows by selling what paper_a filled, never below paper_a's fill + (99.5 - 100.0): the
spread the pair would have had crossing both touches at preflight.

Every case ends with the guarantees of the unsequenced executor: no net exposure on the
venues, the result agrees with them, the journal with the venues.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange_clients.paper import FaultPlan
from exchange_clients.types import OrderType
from execution.atomic import AtomicResult, AtomicStatus, AtomicTolerances, ImbalancePolicy
from execution.atomic.policy import hedge_limit
from execution.order_executor import ExecutionMode
from execution.pricing import AggressiveLimitParams
from tests.execution.atomic.rig import SIZE, AtomicRig, D, atomic_rig, close_legs, legs

Sessions = async_sessionmaker[AsyncSession]
MAKER_FEE_A = D("0.00015")  # paper_a's maker fee
TAKER_FEE_A = D("0.00045")


def sequenced(**over: object) -> AtomicTolerances:
    values: dict[str, object] = {
        "sequenced": True,
        "entry_timeout_seconds": 5.0,
        "chase_attempt_timeout_seconds": 1.0,
    }
    values.update(over)
    return AtomicTolerances(**values)  # type: ignore[arg-type]


async def lead_resting(rig: AtomicRig) -> None:
    """Wait until paper_a's maker order is in its book."""
    for _ in range(2000):
        if await rig.a.open_orders():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the lead never rested")


async def check_guarantees(rig: AtomicRig, result: AtomicResult) -> None:
    await rig.assert_flat_or_hedged(result)
    await rig.assert_journal_is_true()
    await rig.assert_fills_match_orders()


def test_hedge_limit_keeps_the_assumed_spread() -> None:
    # lead bought at 99.6 where crossing would have paid 100.0; the hedge sells at >= 99.1
    assert hedge_limit(D("99.6"), D("100.0"), D("99.5")) == D("99.1")
    # lead sold at 99.9 where crossing would have received 99.5; the hedge buys at <= 100.4
    assert hedge_limit(D("99.9"), D("99.5"), D("100.0")) == D("100.4")


async def test_lead_fills_as_maker_then_the_hedge_follows(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        running = rig.start(ExecutionMode.LIMIT_WITH_FALLBACK, sequenced())
        await lead_resting(rig)
        assert rig.b.sent == []  # nothing on the hedge venue while the lead rests
        [resting] = await rig.a.open_orders()
        assert (resting.price, resting.post_only) == (D("99.6"), True)  # inside the spread
        rig.feeds["paper_a"].trade("99.6", "1", "sell")
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await check_guarantees(rig, result)
        a, b = result.leg("paper_a"), result.leg("paper_b")
        assert a.entry_price == D("99.6")
        assert a.fees == D("99.6") * MAKER_FEE_A  # maker, not taker
        assert b.entry_price is not None
        assert b.entry_price >= hedge_limit(D("99.6"), D("100.0"), D("99.5"))


async def test_partial_maker_fill_hedges_only_what_filled(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        running = rig.start(ExecutionMode.LIMIT, sequenced())
        await lead_resting(rig)
        rig.feeds["paper_a"].trade("99.6", "0.4", "sell")
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert result.status is AtomicStatus.PARTIAL
        assert await rig.positions() == {"paper_a": D("0.4"), "paper_b": D("-0.4")}
        await check_guarantees(rig, result)
        [hedge] = result.leg("paper_b").orders.values()
        assert (hedge.size, hedge.filled_size) == (D("0.4"), D("0.4"))


async def test_lead_that_never_fills_sends_no_hedge(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        result = await rig.run(ExecutionMode.LIMIT, sequenced())

        assert result.status is AtomicStatus.ROLLED_BACK
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        assert rig.b.sent == []
        await check_guarantees(rig, result)


async def test_fallback_takes_the_lead_remainder_at_market(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        running = rig.start(ExecutionMode.LIMIT_WITH_FALLBACK, sequenced())
        await lead_resting(rig)
        rig.feeds["paper_a"].trade("99.6", "0.3", "sell")
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await check_guarantees(rig, result)
        kinds = [(o.order_type, o.filled_size) for o in result.leg("paper_a").orders.values()]
        assert kinds == [(OrderType.LIMIT, D("0.3")), (OrderType.MARKET, D("0.7"))]


async def test_aggressive_mode_reprices_before_going_to_market(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        tolerances = sequenced(chase=AggressiveLimitParams(attempts=2))
        result = await rig.run(ExecutionMode.AGGRESSIVE_LIMIT, tolerances)

        assert result.status is AtomicStatus.COMPLETED
        await check_guarantees(rig, result)
        a_orders = list(result.leg("paper_a").orders.values())
        # maker inside the spread, then 2 aggressive attempts (touch, inside), then market
        assert [(o.order_type, o.price) for o in a_orders] == [
            (OrderType.LIMIT, D("99.6")),
            (OrderType.LIMIT, D("99.5")),
            (OrderType.LIMIT, D("99.6")),
            (OrderType.MARKET, None),
        ]


@pytest.mark.parametrize(
    ("policy", "positions"),
    [
        pytest.param(ImbalancePolicy.ROLLBACK, {"paper_a": 0, "paper_b": 0}, id="rollback"),
        pytest.param(ImbalancePolicy.HEDGE_TO_SMALLER, {"paper_a": 0, "paper_b": 0}, id="hedge"),
    ],
)
async def test_a_refused_hedge_unwinds_the_filled_lead(
    db_sessions: Sessions, policy: ImbalancePolicy, positions: dict[str, Decimal]
) -> None:
    faults = {"paper_b": FaultPlan(reject_next=10)}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        running = rig.start(ExecutionMode.LIMIT, sequenced(imbalance=policy))
        await lead_resting(rig)
        rig.feeds["paper_a"].trade("99.6", "1", "sell")
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert result.status is AtomicStatus.ROLLED_BACK
        assert await rig.positions() == positions
        await check_guarantees(rig, result)
        assert result.leg("paper_b").rejected


async def test_the_hedge_never_pays_beyond_break_even_in_limit_mode(db_sessions: Sessions) -> None:
    """paper_b's bids fall below the cap after the lead filled: the hedge rests at the cap,
    does not fill, and the lead is hedged down - flat, never naked."""
    async with atomic_rig(db_sessions) as rig:
        running = rig.start(ExecutionMode.LIMIT, sequenced())
        await lead_resting(rig)
        rig.feeds["paper_b"].move(
            bids=((D("99.5"), D(0)), (D("99.0"), D(0)), (D("98.5"), D(3))),
        )
        await rig.feeds["paper_b"].settled()
        rig.feeds["paper_a"].trade("99.6", "1", "sell")
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert result.status is AtomicStatus.ROLLED_BACK
        await check_guarantees(rig, result)
        [hedge] = [o for o in result.leg("paper_b").orders.values()]
        assert (hedge.order_type, hedge.price, hedge.filled_size) == (
            OrderType.LIMIT,
            D("99.1"),
            D(0),
        )


async def test_a_sequenced_close_ends_flat(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        opened = await rig.run()
        assert opened.status is AtomicStatus.COMPLETED
        running = asyncio.ensure_future(
            rig.executor.execute(close_legs(), ExecutionMode.LIMIT_WITH_FALLBACK, sequenced())
        )
        result = await rig.drive(running)

        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        assert result.residual_exposure == 0
        assert result.verified is True
        await rig.assert_journal_is_true()


async def test_fallback_mode_needs_sequencing(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        with pytest.raises(ValueError, match="limit_with_fallback"):
            await rig.executor.execute(legs(), ExecutionMode.LIMIT_WITH_FALLBACK)
        assert rig.a.sent == []
        assert rig.b.sent == []


def test_recovery_reads_sequencing_back_from_the_plan() -> None:
    assert AtomicTolerances.from_json(sequenced().to_json()).sequenced is True
    assert AtomicTolerances.from_json(AtomicTolerances().to_json()).sequenced is False


async def test_a_lead_refused_for_crossing_a_moved_book_is_repriced(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        first: list[str] = []

        async def book_moves_first(client_id: str) -> None:
            if not first:  # an ask arrives at the maker price while the order travels
                first.append(client_id)
                rig.feeds["paper_a"].move(asks=((D("99.6"), D(1)),))
                await rig.feeds["paper_a"].settled()

        rig.a.before_place = book_moves_first
        running = rig.start(ExecutionMode.LIMIT, sequenced())
        await lead_resting(rig)
        [resting] = await rig.a.open_orders()
        assert (resting.price, resting.post_only) == (D("99.5"), True)  # re-read: one-tick book
        rig.feeds["paper_a"].trade("99.0", "1", "sell")  # through the bids: fills us too
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert result.status is AtomicStatus.COMPLETED
        assert result.leg("paper_a").rejected == first
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await check_guarantees(rig, result)
