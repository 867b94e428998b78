"""The one funding interface: quotes (funding, top of book, fees, liquidity) per venue and symbol.

Fees are the venue's own (``client.fees(symbol)``: the account's tier where the venue has an
endpoint, its published schedule otherwise, a paper profile's); 24 h volume and open interest
come from ``client.market_stats()``, read once per venue per scan.

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
from exchange_clients.types import ClientSettings, MarketStats
from strategies.funding_arbitrage.opportunities import Opportunity, VenueQuote, scan
from strategies.funding_arbitrage.params import FundingArbitrageParams

log = structlog.get_logger(__name__)

DEFAULT_TAKER_FEE = Decimal("0.0005")
PAPER_VENUES = ("paper_a", "paper_b")


def taker_fee(venue: str) -> Decimal:
    """A venue's taker fee without asking it: the paper profile's, else a conservative default.

    Only for estimates made away from a scan; quotes carry the venue's real fees."""
    profile = PROFILES.get(venue)
    return profile.taker_fee if profile is not None else DEFAULT_TAKER_FEE


async def collect_quotes(
    clients: Mapping[str, BaseExchangeClient], symbols: Sequence[str] | None = None
) -> list[VenueQuote]:
    """A quote for each symbol (default: every market) on each venue; a venue that cannot
    quote a symbol is logged and skipped, never fails the scan. A venue whose market stats
    cannot be read is quoted without volume and open interest (a filter on them then refuses
    its pairs)."""
    quotes: list[VenueQuote] = []
    for venue, client in clients.items():
        stats = await _market_stats(venue, client)
        for symbol in symbols or sorted(await client.markets()):
            try:
                funding, bid, ask, fees = await client.quote(symbol)
            except ExchangeError as exc:
                log.info("no funding quote", venue=venue, symbol=symbol, error=str(exc))
                continue
            liquidity = stats.get(symbol)
            quotes.append(
                VenueQuote._read(
                    venue,
                    symbol,
                    funding,
                    bid,
                    ask,
                    fees.taker,
                    liquidity.volume_24h_usd if liquidity else None,
                    liquidity.open_interest_usd if liquidity else None,
                    fees.maker,
                )
            )
    return quotes


async def _market_stats(venue: str, client: BaseExchangeClient) -> Mapping[str, MarketStats]:
    try:
        return await client.market_stats()
    except ExchangeError as exc:
        log.warning(
            "no market stats: volume and open interest unknown", venue=venue, error=str(exc)
        )
        return {}


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
