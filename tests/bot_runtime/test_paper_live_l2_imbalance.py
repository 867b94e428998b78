"""configs/paper_l2_imbalance_live.yml through the real runtime on Binance-shaped live data.

The paper venue follows the fake Binance's public streams (depth over its WebSocket, kept in
sync with REST snapshots), and the shipped config is used as it is, but for a 1 s time stop and
a 2 s resync quiet time (so a test sees several round trips). The fake's BTC book bids far
more than it offers, and keeps moving, so the scalper buys, leaves on its time stop, buys
again. Then the fake drops every WebSocket and refuses new ones for a while: the paper books
are withdrawn, rebuilt from a new snapshot once the stream is back, and the scalper must make
no entry from the moment it saw the book withdrawn until ``resync_quiet_seconds`` after the
book came back - and then trade again.

Only where the live feed connects is swapped (as in test_paper_live_funding_arb): a paper
venue's config cannot name other hosts for its public source.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot_runtime import setup
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from core.errors import DataStale
from database.models import Order as OrderRow
from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings, public_source
from exchange_clients.types import OrderStatus
from strategies.l2_imbalance.strategy import L2ImbalanceStrategy
from testing.fakes.binance import FakeBinance
from tests.helpers import PROJECT_ROOT
from trading_config.loader import load_config
from trading_config.schema import MarketDataConfig

GUARD = 90.0  # guards a hang; not a speed assertion
QUIET = timedelta(seconds=2)
BIDS = [("60000.0", "20"), ("59999.0", "20"), ("59998.0", "20")]
ASKS = [("60001.0", "1"), ("60002.0", "1"), ("60003.0", "1")]


def shipped_config(tmp_path: Path) -> Path:
    text = (PROJECT_ROOT / "configs" / "paper_l2_imbalance_live.yml").read_text()
    for old, new in (
        ("time_stop_seconds: 60", "time_stop_seconds: 1"),
        ("resync_quiet_seconds: 5", f"resync_quiet_seconds: {QUIET.seconds}"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "l2_live.yml"
    path.write_text(text)
    return path


async def entries(runtime: BotRuntime) -> list[OrderRow]:
    assert runtime.sessions is not None
    async with runtime.sessions() as session:
        rows = await session.scalars(
            select(OrderRow).where(OrderRow.purpose == "l2_entry").order_by(OrderRow.id)
        )
        return list(rows)


async def test_the_live_config_trades_binance_books_and_resyncs_after_a_websocket_drop(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = shipped_config(tmp_path)
    async with FakeBinance() as binance:

        def live_feed(market_data: MarketDataConfig) -> LiveFeed:
            assert market_data.source == "binance"
            settings = LiveSourceSettings(
                symbols=market_data.symbols, base_url=binance.base_url, ws_url=binance.ws_url
            )
            return LiveFeed(public_source(market_data.source, settings))

        monkeypatch.setattr(setup, "live_feed", live_feed)
        await binance.set_book("BTCUSDT", BIDS, ASKS)

        async def keep_moving() -> None:
            """A live book changes: the top bid's size ticks (the ratio stays far above 3)."""
            size = 20
            while True:
                size = 41 - size
                await binance.set_book("BTCUSDT", [("60000.0", str(size)), *BIDS[1:]], ASKS)
                await asyncio.sleep(0.1)

        runtime = BotRuntime(load_config(path), RuntimeOptions(str(path)))
        await runtime.start()
        mover = asyncio.create_task(keep_moving())
        loop = asyncio.create_task(runtime._loop())
        try:
            strategy = runtime.strategy
            assert isinstance(strategy, L2ImbalanceStrategy)

            async def until(check: object, what: str) -> None:
                async def wait() -> None:
                    while not await check():  # type: ignore[operator]
                        assert not loop.done(), f"the runtime stopped waiting for {what}"
                        await asyncio.sleep(0.05)

                await asyncio.wait_for(wait(), GUARD)

            async def two_round_trips() -> bool:
                return strategy.closed_trades >= 2

            await until(two_round_trips, "two round trips on the live book")
            # The next entry may be on its way (pending) as this reads: the settled ones count.
            before = [r for r in await entries(runtime) if OrderStatus(r.status).is_final]
            assert len(before) >= 2
            assert all(r.status == "filled" and r.side == "buy" for r in before), [
                (r.status, r.side) for r in before
            ]

            await binance.drop_connections(refuse_for=1.5)

            async def withdrawn() -> bool:
                return "BTC" in strategy.freshness._withdrawn

            await until(withdrawn, "the book withdrawn")
            withdrawn_seen = datetime.now(UTC)

            async def back() -> bool:
                resynced = strategy.freshness._resynced.get("BTC")
                return resynced is not None and resynced > withdrawn_seen

            await until(back, "the book rebuilt")
            resynced_at = strategy.freshness._resynced["BTC"]
            count = len(await entries(runtime))

            async def trading_again() -> bool:
                return len(await entries(runtime)) > count

            await until(trading_again, "an entry after the resync")
            after = await entries(runtime)
        finally:
            mover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await mover
            runtime.request_stop("test over")
            await asyncio.wait_for(loop, GUARD)
            await runtime.shutdown()

    # No entry from the withdrawal until the quiet time after the rebuild had passed.
    def at(row: OrderRow) -> datetime:
        return row.created_at.astimezone(UTC)

    blind = [r.client_order_id for r in after if withdrawn_seen <= at(r) < resynced_at + QUIET]
    assert blind == []
    assert any(at(r) >= resynced_at + QUIET for r in after)
    assert any(isinstance(b, DataStale) and "resynced" in str(b) for b in strategy.breaches), [
        str(b) for b in strategy.breaches
    ]
    assert runtime.gave_up is None
    assert runtime.task_failure is None
