"""Risk limits hold for a strategy that never mentions risk: the executors enforce them.

The runtime builds its real execution stack (paper venues, journal, trackers, the pre-trade
gate); a strategy written for this test ignores the risk manager and asks the executors for far
more than the limits allow. Nothing beyond the limits reaches the journal or the venue; closing
stays allowed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot_runtime.runtime import BotRuntime, RuntimeOptions
from core.errors import (
    EntriesPaused,
    KillSwitchEngaged,
    PositionLimitBreached,
)
from database.models import Order as OrderRow
from execution.atomic import AtomicStatus, Leg
from execution.order_executor import ExecutionMode, ExecutionRequest
from strategies.base_strategy import BaseStrategy, StrategyContext
from trading_config.loader import load_config

D = Decimal

GRID_WITH_CAPS = """\
name: gate-grid
strategy:
  type: grid
  params:
    exchange: paper
    ticker: BTC
    direction: buy
    order_notional_usd: 100
    target_leverage: 10
    take_profit: 0.6
    grid_step: 0.02
    max_orders: 5
    max_margin_usd: 100
    wait_time: 0
exchanges:
  paper: {}
risk:
  max_position_notional_usd: 1000
  daily_loss_limit_usd: 50
  max_drawdown_pct: 20
"""

ARB_WITH_CAPS = """\
name: gate-arb
strategy:
  type: funding_arbitrage
  params:
    venues: [paper_a, paper_b]
    symbols: [BTC]
    target_margin_usd: 100
    max_leverage: 3
    min_net_apr_pct: 0.1
    min_volume_24h_usd: 0
exchanges:
  paper_a: {}
  paper_b: {}
risk:
  max_exposure_per_venue_usd: 1000
"""


class RecklessStrategy(BaseStrategy[object]):
    """Trades what it is told, never asks the risk manager."""

    def __init__(self, context: StrategyContext) -> None:
        self.context = context

    async def should_execute(self) -> bool:
        return True

    async def execute_strategy(self) -> None:
        """Driven directly by the tests through :meth:`buy`."""

    def state(self) -> dict[str, object]:
        return {}

    def restore(self, state: object) -> None:
        """Nothing to restore: it keeps no state."""

    async def buy(self, venue: str, notional: Decimal) -> None:
        client = self.context.clients[venue]
        _bid, ask = await client.best_bid_ask("BTC")
        size = (notional / ask).quantize(D("0.001"))
        await self.context.executors[venue].execute(
            ExecutionRequest("BTC", "buy", size, ExecutionMode.MARKET)
        )


async def _running(config_text: str, tmp_path: Path) -> BotRuntime:
    path = tmp_path / "bot.yml"
    path.write_text(config_text)
    runtime = BotRuntime(load_config(path), RuntimeOptions(str(path)))
    await runtime.start()
    return runtime


@pytest.fixture
async def grid_bot(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotRuntime]:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    runtime = await _running(GRID_WITH_CAPS, tmp_path)
    try:
        yield runtime
    finally:
        runtime.request_stop("test over")
        await runtime.shutdown()


async def _journaled(runtime: BotRuntime) -> int:
    assert runtime.sessions is not None
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(OrderRow).where(OrderRow.bot_id == runtime.bot_id)
        )
    return int(count or 0)


async def _btc_notional(runtime: BotRuntime, venue: str) -> Decimal:
    position = await runtime.clients[venue].position("BTC")
    return position.notional if position is not None else D(0)


async def test_an_order_beyond_the_position_cap_never_reaches_the_journal_or_venue(
    grid_bot: BotRuntime,
) -> None:
    assert grid_bot.strategy is not None
    reckless = RecklessStrategy(grid_bot.strategy.context)
    orders_before = await _journaled(grid_bot)
    with pytest.raises(PositionLimitBreached, match=r"max_position_notional_usd 1000\.00 USD"):
        await reckless.buy("paper", D(5000))
    assert await _btc_notional(grid_bot, "paper") == 0
    assert await _journaled(grid_bot) == orders_before  # refused before the intent is written

    await reckless.buy("paper", D(800))  # within the cap: it trades
    held = await _btc_notional(grid_bot, "paper")
    assert D(700) < held <= D(1005)
    with pytest.raises(PositionLimitBreached):
        await reckless.buy("paper", D(800))  # adding beyond the cap is refused too
    position = await grid_bot.clients["paper"].position("BTC")
    assert position is not None
    assert grid_bot.stack is not None
    result = await grid_bot.stack.executors["paper"].execute(
        ExecutionRequest.closing(position, "test close")
    )  # closing is always allowed
    assert result.filled_size == abs(position.size)
    assert await _btc_notional(grid_bot, "paper") == 0


async def test_a_tripped_kill_switch_or_a_pause_refuses_new_exposure(
    grid_bot: BotRuntime,
) -> None:
    assert grid_bot.strategy is not None
    reckless = RecklessStrategy(grid_bot.strategy.context)
    equity = await grid_bot.equity()
    grid_bot.risk.update_equity(equity * 2)  # the day's first equity and the peak
    grid_bot.risk.update_equity(equity)  # a 50 % drawdown against max_drawdown_pct 20
    assert grid_bot.risk.killed
    with pytest.raises(KillSwitchEngaged):
        await reckless.buy("paper", D(100))
    grid_bot.risk.reset_kill()
    # The kill is cleared, but the day lost far more than daily_loss_limit_usd 50: paused.
    assert grid_bot.risk.paused_until is not None
    with pytest.raises(EntriesPaused):
        await reckless.buy("paper", D(100))
    assert await _btc_notional(grid_bot, "paper") == 0


async def test_an_atomic_pair_beyond_a_venue_cap_is_refused_before_any_leg_is_sent(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    runtime = await _running(ARB_WITH_CAPS, tmp_path)
    try:
        assert runtime.stack is not None
        _bid, ask = await runtime.clients["paper_a"].best_bid_ask("BTC")
        size = (D(3000) / ask).quantize(D("0.001"))
        result = await runtime.stack.atomic.execute(
            [Leg("paper_a", "BTC", "buy", size), Leg("paper_b", "BTC", "sell", size)]
        )
        assert result.status is AtomicStatus.PREFLIGHT_FAILED
        assert any("max_exposure_per_venue_usd 1000.00 USD" in p for p in result.problems)
        assert await _btc_notional(runtime, "paper_a") == 0
        assert await _btc_notional(runtime, "paper_b") == 0
    finally:
        runtime.request_stop("test over")
        await runtime.shutdown()
