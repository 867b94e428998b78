"""The funding-rate service's stored history as data, and runs stored and ranked - on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import strategies  # noqa: F401 - registers the strategies' parameters
from backtest.run import run_backtest
from backtest.settings import BacktestSettings
from backtest.sources.funding import BookShape
from backtest.sources.load import load_dataset
from backtest.store import new_run, store_runs
from database.models import FundingRate
from database.repositories.backtest import run_equity, run_trades, runs_ranked
from tests.backtest.helpers import write_config
from trading_config.loader import load_config

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _history(sessions: async_sessionmaker[AsyncSession], hours: int) -> None:
    async with sessions.begin() as session:
        for hour in range(1, hours + 1):
            at = T0 + timedelta(hours=hour)
            for venue, rate in (("paper_a", Decimal("0.0004")), ("paper_b", Decimal("-0.0004"))):
                session.add(
                    FundingRate(
                        venue=venue,
                        symbol="BTC",
                        funding_time=at,
                        rate_per_interval=rate,
                        interval_hours=Decimal(1),
                        hourly_rate=rate,
                        mark_price=Decimal(60000) + hour,
                        source="settled",
                        observed_at=at,
                    )
                )


async def test_a_funding_backtest_from_stored_history_is_stored_and_ranked(
    migrated_db_url: str, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _history(db_sessions, hours=8)
    path = write_config(
        tmp_path / "arb.yml", "paper_funding_arb.yml", symbols=["BTC"], min_hold_hours=0
    )
    config = load_config(path)
    results = []
    for margin in ("100", "200"):
        settings = BacktestSettings(data=(f"funding-db:{migrated_db_url}",), step_seconds=900.0)
        sized = config.model_copy(
            update={
                "strategy": config.strategy.model_copy(
                    update={
                        "params": config.strategy.params.model_copy(
                            update={"target_margin_usd": Decimal(margin)}
                        )
                    }
                )
            }
        )
        dataset = await load_dataset(
            settings.data, ["paper_a", "paper_b"], None, None, None, BookShape()
        )
        results.append(await run_backtest(sized, settings, dataset))
    small, large = results
    assert small.funding, "funding must be charged at each stored funding time"
    assert small.performance is not None
    assert small.performance.attribution.funding > 0  # long the receiver, short the payer
    assert small.start == T0  # the first row's interval opens the data
    ids = await store_runs(
        migrated_db_url, [new_run(r, sweep="s1", split=None) for r in (small, large)]
    )
    async with db_sessions() as session:
        ranked = await runs_ranked(session, "s1")
        assert [r.id for r in ranked] == sorted(
            ids, key=lambda i: -(small if i == ids[0] else large).metrics()["net_pnl"]
        )
        trades = await run_trades(session, ids[0])
        assert len([t for t in trades if t.kind == "fill"]) == len(small.fills)
        assert sum(t.amount for t in trades if t.kind == "funding" and t.amount) == sum(
            p.amount for p in small.funding
        )
        assert len(await run_equity(session, ids[0])) == len(small.equity)
        assert ranked[0].metrics["net_pnl"] == str(ranked[0].net_pnl)
