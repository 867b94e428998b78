"""How the collector reaches each venue without an account.

Collection needs five things of a venue (:class:`FundingVenue`); every ``BaseExchangeClient``
has them, and :func:`public_client_factory` builds clients as the factory does, with no
credentials (Binance, Aster, Backpack, Paradex, EdgeX, GRVT and the paper venues read their
public data that way: Paradex's fees are the account's own, so they stay unknown; EdgeX and
GRVT answer their published schedules and, through ``index_prices()``, the index price their
funding read carries).

The Hyperliquid client refuses to exist without a private key (it signs everything it sends),
yet everything collection needs is public ``POST /info``: ``metaAndAssetCtxs`` (the universe,
and per asset ``funding``, ``markPx``, ``oraclePx`` - its index price -, ``openInterest`` and
``dayNtlVlm``) and ``predictedFundings``. :class:`HyperliquidPublic` reads those through the
venue package's own parsers (``wire.parse_universe``, ``wire.parse_market_stats``,
``funding_adapter``), so the numbers are the client's; fees are the venue's published base
schedule (``wire.PUBLISHED_FEES``: no account, no tier).

:func:`collection_client_factory` is the collector's default: this reader for Hyperliquid, the
factory's public client for every other venue (Binance, Aster, Backpack, Paradex, EdgeX, GRVT
and the paper venues read their public data without credentials). Lighter's client needs a
key too; it is read through :class:`funding_rate_service.lighter_public.LighterPublic` (public
``orderBookDetails`` and the ``market_stats/all`` channel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Protocol, runtime_checkable

from core.errors import VenueUnavailable
from exchange_clients.base import BaseExchangeClient
from exchange_clients.factory import create_client
from exchange_clients.hyperliquid.funding_adapter import funding_rate, predicted_by_coin
from exchange_clients.hyperliquid.wire import (
    MAINNET_URL,
    PUBLISHED_FEES,
    HlAsset,
    parse_market_stats,
    parse_universe,
)
from exchange_clients.native.wire import to_decimal
from exchange_clients.types import ClientSettings, FeeSchedule, FundingRate, MarketStats
from networking.http import HttpRequest, RestTransport
from networking.json_codec import dumps

VENUE = "hyperliquid"
LIGHTER = "lighter"
REST_ONLY: Final = ("paradex", "edgex", "grvt")
"""Venues whose clients open WebSockets on connect unless told ``streams: False``; collection
reads their REST answers only, so it asks for none (``venue_options`` may still turn them on)."""


class FundingVenue(Protocol):
    """What collection needs of a venue (every ``BaseExchangeClient`` has it)."""

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def funding_rates(self) -> dict[str, FundingRate]: ...

    async def market_stats(self) -> dict[str, MarketStats]: ...

    async def fees(self, symbol: str) -> FeeSchedule: ...


@runtime_checkable
class IndexPrices(Protocol):
    """A venue reader that also knows index prices (from its last ``funding_rates`` read)."""

    def index_prices(self) -> dict[str, Decimal]: ...


ClientFactory = Callable[[str], FundingVenue]
"""Venue name -> an unconnected venue reader (the collector connects it and keeps it)."""


def public_client_factory(
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> Callable[[str], BaseExchangeClient]:
    """Clients as the factory builds them, with no account (``options`` per venue, e.g. a
    paper profile or a base URL)."""
    per_venue = dict(options or {})

    def build(venue: str) -> BaseExchangeClient:
        return create_client(ClientSettings(venue=venue, options=dict(per_venue.get(venue, {}))))

    return build


class HyperliquidPublic:
    """Hyperliquid's funding, market figures and published fees from public endpoints."""

    def __init__(self, options: Mapping[str, object] | None = None) -> None:
        options = options or {}
        self._rest = RestTransport(VENUE, str(options.get("base_url") or MAINNET_URL))
        self._assets: list[HlAsset] = []
        self._ctxs: list[Any] = []

    async def connect(self) -> None:
        await self._rest.open()

    async def disconnect(self) -> None:
        await self._rest.close()

    async def _info(self, body: dict[str, object]) -> Any:
        request = HttpRequest("POST", "/info", dumps(body), {"Content-Type": "application/json"})
        response = await self._rest.send(request, idempotent=True)
        if response.status != 200:
            raise VenueUnavailable(f"POST /info answered HTTP {response.status}", venue=VENUE)
        return response.json()

    async def _refresh(self) -> None:
        meta, ctxs = await self._info({"type": "metaAndAssetCtxs"})
        self._assets, self._ctxs = parse_universe(meta, ctxs), ctxs

    async def funding_rates(self) -> dict[str, FundingRate]:
        await self._refresh()
        predicted = predicted_by_coin(await self._info({"type": "predictedFundings"}))
        now = datetime.now(UTC)
        rates = {}
        for asset in self._assets:
            ctx = self._ctxs[asset.asset]
            rate = funding_rate(
                asset.market.symbol,
                ctx,
                now=now,
                predicted=predicted.get(asset.coin),
                mark_divisor=asset.market.quantity_multiplier,
            )
            rates[asset.market.symbol] = rate
        return rates

    def index_prices(self) -> dict[str, Decimal]:
        """The oracle (index) price of each market, from the last ``funding_rates`` read."""
        return {
            a.market.symbol: to_decimal(self._ctxs[a.asset]["oraclePx"])
            / a.market.quantity_multiplier
            for a in self._assets
            if self._ctxs[a.asset].get("oraclePx") is not None
        }

    async def market_stats(self) -> dict[str, MarketStats]:
        if not self._assets:
            await self._refresh()
        return {
            a.market.symbol: parse_market_stats(a.market, self._ctxs[a.asset]) for a in self._assets
        }

    async def fees(self, symbol: str) -> FeeSchedule:
        return PUBLISHED_FEES


def rest_only(
    options: Mapping[str, Mapping[str, object]] | None,
) -> dict[str, Mapping[str, object]]:
    """``options`` with ``streams: False`` for the :data:`REST_ONLY` venues unless set."""
    per_venue: dict[str, Mapping[str, object]] = dict(options or {})
    for venue in REST_ONLY:
        per_venue[venue] = {"streams": False, **per_venue.get(venue, {})}
    return per_venue


def collection_client_factory(
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> ClientFactory:
    """Venue name -> what the collector reads it through, with no account."""
    per_venue = rest_only(options)
    others = public_client_factory(per_venue)

    def build(venue: str) -> FundingVenue:
        if venue == VENUE:
            return HyperliquidPublic(per_venue.get(venue))
        if venue == LIGHTER:
            from funding_rate_service.lighter_public import LighterPublic

            return LighterPublic(per_venue.get(venue))
        return others(venue)

    return build
