"""The funding-rate service's collection and storage: one cycle at scale, and history queries.

* **collection cycle** - 8 venues x 200 symbols through :class:`Collector` (venue isolation,
  validation, one upsert transaction per venue into history + latest), on a SQLite file and on
  PostgreSQL. The venues are synthetic in-process clients (no network: what is measured is the
  service's own cost per cycle; the venue's answer time adds to it in production, concurrently
  across venues). Figures: the median cycle (the first, which inserts, and the following, which
  update the same rows) and rows/s.
* **history query** - one symbol over one year (8,760 hourly rows) out of >= 1 million rows
  on PostgreSQL (120 symbols x 1 year, COPY-loaded), p50/p99, as the API answers it
  (``GET /api/v1/history`` at 1 h resolution through the service's app: the buckets written
  as JSON by the database, ``queries.history_buckets_json``) and through
  ``storage.history_points`` (time and hourly rate) and ``storage.history`` (every column),
  alone and while a second process runs history queries for other symbols in a loop, with the
  start-up heap frozen (``gc.freeze()``, as a server process should do once it has started).
  Target p99 <= 50 ms.
* **B-tree vs BRIN on funding_time** - size of each index and a cross-pair time-range query
  (the last day of every pair, what retention and "since" scans touch) with each.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import multiprocessing.synchronize
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bench.databases import DEFAULT_POSTGRES, POSTGRES_ENV, on_each_database
from bench.harness import machine, report, report_percentiles
from core.logging_setup import configure_logging
from database.engine import create_engine, session_maker
from database.migrate import upgrade
from exchange_clients.types import FeeSchedule, FundingRate, MarketStats
from funding_rate_service import storage
from funding_rate_service.api import ServiceContext, create_app
from funding_rate_service.collector import Collector
from funding_rate_service.queries import DatabaseReader
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.venue_access import FundingVenue

VENUES = tuple(f"bench_{i}" for i in range(8))
SYMBOLS = tuple(f"S{i:03d}" for i in range(200))
CYCLES = 5
HISTORY_SYMBOLS = 120
HOURS = 8760
QUERIES = 200
T_END = datetime(2026, 1, 1, tzinfo=UTC)
T_START = T_END - timedelta(hours=HOURS)

HistoryQuery = Callable[[AsyncSession, str, str, datetime, datetime], Awaitable[Sequence[object]]]


class SyntheticVenue:
    """A venue answering from memory: 200 markets, rates moving each read (arithmetic, so the
    bench measures the collector rather than a random number generator)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tick = 0

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def funding_rates(self) -> dict[str, FundingRate]:
        now = datetime.now(UTC)
        next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        self._tick += 1
        return {
            s: FundingRate(
                self.name,
                s,
                Decimal((i * 7919 + self._tick * 104729) % 1001 - 500).scaleb(-7),
                Decimal(1),
                next_hour,
                predicted_rate=Decimal((i * 104729 + self._tick) % 1001 - 500).scaleb(-7),
                mark_price=Decimal(1000 + i * 37 + self._tick).scaleb(-1),
                ts=now,
            )
            for i, s in enumerate(SYMBOLS)
        }

    async def market_stats(self) -> dict[str, MarketStats]:
        return {s: MarketStats(s, Decimal("12345678.9"), Decimal("2345678.1")) for s in SYMBOLS}

    async def fees(self, symbol: str) -> FeeSchedule:
        return FeeSchedule(Decimal("0.0002"), Decimal("0.0005"), "published")


async def collection_cycle(url: str) -> None:
    engine = create_engine(url)
    factory: Callable[[str], FundingVenue] = SyntheticVenue
    collector = Collector(
        CollectionSettings(venues=VENUES, venue_timeout_seconds=120),
        session_maker(engine),
        factory,
    )
    try:
        first = await collector.collect_once()
        again = [await collector.collect_once() for _ in range(CYCLES)]
    finally:
        await collector.aclose()
        await engine.dispose()
    if first.failed or first.rows != len(VENUES) * len(SYMBOLS):
        raise AssertionError(f"the cycle did not store every row: {first}")
    rows = first.rows
    report(
        f"cycle, {len(VENUES)} venues x {len(SYMBOLS)} symbols (insert)",
        first.duration_seconds,
        f"{rows / first.duration_seconds:,.0f} rows/s",
    )
    median = statistics.median(c.duration_seconds for c in again)
    report(
        f"cycle again (upsert of the same rows, median of {CYCLES})",
        median,
        f"{rows / median:,.0f} rows/s",
    )


# --- history on PostgreSQL --------------------------------------------------------------------


def _history_rows(symbols: range) -> list[tuple[object, ...]]:
    observed = T_END
    rows: list[tuple[object, ...]] = []
    for i in symbols:
        symbol = f"H{i:03d}"
        for h in range(HOURS):
            rate = Decimal((i * 7919 + h * 104729) % 1001 - 500).scaleb(-7)
            rows.append(
                (
                    "binance",
                    symbol,
                    T_START + timedelta(hours=h),
                    rate,
                    Decimal(1),
                    rate,
                    None,
                    Decimal("100.5"),
                    None,
                    Decimal("2345678.1"),
                    Decimal("12345678.9"),
                    None,
                    Decimal("0.0002"),
                    Decimal("0.0005"),
                    "published",
                    "settled",
                    observed,
                )
            )
    return rows


COPY_COLUMNS = [
    "venue",
    "symbol",
    "funding_time",
    "rate_per_interval",
    "interval_hours",
    "hourly_rate",
    "predicted_rate",
    "mark_price",
    "index_price",
    "open_interest_usd",
    "volume_24h_usd",
    "next_funding_time",
    "maker_fee",
    "taker_fee",
    "fee_source",
    "source",
    "observed_at",
]


async def _load(dsn: str) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        for first in range(0, HISTORY_SYMBOLS, 20):
            await connection.copy_records_to_table(
                "funding_rates",
                records=_history_rows(range(first, min(first + 20, HISTORY_SYMBOLS))),
                columns=COPY_COLUMNS,
            )
        await connection.execute("ANALYZE funding_rates")
        return time.perf_counter() - started
    finally:
        await connection.close()


async def _history_samples(
    url: str, symbols: list[str], runs: int, query: HistoryQuery
) -> tuple[list[float], list[float]]:
    """Wall time and this process's CPU time of each query (the CPU figure is what the
    machine's load cannot inflate: the wall figure on a busy shared box is mostly waiting)."""
    engine = create_engine(url)
    sessions = session_maker(engine)
    samples: list[float] = []
    cpu_samples: list[float] = []
    try:
        for n in range(runs):
            symbol = symbols[n % len(symbols)]
            async with sessions() as session:
                started, cpu = time.perf_counter(), time.process_time()
                rows = await query(session, "binance", symbol, T_START, T_END)
                samples.append(time.perf_counter() - started)
                cpu_samples.append(time.process_time() - cpu)
            if len(rows) != HOURS:
                raise AssertionError(f"{symbol}: {len(rows)} rows, expected {HOURS}")
    finally:
        await engine.dispose()
    return samples, cpu_samples


def _background_load(url: str, stop: multiprocessing.synchronize.Event) -> None:
    """A second process: history queries for other symbols, back to back, until stopped -
    the storage query and the API's request in turn."""

    async def loop() -> None:
        engine = create_engine(url)
        sessions = session_maker(engine)
        app = create_app(ServiceContext(DatabaseReader(sessions)))
        n = 0
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://load"
        ) as client:
            while not stop.is_set():
                symbol = f"H{HISTORY_SYMBOLS // 2 + n % (HISTORY_SYMBOLS // 2):03d}"
                async with sessions() as session:
                    await storage.history_points(session, "binance", symbol, T_START, T_END)
                await client.get(f"/api/v1/history/binance/{symbol}", params=API_WINDOW)
                n += 1
        await engine.dispose()

    asyncio.run(loop())


API_WINDOW = {"start": T_START.isoformat(), "end": T_END.isoformat(), "resolution": "1h"}


async def _api_samples(url: str, symbols: list[str], runs: int) -> tuple[list[float], list[float]]:
    """``GET /api/v1/history/binance/<symbol>`` for a year at 1 h resolution, through the
    service's app (httpx's ASGI transport: the whole request but the socket): wall and CPU."""
    engine = create_engine(url)
    app = create_app(ServiceContext(DatabaseReader(session_maker(engine))))
    samples: list[float] = []
    cpu_samples: list[float] = []
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for n in range(runs):
                symbol = symbols[n % len(symbols)]
                started, cpu = time.perf_counter(), time.process_time()
                response = await client.get(f"/api/v1/history/binance/{symbol}", params=API_WINDOW)
                samples.append(time.perf_counter() - started)
                cpu_samples.append(time.process_time() - cpu)
                buckets = len(response.json()["buckets"]) if response.status_code == 200 else -1
                if buckets != HOURS:
                    raise AssertionError(f"{symbol}: {response.status_code}, {buckets} buckets")
    finally:
        await engine.dispose()
    return samples, cpu_samples


async def _index_comparison(dsn: str) -> None:
    """The shipped B-tree on funding_time, then BRIN in its place (the table as loaded: pair
    after pair, as a backfill writes it)."""
    connection = await asyncpg.connect(dsn)
    query = "SELECT count(*) FROM funding_rates WHERE funding_time >= $1"
    since = T_END - timedelta(days=1)
    try:
        for kind in ("btree", "brin"):
            if kind == "brin":
                await connection.execute("DROP INDEX ix_funding_rates_funding_time")
                await connection.execute(
                    "CREATE INDEX ix_funding_rates_funding_time ON funding_rates "
                    "USING brin (funding_time)"
                )
                await connection.execute("ANALYZE funding_rates")
            size = await connection.fetchval(
                "SELECT pg_relation_size('ix_funding_rates_funding_time')"
            )
            samples = []
            for _ in range(30):
                started = time.perf_counter()
                await connection.fetchval(query, since)
                samples.append(time.perf_counter() - started)
            report_percentiles(
                f"last day of every pair, {kind} on funding_time",
                samples,
                f"index {size / 1024:,.0f} KiB",
            )
    finally:
        await connection.close()


async def history_on_postgres() -> None:
    server = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        sys.stdout.write(f"  history on PostgreSQL: skipped ({exc})\n")
        return
    name = f"perpfleet_bench_{uuid.uuid4().hex[:12]}"
    try:
        await connection.execute(f"CREATE DATABASE {name}")
        target = make_url(server).set(database=name)
        url = target.render_as_string(hide_password=False)
        dsn = target.set(drivername="postgresql").render_as_string(hide_password=False)
        await upgrade(url)
        loaded = await _load(dsn)
        total = HISTORY_SYMBOLS * HOURS
        report(f"COPY {total:,} history rows", loaded, f"{total / loaded:,.0f} rows/s")
        engine = create_engine(url)
        async with engine.connect() as conn:
            size = (
                await conn.execute(text("SELECT pg_total_relation_size('funding_rates')"))
            ).scalar_one()
        await engine.dispose()
        sys.stdout.write(f"  history table with indexes: {size / 2**20:,.0f} MiB\n")
        mine = [f"H{i:03d}" for i in range(HISTORY_SYMBOLS // 2)]
        # A year of rows allocates ~9k objects per query, so the cyclic GC runs full (gen 2)
        # collections over everything the process imported: 30+ per 200 queries, up to 150 ms
        # each - the whole p99. A server freezes its start-up heap once (gc.freeze: those
        # objects are never scanned again); measured here the same way.
        gc.collect()
        gc.freeze()
        queries: tuple[tuple[str, HistoryQuery], ...] = (
            ("history_points", storage.history_points),
            ("history (all 17 columns)", storage.history),
        )
        goal = f"of {total:,} rows; target p99 <= 50 ms"
        alone, cpu = await _api_samples(url, mine, QUERIES)
        report_percentiles("GET /api/v1/history 1 symbol x 1 year (1 h)", alone, goal)
        report_percentiles("  its client CPU time", cpu, "")
        for label, query in queries:
            alone, cpu = await _history_samples(url, mine, QUERIES, query)
            report_percentiles(f"{label}, 1 symbol x 1 year", alone, goal)
            report_percentiles("  its client CPU time", cpu, "")
        stop = multiprocessing.get_context("spawn").Event()
        other = multiprocessing.get_context("spawn").Process(
            target=_background_load, args=(url, stop), daemon=True
        )
        other.start()
        try:
            await asyncio.sleep(2.0)  # the other process is up and querying
            busy, cpu = await _api_samples(url, mine, QUERIES)
            report_percentiles("GET /api/v1/history, a 2nd process querying", busy, goal)
            report_percentiles("  its client CPU time", cpu, "")
            for label, query in queries:
                busy, cpu = await _history_samples(url, mine, QUERIES, query)
                report_percentiles(f"{label}, a 2nd process querying", busy, "")
                report_percentiles("  its client CPU time", cpu, "")
        finally:
            stop.set()
            other.join(timeout=30)
        await _index_comparison(dsn)
    finally:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.close()


def main() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    sys.stdout.write(
        f"funding-rate service: collection and storage ({machine()}; load average {load})\n"
    )
    configure_logging(level="ERROR", stream=sys.stderr)
    on_each_database(collection_cycle)
    asyncio.run(history_on_postgres())


if __name__ == "__main__":
    main()
