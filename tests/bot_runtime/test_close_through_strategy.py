"""Closes asked through the control API go through the strategy (issue 14 item 10).

Why: ``close-all`` (what ``fleet stop --close`` calls) and the close of one position used to
flatten the venue behind the strategy's back: funding arbitrage kept listing the pair (and so
never entered that symbol again) and the grid's realised PnL never saw the close. A real
runtime on paper venues, its real control API over a socket, the test acting as an operator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bot_runtime.runtime import BotRuntime, RuntimeOptions
from exchange_clients.streams import Subscription
from exchange_clients.types import Fill
from strategies.funding_arbitrage.opportunities import Opportunity
from strategies.funding_arbitrage.strategy import FundingArbitrageStrategy
from strategies.grid.strategy import GridStrategy
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config

D = Decimal
ZERO = D(0)
TOKEN = "close-test-token-0123456789abcdefghijklmnopqrstuvwxyz"

ARB = """\
name: close-arb
strategy:
  type: funding_arbitrage
  params:
    venues: [paper_a, paper_b]
    symbols: [BTC]
    target_margin_usd: 100
    max_leverage: 2
    min_volume_24h_usd: 0
    max_spread_pct: 5
    check_interval_seconds: 1
exchanges:
  paper_a: {}
  paper_b: {}
"""


@asynccontextmanager
async def operated(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, config: str
) -> AsyncIterator[tuple[BotRuntime, httpx.AsyncClient]]:
    """A started bot (its loop not running: the test takes the steps) and its control API."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    path = tmp_path / "bot.yml"
    path.write_text(config)
    options = RuntimeOptions(str(path), control_api=True, control_token=TOKEN)
    runtime = BotRuntime(load_config(path), options)
    await runtime.start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{runtime.control_server.port}/api/v1",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=60,
        ) as api:
            yield runtime, api
    finally:
        await runtime.shutdown()


async def drained(subscription: Subscription[Fill]) -> list[Fill]:
    """Every fill the subscription holds now (the paper venue publishes them as it fills)."""
    fills = []
    while subscription.pending():
        fills.append(await anext(subscription))
    return fills


def cash_flow(fills: list[Fill]) -> Decimal:
    """What a set of fills that ends flat earned: sells minus buys minus fees."""
    return sum((f.price * f.size * (1 if f.side == "sell" else -1) - f.fee for f in fills), ZERO)


async def test_close_all_books_the_grid_close_and_forgets_its_lots(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid_yaml = paper_grid_yaml("close-grid")
    async with operated(tmp_path, migrated_db_url, monkeypatch, grid_yaml) as (runtime, api):
        grid = runtime.strategy
        assert isinstance(grid, GridStrategy)
        assert runtime.stack is not None
        client = runtime.clients["paper"]
        await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))
        grid.context.paused.set()  # no entry: the step only covers the position with a lot
        await grid.execute_strategy()
        [lot] = grid.lots.values()
        assert (await client.open_orders())[0].reduce_only

        subscription = client.fills()
        response = await api.post("/close-all")
        assert response.status_code == 200, response.text
        assert response.json()["closed_positions"] == ["paper:BTC"]

        [close] = await drained(subscription)
        assert close.side == "sell"
        assert close.size == D("0.002")
        assert grid.lots == {}
        assert grid.trades == 1
        assert grid.realized_pnl == (close.price - lot.entry_price) * close.size - close.fee
        assert await client.open_orders() == []
        assert await client.position("BTC") is None
        saved = grid.state()
        assert saved["lots"] == []
        assert saved["realized_pnl"] == grid.realized_pnl


async def open_a_pair(runtime: BotRuntime) -> FundingArbitrageStrategy:
    """One BTC pair (long paper_a, short paper_b) opened through the strategy's own path."""
    arb = runtime.strategy
    assert isinstance(arb, FundingArbitrageStrategy)
    quotes = await arb._quotes()
    pair = Opportunity("BTC", "paper_a", "paper_b", ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
    assert await arb._open(pair, quotes)
    assert len(arb.positions) == 1
    return arb


async def test_closing_one_leg_closes_the_pair_books_it_and_frees_the_symbol(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with operated(tmp_path, migrated_db_url, monkeypatch, ARB) as (runtime, api):
        subscriptions = {venue: client.fills() for venue, client in runtime.clients.items()}
        arb = await open_a_pair(runtime)
        size = arb.positions[0].size

        response = await api.post("/positions/paper_a:BTC/close", json={"mode": "market"})
        assert response.status_code == 200, response.text
        assert D(response.json()["closed"]) == size

        for client in runtime.clients.values():
            assert await client.position("BTC") is None  # the other leg too: never naked
        assert arb.positions == []
        assert arb.state()["positions"] == []
        fills = [f for venue, sub in subscriptions.items() for f in await drained(sub)]
        assert abs(arb.realized_pnl - cash_flow(fills)) < D("1e-12")
        assert arb.fees == sum((f.fee for f in fills), ZERO)
        await open_a_pair(runtime)  # the symbol is free again


async def test_close_all_closes_the_pair_through_the_strategy(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with operated(tmp_path, migrated_db_url, monkeypatch, ARB) as (runtime, api):
        subscriptions = {venue: client.fills() for venue, client in runtime.clients.items()}
        arb = await open_a_pair(runtime)

        response = await api.post("/close-all")
        assert response.status_code == 200, response.text
        assert sorted(response.json()["closed_positions"]) == ["paper_a:BTC", "paper_b:BTC"]

        assert arb.positions == []
        fills = [f for venue, sub in subscriptions.items() for f in await drained(sub)]
        assert len(fills) >= 4  # two legs opened, two closed
        assert abs(arb.realized_pnl - cash_flow(fills)) < D("1e-12")
