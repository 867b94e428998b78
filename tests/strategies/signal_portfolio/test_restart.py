"""A restart (venue and database persisted): the open position, its strategy's record and the
PnL attribution survive, and its exits still apply."""

from __future__ import annotations

from decimal import Decimal

from testing.fakes.hyperliquid import FakeHyperliquid
from tests.execution.atomic.rig import create_bot
from tests.strategies.signal_portfolio.helpers import (
    HOT_FUNDING,
    Sessions,
    book,
    portfolio,
    running,
    trades,
)

D = Decimal


async def test_a_restart_keeps_the_position_and_closes_it_at_its_target(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    bot = await create_bot(db_sessions, ("paper",))
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = HOT_FUNDING
        async with running(db_sessions, fake, bot=bot, database_url=migrated_db_url) as first:
            await first.step()
            opened = portfolio(first).holdings["BTC"]
        fake.market("BTC").funding = D(0)
        async with running(db_sessions, fake, bot=bot, database_url=migrated_db_url) as second:
            strategy = portfolio(second)
            held = strategy.holdings["BTC"]
            assert (held.strategy, held.size, held.entry_price, held.trade_id) == (
                "funding_rate",
                D("1.00"),
                D("99.5"),
                opened.trade_id,
            )
            await second.step()
            assert "BTC" in strategy.holdings  # nothing due yet
            await book(second, "95.0", "95.5")  # mid 95.25 <= take-profit 95.52
            await second.step()
            assert strategy.holdings == {}
            assert strategy.records["funding_rate"].wins == 1
            assert strategy.realized_by_asset["BTC"] > 0
    [trade] = await trades(db_sessions)
    assert (trade.id, trade.status, trade.exit_reason) == (opened.trade_id, "closed", "take_profit")
