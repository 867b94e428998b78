"""The collector's state as the API shows it: venues' collection health and the jobs' runs.

The API reads a :class:`StatusSource` (a protocol, so the HTTP layer depends on two methods, not
on the collector's internals); :class:`CollectorStatus` adapts the running
:class:`~funding_rate_service.collector.Collector` and its housekeeping job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from funding_rate_service.backfill import BackfillResult
from funding_rate_service.collector import Collector, VenueHealth
from funding_rate_service.jobs import Housekeeping


@dataclass(frozen=True)
class JobState:
    name: str
    interval_seconds: float | None
    runs: int
    last_run_at: datetime | None
    last_duration_seconds: float | None
    last_error: str | None
    details: dict[str, int]


class StatusSource(Protocol):
    @property
    def interval_seconds(self) -> float:
        """Seconds between collection cycles (lag is judged against it)."""

    def venue_health(self) -> Sequence[VenueHealth]: ...

    def job_states(self) -> Sequence[JobState]: ...


class CollectorStatus:
    """:class:`StatusSource` over a running collector and (optionally) its housekeeping."""

    def __init__(self, collector: Collector, housekeeping: Housekeeping | None = None) -> None:
        self._collector = collector
        self._housekeeping = housekeeping
        self.backfill_results: list[BackfillResult] | None = None
        """Set when the start-up backfill has finished (the runner runs it once)."""

    @property
    def interval_seconds(self) -> float:
        return self._collector.settings.interval_seconds

    def venue_health(self) -> Sequence[VenueHealth]:
        return list(self._collector.health().values())

    def job_states(self) -> Sequence[JobState]:
        collector = self._collector
        last = collector.last_cycle
        health = collector.health().values()
        states = [
            JobState(
                name="collect",
                interval_seconds=collector.settings.interval_seconds,
                runs=collector.cycles,
                last_run_at=last.started_at if last else None,
                last_duration_seconds=last.duration_seconds if last else None,
                last_error="; ".join(f"{h.venue}: {h.last_error}" for h in health if not h.ok)
                or None,
                details={"rows": last.rows, "failed_venues": len(last.failed)} if last else {},
            )
        ]
        if self._housekeeping is not None:
            job = self._housekeeping.status
            states.append(
                JobState(
                    name=job.name,
                    interval_seconds=self._housekeeping.interval_seconds,
                    runs=job.runs,
                    last_run_at=job.last_run_at,
                    last_duration_seconds=job.last_duration_seconds,
                    last_error=job.last_error,
                    details=dict(job.last_result),
                )
            )
        if self.backfill_results is not None:
            results = self.backfill_results
            errors = [
                e if e.startswith(f"{r.venue}: ") else f"{r.venue}: {e}"
                for r in results
                for e in r.errors
            ]
            states.append(
                JobState(
                    name="backfill",
                    interval_seconds=None,
                    runs=1,
                    last_run_at=None,
                    last_duration_seconds=None,
                    last_error="; ".join(errors) or None,
                    details={
                        "rows": sum(r.rows for r in results),
                        "symbols": sum(r.symbols for r in results),
                        "venues": len(results),
                    },
                )
            )
        return states
