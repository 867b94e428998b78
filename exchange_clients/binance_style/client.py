"""The exchange client contract (DESIGN.md §4) over a Binance-style USD-M futures API.

Binance USD-M and Aster share this class; a venue supplies a :class:`VenueConfig` (hosts,
paths, funding default) and, when its auth differs from HMAC, a signer (``_make_signer``).

Options (``ClientSettings.options``): ``base_url`` / ``ws_url`` (override the hosts; tests
point them at the fakes), ``recv_window_ms`` (5000), ``listen_key_keepalive_seconds`` (1800),
``timeout`` (10 s), ``retries`` (3), ``streams`` (True: keep depth + user WebSockets).

Guarantees beyond the contract:

* those of :class:`~exchange_clients.native.base.NativeVenueClient` (ids refused once sent,
  publish-once, resync after a reconnection); the venue itself only rejects ids of *open*
  orders (``-4116``), and an id it rejects as duplicated raises too; after every user-stream
  reconnection, fills missed meanwhile are recovered from ``userTrades``;
* order POST/DELETE are never retried blindly: a timeout, a 5xx or ``-1007`` raises
  ``RequestTimeout`` and the caller resolves it with ``order_status(client_order_id=...)``;
* reduce-only STOP_MARKET stops rest on the venue, triggered by the mark price, in the venue's
  dialect (:mod:`.stops`: Binance's Algo Service, Aster's order endpoint); open orders, status,
  cancels (by venue or client id, also for a stop another process placed) and the user stream
  cover them, and a triggered stop's fills are reported under the stop's own venue id;
* ``fees`` is the account's tier (``commissionRate``), ``market_stats`` the 24 h quote volume
  and USD open interest, with the caching that keeps a scan's request weight low
  (:mod:`.economics`). Listing open orders without a symbol costs weight 40, plus 40 for the
  algo orders on Binance.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    UnknownSymbol,
    VenueUnavailable,
)
from core.logging_setup import get_logger
from exchange_clients.binance_style import economics
from exchange_clients.binance_style.economics import TtlCache
from exchange_clients.binance_style.funding_adapter import (
    funding_from_premium_index,
    intervals_from_funding_info,
)
from exchange_clients.binance_style.ids import check_client_id
from exchange_clients.binance_style.rest import BinanceStyleRest
from exchange_clients.binance_style.signing import HmacSigner, Params, RequestSigner
from exchange_clients.binance_style.stops import (
    Dialect,
    algo_id_of,
    algo_venue_id,
    is_algo_id,
    is_stop_event,
    is_stop_row,
    order_from_algo,
    order_from_algo_event,
    stop_from_event,
    stop_from_row,
    stop_params,
)
from exchange_clients.binance_style.websocket import (
    DEFAULT_KEEPALIVE_SECONDS,
    DepthStream,
    UserStream,
)
from exchange_clients.binance_style.wire import (
    DUPLICATE_CLIENT_ID_CODE,
    LEVERAGE_CODE,
    MARGIN_CODE,
    USER_TRADE_FILL,
    LotRule,
    VenueError,
    fill_from_event,
    market_from_symbol_info,
    market_lot_from_symbol_info,
    order_from_event,
    order_from_wire,
    side_to_wire,
)
from exchange_clients.native.rest import TimestampedRestClient
from exchange_clients.native.wire import to_decimal, wire_decimal
from exchange_clients.types import (
    ZERO,
    Balance,
    BookSnapshot,
    ClientSettings,
    FeeSchedule,
    FundingRate,
    Market,
    MarketStats,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

DEPTH_LIMITS = ((5, 2), (10, 2), (20, 2), (50, 2), (100, 5), (500, 10), (1000, 20))
"""``GET depth`` limits and their request weights ("Order Book")."""
FUNDING_INFO_TTL_SECONDS = 300.0

BINANCE_PATHS: Mapping[str, str] = {
    "time": "/fapi/v1/time",
    "exchange_info": "/fapi/v1/exchangeInfo",
    "depth": "/fapi/v1/depth",
    "premium_index": "/fapi/v1/premiumIndex",
    "funding_info": "/fapi/v1/fundingInfo",
    "order": "/fapi/v1/order",
    "open_orders": "/fapi/v1/openOrders",
    "all_open_orders": "/fapi/v1/allOpenOrders",
    "position_risk": "/fapi/v2/positionRisk",
    "balance": "/fapi/v2/balance",
    "leverage": "/fapi/v1/leverage",
    "leverage_bracket": "/fapi/v1/leverageBracket",
    "user_trades": "/fapi/v1/userTrades",
    "listen_key": "/fapi/v1/listenKey",
    "commission_rate": "/fapi/v1/commissionRate",
    "ticker_24hr": "/fapi/v1/ticker/24hr",
    "open_interest": "/fapi/v1/openInterest",
    "algo_order": "/fapi/v1/algoOrder",
    "open_algo_orders": "/fapi/v1/openAlgoOrders",
    "algo_open_orders": "/fapi/v1/algoOpenOrders",
}
"""Binance USD-M REST paths (v2 for positionRisk/balance: they carry ``leverage`` and the
``balance``/``crossUnPnl``/``availableBalance`` fields we read; the Algo Service for stops)."""
ALGO_PATH_NAMES = ("algo_order", "open_algo_orders", "algo_open_orders")


@dataclass(frozen=True)
class VenueConfig:
    """What differs between Binance-style venues."""

    rest_url: str
    ws_url: str
    testnet_rest_url: str
    testnet_ws_url: str
    paths: Mapping[str, str] = field(default_factory=lambda: dict(BINANCE_PATHS))
    default_funding_interval_hours: Decimal = Decimal(8)
    request_weight_per_minute: int = 2400
    orders_per_minute: int = 1200
    trigger_dialect: Dialect = "algo"
    """Where STOP_MARKET orders go: Binance's Algo Service, or the order endpoint (Aster)."""

    def path(self, name: str) -> str:
        return self.paths[name]


class BinanceStyleClient(TimestampedRestClient[BinanceStyleRest]):
    """One account on a Binance-style futures venue."""

    config: ClassVar[VenueConfig]
    supports_trigger_orders: ClassVar[bool] = True

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        options = settings.options
        config = self._venue_config()
        self._paths = config.paths
        self._base_url = self._endpoint("base_url", config.rest_url, config.testnet_rest_url)
        self._ws_url = self._endpoint("ws_url", config.ws_url, config.testnet_ws_url)
        self._recv_window_ms = int(str(options.get("recv_window_ms", 5000)))
        self._keepalive_seconds = float(
            str(options.get("listen_key_keepalive_seconds", DEFAULT_KEEPALIVE_SECONDS))
        )
        self._rest = BinanceStyleRest(
            self._rest_transport(
                self._base_url, TokenBucket.per_minute(config.request_weight_per_minute)
            ),
            self._make_signer(),
            time_path=self._paths["time"],
            orders_limiter=TokenBucket.per_minute(config.orders_per_minute),
        )
        self._market_lots: dict[str, LotRule] = {}
        self._intervals: dict[str, Decimal] = {}
        self._intervals_at = 0.0
        self._depth: DepthStream | None = None
        self._user: UserStream | None = None
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id
        self._stops: dict[str, str] = {}  # client order id -> venue order id of a stop
        self._fees: TtlCache[FeeSchedule] = TtlCache(economics.FEES_TTL_SECONDS)
        self._volumes: TtlCache[dict[str, Decimal]] = TtlCache(economics.STATS_TTL_SECONDS)
        self._marks: TtlCache[dict[str, Decimal]] = TtlCache(economics.STATS_TTL_SECONDS)
        self._open_interest: TtlCache[Decimal] = TtlCache(economics.OPEN_INTEREST_TTL_SECONDS)

    # --- venue specifics (overridden by subclasses) ---------------------------------------

    def _venue_config(self) -> VenueConfig:
        return type(self).config

    def _make_signer(self) -> RequestSigner | None:
        """HMAC from ``api_key``/``api_secret``; ``None`` (public data only) without them."""
        pair = self._key_and_secret("for HMAC signing")
        if pair is None:
            return None
        return HmacSigner(*pair, recv_window_ms=self._recv_window_ms)

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def depth_stream(self) -> DepthStream | None:
        return self._depth

    @property
    def user_stream(self) -> UserStream | None:
        return self._user

    async def _start_streams(self) -> None:
        self._depth = DepthStream(
            venue=self.name,
            ws_url=self._ws_url,
            snapshot=self._stream_snapshot,
            proxy_url=self.settings.proxy_url,
        )
        await self._depth.start()
        if self._rest.signer is not None:
            self._user = UserStream(
                rest=self._rest,
                ws_url=self._ws_url,
                listen_key_path=self._paths["listen_key"],
                on_event=self._on_user_event,
                on_reconnect=self._resync,
                keepalive_seconds=self._keepalive_seconds,
                proxy_url=self.settings.proxy_url,
            )
            await self._user.start()

    async def _stop_streams(self) -> None:
        if self._user is not None:
            await self._user.stop()
            self._user = None
        if self._depth is not None:
            await self._depth.stop()
            self._depth = None

    # --- market data --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        info = await self._rest.public(self._paths["exchange_info"])
        self._apply_rate_limits(info.get("rateLimits", []))
        brackets = await self._max_leverages()
        markets: list[Market] = []
        for row in info.get("symbols", []):
            market = market_from_symbol_info(row, brackets.get(str(row.get("symbol"))))
            lot = market_lot_from_symbol_info(row)
            if market is not None:
                markets.append(market)
                if lot is not None:
                    self._market_lots[market.contract_id] = lot
        return markets

    def _apply_rate_limits(self, limits: list[Mapping[str, Any]]) -> None:
        """Budgets from ``exchangeInfo.rateLimits`` (per-minute ones) replace the defaults."""
        for limit in limits:
            if limit.get("interval") != "MINUTE" or int(limit.get("intervalNum", 1)) != 1:
                continue
            budget = float(limit["limit"])
            if limit.get("rateLimitType") == "REQUEST_WEIGHT":
                self._rest.transport.limiter = TokenBucket.per_minute(budget)
            elif limit.get("rateLimitType") == "ORDERS":
                self._rest.orders_limiter = TokenBucket.per_minute(budget)

    async def _max_leverages(self) -> dict[str, Decimal]:
        """``{contract: max initial leverage}`` from ``leverageBracket`` (needs credentials)."""
        if self._rest.signer is None:
            return {}
        try:
            rows = await self._rest.signed("GET", self._paths["leverage_bracket"])
        except AuthenticationFailed:
            raise
        except ExchangeError as exc:
            log.warning("leverage_brackets_unavailable", venue=self.name, error=str(exc))
            return {}
        result: dict[str, Decimal] = {}
        for row in rows if isinstance(rows, list) else [rows]:
            levels = [to_decimal(b["initialLeverage"]) for b in row.get("brackets", [])]
            if levels:
                result[str(row["symbol"])] = max(levels)
        return result

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self.market(symbol)
        book = None
        if self._depth is not None:
            try:
                book = await self._depth.book(market.contract_id)
            except VenueUnavailable:  # stream down or resyncing: answer from REST meanwhile
                book = None
        if book is not None and not book.needs_resync:
            bids, asks = book.depth(depth)
            return self._book_snapshot(market, bids, asks, book.sequence)
        limit = next((n for n, _ in DEPTH_LIMITS if n >= depth), 1000)
        data = await self._rest_depth(market.contract_id, limit)
        return self._book_snapshot(
            market,
            [(to_decimal(p), to_decimal(q)) for p, q in data["bids"][:depth]],
            [(to_decimal(p), to_decimal(q)) for p, q in data["asks"][:depth]],
            int(data["lastUpdateId"]),
        )

    async def _rest_depth(self, contract_id: str, limit: int) -> Any:
        weight = next((w for n, w in DEPTH_LIMITS if n >= limit), 20)
        return await self._rest.public(
            self._paths["depth"], [("symbol", contract_id), ("limit", str(limit))], weight=weight
        )

    async def _stream_snapshot(self, contract_id: str) -> Any:
        return await self._rest_depth(contract_id, 1000)

    async def _funding_intervals(self) -> dict[str, Decimal]:
        if (
            not self._intervals_at
            or time.monotonic() - self._intervals_at > FUNDING_INFO_TTL_SECONDS
        ):
            rows = await self._rest.public(self._paths["funding_info"])
            self._intervals = intervals_from_funding_info(rows if isinstance(rows, list) else [])
            self._intervals_at = time.monotonic()
        return self._intervals

    def _interval(self, intervals: Mapping[str, Decimal], market: Market) -> Decimal:
        default = self._venue_config().default_funding_interval_hours
        return intervals.get(market.contract_id, default)

    async def funding_rate(self, symbol: str) -> FundingRate:
        market = await self.market(symbol)
        row = await self._rest.public(
            self._paths["premium_index"], [("symbol", market.contract_id)]
        )
        intervals = await self._funding_intervals()
        return funding_from_premium_index(self.name, market, row, self._interval(intervals, market))

    async def funding_rates(self) -> dict[str, FundingRate]:
        """Every market from one ``premiumIndex`` call (no symbol) plus ``fundingInfo``."""
        await self.markets()
        rows = await self._rest.public(self._paths["premium_index"], weight=10)
        intervals = await self._funding_intervals()
        result: dict[str, FundingRate] = {}
        for row in rows if isinstance(rows, list) else [rows]:
            market = self._record_of(str(row.get("symbol")))
            if market is not None:
                result[market.symbol] = funding_from_premium_index(
                    self.name, market, row, self._interval(intervals, market)
                )
        return result

    # --- economics (see economics.py for the request weights and caching) ----------------

    async def fees(self, symbol: str) -> FeeSchedule:
        """The account's tier on ``symbol`` from ``commissionRate`` (signed, weight 20)."""
        market = await self.market(symbol)
        cached = self._fees.get(market.contract_id)
        if cached is not None:
            return cached
        if self._rest.signer is None:
            raise AuthenticationFailed(
                "fees are the account's own tier (commissionRate): credentials are needed",
                venue=self.name,
            )
        row = await self._rest.signed(
            "GET", self._paths["commission_rate"], [("symbol", market.contract_id)], weight=20
        )
        schedule = economics.fee_schedule(row)
        self._fees.put(market.contract_id, schedule)
        return schedule

    async def market_stats(self) -> dict[str, MarketStats]:
        """24 h quote volume of every market, and open interest in USD where the venue has
        the endpoint (``None`` where it has not)."""
        markets = await self.markets()
        volumes = await self._quote_volumes()
        interest: dict[str, Decimal] = {}
        if "open_interest" in self._paths:
            interest = await self._open_interest_usd(list(markets.values()))
        return {
            symbol: MarketStats(
                symbol=symbol,
                volume_24h_usd=volumes.get(market.contract_id),
                open_interest_usd=interest.get(market.contract_id),
            )
            for symbol, market in markets.items()
        }

    async def _quote_volumes(self) -> dict[str, Decimal]:
        cached = self._volumes.get("all")
        if cached is None:
            rows = await self._rest.public(self._paths["ticker_24hr"], weight=40)
            cached = economics.quote_volumes(rows if isinstance(rows, list) else [rows])
            self._volumes.put("all", cached)
        return cached

    async def _mark_prices(self) -> dict[str, Decimal]:
        cached = self._marks.get("all")
        if cached is None:
            rows = await self._rest.public(self._paths["premium_index"], weight=10)
            cached = economics.mark_prices(rows if isinstance(rows, list) else [rows])
            self._marks.put("all", cached)
        return cached

    async def _open_interest_usd(self, markets: list[Market]) -> dict[str, Decimal]:
        by_contract = {m.contract_id: m for m in markets}
        result: dict[str, Decimal] = {}
        for contract in by_contract:
            value = self._open_interest.get(contract)
            if value is not None:
                result[contract] = value
        stale = [contract for contract in by_contract if contract not in result]
        if stale:
            marks = await self._mark_prices()

            async def fetch(contract: str) -> None:
                mark = marks.get(contract)
                if mark is None:
                    return
                row = await self._rest.public(
                    self._paths["open_interest"], [("symbol", contract)], weight=1
                )
                contracts = to_decimal(row["openInterest"])
                usd = economics.open_interest_usd(contracts, mark, by_contract[contract])
                self._open_interest.put(contract, usd)
                result[contract] = usd

            await economics.refresh_bounded(stale, fetch, economics.OPEN_INTEREST_CONCURRENCY)
        return result

    # --- trading ------------------------------------------------------------------------

    @property
    def trigger_dialect(self) -> Dialect:
        return self._venue_config().trigger_dialect

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self.market(request.symbol)
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        check_client_id(client_id, venue=self.name)
        if request.order_type is OrderType.MARKET:
            self._check_market_lot(request, market)
        if request.order_type is OrderType.STOP_MARKET:
            dialect = self.trigger_dialect
            path = self._paths["algo_order" if dialect == "algo" else "order"]
            params = stop_params(request, market, dialect)
        else:
            path, params = self._paths["order"], self._order_params(request, market)
        self._claim_id(client_id)
        self._active_contracts.add(market.contract_id)
        try:
            data = await self._rest.signed(
                "POST", path, params, weight=0, idempotent=False, order=True
            )
        except VenueError as exc:
            if exc.code == DUPLICATE_CLIENT_ID_CODE:
                raise DuplicateClientOrderId(client_id, venue=self.name) from None
            if exc.code == MARGIN_CODE:
                raise await self._margin_error(request, market, exc) from None
            raise
        order = self._order_of(data, market)
        self._track(order)
        return order

    def _order_of(self, data: Mapping[str, Any], market: Market) -> Order:
        """Any REST order answer: an algo order, a stop on the order endpoint, or a plain one.
        Stops are remembered by client id (cancel and status then know where to ask)."""
        if "algoId" in data:
            order = order_from_algo(data, market)
        elif is_stop_row(data):
            order = stop_from_row(data, market)
        else:
            return order_from_wire(data, market)
        if order.venue_order_id is not None and order.client_order_id:
            self._stops[order.client_order_id] = order.venue_order_id
        return order

    def _check_market_lot(self, request: OrderRequest, market: Market) -> None:
        """Market orders obey ``MARKET_LOT_SIZE``, which may be coarser and lower-capped."""
        lot = self._market_lots.get(market.contract_id)
        if lot is None:
            return
        quantity = market.to_venue_size(request.size)
        if quantity % lot.step or not lot.min_qty <= quantity <= lot.max_qty:
            raise InvalidOrder(
                f"{request.symbol}: market order size {request.size} is outside the market lot "
                f"rule (step {market.from_venue_size(lot.step)}, "
                f"{market.from_venue_size(lot.min_qty)} to {market.from_venue_size(lot.max_qty)})",
                venue=self.name,
            )

    def _order_params(self, request: OrderRequest, market: Market) -> Params:
        params: list[tuple[str, str]] = [
            ("symbol", market.contract_id),
            ("side", side_to_wire(request.side)),
            ("type", "MARKET" if request.order_type is OrderType.MARKET else "LIMIT"),
            ("quantity", wire_decimal(market.to_venue_size(request.size))),
        ]
        if request.order_type is OrderType.LIMIT:
            assert request.price is not None
            tif = "GTX" if request.post_only else request.time_in_force.value.upper()
            params += [
                ("price", wire_decimal(market.to_venue_price(request.price))),
                ("timeInForce", tif),
            ]
        if request.reduce_only:
            params.append(("reduceOnly", "true"))
        params += [("newClientOrderId", request.client_order_id), ("newOrderRespType", "RESULT")]
        return params

    async def _margin_error(
        self, request: OrderRequest, market: Market, original: VenueError
    ) -> InsufficientMargin:
        """``-2019`` as :class:`InsufficientMargin` with the figures (the venue gives none)."""
        try:
            leverage = await self.get_leverage(request.symbol)
            price = request.price
            if price is None:
                bid, ask = await self.best_bid_ask(request.symbol)
                price = ask if request.side == "buy" else bid
            available = (await self.balance()).available
        except ExchangeError:
            return InsufficientMargin(venue=self.name, detail=str(original))
        return InsufficientMargin(request.size * price / leverage, available, venue=self.name)

    def _track(self, order: Order) -> None:
        """Also remember whose order it is (``userTrades`` rows carry no client id)."""
        if order.venue_order_id is not None and order.client_order_id:
            self._client_ids[order.venue_order_id] = order.client_order_id
        super()._track(order)

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        if is_algo_id(venue_order_id):
            return await self._cancel_algo(symbol, ("algoId", algo_id_of(venue_order_id)))
        return await self._cancel(symbol, [("orderId", venue_order_id)])

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        ident = ("clientAlgoId", client_order_id)
        if is_algo_id(self._stops.get(client_order_id, "")):
            return await self._cancel_algo(symbol, ident)
        try:
            return await self._cancel(symbol, [("origClientOrderId", client_order_id)])
        except OrderNotFound:
            if self.trigger_dialect != "algo":
                raise
            return await self._cancel_algo(symbol, ident)  # a stop this process did not place

    async def _cancel(self, symbol: str, ident: list[tuple[str, str]]) -> Order:
        market = await self.market(symbol)
        data = await self._rest.signed(
            "DELETE",
            self._paths["order"],
            [("symbol", market.contract_id), *ident],
            idempotent=False,
            order=False,
        )
        order = self._order_of(data, market)
        self._track(order)
        return order

    async def _cancel_algo(self, symbol: str, ident: tuple[str, str]) -> Order:
        """``DELETE algoOrder`` answers only ids and a code: the order is read back after."""
        market = await self.market(symbol)
        await self._rest.signed(
            "DELETE",
            self._paths["algo_order"],
            [("symbol", market.contract_id), ident],
            idempotent=False,
        )
        order = await self._algo_status(market, ident)
        self._track(order)
        return order

    async def _algo_status(self, market: Market, ident: tuple[str, str]) -> Order:
        data = await self._rest.signed(
            "GET", self._paths["algo_order"], [("symbol", market.contract_id), ident]
        )
        order = self._order_of(data, market)
        return dataclasses.replace(order, fee_paid=self._ledger.fees(order.venue_order_id))

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """``DELETE allOpenOrders`` per symbol that has open orders.

        The venue answers with a bare acknowledgement, so the orders returned are the open
        orders as listed just before, marked cancelled (their fills, if any, arrive as events).
        """
        resting = await self.open_orders(symbol)
        cancelled: list[Order] = []
        for contract in sorted({(await self.market(o.symbol)).contract_id for o in resting}):
            await self._rest.signed(
                "DELETE", self._paths["all_open_orders"], [("symbol", contract)], idempotent=True
            )
        algo = {o.symbol for o in resting if is_algo_id(o.venue_order_id or "")}
        for contract in sorted({(await self.market(s)).contract_id for s in algo}):
            await self._rest.signed(
                "DELETE", self._paths["algo_open_orders"], [("symbol", contract)], idempotent=True
            )
        for order in resting:
            final = dataclasses.replace(order, status=OrderStatus.CANCELLED)
            self._track(final)
            cancelled.append(final)
        return cancelled

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        params: list[tuple[str, str]] = []
        if symbol is not None:
            params.append(("symbol", (await self.market(symbol)).contract_id))
        else:
            await self.markets()
        weight = 1 if symbol else 40
        rows = list(
            await self._rest.signed("GET", self._paths["open_orders"], params, weight=weight)
        )
        if self.trigger_dialect == "algo":  # stops rest in the Algo Service, listed apart
            rows += await self._rest.signed(
                "GET", self._paths["open_algo_orders"], params, weight=weight
            )
        orders: list[Order] = []
        for row in rows:
            market = self._record_of(str(row["symbol"]))
            if market is not None:
                orders.append(self._order_of(row, market))
        return orders

    async def _order_status(
        self, market: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        algo = self.trigger_dialect == "algo"
        if venue_order_id is not None:
            if is_algo_id(venue_order_id):
                return await self._algo_status(market, ("algoId", algo_id_of(venue_order_id)))
            ident = ("orderId", venue_order_id)
        elif client_order_id is not None:
            if is_algo_id(self._stops.get(client_order_id, "")):
                return await self._algo_status(market, ("clientAlgoId", client_order_id))
            ident = ("origClientOrderId", client_order_id)
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        try:
            data = await self._rest.signed(
                "GET", self._paths["order"], [("symbol", market.contract_id), ident]
            )
        except OrderNotFound:
            if not algo or client_order_id is None:
                raise
            return await self._algo_status(market, ("clientAlgoId", client_order_id))
        if algo and client_order_id is not None and is_stop_row(data):
            # the market order a triggered algo stop sent: the stop itself is the algo order
            return await self._algo_status(market, ("clientAlgoId", client_order_id))
        order = self._order_of(data, market)
        return dataclasses.replace(order, fee_paid=self._ledger.fees(order.venue_order_id))

    # --- account ------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        await self.markets()
        rows = await self._rest.signed("GET", self._paths["position_risk"], weight=5)
        positions: list[Position] = []
        for row in rows:
            market = self._record_of(str(row.get("symbol")))
            amount = to_decimal(row.get("positionAmt", "0"))
            if market is None or amount == 0:
                continue
            size = market.from_venue_size(amount)
            mark = market.from_venue_price(to_decimal(row["markPrice"]))
            liquidation = to_decimal(row.get("liquidationPrice", "0"))
            leverage = to_decimal(row["leverage"]) if "leverage" in row else None
            positions.append(
                Position(
                    symbol=market.symbol,
                    size=size,
                    entry_price=market.from_venue_price(to_decimal(row["entryPrice"])),
                    mark_price=mark,
                    liquidation_price=(
                        market.from_venue_price(liquidation) if liquidation > 0 else None
                    ),
                    unrealized_pnl=to_decimal(row.get("unRealizedProfit", "0")),
                    leverage=leverage,
                    margin=abs(size) * mark / leverage if leverage else None,
                )
            )
        return positions

    async def balance(self) -> Balance:
        rows = await self._rest.signed("GET", self._paths["balance"], weight=5)
        row = next((r for r in rows if r.get("asset") == "USDT"), None)
        if row is None:
            return Balance(wallet=ZERO, unrealized_pnl=ZERO, margin_used=ZERO, asset="USDT")
        wallet = to_decimal(row["balance"])
        unrealized = to_decimal(row.get("crossUnPnl", "0"))
        available = to_decimal(row.get("availableBalance", "0"))
        return Balance.from_available(wallet, unrealized, available, asset="USDT")

    async def get_leverage(self, symbol: str) -> Decimal:
        market = await self.market(symbol)
        rows = await self._rest.signed(
            "GET", self._paths["position_risk"], [("symbol", market.contract_id)], weight=5
        )
        for row in rows:
            if row.get("symbol") == market.contract_id and "leverage" in row:
                return to_decimal(row["leverage"])
        raise UnknownSymbol(f"no leverage reported for {symbol}", venue=self.name)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        market = await self.market(symbol)
        self._check_leverage(market, leverage)
        try:
            answer = await self._rest.signed(
                "POST",
                self._paths["leverage"],
                [("symbol", market.contract_id), ("leverage", str(int(leverage)))],
                idempotent=True,
            )
        except VenueError as exc:
            if exc.code == LEVERAGE_CODE:
                raise ExchangeError(f"{symbol}: {exc}", venue=None) from None
            raise
        return to_decimal(answer["leverage"])

    # --- user stream ----------------------------------------------------------------------

    def _on_user_event(self, event: dict[str, Any]) -> None:
        stamp = event.get("E")
        if isinstance(stamp, int):
            self._last_event_ms = max(self._last_event_ms, stamp)
        if not isinstance(event.get("o"), dict):
            return
        if event.get("e") == "ORDER_TRADE_UPDATE":
            self._on_order_event(event["o"])
        elif event.get("e") == "ALGO_UPDATE":
            self._on_algo_event(event["o"])

    def _on_order_event(self, o: dict[str, Any]) -> None:
        market = self._record_of(str(o.get("s")))
        if market is None:
            return
        stop = is_stop_event(o)
        client_id = str(o.get("c", ""))
        venue_id = self._stop_venue_id(client_id, str(o["i"])) if stop else str(o["i"])
        if o.get("x") == "TRADE" and to_decimal(o.get("l", "0")) > 0:
            fill = fill_from_event(self.name, o, market)
            self._publish_fill_once(dataclasses.replace(fill, venue_order_id=venue_id))
        fees = self._ledger.fees(venue_id)
        if stop:
            self._publish_order_once(stop_from_event(o, market, venue_id, fees))
        else:
            self._publish_order_once(order_from_event(o, market, fees))

    def _stop_venue_id(self, client_id: str, order_id: str) -> str:
        """The id a stop is known by: its algo id when the order is what it triggered."""
        self._client_ids[order_id] = client_id
        return self._stops.get(client_id, order_id)

    def _on_algo_event(self, o: dict[str, Any]) -> None:
        """``ALGO_UPDATE``: a stop's own lifecycle in the Algo Service (fills come as the
        triggered order's ``ORDER_TRADE_UPDATE``, under the same client id)."""
        market = self._record_of(str(o.get("s")))
        if market is None or "aid" not in o:
            return
        venue_id = algo_venue_id(o["aid"])
        client_id = str(o.get("caid", ""))
        if client_id:
            self._stops[client_id] = venue_id
        if o.get("ai"):
            self._client_ids[str(o["ai"])] = client_id
        order = order_from_algo_event(o, market, self._ledger.fees(venue_id))
        self._publish_order_once(order)

    async def _trades_since(self, contract: str, start_ms: int) -> list[dict[str, Any]]:
        """Every ``userTrades`` row from ``start_ms`` on, paging by ``fromId`` past 1,000."""
        params = [("symbol", contract), ("startTime", str(start_ms)), ("limit", "1000")]
        trades: list[dict[str, Any]] = []
        while True:
            page = await self._rest.signed("GET", self._paths["user_trades"], params, weight=5)
            trades += page
            if len(page) < 1000:
                return sorted(trades, key=lambda t: int(t["id"]))
            last = max(int(t["id"]) for t in page)
            params = [("symbol", contract), ("fromId", str(last + 1)), ("limit", "1000")]

    async def _recover_market_fills(self, market: Market, start_ms: int) -> None:
        """From ``userTrades`` (after a user-stream reconnect)."""
        for trade in await self._trades_since(market.contract_id, start_ms):
            order_id = str(trade["orderId"])
            client_id = self._client_ids.get(order_id)
            if client_id is None:
                order = await self.order_status(market.symbol, venue_order_id=order_id)
                client_id = order.client_order_id
                self._client_ids[order_id] = client_id
            fill = USER_TRADE_FILL.read(self.name, trade, market, client_id)
            venue_id = self._stops.get(client_id, order_id)  # a triggered stop's fills
            self._publish_fill_once(dataclasses.replace(fill, venue_order_id=venue_id))
