"""Randomized crash test of the atomic executor (issue 23), seeded and bounded, both databases.

Each iteration, on two fresh paper venues: an open (from flat) or a close (of a hedged pair)
in a random entry mode under a random imbalance policy, with random faults - latency,
rejections, timeouts after landing, a thin book for the first order, silent streams - and
random trades through the books so resting orders fill. Most iterations are killed at a
random moment: the executor's task is cancelled at whatever await it is in, the trackers are
abandoned with what they had not journaled, the journal's writer and every database
connection of that "process" die (:func:`rig.crash`, :class:`rig.ProcessDatabase`; the kill
waits for no transaction to be open, which a real death's rollback makes equivalent). A
fresh stack on the same
database and the same venues (faults gone, as after a restart) then runs what the bot runs at
start - journal reconciliation, then operation recovery. Afterwards, always:

* the legs sum to zero (hedged, or both flat) and a close never left more than it found;
* no order rests on a venue (none unknown to the journal, in particular);
* every journaled order has the venue's final status and filled size;
* no operation is left ``running``;
* no client order id was sent twice;
* each order's ``fills`` rows sum to its filled size.

How this relates to the SIGKILL test (``test_crash_recovery.py``): a SIGKILL also takes the
paper venue down, which then restarts from its own tables and has no fill history (recovery
records synthetic fills); here the venues live on, like real ones, so every await of the
executor - journal writes, venue calls, waits for fills - is a possible crash point and the
venue's fill history is there. Both restart on the same database with a fresh process state.
``PERPFLEET_CRASH_ITERATIONS``, ``PERPFLEET_CRASH_SEED`` and ``PERPFLEET_CRASH_FIRST``
widen or replay a run (the choices are seeded; the exact await a kill lands on depends on
timing, which is the point). 60 iterations per database take ~25 s on SQLite and ~60 s on
PostgreSQL on a loaded 2-core machine.
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from exchange_clients.paper import FaultPlan
from execution.atomic import AtomicResult, AtomicStatus, AtomicTolerances, ImbalancePolicy
from execution.atomic import recover_operations as recover
from execution.journal import reconcile
from execution.order_executor import ExecutionMode
from tests.execution.atomic.rig import (
    SIZE,
    AtomicRig,
    D,
    ProcessDatabase,
    atomic_rig,
    close_legs,
    crash,
    legs,
    restarted,
)

Sessions = async_sessionmaker[AsyncSession]
ITERATIONS = int(os.environ.get("PERPFLEET_CRASH_ITERATIONS", "60"))  # per database
SEED = int(os.environ.get("PERPFLEET_CRASH_SEED", "23"))
FIRST = int(os.environ.get("PERPFLEET_CRASH_FIRST", "0"))  # replay from this iteration
STEP_SECONDS = 0.25  # venue time per step
MAX_STEPS = 400
MODES = (ExecutionMode.MARKET, ExecutionMode.LIMIT, ExecutionMode.AGGRESSIVE_LIMIT)


@dataclass(frozen=True)
class Case:
    seed: int
    closing: bool
    mode: ExecutionMode
    policy: ImbalancePolicy
    faults: dict[str, FaultPlan]
    thin_first: dict[str, bool]
    kill_at_step: int | None  # None: let it finish, then restart anyway
    sequenced: bool = False  # maker entry: the lead first, the other leg following it

    def describe(self) -> str:
        return (
            f"seed={self.seed} {'close' if self.closing else 'open'} {self.mode.value} "
            f"{'sequenced ' if self.sequenced else ''}"
            f"{self.policy.value} kill_at={self.kill_at_step} thin={self.thin_first} "
            f"faults={self.faults}"
        )


def draw(seed: int) -> Case:
    rng = random.Random(seed)
    faults = {
        venue: FaultPlan(
            latency=rng.choice((0.0, 0.0, 0.25, 1.0)),
            reject_next=rng.choice((0, 0, 0, 1, 2)),
            timeout_after_landing=rng.choice((0, 0, 0, 1)),
            silent_streams=rng.random() < 0.2,
            seed=seed,
        )
        for venue in ("paper_a", "paper_b")
    }
    case = Case(
        seed=seed,
        closing=rng.random() < 0.5,
        mode=rng.choice(MODES),
        policy=rng.choice(list(ImbalancePolicy)),
        faults=faults,
        thin_first={venue: rng.random() < 0.3 for venue in faults},
        kill_at_step=None if rng.random() < 0.2 else rng.randint(0, 60),
    )
    # Drawn last, so the cases of a seed before sequencing existed are drawn as they were.
    if case.mode is not ExecutionMode.MARKET and rng.random() < 0.5:
        fallback = case.mode is ExecutionMode.LIMIT and rng.random() < 0.5
        mode = ExecutionMode.LIMIT_WITH_FALLBACK if fallback else case.mode
        case = replace(case, mode=mode, sequenced=True)
    return case


async def run_case(url: str, sessions: Sessions, case: Case) -> None:
    rng = random.Random(case.seed + 1)
    process = ProcessDatabase(url)  # the first "process" and its connections
    try:
        await run_process(process, sessions, case, rng)
    finally:
        await process.kill()


async def run_process(
    process: ProcessDatabase, sessions: Sessions, case: Case, rng: random.Random
) -> None:
    async with atomic_rig(process.sessions) as rig:
        if case.closing:
            opened = await rig.run()
            assert opened.status is AtomicStatus.COMPLETED, case.describe()
        before = await rig.positions()
        for venue, client in rig.clients.items():
            client.faults = case.faults[venue]
            if case.thin_first[venue]:
                client.before_place = thin_book_for_the_next_order(rig, venue)
        tolerances = AtomicTolerances(
            imbalance=case.policy,
            entry_timeout_seconds=5,
            lag_timeout_seconds=2,
            chase_attempt_timeout_seconds=1,
            sequenced=case.sequenced,
        )
        operation = close_legs() if case.closing else legs()
        running = asyncio.ensure_future(rig.executor.execute(operation, case.mode, tolerances))
        for step in range(MAX_STEPS):
            if running.done() or step == case.kill_at_step:
                break
            trade_through_the_books(rig, rng)
            await rig.clock.advance(STEP_SECONDS)  # type: ignore[attr-defined]
            await asyncio.sleep(rng.choice((0, 0.001, 0.003)))
        if running.done():
            result: AtomicResult | None = running.result()
        else:
            assert case.kill_at_step is not None, f"never finished: {case.describe()}"
            await crash(rig, running, process)
            await process.kill()
            result = None
        for client in rig.clients.values():
            client.faults = FaultPlan()
            client.before_place = None
        async with restarted(rig, sessions=sessions) as fresh:
            await reconcile(
                fresh.executor.journal,
                fresh.clients,
                keep_resting=lambda _: False,
                grace=timedelta(0),
            )
            recovering = asyncio.ensure_future(recover(fresh.executor, grace=timedelta(0)))
            recovered = await fresh.drive(recovering)
            # Killed in preflight, nothing was journaled: nothing to recover either.
            assert len(recovered) <= (0 if result is not None else 1), case.describe()
            try:
                await assert_invariants(fresh, case, before)
            except AssertionError as exc:
                rows = [
                    (
                        r.client_order_id,
                        r.venue,
                        r.side,
                        r.purpose,
                        r.operation_id,
                        r.status,
                        str(r.filled_size),
                        r.created_at.isoformat(),
                    )
                    for r in await fresh.journal_rows()
                ]
                raise AssertionError(f"{case.describe()}: {exc}; journal {rows}") from exc


def thin_book_for_the_next_order(rig: AtomicRig, venue: str):  # type: ignore[no-untyped-def]
    """The venue's first order of the operation meets a thin book (fills 0.4); then it refills."""
    client = rig.clients[venue]
    first = len(client.sent) + 1

    async def hook(client_id: str) -> None:
        client.faults.fill_ratio = D("0.4") if len(client.sent) == first else None

    return hook


def trade_through_the_books(rig: AtomicRig, rng: random.Random) -> None:
    """Now and then a market trade sweeps one side of a book, filling what rests there."""
    if rng.random() > 0.15:
        return
    venue = rng.choice(("paper_a", "paper_b"))
    size = rng.choice(("0.3", "0.6", "1"))
    if rng.random() < 0.5:
        rig.feeds[venue].trade("101.5", size, "buy")
    else:
        rig.feeds[venue].trade("98.0", size, "sell")


async def assert_invariants(rig: AtomicRig, case: Case, before: dict[str, Decimal]) -> None:
    where = case.describe()
    positions = await rig.positions()
    assert sum(positions.values(), D(0)) == 0, (where, positions)
    if case.closing:
        for venue, size in positions.items():
            assert abs(size) <= abs(before[venue]), (where, positions)
    else:
        assert positions["paper_a"] in (D(0), SIZE) or positions["paper_a"] < SIZE, where
    for venue, client in rig.clients.items():
        assert await client.open_orders() == [], (where, venue)
    await rig.assert_journal_is_true()
    assert await rig.operations.unfinished() == [], where
    sent = [cid for client in rig.clients.values() for cid in client.sent]
    assert len(sent) == len(set(sent)), where
    await rig.assert_fills_match_orders()


@pytest.mark.parametrize("iteration", range(FIRST, FIRST + ITERATIONS))
async def test_random_crashes_leave_no_naked_leg(
    migrated_db_url: str, db_sessions: Sessions, iteration: int
) -> None:
    # One database per iteration: paper venues number their orders (and fills) from 1 again
    # each time, and a venue's fill ids must be unique in ``fills``, as a real venue's are.
    await run_case(migrated_db_url, db_sessions, draw(SEED * 1000 + iteration))
