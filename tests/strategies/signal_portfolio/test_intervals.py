"""The portfolio's clocks: evaluations, funding/OI polls (and how much OI history is kept),
Polymarket polls and the candle watchdog each follow their own setting."""

from __future__ import annotations

from decimal import Decimal

from testing.fakes.hyperliquid import FakeHyperliquid
from testing.fakes.polymarket import FakePolyMarket, FakePolymarket
from tests.strategies.signal_portfolio.helpers import Sessions, portfolio, running, signals

D = Decimal


async def test_evaluations_follow_their_interval(db_sessions: Sessions) -> None:
    async with (
        FakeHyperliquid() as fake,
        running(
            db_sessions, fake, evaluation_interval_seconds=D(10), signals={"funding_rate": {}}
        ) as rig,
    ):
        await rig.step()  # t0: evaluated
        await rig.advance(9)
        await rig.step()  # 9 s: not yet
        assert len(await signals(db_sessions)) == 1
        await rig.advance(1)
        await rig.step()  # 10 s
        assert len(await signals(db_sessions)) == 2
        assert portfolio(rig).evaluations == 2


async def test_funding_polls_keep_oi_history_size_readings(db_sessions: Sessions) -> None:
    async with (
        FakeHyperliquid() as fake,
        running(db_sessions, fake, funding_poll_seconds=D(5), oi_history_size=2) as rig,
    ):
        market = portfolio(rig).market
        for oi in (11, 12, 13):
            fake.market("BTC").open_interest = D(oi)
            await rig.advance(4)
            await rig.step()  # 4 s after the last poll: none
            await rig.advance(1)
            await rig.step()
        assert list(market.open_interest["BTC"]) == [D(12) * 60_000, D(13) * 60_000]


async def test_polymarket_polls_follow_their_interval(db_sessions: Sessions) -> None:
    async with FakeHyperliquid() as fake, FakePolymarket() as crowd:
        crowd.add(FakePolyMarket("Bitcoin Up or Down - 12PM ET", D("0.6")))
        async with running(
            db_sessions,
            fake,
            signals={"contrarian_pure": {}},
            polymarket_gamma_url=crowd.base_url,
            polymarket_clob_url=crowd.base_url,
            polymarket_poll_seconds=D(30),
        ) as rig:
            assert crowd.requests.count("/markets") == 1  # at start
            await rig.advance(29)
            await rig.step()
            assert crowd.requests.count("/markets") == 1
            await rig.advance(1)
            await rig.step()
            assert crowd.requests.count("/markets") == 2


async def test_the_candle_watchdog_follows_candle_stale_minutes(db_sessions: Sessions) -> None:
    async with (
        FakeHyperliquid() as fake,
        running(db_sessions, fake, candle_stale_minutes=2) as rig,
    ):
        collector = portfolio(rig).market.collector
        await rig.advance(119)
        await rig.step()
        assert collector.reconnects == 0
        await rig.advance(1)
        await rig.step()  # two minutes without a candle from trades: reconnect
        assert collector.reconnects == 1
        assert fake.ws_connections == 2
