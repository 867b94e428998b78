"""A bot process that dies mid-operation: run by test_crash_recovery, then SIGKILLed.

``python -m tests.execution.atomic.crash_child DB_URL BOT_ID A_ID B_ID SCENARIO`` opens
paper_a/paper_b persisted in DB_URL and starts one atomic open (buy paper_a, sell paper_b).
The scenario makes paper_b's request hang at the chosen moment, so the parent can kill the
process with exactly that much done:

* ``entry_in_flight`` - paper_a's entry filled, paper_b's entry sent but never answered;
* ``chase_in_flight`` - paper_b's entry filled 0.4 of 1 (thin book), its chase never answered;
* ``entry_resting`` - LIMIT entries: paper_a's filled, paper_b's still resting on the book.
"""

from __future__ import annotations

import asyncio
import sys

from core.clock import SystemClock
from database.engine import create_engine, session_maker
from exchange_clients.paper import FaultPlan
from execution.atomic import AtomicTolerances, ImbalancePolicy
from execution.order_executor import ExecutionMode
from tests.execution.atomic.rig import D, legs, make_clients, running_stack

HANG_SECONDS = 3600.0


async def main(url: str, bot_id: int, a_id: int, b_id: int, scenario: str) -> None:
    clock = SystemClock()
    faults = {"paper_b": FaultPlan(fill_ratio=D("0.4") if scenario == "chase_in_flight" else None)}
    feeds, clients = make_clients(clock, database_url=url, faults=faults)
    hang_on = 1 if scenario == "entry_in_flight" else 2
    b = clients["paper_b"]

    async def hang(client_id: str) -> None:
        if len(b.sent) == hang_on:
            b.faults.latency = HANG_SECONDS

    b.before_place = hang
    engine = create_engine(url)
    sessions = session_maker(engine)
    accounts = {"paper_a": a_id, "paper_b": b_id}
    async with running_stack(sessions, clock, bot_id, accounts, feeds, clients) as rig:
        if scenario == "entry_resting":
            tolerances = AtomicTolerances(
                entry_timeout_seconds=HANG_SECONDS, lag_timeout_seconds=HANG_SECONDS
            )
            running = asyncio.ensure_future(
                rig.executor.execute(legs(), ExecutionMode.LIMIT, tolerances)
            )
            await rig.resting()
            feeds["paper_a"].trade("99.0", "1", "sell")  # paper_a's resting buy fills
            await running
        else:
            tolerances = AtomicTolerances(
                imbalance=ImbalancePolicy.CHASE, chase_mode=ExecutionMode.MARKET
            )
            await rig.executor.execute(legs(), ExecutionMode.MARKET, tolerances)
    raise SystemExit("the operation finished: the parent should have killed this process")


if __name__ == "__main__":
    url, bot, a, b, scenario = sys.argv[1:]
    asyncio.run(main(url, int(bot), int(a), int(b), scenario))
