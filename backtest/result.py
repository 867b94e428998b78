"""A backtest's result, and its one canonical byte form.

The result file is JSON with sorted keys, no whitespace choices left open, Decimals as their
exact strings and times as ISO 8601 UTC: the same run gives the same bytes, and
:func:`result_hash` (SHA-256 of them) identifies it. Nothing from the wall clock or the
machine goes in (no run time, no paths of temporary files).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from analytics.performance import Performance
from analytics.records import EquityPoint, FillRecord, FundingRecord

FORMAT = "perpfleet-backtest-result"
FORMAT_VERSION = 1


@dataclass
class BacktestResult:
    bot: str
    strategy: str
    params: dict[str, Any]
    start: datetime
    end: datetime
    data: list[str]
    realism: dict[str, Any]
    fills: list[FillRecord] = field(default_factory=list)
    funding: list[FundingRecord] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stopped_by: str | None = None
    performance: Performance | None = None

    def metrics(self) -> dict[str, Any]:
        """The headline figures (what a sweep ranks by and the database stores)."""
        perf = self.performance
        if perf is None:
            return {}
        a = perf.attribution
        return {
            "net_pnl": a.net,
            "trading_pnl": a.trading,
            "unrealized_pnl": a.unrealized,
            "fees": a.fees,
            "funding": a.funding,
            "total_return": perf.total_return,
            "sharpe": perf.sharpe,
            "sortino": perf.sortino,
            "max_drawdown": perf.max_drawdown,
            "max_drawdown_pct": perf.max_drawdown_pct,
            "max_drawdown_duration_seconds": perf.max_drawdown_duration.total_seconds(),
            "trades": perf.trades.trades,
            "win_rate": perf.trades.win_rate,
            "profit_factor": perf.trades.profit_factor,
            "fills": perf.fills,
            "turnover": perf.turnover,
            "exposure": perf.exposure,
        }

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "bot": self.bot,
            "strategy": self.strategy,
            "params": self.params,
            "start": self.start,
            "end": self.end,
            "data": self.data,
            "realism": self.realism,
            "stopped_by": self.stopped_by,
            "counters": self.counters,
            "notes": self.notes,
            "metrics": self.metrics(),
            "fills": [
                [f.ts, f.venue, f.symbol, f.side, f.price, f.size, f.fee, f.order_id]
                for f in self.fills
            ],
            "funding": [[p.ts, p.venue, p.symbol, p.amount] for p in self.funding],
            "equity": [[p.ts, p.equity] for p in self.equity],
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.document())


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_json(document: Any) -> bytes:
    return (
        json.dumps(document, default=_default, sort_keys=True, separators=(",", ":")).encode()
        + b"\n"
    )


def result_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
