"""What the API reads from the database, on top of :mod:`funding_rate_service.storage`.

The storage module owns the tables and the collector's queries (``latest``, ``history`` of one
pair); this module adds the reads only the API needs - every venue's history of one symbol in
one round trip, table sizes for the metrics, a liveness probe - and turns stored rows into the
strategy's :class:`~strategies.funding_arbitrage.opportunities.VenueQuote`, so opportunities are
priced by the strategy's own code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models.market import FundingRate as FundingRateRow
from database.models.market import FundingRateLatest
from exchange_clients.types import FundingRate
from funding_rate_service import storage
from funding_rate_service.api_models import _derived
from funding_rate_service.history import Resolution, bucketize
from funding_rate_service.storage import COLUMNS, FundingRecord
from strategies.funding_arbitrage.opportunities import VenueQuote
from strategies.funding_arbitrage.quotes import taker_fee


def quote(record: FundingRecord) -> VenueQuote | None:
    """The strategy's view of a latest row, or ``None`` without a price to pair it by.

    The latest set holds a mark price, not a book: bid and ask are both the mark (the index
    when the venue gave no mark), so the strategy's bid/ask-spread filter sees 0 and its
    price-divergence filter compares marks. A venue whose taker fee is unknown (it wants an
    account for it) is charged the conservative default the strategy uses for estimates
    (:func:`~strategies.funding_arbitrage.quotes.taker_fee`).
    """
    price = record.mark_price if record.mark_price is not None else record.index_price
    if price is None or price <= 0 or record.interval_hours <= 0:
        return None
    funding = FundingRate(
        venue=record.venue,
        symbol=record.symbol,
        rate=record.rate_per_interval,
        interval_hours=record.interval_hours,
        next_funding_time=record.next_funding_time,
        predicted_rate=record.predicted_rate,
        mark_price=record.mark_price,
        ts=record.observed_at,
    )
    fee = record.taker_fee if record.taker_fee is not None else taker_fee(record.venue)
    if fee < 0:  # a taker rebate is not a thing: the row is garbage, not an opportunity
        return None
    return VenueQuote(
        venue=record.venue,
        symbol=record.symbol,
        funding=funding,
        best_bid=price,
        best_ask=price,
        taker_fee=fee,
        volume_24h_usd=record.volume_24h_usd,
        open_interest_usd=record.open_interest_usd,
        maker_fee=record.maker_fee,
    )


@dataclass(frozen=True)
class TableCounts:
    history_rows: int
    oldest: datetime | None
    newest: datetime | None


async def symbol_history(
    session: AsyncSession,
    symbol: str,
    venues: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> dict[str, list[FundingRecord]]:
    """Rows of ``symbol`` with ``start <= funding_time < end`` per venue, oldest first, in one
    query (the primary key (venue, symbol, funding_time) serves it per venue)."""
    table: Table = FundingRateRow.__table__  # type: ignore[assignment]
    query = select(*(table.c[name] for name in COLUMNS)).where(
        table.c.symbol == symbol,
        table.c.funding_time >= start,
        table.c.funding_time < end,
    )
    if venues is not None:
        query = query.where(table.c.venue.in_(list(venues)))
    result: dict[str, list[FundingRecord]] = {}
    rows = await session.execute(query.order_by(table.c.venue, table.c.funding_time))
    for row in rows:
        record = FundingRecord(**{name: getattr(row, name) for name in COLUMNS})
        result.setdefault(record.venue, []).append(record)
    return result


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# One row per bucket (hourly buckets of hourly data): the whole array in one value, in the
# primary key's order, and whether that held - every row on its bucket's start (funding times
# are distinct, so their buckets are too; a row off the hour sends the query to the sums).
_ONE_ROW_BUCKETS_SQL = """
SELECT string_agg('{"start":"' || translate((bucket AT TIME ZONE 'UTC')::text, ' ', 'T')
                  || 'Z","mean_hourly_rate":"' || trim_scale(hourly_rate)::text
                  || '","apr_pct":"' || trim_scale(hourly_rate * 876000)::text
                  || '","samples":1}', ',' ORDER BY funding_time),
       coalesce(bool_and(funding_time = bucket), true)
FROM (SELECT funding_time, hourly_rate,
             date_bin($5::interval, funding_time, $6::timestamptz) AS bucket
      FROM funding_rates
      WHERE venue = $1 AND symbol = $2 AND funding_time >= $3 AND funding_time < $4
     ) AS pair_rows
"""
# Buckets of several rows: exact sums and counts; the mean is divided in Python (see below).
_BUCKET_SUMS_SQL = """
SELECT date_bin($5::interval, funding_time, $6::timestamptz) AS bucket,
       sum(hourly_rate), count(*)
FROM funding_rates
WHERE venue = $1 AND symbol = $2 AND funding_time >= $3 AND funding_time < $4
GROUP BY bucket ORDER BY bucket
"""
_APR_FACTOR = Decimal(876_000)  # hours per year x 100: hourly rate -> APR %


def bucket_json(start: datetime, mean_hourly_rate: Decimal, samples: int) -> str:
    """One bucket as the API's ``HistoryBucketView`` serializes it (to the character)."""
    return (
        f'{{"start":"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",'
        f'"mean_hourly_rate":"{_derived(mean_hourly_rate)}",'
        f'"apr_pct":"{_derived(mean_hourly_rate * _APR_FACTOR)}","samples":{samples}}}'
    )


async def history_buckets_json(
    session: AsyncSession,
    venue: str,
    symbol: str,
    start: datetime,
    end: datetime,
    resolution: Resolution,
) -> str:
    """One pair's buckets over ``[start, end)`` (what :func:`~funding_rate_service.history.
    bucketize` makes of its rows: the mean hourly rate per bucket, oldest first) as the JSON
    array the history API answers - the same text on every database.

    A year of hourly rows is the query to make cheap (target p99 50 ms with a million rows on
    PostgreSQL under load; bench/funding_service.py). Read as 17 columns through SQLAlchemy's
    result processing, bucketed in Python and serialized through pydantic it cost ~300 ms; the
    Python formatting of 8,760 buckets alone was 60-100 ms on the bench machine. So on
    PostgreSQL the database buckets (``date_bin`` from the epoch: days start 00:00 UTC) in
    the primary key's order. When every bucket holds one row (hourly buckets of hourly data:
    the big case; tried for hourly buckets only) it writes the whole array itself, as one
    value - the row's rate is the mean, and ``trim_scale`` gives the digits
    ``Decimal.normalize`` gives. Otherwise it returns exact
    NUMERIC ``sum`` and ``count`` per bucket (at most a few thousand buckets), divided here
    with ``Decimal`` as bucketize divides (PostgreSQL's division keeps other digits), so every
    path answers the same text. It goes through asyncpg on the session's connection.
    Elsewhere (SQLite) two columns are read and bucketed here.
    """
    if session.get_bind().dialect.name != "postgresql":
        points = await storage.history_points(session, venue, symbol, start, end)
        buckets = bucketize(points, resolution)
        return (
            "["
            + ",".join(bucket_json(b.start, b.mean_hourly_rate, b.samples) for b in buckets)
            + "]"
        )
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive datetime refused: use timezone-aware UTC datetimes")
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    params = (venue, symbol, start, end, resolution.delta, _EPOCH)
    if resolution is Resolution.HOUR:
        items, one_row_each = await driver.fetchrow(_ONE_ROW_BUCKETS_SQL, *params)
        if one_row_each:
            return f"[{items or ''}]"
    rows = await driver.fetch(_BUCKET_SUMS_SQL, *params)
    return (
        "["
        + ",".join(bucket_json(bucket, total / count, count) for bucket, total, count in rows)
        + "]"
    )


LatestVersion = tuple[int, datetime | None]
"""Rows in the latest set and its newest observation: changes whenever a writer moves it."""


async def latest_version(session: AsyncSession) -> LatestVersion:
    """A cheap fingerprint of the latest set (one aggregate over a few hundred rows), so a
    reader can keep what it computed from the set until the collector writes again."""
    table: Table = FundingRateLatest.__table__  # type: ignore[assignment]
    count, newest = (
        await session.execute(select(func.count(), func.max(table.c.observed_at)))
    ).one()
    return int(count), newest


async def table_counts(session: AsyncSession) -> TableCounts:
    table: Table = FundingRateRow.__table__  # type: ignore[assignment]
    count, oldest, newest = (
        await session.execute(
            select(func.count(), func.min(table.c.funding_time), func.max(table.c.funding_time))
        )
    ).one()
    return TableCounts(int(count), oldest, newest)


class DatabaseReader:
    """The API's reads, each in its own short session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        self.backend: str = bind.dialect.name if bind is not None else "unknown"

    async def latest(
        self, venue: str | None = None, symbol: str | None = None
    ) -> list[FundingRecord]:
        async with self._sessions() as session:
            return await storage.latest(
                session,
                venues=[venue] if venue is not None else None,
                symbols=[symbol] if symbol is not None else None,
            )

    async def history(
        self, symbol: str, venues: Sequence[str] | None, start: datetime, end: datetime
    ) -> dict[str, list[FundingRecord]]:
        async with self._sessions() as session:
            return await symbol_history(session, symbol, venues, start, end)

    async def buckets_json(
        self, venue: str, symbol: str, start: datetime, end: datetime, resolution: Resolution
    ) -> str:
        async with self._sessions() as session:
            return await history_buckets_json(session, venue, symbol, start, end, resolution)

    async def latest_version(self) -> LatestVersion:
        async with self._sessions() as session:
            return await latest_version(session)

    async def counts(self) -> TableCounts:
        async with self._sessions() as session:
            return await table_counts(session)

    async def ping(self) -> None:
        async with self._sessions() as session:
            await session.execute(text("SELECT 1"))
