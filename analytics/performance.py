"""The numbers traders judge a bot or a backtest by, from fills, funding and equity points.

:func:`analyse` is the one entry point: the same call serves a backtest's records and a live
bot's journal. Definitions (stated once here and in the README):

* attribution: ``trading`` is the gross PnL of closed trades (:mod:`analytics.trades`),
  ``unrealized`` the open lots marked at ``marks`` (0 without marks), ``fees`` every fill's fee
  (paid > 0), ``funding`` every payment (received > 0); ``net = trading + unrealized - fees +
  funding``;
* trade statistics count closed trades: a win has ``net_pnl > 0``, a loss ``< 0``; win rate =
  wins / trades; profit factor = sum of wins / -sum of losses; expectancy = mean net PnL per
  trade; average hold = mean time from open to close;
* exposure = share of the window with an open position; turnover = traded notional
  (sum of price x size), and turnover over the mean equity when there is an equity curve;
* return, Sharpe, Sortino, drawdown: :mod:`analytics.equity`.

A statistic that cannot be computed is None and ``notes[name]`` says why: no input ever raises
or yields NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from analytics import equity as eq
from analytics.exposure import exposure, open_spans
from analytics.records import EquityPoint, FillRecord, FundingRecord
from analytics.trades import OpenLot, Reconstruction, Trade, reconstruct

ZERO = Decimal(0)
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Attribution:
    trading: Decimal = ZERO
    unrealized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.trading + self.unrealized - self.fees + self.funding


@dataclass(frozen=True, slots=True)
class TradeStats:
    trades: int
    wins: int
    losses: int
    gross_profit: Decimal
    gross_loss: Decimal
    win_rate: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    average_hold: timedelta | None
    notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One group's share (one symbol, or one venue)."""

    attribution: Attribution
    trades: TradeStats
    fills: int
    turnover: Decimal
    exposure: float | None


@dataclass(frozen=True, slots=True)
class Performance:
    start: datetime | None
    end: datetime | None
    attribution: Attribution
    trades: TradeStats
    fills: int
    turnover: Decimal
    exposure: float | None
    starting_equity: Decimal | None
    ending_equity: Decimal | None
    total_return: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: Decimal
    max_drawdown_pct: float | None
    max_drawdown_duration: timedelta
    drawdown_recovered: bool
    turnover_ratio: float | None
    sampling: str
    per_symbol: dict[str, Breakdown]
    per_venue: dict[str, Breakdown]
    trade_list: list[Trade]
    open_lots: list[OpenLot]
    notes: dict[str, str] = field(default_factory=dict)


def trade_stats(trades: Sequence[Trade]) -> TradeStats:
    """Win rate, profit factor, expectancy and average hold of closed ``trades``."""
    notes: dict[str, str] = {}
    wins = [t.net_pnl for t in trades if t.net_pnl > 0]
    losses = [t.net_pnl for t in trades if t.net_pnl < 0]
    profit, loss = sum(wins, ZERO), -sum(losses, ZERO)
    if not trades:
        for name in ("win_rate", "profit_factor", "expectancy", "average_hold"):
            notes[name] = "no closed trades"
        return TradeStats(0, 0, 0, ZERO, ZERO, None, None, None, None, notes)
    profit_factor = None
    if loss > 0:
        profit_factor = float(profit / loss)
    else:
        notes["profit_factor"] = "no losing trades"
    hold = sum((t.hold for t in trades), timedelta(0)) / len(trades)
    return TradeStats(
        trades=len(trades),
        wins=len(wins),
        losses=len(losses),
        gross_profit=profit,
        gross_loss=loss,
        win_rate=len(wins) / len(trades),
        profit_factor=profit_factor,
        expectancy=sum((t.net_pnl for t in trades), ZERO) / len(trades),
        average_hold=hold,
        notes=notes,
    )


def _unrealized(lots: Iterable[OpenLot], marks: Mapping[Key, Decimal]) -> Decimal:
    total = ZERO
    for lot in lots:
        mark = marks.get((lot.venue, lot.symbol))
        if mark is not None:
            total += (mark - lot.price) * lot.signed_size
    return total


def _attribution(
    book: Reconstruction,
    fills: Sequence[FillRecord],
    funding: Sequence[FundingRecord],
    marks: Mapping[Key, Decimal],
) -> Attribution:
    lots = [lot for group in book.open_lots.values() for lot in group]
    return Attribution(
        trading=sum((t.gross_pnl for t in book.trades), ZERO),
        unrealized=_unrealized(lots, marks),
        fees=sum((f.fee for f in fills), ZERO),
        funding=sum((p.amount for p in funding), ZERO),
    )


def _window(
    fills: Sequence[FillRecord],
    funding: Sequence[FundingRecord],
    points: Sequence[EquityPoint],
    start: datetime | None,
    end: datetime | None,
) -> tuple[datetime | None, datetime | None]:
    times = [f.ts for f in fills] + [p.ts for p in funding] + [p.ts for p in points]
    if not times:
        return start, end
    return (start or min(times), end or max(times))


def analyse(
    fills: Iterable[FillRecord],
    funding: Iterable[FundingRecord] = (),
    equity: Iterable[EquityPoint] = (),
    *,
    marks: Mapping[Key, Decimal] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    period: timedelta = eq.DAY,
) -> Performance:
    """Everything in :class:`Performance` over ``[start, end]`` (default: the records' span).

    ``marks`` prices open lots per (venue, symbol) for the unrealized PnL; ``period`` is the
    sampling of the equity curve for Sharpe and Sortino (one UTC day by default).
    """
    fills, funding, points = list(fills), list(funding), eq.ordered(list(equity))
    marks = marks or {}
    notes: dict[str, str] = {}
    begin, finish = _window(fills, funding, points, start, end)
    book = reconstruct(fills)
    spans = open_spans(fills, finish) if finish is not None else {}

    def exposure_of(keep: str | None = None, by: int = 0) -> float | None:
        if begin is None or finish is None:
            return None
        return exposure(spans, begin, finish, lambda key: keep is None or key[by] == keep)

    def group(by: int, name: str) -> Breakdown:
        chosen = [f for f in fills if (f.venue, f.symbol)[by] == name]
        part = Reconstruction(
            trades=[t for t in book.trades if (t.venue, t.symbol)[by] == name],
            open_lots={k: v for k, v in book.open_lots.items() if k[by] == name},
        )
        paid = [p for p in funding if (p.venue, p.symbol)[by] == name]
        return Breakdown(
            attribution=_attribution(part, chosen, paid, marks),
            trades=trade_stats(part.trades),
            fills=len(chosen),
            turnover=sum((f.notional for f in chosen), ZERO),
            exposure=exposure_of(name, by),
        )

    whole_exposure = exposure_of()
    if whole_exposure is None:
        notes["exposure"] = "the window has no length"
    turnover = sum((f.notional for f in fills), ZERO)
    drawdown = eq.drawdown(points)
    results: dict[str, float | None] = {}
    for name, value in (
        ("total_return", eq.total_return(points)),
        ("sharpe", eq.sharpe(points, period)),
        ("sortino", eq.sortino(points, period)),
    ):
        if isinstance(value, eq.Unavailable):
            notes[name], results[name] = value.reason, None
        else:
            results[name] = value
    if len(points) < 2:  # 0 then says nothing: there was no curve to fall along
        notes["max_drawdown"] = "fewer than two equity points"
    if drawdown.fraction is None:
        notes["max_drawdown_pct"] = "no positive equity peak"
    turnover_ratio = None
    mean_equity = sum((p.equity for p in points), ZERO) / len(points) if points else ZERO
    if mean_equity > 0:
        turnover_ratio = float(turnover / mean_equity)
    else:
        notes["turnover_ratio"] = "no positive equity" if points else "no equity points"
    symbols = sorted({f.symbol for f in fills} | {p.symbol for p in funding})
    venues = sorted({f.venue for f in fills} | {p.venue for p in funding})
    return Performance(
        start=begin,
        end=finish,
        attribution=_attribution(book, fills, funding, marks),
        trades=trade_stats(book.trades),
        fills=len(fills),
        turnover=turnover,
        exposure=whole_exposure,
        starting_equity=points[0].equity if points else None,
        ending_equity=points[-1].equity if points else None,
        total_return=results["total_return"],
        sharpe=results["sharpe"],
        sortino=results["sortino"],
        max_drawdown=drawdown.amount,
        max_drawdown_pct=drawdown.fraction,
        max_drawdown_duration=drawdown.duration,
        drawdown_recovered=drawdown.recovered,
        turnover_ratio=turnover_ratio,
        sampling=sampling_note(period),
        per_symbol={s: group(1, s) for s in symbols},
        per_venue={v: group(0, v) for v in venues},
        trade_list=book.trades,
        open_lots=[lot for group_ in book.open_lots.values() for lot in group_],
        notes=notes,
    )


def sampling_note(period: timedelta) -> str:
    """How Sharpe and Sortino were sampled and annualised, in words for reports."""
    text = period_text(period)
    return (
        f"equity sampled every {text} (UTC-aligned), simple returns, risk-free rate 0, "
        f"annualised x sqrt(365 days / {text}) = {eq.annualisation(period):.2f}"
    )


def period_text(period: timedelta) -> str:
    seconds = int(period.total_seconds())
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("s" if unit == "day" and count != 1 else "")
    return f"{seconds} s"
