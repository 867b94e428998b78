"""The exchange client contract (DESIGN.md §4) over Backpack's perpetual futures.

REST at https://api.backpack.exchange, WebSocket at wss://ws.backpack.exchange (Backpack API
docs, "Introduction"); Backpack has no public testnet, so ``settings.testnet`` needs explicit
``base_url``/``ws_url`` options. Credentials: ``api_key`` (base64 ED25519 public key) and
``api_secret`` (base64 ED25519 seed), checked against each other when the client is built and
against the venue (``accountQuery``) on ``connect()``.

Options (``ClientSettings.options``): ``base_url`` / ``ws_url`` (tests point them at the fake),
``window_ms`` (X-Window, 5000), ``timeout`` (10 s), ``retries`` (3), ``streams`` (True: keep
the WebSocket for books and account events), ``requests_per_second`` (20).

Guarantees beyond the contract:

* those of :class:`~exchange_clients.native.base.NativeVenueClient` (ids refused once sent,
  publish-once, resync after a reconnection); fills missed while disconnected are recovered
  from the fill history (``/wapi/v1/history/fills``);
* our string client order ids travel as Backpack's uint32 ``clientId`` (see
  :mod:`.ids`); an id whose uint32 an order of this process already uses is refused
  (:class:`ClientIdCollision`) rather than sent;
* order writes are never retried blindly: a timeout or 5xx raises ``RequestTimeout`` and the
  caller resolves it with ``order_status(client_order_id=...)``;
* stop-losses rest on the venue (``supports_trigger_orders``): ``OrderType.STOP_MARKET`` is a
  reduce-only market trigger order (``triggerPrice`` + ``triggerQuantity``, triggered by the
  mark price), listed, queried and cancelled like any order and mapped back with its
  ``trigger_price``; its ``triggerPlaced`` / fill / ``triggerFailed`` events arrive on the order
  stream;
* :meth:`fees` is the account's own futures tier (``accountQuery``, source ``account``) and
  :meth:`market_stats` the 24 h quote volume (``tickers``) and open interest valued at the mark;
* leverage is account-wide on Backpack (``leverageLimit`` of ``PATCH /api/v1/account``):
  :meth:`set_leverage` changes it for every symbol and :meth:`get_leverage` returns the
  account's limit whatever the symbol.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.errors import (
    ConfigError,
    ExchangeError,
    OrderNotFound,
)
from core.logging_setup import get_logger
from exchange_clients.backpack.funding_adapter import funding_from_mark_price
from exchange_clients.backpack.ids import ClientIdMap
from exchange_clients.backpack.rest import BackpackRest, Params
from exchange_clients.backpack.signing import DEFAULT_WINDOW_MS, Ed25519Signer, WireValue
from exchange_clients.backpack.websocket import MAINNET_WS_URL, BackpackStream
from exchange_clients.backpack.wire import (
    EVENT_FILL,
    HISTORY_FILL,
    TRIGGER_BY,
    MarkPriceUpdate,
    PublicTrade,
    balance_from_collateral,
    fees_from_account,
    funding_interval_hours,
    mark_price_from_event,
    market_from_wire,
    market_stats_from_wire,
    order_from_event,
    order_from_wire,
    position_from_wire,
    side_to_wire,
    trade_from_event,
)
from exchange_clients.factory import register_client
from exchange_clients.native.rest import TimestampedRestClient
from exchange_clients.native.wire import to_decimal
from exchange_clients.streams import EventHub, Subscription
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
    OrderType,
    Position,
    TimeInForce,
)
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

MAINNET_REST_URL = "https://api.backpack.exchange"
MARKETS = "/api/v1/markets"
DEPTH = "/api/v1/depth"
MARK_PRICES = "/api/v1/markPrices"
TICKERS = "/api/v1/tickers"
OPEN_INTEREST = "/api/v1/openInterest"
ORDER = "/api/v1/order"
ORDERS = "/api/v1/orders"
POSITION = "/api/v1/position"
COLLATERAL = "/api/v1/capital/collateral"
ACCOUNT = "/api/v1/account"
FILL_HISTORY = "/wapi/v1/history/fills"
ORDER_HISTORY = "/wapi/v1/history/orders"
PAGE = 1000
"""Largest ``limit`` of the history endpoints."""


@register_client("backpack")
class BackpackClient(TimestampedRestClient[BackpackRest]):
    """One Backpack account (perpetuals, USDC collateral)."""

    venue = "backpack"
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        options = settings.options
        if settings.testnet and not options.get("base_url"):
            raise ConfigError(
                "backpack has no public testnet: set options base_url and ws_url, or testnet: false"
            )
        self._base_url = self._endpoint("base_url", MAINNET_REST_URL, MAINNET_REST_URL)
        self._ws_url = self._endpoint("ws_url", MAINNET_WS_URL, MAINNET_WS_URL)
        rate = float(str(options.get("requests_per_second", 20)))
        window = int(str(options.get("window_ms", DEFAULT_WINDOW_MS)))
        self._rest = BackpackRest(
            self._rest_transport(self._base_url, TokenBucket(rate, rate * 2)),
            self._make_signer(window),
        )
        self._intervals: dict[str, Decimal] = {}
        self._ids = ClientIdMap(self.name)
        self._client_of: dict[str, str] = {}  # venue order id -> our client order id
        self._venue_of: dict[str, str] = {}  # our client order id -> venue order id
        self._trades: EventHub[PublicTrade] = EventHub()
        self.mark_prices: dict[str, MarkPriceUpdate] = {}
        """Latest ``markPrice`` event per symbol (after :meth:`watch_market`)."""
        self.streamed_positions: dict[str, dict[str, Any]] = {}
        """Latest ``account.positionUpdate`` payload per symbol, as the venue sent it."""

    def _make_signer(self, window_ms: int) -> Ed25519Signer | None:
        pair = self._key_and_secret("to sign Backpack requests")
        if pair is None:
            return None
        return Ed25519Signer(*pair, window_ms=window_ms, venue=self.name)

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def stream(self) -> BackpackStream | None:
        return self._stream

    @property
    def _stream(self) -> BackpackStream | None:
        """The one WebSocket while connected with ``streams`` on."""
        return next((s for s in self._open_streams if isinstance(s, BackpackStream)), None)

    async def _check_credentials(self) -> None:
        await self._rest.signed("GET", ACCOUNT, "accountQuery")

    async def _start_streams(self) -> None:
        stream = BackpackStream(
            venue=self.name,
            ws_url=self._ws_url,
            snapshot=self._depth,
            signer=self._rest.signer,
            now_ms=self._rest.now_ms,
            on_private=self._on_private,
            on_public=self._on_public,
            on_reconnect=self._resync,
            proxy_url=self.settings.proxy_url,
        )
        await self._open_stream(stream)

    # --- market data --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        rows = await self._rest.public(MARKETS)
        markets: list[Market] = []
        for row in rows if isinstance(rows, list) else []:
            market = market_from_wire(row)
            if market is not None:
                markets.append(market)
                self._intervals[market.contract_id] = funding_interval_hours(row)
        return markets

    async def _depth(self, contract_id: str) -> Any:
        return await self._rest.public(DEPTH, {"symbol": contract_id}, weight=5)

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self.market(symbol)
        streamed = await self._streamed_book(self._stream, market, depth)
        if streamed is not None:
            return streamed
        data = await self._depth(market.contract_id)
        return self._book_snapshot(
            market,
            sorted(((to_decimal(p), to_decimal(q)) for p, q in data["bids"]), reverse=True)[:depth],
            sorted((to_decimal(p), to_decimal(q)) for p, q in data["asks"])[:depth],
            int(data["lastUpdateId"]),
        )

    async def funding_rate(self, symbol: str) -> FundingRate:
        market = await self.market(symbol)
        rows = await self._rest.public(MARK_PRICES, {"symbol": market.contract_id})
        for row in rows if isinstance(rows, list) else [rows]:
            if row.get("symbol") == market.contract_id:
                return self._funding(market, row)
        raise ExchangeError(f"{symbol}: no mark price / funding rate listed", venue=self.name)

    async def funding_rates(self) -> dict[str, FundingRate]:
        """Every perp's funding from one ``markPrices`` call."""
        await self.markets()
        rows = await self._rest.public(MARK_PRICES)
        result: dict[str, FundingRate] = {}
        for row in rows if isinstance(rows, list) else []:
            market = self._record_of(row.get("symbol"))
            if market is not None:
                result[market.symbol] = self._funding(market, row)
        return result

    def _funding(self, market: Market, row: Mapping[str, Any]) -> FundingRate:
        interval = self._intervals.get(market.contract_id, Decimal(1))
        return funding_from_mark_price(self.name, market, row, interval)

    async def fees(self, symbol: str) -> FeeSchedule:
        """The account's futures fee tier (``accountQuery``): Backpack's tiers are per account,
        the same on every perpetual."""
        await self.market(symbol)
        return fees_from_account(await self._rest.signed("GET", ACCOUNT, "accountQuery"))

    async def market_stats(self) -> dict[str, MarketStats]:
        """24 h quote volume (``tickers``) and open interest (``openInterest`` x mark price)
        of every perp: three public calls for all markets."""
        markets = await self.markets()
        tickers = await self._rest.public(TICKERS)
        interest = await self._rest.public(OPEN_INTEREST)
        marks = await self._rest.public(MARK_PRICES)

        def by_symbol(rows: Any) -> dict[str, Mapping[str, Any]]:
            return {str(r.get("symbol")): r for r in rows if isinstance(r, Mapping)}

        ticker_of, interest_of, mark_of = by_symbol(tickers), by_symbol(interest), by_symbol(marks)
        stats: dict[str, MarketStats] = {}
        for market in markets.values():
            contract = market.contract_id
            stats[market.symbol] = market_stats_from_wire(
                market, ticker_of.get(contract), interest_of.get(contract), mark_of.get(contract)
            )
        return stats

    async def watch_market(self, symbol: str) -> None:
        """Stream ``symbol``'s public trades (:meth:`trades`) and mark price (``mark_prices``)."""
        market = await self.market(symbol)
        if self._stream is None:
            raise ExchangeError("streams are disabled for this client", venue=self.name)
        await self._stream.subscribe_public(
            [f"trade.{market.contract_id}", f"markPrice.{market.contract_id}"]
        )

    def trades(self) -> Subscription[PublicTrade]:
        """Public trades of the watched markets from now on."""
        return self._trades.subscribe()

    # --- trading ------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self.market(request.symbol)
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        wire_id = self._ids.reserve(client_id)  # raises ClientIdCollision
        params: dict[str, WireValue] = {
            "symbol": market.contract_id,
            "side": side_to_wire(request.side),
            "orderType": "Limit" if request.order_type is OrderType.LIMIT else "Market",
            "quantity": market.to_venue_size(request.size),
            "clientId": wire_id,
        }
        if request.order_type is OrderType.STOP_MARKET:
            # A trigger order: triggerPrice with triggerQuantity in place of quantity (the API
            # refuses one without the other), triggered by the mark price.
            assert request.trigger_price is not None
            params["triggerQuantity"] = params.pop("quantity")
            params["triggerPrice"] = market.to_venue_price(request.trigger_price)
            params["triggerBy"] = TRIGGER_BY
        if request.order_type is OrderType.LIMIT:
            assert request.price is not None
            params["price"] = market.to_venue_price(request.price)
            params["timeInForce"] = "IOC" if request.time_in_force is TimeInForce.IOC else "GTC"
            if request.post_only:
                params["postOnly"] = True
        if request.reduce_only:
            params["reduceOnly"] = True
        self._claim_id(client_id)
        self._active_contracts.add(market.contract_id)
        data = await self._rest.signed("POST", ORDER, "orderExecute", params, idempotent=False)
        order = order_from_wire(data, market, client_id)
        self._track(order)
        return order

    def _client_id_of(self, venue_order_id: str, wire_client_id: object) -> str:
        """Our id for a venue order: known by venue id, by clientId, or the clientId itself."""
        known = self._client_of.get(venue_order_id)
        if known is not None:
            return known
        if wire_client_id is None or wire_client_id == "":
            return ""
        return self._ids.ours(wire_client_id) or str(wire_client_id)

    def _order(self, row: Mapping[str, Any], market: Market) -> Order:
        venue_id = str(row["id"])
        order = order_from_wire(row, market, self._client_id_of(venue_id, row.get("clientId")))
        return dataclasses.replace(order, fee_paid=self._ledger.fees(venue_id))

    def _track(self, order: Order) -> None:
        """Also remember both ids of our orders (the venue knows ours only as a uint32)."""
        if order.venue_order_id is not None and order.client_order_id:
            self._client_of[order.venue_order_id] = order.client_order_id
            self._venue_of[order.client_order_id] = order.venue_order_id
        super()._track(order)

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        return await self._cancel(symbol, {"orderId": venue_order_id})

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        return await self._cancel(symbol, {"clientId": self._ids.lookup(client_order_id)})

    async def _cancel(self, symbol: str, ident: Params) -> Order:
        market = await self.market(symbol)
        data = await self._rest.signed(
            "DELETE", ORDER, "orderCancel", {"symbol": market.contract_id, **ident}
        )
        order = self._order(data, market)
        self._track(order)
        return order

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """``DELETE /api/v1/orders`` (``orderCancelAll``) per market that has open orders."""
        symbols = [symbol] if symbol is not None else [o.symbol for o in await self.open_orders()]
        markets = {m.contract_id: m for m in [await self.market(s) for s in symbols]}
        cancelled: list[Order] = []
        for contract, market in sorted(markets.items()):
            rows = await self._rest.signed(
                "DELETE", ORDERS, "orderCancelAll", {"symbol": contract}, idempotent=True
            )
            for row in rows if isinstance(rows, list) else []:
                order = self._order(row, market)
                self._track(order)
                cancelled.append(order)
        return cancelled

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        params: dict[str, WireValue] = {}
        if symbol is not None:
            params["symbol"] = (await self.market(symbol)).contract_id
        else:
            await self.markets()
        rows = await self._rest.signed("GET", ORDERS, "orderQueryAll", params)
        orders: list[Order] = []
        for row in rows if isinstance(rows, list) else []:
            market = self._record_of(row.get("symbol"))
            if market is not None:
                orders.append(self._order(row, market))
        return orders

    async def _order_status(
        self, market: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        """The open order (``orderQuery``), else the finished one from the order history.

        ``GET /api/v1/order`` only returns orders resting on the book ("Get open order"), so
        finished orders are looked up in ``/wapi/v1/history/orders`` (``orderHistoryQueryAll``).
        """
        ident: dict[str, WireValue]
        if venue_order_id is not None:
            ident = {"orderId": venue_order_id}
        elif client_order_id is not None:
            ident = {"clientId": self._ids.lookup(client_order_id)}
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        try:
            row = await self._rest.signed(
                "GET", ORDER, "orderQuery", {"symbol": market.contract_id, **ident}
            )
        except OrderNotFound:
            row = await self._from_history(market, venue_order_id, client_order_id)
        order = self._order(row, market)
        if client_order_id is not None and order.client_order_id != client_order_id:
            # found by the deterministic clientId of this id (sent by another process, say)
            order = dataclasses.replace(order, client_order_id=client_order_id)
        return order

    async def _from_history(
        self, market: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Mapping[str, Any]:
        venue_id = venue_order_id or self._venue_of.get(client_order_id or "")
        params: dict[str, WireValue] = {"symbol": market.contract_id, "limit": PAGE}
        if venue_id is not None:
            params["orderId"] = venue_id
        rows = await self._rest.signed("GET", ORDER_HISTORY, "orderHistoryQueryAll", params)
        wanted = self._ids.lookup(client_order_id) if client_order_id else None
        for row in rows if isinstance(rows, list) else []:
            if venue_id is not None and str(row.get("id")) == venue_id:
                return dict(row)
            client_id = row.get("clientId")
            if venue_id is None and client_id is not None and int(str(client_id)) == wanted:
                return dict(row)
        which = (
            f"order id {venue_order_id}"
            if venue_order_id
            else f"client order id {client_order_id!r}"
        )
        raise OrderNotFound(f"{market.symbol}: no order with {which}", venue=self.name)

    # --- account ------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        await self.markets()
        rows = await self._rest.signed("GET", POSITION, "positionQuery")
        positions: list[Position] = []
        for row in rows if isinstance(rows, list) else []:
            market = self._record_of(row.get("symbol"))
            if market is not None:
                position = position_from_wire(row, market)
                if position is not None:
                    positions.append(position)
        return positions

    async def balance(self) -> Balance:
        return balance_from_collateral(
            await self._rest.signed("GET", COLLATERAL, "collateralQuery")
        )

    async def get_leverage(self, symbol: str) -> Decimal:
        """The account's ``leverageLimit``: Backpack leverage is account-wide, not per symbol."""
        await self.market(symbol)
        account = await self._rest.signed("GET", ACCOUNT, "accountQuery")
        return to_decimal(account["leverageLimit"])

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        """Set the account's ``leverageLimit`` (``accountUpdate``).

        Backpack applies one leverage limit to the whole account, so this changes it for every
        symbol; ``symbol`` only bounds it by that market's maximum.
        """
        self._check_leverage(await self.market(symbol), leverage)
        await self._rest.signed(
            "PATCH",
            ACCOUNT,
            "accountUpdate",
            {"leverageLimit": Decimal(int(leverage))},
            idempotent=True,
        )
        return await self.get_leverage(symbol)

    # --- streams ------------------------------------------------------------------------

    def _on_public(self, stream: str, data: dict[str, Any]) -> None:
        market = self._record_of(data.get("s"))
        if market is None:
            return
        if stream.startswith("trade."):
            self._trades.publish(trade_from_event(data, market))
        elif stream.startswith("markPrice."):
            self.mark_prices[market.symbol] = mark_price_from_event(data, market)

    def _on_private(self, stream: str, data: dict[str, Any]) -> None:
        stamp = data.get("E")
        if isinstance(stamp, int):
            self._last_event_ms = max(self._last_event_ms, stamp // 1000)
        market = self._record_of(data.get("s"))
        if market is None:
            return
        if stream.startswith("account.positionUpdate"):
            self.streamed_positions[market.symbol] = data
            return
        if not stream.startswith("account.orderUpdate") or "i" not in data:
            return
        venue_id = str(data["i"])
        client_id = self._client_id_of(venue_id, data.get("c"))
        if data.get("e") == "orderFill" and to_decimal(data.get("l", "0")) > 0:
            self._publish_fill_once(EVENT_FILL.read(self.name, data, market, client_id or None))
        order = order_from_event(data, market, client_id)
        self._publish_order_once(dataclasses.replace(order, fee_paid=self._ledger.fees(venue_id)))

    async def _fills_since(self, contract: str, start_ms: int) -> list[dict[str, Any]]:
        """Every fill-history row of ``contract`` from ``start_ms`` on, oldest first."""
        fills: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self._rest.signed(
                "GET",
                FILL_HISTORY,
                "fillHistoryQueryAll",
                {
                    "symbol": contract,
                    "from": start_ms,
                    "limit": PAGE,
                    "offset": offset,
                    "sortDirection": "Asc",
                },
            )
            rows = page if isinstance(page, list) else []
            fills += rows
            if len(rows) < PAGE:
                return fills
            offset += PAGE

    async def _recover_market_fills(self, market: Market, start_ms: int) -> None:
        """From the fill history (``fillHistoryQueryAll``)."""
        for row in await self._fills_since(market.contract_id, start_ms):
            client_id = self._client_id_of(str(row["orderId"]), row.get("clientId"))
            self._publish_fill_once(HISTORY_FILL.read(self.name, row, market, client_id or None))
