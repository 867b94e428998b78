"""The funding-rate API's contract: every answer as a frozen pydantic model, defined once.

Rates, prices and USD amounts are ``Decimal`` and cross the wire as JSON strings holding every
digit (:data:`bot_runtime.control_models.Exact`, as the bots' control API does), so a reader
that ranks or sums them gets the collector's numbers, not a float's. Statistics (means,
deviations, shares of time) are floats: they are summaries, never amounts. Errors are the
control API's :class:`~bot_runtime.control_models.ErrorBody`, so one client parses both.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from bot_runtime.control_models import Exact, plain


def _derived(value: Decimal) -> str:
    """A computed figure without the trailing zeros arithmetic leaves (87.6000 -> 87.6)."""
    return plain(value.normalize()) if value.is_finite() else str(value)


Derived = Annotated[Decimal, PlainSerializer(_derived, return_type=str, when_used="json")]
"""A value computed here (per-hour rates, APRs, spreads): exact, trailing zeros dropped."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Liveness(_Model):
    status: Literal["ok"]


class VenueView(_Model):
    name: str
    display_name: str
    kind: str = Field(description="paper, cex or dex")
    symbols: list[str] = Field(description="symbols with a latest rate on this venue")
    last_update: datetime | None = Field(None, description="newest observation (UTC)")


class RateView(_Model):
    """One venue's latest funding for one symbol."""

    venue: str
    symbol: str
    rate: Exact = Field(description="per funding interval, fraction (0.0001 = 0.01 %)")
    interval_hours: Exact
    hourly_rate: Derived = Field(description="rate / interval_hours: comparable across venues")
    apr_pct: Derived = Field(description="hourly_rate x 8760 x 100, no compounding")
    predicted_rate: Exact | None = None
    mark_price: Exact | None = None
    index_price: Exact | None = None
    open_interest_usd: Exact | None = None
    volume_24h_usd: Exact | None = None
    taker_fee: Exact | None = None
    maker_fee: Exact | None = None
    funding_time: datetime = Field(description="the funding time this rate belongs to (UTC)")
    next_funding_time: datetime | None = None
    observed_at: datetime = Field(description="when the collector read it (UTC)")


class CompareView(_Model):
    """One symbol across venues: cheapest long first, and the widest spread between them."""

    symbol: str
    rates: list[RateView] = Field(description="ordered by hourly_rate, lowest first")
    long_venue: str | None = Field(None, description="lowest hourly rate (None: < 2 venues)")
    short_venue: str | None = Field(None, description="highest hourly rate")
    spread_hourly: Derived | None = None
    spread_apr_pct: Derived | None = None


class HistoryBucketView(_Model):
    start: datetime
    mean_hourly_rate: Derived
    apr_pct: Derived
    samples: int = Field(description="collected rows averaged into this bucket")


class HistoryView(_Model):
    venue: str
    symbol: str
    resolution: str
    start: datetime
    end: datetime
    buckets: list[HistoryBucketView]


class RateStatisticsView(_Model):
    """A venue's hourly rate over the window (floats: a summary, not money)."""

    venue: str
    samples: int
    mean_hourly: float
    mean_apr_pct: float
    stdev_hourly: float
    min_hourly: float
    max_hourly: float
    percentiles_hourly: dict[str, float] = Field(description="'p5', 'p25', 'p50', 'p75', 'p95'")
    positive_share: float = Field(description="share of rows with a positive rate (0..1)")


class SpreadPersistenceView(_Model):
    """A pair's spread (short - long hourly rate) over aligned buckets of the window."""

    long_venue: str
    short_venue: str
    samples: int
    bucket_hours: float
    mean_spread_hourly: float
    mean_spread_apr_pct: float
    stdev_spread_hourly: float
    positive_share: float = Field(description="share of buckets in which the pair earned")
    current_sign: int = Field(description="+1 earning, -1 paying, 0 flat in the latest bucket")
    current_run_hours: float = Field(description="how long the latest sign has held")
    longest_positive_run_hours: float
    sign_flips: int
    lag1_autocorrelation: float | None = Field(
        None, description="how much one bucket's spread predicts the next (-1..1)"
    )


class StatisticsView(_Model):
    symbol: str
    start: datetime
    end: datetime
    resolution: str = Field(description="bucket width used for the pairs' spreads")
    venues: list[RateStatisticsView]
    pairs: list[SpreadPersistenceView] = Field(
        description="every pair of venues, oriented so the mean spread earns; most persistent "
        "(highest positive_share) first"
    )


class OpportunityView(_Model):
    """A pair the funding-arbitrage strategy would consider, priced as it prices it."""

    symbol: str
    long_venue: str
    short_venue: str
    lead_venue: str = Field(description="the leg a maker entry starts with")
    long_hourly_rate: Derived
    short_hourly_rate: Derived
    gross_hourly: Derived
    gross_apr_pct: Derived
    fees_fraction: Derived = Field(description="round-trip fees on both legs, fraction of notional")
    net_hourly: Derived
    net_apr_pct: Derived = Field(description="after fees amortised over hold_hours")
    price_divergence_pct: Derived
    long_volume_24h_usd: Exact | None = None
    short_volume_24h_usd: Exact | None = None
    long_open_interest_usd: Exact | None = None
    short_open_interest_usd: Exact | None = None
    oi_ratio: Derived | None = Field(None, description="smaller leg's open interest / larger's")
    notes: list[str] = Field(default_factory=list)


class OpportunitiesView(_Model):
    as_of: datetime | None = Field(None, description="newest observation used (UTC)")
    venues: list[str] = Field(description="venues scanned")
    matched: int = Field(description="pairs passing every filter, before the limit")
    opportunities: list[OpportunityView]


class DatabaseHealth(_Model):
    ok: bool
    backend: str = Field(description="sqlite or postgresql")
    latency_ms: float | None = None
    error: str | None = None


class VenueHealthView(_Model):
    venue: str
    status: Literal["ok", "stale", "failing", "pending"]
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    lag_seconds: float | None = Field(None, description="seconds since the last success")
    consecutive_failures: int = 0
    last_error: str | None = None
    rows: int = Field(0, description="rows written by the last successful read")
    rejected: int = Field(0, description="rows dropped as nonsense by the last read")
    notes: list[str] = Field(default_factory=list, description="partial reads, e.g. no fees")


class HealthView(_Model):
    status: Literal["ok", "degraded", "down"]
    database: DatabaseHealth
    venues: list[VenueHealthView]


class JobView(_Model):
    name: str = Field(description="collect: the collection cycle; retention: housekeeping")
    interval_seconds: float | None = None
    runs: int = 0
    last_run_at: datetime | None = None
    last_duration_seconds: float | None = None
    last_error: str | None = Field(None, description="None when the last run succeeded")
    details: dict[str, int] = Field(
        default_factory=dict, description="what the last run did (rows written, deleted ...)"
    )


class JobsView(_Model):
    jobs: list[JobView]


class MetricsView(_Model):
    latest_rows: int = Field(description="venue/symbol pairs with a latest rate")
    history_rows: int = Field(description="rows in the history table")
    oldest: datetime | None = None
    newest: datetime | None = None
    venues: int
    symbols: int
    requests_served: int = Field(description="API requests answered since start")
    uptime_seconds: float


class ChartPointView(_Model):
    start: datetime
    long_hourly_rate: Derived
    short_hourly_rate: Derived
    spread_hourly: Derived
    spread_apr_pct: Derived
    cumulative_carry_pct: Derived = Field(
        description="what the pair earned up to this bucket, % of one leg's notional"
    )


class ChartDataView(_Model):
    symbol: str
    long_venue: str
    short_venue: str
    resolution: str
    start: datetime
    end: datetime
    points: list[ChartPointView]
