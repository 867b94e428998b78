"""Where /funding gets its numbers: a small provider interface, and one over venue clients.

The command needs quotes (funding, top of book, fees) for the same symbols on several venues
and ranks them with the funding-arbitrage strategy's own :func:`scan`, so what /funding shows
is what the strategy would consider. :class:`ClientFundingProvider` asks venue clients built by
the exchange-client factory — the paper venues by default (no account, no network); a future
funding-rate service can stand behind the same :class:`FundingProvider` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import structlog

from exchange_clients.errors import ExchangeError
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from strategies.funding_arbitrage.opportunities import Opportunity, VenueQuote, scan
from strategies.funding_arbitrage.params import FundingArbitrageParams
from strategies.funding_arbitrage.strategy import taker_fee

log = structlog.get_logger(__name__)

PAPER_VENUES = ("paper_a", "paper_b")


class FundingProvider(Protocol):
    @property
    def venues(self) -> Sequence[str]: ...

    async def quotes(self) -> list[VenueQuote]:
        """Every symbol quoted on each venue now."""


class ClientFundingProvider:
    """Quotes read from venue clients, connected for the duration of one scan."""

    def __init__(
        self, venues: Sequence[str] = PAPER_VENUES, options: dict[str, object] | None = None
    ) -> None:
        self._venues = tuple(venues)
        self._options = dict(options if options is not None else {"store": None})

    @property
    def venues(self) -> Sequence[str]:
        return self._venues

    async def quotes(self) -> list[VenueQuote]:
        quotes: list[VenueQuote] = []
        for venue in self._venues:
            client = create_client(ClientSettings(venue=venue, options=dict(self._options)))
            async with client:
                for symbol in sorted(await client.markets()):
                    try:
                        funding = await client.funding_rate(symbol)
                        bid, ask = await client.best_bid_ask(symbol)
                    except ExchangeError as exc:
                        log.info("no funding quote", venue=venue, symbol=symbol, error=str(exc))
                        continue
                    quotes.append(VenueQuote(venue, symbol, funding, bid, ask, taker_fee(venue)))
        return quotes


def scan_params(venues: Sequence[str]) -> FundingArbitrageParams:
    """A scan that reports every positive net spread (the strategy's filters, no APR floor)."""
    return FundingArbitrageParams(
        venues=list(venues),
        target_margin_usd=Decimal(100),
        min_net_apr_pct=Decimal(0),
        min_volume_24h_usd=Decimal(0),
    )


async def top_opportunities(provider: FundingProvider, count: int = 5) -> list[Opportunity]:
    """The ``count`` best pairs by net APR (fees amortised over the strategy's default hold)."""
    result = scan(await provider.quotes(), scan_params(provider.venues))
    return result.opportunities[:count]
