"""Funding and open interest from the real funding-rate service (its FastAPI app on a local
port, reading the rows written to the same database), Hyperliquid directly when it is down;
each reading stored once per minute (funding_oi_snapshots)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from structlog.testing import capture_logs

from core.clock import ManualClock
from database.models import FundingOiSnapshot
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.paper.helpers import START
from tests.funding_rate_service.api_rig import record, write
from tests.funding_rate_service.served import free_port, funding_service
from tests.strategies.signal_portfolio.helpers import Sessions, portfolio, running, signals

D = Decimal


async def test_the_service_answers_and_the_venue_stands_in_while_it_is_down(
    db_sessions: Sessions,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = D("0.00001")  # the venue: nothing to fade
        fake.market("BTC").open_interest = D(10)  # x mark 60,000 = 600,000 USD
        async with running(
            db_sessions,
            fake,
            funding_source="auto",
            funding_service_url=url,
            funding_poll_seconds=D(1),
            signals={"funding_rate": {}},
        ) as rig:
            market = portfolio(rig).market
            assert market.funding["BTC"] == D("0.00001")  # service down at start: the venue
            assert list(market.open_interest["BTC"]) == [D(600_000)]

            # The service holds 0.3 % per hour for Hyperliquid BTC: the strategy fades it.
            await write(
                db_sessions,
                [record("hyperliquid", "BTC", "0.003", interval=1, at=START, oi="2500000")],
            )
            async with funding_service(db_sessions, port, ManualClock(START)):
                await rig.advance(60)  # the next minute: its own row
                with capture_logs() as logs:
                    await rig.step()
                assert market.funding["BTC"] == D("0.003")
                assert list(market.open_interest["BTC"]) == [D(600_000), D(2_500_000)]
                assert [e["event"] for e in logs if e["event"].startswith("funding_service")] == [
                    "funding_service_back"
                ]
            assert portfolio(rig).holdings["BTC"].strategy == "funding_rate"
            await rig.advance(60)
            with capture_logs() as logs:
                await rig.step()
            assert market.funding["BTC"] == D("0.00001")  # down again: the venue
            fake.market("BTC").open_interest = D(11)
            await rig.advance(2)  # the same minute: its row updated, not added
            await rig.step()
            [down] = [e for e in logs if e["event"] == "funding_service_unavailable"]
            assert down["action"] == "reading Hyperliquid directly"
    async with db_sessions() as session:
        rows = list(await session.scalars(select(FundingOiSnapshot).order_by(FundingOiSnapshot.ts)))
    assert [(r.source, r.funding_rate, r.open_interest_usd) for r in rows] == [
        ("venue", D("0.00001"), D(600_000)),
        ("service", D("0.003"), D(2_500_000)),
        ("venue", D("0.00001"), D(660_000)),
    ]
    assert [r.direction for r in await signals(db_sessions) if r.direction] == ["SHORT"]


async def test_venue_only_never_asks_the_service_and_service_only_never_the_venue(
    db_sessions: Sessions,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await write(db_sessions, [record("hyperliquid", "BTC", "0.0005", interval=1, at=START)])
    async with FakeHyperliquid() as fake, funding_service(db_sessions, port, ManualClock(START)):
        async with running(
            db_sessions, fake, funding_source="service", funding_service_url=url
        ) as rig:
            assert portfolio(rig).market.funding["BTC"] == D("0.0005")
            # One metaAndAssetCtxs: the trade stream's start (its markets), no funding poll.
            assert fake.requests.count(("/info", "metaAndAssetCtxs")) == 1
        async with running(
            db_sessions, fake, funding_source="venue", funding_service_url=url
        ) as rig:
            assert portfolio(rig).market.funding["BTC"] == D("0.0000125")
            assert fake.requests.count(("/info", "metaAndAssetCtxs")) == 1 + 2  # stream + poll
