"""A result into ``backtest_runs`` (and its trades and equity points)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from backtest.result import BacktestResult, canonical_json, result_hash
from database.engine import create_engine, session_maker
from database.repositories.backtest import NewRun, TradeRow, save_run
from database.schema_version import require_current_schema


def _plain(document: Any) -> Any:
    """JSON-ready (Decimals as strings, times ISO): what the result file holds."""
    return json.loads(canonical_json(document))


def new_run(
    result: BacktestResult, *, sweep: str | None = None, split: str | None = None
) -> NewRun:
    trades = [
        TradeRow(f.ts, "fill", f.venue, f.symbol, f.side, f.price, f.size, f.fee, None, f.order_id)
        for f in result.fills
    ] + [TradeRow(p.ts, "funding", p.venue, p.symbol, amount=p.amount) for p in result.funding]
    trades.sort(key=lambda t: (t.ts, t.kind))
    metrics = result.metrics()
    return NewRun(
        bot_name=result.bot,
        strategy=result.strategy,
        params=_plain(result.params),
        period_start=result.start,
        period_end=result.end,
        data=list(result.data),
        realism=_plain(result.realism),
        metrics=_plain(metrics),
        net_pnl=Decimal(metrics.get("net_pnl", 0)),
        result_hash=result_hash(result.to_bytes()),
        stopped_by=result.stopped_by[:200] if result.stopped_by else None,
        sweep=sweep,
        split=split,
        trades=trades,
        equity=[(p.ts, p.equity) for p in result.equity],
    )


async def store_runs(url: str, runs: list[NewRun]) -> list[int]:
    """Insert ``runs`` in one transaction; their ids."""
    await require_current_schema(url)
    engine = create_engine(url)
    try:
        async with session_maker(engine).begin() as session:
            return [await save_run(session, run) for run in runs]
    finally:
        await engine.dispose()
