"""A restart (the venue and the journal persisted): the trade, its venue stop and a tripped
kill switch all survive it."""

from __future__ import annotations

from typing import Any

from tests.execution.atomic.rig import create_bot
from tests.strategies.l2_imbalance.helpers import (
    BUY_BOOK,
    ENTRY_PRICE,
    ENTRY_SIZE,
    D,
    Sessions,
    book,
    config,
    position,
    quote,
    resting,
    rows,
    scalper,
)
from tests.strategies.rig import strategy_rig

# A wider stop-loss (1 %: trigger 99.0): the restarted venue's feed starts from the helpers'
# book (mid 99.75), which would be through the default one's 99.8.
STOP = ("stop_market", "sell", ENTRY_SIZE, None, D("99.0"), True)


async def test_a_restart_keeps_the_trade_and_adopts_its_stop(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    bot = await create_bot(db_sessions, ("paper",))
    cfg = config(stop_loss_pct=D(1))
    async with strategy_rig(db_sessions, cfg, bot=bot, database_url=migrated_db_url) as first:
        await book(first, BUY_BOOK)
        await first.step()
        stop_id = scalper(first).trades["BTC"].stop_id
    async with strategy_rig(db_sessions, cfg, bot=bot, database_url=migrated_db_url) as second:
        trade = scalper(second).trades["BTC"]
        assert (trade.size, trade.entry_price, trade.stop_id) == (ENTRY_SIZE, ENTRY_PRICE, stop_id)
        await second.step()
        assert await resting(second) == [STOP]  # the same stop, no second one
        assert [r.client_order_id for r in await rows(second, purpose="l2_stop")] == [stop_id]
        await quote(second, "100.2", "100.3")  # take-profit after the restart
        await second.step()
        assert await position(second) is None
        assert await resting(second) == []


async def test_a_killed_bot_stays_killed_after_a_restart(
    db_sessions: Sessions, migrated_db_url: str
) -> None:
    limits: dict[str, Any] = {
        "daily_loss_limit_usd": D("1.1"),
        "take_profit_pct": D(5),
        "stop_loss_pct": D(5),
    }
    bot = await create_bot(db_sessions, ("paper",))
    cfg = config(**limits)
    async with strategy_rig(db_sessions, cfg, bot=bot, database_url=migrated_db_url) as first:
        await quote(first, "99.9", "100.0")
        await first.step()
        await book(first, BUY_BOOK)
        await first.step()
        await quote(first, "98.9", "99.0")
        await first.step()
        assert first.context.risk.killed
    async with strategy_rig(db_sessions, cfg, bot=bot, database_url=migrated_db_url) as second:
        assert second.context.risk.killed
        await book(second, BUY_BOOK)
        await second.step()
        assert len(await rows(second, purpose="l2_entry")) == 1  # the first run's only
        assert await position(second) is None


async def test_a_stop_leaves_the_venue_stop_protecting_the_position(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config(maker_entry=True)) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()  # a maker entry rests at 99.9
        [entry] = await rows(rig, purpose="l2_entry")
        cancelled = await rig.strategy.cleanup(cancel_orders=True)
        assert cancelled == [entry.client_order_id]
        assert await resting(rig) == []
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()  # a long with its venue stop
        assert await rig.strategy.cleanup(cancel_orders=True) == []
        assert await resting(rig) == [("stop_market", "sell", ENTRY_SIZE, None, D("99.8"), True)]
