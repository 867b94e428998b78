"""GET /api/v1/stats and /api/v1/trades on a real runtime: paper venue, real journal, both
databases, through the fleet's HTTP client (the models Telegram reads).

The expected numbers come from the journal's own fill rows, by the arithmetic of a flat book:
once every buy is sold, the trading PnL is the sold notional minus the bought notional,
whatever the lots; fees are the rows' fees; funding the payment this test stores.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot_runtime.control_api import create_app
from bot_runtime.control_auth import hash_token, new_token
from bot_runtime.control_models import ErrorKind
from bot_runtime.controller import RuntimeControl
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from database.models import Fill, FundingPayment, Order, PnlSnapshot
from fleet.api import ControlRefused
from fleet.control_client import HttpControlClient
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config

D = Decimal
SIX = D("0.000001")


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("stats-grid"))
    return path


def _client(runtime: BotRuntime) -> HttpControlClient:
    token = new_token()
    app = create_app(RuntimeControl(runtime), hash_token(token))
    return HttpControlClient(runtime.config.name, 1, token, transport=httpx.ASGITransport(app=app))


async def _started(config_path: Path) -> BotRuntime:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    return runtime


async def _round_trip(runtime: BotRuntime) -> None:
    """Buy 0.002 BTC at market, then sell it in two halves: flat again, FIFO partial closes."""
    assert runtime.stack is not None
    executor, tracker = runtime.stack.executors["paper"], runtime.stack.trackers["paper"]
    for side, size in (("buy", "0.002"), ("sell", "0.001"), ("sell", "0.001")):
        assert await executor.submit("BTC", side, D(size))  # type: ignore[arg-type]
        await tracker.flush()
    assert await runtime.clients["paper"].position("BTC") is None or (
        (await runtime.clients["paper"].position("BTC")).size == 0  # type: ignore[union-attr]
    )


async def _journal_fills(runtime: BotRuntime) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    assert runtime.sessions is not None
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(Order.side, Fill.price, Fill.size, Fill.fee)
            .join(Order, Fill.order_id == Order.id)
            .where(Order.bot_id == runtime.bot_id)
        )
        return [(side, price, size, fee) for side, price, size, fee in rows]


async def test_stats_and_trades_from_the_journal(config_path: Path) -> None:
    runtime = await _started(config_path)
    try:
        assert runtime.stack is not None
        assert runtime.sessions is not None
        await _round_trip(runtime)
        account = runtime.stack.journal.accounts["paper"]
        now = datetime.now(UTC)
        async with runtime.sessions.begin() as session:
            session.add(
                FundingPayment(
                    venue="paper",
                    account_id=account,
                    symbol="BTC",
                    amount=D("-0.25"),
                    asset="USD",
                    paid_at=now + timedelta(seconds=1),
                )
            )
            for days, equity in ((2, "9990"), (1, "10010")):
                session.add(
                    PnlSnapshot(
                        bot_id=runtime.bot_id,
                        ts=now - timedelta(days=days),
                        equity=D(equity),
                        realized=D(0),
                        unrealized=D(0),
                        funding=D(0),
                    )
                )

        fills = await _journal_fills(runtime)
        assert len(fills) >= 3
        sold = sum((p * s for side, p, s, _ in fills if side == "sell"), D(0))
        bought = sum((p * s for side, p, s, _ in fills if side == "buy"), D(0))
        fees = sum((fee for *_, fee in fills), D(0))
        assert fees > 0  # the paper venue charges its taker fee

        control = _client(runtime)
        stats = await control.stats()
        assert stats.pnl.trading == (sold - bought).quantize(SIX)
        assert stats.pnl.fees == fees.quantize(SIX)
        assert stats.pnl.funding == D("-0.25")
        assert stats.pnl.unrealized == 0
        assert stats.pnl.net == (sold - bought - fees - D("0.25")).quantize(SIX)
        assert stats.fills == len(fills)
        assert stats.turnover == (sold + bought).quantize(SIX)
        assert stats.trades.trades >= 2  # two sells against the bought lot(s)
        assert stats.trades.wins + stats.trades.losses <= stats.trades.trades
        # Equity: two stored samples and the venue's equity now.
        assert stats.equity_points == 3
        assert stats.starting_equity == D("9990")
        assert stats.ending_equity == (await runtime.equity()).quantize(SIX)
        assert stats.sharpe is None or math.isfinite(stats.sharpe)
        assert "annualised x sqrt(365 days / 1 day)" in stats.sampling
        assert list(stats.per_venue) == ["paper"]
        assert list(stats.per_symbol) == ["BTC"]
        assert stats.per_symbol["BTC"].pnl.net == stats.pnl.net
        [today] = stats.daily
        assert today.fills == len(fills)
        assert today.trades == stats.trades.trades
        assert today.net == stats.pnl.net  # flat: all of it realised today

        page = await control.trades(page=1, per_page=1)
        assert (page.total, page.pages, len(page.trades)) == (
            stats.trades.trades,
            stats.trades.trades,
            1,
        )
        everything = await control.trades(page=1, per_page=200)
        assert sum(t.net_pnl for t in everything.trades) == pytest.approx(
            stats.pnl.trading - stats.pnl.fees, abs=D("0.00001")
        )
        closes = [t.closed_at for t in everything.trades]
        assert closes == sorted(closes, reverse=True)  # newest first
        assert page.trades[0] == everything.trades[0]
        beyond = await control.trades(page=99, per_page=200)
        assert (beyond.trades, beyond.total) == ([], stats.trades.trades)
        for bad in (0, 201):
            with pytest.raises(ControlRefused) as refused:
                await control.trades(page=1, per_page=bad)
            assert refused.value.kind is ErrorKind.INVALID_REQUEST
        with pytest.raises(ControlRefused) as refused:
            await control.trades(page=0, per_page=10)
        assert refused.value.kind is ErrorKind.INVALID_REQUEST
    finally:
        await runtime.shutdown()


async def test_a_bot_without_trades_answers_with_reasons(config_path: Path) -> None:
    runtime = await _started(config_path)
    try:
        control = _client(runtime)
        stats = await control.stats()
        assert (stats.fills, stats.trades.trades, stats.daily) == (0, 0, [])
        assert stats.pnl.net == 0
        assert stats.trades.win_rate is None
        assert stats.trades.notes["win_rate"] == "no closed trades"
        assert stats.notes["total_return"] == "fewer than two equity points"
        assert stats.equity_points == 1  # the equity now
        page = await control.trades(page=1, per_page=10)
        assert (page.total, page.pages, page.trades) == (0, 1, [])
    finally:
        await runtime.shutdown()


async def test_the_answer_has_no_float_money_and_no_nan(config_path: Path) -> None:
    """On the wire: money as decimal strings, statistics as numbers or null (JSON has no NaN)."""
    runtime = await _started(config_path)
    try:
        await _round_trip(runtime)
        token = new_token()
        app = create_app(RuntimeControl(runtime), hash_token(token))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bot"
        ) as http:
            answer = await http.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
            unauthorized = await http.get("/api/v1/trades")
            misspelt = await http.get(
                "/api/v1/trades?pge=2", headers={"Authorization": f"Bearer {token}"}
            )
            # every route, not only the paged one: a parameter nothing reads is a mistake
            status_with_extra = await http.get(
                "/api/v1/status?verbose=1", headers={"Authorization": f"Bearer {token}"}
            )
            stranger_with_extra = await http.get("/api/v1/status?verbose=1")
        assert answer.status_code == 200
        assert "NaN" not in answer.text
        assert "Infinity" not in answer.text
        body = answer.json()
        assert isinstance(body["pnl"]["net"], str)
        assert isinstance(body["turnover"], str)
        assert body["trades"]["win_rate"] is None or isinstance(body["trades"]["win_rate"], float)
        assert unauthorized.status_code == 401
        assert misspelt.status_code == 422
        assert misspelt.json()["error"] == "invalid_request"
        assert misspelt.json()["problems"] == [
            "query.pge: unknown query parameter (expected: page, per_page)"
        ]
        assert status_with_extra.status_code == 422
        assert status_with_extra.json()["problems"] == [
            "query.verbose: unknown query parameter (expected: none)"
        ]
        assert stranger_with_extra.status_code == 401
    finally:
        await runtime.shutdown()
