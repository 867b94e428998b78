"""Fault-matrix case 7: the bot process is SIGKILLed mid-operation; a restart finishes it.

A real subprocess (``crash_child``) runs the operation against persisted paper venues and is
killed with SIGKILL at a chosen moment. The test then restarts the stack in-process on the same
database, runs start-up reconciliation and operation recovery, and checks the venues end flat
or hedged with every order journaled in its true state.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import SystemClock
from database.engine import create_engine, session_maker
from database.models import Order as OrderRow
from execution.atomic import AtomicStatus, recover_operations
from execution.journal import reconcile
from tests.execution.atomic.rig import D, create_bot, make_clients, running_stack
from tests.helpers import PROJECT_ROOT, cli_env

Rows = list[OrderRow]


def entry_in_flight(rows: Rows) -> bool:
    by_venue = {row.venue: row for row in rows}
    a, b = by_venue.get("paper_a"), by_venue.get("paper_b")
    return a is not None and a.status == "filled" and b is not None and b.status == "pending"


def chase_in_flight(rows: Rows) -> bool:
    return any(row.purpose == "chase" and row.status == "pending" for row in rows)


def entry_resting(rows: Rows) -> bool:
    status = {row.venue: row.status for row in rows}
    return status.get("paper_a") == "filled" and status.get("paper_b") == "open"


SCENARIOS: dict[str, tuple[Callable[[Rows], bool], AtomicStatus, Decimal]] = {
    # paper_b never saw its entry: paper_a's filled leg is rolled back to flat.
    "entry_in_flight": (entry_in_flight, AtomicStatus.ROLLED_BACK, D(0)),
    # paper_b holds 0.4 and its chase never landed: paper_a is hedged down to 0.4.
    "chase_in_flight": (chase_in_flight, AtomicStatus.PARTIAL, D("0.4")),
    # paper_b's entry still rests: recovery cancels it (it must not fill later, unmanaged) and
    # closes paper_a. Run without the journal's start-up reconcile: recovery stands alone.
    "entry_resting": (entry_resting, AtomicStatus.ROLLED_BACK, D(0)),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_7_sigkill_mid_operation_then_restart_reconciles(
    migrated_db_url: str, tmp_path: Path, scenario: str
) -> None:
    ready, expected_status, expected_size = SCENARIOS[scenario]
    engine = create_engine(migrated_db_url)
    sessions = session_maker(engine)
    try:
        bot_id, accounts = await create_bot(sessions)
        args = [migrated_db_url, str(bot_id), str(accounts["paper_a"]), str(accounts["paper_b"])]
        log_path = tmp_path / "child.log"
        with log_path.open("w") as child_log:
            child = subprocess.Popen(  # noqa: ASYNC220 - the child must outlive this coroutine's awaits
                [sys.executable, "-m", "tests.execution.atomic.crash_child", *args, scenario],
                cwd=PROJECT_ROOT,
                env=cli_env(tmp_path),
                stdout=child_log,
                stderr=subprocess.STDOUT,
            )
            try:
                for _ in range(1200):
                    async with sessions() as session:
                        rows = list(await session.scalars(select(OrderRow).order_by(OrderRow.id)))
                    if ready(rows):
                        break
                    assert child.poll() is None, log_path.read_text()
                    await asyncio.sleep(0.05)
                else:
                    pytest.fail(f"the child never reached {scenario}:\n{log_path.read_text()}")
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL

        clock = SystemClock()
        feeds, clients = make_clients(clock, database_url=migrated_db_url)
        async with running_stack(sessions, clock, bot_id, accounts, feeds, clients) as rig:
            # What the runtime does at start: reconcile the journal, then finish operations.
            if scenario != "entry_resting":
                await reconcile(
                    rig.executor.journal, clients, keep_resting=lambda _: False, grace=timedelta(0)
                )
            [result] = await recover_operations(rig.executor, grace=timedelta(0), clock=clock)
            assert result.recovered
            assert result.status is expected_status, result.events
            assert await rig.positions() == {"paper_a": expected_size, "paper_b": -expected_size}
            await rig.assert_flat_or_hedged(result)
            await rig.assert_journal_is_true()
            # The restarted paper venue has no fill history: fills the dead process never
            # received are recorded as synthetic ones, once (issue 23).
            await rig.assert_fills_match_orders()
            stored = await rig.operations.get(result.operation_id)
            assert stored.status == expected_status.value
            assert await rig.operations.unfinished() == []
            assert [await client.open_orders() for client in clients.values()] == [[], []]
            # A second restart finds nothing left to do.
            assert await recover_operations(rig.executor, grace=timedelta(0), clock=clock) == []
    finally:
        await engine.dispose()
