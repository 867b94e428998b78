"""The exchange client contract (DESIGN.md §4) over GRVT's perpetuals.

Environments (grvt-pysdk ``grvt_ccxt_env``): ``prod`` (edge.grvt.io, market-data.grvt.io,
trades.grvt.io), ``testnet`` (the same under ``testnet.grvt.io``), ``staging`` and ``dev``
(under ``<env>.gravitymarkets.io``). ``settings.testnet`` picks testnet, else prod; the
``environment`` option names any of the four (and with it the EIP-712 chain id orders are
signed for). ``base_url`` / ``ws_url`` point all three REST roots / both streams at one host
(tests point them at the fake).

Credentials: ``api_key`` (the GRVT API key: it logs in, see :mod:`.rest`), ``private_key``
(the secp256k1 key registered for that API key: it signs every order) and ``sub_account_id``
(the trading account the key trades; it is signed into every order and named in every call).
Without ``api_key`` and ``private_key`` the client reads public data only.

Options: ``environment``, ``base_url``, ``ws_url``, ``timeout`` (10 s), ``retries`` (3),
``rate_limit_per_minute`` (1200), ``streams`` (True: the book and trade-data WebSockets).

Guarantees beyond the contract:

* those of :class:`~exchange_clients.native.base.NativeVenueClient` (ids refused once sent,
  publish-once, resync after a reconnection or a sequence gap of a private feed); fills missed
  meanwhile come from ``fill_history``;
* our client order ids travel as GRVT's uint64 ``client_order_id`` (see :mod:`.ids`);
* each order is signed with a fresh random uint32 nonce and an expiration 30 days less an hour
  ahead (GRVT's cap is 30 days; for a resting order the signature's expiry is the order's);
* order writes are never retried blindly: a timeout or 5xx raises ``RequestTimeout`` and the
  caller resolves it with ``order_status(client_order_id=...)``;
* stop-losses rest on the venue (``supports_trigger_orders``): ``OrderType.STOP_MARKET`` is a
  reduce-only immediate-or-cancel market order carrying ``metadata.trigger`` = STOP_LOSS on the
  mark price (GRVT's TP/SL metadata, outside the signed struct), listed, queried and cancelled
  like any order and mapped back with its ``trigger_price``;
* :meth:`fees` is GRVT's published Level 1 schedule (no account-tier endpoint is used), and
  :meth:`market_stats` reads one ticker per market (GRVT has no bulk ticker call).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ConfigError,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
)
from core.logging_setup import get_logger
from core.redaction import Secret
from core.tasks import TaskSupervisor
from exchange_clients.factory import register_client
from exchange_clients.grvt.funding_adapter import funding_from_ticker
from exchange_clients.grvt.ids import ClientIdMap, to_u64
from exchange_clients.grvt.rest import GrvtRest, Roots
from exchange_clients.grvt.signing import (
    CHAIN_IDS,
    MAX_EXPIRATION_NS,
    GrvtSigner,
    OrderToSign,
    SigningError,
    TimeInForceCode,
    order_leg,
)
from exchange_clients.grvt.websocket import GrvtStream
from exchange_clients.grvt.wire import (
    VENUE,
    balance_from_summary,
    fill_from_wire,
    funding_interval_hours,
    market_from_wire,
    market_stats_from_ticker,
    order_from_wire,
    position_from_wire,
    rejection,
)
from exchange_clients.native.base import ContractMarketsClient
from exchange_clients.native.wire import optional_decimal, to_decimal
from exchange_clients.types import (
    Balance,
    BookSnapshot,
    ClientSettings,
    FeeSchedule,
    Fill,
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
from networking.http import RestTransport

log = get_logger(__name__)

BOOK_STREAM = "v1.book.s"
PRIVATE_STREAMS = ("v1.order", "v1.fill", "v1.position")
BOOK_SELECTOR = "{instrument}@500-50"
"""Snapshots every 500 ms (and on change) of the top 50 levels."""
REST_DEPTHS = (10, 50, 100, 500)
SIGNATURE_TTL_NS = MAX_EXPIRATION_NS - 3600 * 1_000_000_000
RECOVERY_LOOKBACK_NS = 60 * 1_000_000_000
PUBLISHED_FEES = FeeSchedule(maker=Decimal("0.00027"), taker=Decimal("0.00055"), source="published")
"""Level 1 of GRVT's published tiers: maker 0.027 %, taker 0.055 % (help.grvt.io, "How does
GRVT's Fee Model work?"); higher tiers need 30-day volume this client does not read."""


def _hosts(environment: str) -> tuple[Roots, str, str]:
    """REST roots and the market-data / trade-data WebSocket URLs of an environment."""
    if environment == "prod":
        suffix = "grvt.io"
    elif environment == "testnet":
        suffix = "testnet.grvt.io"
    else:
        suffix = f"{environment}.gravitymarkets.io"
    roots = Roots(
        edge=f"https://edge.{suffix}",
        market_data=f"https://market-data.{suffix}",
        trade_data=f"https://trades.{suffix}",
    )
    return roots, f"wss://market-data.{suffix}/ws", f"wss://trades.{suffix}/ws"


@register_client("grvt")
class GrvtClient(ContractMarketsClient):
    """One GRVT sub-account traded with one API key."""

    venue = VENUE
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        options = settings.options
        default_env = "testnet" if settings.testnet else "prod"
        self.environment = str(options.get("environment") or default_env)
        if self.environment not in CHAIN_IDS:
            raise ConfigError(
                f"grvt option environment: expected one of {', '.join(CHAIN_IDS)}, "
                f"not {self.environment!r}"
            )
        roots, market_ws, trade_ws = _hosts(self.environment)
        base_url = options.get("base_url")
        if base_url:
            root = str(base_url).rstrip("/")
            roots = Roots(root, root, root)
        ws_url = options.get("ws_url")
        self._market_ws_url = str(ws_url or market_ws)
        self._trade_ws_url = str(ws_url or trade_ws)
        self._streams_on = bool(options.get("streams", True))
        api_key, self._signer, self.sub_account_id = self._credentials(settings)
        self._rest = GrvtRest(
            self._rest_transport("", self._per_minute_limit(1200)), roots, api_key
        )
        self._ids = ClientIdMap(self.name)
        self._client_of: dict[str, str] = {}  # venue order id -> our client order id
        self._venue_of: dict[str, str] = {}  # our client order id -> venue order id
        self._instruments: dict[str, Mapping[str, Any]] = {}  # instrument -> its record
        self._intervals: dict[str, Decimal] = {}
        self._index_prices: dict[str, Decimal] = {}
        self._books: dict[str, BookSnapshot] = {}
        self._market_stream: GrvtStream | None = None
        self._trade_stream: GrvtStream | None = None
        self._tasks = TaskSupervisor(f"{self.name}-resync")
        self._last_event_ns = 0
        self.streamed_positions: dict[str, Mapping[str, Any]] = {}
        """Latest ``v1.position`` feed per symbol, as the venue sent it."""

    def _credentials(
        self, settings: ClientSettings
    ) -> tuple[Secret | None, GrvtSigner | None, int | None]:
        api_key = settings.secrets.get("api_key")
        private_key = settings.secrets.get("private_key")
        if api_key is None and private_key is None:
            return None, None, None
        if api_key is None or private_key is None:
            raise AuthenticationFailed(
                "both api_key and private_key are needed to trade on GRVT", venue=self.name
            )
        raw = settings.public.get("sub_account_id")
        if raw is None and "sub_account_id" in settings.secrets:
            raw = settings.secrets["sub_account_id"].reveal()
        if raw is None:
            raise AuthenticationFailed("no sub_account_id configured", venue=self.name)
        try:
            sub_account_id = int(str(raw))
        except ValueError:
            raise AuthenticationFailed(
                f"sub_account_id must be a whole number, not {raw!r}", venue=self.name
            ) from None
        if not 0 <= sub_account_id < 2**64:
            raise AuthenticationFailed("sub_account_id must be a uint64", venue=self.name)
        try:
            signer = GrvtSigner(private_key.reveal(), self.environment)
        except SigningError as exc:
            raise AuthenticationFailed(str(exc), venue=self.name) from None
        return api_key, signer, sub_account_id

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def rest(self) -> GrvtRest:
        return self._rest

    @property
    def transport(self) -> RestTransport:
        return self._rest.transport

    @property
    def signer_address(self) -> str | None:
        return self._signer.address if self._signer is not None else None

    @property
    def market_stream(self) -> GrvtStream | None:
        return self._market_stream

    @property
    def trade_stream(self) -> GrvtStream | None:
        return self._trade_stream

    async def _start(self) -> None:
        if self._rest.has_credentials:
            await self._rest.ensure_session()
        await self._market_cache.reload()
        self._last_event_ns = time.time_ns()
        self._tasks = TaskSupervisor(f"{self.name}-resync")
        if not self._streams_on:
            return
        self._market_stream = GrvtStream(
            venue=self.name,
            url=self._market_ws_url,
            name="market-data",
            on_feed=self._on_feed,
            on_reconnect=self._noop,
            on_gap=lambda _: None,
            on_disconnect=self._books.clear,
            proxy_url=self.settings.proxy_url,
        )
        await self._market_stream.start()
        if self._rest.has_credentials:
            self._trade_stream = GrvtStream(
                venue=self.name,
                url=self._trade_ws_url,
                name="trade-data",
                on_feed=self._on_feed,
                on_reconnect=self._resync,
                on_gap=self._on_gap,
                headers=self._handshake_headers,
                proxy_url=self.settings.proxy_url,
            )
            await self._trade_stream.start()
            selector = str(self.sub_account_id)
            for stream in PRIVATE_STREAMS:
                await self._trade_stream.subscribe(stream, [selector])

    async def _noop(self) -> None:
        """Books need no resync: every ``v1.book.s`` message is a full snapshot."""

    async def _handshake_headers(self) -> dict[str, str]:
        return GrvtRest.auth_headers(await self._rest.ensure_session())

    async def _stop_streams(self) -> None:
        await self._tasks.aclose()
        for stream in (self._trade_stream, self._market_stream):
            if stream is not None:
                await stream.stop()
        self._trade_stream = self._market_stream = None
        self._books.clear()

    def _on_gap(self, stream: str) -> None:
        """A private feed lost messages: recover fills and order states in the background."""
        self._tasks.spawn(self._resync(), name=f"gap-{stream}")

    # --- markets ------------------------------------------------------------------------

    async def _fetch_markets(self) -> list[Market]:
        answer = await self._rest.public("/full/v1/all_instruments", {"is_active": True})
        maxima: dict[str, Decimal] = {}
        if self._rest.has_credentials:
            leverage = await self._private("/full/v1/get_all_initial_leverage", {})
            for row in leverage.get("results") or []:
                maxima[str(row["instrument"])] = to_decimal(row["max_leverage"])
        markets: list[Market] = []
        for row in answer.get("result") or []:
            market = market_from_wire(row, maxima.get(str(row.get("instrument"))))
            if market is not None:
                markets.append(market)
                self._instruments[market.contract_id] = row
                self._intervals[market.contract_id] = funding_interval_hours(row)
        return markets

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self.market(symbol)
        stream = self._market_stream
        if stream is not None and stream.connected:
            streamed = self._books.get(market.contract_id)
            if streamed is not None and depth <= 50:
                return dataclasses.replace(
                    streamed, bids=streamed.bids[:depth], asks=streamed.asks[:depth]
                )
            selector = BOOK_SELECTOR.format(instrument=market.contract_id)
            if not stream.subscribed(BOOK_STREAM, selector):
                await stream.subscribe(BOOK_STREAM, [selector])
        rest_depth = next((d for d in REST_DEPTHS if d >= depth), REST_DEPTHS[-1])
        answer = await self._rest.public(
            "/full/v1/book", {"instrument": market.contract_id, "depth": rest_depth}
        )
        return self._snapshot(market, answer["result"], depth)

    def _snapshot(self, market: Market, feed: Mapping[str, Any], depth: int) -> BookSnapshot:
        def levels(rows: Any) -> list[tuple[Decimal, Decimal]]:
            return [(to_decimal(r["price"]), to_decimal(r["size"])) for r in rows or []]

        bids = sorted(levels(feed.get("bids")), reverse=True)[:depth]
        asks = sorted(levels(feed.get("asks")))[:depth]
        return self._book_snapshot(market, bids, asks, None)

    async def _ticker(self, market: Market) -> Mapping[str, Any]:
        answer = await self._rest.public("/full/v1/ticker", {"instrument": market.contract_id})
        result: Mapping[str, Any] = answer["result"]
        return result

    async def funding_rate(self, symbol: str) -> FundingRate:
        market = await self.market(symbol)
        return self._funding(market, await self._ticker(market))

    def _funding(self, market: Market, ticker: Mapping[str, Any]) -> FundingRate:
        interval = self._intervals.get(market.contract_id, Decimal(8))
        return funding_from_ticker(self.name, market, ticker, interval)

    async def funding_rates(self) -> dict[str, FundingRate]:
        """One ticker per market, concurrently (GRVT has no bulk ticker call)."""
        markets = list((await self.markets()).values())
        tickers = await asyncio.gather(*(self._ticker(m) for m in markets))
        index: dict[str, Decimal] = {}
        for m, t in zip(markets, tickers, strict=True):
            price = optional_decimal(t.get("index_price"))
            if price is not None:
                index[m.symbol] = m.from_venue_price(price)
        self._index_prices = index
        return {m.symbol: self._funding(m, t) for m, t in zip(markets, tickers, strict=True)}

    def index_prices(self) -> dict[str, Decimal]:
        """Each market's ticker ``index_price`` from the last :meth:`funding_rates` read (the
        funding-rate service stores it beside the mark; no extra call)."""
        return dict(self._index_prices)

    async def fees(self, symbol: str) -> FeeSchedule:
        await self.market(symbol)
        return PUBLISHED_FEES

    async def market_stats(self) -> dict[str, MarketStats]:
        markets = list((await self.markets()).values())
        tickers = await asyncio.gather(*(self._ticker(m) for m in markets))
        return {
            m.symbol: market_stats_from_ticker(m, t) for m, t in zip(markets, tickers, strict=True)
        }

    # --- trading ------------------------------------------------------------------------

    def _require_signer(self) -> tuple[GrvtSigner, int]:
        if self._signer is None or self.sub_account_id is None:
            raise AuthenticationFailed(
                "this call needs api_key, private_key and sub_account_id and the account has "
                "none configured",
                venue=self.name,
            )
        return self._signer, self.sub_account_id

    async def _private(self, path: str, body: Mapping[str, Any], *, idempotent: bool = True) -> Any:
        _, sub = self._require_signer()
        return await self._rest.private(
            path, {"sub_account_id": str(sub), **body}, idempotent=idempotent
        )

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self.market(request.symbol)
        signer, sub = self._require_signer()
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        wire_id = self._ids.reserve(client_id)
        record = self._instruments[market.contract_id]
        is_stop = request.order_type is OrderType.STOP_MARKET
        is_market = request.order_type is not OrderType.LIMIT
        # market orders are always takers on GRVT: immediate-or-cancel
        tif = (
            TimeInForceCode.IMMEDIATE_OR_CANCEL
            if is_market or request.time_in_force is TimeInForce.IOC
            else TimeInForceCode.GOOD_TILL_TIME
        )
        size = market.to_venue_size(request.size)
        price = market.to_venue_price(request.price) if request.price is not None else Decimal(0)
        try:
            leg = order_leg(
                str(record["instrument_hash"]),
                int(record["base_decimals"]),
                size,
                price,
                is_buying=request.side == "buy",
            )
        except SigningError as exc:
            raise InvalidOrder(f"{request.symbol}: {exc}", venue=self.name) from None
        signature = signer.sign(
            OrderToSign(
                sub_account_id=sub,
                is_market=is_market,
                time_in_force=tif,
                post_only=request.post_only,
                reduce_only=request.reduce_only,
                legs=(leg,),
                nonce=secrets.randbits(32),
                expiration_ns=time.time_ns() + SIGNATURE_TTL_NS,
            )
        )
        metadata: dict[str, Any] = {"client_order_id": str(wire_id)}
        if is_stop:
            assert request.trigger_price is not None
            metadata["trigger"] = stop_loss_trigger(market.to_venue_price(request.trigger_price))
        body = {
            "order": {
                "sub_account_id": str(sub),
                "is_market": is_market,
                "time_in_force": tif.name,
                "post_only": request.post_only,
                "reduce_only": request.reduce_only,
                "legs": [
                    {
                        "instrument": market.contract_id,
                        "size": _plain(size),
                        "limit_price": _plain(price),
                        "is_buying_asset": request.side == "buy",
                    }
                ],
                "signature": signature.wire(),
                "metadata": metadata,
            }
        }
        self._claim_id(client_id)
        try:
            answer = await self._rest.private("/full/v1/create_order", body, idempotent=False)
        except (InvalidOrder, AuthenticationFailed):
            self._release_id(client_id)  # refused outright: no order exists
            raise
        order = self._order(answer["result"], market, client_id)
        if order.status is OrderStatus.REJECTED:
            raise rejection(order, self.name)
        self._track(order)
        return order

    def _client_id_of(self, venue_order_id: str, wire_client_id: object) -> str:
        known = self._client_of.get(venue_order_id)
        if known is not None:
            return known
        if wire_client_id in (None, ""):
            return ""
        return self._ids.ours(wire_client_id) or str(wire_client_id)

    def _order(self, row: Mapping[str, Any], market: Market, client_id: str | None = None) -> Order:
        venue_id = str(row.get("order_id") or "")
        wire_client = (row.get("metadata") or {}).get("client_order_id")
        ours = client_id or self._client_id_of(venue_id, wire_client)
        order = order_from_wire(row, market, ours)
        return dataclasses.replace(order, fee_paid=self._ledger.fees(venue_id))

    def _track(self, order: Order) -> None:
        if order.venue_order_id is not None and order.client_order_id:
            self._client_of[order.venue_order_id] = order.client_order_id
            self._venue_of[order.client_order_id] = order.venue_order_id
        super()._track(order)

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        market = await self.market(symbol)
        await self._private("/full/v1/cancel_order", {"order_id": venue_order_id})
        return await self._order_status(market, venue_order_id, None)

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        market = await self.market(symbol)
        await self._private(
            "/full/v1/cancel_order", {"client_order_id": str(to_u64(client_order_id))}
        )
        return await self._order_status(market, None, client_order_id)

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """``cancel_all_orders`` (of ``symbol``'s base) then the orders it cancelled."""
        before = await self.open_orders(symbol)
        body: dict[str, Any] = {"kind": ["PERPETUAL"]}
        if symbol is not None:
            body["base"] = [symbol]
        await self._private("/full/v1/cancel_all_orders", body)
        cancelled: list[Order] = []
        for order in before:
            assert order.venue_order_id is not None
            fresh = await self.order_status(order.symbol, venue_order_id=order.venue_order_id)
            self._track(fresh)
            cancelled.append(fresh)
        return cancelled

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        body: dict[str, Any] = {"kind": ["PERPETUAL"]}
        if symbol is not None:
            body["base"] = [(await self.market(symbol)).symbol]
        else:
            await self.markets()
        answer = await self._private("/full/v1/open_orders", body)
        orders: list[Order] = []
        for row in answer.get("result") or []:
            market = self._record_of(row["legs"][0]["instrument"])
            if market is not None:
                orders.append(self._order(row, market))
        return orders

    async def _order_status(
        self, record: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        body: dict[str, Any]
        if venue_order_id is not None:
            body = {"order_id": venue_order_id}
        elif client_order_id is not None:
            body = {"client_order_id": str(to_u64(client_order_id))}
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        answer = await self._private("/full/v1/order", body)
        row = answer["result"]
        if row["legs"][0]["instrument"] != record.contract_id:
            raise OrderNotFound(f"{record.symbol}: no such order", venue=self.name)
        return self._order(row, record, client_order_id)

    # --- account ------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        await self.markets()
        answer = await self._private("/full/v1/positions", {"kind": ["PERPETUAL"]})
        positions: list[Position] = []
        for row in answer.get("result") or []:
            market = self._record_of(row.get("instrument"))
            if market is not None:
                position = position_from_wire(row, market)
                if position is not None:
                    positions.append(position)
        return positions

    async def balance(self) -> Balance:
        answer = await self._private("/full/v1/account_summary", {})
        return balance_from_summary(answer["result"])

    async def get_leverage(self, symbol: str) -> Decimal:
        market = await self.market(symbol)
        answer = await self._private("/full/v1/get_all_initial_leverage", {})
        for row in answer.get("results") or []:
            if row.get("instrument") == market.contract_id:
                return to_decimal(row["leverage"])
        raise ExchangeError(f"{symbol}: no initial leverage listed", venue=self.name)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        market = await self.market(symbol)
        self._check_leverage(market, leverage)
        answer = await self._private(
            "/full/v1/set_initial_leverage",
            {"instrument": market.contract_id, "leverage": _plain(leverage)},
        )
        if not answer.get("success"):
            raise ExchangeError(f"{symbol}: leverage {leverage} not set", venue=self.name)
        return await self.get_leverage(symbol)

    # --- streams ------------------------------------------------------------------------

    def _on_feed(self, stream: str, selector: str, feed: dict[str, Any]) -> None:
        if stream == BOOK_STREAM:
            market = self._record_of(feed.get("instrument"))
            if market is not None:
                self._books[market.contract_id] = self._snapshot(market, feed, 50)
            return
        stamp = feed.get("event_time") or (feed.get("state") or {}).get("update_time")
        if stamp:
            self._last_event_ns = max(self._last_event_ns, int(str(stamp)))
        if stream == "v1.fill":
            market = self._record_of(feed.get("instrument"))
            if market is not None:
                self._publish_fill_once(self._fill(feed, market))
        elif stream == "v1.order":
            market = self._record_of(feed["legs"][0]["instrument"])
            if market is not None:
                self._publish_order_once(self._order(feed, market))
        elif stream == "v1.position":
            market = self._record_of(feed.get("instrument"))
            if market is not None:
                self.streamed_positions[market.symbol] = feed

    def _fill(self, row: Mapping[str, Any], market: Market) -> Fill:
        client_id = self._client_id_of(str(row["order_id"]), row.get("client_order_id"))
        return fill_from_wire(row, market, client_id or None)

    async def _recover_fills(self) -> None:
        """``fill_history`` since a minute before the last private event seen."""
        answer = await self._private(
            "/full/v1/fill_history",
            {
                "kind": ["PERPETUAL"],
                "start_time": str(self._last_event_ns - RECOVERY_LOOKBACK_NS),
                "limit": 1000,
            },
        )
        for row in reversed(answer.get("result") or []):
            market = self._record_of(row.get("instrument"))
            if market is not None:
                self._publish_fill_once(self._fill(row, market))


def stop_loss_trigger(trigger_price: Decimal) -> dict[str, Any]:
    """``metadata.trigger`` of a stop: a STOP_LOSS on the mark price (metadata is not signed)."""
    return {
        "trigger_type": "STOP_LOSS",
        "tpsl": {
            "trigger_by": "MARK",
            "trigger_price": _plain(trigger_price),
            "close_position": False,
        },
    }


def _plain(value: Decimal) -> str:
    """A decimal as GRVT's plain string (no exponent)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
