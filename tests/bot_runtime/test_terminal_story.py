"""What a person running one bot (``make run``) reads: each fill, and a summary on stop.

Why (issue 14 item 17): the terminal showed status lines only; a fill, and what a stop left
behind, had to be inferred. A real ``runbot.py`` on the paper venue; its log lines are JSON
when not on a terminal, so the test reads the events the console renderer would show.
"""

from __future__ import annotations

import json
import signal
from collections.abc import MutableMapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot_runtime.runtime import BotRuntime, RuntimeOptions
from execution.order_executor import ExecutionMode, ExecutionRequest
from strategies.grid.strategy import GridStrategy
from tests.bot_configs import paper_grid_yaml
from tests.bot_runtime.test_runbot_e2e import eventually, running_bot, wait_exit
from trading_config.loader import load_config


def events(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def named(log: Path, name: str) -> list[dict[str, Any]]:
    return [event for event in events(log) if event["event"] == name]


async def test_fills_are_printed_and_a_stop_sums_the_session_up(
    migrated_db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "grid.yml"
    config.write_text(paper_grid_yaml("story-grid"))
    log = tmp_path / "bot.log"
    with running_bot(config, tmp_path / "var", migrated_db_url, log) as bot:
        await eventually(lambda: named(log, "fill"), "a fill", seconds=120)
        bot.send_signal(signal.SIGINT)
        assert await wait_exit(bot) == 0

    fills = named(log, "fill")
    for fill in fills:
        assert (fill["venue"], fill["symbol"]) == ("paper", "BTC")
        assert fill["side"] in ("buy", "sell")
        assert Decimal(fill["size"]) > 0
        assert Decimal(fill["price"]) > 0
        amount, currency = fill["fee"].split()
        assert (Decimal(amount) >= 0, currency) == (True, "USD")
        assert fill["order"].startswith("storygrid-")

    [summary] = named(log, "session summary")
    assert isinstance(summary["orders_cancelled"], int)  # exact counts: the test below
    held = sum(Decimal(f["size"]) * (1 if f["side"] == "buy" else -1) for f in fills)
    if held:
        assert summary["positions_open"].startswith(f"paper:BTC long {held} @ ")
    else:
        assert summary["positions_open"] == "none"
    realized, currency = summary["realized_pnl"].split()
    assert currency == "USD"
    if all(fill["side"] == "buy" for fill in fills):  # no take-profit filled: nothing realised
        assert Decimal(realized) == 0
    assert "Traceback" not in log.read_text()


async def stopped_summary(runtime: BotRuntime) -> MutableMapping[str, Any]:
    with capture_logs() as logs:
        await runtime.shutdown()
    [summary] = [e for e in logs if e["event"] == "session summary"]
    return summary


async def test_the_summary_counts_this_session_only(
    migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("summary-grid"))
    runtime = BotRuntime(load_config(path), RuntimeOptions(str(path)))
    await runtime.start()
    grid = runtime.strategy
    assert isinstance(grid, GridStrategy)
    assert runtime.stack is not None
    await runtime.stack.executors["paper"].submit("BTC", "buy", Decimal("0.002"))
    grid.context.paused.set()  # no entry: the step gives the position a take-profit
    await grid.execute_strategy()
    await grid.operator_close(
        "paper",
        ExecutionRequest("BTC", "sell", Decimal("0.001"), ExecutionMode.MARKET, reduce_only=True),
    )
    await grid.execute_strategy()  # the half left gets its take-profit again
    assert grid.realized_pnl != 0
    position = await runtime.clients["paper"].position("BTC")
    assert position is not None

    summary = await stopped_summary(runtime)
    assert summary["orders_cancelled"] == 1
    assert summary["positions_open"] == f"paper:BTC long 0.001 @ {position.entry_price}"
    assert summary["realized_pnl"] == f"{grid.realized_pnl.normalize():f} USD"

    again = BotRuntime(load_config(path), RuntimeOptions(str(path)))
    await again.start()  # the saved realised PnL is restored: not this session's
    assert isinstance(again.strategy, GridStrategy)
    assert again.strategy.realized_pnl == grid.realized_pnl
    summary = await stopped_summary(again)
    assert summary["realized_pnl"] == "0 USD"
