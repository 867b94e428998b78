"""/funding over the paper venues (and a fixed provider for exact numbers); /configs and the
/new_config dialogue writing a config that loads."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from exchange_clients.types import FundingRate
from strategies.funding_arbitrage.opportunities import VenueQuote
from strategies.funding_arbitrage.quotes import ClientFundingProvider
from tests.telegram_bot_service.conftest import TRADER, VIEWER, StartService
from trading_config.loader import load_config

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _quote(venue: str, symbol: str, rate: str, hours: int, mid: str) -> VenueQuote:
    price = Decimal(mid)
    funding = FundingRate(
        venue=venue,
        symbol=symbol,
        rate=Decimal(rate),
        interval_hours=Decimal(hours),
        next_funding_time=NOW,
    )
    return VenueQuote(venue, symbol, funding, price, price + Decimal("0.01"), Decimal("0.0002"))


class FixedProvider:
    def __init__(self, quotes: list[VenueQuote]) -> None:
        self._quotes = quotes

    @property
    def venues(self) -> Sequence[str]:
        return ("paper_a", "paper_b")

    async def quotes(self) -> list[VenueQuote]:
        return list(self._quotes)


@pytest.fixture(autouse=True)
def no_funding_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real-venue section reads the funding-rate service: none here (a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PERPFLEET_FUNDING_URL", f"http://127.0.0.1:{port}")


async def test_funding_on_the_paper_venues(start_service: StartService) -> None:
    async with start_service(funding=ClientFundingProvider(("paper_a", "paper_b"))) as harness:
        answer = await harness.say(VIEWER, "/funding")
        # The synthetic market moves with the clock: either some spread pays or none does.
        if answer.text.startswith("Top"):
            rows = [line for line in answer.text.splitlines() if line[:1].isdigit()]
            assert 1 <= len(rows) <= 5
            assert all("paper_a/paper_b" in r or "paper_b/paper_a" in r for r in rows)
            assert all(r.rstrip().endswith("%") for r in rows)
        else:
            assert answer.text.startswith(
                "No funding spread pays after fees right now on paper_a, paper_b.\n\n"
                "Real venues: the funding-rate service at http://127.0.0.1:"
            )


async def test_funding_ranks_the_best_five(start_service: StartService) -> None:
    quotes = []
    for index, symbol in enumerate(["BTC", "ETH", "SOL", "DOGE", "XRP", "ADA", "AVAX"]):
        hourly = Decimal("0.0001") * (index + 1)
        quotes.append(_quote("paper_a", symbol, "0", 1, "100"))
        quotes.append(_quote("paper_b", symbol, str(hourly * 8), 8, "100"))
    async with start_service(funding=FixedProvider(quotes)) as harness:
        answer = await harness.say(VIEWER, "/funding")
        rows = [line.split() for line in answer.text.splitlines() if line[:1].isdigit()]
        assert [row[1] for row in rows] == ["AVAX", "ADA", "XRP", "DOGE", "SOL"]
        assert all(row[2] == "paper_a/paper_b" for row in rows)
        # AVAX: 0.0007/h gross = 613.20% APR
        assert rows[0][3] == "613.20%"


async def test_configs_lists_what_can_be_launched(start_service: StartService) -> None:
    async with start_service() as harness:
        (harness.services.configs_dir / "broken.yml").write_text("name: Bad Name\n")
        answer = await harness.say(VIEWER, "/configs")
        assert "paper_grid.yml" in answer.text
        assert "grid-btc-paper" in answer.text
        assert "broken.yml" in answer.text
        assert "invalid" in answer.text


async def test_new_config_asks_the_grid_schemas_questions(start_service: StartService) -> None:
    async with start_service() as harness:
        assert "Bot name?" in (await harness.say(TRADER, "/new_config")).text
        assert "lowercase" in (await harness.say(TRADER, "Bad Name")).text
        exists = await harness.say(TRADER, "paper_grid")
        assert "already exists" in exists.text
        strategies = (await harness.say(TRADER, "eth-grid")).text
        assert strategies == (
            "Strategy? One of: funding_arbitrage, grid, l2_imbalance, signal_portfolio"
        )
        assert "Answer one of" in (await harness.say(TRADER, "martingale")).text
        first = (await harness.say(TRADER, "grid")).text
        assert first.startswith("9 questions about grid")
        assert "exchange: venue to trade on" in first
        assert "paper venues only" in (await harness.say(TRADER, "binance")).text
        assert "ticker: base asset" in (await harness.say(TRADER, "paper")).text
        wrong = (await harness.say(TRADER, "eth!")).text
        assert "ticker" in wrong  # the loader's own wording for the pattern
        assert "One of: buy, sell" in (await harness.say(TRADER, "ETH")).text
        assert "order_notional_usd" in (await harness.say(TRADER, "sell")).text
        assert "Send a number of USD" in (await harness.say(TRADER, "-5")).text
        assert "target_leverage" in (await harness.say(TRADER, "250")).text
        for answer, asked_next in (
            ("3", "take_profit"),
            ("0.6", "grid_step"),
            ("0.02", "max_orders"),
            ("8", "max_margin_usd"),
        ):
            assert asked_next in (await harness.say(TRADER, answer)).text
        # Below one order's margin (250 / 3): the cross-field rule asks the fields it names.
        again = (await harness.say(TRADER, "50")).text
        assert "below the margin of one order" in again
        assert "Again: order_notional_usd" in again
        for answer in ("250", "3"):
            await harness.say(TRADER, answer)
        done = await harness.say(TRADER, "700")
        assert "Wrote eth-grid.yml" in done.text
        assert "/launch" in done.text

        path: Path = harness.services.configs_dir / "eth-grid.yml"
        config = load_config(path)
        assert config.name == "eth-grid"
        assert config.strategy.type == "grid"
        params = config.strategy.params
        assert params.ticker == "ETH"  # type: ignore[attr-defined]
        assert params.direction == "sell"  # type: ignore[attr-defined]
        assert params.order_notional_usd == Decimal(250)  # type: ignore[attr-defined]
        assert params.target_leverage == Decimal(3)  # type: ignore[attr-defined]
        assert params.max_margin_usd == Decimal(700)  # type: ignore[attr-defined]
        assert params.wait_time == Decimal(10)  # type: ignore[attr-defined]  # the default
        assert list(config.exchanges) == ["paper"]
        [row] = await harness.audit_rows("telegram.config.create")
        assert row.target == str(path)

        listed = await harness.say(VIEWER, "/configs")
        assert "eth-grid.yml" in listed.text


async def test_new_config_is_generic_over_the_strategies(start_service: StartService) -> None:
    """Funding arbitrage gets its dialogue from its schema: nothing in Telegram names it."""
    async with start_service() as harness:
        await harness.say(TRADER, "/new_config")
        await harness.say(TRADER, "arb-chat")
        first = (await harness.say(TRADER, "funding_arbitrage")).text
        assert first.startswith("2 questions about funding_arbitrage")
        assert "venues: venues to scan and trade" in first
        refused = (await harness.say(TRADER, "paper_a, hyperliquid")).text
        assert "paper venues only" in refused
        assert "at least 2" in (await harness.say(TRADER, "paper_a")).text
        assert "target_margin_usd" in (await harness.say(TRADER, "paper_a, paper_b")).text
        done = await harness.say(TRADER, "100")
        assert "Wrote arb-chat.yml" in done.text
        config = load_config(harness.services.configs_dir / "arb-chat.yml")
        assert config.strategy.type == "funding_arbitrage"
        assert config.strategy.params.venues == ["paper_a", "paper_b"]  # type: ignore[attr-defined]
        assert list(config.exchanges) == ["paper_a", "paper_b"]


async def test_viewers_cannot_write_configs(start_service: StartService) -> None:
    async with start_service() as harness:
        answer = await harness.say(VIEWER, "/new_config")
        assert "needs the trader role" in answer.text
