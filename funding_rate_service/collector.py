"""Collection: every interval, each venue's funding, market stats and fees into the history.

Each venue is read on its own (concurrently, each under ``venue_timeout_seconds``) and written
in its own transaction as soon as it answers, so a venue that is down, slow or answers garbage
costs only its own rows: the others are stored, and the failure is recorded in that venue's
:class:`VenueHealth` (last success, last error, lag), which :meth:`Collector.health` returns.
A venue's client stays connected between cycles and is rebuilt after a failure.

What one row holds (``storage.FundingRecord``): the rate per interval and per hour with the
venue's interval, the predicted rate and mark price from ``client.funding_rates()``, 24 h volume
and open interest from ``client.market_stats()`` (``None`` when the venue publishes none or that
read failed), the maker/taker fee and its source from ``client.fees(symbol)`` (``None`` when the
venue wants an account for it and none is configured). ``funding_time`` is the venue's next
funding time (the settlement the estimate belongs to), or the next interval boundary when the
venue does not say.

Rows that do not make sense (a rate that is not a finite number, an interval that is not
positive) are dropped and counted in the venue's health as ``rejected``: garbage from one
market never reaches the table, and never stops the rest of that venue's rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.redaction import scrub_exception_text
from exchange_clients.types import FeeSchedule, FundingRate, MarketStats
from funding_rate_service import storage
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.storage import ESTIMATE, FundingRecord
from funding_rate_service.venue_access import (
    ClientFactory,
    FundingVenue,
    IndexPrices,
    collection_client_factory,
)
from funding_rate_service.venue_access import public_client_factory as public_client_factory

log = structlog.get_logger(__name__)

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class VenueHealth:
    """What the collector knows about one venue, kept in memory and read by the health API."""

    venue: str
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    rows: int = 0  # written by the last successful read
    rejected: int = 0  # rows dropped as nonsense by the last read
    duration_seconds: float | None = None  # of the last read, success or not
    notes: tuple[str, ...] = ()  # partial reads: "market stats unavailable: ..."

    def lag_seconds(self, now: datetime) -> float | None:
        """Seconds since the last success (``None``: never succeeded)."""
        if self.last_success_at is None:
            return None
        return max(0.0, (now - self.last_success_at).total_seconds())

    @property
    def ok(self) -> bool:
        return self.last_success_at is not None and self.consecutive_failures == 0


@dataclass(frozen=True)
class CycleResult:
    started_at: datetime
    duration_seconds: float
    rows: int
    failed: tuple[str, ...]


@dataclass
class _Read:
    records: list[FundingRecord] = field(default_factory=list)
    rejected: int = 0
    notes: list[str] = field(default_factory=list)


def funding_time_of(rate: FundingRate, observed_at: datetime) -> datetime:
    """The settlement a live rate belongs to: the venue's next funding time, else the next
    boundary of its interval counted from the epoch (how venues schedule them)."""
    if rate.next_funding_time is not None:
        return rate.next_funding_time
    step = timedelta(hours=float(rate.interval_hours))
    elapsed = (observed_at - EPOCH) // step
    return EPOCH + (elapsed + 1) * step


def build_record(
    venue: str,
    rate: FundingRate,
    stats: MarketStats | None,
    fees: FeeSchedule | None,
    observed_at: datetime,
    index_price: Decimal | None = None,
) -> FundingRecord:
    """One stored row of ``venue`` (the configured name, under which its rows are kept) from
    what it said; ``ValueError`` when the rate is nonsense."""
    if not isinstance(rate.rate, Decimal) or not rate.rate.is_finite():
        raise ValueError(f"{rate.symbol}: rate {rate.rate!r} is not a finite number")
    if not isinstance(rate.interval_hours, Decimal | int) or not rate.interval_hours > 0:
        raise ValueError(f"{rate.symbol}: interval {rate.interval_hours!r} is not positive")
    interval = Decimal(rate.interval_hours)
    return FundingRecord(
        venue=venue,
        symbol=rate.symbol,
        funding_time=funding_time_of(rate, observed_at),
        rate_per_interval=rate.rate,
        interval_hours=interval,
        hourly_rate=rate.rate / interval,
        observed_at=observed_at,
        source=ESTIMATE,
        predicted_rate=_finite(rate.predicted_rate),
        mark_price=_finite(rate.mark_price),
        index_price=_finite(index_price),
        open_interest_usd=_finite(stats.open_interest_usd) if stats else None,
        volume_24h_usd=_finite(stats.volume_24h_usd) if stats else None,
        next_funding_time=rate.next_funding_time,
        maker_fee=fees.maker if fees else None,
        taker_fee=fees.taker if fees else None,
        fee_source=fees.source if fees else None,
    )


def _finite(value: Decimal | None) -> Decimal | None:
    return value if isinstance(value, Decimal) and value.is_finite() else None


class Collector:
    """Reads every configured venue each interval and upserts what it read."""

    def __init__(
        self,
        settings: CollectionSettings,
        sessions: async_sessionmaker[AsyncSession],
        client_factory: ClientFactory | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._sessions = sessions
        self._factory = client_factory or collection_client_factory(settings.venue_options)
        self._clock = clock
        self._clients: dict[str, FundingVenue] = {}
        self._health = {venue: VenueHealth(venue) for venue in settings.venues}
        self.cycles = 0
        self.last_cycle: CycleResult | None = None
        # Awaited after every cycle of run() (the service rebuilds its opportunity book there);
        # its failure is logged, never stops collection.
        self.after_cycle: Callable[[], Awaitable[None]] | None = None

    def health(self) -> dict[str, VenueHealth]:
        """Each configured venue's collection health (copies: the caller may keep them)."""
        return {venue: _copy(h) for venue, h in self._health.items()}

    async def run(self, stop: asyncio.Event) -> None:
        """Collect every ``interval_seconds`` until ``stop`` is set (a late cycle does not
        queue up missed ones: the next starts on the next tick)."""
        interval = self.settings.interval_seconds
        while not stop.is_set():
            started = time.monotonic()
            await self.collect_once()
            if self.after_cycle is not None:
                try:
                    await self.after_cycle()
                except Exception as exc:  # the API rebuilds lazily anyway
                    log.warning("after-cycle work failed", error=scrub_exception_text(exc))
            wait = interval - (time.monotonic() - started) % interval
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except TimeoutError:
                continue

    async def collect_once(self) -> CycleResult:
        """One cycle over every venue; never raises for a venue's failure."""
        started_at = self._clock()
        started = time.perf_counter()
        written = await asyncio.gather(*(self._collect(v) for v in self.settings.venues))
        result = CycleResult(
            started_at=started_at,
            duration_seconds=time.perf_counter() - started,
            rows=sum(n for n in written if n is not None),
            failed=tuple(
                v for v, n in zip(self.settings.venues, written, strict=True) if n is None
            ),
        )
        self.cycles += 1
        self.last_cycle = result
        return result

    async def aclose(self) -> None:
        """Disconnect every client the collector holds."""
        clients, self._clients = self._clients, {}
        for venue, client in clients.items():
            await _disconnect(venue, client)

    async def _collect(self, venue: str) -> int | None:
        health = self._health[venue]
        health.last_attempt_at = self._clock()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.venue_timeout_seconds):
                read = await self._read(venue)
                async with self._sessions.begin() as session:
                    rows = await storage.upsert(session, read.records)
        except Exception as exc:  # one venue's failure of any kind stays that venue's
            await self._drop_client(venue)
            message = (
                f"no answer within {self.settings.venue_timeout_seconds:g} s"
                if isinstance(exc, TimeoutError)
                else f"{type(exc).__name__}: {scrub_exception_text(exc)}"
            )
            health.last_error, health.last_error_at = message, self._clock()
            health.consecutive_failures += 1
            health.duration_seconds = time.perf_counter() - started
            log.warning("funding collection failed", venue=venue, error=message)
            return None
        health.last_success_at = self._clock()
        health.consecutive_failures = 0
        health.rows, health.rejected, health.notes = rows, read.rejected, tuple(read.notes)
        health.duration_seconds = time.perf_counter() - started
        return rows

    async def _read(self, venue: str) -> _Read:
        client = await self._client(venue)
        rates = await client.funding_rates()
        observed_at = self._clock()
        read = _Read()
        stats = await _optional(client.market_stats(), "market stats", read.notes)
        indexes = client.index_prices() if isinstance(client, IndexPrices) else {}
        wanted = self.settings.symbols
        fees_by_symbol: dict[str, FeeSchedule | None] = {}
        fees_readable = True
        for symbol in sorted(rates):
            if wanted is not None and symbol not in wanted:
                continue
            fees = None
            if fees_readable:  # a venue that wants an account for fees wants it for every market
                fees = await _optional(client.fees(symbol), "fees", read.notes)
                fees_readable = fees is not None
            fees_by_symbol[symbol] = fees
        for symbol, fees in fees_by_symbol.items():
            try:
                read.records.append(
                    build_record(
                        venue,
                        rates[symbol],
                        (stats or {}).get(symbol),
                        fees,
                        observed_at,
                        indexes.get(symbol),
                    )
                )
            except (ValueError, TypeError, ArithmeticError) as exc:
                read.rejected += 1
                read.notes.append(f"rejected {exc}")
        if read.rejected:
            log.warning("funding rows rejected", venue=venue, rejected=read.rejected)
        return read

    async def _client(self, venue: str) -> FundingVenue:
        client = self._clients.get(venue)
        if client is None:
            client = self._factory(venue)
            await client.connect()
            self._clients[venue] = client
        return client

    async def _drop_client(self, venue: str) -> None:
        client = self._clients.pop(venue, None)
        if client is not None:
            await _disconnect(venue, client)


async def _optional(read: Awaitable[T], what: str, notes: list[str]) -> T | None:
    """A secondary read (stats, fees): its failure leaves the figure unknown, not the row."""
    try:
        return await read
    except Exception as exc:
        note = f"{what} unavailable: {type(exc).__name__}: {scrub_exception_text(exc)}"
        if note not in notes:
            notes.append(note)
        return None


async def _disconnect(venue: str, client: FundingVenue) -> None:
    try:
        await client.disconnect()
    except Exception as exc:
        log.info("client disconnect failed", venue=venue, error=scrub_exception_text(exc))


def _copy(health: VenueHealth) -> VenueHealth:
    return VenueHealth(**{k: getattr(health, k) for k in health.__dataclass_fields__})


def summary(health: Sequence[VenueHealth], now: datetime) -> dict[str, dict[str, object]]:
    """Health as plain values (for logs and the API): lag computed at ``now``."""
    return {
        h.venue: {
            "ok": h.ok,
            "last_success_at": h.last_success_at,
            "last_error": h.last_error,
            "last_error_at": h.last_error_at,
            "lag_seconds": h.lag_seconds(now),
            "consecutive_failures": h.consecutive_failures,
            "rows": h.rows,
            "rejected": h.rejected,
            "notes": list(h.notes),
        }
        for h in health
    }
