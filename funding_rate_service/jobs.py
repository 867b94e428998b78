"""Housekeeping on the history: retention, stale-data detection and cleanup, with job status.

* Retention (``retention_days``, 0 = keep forever): history rows settled more than that many
  days ago are deleted, in one statement per run (the ``funding_time`` index - BRIN on
  PostgreSQL - finds them without reading the rest).
* Stale detection (``stale_after``, default 3 collection intervals): the latest rows not
  observed since are reported (a market that stopped answering, or a venue that did), so health
  can say which data is old rather than serving it as current.
* Stale cleanup (``stale_drop_days``, 0 = never): latest rows not observed for that long (a
  delisted market) are removed from "latest", so they stop appearing there; their history stays
  until retention takes it.

Each run's outcome is kept in a :class:`JobStatus` (last run, duration, result, last error),
which the service's job-status endpoint reports.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.redaction import scrub_exception_text
from funding_rate_service import storage
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.storage import FundingRecord

log = structlog.get_logger(__name__)

HOUSEKEEPING_INTERVAL_SECONDS = 3600.0


@dataclass
class JobStatus:
    name: str
    runs: int = 0
    last_run_at: datetime | None = None
    last_duration_seconds: float | None = None
    last_result: Mapping[str, int] = field(default_factory=dict)
    last_error: str | None = None


@dataclass(frozen=True)
class StaleReport:
    """Pairs whose newest observation is older than the threshold, at ``checked_at``."""

    checked_at: datetime
    threshold: datetime
    pairs: tuple[FundingRecord, ...]

    @property
    def venues(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for row in self.pairs:
            result.setdefault(row.venue, []).append(row.symbol)
        return result


async def stale_pairs(
    sessions: async_sessionmaker[AsyncSession], settings: CollectionSettings, now: datetime
) -> StaleReport:
    threshold = now - timedelta(seconds=settings.stale_after)
    async with sessions() as session:
        rows = await storage.stale(session, threshold)
    return StaleReport(checked_at=now, threshold=threshold, pairs=tuple(rows))


async def apply_retention(
    sessions: async_sessionmaker[AsyncSession], settings: CollectionSettings, now: datetime
) -> dict[str, int]:
    """Delete history past retention and latest rows stale past ``stale_drop_days``."""
    result = {"history_deleted": 0, "latest_dropped": 0}
    async with sessions.begin() as session:
        if settings.retention_days > 0:
            cutoff = now - timedelta(days=settings.retention_days)
            result["history_deleted"] = await storage.delete_history_before(session, cutoff)
        if settings.stale_drop_days > 0:
            cutoff = now - timedelta(days=settings.stale_drop_days)
            result["latest_dropped"] = await storage.delete_latest_observed_before(session, cutoff)
    return result


class Housekeeping:
    """Runs retention and stale cleanup every ``interval_seconds``; status kept in memory."""

    def __init__(
        self,
        settings: CollectionSettings,
        sessions: async_sessionmaker[AsyncSession],
        interval_seconds: float = HOUSEKEEPING_INTERVAL_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._sessions = sessions
        self.interval_seconds = interval_seconds
        self._clock = clock
        self.status = JobStatus("retention")

    async def run_once(self) -> JobStatus:
        """One retention run; a failure is recorded, not raised (the next run tries again)."""
        started = time.perf_counter()
        self.status.last_run_at = self._clock()
        self.status.runs += 1
        try:
            self.status.last_result = await apply_retention(
                self._sessions, self.settings, self._clock()
            )
            self.status.last_error = None
        except Exception as exc:
            self.status.last_error = f"{type(exc).__name__}: {scrub_exception_text(exc)}"
            log.warning("funding retention failed", error=self.status.last_error)
        self.status.last_duration_seconds = time.perf_counter() - started
        return self.status

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval_seconds)
            except TimeoutError:
                continue
