"""ccxt funding-rate structures -> our ``FundingRate`` (per interval, interval in hours)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.venues import Venue
from exchange_clients.ccxt_venue.mapping import Unified, funding_from_ccxt
from exchange_clients.types import FundingRate, Market

if TYPE_CHECKING:
    from exchange_clients.ccxt_venue.client import CcxtExchangeClient


def interval_hours_default(venue: Venue) -> int:
    """The venue's usual interval, used when ccxt does not report a symbol's own."""
    return venue.default_funding_interval_hours


def funding_rate_of(client: CcxtExchangeClient, raw: Unified, market: Market) -> FundingRate:
    return funding_from_ccxt(client.name, raw, market, client.default_interval_hours)
