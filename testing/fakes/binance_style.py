"""A fake Binance-style USD-M futures venue (REST + WebSocket), shared by the Binance and Aster
fakes (testing/fakes/binance.py, testing/fakes/aster.py).

It speaks the documented wire protocol, section by section of Binance's "USDS-Margined
Futures" API (Aster's futures API documents the same endpoints and fields):

* **General Info > SIGNED Endpoint Security** — signed requests are verified by recomputing
  HMAC-SHA256 over the exact query string + body received; ``timestamp`` must be within
  ``recvWindow`` of the server clock (``-1021``), a bad signature is ``-1022``, an unknown key
  ``-2015`` (HTTP 401). Venue subclasses add other schemes (Aster v3 API wallets).
* **Market Data > Exchange Information / Order Book / Mark Price (premiumIndex) / Get Funding
  Rate Info (fundingInfo) / Get Funding Rate History (fundingRate) / Check Server Time**.
* **Account/Trades > New Order, Query Order, Cancel Order, Cancel All Open Orders, Current All
  Open Orders, Account Trade List (userTrades), Position Information (positionRisk), Futures
  Account Balance, Change Initial Leverage, Notional and Leverage Brackets**, with the
  documented error codes (``-2011``, ``-2013``, ``-2019``, ``-2022``, ``-4003``, ``-4014``,
  ``-4028``, ``-4116``, ``-4164``, ``-5022`` ...).
* **Websocket Market Streams** — raw ``/ws/<stream>``, combined ``/stream?streams=a/b``
  (``{"stream", "data"}`` wrapper), live ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS``;
  **Diff. Book Depth Streams** ``<symbol>@depth@100ms`` with ``U``/``u``/``pu``; **Aggregate
  Trade Streams** ``<symbol>@aggTrade`` for every trade here (ours, or another participant's:
  :meth:`FakeBinanceStyle.trade`).
* **User Data Streams** — ``POST/PUT/DELETE listenKey`` (60 min validity, ``-1125`` when gone),
  ``/ws/<listenKey>``, events ``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE``, ``listenKeyExpired``.
* **User Commission Rate** (``commissionRate``, per account: :meth:`FakeBinanceStyle.set_fees`;
  fills are charged at the account's rates) and **24hr Ticker Price Change Statistics**
  (``quoteVolume``: a scripted base plus what trades here).
* **Stop-market orders**, resting until the mark price (:meth:`FakeBinanceStyle.set_mark_price`,
  else the book's mid) crosses the trigger, then sent as a market order (reduce-only: clipped to
  the position, refused when there is none). Two dialects: the order endpoint with ``stopPrice``
  (Aster, Binance before 2025-12-09; the triggered order keeps its ``orderId`` and turns
  ``o=MARKET``, ``ot=STOP_MARKET``), or Binance's **Algo Service** (``algo_service = True``: the
  order endpoint refuses conditional types with ``-4120``; ``algoOrder``, ``openAlgoOrders``,
  ``algoOpenOrders`` and ``ALGO_UPDATE`` events NEW -> TRIGGERING -> TRIGGERED -> FINISHED, the
  triggered market order carrying the ``clientAlgoId`` as its client id).

The order book is scripted by tests (:meth:`FakeBinanceStyle.set_book`): each change is pushed
as a depth event and resting orders that the new book crosses fill as makers. Our taker orders
consume the scripted liquidity (and push the depth change). Fault knobs are plain attributes
and methods: ``fail_next``, ``delay``, ``drop_connections``, ``sequence_gap``,
``duplicate_user_events``, ``reorder_user_events``, ``expire_listen_keys``, ``clock_offset_ms``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer
from testing.fakes.matching import NetPosition, take_liquidity

JSON = dict[str, Any]
ZERO = Decimal(0)
LISTEN_KEY_TTL_SECONDS = 3600.0

# Error payloads, code and message as the venue's "Error Codes" page gives them.
E_SIGNATURE = (-1022, "Signature for this request is not valid.")
E_API_KEY = (-2015, "Invalid API-key, IP, or permissions for action.")
E_TIMESTAMP = (-1021, "Timestamp for this request is outside of the recvWindow.")
E_UNKNOWN_ORDER = (-2011, "Unknown order sent.")
E_NO_SUCH_ORDER = (-2013, "Order does not exist.")
E_POST_ONLY = (
    -5022,
    "Due to the order could not be executed as maker, the Post Only order will be rejected.",
)
E_REDUCE_ONLY = (-2022, "ReduceOnly Order is rejected.")
E_MARGIN = (-2019, "Margin is insufficient.")
E_TICK = (-4014, "Price not increased by tick size.")
E_QTY_ZERO = (-4003, "Quantity less than zero.")
E_MIN_QTY = (-4004, "Quantity less than min quantity.")
E_MAX_QTY = (-4005, "Quantity greater than max quantity.")
LIMIT_MAX_QTY = Decimal(1_000_000)  # LOT_SIZE.maxQty
E_PRECISION = (-1111, "Precision is over the maximum defined for this asset.")
E_DUPLICATE_ID = (-4116, "ClientOrderId is duplicated.")
E_BAD_SYMBOL = (-1121, "Invalid symbol.")
E_IMMEDIATE_TRIGGER = (-2021, "Order would immediately trigger.")
E_USE_ALGO = (
    -4120,
    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
)
CONDITIONAL_TYPES = (
    "STOP_MARKET",
    "TAKE_PROFIT_MARKET",
    "STOP",
    "TAKE_PROFIT",
    "TRAILING_STOP_MARKET",
)
E_LISTEN_KEY = (-1125, "This listenKey does not exist.")
E_TIMEOUT = (
    -1007,
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown.",
)


class ApiError(Exception):
    """An error answer: HTTP status + the venue's ``{"code", "msg"}``."""

    def __init__(self, error: tuple[int, str], status: int = 400, msg: str | None = None) -> None:
        self.code, self.msg = error[0], msg or error[1]
        self.status = status
        super().__init__(f"{self.code} {self.msg}")


def now_ms() -> int:
    return int(time.time() * 1000)


def text(value: Decimal) -> str:
    """A Decimal as the venue writes it: plain, no exponent."""
    return format(value, "f")


@dataclass
class FakeMarket:
    symbol: str  # contract id, e.g. 1000PEPEUSDT
    base: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_leverage: int
    funding_rate: Decimal = Decimal("0.0001")
    interval_hours: int = 8
    adjusted_interval: bool = False  # listed by fundingInfo
    contract_type: str = "PERPETUAL"
    quote: str = "USDT"
    status: str = "TRADING"
    market_max_qty: Decimal = Decimal(120)  # MARKET_LOT_SIZE.maxQty
    quote_volume_24h: Decimal = ZERO  # scripted; trades here add to it
    open_interest: Decimal = ZERO  # contracts held outside this fake's accounts


def default_markets() -> list[FakeMarket]:
    return [
        FakeMarket(
            "BTCUSDT",
            "BTC",
            Decimal("0.10"),
            Decimal("0.001"),
            Decimal("0.001"),
            Decimal("100"),
            125,
            Decimal("0.00010000"),
            quote_volume_24h=Decimal("12500000000.50"),
            open_interest=Decimal("80000.125"),
        ),
        FakeMarket(
            "ETHUSDT",
            "ETH",
            Decimal("0.01"),
            Decimal("0.001"),
            Decimal("0.001"),
            Decimal("20"),
            50,
            Decimal("-0.00005000"),
            4,
            True,
            quote_volume_24h=Decimal("6400000000"),
            open_interest=Decimal("1500000"),
        ),
        FakeMarket(
            "1000PEPEUSDT",
            "1000PEPE",
            Decimal("0.0000001"),
            Decimal("1"),
            Decimal("1"),
            Decimal("5"),
            50,
            Decimal("0.00002500"),
            market_max_qty=Decimal(5_000_000),
            quote_volume_24h=Decimal("350000000"),
            open_interest=Decimal("4000000000"),  # contracts of 1,000 PEPE
        ),
        FakeMarket(
            "BTCUSDT_261225",
            "BTC",
            Decimal("0.10"),
            Decimal("0.001"),
            Decimal("0.001"),
            Decimal("5"),
            50,
            contract_type="CURRENT_QUARTER",
        ),
        FakeMarket(
            "BTCUSDC",
            "BTC",
            Decimal("0.10"),
            Decimal("0.001"),
            Decimal("0.001"),
            Decimal("5"),
            50,
            quote="USDC",
        ),
    ]


DEFAULT_BOOKS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "BTCUSDT": (
        [("64000.00", "5"), ("63999.90", "3"), ("63999.00", "8"), ("63990.00", "20")],
        [("64000.10", "4"), ("64000.20", "6"), ("64001.00", "9"), ("64010.00", "20")],
    ),
    "ETHUSDT": ([("3200.00", "50"), ("3199.99", "80")], [("3200.01", "40"), ("3200.05", "90")]),
    "1000PEPEUSDT": (
        [("0.0123450", "500000"), ("0.0123440", "900000")],
        [("0.0123460", "400000"), ("0.0123470", "800000")],
    ),
}


@dataclass
class FakeOrder:
    order_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    tif: str
    qty: Decimal
    price: Decimal
    reduce_only: bool
    status: str = "NEW"
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    time: int = field(default_factory=now_ms)
    update_time: int = field(default_factory=now_ms)
    stop_price: Decimal = ZERO
    working_type: str = "CONTRACT_PRICE"
    orig_type: str = ""

    def __post_init__(self) -> None:
        self.orig_type = self.orig_type or self.type

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def is_resting_stop(self) -> bool:
        """A stop on the order endpoint, not triggered yet (it takes no liquidity)."""
        return self.is_open and self.type in CONDITIONAL_TYPES

    @property
    def avg_price(self) -> Decimal:
        return self.cum_quote / self.executed if self.executed else ZERO

    def wire(self) -> JSON:
        return {
            "orderId": self.order_id,
            "symbol": self.symbol,
            "status": self.status,
            "clientOrderId": self.client_id,
            "price": text(self.price),
            "avgPrice": text(self.avg_price),
            "origQty": text(self.qty),
            "executedQty": text(self.executed),
            "cumQty": text(self.executed),
            "cumQuote": text(self.cum_quote),
            "timeInForce": self.tif,
            "type": self.type,
            "origType": self.orig_type,
            "reduceOnly": self.reduce_only,
            "closePosition": False,
            "side": self.side,
            "positionSide": "BOTH",
            "stopPrice": text(self.stop_price),
            "workingType": self.working_type,
            "priceProtect": False,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
            "time": self.time,
            "updateTime": self.update_time,
        }


@dataclass
class FakeAlgoOrder:
    """A conditional order in Binance's Algo Service ("New Algo Order", "Query Algo Order")."""

    algo_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    trigger: Decimal
    working_type: str
    reduce_only: bool
    status: str = "NEW"
    actual_order: FakeOrder | None = None
    create_time: int = field(default_factory=now_ms)
    update_time: int = field(default_factory=now_ms)
    trigger_time: int = 0
    reject_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"

    def wire(self) -> JSON:
        row: JSON = {
            "algoId": self.algo_id,
            "clientAlgoId": self.client_id,
            "algoType": "CONDITIONAL",
            "orderType": self.type,
            "symbol": self.symbol,
            "side": self.side,
            "positionSide": "BOTH",
            "timeInForce": "GTC",
            "quantity": text(self.qty),
            "algoStatus": self.status,
            "triggerPrice": text(self.trigger),
            "price": "0",
            "icebergQuantity": None,
            "selfTradePreventionMode": "NONE",
            "workingType": self.working_type,
            "priceMatch": "NONE",
            "closePosition": False,
            "priceProtect": False,
            "reduceOnly": self.reduce_only,
            "createTime": self.create_time,
            "updateTime": self.update_time,
            "triggerTime": self.trigger_time,
            "goodTillDate": 0,
        }
        if self.actual_order is not None:  # shown once it reached the matching engine
            row |= {
                "actualOrderId": str(self.actual_order.order_id),
                "executedQty": text(self.actual_order.executed),
                "avgPrice": text(self.actual_order.avg_price),
            }
        return row

    def event(self) -> JSON:
        """The ``o`` object of an ``ALGO_UPDATE`` event."""
        actual = self.actual_order
        return {
            "caid": self.client_id,
            "aid": self.algo_id,
            "at": "CONDITIONAL",
            "o": self.type,
            "s": self.symbol,
            "S": self.side,
            "ps": "BOTH",
            "f": "GTC",
            "q": text(self.qty),
            "X": self.status,
            "ai": str(actual.order_id) if actual is not None else "",
            "ap": text(actual.avg_price) if actual is not None else "0.00000",
            "aq": text(actual.executed) if actual is not None else "0.00000",
            "act": actual.type if actual is not None else "0",
            "tp": text(self.trigger),
            "p": "0",
            "V": "NONE",
            "wt": self.working_type,
            "pm": "NONE",
            "cp": False,
            "pP": False,
            "R": self.reduce_only,
            "tt": self.trigger_time,
            "gtd": 0,
            "rm": self.reject_reason,
        }


@dataclass
class FakeTrade:
    trade_id: int
    order: FakeOrder
    price: Decimal
    qty: Decimal
    commission: Decimal
    maker: bool
    realized: Decimal
    time: int

    def wire(self) -> JSON:
        return {
            "buyer": self.order.side == "BUY",
            "commission": text(self.commission),
            "commissionAsset": "USDT",
            "id": self.trade_id,
            "maker": self.maker,
            "orderId": self.order.order_id,
            "price": text(self.price),
            "qty": text(self.qty),
            "quoteQty": text(self.price * self.qty),
            "realizedPnl": text(self.realized),
            "side": self.order.side,
            "positionSide": "BOTH",
            "symbol": self.order.symbol,
            "time": self.time,
        }


@dataclass
class FakePosition(NetPosition):
    """Signed amount in venue units, with the exact cost of what is open."""


@dataclass
class FakeAccount:
    """One account: HMAC key/secret and/or an Aster v3 (user, signer) pair."""

    name: str
    wallet: Decimal
    api_key: str | None = None
    api_secret: str | None = None
    user: str | None = None
    signer: str | None = None
    positions: dict[str, FakePosition] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    orders: dict[int, FakeOrder] = field(default_factory=dict)
    trades: list[FakeTrade] = field(default_factory=list)
    listen_key: str | None = None
    listen_key_expires: float = 0.0
    nonces: list[int] = field(default_factory=list)
    algo_orders: dict[int, FakeAlgoOrder] = field(default_factory=dict)
    maker_fee: Decimal | None = None  # the account's tier; None = the venue's base rate
    taker_fee: Decimal | None = None

    def position(self, symbol: str) -> FakePosition:
        return self.positions.setdefault(symbol, FakePosition())


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    streams: set[str]
    combined: bool
    listen_key: str | None = None


Handler = Callable[["FakeBinanceStyle", FakeAccount | None, dict[str, str]], Any]


@dataclass(frozen=True)
class Route:
    handler: Handler
    security: str  # NONE, SIGNED, STREAM


class FakeBinanceStyle:
    """The venue: markets, accounts, books, matching, REST and WebSocket servers."""

    maker_fee = Decimal("0.0002")
    taker_fee = Decimal("0.0005")
    default_leverage = 20
    algo_service = False
    """Binance since 2025-12-09: conditional orders only through the Algo Service."""

    def __init__(self, markets: Iterable[FakeMarket] | None = None) -> None:
        self.markets = {m.symbol: m for m in (markets or default_markets())}
        self.accounts: list[FakeAccount] = []
        self.books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.update_ids: dict[str, int] = {}
        self._order_ids = itertools.count(8_000_001)
        self._algo_ids = itertools.count(3_000_001)
        self.marks: dict[str, Decimal] = {}
        self._trade_ids = itertools.count(700_001)
        self._connections: list[_Connection] = []
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        # fault knobs
        self._failures: list[tuple[int, float | None, bool, str | None]] = []
        self.delay = 0.0
        self.refuse_ws_until = 0.0
        self._gaps: dict[str, int] = {}
        self.duplicate_user_events = False
        self.reorder_user_events = False
        self.duplicate_market_events = False
        self.clock_offset_ms = 0
        self.listen_key_ttl = LISTEN_KEY_TTL_SECONDS
        self._held: tuple[FakeAccount, JSON] | None = None
        self._server = LocalServer()
        self._expiry_task: asyncio.Task[None] | None = None
        self.base_url = ""
        self.ws_url = ""
        for symbol, (bids, asks) in DEFAULT_BOOKS.items():
            if symbol in self.markets:
                self.books[symbol] = (
                    {Decimal(p): Decimal(q) for p, q in bids},
                    {Decimal(p): Decimal(q) for p, q in asks},
                )
                self.update_ids[symbol] = 1_000_000
        self.register_routes()

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/ws", self._ws_handler)
        app.router.add_route("GET", "/ws/{name}", self._ws_handler)
        app.router.add_route("GET", "/stream", self._ws_handler)
        # Binance's routed endpoints (USD-M "WebSocket URL routing"): /public for depth and
        # trades, /market for other market streams, /private/ws?listenKey=... for user data.
        for category in ("public", "market", "private"):
            app.router.add_route("GET", f"/{category}/ws", self._ws_handler)
            app.router.add_route("GET", f"/{category}/ws/{{name}}", self._ws_handler)
            app.router.add_route("GET", f"/{category}/stream", self._ws_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        port = await self._server.serve(app)
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        self._expiry_task = asyncio.create_task(self._expire_loop())

    async def stop(self) -> None:
        if self._expiry_task is not None:
            self._expiry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry_task
        await self._server.close(conn.ws for conn in self._connections)

    # --- accounts ---------------------------------------------------------------------------

    def add_account(
        self,
        name: str = "main",
        *,
        wallet: Decimal = Decimal(10_000),
        api_key: str | None = None,
        api_secret: str | None = None,
        user: str | None = None,
        signer: str | None = None,
    ) -> FakeAccount:
        account = FakeAccount(name, wallet, api_key, api_secret, user, signer)
        self.accounts.append(account)
        return account

    def account_by_key(self, api_key: str) -> FakeAccount | None:
        return next((a for a in self.accounts if a.api_key == api_key), None)

    def set_fees(self, account: FakeAccount, maker: Decimal, taker: Decimal) -> None:
        """Move ``account`` to another fee tier (``commissionRate`` and its fills follow)."""
        account.maker_fee, account.taker_fee = maker, taker

    def fees_of(self, account: FakeAccount) -> tuple[Decimal, Decimal]:
        maker = self.maker_fee if account.maker_fee is None else account.maker_fee
        taker = self.taker_fee if account.taker_fee is None else account.taker_fee
        return maker, taker

    # --- fault knobs ------------------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        retry_after: float | None = None,
        after_processing: bool = False,
        path: str | None = None,
    ) -> None:
        """The next ``count`` requests answer ``status`` (429 with Retry-After, 5xx ...).

        ``after_processing``: the request takes effect first (an order is placed), then the
        error is answered - the "outcome unknown" case. ``path`` limits the failures to
        requests for that path (other requests, e.g. a client's background polling, pass).
        """
        self._failures.extend([(status, retry_after, after_processing, path)] * count)

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        """Close every WebSocket; refuse new ones for ``refuse_for`` seconds."""
        self.refuse_ws_until = time.monotonic() + refuse_for
        for conn in list(self._connections):
            await conn.ws.close()

    def sequence_gap(self, symbol: str) -> None:
        """The next depth event of ``symbol`` follows a missed one (``pu`` != previous ``u``)."""
        self._gaps[symbol] = self._gaps.get(symbol, 0) + 1

    async def expire_listen_keys(self) -> None:
        """Every listen key lapses now: ``listenKeyExpired`` is sent and streams are closed."""
        for account in self.accounts:
            if account.listen_key is not None:
                await self._expire(account)

    @property
    def ws_connection_count(self) -> int:
        return len(self._connections)

    def user_connections(self, account: FakeAccount) -> int:
        return sum(
            1
            for c in self._connections
            if c.listen_key is not None and c.listen_key == account.listen_key
        )

    # --- book scripting ---------------------------------------------------------------------

    def book(
        self, symbol: str
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids, asks = self.books[symbol]
        return (
            sorted(bids.items(), key=lambda level: -level[0]),
            sorted(asks.items(), key=lambda level: level[0]),
        )

    async def set_book(
        self, symbol: str, bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]]
    ) -> None:
        """Replace the book (pushing the difference as a depth event); resting orders that the
        new book crosses fill as makers."""
        new_bids = {Decimal(p): Decimal(q) for p, q in bids}
        new_asks = {Decimal(p): Decimal(q) for p, q in asks}
        old_bids, old_asks = self.books.get(symbol, ({}, {}))
        changes_b = _diff(old_bids, new_bids)
        changes_a = _diff(old_asks, new_asks)
        self.books[symbol] = (new_bids, new_asks)
        await self._push_depth(symbol, changes_b, changes_a)
        await self._match_resting(symbol)
        await self._check_triggers(symbol)

    async def move_price(self, symbol: str, price: str | Decimal) -> None:
        """The whole market moves: the book shifts (levels kept, on the tick) so its mid is
        ``price``, the mark follows it, and resting orders and stops react as on the venue."""
        self.marks.pop(symbol, None)
        tick = self.markets[symbol].tick
        shift = Decimal(price) - self.mid_price(symbol)
        bids, asks = self.book(symbol)

        def moved(levels: list[tuple[Decimal, Decimal]]) -> list[tuple[str, str]]:
            shifted = [((p + shift).quantize(tick), q) for p, q in levels]
            return [(text(p), text(q)) for p, q in shifted if p > 0]

        await self.set_book(symbol, moved(bids), moved(asks))

    async def set_mark_price(self, symbol: str, price: str | Decimal | None) -> None:
        """Pin the mark price (``None``: back to the book's mid); stops it crosses trigger."""
        if price is None:
            self.marks.pop(symbol, None)
        else:
            self.marks[symbol] = Decimal(price)
        await self._check_triggers(symbol)

    def mark_price(self, symbol: str) -> Decimal:
        if symbol in self.marks:
            return self.marks[symbol]
        return self.mid_price(symbol)

    def mid_price(self, symbol: str) -> Decimal:
        bids, asks = self.book(symbol)
        if bids and asks:
            return (bids[0][0] + asks[0][0]) / 2
        if bids or asks:
            return (bids or asks)[0][0]
        return Decimal(1)

    async def _push_depth(
        self, symbol: str, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]
    ) -> None:
        if not bids and not asks:
            return
        previous = self.update_ids.get(symbol, 1_000_000)
        if self._gaps.get(symbol):
            self._gaps[symbol] -= 1
            previous += 3  # an event (U..u) the subscriber never receives
        first, last = previous + 1, previous + 2
        self.update_ids[symbol] = last
        stamp = now_ms()
        event = {
            "e": "depthUpdate",
            "E": stamp,
            "T": stamp,
            "s": symbol,
            "U": first,
            "u": last,
            "pu": previous,
            "b": [[text(p), text(q)] for p, q in bids],
            "a": [[text(p), text(q)] for p, q in asks],
        }
        stream = f"{symbol.lower()}@depth@100ms"
        times = 2 if self.duplicate_market_events else 1
        for conn in list(self._connections):
            if stream in conn.streams:
                for _ in range(times):
                    await self._send(conn, stream, event)

    # --- matching ---------------------------------------------------------------------------

    async def _match_resting(self, symbol: str) -> None:
        for account in self.accounts:
            for order in list(account.orders.values()):
                if order.symbol != symbol or not order.is_open or order.is_resting_stop:
                    continue
                bids, asks = self.book(symbol)
                levels = asks if order.side == "BUY" else bids
                crossing = [
                    (p, q)
                    for p, q in levels
                    if (p <= order.price if order.side == "BUY" else p >= order.price)
                ]
                available = sum((q for _, q in crossing), ZERO)
                qty = min(available, order.qty - order.executed)
                if qty <= 0:
                    continue
                await self._consume(symbol, "BUY" if order.side == "BUY" else "SELL", qty)
                trade = await self._fill(account, order, order.price, qty, maker=True)
                order.status = "FILLED" if order.executed == order.qty else "PARTIALLY_FILLED"
                await self._order_event(account, order, "TRADE", trade)

    async def _consume(
        self, symbol: str, taker_side: str, qty: Decimal
    ) -> list[tuple[Decimal, Decimal]]:
        """Take ``qty`` from the book (asks for a buy); returns the (price, qty) taken."""
        bids, asks = self.books[symbol]
        side = asks if taker_side == "BUY" else bids
        taken = take_liquidity(side, qty, buying=taker_side == "BUY")
        changes = [(price, side.get(price, ZERO)) for price, _ in taken]
        if taker_side == "BUY":
            await self._push_depth(symbol, [], changes)
        else:
            await self._push_depth(symbol, changes, [])
        await self._push_agg_trades(symbol, taker_side, taken)
        return taken

    async def trade(self, symbol: str, taker_side: str, qty: str | Decimal) -> None:
        """Another participant's market order (``BUY``/``SELL``) takes ``qty`` from the book:
        the depth change and its aggregate trades are pushed, as for one of ours."""
        await self._consume(symbol, taker_side, Decimal(qty))

    async def _push_agg_trades(
        self, symbol: str, taker_side: str, taken: list[tuple[Decimal, Decimal]]
    ) -> None:
        """Market Streams > Aggregate Trade Streams ``<symbol>@aggTrade``: one event per price
        level a taker order went through; ``m`` is true when the buyer was the maker."""
        stream = f"{symbol.lower()}@aggTrade"
        for price, qty in taken:
            trade_id = next(self._trade_ids)
            stamp = now_ms()
            event = {
                "e": "aggTrade",
                "E": stamp,
                "s": symbol,
                "a": trade_id,
                "p": text(price),
                "q": text(qty),
                "f": trade_id,
                "l": trade_id,
                "T": stamp,
                "m": taker_side != "BUY",
            }
            for conn in list(self._connections):
                if stream in conn.streams:
                    await self._send(conn, stream, event)

    async def _fill(
        self, account: FakeAccount, order: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool
    ) -> FakeTrade:
        maker_rate, taker_rate = self.fees_of(account)
        fee = price * qty * (maker_rate if maker else taker_rate)
        self.markets[order.symbol].quote_volume_24h += price * qty
        signed = qty if order.side == "BUY" else -qty
        realized = account.position(order.symbol).fill(signed, price)
        account.wallet += realized - fee
        order.executed += qty
        order.cum_quote += price * qty
        order.update_time = now_ms()
        trade = FakeTrade(next(self._trade_ids), order, price, qty, fee, maker, realized, now_ms())
        account.trades.append(trade)
        return trade

    # --- stop orders ------------------------------------------------------------------------

    def _trigger_reference(self, symbol: str, working_type: str) -> Decimal:
        return self.mark_price(symbol) if working_type == "MARK_PRICE" else self.mid_price(symbol)

    @staticmethod
    def _crossed(side: str, reference: Decimal, trigger: Decimal) -> bool:
        """STOP(_MARKET): a BUY triggers at or above its price, a SELL at or below."""
        return reference >= trigger if side == "BUY" else reference <= trigger

    def _reducible(self, account: FakeAccount, symbol: str, side: str, qty: Decimal) -> Decimal:
        """How much of a reduce-only ``side`` order the position allows now."""
        amount = account.position(symbol).amount
        if (side == "SELL" and amount > 0) or (side == "BUY" and amount < 0):
            return min(qty, abs(amount))
        return ZERO

    async def _check_triggers(self, symbol: str) -> None:
        for account in self.accounts:
            for order in list(account.orders.values()):
                if (
                    order.symbol == symbol
                    and order.is_resting_stop
                    and self._crossed(
                        order.side,
                        self._trigger_reference(symbol, order.working_type),
                        order.stop_price,
                    )
                ):
                    await self._trigger_stop(account, order)
            for algo in list(account.algo_orders.values()):
                if (
                    algo.symbol == symbol
                    and algo.is_open
                    and self._crossed(
                        algo.side, self._trigger_reference(symbol, algo.working_type), algo.trigger
                    )
                ):
                    await self._trigger_algo(account, algo)

    async def _trigger_stop(self, account: FakeAccount, order: FakeOrder) -> None:
        """Order-endpoint dialect: the stop becomes a market order under the same id."""
        order.type = "MARKET"
        order.update_time = now_ms()
        await self._order_event(account, order, "NEW")
        await self._execute_stop(account, order)

    async def _execute_stop(self, account: FakeAccount, order: FakeOrder) -> None:
        if order.reduce_only:
            allowed = self._reducible(account, order.symbol, order.side, order.qty)
            if not allowed:
                order.status = "EXPIRED"
                order.update_time = now_ms()
                await self._order_event(account, order, "EXPIRED")
                return
            order.qty = allowed
        await self._take(account, order)
        if order.is_open:
            order.status = "EXPIRED"
            order.update_time = now_ms()
            await self._order_event(account, order, "EXPIRED")

    async def _trigger_algo(self, account: FakeAccount, algo: FakeAlgoOrder) -> None:
        """Algo Service: TRIGGERING, a market order in the matching engine under the client
        algo id (TRIGGERED), its fills, then FINISHED - or REJECTED when reduce-only finds
        no position to reduce."""
        algo.trigger_time = algo.update_time = now_ms()
        algo.status = "TRIGGERING"
        await self._algo_event(account, algo)
        if algo.reduce_only and not self._reducible(account, algo.symbol, algo.side, algo.qty):
            algo.status, algo.reject_reason = "REJECTED", "Reduce Only reject"
            await self._algo_event(account, algo)
            return
        qty = (
            self._reducible(account, algo.symbol, algo.side, algo.qty)
            if algo.reduce_only
            else algo.qty
        )
        order = FakeOrder(
            next(self._order_ids),
            algo.client_id,
            algo.symbol,
            algo.side,
            "MARKET",
            "GTC",
            qty,
            ZERO,
            algo.reduce_only,
            stop_price=algo.trigger,
            working_type=algo.working_type,
            orig_type=algo.type,
        )
        account.orders[order.order_id] = order
        algo.actual_order = order
        algo.status = "TRIGGERED"
        await self._algo_event(account, algo)
        await self._order_event(account, order, "NEW")
        await self._execute_stop(account, order)
        algo.status = "FINISHED"
        algo.update_time = now_ms()
        await self._algo_event(account, algo)

    async def _algo_event(self, account: FakeAccount, algo: FakeAlgoOrder) -> None:
        stamp = now_ms()
        await self._emit(account, {"e": "ALGO_UPDATE", "T": stamp, "E": stamp, "o": algo.event()})

    # --- account figures --------------------------------------------------------------------

    def leverage_of(self, account: FakeAccount, symbol: str) -> int:
        return account.leverage.get(symbol, self.default_leverage)

    def unrealized(self, account: FakeAccount) -> Decimal:
        return sum(
            (
                (self.mark_price(s) - p.entry) * p.amount
                for s, p in account.positions.items()
                if p.amount
            ),
            ZERO,
        )

    def margin_used(self, account: FakeAccount) -> Decimal:
        used = ZERO
        for symbol, position in account.positions.items():
            if position.amount:
                used += (
                    abs(position.amount)
                    * self.mark_price(symbol)
                    / self.leverage_of(account, symbol)
                )
        for order in account.orders.values():
            if order.is_open and not order.is_resting_stop:
                used += (
                    (order.qty - order.executed)
                    * order.price
                    / self.leverage_of(account, order.symbol)
                )
        return used

    def available(self, account: FakeAccount) -> Decimal:
        return account.wallet + self.unrealized(account) - self.margin_used(account)

    # --- HTTP -------------------------------------------------------------------------------

    def register_routes(self) -> None:
        """Binance USD-M paths; venue fakes add or replace families of paths."""
        self.add_family(
            {
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
            }
        )
        # Account Information V2/V3, Futures Account Balance V3, Position Information V3.
        for path in ("/fapi/v2/account", "/fapi/v3/account"):
            self.routes[("GET", path)] = Route(FakeBinanceStyle.h_account, "SIGNED")
        self.routes[("GET", "/fapi/v3/balance")] = Route(FakeBinanceStyle.h_balance, "SIGNED")
        self.routes[("GET", "/fapi/v1/symbolConfig")] = Route(
            FakeBinanceStyle.h_symbol_config, "SIGNED"
        )
        self.routes[("GET", "/fapi/v3/positionRisk")] = Route(
            FakeBinanceStyle.h_position_risk_v3, "SIGNED"
        )
        self.routes[("GET", "/fapi/v1/fundingRate")] = Route(
            FakeBinanceStyle.h_funding_rate_history, "NONE"
        )

    def add_algo_service(self) -> None:
        """Binance's Algo Service endpoints and its per-symbol open interest."""
        algo: list[tuple[str, str, Handler]] = [
            ("POST", "/fapi/v1/algoOrder", FakeBinanceStyle.h_new_algo_order),
            ("GET", "/fapi/v1/algoOrder", FakeBinanceStyle.h_query_algo_order),
            ("DELETE", "/fapi/v1/algoOrder", FakeBinanceStyle.h_cancel_algo_order),
            ("GET", "/fapi/v1/openAlgoOrders", FakeBinanceStyle.h_open_algo_orders),
            ("DELETE", "/fapi/v1/algoOpenOrders", FakeBinanceStyle.h_cancel_all_algo),
        ]
        for method, path, handler in algo:
            self.routes[(method, path)] = Route(handler, "SIGNED")
        self.routes[("GET", "/fapi/v1/openInterest")] = Route(
            FakeBinanceStyle.h_open_interest, "NONE"
        )

    def add_family(
        self, paths: dict[str, str], *, signed: str = "SIGNED", stream: str = "STREAM"
    ) -> None:
        table: list[tuple[str, str, Handler, str]] = [
            ("GET", "time", FakeBinanceStyle.h_time, "NONE"),
            ("GET", "exchange_info", FakeBinanceStyle.h_exchange_info, "NONE"),
            ("GET", "depth", FakeBinanceStyle.h_depth, "NONE"),
            ("GET", "premium_index", FakeBinanceStyle.h_premium_index, "NONE"),
            ("GET", "funding_info", FakeBinanceStyle.h_funding_info, "NONE"),
            ("POST", "order", FakeBinanceStyle.h_new_order, signed),
            ("GET", "order", FakeBinanceStyle.h_query_order, signed),
            ("DELETE", "order", FakeBinanceStyle.h_cancel_order, signed),
            ("GET", "open_orders", FakeBinanceStyle.h_open_orders, signed),
            ("DELETE", "all_open_orders", FakeBinanceStyle.h_cancel_all, signed),
            ("GET", "position_risk", FakeBinanceStyle.h_position_risk, signed),
            ("GET", "balance", FakeBinanceStyle.h_balance, signed),
            ("POST", "leverage", FakeBinanceStyle.h_leverage, signed),
            ("GET", "leverage_bracket", FakeBinanceStyle.h_leverage_bracket, signed),
            ("GET", "user_trades", FakeBinanceStyle.h_user_trades, signed),
            ("GET", "commission_rate", FakeBinanceStyle.h_commission_rate, signed),
            ("GET", "ticker_24hr", FakeBinanceStyle.h_ticker_24hr, "NONE"),
            ("POST", "listen_key", FakeBinanceStyle.h_listen_key_new, stream),
            ("PUT", "listen_key", FakeBinanceStyle.h_listen_key_keepalive, stream),
            ("DELETE", "listen_key", FakeBinanceStyle.h_listen_key_close, stream),
        ]
        for method, name, handler, security in table:
            self.routes[(method, paths[name])] = Route(handler, security)

    async def _http_handler(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        failure = next((f for f in self._failures if f[3] is None or f[3] == request.path), None)
        if failure is not None:
            self._failures.remove(failure)
        if failure is not None and not failure[2]:
            return self._failure_response(failure)
        route = self.routes.get((request.method, request.path))
        if route is None:
            return web.json_response({"code": -1000, "msg": "Not found"}, status=404)
        query = request.query_string
        body = await request.text()
        try:
            params = dict(parse_qsl(query, keep_blank_values=True))
            params.update(dict(parse_qsl(body, keep_blank_values=True)))
            account = self.authenticate(route.security, request, query, body, params)
            result = route.handler(self, account, params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            return web.Response(
                text=dumps({"code": exc.code, "msg": exc.msg}),
                status=exc.status,
                content_type="application/json",
            )
        if self.delay:  # slow answer: the request has taken effect, the reply is late
            await asyncio.sleep(self.delay)
        if failure is not None:
            return self._failure_response(failure)
        return web.Response(text=dumps(result), content_type="application/json")

    def _failure_response(
        self, failure: tuple[int, float | None, bool, str | None]
    ) -> web.Response:
        status, retry_after, _, _ = failure
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        if status == 429:
            payload = {
                "code": -1003,
                "msg": "Too many requests; current limit is 2400 "
                "requests per minute. Please use the websocket for live updates to "
                "avoid polling the API.",
            }
        else:
            payload = {"code": E_TIMEOUT[0], "msg": E_TIMEOUT[1]}
        return web.Response(
            text=dumps(payload), status=status, headers=headers, content_type="application/json"
        )

    def server_ms(self) -> int:
        return now_ms() + self.clock_offset_ms

    def authenticate(
        self, security: str, request: web.Request, query: str, body: str, params: dict[str, str]
    ) -> FakeAccount | None:
        if security == "NONE":
            return None
        if security in ("SIGNED", "STREAM"):
            key = request.headers.get("X-MBX-APIKEY")
            account = self.account_by_key(key) if key else None
            if account is None:
                raise ApiError(E_API_KEY, status=401)
            if security == "STREAM":
                return account
            return self._verify_hmac(account, query, body, params)
        raise ApiError((-1000, f"unknown security {security}"))

    def _verify_hmac(
        self, account: FakeAccount, query: str, body: str, params: dict[str, str]
    ) -> FakeAccount:
        timestamp = params.get("timestamp")
        if not timestamp or not timestamp.isdigit():
            raise ApiError(
                (
                    -1102,
                    "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
                )
            )
        window = int(params.get("recvWindow", "5000"))
        server = self.server_ms()
        if int(timestamp) >= server + 1000 or server - int(timestamp) > window:
            raise ApiError(E_TIMESTAMP)
        total = query + body  # "totalParams": query string concatenated with the body
        signed_part = "&".join(p for p in total.split("&") if not p.startswith("signature="))
        expected = hmac.new(
            (account.api_secret or "").encode(), signed_part.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, params.get("signature", "")):
            raise ApiError(E_SIGNATURE)
        return account

    # --- handlers: market data --------------------------------------------------------------

    def market(self, params: dict[str, str]) -> FakeMarket:
        market = self.markets.get(params.get("symbol", ""))
        if market is None:
            raise ApiError(E_BAD_SYMBOL)
        return market

    def h_time(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Market Data > Check Server Time."""
        return {"serverTime": self.server_ms()}

    def h_exchange_info(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Market Data > Exchange Information (symbols, filters, rateLimits)."""
        return {
            "timezone": "UTC",
            "serverTime": self.server_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 2400,
                },
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": [self._symbol_info(m) for m in self.markets.values()],
        }

    def _symbol_info(self, m: FakeMarket) -> JSON:
        return {
            "symbol": m.symbol,
            "pair": m.symbol.split("_")[0],
            "contractType": m.contract_type,
            # Perpetuals carry Binance's "never" date (2100-12-25); quarterlies their delivery.
            "deliveryDate": 4133404800000 if m.contract_type == "PERPETUAL" else 1798185600000,
            "onboardDate": 1569398400000,
            "status": m.status,
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": m.base,
            "quoteAsset": m.quote,
            "marginAsset": m.quote,
            "pricePrecision": max(0, -m.tick.normalize().as_tuple().exponent),  # type: ignore[operator]
            "quantityPrecision": max(0, -m.step.normalize().as_tuple().exponent),  # type: ignore[operator]
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": text(m.tick),
                    "maxPrice": "4529764",
                    "tickSize": text(m.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": text(m.min_qty),
                    "maxQty": text(LIMIT_MAX_QTY),
                    "stepSize": text(m.step),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": text(m.min_qty),
                    "maxQty": text(m.market_max_qty),
                    "stepSize": text(m.step),
                },
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                {"filterType": "MIN_NOTIONAL", "notional": text(m.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }

    def h_depth(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Market Data > Order Book (``lastUpdateId`` ties it to the diff stream)."""
        market = self.market(params)
        limit = int(params.get("limit", "500"))
        bids, asks = self.book(market.symbol)
        return {
            "lastUpdateId": self.update_ids.get(market.symbol, 1_000_000),
            "E": self.server_ms(),
            "T": self.server_ms(),
            "bids": [[text(p), text(q)] for p, q in bids[:limit]],
            "asks": [[text(p), text(q)] for p, q in asks[:limit]],
        }

    def next_funding_ms(self, market: FakeMarket) -> int:
        period = market.interval_hours * 3_600_000
        return (self.server_ms() // period + 1) * period

    def _premium(self, market: FakeMarket) -> JSON:
        mark = self.mark_price(market.symbol) if market.symbol in self.books else Decimal(1)
        return {
            "symbol": market.symbol,
            "markPrice": text(mark),
            "indexPrice": text(mark),
            "estimatedSettlePrice": text(mark),
            "lastFundingRate": text(market.funding_rate),
            "interestRate": "0.00010000",
            "nextFundingTime": self.next_funding_ms(market),
            "time": self.server_ms(),
        }

    def h_premium_index(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Market Data > Mark Price (premiumIndex): one symbol, or all without one."""
        if "symbol" in params:
            return self._premium(self.market(params))
        return [self._premium(m) for m in self.markets.values()]

    def h_funding_info(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Market Data > Get Funding Rate Info: only symbols with adjusted intervals."""
        return [
            {
                "symbol": m.symbol,
                "adjustedFundingRateCap": "0.02000000",
                "adjustedFundingRateFloor": "-0.02000000",
                "fundingIntervalHours": m.interval_hours,
                "disclaimer": False,
            }
            for m in self.markets.values()
            if m.adjusted_interval
        ]

    def h_funding_rate_history(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Market Data > Get Funding Rate History (``fundingRate``): the settlements of one
        symbol at each of its interval boundaries, at its current rate. ``startTime`` and
        ``endTime`` are inclusive; ``limit`` defaults to 100, at most 1000; more settlements
        than ``limit`` in the range -> the first ``limit`` from ``startTime``; without a range,
        the most recent ``limit``. Ascending order."""
        market = self.market(params)
        limit = min(int(params.get("limit", 100)), 1000)
        step = market.interval_hours * 3600 * 1000
        end = min(int(params.get("endTime") or now_ms()), now_ms())
        last = end // step * step
        if params.get("startTime"):
            first = -(-int(params["startTime"]) // step) * step
            times = list(range(first, last + 1, step))[:limit]
        else:
            times = list(range(max(0, last - (limit - 1) * step), last + 1, step))
        mark = text(self.mark_price(market.symbol)) if market.symbol in self.books else ""
        return [
            {
                "symbol": market.symbol,
                "fundingRate": text(market.funding_rate),
                "fundingTime": t,
                "markPrice": mark,
            }
            for t in times
        ]

    # --- handlers: orders -------------------------------------------------------------------

    async def h_new_order(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account/Trades > New Order (TRADE), with its documented rejections."""
        assert account is not None
        market = self.market(params)
        symbol = market.symbol
        side, order_type = params.get("side", ""), params.get("type", "")
        if side not in ("BUY", "SELL"):
            raise ApiError((-1117, "Invalid side."))
        if order_type in CONDITIONAL_TYPES and self.algo_service:
            raise ApiError(E_USE_ALGO)
        if order_type not in ("LIMIT", "MARKET", "STOP_MARKET"):
            raise ApiError((-1116, "Invalid orderType."))
        client_id = params.get("newClientOrderId") or f"auto{secrets.token_hex(8)}"
        if any(o.client_id == client_id and o.is_open for o in account.orders.values()):
            raise ApiError(E_DUPLICATE_ID)
        qty = Decimal(params.get("quantity", "0"))
        if qty <= 0:
            raise ApiError(E_QTY_ZERO)
        if qty % market.step:
            raise ApiError(E_PRECISION)
        if qty < market.min_qty:
            raise ApiError(E_MIN_QTY)
        if qty > (market.market_max_qty if order_type == "MARKET" else LIMIT_MAX_QTY):
            raise ApiError(E_MAX_QTY)
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        if order_type == "STOP_MARKET":
            return await self._new_stop(account, market, params, client_id, qty, reduce_only)
        tif = params.get("timeInForce", "GTC")
        price = ZERO
        bids, asks = self.book(symbol)
        if order_type == "LIMIT":
            price = Decimal(params.get("price", "0"))
            if price <= 0 or price % market.tick:
                raise ApiError(E_TICK)
            if tif not in ("GTC", "IOC", "FOK", "GTX"):
                raise ApiError((-1115, "Invalid timeInForce."))
        else:
            tif = "GTC"
        reference = (
            price
            if order_type == "LIMIT"
            else (asks[0][0] if side == "BUY" and asks else bids[0][0] if bids else Decimal(1))
        )
        if not reduce_only and qty * reference < market.min_notional:
            raise ApiError(
                (
                    -4164,
                    f"Order's notional must be no smaller than {text(market.min_notional)} "
                    "(unless you choose reduce only).",
                )
            )
        position = account.position(symbol)
        if reduce_only:
            reduces = (position.amount > 0 and side == "SELL") or (
                position.amount < 0 and side == "BUY"
            )
            if not reduces or qty > abs(position.amount):
                raise ApiError(E_REDUCE_ONLY)
        crosses = (
            bool(asks and price >= asks[0][0])
            if side == "BUY"
            else bool(bids and price <= bids[0][0])
        )
        if tif == "GTX" and crosses:
            raise ApiError(E_POST_ONLY)
        if not reduce_only:
            required = qty * reference / self.leverage_of(account, symbol)
            if required > self.available(account):
                raise ApiError(E_MARGIN)
        order = FakeOrder(
            next(self._order_ids), client_id, symbol, side, order_type, tif, qty, price, reduce_only
        )
        account.orders[order.order_id] = order
        await self._order_event(account, order, "NEW")
        if order_type == "MARKET" or crosses:
            await self._take(account, order)
        if (order_type == "MARKET" or tif in ("IOC", "FOK")) and order.is_open:
            order.status = "EXPIRED"
            order.update_time = now_ms()
            await self._order_event(account, order, "EXPIRED")
        return order.wire()

    def _trigger_of(self, market: FakeMarket, raw: str, side: str, working_type: str) -> Decimal:
        """A stop's trigger price, checked: on the tick, not already crossed."""
        trigger = Decimal(raw or "0")
        if trigger <= 0 or trigger % market.tick:
            raise ApiError(E_TICK)
        if working_type not in ("MARK_PRICE", "CONTRACT_PRICE"):
            raise ApiError((-1116, "Invalid workingType."))
        if self._crossed(side, self._trigger_reference(market.symbol, working_type), trigger):
            raise ApiError(E_IMMEDIATE_TRIGGER)
        return trigger

    async def _new_stop(
        self,
        account: FakeAccount,
        market: FakeMarket,
        params: dict[str, str],
        client_id: str,
        qty: Decimal,
        reduce_only: bool,
    ) -> JSON:
        """New Order with ``type=STOP_MARKET``: rests until the trigger price is crossed."""
        side = params["side"]
        working_type = params.get("workingType", "CONTRACT_PRICE")
        trigger = self._trigger_of(market, params.get("stopPrice", ""), side, working_type)
        order = FakeOrder(
            next(self._order_ids),
            client_id,
            market.symbol,
            side,
            "STOP_MARKET",
            "GTC",
            qty,
            ZERO,
            reduce_only,
            stop_price=trigger,
            working_type=working_type,
        )
        account.orders[order.order_id] = order
        await self._order_event(account, order, "NEW")
        return order.wire()

    async def _take(self, account: FakeAccount, order: FakeOrder) -> None:
        bids, asks = self.book(order.symbol)
        levels = asks if order.side == "BUY" else bids
        if order.type == "LIMIT":
            levels = [
                (p, q)
                for p, q in levels
                if (p <= order.price if order.side == "BUY" else p >= order.price)
            ]
        available = sum((q for _, q in levels), ZERO)
        qty = min(available, order.qty)
        if qty <= 0:
            return
        taken = await self._consume(order.symbol, order.side, qty)
        for price, part in taken:
            trade = await self._fill(account, order, price, part, maker=False)
            order.status = "FILLED" if order.executed == order.qty else "PARTIALLY_FILLED"
            await self._order_event(account, order, "TRADE", trade)

    def _find_order(self, account: FakeAccount, params: dict[str, str]) -> FakeOrder | None:
        symbol = params.get("symbol")
        if "orderId" in params:
            order = account.orders.get(
                int(params["orderId"]) if params["orderId"].isdigit() else -1
            )
            return order if order is not None and order.symbol == symbol else None
        client_id = params.get("origClientOrderId")
        matches = [
            o for o in account.orders.values() if o.client_id == client_id and o.symbol == symbol
        ]
        return matches[-1] if matches else None

    def h_query_order(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account/Trades > Query Order (USER_DATA): ``-2013`` when unknown."""
        assert account is not None
        self.market(params)
        order = self._find_order(account, params)
        if order is None:
            raise ApiError(E_NO_SUCH_ORDER)
        return order.wire()

    async def h_cancel_order(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account/Trades > Cancel Order (TRADE): ``-2011`` unless open."""
        assert account is not None
        self.market(params)
        order = self._find_order(account, params)
        if order is None or not order.is_open:
            raise ApiError(E_UNKNOWN_ORDER)
        order.status = "CANCELED"
        order.update_time = now_ms()
        await self._order_event(account, order, "CANCELED")
        return order.wire()

    def h_open_orders(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Current All Open Orders (USER_DATA)."""
        assert account is not None
        symbol = params.get("symbol")
        if symbol is not None:
            self.market(params)
        return [
            o.wire()
            for o in account.orders.values()
            if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    async def h_cancel_all(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account/Trades > Cancel All Open Orders (TRADE)."""
        assert account is not None
        market = self.market(params)
        for order in list(account.orders.values()):
            if order.is_open and order.symbol == market.symbol:
                order.status = "CANCELED"
                order.update_time = now_ms()
                await self._order_event(account, order, "CANCELED")
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # --- handlers: Algo Service (Binance) ---------------------------------------------------

    async def h_new_algo_order(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Trade > New Algo Order (TRADE): ``algoType=CONDITIONAL``; this fake: STOP_MARKET."""
        assert account is not None
        market = self.market(params)
        side, order_type = params.get("side", ""), params.get("type", "")
        if params.get("algoType") != "CONDITIONAL":
            raise ApiError((-1116, "Invalid algoType."))
        if side not in ("BUY", "SELL"):
            raise ApiError((-1117, "Invalid side."))
        if order_type != "STOP_MARKET":
            raise ApiError((-1116, "Invalid orderType."))
        client_id = params.get("clientAlgoId") or f"auto{secrets.token_hex(8)}"
        if any(a.client_id == client_id and a.is_open for a in account.algo_orders.values()):
            raise ApiError(E_DUPLICATE_ID)
        qty = Decimal(params.get("quantity", "0"))
        if qty <= 0:
            raise ApiError(E_QTY_ZERO)
        if qty % market.step:
            raise ApiError(E_PRECISION)
        if qty < market.min_qty:
            raise ApiError(E_MIN_QTY)
        working_type = params.get("workingType", "CONTRACT_PRICE")
        trigger = self._trigger_of(market, params.get("triggerPrice", ""), side, working_type)
        algo = FakeAlgoOrder(
            next(self._algo_ids),
            client_id,
            market.symbol,
            side,
            order_type,
            qty,
            trigger,
            working_type,
            params.get("reduceOnly", "false").lower() == "true",
        )
        account.algo_orders[algo.algo_id] = algo
        await self._algo_event(account, algo)
        return algo.wire()

    def _find_algo(self, account: FakeAccount, params: dict[str, str]) -> FakeAlgoOrder | None:
        if "algoId" in params:
            raw = params["algoId"]
            return account.algo_orders.get(int(raw) if raw.isdigit() else -1)
        client_id = params.get("clientAlgoId")
        matches = [a for a in account.algo_orders.values() if a.client_id == client_id]
        return matches[-1] if matches else None

    def h_query_algo_order(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Trade > Query Algo Order (USER_DATA): by ``algoId`` or ``clientAlgoId``."""
        assert account is not None
        algo = self._find_algo(account, params)
        if algo is None:
            raise ApiError(E_NO_SUCH_ORDER)
        return algo.wire()

    async def h_cancel_algo_order(
        self, account: FakeAccount | None, params: dict[str, str]
    ) -> JSON:
        """Trade > Cancel Algo Order (TRADE): only a NEW (untriggered) one."""
        assert account is not None
        algo = self._find_algo(account, params)
        if algo is None or not algo.is_open:
            raise ApiError(E_UNKNOWN_ORDER)
        algo.status = "CANCELED"
        algo.update_time = now_ms()
        await self._algo_event(account, algo)
        return {
            "algoId": algo.algo_id,
            "clientAlgoId": algo.client_id,
            "code": "200",
            "msg": "success",
        }

    def h_open_algo_orders(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Trade > Current All Algo Open Orders (USER_DATA)."""
        assert account is not None
        symbol = params.get("symbol")
        if symbol is not None:
            self.market(params)
        return [
            a.wire()
            for a in account.algo_orders.values()
            if a.is_open and (symbol is None or a.symbol == symbol)
        ]

    async def h_cancel_all_algo(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Trade > Cancel All Algo Open Orders (TRADE)."""
        assert account is not None
        market = self.market(params)
        for algo in list(account.algo_orders.values()):
            if algo.is_open and algo.symbol == market.symbol:
                algo.status = "CANCELED"
                algo.update_time = now_ms()
                await self._algo_event(account, algo)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # --- handlers: fees, volume, open interest ----------------------------------------------

    def h_commission_rate(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account > User Commission Rate (USER_DATA): the account's tier."""
        assert account is not None
        market = self.market(params)
        maker, taker = self.fees_of(account)
        return {
            "symbol": market.symbol,
            "makerCommissionRate": text(maker),
            "takerCommissionRate": text(taker),
        }

    def _ticker(self, market: FakeMarket) -> JSON:
        last = self.mid_price(market.symbol) if market.symbol in self.books else Decimal(1)
        return {
            "symbol": market.symbol,
            "priceChange": "0",
            "priceChangePercent": "0.000",
            "weightedAvgPrice": text(last),
            "lastPrice": text(last),
            "lastQty": "0",
            "openPrice": text(last),
            "highPrice": text(last),
            "lowPrice": text(last),
            "volume": text(market.quote_volume_24h / last),
            "quoteVolume": text(market.quote_volume_24h),
            "openTime": self.server_ms() - 86_400_000,
            "closeTime": self.server_ms(),
            "firstId": 1,
            "lastId": 2,
            "count": 2,
        }

    def h_ticker_24hr(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Market Data > 24hr Ticker Price Change Statistics: one symbol, or all without."""
        if "symbol" in params:
            return self._ticker(self.market(params))
        return [self._ticker(m) for m in self.markets.values()]

    def h_open_interest(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Market Data > Open Interest (one symbol, in contracts): the scripted base plus the
        long side held by this fake's accounts."""
        market = self.market(params)
        held = sum((max(ZERO, a.position(market.symbol).amount) for a in self.accounts), ZERO)
        return {
            "openInterest": text(market.open_interest + held),
            "symbol": market.symbol,
            "time": self.server_ms(),
        }

    # --- handlers: account ------------------------------------------------------------------

    def _position_row(self, account: FakeAccount, market: FakeMarket) -> JSON:
        position = account.positions.get(market.symbol, FakePosition())
        mark = self.mark_price(market.symbol) if market.symbol in self.books else Decimal(1)
        leverage = self.leverage_of(account, market.symbol)
        liquidation = ZERO
        if position.amount:
            liquidation = (
                position.entry * (1 - Decimal(1) / leverage)
                if position.amount > 0
                else position.entry * (1 + Decimal(1) / leverage)
            )
        return {
            "symbol": market.symbol,
            "positionAmt": text(position.amount),
            "entryPrice": text(position.entry),
            "breakEvenPrice": text(position.entry),
            "markPrice": text(mark),
            "unRealizedProfit": text((mark - position.entry) * position.amount),
            "liquidationPrice": text(liquidation),
            "leverage": str(leverage),
            "maxNotionalValue": "1000000",
            "marginType": "cross",
            "isolatedMargin": "0.00000000",
            "isAutoAddMargin": "false",
            "positionSide": "BOTH",
            "notional": text(position.amount * mark),
            "isolatedWallet": "0",
            "updateTime": now_ms(),
        }

    def h_position_risk(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Position Information (USER_DATA), one-way mode rows."""
        assert account is not None
        if "symbol" in params:
            return [self._position_row(account, self.market(params))]
        return [self._position_row(account, m) for m in self.markets.values()]

    def h_balance(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Futures Account Balance (USER_DATA)."""
        assert account is not None
        unrealized = self.unrealized(account)
        available = self.available(account)
        return [
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": text(account.wallet),
                "crossWalletBalance": text(account.wallet),
                "crossUnPnl": text(unrealized),
                "availableBalance": text(available),
                "maxWithdrawAmount": text(max(ZERO, available)),
                "marginAvailable": True,
                "updateTime": now_ms(),
            }
        ]

    def h_account(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account/Trades > Account Information V2/V3 (USDT totals, assets, positions)."""
        assert account is not None
        wallet, unrealized = account.wallet, self.unrealized(account)
        used, available = self.margin_used(account), self.available(account)
        totals = {
            "totalInitialMargin": text(used),
            "totalMaintMargin": text(used / 4),
            "totalWalletBalance": text(wallet),
            "totalUnrealizedProfit": text(unrealized),
            "totalMarginBalance": text(wallet + unrealized),
            "totalPositionInitialMargin": text(used),
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": text(wallet),
            "totalCrossUnPnl": text(unrealized),
            "availableBalance": text(available),
            "maxWithdrawAmount": text(max(ZERO, available)),
        }
        asset = {
            "asset": "USDT",
            "walletBalance": text(wallet),
            "unrealizedProfit": text(unrealized),
            "marginBalance": text(wallet + unrealized),
            "maintMargin": text(used / 4),
            "initialMargin": text(used),
            "positionInitialMargin": text(used),
            "openOrderInitialMargin": "0",
            "crossWalletBalance": text(wallet),
            "crossUnPnl": text(unrealized),
            "availableBalance": text(available),
            "maxWithdrawAmount": text(max(ZERO, available)),
            "marginAvailable": True,
            "updateTime": now_ms(),
        }
        return {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "updateTime": 0,
            "multiAssetsMargin": False,
            **totals,
            "assets": [asset],
            "positions": self.h_position_risk_v3(account, {}),
        }

    def h_position_risk_v3(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Position Information V3: only symbols with a position."""
        assert account is not None
        rows = []
        for symbol, position in account.positions.items():
            if not position.amount or params.get("symbol", symbol) != symbol:
                continue
            row = self._position_row(account, self.markets[symbol])
            margin = (
                abs(position.amount) * self.mark_price(symbol) / self.leverage_of(account, symbol)
            )
            rows.append(
                {
                    key: row[key]
                    for key in (
                        "symbol",
                        "positionAmt",
                        "entryPrice",
                        "breakEvenPrice",
                        "markPrice",
                        "unRealizedProfit",
                        "liquidationPrice",
                        "isolatedMargin",
                        "notional",
                        "isolatedWallet",
                        "positionSide",
                        "updateTime",
                    )
                }
                | {
                    "marginAsset": "USDT",
                    "initialMargin": text(margin),
                    "maintMargin": text(margin / 4),
                    "positionInitialMargin": text(margin),
                    "openOrderInitialMargin": "0",
                    "adl": 1,
                    "bidNotional": "0",
                    "askNotional": "0",
                }
            )
        return rows

    def h_leverage(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """Account/Trades > Change Initial Leverage (TRADE): ``-4028`` beyond the bracket."""
        assert account is not None
        market = self.market(params)
        raw = params.get("leverage", "")
        if not raw.isdigit() or not 1 <= int(raw) <= market.max_leverage:
            raise ApiError((-4028, f"Leverage {raw} is not valid"))
        account.leverage[market.symbol] = int(raw)
        return {"leverage": int(raw), "maxNotionalValue": "1000000", "symbol": market.symbol}

    def h_symbol_config(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Symbol Configuration (USER_DATA): leverage and margin type."""
        assert account is not None
        markets = [self.market(params)] if "symbol" in params else list(self.markets.values())
        return [
            {
                "symbol": m.symbol,
                "marginType": "CROSSED",
                "isAutoAddMargin": "false",
                "leverage": self.leverage_of(account, m.symbol),
                "maxNotionalValue": "1000000",
            }
            for m in markets
        ]

    def h_leverage_bracket(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Notional and Leverage Brackets (USER_DATA)."""
        markets = [self.market(params)] if "symbol" in params else list(self.markets.values())
        return [
            {
                "symbol": m.symbol,
                "notionalCoef": Decimal("1.50"),
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": m.max_leverage,
                        "notionalCap": 50000,
                        "notionalFloor": 0,
                        "maintMarginRatio": Decimal("0.004"),
                        "cum": Decimal("0.0"),
                    },
                    {
                        "bracket": 2,
                        "initialLeverage": max(1, m.max_leverage // 2),
                        "notionalCap": 600000,
                        "notionalFloor": 50000,
                        "maintMarginRatio": Decimal("0.005"),
                        "cum": Decimal("50.0"),
                    },
                ],
            }
            for m in markets
        ]

    def h_user_trades(self, account: FakeAccount | None, params: dict[str, str]) -> Any:
        """Account/Trades > Account Trade List (USER_DATA)."""
        assert account is not None
        market = self.market(params)
        trades = [t for t in account.trades if t.order.symbol == market.symbol]
        if "fromId" in params:
            trades = [t for t in trades if t.trade_id >= int(params["fromId"])]
        if "startTime" in params:
            trades = [t for t in trades if t.time >= int(params["startTime"])]
        if "endTime" in params:
            trades = [t for t in trades if t.time <= int(params["endTime"])]
        limit = int(params.get("limit", "500"))
        return [t.wire() for t in trades[-limit:]]

    # --- handlers: user data stream ---------------------------------------------------------

    def h_listen_key_new(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """User Data Streams > Start User Data Stream (returns the active key)."""
        assert account is not None
        if account.listen_key is None:
            account.listen_key = secrets.token_hex(32)
        account.listen_key_expires = time.monotonic() + self.listen_key_ttl
        return {"listenKey": account.listen_key}

    def h_listen_key_keepalive(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """User Data Streams > Keepalive User Data Stream: ``-1125`` if gone."""
        assert account is not None
        if account.listen_key is None:
            raise ApiError(E_LISTEN_KEY)
        account.listen_key_expires = time.monotonic() + self.listen_key_ttl
        return {"listenKey": account.listen_key}

    async def h_listen_key_close(self, account: FakeAccount | None, params: dict[str, str]) -> JSON:
        """User Data Streams > Close User Data Stream."""
        assert account is not None
        key, account.listen_key = account.listen_key, None
        for conn in list(self._connections):
            if key is not None and conn.listen_key == key:
                await conn.ws.close()
        return {}

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            for account in self.accounts:
                if account.listen_key is not None and time.monotonic() > account.listen_key_expires:
                    await self._expire(account)

    async def _expire(self, account: FakeAccount) -> None:
        key, account.listen_key = account.listen_key, None
        event = {"e": "listenKeyExpired", "E": now_ms(), "listenKey": key}
        for conn in list(self._connections):
            if conn.listen_key == key:
                await self._send(conn, key or "", event)
                await conn.ws.close()

    # --- user events ------------------------------------------------------------------------

    async def _order_event(
        self, account: FakeAccount, order: FakeOrder, execution: str, trade: FakeTrade | None = None
    ) -> None:
        stamp = now_ms()
        o = {
            "s": order.symbol,
            "c": order.client_id,
            "S": order.side,
            "o": order.type,
            "f": order.tif,
            "q": text(order.qty),
            "p": text(order.price),
            "ap": text(order.avg_price),
            "sp": text(order.stop_price),
            "x": execution,
            "X": order.status,
            "i": order.order_id,
            "l": text(trade.qty) if trade else "0",
            "z": text(order.executed),
            "L": text(trade.price) if trade else "0",
            "N": "USDT",
            "n": text(trade.commission) if trade else "0",
            "T": trade.time if trade else stamp,
            "t": trade.trade_id if trade else 0,
            "b": "0",
            "a": "0",
            "m": trade.maker if trade else False,
            "R": order.reduce_only,
            "wt": order.working_type,
            "ot": order.orig_type,
            "ps": "BOTH",
            "cp": False,
            "rp": text(trade.realized) if trade else "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "NONE",
            "pm": "NONE",
            "gtd": 0,
        }
        await self._emit(account, {"e": "ORDER_TRADE_UPDATE", "E": stamp, "T": stamp, "o": o})
        if trade is not None:
            position = account.position(order.symbol)
            await self._emit(
                account,
                {
                    "e": "ACCOUNT_UPDATE",
                    "E": stamp,
                    "T": stamp,
                    "a": {
                        "m": "ORDER",
                        "B": [
                            {
                                "a": "USDT",
                                "wb": text(account.wallet),
                                "cw": text(account.wallet),
                                "bc": "0",
                            }
                        ],
                        "P": [
                            {
                                "s": order.symbol,
                                "pa": text(position.amount),
                                "ep": text(position.entry),
                                "bep": text(position.entry),
                                "cr": "0",
                                "up": "0",
                                "mt": "cross",
                                "iw": "0",
                                "ps": "BOTH",
                            }
                        ],
                    },
                },
            )

    async def _emit(self, account: FakeAccount, event: JSON) -> None:
        if self.reorder_user_events:
            if self._held is None:
                self._held = (account, event)
                asyncio.get_running_loop().call_later(0.2, self._flush_held_soon)
                return
            held, self._held = self._held, None
            await self._deliver(account, event)
            await self._deliver(*held)
            return
        await self._deliver(account, event)

    def _flush_held_soon(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            asyncio.get_running_loop().create_task(self._deliver(*held))

    async def _deliver(self, account: FakeAccount, event: JSON) -> None:
        times = 2 if self.duplicate_user_events else 1
        for conn in list(self._connections):
            if account.listen_key is not None and conn.listen_key == account.listen_key:
                for _ in range(times):
                    await self._send(conn, account.listen_key, event)

    # --- WebSocket --------------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.refuse_ws_until:
            return web.Response(status=503, text="unavailable")
        name = request.match_info.get("name") or request.query.get("listenKey")
        combined = request.path.endswith("/stream")
        streams: set[str] = set()
        listen_key: str | None = None
        if combined:
            streams = {s for s in request.query.get("streams", "").split("/") if s}
        elif name is not None:
            if any(a.listen_key == name for a in self.accounts if a.listen_key):
                listen_key = name
            elif "@" in name:
                streams = {name}
            else:
                return web.Response(status=400, text="invalid listen key")
        for stream in list(streams):
            if any(a.listen_key == stream for a in self.accounts if a.listen_key):
                listen_key = stream
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Connection(ws, streams, combined, listen_key)
        self._connections.append(conn)
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                await self._ws_request(conn, message.data)
        finally:
            if conn in self._connections:
                self._connections.remove(conn)
        return ws

    async def _ws_request(self, conn: _Connection, data: str) -> None:
        try:
            request = loads(data)
            method, request_id = request["method"], request.get("id")
        except (ValueError, KeyError, TypeError):
            await conn.ws.send_str(dumps({"code": 3, "msg": "Invalid JSON"}))
            return
        params = request.get("params", []) or []
        if method == "SUBSCRIBE":
            conn.streams.update(params)
            reply: JSON = {"result": None, "id": request_id}
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            reply = {"result": None, "id": request_id}
        elif method == "LIST_SUBSCRIPTIONS":
            reply = {"result": sorted(conn.streams), "id": request_id}
        else:
            reply = {
                "code": 2,
                "msg": f"Invalid request: unknown variant {method}",
                "id": request_id,
            }
        await conn.ws.send_str(dumps(reply))

    async def _send(self, conn: _Connection, stream: str, event: JSON) -> None:
        payload = {"stream": stream, "data": event} if conn.combined else event
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not conn.ws.closed:
                await conn.ws.send_str(dumps(payload))


def _diff(
    old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]
) -> list[tuple[Decimal, Decimal]]:
    changes = [(p, q) for p, q in new.items() if old.get(p) != q]
    changes += [(p, ZERO) for p in old if p not in new]
    return sorted(changes)


Runner = Callable[[], Awaitable[None]]
