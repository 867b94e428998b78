"""``/stats`` and ``/trades`` of a running bot: its journal through :mod:`analytics`.

The records come from the database (:mod:`bot_runtime.trade_records`); the venues add what
only they know now: the equity (the curve's last point) and the open positions' marks (the
unrealized PnL of open lots). Funding: the ``funding_payments`` rows when there are any for a
venue and symbol; otherwise the funding an open position has accrued on the venue, as one
payment now - so ``/stats`` agrees with ``/pnl`` on a bot whose payments are not stored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from analytics.daily import Day, daily
from analytics.performance import Attribution, Breakdown, Performance, analyse
from analytics.performance import TradeStats as AnalyticsTradeStats
from analytics.records import EquityPoint, FillRecord, FundingRecord
from analytics.trades import Trade, reconstruct
from bot_runtime.control_models import (
    BotStats,
    DayStats,
    PnlAttribution,
    StatsGroup,
    TradesPage,
    TradeStats,
    TradeView,
)
from bot_runtime.running import RunningBot
from bot_runtime.trade_records import JournalRecords, load_records
from core.errors import ExchangeError

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What analytics is given for one bot: the journal's records plus the venues' now."""

    fills: list[FillRecord]
    funding: list[FundingRecord]
    equity: list[EquityPoint]
    marks: dict[Key, Decimal]
    notes: dict[str, str]


async def journal_records(runtime: RunningBot) -> JournalRecords:
    stack = runtime.stack
    if stack is None or runtime.sessions is None:
        return JournalRecords()
    return await load_records(runtime.sessions, stack.journal.bot_id, stack.journal.accounts)


async def gather(runtime: RunningBot, now: datetime) -> Inputs:
    """The journal's records, the equity now as the curve's last point, the marks and the
    accrued funding of open positions (see the module's docstring)."""
    records = await journal_records(runtime)
    marks, accrued, unread = await _positions(runtime, now, records)
    equity = list(records.equity)
    notes: dict[str, str] = {}
    try:
        equity.append(EquityPoint(now, await runtime.equity()))
    except ExchangeError as exc:
        notes["equity_now"] = f"the equity could not be read from the venues: {exc}"
    if unread:
        notes["positions"] = "positions could not be read on " + ", ".join(sorted(unread))
    if records.skipped:
        notes["journal"] = f"{records.skipped} journal fills are not valid records: left out"
    return Inputs(records.fills, [*records.funding, *accrued], equity, marks, notes)


async def _positions(
    runtime: RunningBot, now: datetime, records: JournalRecords
) -> tuple[dict[Key, Decimal], list[FundingRecord], list[str]]:
    paid = {(p.venue, p.symbol) for p in records.funding}
    marks: dict[Key, Decimal] = {}
    accrued: list[FundingRecord] = []
    unread: list[str] = []
    for venue, client in runtime.clients.items():
        try:
            positions = await client.positions()
        except ExchangeError:
            unread.append(venue)
            continue
        for position in positions:
            marks[(venue, position.symbol)] = position.mark_price
            if position.accrued_funding and (venue, position.symbol) not in paid:
                accrued.append(FundingRecord(now, venue, position.symbol, position.accrued_funding))
    return marks, accrued, unread


def _pnl(part: Attribution) -> PnlAttribution:
    return PnlAttribution(
        net=part.net,
        trading=part.trading,
        unrealized=part.unrealized,
        fees=part.fees,
        funding=part.funding,
    )


def _trades(stats: AnalyticsTradeStats) -> TradeStats:
    hold = stats.average_hold
    return TradeStats(
        trades=stats.trades,
        wins=stats.wins,
        losses=stats.losses,
        win_rate=stats.win_rate,
        profit_factor=stats.profit_factor,
        expectancy=stats.expectancy,
        average_hold_seconds=None if hold is None else hold.total_seconds(),
        notes=dict(stats.notes),
    )


def _group(part: Breakdown) -> StatsGroup:
    return StatsGroup(
        pnl=_pnl(part.attribution),
        trades=_trades(part.trades),
        fills=part.fills,
        turnover=part.turnover,
        exposure=part.exposure,
    )


def _day(day: Day) -> DayStats:
    return DayStats(
        day=day.day,
        net=day.net,
        trading=day.trading,
        fees=day.fees,
        funding=day.funding,
        trades=day.trades,
        fills=day.fills,
    )


def stats_view(perf: Performance, days: Sequence[Day], equity_points: int) -> BotStats:
    """The control API's answer for ``perf`` (and the per-day rows of ``days``)."""
    return BotStats(
        since=perf.start,
        until=perf.end,
        pnl=_pnl(perf.attribution),
        trades=_trades(perf.trades),
        fills=perf.fills,
        turnover=perf.turnover,
        turnover_ratio=perf.turnover_ratio,
        exposure=perf.exposure,
        starting_equity=perf.starting_equity,
        ending_equity=perf.ending_equity,
        equity_points=equity_points,
        total_return=perf.total_return,
        sharpe=perf.sharpe,
        sortino=perf.sortino,
        sampling=perf.sampling,
        max_drawdown=perf.max_drawdown,
        max_drawdown_pct=perf.max_drawdown_pct,
        max_drawdown_seconds=perf.max_drawdown_duration.total_seconds(),
        drawdown_recovered=perf.drawdown_recovered,
        per_venue={name: _group(part) for name, part in perf.per_venue.items()},
        per_symbol={name: _group(part) for name, part in perf.per_symbol.items()},
        daily=[_day(day) for day in days],
        notes=dict(perf.notes),
    )


async def bot_stats(runtime: RunningBot, now: datetime | None = None) -> BotStats:
    """``GET /stats``: everything up to ``now`` (default: the clock now)."""
    now = now or datetime.now(UTC)
    inputs = await gather(runtime, now)
    perf = analyse(inputs.fills, inputs.funding, inputs.equity, marks=inputs.marks, end=now)
    perf.notes.update(inputs.notes)
    return stats_view(perf, daily(inputs.fills, inputs.funding), len(inputs.equity))


async def bot_trades(runtime: RunningBot, page: int, per_page: int) -> TradesPage:
    """``GET /trades``: closed trades need the fills only (no venue is asked)."""
    records = await journal_records(runtime)
    return trades_page(reconstruct(records.fills).trades, page, per_page)


def trade_view(trade: Trade) -> TradeView:
    return TradeView(
        venue=trade.venue,
        symbol=trade.symbol,
        direction=trade.direction,
        size=trade.size,
        entry_price=trade.entry_price,
        exit_price=trade.exit_price,
        opened_at=trade.opened_at,
        closed_at=trade.closed_at,
        gross_pnl=trade.gross_pnl,
        fees=trade.fees,
        net_pnl=trade.net_pnl,
        hold_seconds=trade.hold.total_seconds(),
    )


def trades_page(trades: Sequence[Trade], page: int, per_page: int) -> TradesPage:
    """Page ``page`` (1-based) of ``trades``, newest closed first; past the end: no trades."""
    newest = sorted(trades, key=lambda t: t.closed_at, reverse=True)
    first = (page - 1) * per_page
    return TradesPage(
        page=page,
        per_page=per_page,
        total=len(newest),
        pages=max(1, math.ceil(len(newest) / per_page)),
        trades=[trade_view(t) for t in newest[first : first + per_page]],
    )
