"""The atomic executor's fault matrix (issue 4), two paper venues, SQLite and PostgreSQL.

Each case ends by checking what matters with real money: the venues' net exposure is zero
(flat or hedged), the result agrees with the venues, and every order that reached a venue is
in the database with its true state. Case 7 (SIGKILL) is in ``test_crash_recovery.py``.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import VenueUnavailable
from exchange_clients.paper import FaultPlan
from exchange_clients.types import OrderStatus, OrderType
from execution.atomic import AtomicStatus, AtomicTolerances, ImbalancePolicy, Leg
from execution.order_executor import ExecutionMode
from execution.pricing import AggressiveLimitParams
from tests.execution.atomic.rig import SIZE, D, atomic_rig

Sessions = async_sessionmaker[AsyncSession]


async def test_1_both_legs_fill(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        result = await rig.run()
        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        a, b = result.leg("paper_a"), result.leg("paper_b")
        assert (a.entry_price, b.entry_price) == (D("100.0"), D("99.5"))  # the touches
        assert (a.slippage_bps, b.slippage_bps) == (0, 0)
        assert a.fees == D("100.0") * D("0.00045")  # paper_a taker fee
        assert b.fees == D("99.5") * D("0.0005")  # paper_b taker fee
        stored = await rig.operations.get(result.operation_id)
        assert stored.status == "completed"
        assert stored.result is not None
        assert stored.result["legs"][0]["orders"][0]["client_order_id"] in result.order_ids
        assert rig.alerts == []


async def test_2_one_leg_rejected_closes_the_other(db_sessions: Sessions) -> None:
    faults = {"paper_b": FaultPlan(reject_next=1)}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        tolerances = AtomicTolerances(imbalance=ImbalancePolicy.ROLLBACK)
        result = await rig.run(tolerances=tolerances)
        assert result.status is AtomicStatus.ROLLED_BACK
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        a = result.leg("paper_a")
        assert [(o.side, o.reduce_only, o.filled_size) for o in a.orders.values()] == [
            ("buy", False, SIZE),
            ("sell", True, SIZE),
        ]
        assert len(result.leg("paper_b").rejected) == 1
        rows = {row.client_order_id: row for row in await rig.journal_rows()}
        assert rows[result.leg("paper_b").rejected[0]].status == "rejected"
        assert {row.purpose for row in rows.values()} == {"entry", "rollback"}


async def test_2b_a_rejected_leg_is_chased_when_the_policy_says_so(db_sessions: Sessions) -> None:
    faults = {"paper_b": FaultPlan(reject_next=1)}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        result = await rig.run(tolerances=AtomicTolerances(imbalance=ImbalancePolicy.CHASE))
        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        rows = await rig.journal_rows()
        assert [(r.venue, r.purpose, r.status) for r in rows if r.venue == "paper_b"] == [
            ("paper_b", "entry", "rejected"),
            ("paper_b", "chase", "filled"),
        ]


async def test_3_partial_fill_is_hedged_down_to_the_smaller_side(db_sessions: Sessions) -> None:
    faults = {"paper_b": FaultPlan(fill_ratio=D("0.4"))}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        tolerances = AtomicTolerances(imbalance=ImbalancePolicy.HEDGE_TO_SMALLER)
        result = await rig.run(tolerances=tolerances)
        assert result.status is AtomicStatus.PARTIAL
        assert await rig.positions() == {"paper_a": D("0.4"), "paper_b": D("-0.4")}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        hedge = [o for o in result.leg("paper_a").orders.values() if o.reduce_only]
        assert [(o.side, o.size, o.filled_size) for o in hedge] == [("sell", D("0.6"), D("0.6"))]


async def test_3b_partial_fill_is_topped_up_to_equal_size(db_sessions: Sessions) -> None:
    faults = {"paper_b": FaultPlan(fill_ratio=D("0.4"))}  # market/IOC orders only: limits fill
    async with atomic_rig(db_sessions, faults=faults) as rig:
        tolerances = AtomicTolerances(
            imbalance=ImbalancePolicy.CHASE,
            chase_mode=ExecutionMode.AGGRESSIVE_LIMIT,
            chase_attempt_timeout_seconds=1,
        )
        result = await rig.run(tolerances=tolerances)
        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        b_orders = list(result.leg("paper_b").orders.values())
        assert b_orders[0].filled_size == D("0.4")
        assert sum((o.filled_size for o in b_orders[1:]), D(0)) == D("0.6")
        # The chase ended with the limit that crossed the book, capped at the break-even price.
        crossing = b_orders[-1]
        assert (crossing.order_type, crossing.status) == (OrderType.LIMIT, OrderStatus.FILLED)


async def test_4_a_timed_out_placement_that_landed_is_found_not_duplicated(
    db_sessions: Sessions,
) -> None:
    faults = {"paper_b": FaultPlan(timeout_after_landing=1)}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        result = await rig.run()
        assert result.status is AtomicStatus.COMPLETED
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}  # not -2
        assert len(rig.b.sent) == 1
        assert len(result.leg("paper_b").orders) == 1
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()


async def test_5_fills_that_arrive_after_the_cancel_are_accounted(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        traded = []

        async def trade_while_the_cancel_travels(client_id: str) -> None:
            # paper_b's resting sell (at its touch, 100.0) is hit for 0.3 just before the
            # cancel arrives: the venue's fill events reach us after we asked to cancel.
            rig.feeds["paper_b"].trade("100.5", "0.3", "buy")
            await rig.feeds["paper_b"].settled()
            traded.append(client_id)

        rig.b.before_cancel = trade_while_the_cancel_travels
        tolerances = AtomicTolerances(
            imbalance=ImbalancePolicy.CHASE,
            lag_timeout_seconds=2,
            chase_mode=ExecutionMode.MARKET,
        )
        running = rig.start(ExecutionMode.LIMIT, tolerances)
        await rig.resting()
        rig.feeds["paper_a"].trade("99.0", "1", "sell")  # paper_a's resting buy fills in full
        await rig.feeds["paper_a"].settled()
        result = await rig.drive(running)

        assert len(traded) == 1
        assert result.status is AtomicStatus.COMPLETED
        entry_b = result.leg("paper_b").orders[traded[0]]
        assert (entry_b.status, entry_b.filled_size) == (OrderStatus.CANCELLED, D("0.3"))
        chase = [
            o for o in result.leg("paper_b").orders.values() if o.order_type is OrderType.MARKET
        ]
        assert [o.filled_size for o in chase] == [D("0.7")]
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()


async def test_6_a_post_only_rejection_is_repriced(db_sessions: Sessions) -> None:
    async with atomic_rig(db_sessions) as rig:
        moved = []

        async def book_moves_before_the_order_lands(client_id: str) -> None:
            if moved:
                return
            # Bids lift to 100.0 and the 100.0 asks are gone: paper_b's post-only sell at its
            # touch (100.0) would now take liquidity, so the venue refuses it.
            feed = rig.feeds["paper_b"]
            feed.move(bids=((D("100.0"), D("2")),), asks=((D("100.0"), D("0")),))
            await feed.settled()
            moved.append(client_id)

        rig.b.before_place = book_moves_before_the_order_lands
        tolerances = AtomicTolerances(
            chase=AggressiveLimitParams(attempts=3), chase_attempt_timeout_seconds=1
        )
        result = await rig.run(ExecutionMode.AGGRESSIVE_LIMIT, tolerances)
        assert result.status is AtomicStatus.COMPLETED
        assert result.leg("paper_b").rejected == moved
        filled = [o for o in result.leg("paper_b").orders.values() if o.filled_size]
        assert [(o.price, o.avg_fill_price) for o in filled] == [(D("99.9"), D("100.0"))]
        rows = {row.client_order_id: row for row in await rig.journal_rows()}
        assert rows[moved[0]].status == "rejected"
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()


async def test_8_a_hedge_that_cannot_fill_rolls_back(db_sessions: Sessions) -> None:
    # paper_b refuses every order (a halted market): the chase fails, so paper_a is closed.
    faults = {"paper_b": FaultPlan(reject_probability=1.0)}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        tolerances = AtomicTolerances(
            imbalance=ImbalancePolicy.CHASE, chase_attempt_timeout_seconds=1
        )
        result = await rig.run(tolerances=tolerances)
        assert result.status is AtomicStatus.ROLLED_BACK
        assert len(result.leg("paper_b").rejected) >= 2  # the entry and the chase
        a_orders = list(result.leg("paper_a").orders.values())
        assert [(o.side, o.reduce_only, o.filled_size) for o in a_orders] == [
            ("buy", False, SIZE),
            ("sell", True, SIZE),
        ]
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        assert rig.alerts == []


async def test_8b_a_rollback_that_cannot_close_is_reported_and_alerted(
    db_sessions: Sessions,
) -> None:
    # paper_b refuses everything and paper_a refuses everything after the entry: exposure is
    # left, and the result must say exactly what and raise an alert (never claim success).
    faults = {"paper_b": FaultPlan(reject_probability=1.0)}
    async with atomic_rig(db_sessions, faults=faults) as rig:

        async def paper_a_halts_after_the_entry(client_id: str) -> None:
            if len(rig.a.sent) > 1:
                rig.a.faults.reject_probability = 1.0

        rig.a.before_place = paper_a_halts_after_the_entry
        result = await rig.run(tolerances=AtomicTolerances(imbalance=ImbalancePolicy.ROLLBACK))
        assert result.status is AtomicStatus.FAILED
        assert result.residual_exposure == SIZE
        assert result.leg("paper_a").net == SIZE
        assert rig.alerts == [result]
        stored = await rig.operations.get(result.operation_id)
        assert stored.status == "failed"
        assert stored.result is not None
        assert D(stored.result["residual_exposure"]) == SIZE
        await rig.assert_journal_is_true()


@pytest.mark.parametrize(
    ("size", "balance", "problem"),
    [
        (D("0.03"), D(10_000), "notional 3.00 USD (size 0.03 at 100.0) is below the minimum 5"),
        (D("3"), D(20), "USD margin"),
        (D("5"), D(10_000), "the book offers 3 BTC within 0.5% of 100.0, the leg needs 5.00"),
    ],
    ids=["min-notional", "insufficient-margin", "thin-book"],
)
async def test_9_preflight_failure_sends_nothing(
    db_sessions: Sessions, size: D, balance: D, problem: str
) -> None:
    async with atomic_rig(db_sessions, balance=balance) as rig:
        result = await rig.run(size=size)
        assert result.status is AtomicStatus.PREFLIGHT_FAILED
        assert any(problem in p for p in result.problems), result.problems
        assert (rig.a.sent, rig.b.sent) == ([], [])
        assert await rig.journal_rows() == []
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        stored = await rig.operations.get(result.operation_id)
        assert stored.status == "preflight_failed"


async def test_10_silent_streams_are_covered_by_polling(db_sessions: Sessions) -> None:
    faults = {venue: FaultPlan(silent_streams=True) for venue in ("paper_a", "paper_b")}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        running = rig.start(ExecutionMode.LIMIT, AtomicTolerances(entry_timeout_seconds=30))
        await rig.resting()
        rig.feeds["paper_a"].trade("99.0", "1", "sell")
        rig.feeds["paper_b"].trade("100.5", "1", "buy")
        result = await rig.drive(running)
        assert result.status is AtomicStatus.COMPLETED
        for leg in result.legs:
            [entry] = leg.orders.values()
            assert (entry.order_type, entry.status) == (OrderType.LIMIT, OrderStatus.FILLED)
        assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()


async def test_positions_that_disagree_with_the_fills_fail_verification(
    db_sessions: Sessions,
) -> None:
    # Someone else trades the same paper_a account during the operation: the fills say the
    # legs are hedged, the venue says otherwise, and the venue wins.
    async with atomic_rig(db_sessions) as rig:

        async def another_component_trades(client_id: str) -> None:
            if len(rig.a.sent) == 1:
                await rig.a.place_market_order("BTC", "buy", D("0.1"), client_order_id="other")

        rig.a.before_place = another_component_trades
        result = await rig.run()
        assert result.status is AtomicStatus.FAILED
        assert result.verified is False
        assert result.net_exposure == 0
        assert result.residual_exposure == D("0.1")
        assert any("position changed by 1.1" in event for event in result.events)
        assert rig.alerts == [result]


async def test_an_error_mid_way_unwinds_every_journaled_order(db_sessions: Sessions) -> None:
    # paper_b's cancel fails once (connection reset): its leg raises before handing its
    # resting order back. The unwind must find that order in the journal, cancel it and close
    # paper_a - or the order would rest on the book, unmanaged, and fill later.
    async with atomic_rig(db_sessions) as rig:
        failures = []

        async def connection_reset_once(client_id: str) -> None:
            if not failures:
                failures.append(client_id)
                raise VenueUnavailable("connection reset by peer", venue="paper_b")

        rig.b.before_cancel = connection_reset_once
        running = rig.start(ExecutionMode.LIMIT, AtomicTolerances(lag_timeout_seconds=1))
        await rig.resting()
        rig.feeds["paper_a"].trade("99.0", "1", "sell")
        result = await rig.drive(running)
        assert result.status is AtomicStatus.ROLLED_BACK
        assert any("VenueUnavailable" in event for event in result.events)
        entry_b = result.leg("paper_b").orders[failures[0]]
        assert entry_b.status is OrderStatus.CANCELLED
        assert await rig.b.open_orders() == []
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
        stored = await rig.operations.get(result.operation_id)
        assert stored.status == "rolled_back"


async def test_three_legs_a_lagging_leg_is_chased_while_another_is_still_in_flight(
    db_sessions: Sessions,
) -> None:
    # Buy 2 on paper_a against 1 + 1 sold on paper_b and paper. paper_b fills 0.4 (thin
    # book); paper's entry takes 5 s to come back. paper_a completed at once, so paper_b's
    # remainder is chased right away, not after the slow venue answers.
    faults = {"paper_b": FaultPlan(fill_ratio=D("0.4")), "paper": FaultPlan(latency=5.0)}
    venues = ("paper_a", "paper_b", "paper")
    async with atomic_rig(db_sessions, faults=faults, venues=venues) as rig:
        slow_venue_answered_before_the_chase = []

        async def book_refills_after_the_entry(client_id: str) -> None:
            if len(rig.b.sent) == 2:
                rig.b.faults.fill_ratio = None
                slow_venue_answered_before_the_chase.append(bool(rig.clients["paper"].answered))

        rig.b.before_place = book_refills_after_the_entry
        legs = [
            Leg("paper_a", "BTC", "buy", D(2)),
            Leg("paper_b", "BTC", "sell", D(1)),
            Leg("paper", "BTC", "sell", D(1)),
        ]
        tolerances = AtomicTolerances(chase_mode=ExecutionMode.MARKET, lag_timeout_seconds=10)
        result = await rig.drive(
            asyncio.ensure_future(rig.executor.execute(legs, ExecutionMode.MARKET, tolerances))
        )
        assert result.status is AtomicStatus.COMPLETED
        assert slow_venue_answered_before_the_chase == [False]
        rig.clients["paper"].faults.latency = 0  # the checks below run on a still clock
        assert await rig.positions() == {"paper_a": D(2), "paper_b": D(-1), "paper": D(-1)}
        await rig.assert_flat_or_hedged(result)
        await rig.assert_journal_is_true()
