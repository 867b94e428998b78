"""The fault matrix for closes (issue 23): a close only ever moves each leg toward flat.

Every case first opens the hedged pair (long 1 BTC on paper_a, short 1 on paper_b) and then
closes it with reduce-only legs while something goes wrong - live, and killed mid-way then
recovered by a fresh stack on the same database and venues. Whatever the imbalance policy,
the close must end with both legs flat (or, when a venue refuses everything, say exactly what
is left) and must never send an order that re-opens a flattened leg: a "hedge down" or
"rollback" of a close is a buy-back on a leg that is already flat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import VenueUnavailable
from database.models import Fill as FillRow
from exchange_clients.paper import FaultPlan
from exchange_clients.types import OrderStatus
from execution.atomic import (
    AtomicResult,
    AtomicStatus,
    AtomicTolerances,
    ImbalancePolicy,
    recover_operations,
    start_recovery,
)
from execution.journal import SYNTHETIC_FILL_PREFIX
from execution.order_executor import ExecutionMode
from tests.execution.atomic.rig import (
    SIZE,
    AtomicRig,
    D,
    atomic_rig,
    close_legs,
    crash,
    restarted,
)

Sessions = async_sessionmaker[AsyncSession]
POLICIES = [pytest.param(policy, id=policy.value) for policy in ImbalancePolicy]
HANG = 3600.0


async def open_pair(rig: AtomicRig) -> None:
    opened = await rig.run()
    assert opened.status is AtomicStatus.COMPLETED
    assert await rig.positions() == {"paper_a": SIZE, "paper_b": -SIZE}


def start_close(
    rig: AtomicRig,
    policy: ImbalancePolicy,
    mode: ExecutionMode = ExecutionMode.MARKET,
    **tolerances: float,
) -> asyncio.Future[AtomicResult]:
    settings = AtomicTolerances(imbalance=policy, **tolerances)  # type: ignore[arg-type]
    return asyncio.ensure_future(rig.executor.execute(close_legs(), mode, settings))


async def sides_sent(rig: AtomicRig, operation_id: str, venue: str) -> list[str]:
    """Every order of the operation journaled on ``venue``, refused ones included."""
    return [
        row.side
        for row in await rig.journal_rows()
        if row.operation_id == operation_id and row.venue == venue
    ]


async def assert_closed(rig: AtomicRig, result: AtomicResult) -> None:
    assert result.status is AtomicStatus.COMPLETED, result.events
    assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
    assert result.residual_exposure == 0
    assert result.verified is True
    assert result.closing
    # Toward flat only: every order of the close sells paper_a's long, buys paper_b's short.
    assert set(await sides_sent(rig, result.operation_id, "paper_a")) == {"sell"}
    assert set(await sides_sent(rig, result.operation_id, "paper_b")) == {"buy"}
    await rig.assert_journal_is_true()
    await rig.assert_fills_match_orders()
    assert [await client.open_orders() for client in rig.clients.values()] == [[], []]
    stored = await rig.operations.get(result.operation_id)
    assert stored.status == "completed"
    assert stored.plan["kind"] == "close"


# --- live ------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
async def test_a_refused_close_leg_is_chased_to_flat_under_every_policy(
    db_sessions: Sessions, policy: ImbalancePolicy
) -> None:
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        rig.b.faults.reject_next = 1
        result = await rig.drive(start_close(rig, policy))
        await assert_closed(rig, result)
        assert rig.alerts == []


@pytest.mark.parametrize("policy", POLICIES)
async def test_a_partly_filled_close_leg_is_chased_to_flat_under_every_policy(
    db_sessions: Sessions, policy: ImbalancePolicy
) -> None:
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        sent_before = len(rig.b.sent)

        async def thin_book_for_the_first_close_order(client_id: str) -> None:
            rig.b.faults.fill_ratio = D("0.4") if len(rig.b.sent) == sent_before + 1 else None

        rig.b.before_place = thin_book_for_the_first_close_order
        result = await rig.drive(start_close(rig, policy))
        await assert_closed(rig, result)
        b_filled = [o.filled_size for o in result.leg("paper_b").orders.values()]
        assert b_filled[0] == D("0.4")
        assert sum(b_filled, D(0)) == SIZE


async def test_a_leg_found_flat_counts_as_closed_and_is_not_retried(
    db_sessions: Sessions,
) -> None:
    # paper_b's short was closed by someone else (a liquidation, a manual close): its
    # reduce-only buy is refused as "would open or increase the position". That is the leg
    # being flat already, not a failure: paper_a is still closed, and paper_b is not retried.
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        await rig.b.place_market_order("BTC", "buy", SIZE, reduce_only=True, client_order_id="x")
        result = await rig.drive(start_close(rig, ImbalancePolicy.CHASE))
        assert result.status is AtomicStatus.COMPLETED, result.events
        assert await rig.positions() == {"paper_a": 0, "paper_b": 0}
        b = result.leg("paper_b")
        assert b.flat
        assert len(b.rejected) == 1
        assert await sides_sent(rig, result.operation_id, "paper_b") == ["buy"]  # once
        assert await sides_sent(rig, result.operation_id, "paper_a") == ["sell"]
        assert result.residual_exposure == 0
        assert rig.alerts == []


@pytest.mark.parametrize("policy", POLICIES)
async def test_a_close_that_cannot_finish_never_reopens_the_closed_leg(
    db_sessions: Sessions, policy: ImbalancePolicy
) -> None:
    # paper_b refuses every order (a halted market): paper_a's close fills and must stay
    # closed - buying it back would only add a second naked position. Reported, alerted.
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        rig.b.faults.reject_probability = 1.0
        result = await rig.drive(start_close(rig, policy, chase_attempt_timeout_seconds=1))
        assert result.status is AtomicStatus.FAILED
        assert await rig.positions() == {"paper_a": 0, "paper_b": -SIZE}
        assert result.residual_exposure == -SIZE
        assert set(await sides_sent(rig, result.operation_id, "paper_a")) == {"sell"}
        assert rig.alerts == [result]
        await rig.assert_journal_is_true()


async def test_an_error_mid_close_finishes_toward_flat(db_sessions: Sessions) -> None:
    # LIMIT close entries; paper_a's fills, paper_b's cancel fails (connection reset) and its
    # leg raises. The error path of a close must finish it, not "roll back" paper_a.
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        failures: list[str] = []

        async def connection_reset_once(client_id: str) -> None:
            if not failures:
                failures.append(client_id)
                raise VenueUnavailable("connection reset by peer", venue="paper_b")

        rig.b.before_cancel = connection_reset_once
        running = start_close(
            rig, ImbalancePolicy.ROLLBACK, ExecutionMode.LIMIT, lag_timeout_seconds=1
        )
        await rig.resting()
        rig.feeds["paper_a"].trade("101.0", "1", "buy")  # paper_a's resting sell fills
        result = await rig.drive(running)
        assert any("VenueUnavailable" in event for event in result.events)
        await assert_closed(rig, result)


# --- killed mid-close, recovered by a fresh stack ----------------------------------------------


async def until_rows(rig: AtomicRig, ready: Callable[[dict[str, list[str]]], bool]) -> None:
    """Advance the venues' clock until the close's journal statuses satisfy ``ready``.

    ``ready`` sees, per venue, the statuses of the orders in the closing direction (paper_a
    sells, paper_b buys), oldest first.
    """
    closing_side = {"paper_a": "sell", "paper_b": "buy"}
    for _ in range(2000):
        statuses: dict[str, list[str]] = {"paper_a": [], "paper_b": []}
        for row in await rig.journal_rows():
            if row.side == closing_side[row.venue]:
                statuses[row.venue].append(row.status)
        if ready(statuses):
            return
        await rig.clock.advance(0.05)  # type: ignore[attr-defined]
        await asyncio.sleep(0.002)
    raise AssertionError("the close never reached the state to kill it in")


Scenario = Callable[[AtomicRig, ImbalancePolicy], Awaitable[asyncio.Future[AtomicResult]]]


async def killed_with_one_leg_pending(
    rig: AtomicRig, policy: ImbalancePolicy
) -> asyncio.Future[AtomicResult]:
    """paper_a's close filled; paper_b's close order journaled but never reached the venue."""
    sent_before = len(rig.b.sent)

    async def hang(client_id: str) -> None:
        if len(rig.b.sent) == sent_before + 1:
            rig.b.faults.latency = HANG

    rig.b.before_place = hang
    running = start_close(rig, policy)
    await until_rows(rig, lambda s: s["paper_a"] == ["filled"] and s["paper_b"] == ["pending"])
    return running


async def killed_with_one_leg_resting(
    rig: AtomicRig, policy: ImbalancePolicy
) -> asyncio.Future[AtomicResult]:
    """LIMIT closes: paper_a's filled; paper_b's still rests on the book."""
    running = start_close(
        rig, policy, ExecutionMode.LIMIT, entry_timeout_seconds=HANG, lag_timeout_seconds=HANG
    )
    await rig.resting()
    rig.feeds["paper_a"].trade("101.0", "1", "buy")  # through paper_a's resting sell
    await until_rows(rig, lambda s: s["paper_a"] == ["filled"] and s["paper_b"] == ["open"])
    return running


async def killed_with_one_leg_partly_filled(
    rig: AtomicRig, policy: ImbalancePolicy
) -> asyncio.Future[AtomicResult]:
    """paper_a's close filled; paper_b's filled 0.4 and its next order never landed."""
    sent_before = len(rig.b.sent)

    async def thin_then_hang(client_id: str) -> None:
        count = len(rig.b.sent) - sent_before
        rig.b.faults.fill_ratio = D("0.4") if count == 1 else None
        if count == 2:
            rig.b.faults.latency = HANG

    rig.b.before_place = thin_then_hang
    running = start_close(rig, policy)
    await until_rows(rig, lambda s: s["paper_a"] == ["filled"] and s["paper_b"][1:] == ["pending"])
    return running


SCENARIOS: dict[str, Scenario] = {
    "pending": killed_with_one_leg_pending,
    "resting": killed_with_one_leg_resting,
    "partly_filled": killed_with_one_leg_partly_filled,
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_a_killed_close_is_finished_to_flat_by_recovery(
    db_sessions: Sessions, scenario: str, policy: ImbalancePolicy
) -> None:
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        running = await SCENARIOS[scenario](rig, policy)
        await crash(rig, running)
        [unfinished] = await rig.operations.unfinished()
        assert unfinished.plan["kind"] == "close"
        rig.b.before_place = None
        rig.b.faults = FaultPlan()  # the venue is healthy again when we come back
        async with restarted(rig) as fresh:
            recovering = asyncio.ensure_future(
                recover_operations(fresh.executor, grace=timedelta(0))
            )
            [result] = await fresh.drive(recovering)
            assert result.recovered
            await assert_closed(fresh, result)
            assert fresh.alerts == []
            assert await fresh.operations.unfinished() == []
            # A second restart finds nothing left to do.
            assert await recover_operations(fresh.executor, grace=timedelta(0)) == []


async def test_fills_learned_after_a_crash_are_recorded_once_with_the_venues_ids(
    db_sessions: Sessions,
) -> None:
    # Killed with paper_b's close resting; it then fills while nobody listens. Recovery learns
    # the fill from order_status and must store it in ``fills`` (the venue's fill id), once.
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        running = await killed_with_one_leg_resting(rig, ImbalancePolicy.CHASE)
        await crash(rig, running)
        rig.feeds["paper_b"].trade("98.5", "1", "sell")  # paper_b's resting buy fills, unheard
        await rig.feeds["paper_b"].settled()
        async with restarted(rig) as fresh:
            [result] = await fresh.drive(
                asyncio.ensure_future(recover_operations(fresh.executor, grace=timedelta(0)))
            )
            await assert_closed(fresh, result)
            entry_b = next(iter(result.leg("paper_b").orders.values()))
            assert entry_b.status is OrderStatus.FILLED
            fills = await fresh.executor.journal.fills_of(entry_b.client_order_id)
            assert [(f.fill_id, f.size) for f in fills] == [(f"{entry_b.venue_order_id}-1", SIZE)]
            await recover_operations(fresh.executor, grace=timedelta(0))
            await fresh.assert_fills_match_orders()


async def test_fills_a_venue_cannot_report_are_recorded_as_one_synthetic_fill(
    db_sessions: Sessions,
) -> None:
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        running = await killed_with_one_leg_resting(rig, ImbalancePolicy.CHASE)
        await crash(rig, running)
        rig.feeds["paper_b"].trade("98.5", "1", "sell")
        await rig.feeds["paper_b"].settled()
        rig.b._fill_history.clear()  # as after a restart of a paper venue: no history
        async with restarted(rig) as fresh:
            [result] = await fresh.drive(
                asyncio.ensure_future(recover_operations(fresh.executor, grace=timedelta(0)))
            )
            await assert_closed(fresh, result)
            entry_b = next(iter(result.leg("paper_b").orders.values()))
            [fill] = await fresh.executor.journal.fills_of(entry_b.client_order_id)
            assert fill.fill_id == f"{SYNTHETIC_FILL_PREFIX}{entry_b.client_order_id}:{SIZE}"
            assert (fill.size, fill.price) == (SIZE, entry_b.avg_fill_price)
            await recover_operations(fresh.executor, grace=timedelta(0))
            async with db_sessions() as session:
                synthetic = list(
                    await session.scalars(
                        select(FillRow).where(FillRow.venue_fill_id.startswith("synthetic:"))
                    )
                )
            assert len(synthetic) == 1


async def test_recovery_holds_only_its_symbols_and_start_does_not_wait_for_the_grace(
    db_sessions: Sessions,
) -> None:
    # Killed with paper_b's order journaled pending and never landed, seconds ago: recovery
    # must give it the grace (it may still be on the wire) - but in the background. Start-up
    # returns at once; only BTC operations wait; other symbols are free.
    async with atomic_rig(db_sessions) as rig:
        await open_pair(rig)
        running = await killed_with_one_leg_pending(rig, ImbalancePolicy.CHASE)
        await crash(rig, running)
        rig.b.before_place = None
        rig.b.faults = FaultPlan()
        async with restarted(rig) as fresh:
            recovery = await start_recovery(fresh.executor, grace=timedelta(seconds=1))
            assert fresh.executor.resolving("BTC")
            assert not fresh.executor.resolving("ETH")
            assert not recovery.done
            [result] = await fresh.drive(asyncio.ensure_future(recovery.wait()))
            assert not fresh.executor.resolving("BTC")
            await assert_closed(fresh, result)


async def test_fills_of_silent_streams_are_recorded_from_the_venue_history(
    db_sessions: Sessions,
) -> None:
    # No fill event ever arrives (silent streams): the orders are known filled from polling.
    # The operation's fills must still be in ``fills``, under the venue's ids.
    faults = {venue: FaultPlan(silent_streams=True) for venue in ("paper_a", "paper_b")}
    async with atomic_rig(db_sessions, faults=faults) as rig:
        opened = await rig.run(tolerances=AtomicTolerances(entry_timeout_seconds=30))
        assert opened.status is AtomicStatus.COMPLETED
        result = await rig.drive(start_close(rig, ImbalancePolicy.CHASE))
        await assert_closed(rig, result)
        for leg in result.legs:
            for order in leg.orders.values():
                fills = await rig.executor.journal.fills_of(order.client_order_id)
                assert [f.fill_id for f in fills] == [f"{order.venue_order_id}-1"]
