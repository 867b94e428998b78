"""The one funding interface: quotes (funding, top of book, taker fee) per venue and symbol.

The strategy ranks what :func:`collect_quotes` reads from its own clients; Telegram's
``/funding`` (and any other reader) asks a :class:`FundingProvider` - today
:class:`ClientFundingProvider`, which builds clients for the duration of one scan; the
funding-rate service will stand behind the same protocol - and ranks with
:func:`top_opportunities`, i.e. with the strategy's own :func:`scan`, so what a person sees
is what the strategy would consider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

import structlog

from core.errors import ExchangeError
from exchange_clients.base import BaseExchangeClient
from exchange_clients.factory import create_client
from exchange_clients.paper.profiles import PROFILES
from exchange_clients.types import ClientSettings
from strategies.funding_arbitrage.opportunities import Opportunity, VenueQuote, scan
from strategies.funding_arbitrage.params import FundingArbitrageParams

log = structlog.get_logger(__name__)

DEFAULT_TAKER_FEE = Decimal("0.0005")
PAPER_VENUES = ("paper_a", "paper_b")


def taker_fee(venue: str) -> Decimal:
    """The venue's taker fee rate: the paper profile's, else a conservative default."""
    profile = PROFILES.get(venue)
    return profile.taker_fee if profile is not None else DEFAULT_TAKER_FEE


async def collect_quotes(
    clients: Mapping[str, BaseExchangeClient], symbols: Sequence[str] | None = None
) -> list[VenueQuote]:
    """A quote for each symbol (default: every market) on each venue; a venue that cannot
    quote a symbol is logged and skipped, never fails the scan."""
    quotes: list[VenueQuote] = []
    for venue, client in clients.items():
        for symbol in symbols or sorted(await client.markets()):
            try:
                funding = await client.funding_rate(symbol)
                bid, ask = await client.best_bid_ask(symbol)
            except ExchangeError as exc:
                log.info("no funding quote", venue=venue, symbol=symbol, error=str(exc))
                continue
            quotes.append(VenueQuote(venue, symbol, funding, bid, ask, taker_fee(venue)))
    return quotes


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
                quotes += await collect_quotes({venue: client})
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
