"""The exchange client contract over the venue, on the native base: only the venue's primitives.

What every native venue does alike (connect/disconnect, the market cache, refusing a client
order id already sent, publishing fills and order states once, the resync after a reconnect)
is inherited from :class:`~exchange_clients.native.base.NativeVenueClient`; this class maps
the contract onto the venue's REST calls (:mod:`.rest`) and stream (:mod:`.websocket`).

A real venue adds ``@register_client("<venue>")`` from :mod:`exchange_clients.factory` and a row
in its ``CLIENTS`` table; the template has neither, so it can never be built from a config.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.errors import AuthenticationFailed
from exchange_clients._template.funding_adapter import funding_from_wire
from exchange_clients._template.ids import to_wire
from exchange_clients._template.rest import TemplateRest
from exchange_clients._template.signing import HmacSigner
from exchange_clients._template.websocket import TemplateStream
from exchange_clients._template.wire import (
    ORDER_TYPE_WIRE,
    fees_from_wire,
    fill_from_wire,
    market_from_wire,
    order_from_wire,
    stats_from_wire,
)
from exchange_clients.native.base import ContractMarketsClient
from exchange_clients.native.wire import to_decimal
from exchange_clients.types import (
    Balance,
    BookSnapshot,
    ClientSettings,
    FeeSchedule,
    FundingRate,
    Market,
    MarketStats,
    Order,
    OrderRequest,
    Position,
)
from networking.http import RestTransport
from networking.rate_limit import TokenBucket

MAINNET_REST_URL = "https://api.venue.example"
TESTNET_REST_URL = "https://testnet.api.venue.example"
MAINNET_WS_URL = "wss://ws.venue.example"
TESTNET_WS_URL = "wss://testnet.ws.venue.example"


class TemplateClient(ContractMarketsClient):
    """One account on the venue."""

    venue = "template"
    supports_trigger_orders = True
    """The venue rests reduce-only stop-market orders. Where it has none, keep the base's False
    and have ``place_order`` refuse ``STOP_MARKET`` with InvalidOrder before anything is sent."""

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self._ws_url = self._endpoint("ws_url", MAINNET_WS_URL, TESTNET_WS_URL)
        base_url = self._endpoint("base_url", MAINNET_REST_URL, TESTNET_REST_URL)
        self._rest = TemplateRest(
            self._rest_transport(base_url, TokenBucket.per_minute(1200)), self._make_signer()
        )
        self._stream: TemplateStream | None = None

    def _make_signer(self) -> HmacSigner | None:
        key, secret = self.settings.secrets.get("api_key"), self.settings.secrets.get("api_secret")
        if key is None and secret is None:
            return None
        if key is None or secret is None:
            raise AuthenticationFailed("both api_key and api_secret are needed", venue=self.name)
        return HmacSigner(key, secret)

    # --- lifecycle and markets (the base calls these) ----------------------------------

    @property
    def transport(self) -> RestTransport:
        return self._rest.transport

    async def _start(self) -> None:
        await self._market_cache.reload()
        if self._rest.signer is None:
            return
        stream = TemplateStream(
            self._ws_url,
            venue=self.name,
            on_message=self._on_message,
            on_resync=self._resync,
            proxy_url=self.settings.proxy_url,
        )
        await stream.start([{"channel": "orders"}, {"channel": "fills"}])
        self._stream = stream

    async def _stop_streams(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.stop()

    async def _fetch_markets(self) -> list[Market]:
        rows = await self._rest.public("/markets")
        markets = (market_from_wire(row) for row in rows)
        return [market for market in markets if market is not None]

    # --- market data ---------------------------------------------------------------------

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self.market(symbol)
        data = await self._rest.public("/depth", {"symbol": market.contract_id})
        return self._book_snapshot(
            market,
            [(to_decimal(p), to_decimal(q)) for p, q in data["bids"][:depth]],
            [(to_decimal(p), to_decimal(q)) for p, q in data["asks"][:depth]],
            int(data["sequence"]),
        )

    async def funding_rate(self, symbol: str) -> FundingRate:
        market = await self.market(symbol)
        row = await self._rest.public("/funding", {"symbol": market.contract_id})
        return funding_from_wire(self.name, market, row)

    async def fees(self, symbol: str) -> FeeSchedule:
        """The account's tier from the venue's fee endpoint (source ``account``); a venue with
        none returns its published schedule (``wire.PUBLISHED_FEES``, source ``published``)."""
        market = await self.market(symbol)
        return fees_from_wire(
            await self._rest.signed("GET", "/fees", {"symbol": market.contract_id})
        )

    async def market_stats(self) -> dict[str, MarketStats]:
        """Every market's 24 h figures from one bulk call (never one call per market)."""
        await self.markets()
        stats: dict[str, MarketStats] = {}
        for row in await self._rest.public("/tickers"):
            market = self._record_of(str(row["symbol"]))
            if market is not None:
                stats[market.symbol] = stats_from_wire(row, market)
        return stats

    # --- trading -------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self.market(request.symbol)
        self._refuse_sent_id(request.client_order_id)
        params: dict[str, Any] = {
            "symbol": market.contract_id,
            "side": request.side,
            "type": ORDER_TYPE_WIRE[request.order_type],
            "size": str(market.to_venue_size(request.size)),
            "client_id": to_wire(request.client_order_id, venue=self.name),
            "post_only": request.post_only,
            "reduce_only": request.reduce_only,
        }
        if request.price is not None:
            params["price"] = str(market.to_venue_price(request.price))
        if request.trigger_price is not None:  # STOP_MARKET: reduce-only by construction
            params["trigger_price"] = str(market.to_venue_price(request.trigger_price))
        self._claim_id(request.client_order_id)
        order = order_from_wire(await self._rest.signed("POST", "/order", params), market)
        self._track(order)
        return order

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        return await self._cancel(symbol, {"id": venue_order_id})

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        return await self._cancel(symbol, {"client_id": to_wire(client_order_id, venue=self.name)})

    async def _cancel(self, symbol: str, ident: dict[str, str]) -> Order:
        market = await self.market(symbol)
        row = await self._rest.signed("DELETE", "/order", {"symbol": market.contract_id, **ident})
        order = order_from_wire(row, market)
        self._track(order)
        return order

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        await self.markets()
        orders = []
        for row in await self._rest.signed("GET", "/orders"):
            market = self._record_of(str(row["symbol"]))
            if market is not None and (symbol is None or market.symbol == symbol):
                orders.append(order_from_wire(row, market))
        return orders

    async def _order_status(
        self, market: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        if venue_order_id is not None:
            ident = {"id": venue_order_id}
        elif client_order_id is not None:
            ident = {"client_id": to_wire(client_order_id, venue=self.name)}
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        row = await self._rest.signed("GET", "/order", {"symbol": market.contract_id, **ident})
        return order_from_wire(row, market)

    # --- account -------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        await self.markets()
        positions = []
        for row in await self._rest.signed("GET", "/positions"):
            market = self._record_of(str(row["symbol"]))
            size = to_decimal(row["size"])
            if market is None or size == 0:
                continue
            positions.append(
                Position(
                    symbol=market.symbol,
                    size=market.from_venue_size(size),
                    entry_price=market.from_venue_price(to_decimal(row["entry_price"])),
                    mark_price=market.from_venue_price(to_decimal(row["mark_price"])),
                    liquidation_price=None,
                    unrealized_pnl=to_decimal(row.get("unrealized_pnl", "0")),
                )
            )
        return positions

    async def balance(self) -> Balance:
        row = await self._rest.signed("GET", "/balance")
        wallet, available = to_decimal(row["wallet"]), to_decimal(row["available"])
        unrealized = to_decimal(row.get("unrealized_pnl", "0"))
        return Balance.from_available(wallet, unrealized, available)

    async def get_leverage(self, symbol: str) -> Decimal:
        market = await self.market(symbol)
        row = await self._rest.signed("GET", "/leverage", {"symbol": market.contract_id})
        return to_decimal(row["leverage"])

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        market = await self.market(symbol)
        self._check_leverage(market, leverage)
        params = {"symbol": market.contract_id, "leverage": int(leverage)}
        return to_decimal((await self._rest.signed("POST", "/leverage", params))["leverage"])

    # --- streams -------------------------------------------------------------------------

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        data = message.get("data") or {}
        market = self._record_of(str(data.get("symbol")))
        if market is None:
            return
        if message.get("channel") == "fills":
            self._publish_fill_once(fill_from_wire(self.name, data, market))
        elif message.get("channel") == "orders":
            self._publish_order_once(order_from_wire(data, market))

    async def _recover_fills(self) -> None:
        """The account's recent fills (the venue's history); those already published are skipped."""
        for row in await self._rest.signed("GET", "/fills", {"limit": 1000}):
            market = self._record_of(str(row["symbol"]))
            if market is not None:
                self._publish_fill_once(fill_from_wire(self.name, row, market))
