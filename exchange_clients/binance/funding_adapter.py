"""Binance USD-M funding: ``premiumIndex`` + ``fundingInfo``, default interval 8 h.

``lastFundingRate`` is the rate of the interval in progress (re-estimated until
``nextFundingTime``); it is reported as both ``rate`` and ``predicted_rate``. Symbols whose
interval was changed (4 h, 1 h) are listed by ``GET /fapi/v1/fundingInfo``.
"""

from decimal import Decimal

from exchange_clients.binance_style.funding import (
    funding_from_premium_index,
    intervals_from_funding_info,
)

DEFAULT_INTERVAL_HOURS = Decimal(8)

__all__ = ["DEFAULT_INTERVAL_HOURS", "funding_from_premium_index", "intervals_from_funding_info"]
