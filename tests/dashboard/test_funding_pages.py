"""The funding pages over the real funding-rate API (its app over the same database, reached
through httpx's ASGI transport): heatmap and table of the latest rates, the opportunities,
and a pair's spread history with its cumulative carry."""

from __future__ import annotations

import httpx

from core.clock import ManualClock
from dashboard.funding import FundingSource
from funding_rate_service.api import ServiceContext, create_app
from funding_rate_service.queries import DatabaseReader
from tests.dashboard.conftest import Dashboard
from tests.funding_rate_service.api_rig import HOUR, NOW, record, write

ROWS = [
    record("binance", "BTC", "0.0008", mark="100", volume="90000000", oi="40000000"),
    record("hyperliquid", "BTC", "0.00002", interval=1, mark="100.02", maker="0.00015"),
    record("binance", "ETH", "0.0002", mark="2001"),
    record("hyperliquid", "ETH", "0.0001", interval=1, mark="2000"),
]


async def _serve_funding(dashboard: Dashboard) -> None:
    history = [
        row
        for hours in range(1, 25)
        for row in (
            record("hyperliquid", "BTC", "0.00002", interval=1, at=NOW - hours * HOUR),
            record("binance", "BTC", "0.0008", at=NOW - hours * HOUR),
        )
    ]
    await write(dashboard.sessions, ROWS + history)
    app = create_app(
        ServiceContext(DatabaseReader(dashboard.sessions), None, clock=ManualClock(NOW))
    )
    dashboard.services.funding = FundingSource(
        "http://funding.test", transport=httpx.ASGITransport(app=app)
    )


async def test_latest_rates_heatmap_and_opportunities(dashboard: Dashboard) -> None:
    await _serve_funding(dashboard)
    client = await dashboard.client("vic")
    page = (await client.get("/funding")).text
    assert 'class="heatmap"' in page
    # binance BTC: 0.0008 per 8 h = 0.0001/h = 87.60 % APR, shown exact to the cent
    assert ">87.60</td>" in page
    assert "<td>binance</td><td>BTC</td><td>0.0008</td>" in page
    opportunities = page.split("<h2>Opportunities</h2>")[1]
    assert "/funding/spread?symbol=BTC&amp;long=hyperliquid&amp;short=binance" in opportunities


async def test_a_pairs_spread_and_cumulative_carry(dashboard: Dashboard) -> None:
    await _serve_funding(dashboard)
    client = await dashboard.client("vic")
    page = await client.get(
        "/funding/spread", params={"symbol": "BTC", "long": "hyperliquid", "short": "binance"}
    )
    assert page.status_code == 200
    assert 'aria-label="spread APR %"' in page.text
    assert 'aria-label="cumulative carry %"' in page.text


async def test_the_overview_says_whether_the_funding_service_answers(
    dashboard: Dashboard,
) -> None:
    client = await dashboard.client("vic")
    assert "<h2>Funding-rate service</h2><p>unreachable</p>" in (await client.get("/")).text
    await _serve_funding(dashboard)
    assert "<h2>Funding-rate service</h2><p>up</p>" in (await client.get("/")).text
