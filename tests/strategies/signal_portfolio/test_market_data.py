"""The portfolio's market data stored and read by the signals: backfilled candles (candles
table, idempotent), Polymarket polls (polymarket_snapshots), and the signals they drive."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from database.models import Candle, PolymarketSnapshot
from database.repositories.signals import strategy_stats, upsert_candles
from testing.fakes.hyperliquid import FakeHyperliquid
from testing.fakes.polymarket import FakePolyMarket, FakePolymarket
from tests.exchange_clients.paper.helpers import START
from tests.strategies.signal_portfolio.helpers import Sessions, portfolio, running, signals

D = Decimal


def rising_history(fake: FakeHyperliquid, minutes: int) -> None:
    for index in range(minutes):
        open_time = START - timedelta(minutes=minutes - index)
        price = D(99) + D(index) / 100
        fake.add_candle(
            "BTC", "1m", int(open_time.timestamp() * 1000), (price, price, price, price, D(1))
        )


async def test_backfilled_candles_are_stored_once_and_drive_rsi(db_sessions: Sessions) -> None:
    async with FakeHyperliquid() as fake:
        rising_history(fake, 100)
        async with running(
            db_sessions, fake, signals={"rsi_mean_reversion": {}}, backfill_hours=2
        ) as rig:
            snapshot = portfolio(rig).market.snapshot("BTC", D("99.75"), START)
            assert len(snapshot.candles["1m"]) == 100
            assert len(snapshot.candles["5m"]) == 20
            await rig.step()
            stored = list(portfolio(rig).market.collector.store.candles("BTC", "5m"))
    async with db_sessions() as session:
        counts = dict(
            (
                await session.execute(
                    select(Candle.interval, func.count()).group_by(Candle.interval)
                )
            ).all()
        )
        assert counts == {"1m": 100, "5m": 20, "1h": 1}
    async with db_sessions.begin() as session:
        assert await upsert_candles(session, stored) == 20  # written again: the same rows
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Candle)) == 121
    [rsi] = await signals(db_sessions)
    assert (rsi.strategy, rsi.direction, rsi.acted_on) == ("rsi_mean_reversion", "SHORT", True)
    assert rsi.details == {"rsi": "100.00"}


async def test_polymarket_is_polled_stored_and_faded(db_sessions: Sessions) -> None:
    async with FakeHyperliquid() as fake, FakePolymarket() as crowd:
        crowd.add(
            FakePolyMarket(
                "Bitcoin Up or Down - 12PM ET", D("0.9"), end=START + timedelta(minutes=15)
            )
        )
        crowd.add(
            FakePolyMarket(
                "Will Bitcoin be above $90 on March 3?",
                D("0.8"),
                outcomes=("Yes", "No"),
                liquidity=D(20_000),
                end=START + timedelta(days=1),
            )
        )
        async with running(
            db_sessions,
            fake,
            signals={"contrarian_pure": {}, "contrarian_strength": {"min_liquidity_usd": 100_000}},
            polymarket_gamma_url=crowd.base_url,
            polymarket_clob_url=crowd.base_url,
        ) as rig:
            view = portfolio(rig).market.crowd["BTC"]
            # (0.9 x 40,000.25 + 0.8 x 20,000) / 60,000.25
            assert view.up_probability == (D("0.9") * D("40000.25") + D("0.8") * D(20_000)) / D(
                "60000.25"
            )
            assert view.liquidity == D("60000.25")
            await rig.step()
            assert portfolio(rig).holdings["BTC"].strategy == "contrarian_pure"
            stats = {s.name: s for s in await _stats(db_sessions)}
    async with db_sessions() as session:
        rows = list(
            await session.scalars(select(PolymarketSnapshot).order_by(PolymarketSnapshot.id))
        )
    assert [(r.yes_price, r.no_price, r.yes_is_up) for r in rows] == [
        (D("0.9"), D("0.1"), True),
        (D("0.8"), D("0.2"), True),
    ]
    assert rows[0].volume_24h == D("25000.5")
    recorded = [(r.strategy, r.direction, r.acted_on, r.reason) for r in await signals(db_sessions)]
    assert recorded == [
        ("contrarian_pure", "SHORT", True, None),
        ("contrarian_strength", None, False, "no signal"),  # 60,000 USD is not deep enough
    ]
    assert stats["contrarian_pure"].signals == 1
    assert stats["contrarian_pure"].acted == 1
    assert stats["contrarian_pure"].open_trades == 1
    assert stats["contrarian_strength"].signals == 0


async def _stats(sessions: Sessions) -> list:  # type: ignore[type-arg]
    async with sessions() as session:
        return await strategy_stats(session, "signals-test")
