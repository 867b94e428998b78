"""The funding-rate service's stored history (table ``funding_rates``) as backtest data.

Rows of the configured venues (and symbols, when given) between ``--from`` and ``--to`` are
read once; each venue becomes :class:`VenueData` whose books are drawn around the rows' mark
prices (:mod:`backtest.sources.funding`). A row without a mark price cannot be traded and is
reported, not guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from backtest.sources.feed import DataError, VenueData
from backtest.sources.funding import (
    BookShape,
    FundingRow,
    funding_events,
    funding_tape,
    market_for,
    merge,
)
from database.engine import create_engine, display_url, session_maker
from database.models.market import FundingRate as FundingRateRow
from exchange_clients.market_data.events import MarketEvent


async def load_funding_history(
    url: str,
    venues: Sequence[str],
    symbols: Sequence[str] | None,
    start: datetime | None,
    end: datetime | None,
    shape: BookShape,
) -> list[VenueData]:
    engine = create_engine(url)
    try:
        query = select(
            FundingRateRow.venue,
            FundingRateRow.symbol,
            FundingRateRow.funding_time,
            FundingRateRow.rate_per_interval,
            FundingRateRow.interval_hours,
            FundingRateRow.mark_price,
        ).where(FundingRateRow.venue.in_(list(venues)))
        if symbols:
            query = query.where(FundingRateRow.symbol.in_(list(symbols)))
        if start is not None:
            query = query.where(FundingRateRow.funding_time >= start)
        if end is not None:
            query = query.where(FundingRateRow.funding_time <= end)
        query = query.order_by(
            FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.funding_time
        )
        async with session_maker(engine)() as session:
            rows = (await session.execute(query)).all()
    finally:
        await engine.dispose()
    grouped: dict[str, dict[str, list[FundingRow]]] = {}
    for venue, symbol, funding_time, rate, interval, mark in rows:
        if mark is None:
            raise DataError(
                f"funding_rates in {display_url(url)}: {venue} {symbol} at "
                f"{funding_time.isoformat()} has no mark_price: a backtest needs a price to trade"
            )
        grouped.setdefault(venue, {}).setdefault(symbol, []).append(
            FundingRow(funding_time, rate, interval, mark)
        )
    missing = [venue for venue in venues if venue not in grouped]
    if missing:
        raise DataError(
            f"funding_rates in {display_url(url)} holds no rows for {', '.join(missing)} in the "
            "period asked (backfill it with the funding-rate service)"
        )
    return [
        funding_venue(venue, symbols_rows, f"funding_rates in {display_url(url)}", shape)
        for venue, symbols_rows in grouped.items()
    ]


def funding_venue(
    venue: str, by_symbol: dict[str, list[FundingRow]], origin: str, shape: BookShape
) -> VenueData:
    """One venue's rows (each symbol's in time order) as :class:`VenueData`."""
    markets = {}
    for symbol, rows in by_symbol.items():
        first_mark = next((r.mark_price for r in rows if r.mark_price is not None), None)
        if first_mark is None:
            raise DataError(f"{origin}: {venue} {symbol} has no mark price in any row")
        markets[symbol] = market_for(symbol, first_mark)
    intervals = Counter(int(r.interval_hours) for rows in by_symbol.values() for r in rows)
    interval = intervals.most_common(1)[0][0]

    def events() -> Iterator[MarketEvent]:
        return merge(
            [
                funding_events(venue, markets[symbol], by_symbol[symbol], shape)
                for symbol in sorted(by_symbol)
            ]
        )

    # Read on demand by the paper venue when the rows allow it; the same events otherwise.
    tape = funding_tape(
        venue, markets, by_symbol, shape, origin=origin, funding_interval_hours=interval
    )

    first = min(rows[0].funding_time for rows in by_symbol.values())
    last = max(rows[-1].funding_time for rows in by_symbol.values())
    return VenueData(
        venue,
        markets,
        events if tape is None else tape,
        first - timedelta(hours=interval),
        last,
        funding_interval_hours=interval,
        origin=origin,
        notes=[shape.note()],
    )
