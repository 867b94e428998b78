"""The exchange client contract (DESIGN.md §4) over EdgeX's V2 perpetuals API.

REST at https://edgex-prod-v2.edgex.exchange, WebSockets at
wss://edgex-quote-prod-v2.edgex.exchange (V2 docs, "WebSocket API > Production Access
Domains"); the test network at https://testnet.edgex.exchange and
wss://quote-testnet.edgex.exchange (the hosts the official SDK's integration tests use,
``tests/integration/config.py``). Credentials: ``account_id`` (public), ``api_key``,
``api_secret``, ``api_passphrase`` (the HMAC request headers) and ``trading_private_key`` (the
secp256k1 key that signs orders, EIP-712); all are checked on ``connect()`` (a signed
``getAccountById``), never echoed.

Options (``ClientSettings.options``): ``base_url`` / ``ws_url`` (tests point them at the fake),
``timeout`` (10 s), ``retries`` (3), ``rate_limit_per_minute`` (600), ``streams`` (True: the
private stream for fills and order states, the public one for books), ``market_fill_wait``
(2.0 s: how long ``place_order`` polls an immediate order's state until it is final).

Guarantees beyond the contract:

* those of :class:`~exchange_clients.native.base.NativeVenueClient` (ids refused once sent,
  publish-once, resync after a reconnection); fills missed while disconnected are recovered
  from ``getHistoryOrderFillTransactionPage``;
* each order is signed as the official SDK signs it (:mod:`.signing`): a market (or stop)
  order signs the SDK's worst price (10 x the oracle price rounded up to the tick for a buy,
  one tick for a sell) and travels with ``price`` 0;
* order writes are never retried blindly (a timeout raises and the caller resolves it with
  ``order_status(client_order_id=...)``);
* stops rest on the venue: ``OrderType.STOP_MARKET`` is a reduce-only ``STOP_MARKET`` order
  triggered by the oracle price (``triggerPriceType`` ``ORACLE_PRICE``);
* :meth:`fees` is the contract's published default maker/taker rates (``getMetaData``) and
  :meth:`market_stats` the 24 h turnover and open interest x oracle price of one
  ``getTicker`` call for every contract.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    OrderNotFound,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
)
from core.logging_setup import get_logger
from exchange_clients.edgex.funding_adapter import funding_from_wire
from exchange_clients.edgex.ids import to_wire
from exchange_clients.edgex.rest import EdgexRest
from exchange_clients.edgex.signing import (
    EXPIRY_WINDOW_MS,
    L1_OFFSET_MS,
    HmacSigner,
    OrderDomain,
    OrderSigner,
    order_amounts,
)
from exchange_clients.edgex.websocket import PrivateStream, PublicStream
from exchange_clients.edgex.wire import (
    ORDER_TYPE_WIRE,
    TRIGGER_PRICE_TYPE,
    EdgexContract,
    EdgexError,
    balance_from_asset,
    contracts_from_metadata,
    domain_from_metadata,
    fees_of,
    fill_from_wire,
    order_from_wire,
    positions_from_asset,
    side_to_wire,
    stats_from_ticker,
)
from exchange_clients.factory import register_client
from exchange_clients.native.rest import TimestampedRestClient
from exchange_clients.native.wire import optional_decimal, to_decimal, wire_decimal
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
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)

log = get_logger(__name__)

MAINNET_REST_URL = "https://edgex-prod-v2.edgex.exchange"
MAINNET_WS_URL = "wss://edgex-quote-prod-v2.edgex.exchange"
TESTNET_REST_URL = "https://testnet.edgex.exchange"
TESTNET_WS_URL = "wss://quote-testnet.edgex.exchange"
META = "/api/v2/public/meta/getMetaData"
DEPTH = "/api/v2/public/quote/getDepth"
TICKER = "/api/v2/public/quote/getTicker"
FUNDING = "/api/v2/public/funding/getLatestFundingRate"
CREATE = "/api/v2/private/order/createOrder"
CANCEL_BY_ID = "/api/v2/private/order/cancelOrderById"
CANCEL_BY_CLIENT_ID = "/api/v2/private/order/cancelOrderByClientOrderId"
CANCEL_ALL = "/api/v2/private/order/cancelAllOrder"
ACTIVE = "/api/v2/private/order/getActiveOrderPage"
BY_ID = "/api/v2/private/order/getOrderById"
BY_CLIENT_ID = "/api/v2/private/order/getOrderByClientOrderId"
FILLS = "/api/v2/private/order/getHistoryOrderFillTransactionPage"
ASSET = "/api/v2/private/account/getAccountAsset"
ACCOUNT = "/api/v2/private/account/getAccountById"
LEVERAGE = "/api/v2/private/account/updateLeverageSetting"
PAGE = 100
MARKET_BUY_ORACLE_MULTIPLE = Decimal(10)
"""A market buy signs 10 x the oracle price (the SDK's worst acceptable price)."""
DUPLICATE_CODE = "DUPLICATE_CLIENT_ORDER_ID"
"""The venue already holds an order under this ``clientOrderId``."""
REJECTED_POST_ONLY = "POST_ONLY"
"""A ``cancelReason`` containing this: the venue cancelled a post-only order that would trade."""


def _int_setting(settings: ClientSettings, name: str, venue: str) -> int:
    raw = settings.public.get(name)
    if raw is None and name in settings.secrets:
        raw = settings.secrets[name].reveal()
    if raw is None:
        raise AuthenticationFailed(f"no {name} configured", venue=venue)
    try:
        return int(str(raw))
    except ValueError:
        raise AuthenticationFailed(f"{name} must be an integer", venue=venue) from None


@register_client("edgex")
class EdgexClient(TimestampedRestClient[EdgexRest]):
    """One EdgeX account (USD collateral perpetuals)."""

    venue = "edgex"
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        options = settings.options
        # A configured URL may end in "/" (pydantic's URL type adds one); paths start with one.
        self._base_url = self._endpoint("base_url", MAINNET_REST_URL, TESTNET_REST_URL).rstrip("/")
        self._ws_url = self._endpoint("ws_url", MAINNET_WS_URL, TESTNET_WS_URL).rstrip("/")
        self._fill_wait = float(str(options.get("market_fill_wait", 2.0)))
        signer = self._make_signer()
        self._rest = EdgexRest(
            self._rest_transport(self._base_url, self._per_minute_limit(600)), signer
        )
        self.account_id: int | None = None
        self._order_signer: OrderSigner | None = None
        if signer is not None:
            self.account_id = _int_setting(settings, "account_id", self.name)
            key = settings.secrets.get("trading_private_key")
            if key is None:
                raise AuthenticationFailed(
                    "trading_private_key is needed to sign EdgeX orders", venue=self.name
                )
            self._order_signer = OrderSigner(key, venue=self.name)
        self._contracts: dict[str, EdgexContract] = {}
        self._index_prices: dict[str, Decimal] = {}
        self._domain: OrderDomain | None = None
        self._client_of: dict[str, str] = {}
        """Venue order id -> our client order id."""

    def _make_signer(self) -> HmacSigner | None:
        pair = self._key_and_secret("to sign EdgeX requests")
        if pair is None:
            return None
        passphrase = self.settings.secrets.get("api_passphrase")
        if passphrase is None:
            raise AuthenticationFailed("api_passphrase is needed with api_key", venue=self.name)
        return HmacSigner(*pair, passphrase)

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def private_stream(self) -> PrivateStream | None:
        return next((s for s in self._open_streams if isinstance(s, PrivateStream)), None)

    @property
    def public_stream(self) -> PublicStream | None:
        return next((s for s in self._open_streams if isinstance(s, PublicStream)), None)

    async def _check_credentials(self) -> None:
        await self._account()

    async def _start_streams(self) -> None:
        await self._open_stream(
            PublicStream(
                venue=self.name,
                ws_url=self._ws_url,
                now_ms=self._rest.now_ms,
                proxy_url=self.settings.proxy_url,
            )
        )
        if self._rest.signer is not None and self.account_id is not None:
            await self._open_stream(
                PrivateStream(
                    venue=self.name,
                    ws_url=self._ws_url,
                    account_id=self.account_id,
                    signer=self._rest.signer,
                    now_ms=self._rest.now_ms,
                    on_event=self._on_private,
                    on_reconnect=self._resync,
                    proxy_url=self.settings.proxy_url,
                )
            )

    def _account_param(self) -> dict[str, str]:
        if self.account_id is None:
            raise AuthenticationFailed("this call needs account credentials", venue=self.name)
        return {"accountId": str(self.account_id)}

    async def _account(self) -> Any:
        return await self._rest.private("GET", ACCOUNT, self._account_param())

    # --- market data --------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        meta = await self._rest.public(META)
        self._domain = domain_from_metadata(meta)
        contracts = contracts_from_metadata(meta)
        self._contracts = {c.contract_id: c for c in contracts}
        return [c.market for c in contracts]

    async def _contract(self, symbol: str) -> EdgexContract:
        market = await self.market(symbol)
        return self._contracts[market.contract_id]

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self.market(symbol)
        streamed = await self._streamed_book(self.public_stream, market, depth)
        if streamed is not None:
            return streamed
        level = 15 if depth <= 15 else 200
        rows = await self._rest.public(
            DEPTH, {"contractId": market.contract_id, "level": str(level)}
        )
        row = rows[0] if isinstance(rows, list) and rows else {}
        bids = [(to_decimal(x["price"]), to_decimal(x["size"])) for x in row.get("bids") or []]
        asks = [(to_decimal(x["price"]), to_decimal(x["size"])) for x in row.get("asks") or []]
        version = row.get("endVersion")
        return self._book_snapshot(
            market,
            sorted(bids, reverse=True)[:depth],
            sorted(asks)[:depth],
            int(str(version)) if version is not None else None,
        )

    async def funding_rate(self, symbol: str) -> FundingRate:
        contract = await self._contract(symbol)
        rows = await self._rest.public(FUNDING, {"contractId": contract.contract_id})
        for row in rows if isinstance(rows, list) else []:
            if str(row.get("contractId")) == contract.contract_id:
                return funding_from_wire(
                    self.name, contract.market, row, contract.funding_interval_minutes
                )
        raise ExchangeError(f"{symbol}: no funding rate listed", venue=self.name)

    async def funding_rates(self) -> dict[str, FundingRate]:
        """Every contract's funding from one ``getLatestFundingRate`` call."""
        await self.markets()
        rows = await self._rest.public(FUNDING)
        result: dict[str, FundingRate] = {}
        index: dict[str, Decimal] = {}
        for row in rows if isinstance(rows, list) else []:
            contract = self._contracts.get(str(row.get("contractId")))
            if contract is not None:
                result[contract.market.symbol] = funding_from_wire(
                    self.name, contract.market, row, contract.funding_interval_minutes
                )
                price = optional_decimal(row.get("indexPrice"))
                if price is not None:
                    index[contract.market.symbol] = contract.market.from_venue_price(price)
        self._index_prices = index
        return result

    def index_prices(self) -> dict[str, Decimal]:
        """Each contract's ``indexPrice`` from the last :meth:`funding_rates` read (the
        funding-rate service stores it beside the mark; no extra call)."""
        return dict(self._index_prices)

    async def fees(self, symbol: str) -> FeeSchedule:
        """The contract's published default rates (EdgeX has no per-account fee endpoint in
        its V2 docs; ``getMetaData``'s ``defaultMakerFeeRate``/``defaultTakerFeeRate``)."""
        return fees_of(await self._contract(symbol))

    async def market_stats(self) -> dict[str, MarketStats]:
        markets = await self.markets()
        rows = await self._rest.public(TICKER)
        by_contract = (
            {str(r.get("contractId")): r for r in rows if isinstance(r, Mapping)}
            if isinstance(rows, list)
            else {}
        )
        return {
            m.symbol: stats_from_ticker(m, by_contract.get(m.contract_id)) for m in markets.values()
        }

    async def _oracle_price(self, contract_id: str) -> Decimal:
        rows = await self._rest.public(TICKER, {"contractId": contract_id})
        row = rows[0] if isinstance(rows, list) and rows else {}
        price = to_decimal(row.get("oraclePrice") or "0")
        if price <= 0:
            raise ExchangeError(f"contract {contract_id}: no oracle price", venue=self.name)
        return price

    # --- trading ------------------------------------------------------------------------

    async def _signing_price(self, request: OrderRequest, contract: EdgexContract) -> Decimal:
        """The price an order signs: its limit, or the SDK's worst price for a market order."""
        market = contract.market
        if request.order_type is OrderType.LIMIT:
            assert request.price is not None
            return market.to_venue_price(request.price)
        tick = market.to_venue_price(market.tick_size)
        if request.side == "sell":
            return tick
        oracle = await self._oracle_price(contract.contract_id)
        steps = (oracle * MARKET_BUY_ORACLE_MULTIPLE / tick).to_integral_value(ROUND_CEILING)
        return steps * tick

    def _time_in_force(self, request: OrderRequest) -> str:
        if request.order_type is not OrderType.LIMIT:
            return "IMMEDIATE_OR_CANCEL"
        if request.post_only:
            return "POST_ONLY"
        return (
            "IMMEDIATE_OR_CANCEL"
            if request.time_in_force is TimeInForce.IOC
            else ("GOOD_TIL_CANCEL")
        )

    async def place_order(self, request: OrderRequest) -> Order:
        contract = await self._contract(request.symbol)
        market = contract.market
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        wire_id = to_wire(client_id, venue=self.name)
        signer = self._order_signer
        if signer is None or self._domain is None or self.account_id is None:
            raise AuthenticationFailed(
                "placing orders needs api_key/api_secret/api_passphrase, account_id and "
                "trading_private_key",
                venue=self.name,
            )
        size = market.to_venue_size(request.size)
        price = await self._signing_price(request, contract)
        expire = self._rest.now_ms() + EXPIRY_WINDOW_MS - L1_OFFSET_MS
        amounts = order_amounts(
            client_order_id=wire_id,
            account_id=self.account_id,
            size=size,
            price=price,
            is_buy=request.side == "buy",
            fee_rate=contract.signing_fee_rate,
            synthetic_resolution=contract.synthetic_resolution,
            collateral_resolution=contract.collateral_resolution,
            synthetic_asset=int(contract.contract_id),
            collateral_asset=contract.collateral_asset,
            expire_time_ms=expire,
        )
        body: dict[str, Any] = {
            "accountId": str(self.account_id),
            "contractId": contract.contract_id,
            "price": wire_decimal(price) if request.order_type is OrderType.LIMIT else "0",
            "size": wire_decimal(size),
            "type": ORDER_TYPE_WIRE[request.order_type],
            "side": side_to_wire(request.side),
            "timeInForce": self._time_in_force(request),
            "clientOrderId": wire_id,
            "expireTime": str(amounts.expire_time_ms),
            "l2Nonce": str(amounts.nonce),
            "l2Signature": signer.sign(self._domain, amounts),
            "l2ExpireTime": str(amounts.l2_expire_time_ms),
            "l2Value": str(amounts.value),
            "l2Size": wire_decimal(size),
            "l2LimitFee": str(amounts.limit_fee),
            "reduceOnly": request.reduce_only,
        }
        if request.order_type is OrderType.STOP_MARKET:
            assert request.trigger_price is not None
            body["triggerPrice"] = wire_decimal(market.to_venue_price(request.trigger_price))
            body["triggerPriceType"] = TRIGGER_PRICE_TYPE
        self._claim_id(client_id)
        self._active_contracts.add(contract.contract_id)
        try:
            data = await self._rest.private("POST", CREATE, body, idempotent=False)
        except EdgexError as exc:
            if exc.code == DUPLICATE_CODE:  # sent by another process (or before a restart)
                raise DuplicateClientOrderId(client_id, venue=self.name) from None
            raise
        venue_id = str(data["orderId"])
        self._client_of[venue_id] = client_id
        order = await self._settled(market, venue_id, client_id, request)
        self._track(order)
        return order

    async def _settled(
        self, market: Market, venue_id: str, client_id: str, request: OrderRequest
    ) -> Order:
        """The order's state after creation; an immediate order is polled (``market_fill_wait``)
        until final, and a post-only the venue cancelled for crossing raises.

        ``createOrder`` only acknowledges: an order the venue cannot list yet (still queued for
        matching) is reported as accepted and open, built from the request; its real state
        follows on the stream and ``order_status``."""
        immediate = request.order_type is OrderType.MARKET or (
            request.order_type is OrderType.LIMIT and request.time_in_force is TimeInForce.IOC
        )
        deadline = time.monotonic() + self._fill_wait
        while True:
            try:
                row = await self._fetch_one(BY_ID, {"orderIdList": venue_id})
            except OrderNotFound:
                if immediate and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                    continue
                return _accepted(request, venue_id)
            order = order_from_wire(row, market, client_id)
            reason = str(row.get("cancelReason") or "")
            if order.status.is_final and REJECTED_POST_ONLY in reason:
                raise PostOnlyWouldCross(
                    f"{market.symbol}: post-only order {client_id} would have traded ({reason})",
                    venue=self.name,
                )
            if order.status.is_final and "REDUCE_ONLY" in reason and order.filled_size == 0:
                raise ReduceOnlyRejected(
                    f"{market.symbol}: reduce-only order {client_id} cancelled ({reason})",
                    venue=self.name,
                )
            if not immediate or order.status.is_final or time.monotonic() >= deadline:
                return order
            await asyncio.sleep(0.05)

    async def _fetch_one(self, path: str, ident: Mapping[str, str]) -> Mapping[str, Any]:
        rows = await self._rest.private("GET", path, {**self._account_param(), **ident})
        if not isinstance(rows, list) or not rows:
            raise OrderNotFound(f"no order with {dict(ident)}", venue=self.name)
        row: Mapping[str, Any] = rows[0]
        return row

    def _order(self, row: Mapping[str, Any]) -> Order | None:
        contract = self._contracts.get(str(row.get("contractId")))
        if contract is None:
            return None
        venue_id = str(row["id"])
        client_id = self._client_of.get(venue_id) or str(row.get("clientOrderId") or "")
        if client_id:
            self._client_of[venue_id] = client_id
        return order_from_wire(row, contract.market, client_id)

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        market = await self.market(symbol)
        data = await self._rest.private(
            "POST",
            CANCEL_BY_ID,
            {**self._account_param(), "orderIdList": [venue_order_id]},
            idempotent=True,
        )
        self._check_cancel(data, venue_order_id, market)
        return await self._status(market, BY_ID, {"orderIdList": venue_order_id})

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        market = await self.market(symbol)
        wire_id = to_wire(client_order_id, venue=self.name)
        data = await self._rest.private(
            "POST",
            CANCEL_BY_CLIENT_ID,
            {**self._account_param(), "clientOrderIdList": [wire_id]},
            idempotent=True,
        )
        self._check_cancel(data, wire_id, market)
        order = await self._status(market, BY_CLIENT_ID, {"clientOrderIdList": wire_id})
        return order if order.client_order_id else _with_client_id(order, client_order_id)

    def _check_cancel(self, data: Any, key: str, market: Market) -> None:
        results = (data or {}).get("cancelResultMap") or {}
        outcome = str(results.get(key, "SUCCESS"))
        if outcome == "SUCCESS":
            return
        if "NOT_FOUND" in outcome or "FINISHED" in outcome:
            raise OrderNotFound(
                f"{market.symbol}: no open order {key} ({outcome})", venue=self.name
            )
        raise ExchangeError(
            f"{market.symbol}: cancel of {key} refused ({outcome})", venue=self.name
        )

    async def _status(self, market: Market, path: str, ident: Mapping[str, str]) -> Order:
        order = self._order(await self._fetch_one(path, ident))
        if order is None:
            raise OrderNotFound(f"{market.symbol}: order in an unknown contract", venue=self.name)
        self._track(order)
        return order

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        params: dict[str, Any] = self._account_param()
        if symbol is not None:
            params["filterContractIdList"] = [(await self.market(symbol)).contract_id]
        else:
            await self.markets()
        data = await self._rest.private("POST", CANCEL_ALL, params, idempotent=True)
        ids = sorted(
            key
            for key, value in ((data or {}).get("cancelResultMap") or {}).items()
            if value == "SUCCESS"
        )
        if not ids:
            return []
        rows = await self._rest.private(
            "GET", BY_ID, {**self._account_param(), "orderIdList": ",".join(ids)}
        )
        orders = [o for o in (self._order(r) for r in rows or []) if o is not None]
        for order in orders:
            self._track(order)
        return orders

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        params: dict[str, Any] = {**self._account_param(), "size": str(PAGE)}
        if symbol is not None:
            params["filterContractIdList"] = (await self.market(symbol)).contract_id
        else:
            await self.markets()
        orders: list[Order] = []
        while True:
            page = await self._rest.private("GET", ACTIVE, params)
            for row in (page or {}).get("dataList") or []:
                order = self._order(row)
                if order is not None:
                    orders.append(order)
            offset = (page or {}).get("nextPageOffsetData")
            if not offset:
                return orders
            params["offsetData"] = str(offset)

    async def _order_status(
        self, market: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        if venue_order_id is not None:
            return await self._status(market, BY_ID, {"orderIdList": venue_order_id})
        if client_order_id is None:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        wire_id = to_wire(client_order_id, venue=self.name)
        order = await self._status(market, BY_CLIENT_ID, {"clientOrderIdList": wire_id})
        return order if order.client_order_id else _with_client_id(order, client_order_id)

    # --- account ------------------------------------------------------------------------

    async def _asset(self) -> Any:
        return await self._rest.private("GET", ASSET, self._account_param())

    async def positions(self) -> list[Position]:
        await self.markets()
        by_contract = {c: k.market for c, k in self._contracts.items()}
        return positions_from_asset(await self._asset(), by_contract)

    async def balance(self) -> Balance:
        markets = await self.markets()
        quote = next(iter(markets.values())).quote if markets else "USD"
        return balance_from_asset(await self._asset(), quote)

    async def get_leverage(self, symbol: str) -> Decimal:
        contract = await self._contract(symbol)
        account = await self._account()
        settings = (account or {}).get("contractIdToTradeSetting") or {}
        chosen = settings.get(contract.contract_id) or {}
        if chosen.get("isSetMaxLeverage") and chosen.get("maxLeverage"):
            return to_decimal(chosen["maxLeverage"])
        default = (account or {}).get("defaultTradeSetting") or {}
        if default.get("maxLeverage"):
            return to_decimal(default["maxLeverage"])
        return contract.market.max_leverage

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        contract = await self._contract(symbol)
        self._check_leverage(contract.market, leverage)
        await self._rest.private(
            "POST",
            LEVERAGE,
            {
                **self._account_param(),
                "contractId": contract.contract_id,
                "leverage": str(int(leverage)),
            },
            idempotent=True,
        )
        return await self.get_leverage(symbol)

    # --- streams ------------------------------------------------------------------------

    def _on_private(self, content: Mapping[str, Any]) -> None:
        data = content.get("data") or {}
        orders: list[Order] = []
        for row in data.get("order") or []:
            stamp = row.get("updatedTime")
            if stamp:
                self._last_event_ms = max(self._last_event_ms, int(str(stamp)))
            order = self._order(row)
            if order is not None:
                orders.append(order)
        for row in data.get("orderFillTransaction") or []:
            contract = self._contracts.get(str(row.get("contractId")))
            if contract is None:
                continue
            client_id = self._client_of.get(str(row.get("orderId")))
            self._publish_fill_once(fill_from_wire(self.name, row, contract.market, client_id))
        for order in orders:
            self._publish_order_once(order)

    async def _recover_market_fills(self, market: Market, start_ms: int) -> None:
        """From ``getHistoryOrderFillTransactionPage`` (oldest first)."""
        params: dict[str, Any] = {
            **self._account_param(),
            "size": str(PAGE),
            "filterContractIdList": market.contract_id,
            "filterStartCreatedTimeInclusive": str(max(start_ms, 0)),
        }
        rows: list[Mapping[str, Any]] = []
        while True:
            page = await self._rest.private("GET", FILLS, params)
            rows += (page or {}).get("dataList") or []
            offset = (page or {}).get("nextPageOffsetData")
            if not offset:
                break
            params["offsetData"] = str(offset)
        for row in sorted(rows, key=lambda r: int(str(r.get("createdTime") or 0))):
            venue_id = str(row.get("orderId"))
            client_id = self._client_of.get(venue_id)
            if client_id is None:
                try:
                    found = self._order(await self._fetch_one(BY_ID, {"orderIdList": venue_id}))
                except OrderNotFound:
                    found = None
                client_id = found.client_order_id if found is not None else None
            self._publish_fill_once(fill_from_wire(self.name, row, market, client_id or None))


def _accepted(request: OrderRequest, venue_id: str) -> Order:
    """An order the venue acknowledged but does not list yet: open, nothing filled."""
    return Order(
        client_order_id=request.client_order_id,
        venue_order_id=venue_id,
        symbol=request.symbol,
        side=request.side,
        order_type=request.order_type,
        size=request.size,
        price=request.price if request.order_type is OrderType.LIMIT else None,
        status=OrderStatus.OPEN,
        post_only=request.post_only,
        reduce_only=request.reduce_only,
        time_in_force=request.time_in_force,
        trigger_price=request.trigger_price,
    )


def _with_client_id(order: Order, client_order_id: str) -> Order:
    return dataclasses.replace(order, client_order_id=client_order_id)
