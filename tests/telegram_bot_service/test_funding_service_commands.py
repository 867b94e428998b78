"""/funding, /opportunities and /funding_chart reading the real funding-rate service (its app
served by uvicorn on a local port over the test's database, SQLite and PostgreSQL), through
the real python-telegram-bot stack polling the fake Bot API. A service that is down is one
readable line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.funding_rate_service.api_rig import record, write
from tests.funding_rate_service.served import free_port, funding_service
from tests.telegram_bot_service.conftest import STRANGER, VIEWER, StartService
from tests.telegram_bot_service.test_funding_and_configs import FixedProvider, _quote

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Sessions = async_sessionmaker[AsyncSession]


async def collected(sessions: Sessions, hours: int = 24) -> None:
    """``hours`` hourly rows up to now: BTC pays 0.0001/h more on binance than on hyperliquid
    (87.6 % APR gross), ETH 0.00002/h more on hyperliquid than on binance."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rows = []
    for back in range(hours):
        at = now - timedelta(hours=back)
        rows += [
            record("hyperliquid", "BTC", "0.00001", interval=1, at=at, taker="0.00045"),
            record("binance", "BTC", "0.00088", interval=8, at=at, taker="0.0005"),
            record("hyperliquid", "ETH", "0.00003", interval=1, at=at, taker="0.00045"),
            record("binance", "ETH", "0.00008", interval=8, at=at, taker="0.0005"),
        ]
    await write(sessions, rows)


@pytest.fixture
async def service_url(sessions: Sessions, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    await collected(sessions)
    async with funding_service(sessions, free_port()) as url:
        monkeypatch.setenv("PERPFLEET_FUNDING_URL", url)
        yield url


async def test_opportunities_lists_the_services_pairs(
    start_service: StartService, service_url: str
) -> None:
    async with start_service() as harness:
        answer = await harness.say(VIEWER, "/opportunities")
        rows = [line.split() for line in answer.text.splitlines() if line[:3] in ("BTC", "ETH")]
        # BTC: gross 0.0001/h - fees 2 x 0.00095 / 72 h = 0.00007361/h = 64.48 % APR net.
        assert rows[0] == ["BTC", "hyperliquid/binance", "64.48%", "0.000%"]
        assert [row[0] for row in rows] == ["BTC"]  # ETH's spread does not pay its fees
        assert answer.text.startswith("1 opportunity on the real venues (as of ")
        assert answer.text.endswith("Chart of a pair: /funding_chart BTC hyperliquid binance")

        narrowed = await harness.say(VIEWER, "/opportunities BTC 70")
        assert narrowed.text == (
            "No BTC funding spread pays above 70.00% net APR on the real venues "
            "(binance, hyperliquid)."
        )

        bad = await harness.say(VIEWER, "/opportunities BTC ETH")
        assert bad.text == "Usage: /opportunities [SYMBOL] [MIN_NET_APR_%] (not 'ETH')"
        refused = await harness.say(STRANGER, "/opportunities")
        assert "not on its list of users" in refused.text


async def test_funding_shows_the_paper_venues_and_the_real_ones(
    start_service: StartService, service_url: str
) -> None:
    quotes = [_quote("paper_a", "BTC", "0", 1, "100"), _quote("paper_b", "BTC", "0.0008", 8, "100")]
    async with start_service(funding=FixedProvider(quotes)) as harness:
        answer = await harness.say(VIEWER, "/funding")
        paper, real = answer.text.split("\n\n")[:2]
        assert paper.startswith("Top 1 funding opportunities on paper_a, paper_b")
        assert "paper_a/paper_b" in paper
        assert real.startswith("Top 1 on the real venues (binance, hyperliquid; as of ")
        [row] = [line.split() for line in real.splitlines() if line[:1].isdigit()]
        assert row == ["1", "BTC", "hyperliquid/binance", "87.60%", "64.48%"]


async def test_funding_chart_is_a_png_of_the_pair(
    start_service: StartService, service_url: str
) -> None:
    async with start_service() as harness:
        mark = harness.telegram.mark()
        await harness.telegram.send_text(VIEWER, "/funding_chart btc hyperliquid binance 7")
        photo = await harness.telegram.reply_to(VIEWER, after=mark, methods=("sendPhoto",))
        assert photo.files["photo"].startswith(PNG_SIGNATURE)
        assert photo.params["caption"] == (
            "BTC: long hyperliquid, short binance - funding spread and cumulative carry, "
            "last 7 days (UTC)"
        )

        wrong = await harness.say(VIEWER, "/funding_chart BTC nowhere nowhere 999")
        assert wrong.text.startswith("'nowhere' is not a venue (aster, backpack, binance, ")
        assert "DAYS must be 1 to 365, not '999'" in wrong.text
        assert wrong.text.endswith("Usage: /funding_chart SYMBOL LONG_VENUE SHORT_VENUE [DAYS]")


async def test_a_service_that_is_down_is_one_line(
    start_service: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("PERPFLEET_FUNDING_URL", f"http://127.0.0.1:{port}")
    down = (
        f"the funding-rate service at http://127.0.0.1:{port} is not reachable (connection refused)"
    )
    quotes = [_quote("paper_a", "BTC", "0", 1, "100"), _quote("paper_b", "BTC", "0.0008", 8, "100")]
    async with start_service(funding=FixedProvider(quotes)) as harness:
        answer = await harness.say(VIEWER, "/opportunities")
        assert answer.text == down
        chart = await harness.say(VIEWER, "/funding_chart BTC hyperliquid binance")
        assert chart.text == down
        funding = await harness.say(VIEWER, "/funding")
        assert "paper_a/paper_b" in funding.text  # the paper venues still show
        assert f"\n\nReal venues: {down}\n\n" in funding.text
