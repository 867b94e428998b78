"""ccxt funding-rate structures -> our ``FundingRate`` (per interval, interval in hours)."""

from __future__ import annotations

from core.venues import Venue
from exchange_clients.ccxt_venue.mapping import Unified, funding_from_ccxt
from exchange_clients.types import FundingRate, Market


def interval_hours_default(venue: Venue) -> int:
    """The venue's usual interval, used when ccxt does not report a symbol's own."""
    return venue.default_funding_interval_hours


def funding_rate_of(
    venue: str, raw: Unified, market: Market, default_interval_hours: int
) -> FundingRate:
    """``raw`` (ccxt's funding structure) for ``market``; the venue's usual interval when ccxt
    reports none for the symbol."""
    return funding_from_ccxt(venue, raw, market, default_interval_hours)
