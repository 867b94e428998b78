"""``maker_entry``: post-only at the touch, cancelled after ``maker_entry_timeout_seconds``."""

from __future__ import annotations

from typing import Any

from tests.strategies.l2_imbalance.helpers import (
    BUY_BOOK,
    ENTRY_SIZE,
    D,
    Sessions,
    book,
    config,
    feed,
    position,
    resting,
    rows,
    scalper,
)
from tests.strategies.rig import strategy_rig

MAKER: dict[str, Any] = {"maker_entry": True, "maker_entry_timeout_seconds": D(5)}


async def test_maker_entry_rests_post_only_at_the_bid_and_opens_on_its_fill(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config(**MAKER)) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert (row.side, row.price, row.size, row.post_only, row.status) == (
            "buy",
            D("99.9"),
            ENTRY_SIZE,
            True,
            "open",
        )
        feed(rig).trade("99.8", "1", "sell")  # a seller through our bid: filled
        await feed(rig).settled()
        tracker = scalper(rig).tracker
        await rig.venues.until(
            lambda: tracker.get(row.client_order_id).order.filled_size == ENTRY_SIZE
        )
        await rig.step()
        trade = scalper(rig).trades["BTC"]
        assert (trade.side, trade.size, trade.entry_price) == (
            "buy",
            ENTRY_SIZE,
            D("99.9"),
        )
        # maker fee 99.9 x 0.0002; the venue stop at 99.9 x (1 - 0.0015) = 99.75 -> 99.7
        assert trade.entry_fee == D("0.019980")
        assert await resting(rig) == [("stop_market", "sell", ENTRY_SIZE, None, D("99.7"), True)]


async def test_unfilled_maker_entry_is_cancelled_after_its_timeout(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config(**MAKER)) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        await rig.advance(4.9)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert row.status == "open"
        await rig.advance(0.1)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert row.status == "cancelled"
        assert await position(rig) is None
        assert scalper(rig).entries == {}


async def test_taker_entry_by_default(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert (row.order_type, row.post_only, row.status) == (
            "market",
            False,
            "filled",
        )


async def test_a_partly_filled_maker_entry_opens_what_filled_at_its_timeout(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config(**MAKER)) as rig:
        await book(rig, BUY_BOOK)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        feed(rig).trade("99.8", "0.4", "sell")  # 0.40 of the 1.00 fills
        await feed(rig).settled()
        tracker = scalper(rig).tracker
        await rig.venues.until(
            lambda: tracker.get(row.client_order_id).order.filled_size == D("0.4")
        )
        await rig.step()
        assert scalper(rig).trades == {}  # still working: within its 5 s
        await rig.advance(5)
        await rig.step()
        [row] = await rows(rig, purpose="l2_entry")
        assert (row.status, row.filled_size) == ("cancelled", D("0.4"))
        trade = scalper(rig).trades["BTC"]
        assert (trade.size, trade.entry_price) == (D("0.4"), D("99.9"))
        assert await resting(rig) == [("stop_market", "sell", D("0.4"), None, D("99.7"), True)]
