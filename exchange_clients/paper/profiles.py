"""Fee, funding and margin profile of each paper venue.

``paper_a`` and ``paper_b`` watch the same synthetic market but charge different fees and
settle funding on different schedules (1 h vs 8 h, like Hyperliquid vs Binance), so a funding
arbitrage between them can be paper-traded with the frictions that decide real results.

The funding interval is read from the venue catalogue (:mod:`core.venues`) rather
than repeated here, so the database's ``venues`` rows, config validation and the simulation
can never disagree about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.errors import ConfigError
from core.venues import VENUES
from exchange_clients.types import Market

DEFAULT_INITIAL_BALANCE = Decimal(10_000)
DEFAULT_LEVERAGE = Decimal(10)
DEFAULT_OPEN_INTEREST_USD: Mapping[str, Decimal] = {
    # Orders of magnitude of a large perp venue's books, for the synthetic symbols.
    "BTC": Decimal(400_000_000),
    "ETH": Decimal(200_000_000),
    "SOL": Decimal(60_000_000),
    "DOGE": Decimal(25_000_000),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FUNDING_INTERVALS: dict[int, timedelta] = {}


@dataclass(frozen=True, slots=True)
class PaperProfile:
    """How one paper venue charges: fees as fractions of notional, funding every N hours.

    ``open_interest_usd`` is what ``market_stats()`` reports as each market's open interest
    (a feed shows trades, not positions); a symbol it does not list reports none.

    Funding times are the multiples of the interval since the Unix epoch (UTC): 00:00,
    01:00 ... for 1 h; 00:00, 08:00, 16:00 for 8 h - the schedule real venues use.
    """

    venue: str
    maker_fee: Decimal
    taker_fee: Decimal
    funding_interval_hours: int
    initial_balance: Decimal = DEFAULT_INITIAL_BALANCE
    default_leverage: Decimal = DEFAULT_LEVERAGE
    open_interest_usd: Mapping[str, Decimal] = field(
        default_factory=lambda: dict(DEFAULT_OPEN_INTEREST_USD)
    )

    @property
    def funding_interval(self) -> timedelta:
        # One timedelta per interval length: read at every funding check and settlement.
        hours = self.funding_interval_hours
        interval = _FUNDING_INTERVALS.get(hours)
        if interval is None:
            interval = _FUNDING_INTERVALS[hours] = timedelta(hours=hours)
        return interval

    def last_funding_time(self, at: datetime) -> datetime:
        """The latest funding time at or before ``at``."""
        interval = self.funding_interval
        return _EPOCH + ((at - _EPOCH) // interval) * interval

    def next_funding_time(self, at: datetime) -> datetime:
        """The first funding time strictly after ``at``."""
        return self.last_funding_time(at) + self.funding_interval

    def leverage_for(self, market: Market) -> Decimal:
        """The leverage an account starts with on ``market``: the default, capped by the market."""
        return min(self.default_leverage, market.max_leverage)


def maintenance_margin_rate(market: Market) -> Decimal:
    """Maintenance margin as a fraction of notional: half the initial margin at max leverage.

    The common venue rule of thumb (Hyperliquid uses exactly this): at max leverage a position
    is liquidated after losing half of its initial margin.
    """
    return 1 / (2 * market.max_leverage)


def _profile(venue: str, maker_fee: str, taker_fee: str) -> PaperProfile:
    return PaperProfile(
        venue=venue,
        maker_fee=Decimal(maker_fee),
        taker_fee=Decimal(taker_fee),
        funding_interval_hours=VENUES[venue].default_funding_interval_hours,
    )


PROFILES: dict[str, PaperProfile] = {
    profile.venue: profile
    for profile in (
        _profile("paper", "0.0002", "0.0005"),
        # Hyperliquid-like base tier: cheaper, hourly funding.
        _profile("paper_a", "0.00015", "0.00045"),
        # Binance-like base tier: dearer, funding every 8 hours.
        _profile("paper_b", "0.0002", "0.0005"),
    )
}


def profile_for(venue: str) -> PaperProfile:
    try:
        return PROFILES[venue]
    except KeyError:
        raise ConfigError(
            f"no paper profile for venue {venue!r}: expected one of {', '.join(sorted(PROFILES))}"
        ) from None
