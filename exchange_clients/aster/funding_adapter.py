"""Aster funding: ``premiumIndex`` + ``fundingInfo`` ("Get Funding Rate Config", which lists
``fundingIntervalHours`` per symbol), default interval 8 h; ``lastFundingRate`` is reported as
both the current and the predicted rate, as for Binance."""

from decimal import Decimal

from exchange_clients.binance_style.funding import (
    funding_from_premium_index,
    intervals_from_funding_info,
)

DEFAULT_INTERVAL_HOURS = Decimal(8)

__all__ = ["DEFAULT_INTERVAL_HOURS", "funding_from_premium_index", "intervals_from_funding_info"]
