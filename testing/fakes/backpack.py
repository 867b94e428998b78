"""A fake Backpack exchange (REST + WebSocket) for the Backpack client's tests.

It speaks the documented wire protocol, section by section of the Backpack API docs
(https://docs.backpack.exchange, mirrored by the official Rust client ``bpx-api-client``):

* **Authentication > Signing requests** — every signed request is verified with the ED25519
  public key registered for its ``X-API-Key``, over exactly the documented string, rebuilt here
  from what was received: ``instruction=<name>`` (named by method + path), the query parameters
  (GET) or top-level JSON body fields (other methods) sorted by key as ``key=value``, then
  ``&timestamp=<X-Timestamp>&window=<X-Window>`` (window 5000 when the header is absent, at
  most 60000). A request whose timestamp is outside its window is refused as expired. Errors
  have Backpack's shape ``{"code": "...", "message": "..."}``.
* **Markets** — ``GET /api/v1/markets``, ``/depth``, ``/markPrices``, ``/fundingRates``,
  ``/time``, ``/tickers`` (24 h ``quoteVolume``, scripted per market in ``volumes``) and
  ``/openInterest`` (in the base asset, scripted in ``open_interest``).
* **Order** — ``POST/GET/DELETE /api/v1/order`` (orderExecute / orderQuery / orderCancel),
  ``GET/DELETE /api/v1/orders`` (orderQueryAll / orderCancelAll); **Futures** ``GET
  /api/v1/position``; **Capital** ``GET /api/v1/capital/collateral``; **Account** ``GET/PATCH
  /api/v1/account`` (leverageLimit, account-wide); **History** ``GET /wapi/v1/history/fills``
  and ``/wapi/v1/history/orders``.
* **Streams** — one endpoint; ``SUBSCRIBE``/``UNSUBSCRIBE``; every message wrapped as
  ``{"stream", "data"}``; ``depth.<symbol>`` (``U`` = previous ``u`` + 1), ``trade.<symbol>``,
  ``markPrice.<symbol>``; private ``account.orderUpdate[.<symbol>]`` and
  ``account.positionUpdate[.<symbol>]`` only with a valid ``signature`` array signed over
  ``instruction=subscribe&timestamp=..&window=..``.

**Trigger orders** ("Execute order": ``triggerPrice`` with ``triggerQuantity`` in place of
``quantity``, the API refusing one without the other; ``triggerBy`` ``MarkPrice`` or
``LastPrice``): they rest as ``TriggerPending`` (``quantity`` null, listed among the open
orders, cancellable by ``clientId``) until the reference price crosses the trigger, on the side
it was on at placement. Then ``triggerPlaced`` is sent and the market order executes against
the book, reduce-only when asked (a reduce-only trigger whose position is gone ends
``TriggerFailed`` with a ``triggerFailed`` event). The mark is the book's mid unless set with
:meth:`FakeBackpack.set_mark_price`, which re-checks the triggers as :meth:`set_book` does.

**Fees** are per account (``add_account(maker_fee=, taker_fee=)``, fractions; the class
defaults otherwise): ``GET /api/v1/account`` reports them in basis points as
``futuresMakerFee``/``futuresTakerFee`` and fills are charged at them.

A reused ``clientId`` is accepted (Backpack does not document ``clientId`` as unique; it is a
free uint32 label): both orders exist, and a query or cancel by ``clientId`` hits the most
recent open one.

The order book is scripted by tests (:meth:`FakeBackpack.set_book`): each change is pushed as a
depth event, and resting orders the new book crosses fill as makers. Taker orders consume the
scripted liquidity. Fault knobs are plain attributes and methods: ``fail_next``, ``delay``,
``drop_connections``, ``sequence_gap``, ``duplicate_user_events``, ``reorder_user_events``,
``duplicate_market_events``, ``clock_offset_ms``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer
from testing.fakes.matching import NetPosition, take_liquidity

JSON = dict[str, Any]
ZERO = Decimal(0)
DEFAULT_WINDOW = 5000
MAX_WINDOW = 60_000

# Error answers: (HTTP status, code, message).
E_MISSING_AUTH = (401, "UNAUTHORIZED", "Missing authentication headers")
E_UNKNOWN_KEY = (401, "UNAUTHORIZED", "API key not found")
E_SIGNATURE = (400, "INVALID_CLIENT_REQUEST", "Invalid signature, could not verify signature")
E_EXPIRED = (400, "INVALID_CLIENT_REQUEST", "Request has expired")
E_WINDOW = (400, "INVALID_CLIENT_REQUEST", "Invalid window, must be at most 60000")
E_NOT_FOUND = (404, "RESOURCE_NOT_FOUND", "Order not found")
E_MARKET = (400, "INVALID_MARKET", "Market not found")
E_POST_ONLY = (400, "INVALID_ORDER", "Order would immediately match and take")
E_REDUCE_ONLY = (400, "INVALID_ORDER", "Reduce only order not reduced")
E_MARGIN = (400, "INSUFFICIENT_MARGIN", "Insufficient margin")
E_PRICE = (400, "INVALID_PRICE", "Price does not conform to the tick size")
E_QUANTITY = (400, "INVALID_QUANTITY", "Quantity does not conform to the step size")
E_MIN_QTY = (400, "INVALID_QUANTITY", "Quantity is below the minimum allowed value")
E_LEVERAGE = (400, "INVALID_CLIENT_REQUEST", "Invalid leverage limit")
E_BAD_REQUEST = (400, "INVALID_CLIENT_REQUEST", "Invalid request")
E_TRIGGER_PAIR = (
    400,
    "INVALID_CLIENT_REQUEST",
    "Must specify both `triggerPrice` and `triggerQuantity` or neither",
)
TRIGGER_REFERENCES = ("MarkPrice", "LastPrice", "IndexPrice")

INSTRUCTIONS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/order"): "orderExecute",
    ("GET", "/api/v1/order"): "orderQuery",
    ("DELETE", "/api/v1/order"): "orderCancel",
    ("GET", "/api/v1/orders"): "orderQueryAll",
    ("DELETE", "/api/v1/orders"): "orderCancelAll",
    ("GET", "/api/v1/position"): "positionQuery",
    ("GET", "/api/v1/capital/collateral"): "collateralQuery",
    ("GET", "/api/v1/account"): "accountQuery",
    ("PATCH", "/api/v1/account"): "accountUpdate",
    ("GET", "/wapi/v1/history/fills"): "fillHistoryQueryAll",
    ("GET", "/wapi/v1/history/orders"): "orderHistoryQueryAll",
}
"""Instruction of every signed endpoint (each endpoint's "Instruction:" line in the docs)."""


class ApiError(Exception):
    def __init__(self, error: tuple[int, str, str]) -> None:
        self.status, self.code, self.message = error
        super().__init__(self.message)


def now_ms() -> int:
    return int(time.time() * 1000)


def now_us() -> int:
    return int(time.time() * 1_000_000)


def text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def keypair(seed: bytes) -> tuple[str, str]:
    """``(api_key, api_secret)`` in Backpack's form (base64 public key, base64 seed)."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes_raw()
    return base64.b64encode(public).decode(), base64.b64encode(seed).decode()


def signed_text(value: Any) -> str:
    """A received parameter as the venue writes it into the string it verifies."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


@dataclass
class FakeMarket:
    symbol: str  # e.g. BTC_USDC_PERP
    base: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    imf_base: Decimal = Decimal("0.02")  # 50x
    market_type: str = "PERP"
    funding_rate: Decimal = Decimal("0.0000125")
    funding_interval_ms: int = 3_600_000
    quote: str = "USDC"


def default_markets() -> list[FakeMarket]:
    return [
        FakeMarket("BTC_USDC_PERP", "BTC", Decimal("0.1"), Decimal("0.0001"), Decimal("0.0001")),
        FakeMarket(
            "ETH_USDC_PERP",
            "ETH",
            Decimal("0.01"),
            Decimal("0.001"),
            Decimal("0.001"),
            funding_rate=Decimal("-0.0000040"),
        ),
        FakeMarket(
            "kPEPE_USDC_PERP",
            "kPEPE",
            Decimal("0.000001"),
            Decimal("1"),
            Decimal("1"),
            imf_base=Decimal("0.1"),
        ),
        FakeMarket(
            "BTC_USDC",
            "BTC",
            Decimal("0.1"),
            Decimal("0.00001"),
            Decimal("0.00001"),
            market_type="SPOT",
        ),
    ]


DEFAULT_BOOKS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "BTC_USDC_PERP": (
        [("60000.0", "2"), ("59999.9", "3"), ("59999.0", "5"), ("59990.0", "10")],
        [("60000.1", "2"), ("60000.2", "3"), ("60001.0", "5"), ("60010.0", "10")],
    ),
    "ETH_USDC_PERP": (
        [("3000.00", "40"), ("2999.99", "80")],
        [("3000.01", "40"), ("3000.05", "90")],
    ),
    "kPEPE_USDC_PERP": ([("0.012345", "900000")], [("0.012346", "800000")]),
}


@dataclass
class FakeOrder:
    order_id: str
    client_id: int | None
    symbol: str
    side: str  # Bid / Ask
    order_type: str  # Limit / Market
    qty: Decimal
    price: Decimal | None
    post_only: bool
    reduce_only: bool
    tif: str
    status: str = "New"
    executed: Decimal = ZERO
    executed_quote: Decimal = ZERO
    created_at: int = field(default_factory=now_ms)
    trigger_price: Decimal | None = None
    trigger_by: str | None = None
    triggers_above: bool = False
    """The trigger fires when the reference price rises to it (else when it falls to it)."""
    triggered_at: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("New", "PartiallyFilled", "TriggerPending")

    @property
    def is_trigger_pending(self) -> bool:
        return self.status == "TriggerPending"

    def wire(self) -> JSON:
        row: JSON = {
            "orderType": self.order_type,
            "id": self.order_id,
            "clientId": self.client_id,
            "createdAt": self.created_at,
            "executedQuantity": text(self.executed),
            "executedQuoteQuantity": text(self.executed_quote),
            "quantity": None if self.is_trigger_pending else text(self.qty),
            "reduceOnly": self.reduce_only,
            "timeInForce": self.tif,
            "selfTradePrevention": "RejectTaker",
            "side": self.side,
            "status": self.status,
            "symbol": self.symbol,
        }
        if self.order_type == "Limit":
            row["price"] = text(self.price or ZERO)
            row["postOnly"] = self.post_only
        if self.trigger_price is not None:
            row["triggerPrice"] = text(self.trigger_price)
            row["triggerQuantity"] = text(self.qty)
            row["triggerBy"] = self.trigger_by
            row["triggeredAt"] = self.triggered_at
        return row


@dataclass
class FakeFill:
    trade_id: int
    order: FakeOrder
    price: Decimal
    qty: Decimal
    fee: Decimal
    maker: bool
    ts_us: int

    def wire(self) -> JSON:
        """A fill-history row ("History > Get fill history")."""
        stamp = datetime.fromtimestamp(self.ts_us / 1_000_000, tz=UTC).replace(tzinfo=None)
        return {
            "clientId": str(self.order.client_id) if self.order.client_id is not None else None,
            "fee": text(self.fee),
            "feeSymbol": "USDC",
            "isMaker": self.maker,
            "orderId": self.order.order_id,
            "price": text(self.price),
            "quantity": text(self.qty),
            "side": self.order.side,
            "symbol": self.order.symbol,
            "systemOrderType": None,
            "timestamp": stamp.isoformat(timespec="microseconds"),
            "tradeId": self.trade_id,
        }


@dataclass
class FakePosition(NetPosition):
    realized: Decimal = ZERO
    funding: Decimal = ZERO  # cumulative funding credited (negative when paid)


@dataclass
class FakeAccount:
    name: str
    api_key: str
    public_key: Ed25519PublicKey
    wallet: Decimal
    leverage_limit: Decimal = Decimal(10)
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.0005")
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    fills: list[FakeFill] = field(default_factory=list)
    positions: dict[str, FakePosition] = field(default_factory=dict)

    def position(self, symbol: str) -> FakePosition:
        return self.positions.setdefault(symbol, FakePosition())


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    streams: set[str] = field(default_factory=set)
    account: FakeAccount | None = None


class FakeBackpack:
    """The venue: markets, accounts, books, matching, REST and WebSocket servers."""

    maker_fee = Decimal("0.0002")
    taker_fee = Decimal("0.0005")
    """Fees of an account added without its own (Backpack's base futures tier: 2 / 5 bps)."""

    def __init__(self, markets: Iterable[FakeMarket] | None = None) -> None:
        self.markets = {m.symbol: m for m in (markets or default_markets())}
        self.volumes: dict[str, Decimal] = {
            "BTC_USDC_PERP": Decimal("812345678.9"),
            "ETH_USDC_PERP": Decimal("301234567.8"),
            "kPEPE_USDC_PERP": Decimal("1234567.89"),
            "BTC_USDC": Decimal("45678901.2"),
        }
        """24 h quote volume per market (``/tickers`` ``quoteVolume``); 0 when absent."""
        self.open_interest: dict[str, Decimal] = {
            "BTC_USDC_PERP": Decimal("1273.85214"),
            "ETH_USDC_PERP": Decimal("20451.123"),
            "kPEPE_USDC_PERP": Decimal("9876543"),
        }
        """Open interest per perp in its base asset (``/openInterest``); 0 when absent."""
        self.last_trade: dict[str, Decimal] = {}
        self.accounts: list[FakeAccount] = []
        self.books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.update_ids: dict[str, int] = {}
        self.mark_overrides: dict[str, Decimal] = {}
        self.funding_history: dict[str, list[JSON]] = {}
        self._order_ids = itertools.count(112_000_000_000_000_001)
        self._trade_ids = itertools.count(4_000_001)
        self._public_trade_ids = itertools.count(900_001)
        self._connections: list[_Connection] = []
        self.requests: list[tuple[str, str]] = []
        self.signing_strings: list[str] = []
        """Every REST string the fake verified, in order (tests compare them)."""
        # fault knobs
        self._failures: list[tuple[int, float | None, bool, str | None]] = []
        self.delay = 0.0
        self.refuse_ws_until = 0.0
        self._gaps: dict[str, int] = {}
        self.duplicate_user_events = False
        self.reorder_user_events = False
        self.duplicate_market_events = False
        self.clock_offset_ms = 0
        self._held: tuple[FakeAccount, str, JSON] | None = None
        self._server = LocalServer()
        self.base_url = ""
        self.ws_url = ""
        for symbol, (bids, asks) in DEFAULT_BOOKS.items():
            if symbol in self.markets:
                self.books[symbol] = (
                    {Decimal(p): Decimal(q) for p, q in bids},
                    {Decimal(p): Decimal(q) for p, q in asks},
                )
                self.update_ids[symbol] = 1_684_026_955_000

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBackpack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/", self._ws_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        port = await self._server.serve(app)
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/"

    async def stop(self) -> None:
        await self._server.close(conn.ws for conn in self._connections)

    # --- accounts ---------------------------------------------------------------------------

    def add_account(
        self,
        api_key: str,
        *,
        name: str = "main",
        wallet: Decimal = Decimal(10_000),
        maker_fee: Decimal | None = None,
        taker_fee: Decimal | None = None,
    ) -> FakeAccount:
        """An account with its own fee tier (fractions: ``Decimal("0.0002")`` = 2 bps)."""
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(api_key))
        account = FakeAccount(
            name,
            api_key,
            public,
            wallet,
            maker_fee=self.maker_fee if maker_fee is None else maker_fee,
            taker_fee=self.taker_fee if taker_fee is None else taker_fee,
        )
        self.accounts.append(account)
        return account

    def account_by_key(self, api_key: str) -> FakeAccount | None:
        return next((a for a in self.accounts if a.api_key == api_key), None)

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
        """The next ``count`` requests (to ``path`` if given) answer ``status``.

        ``after_processing``: the request takes effect first, then the error is answered (the
        "outcome unknown" case).
        """
        self._failures.extend([(status, retry_after, after_processing, path)] * count)

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        """Close every WebSocket; refuse new ones for ``refuse_for`` seconds."""
        self.refuse_ws_until = time.monotonic() + refuse_for
        for conn in list(self._connections):
            await conn.ws.close()

    def sequence_gap(self, symbol: str) -> None:
        """The next depth event of ``symbol`` skips an update id (``U`` != previous ``u`` + 1)."""
        self._gaps[symbol] = self._gaps.get(symbol, 0) + 1

    @property
    def ws_connection_count(self) -> int:
        return len(self._connections)

    def private_connections(self, account: FakeAccount) -> int:
        return sum(1 for c in self._connections if c.account is account)

    def server_ms(self) -> int:
        return now_ms() + self.clock_offset_ms

    # --- book scripting ---------------------------------------------------------------------

    def book(
        self, symbol: str
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids, asks = self.books.get(symbol, ({}, {}))
        return (
            sorted(bids.items(), key=lambda level: -level[0]),
            sorted(asks.items(), key=lambda level: level[0]),
        )

    async def set_book(
        self, symbol: str, bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]]
    ) -> None:
        """Replace the book (pushing the difference as one depth event); resting orders that the
        new book crosses fill as makers."""
        new_bids = {Decimal(p): Decimal(q) for p, q in bids}
        new_asks = {Decimal(p): Decimal(q) for p, q in asks}
        old_bids, old_asks = self.books.get(symbol, ({}, {}))
        self.books[symbol] = (new_bids, new_asks)
        await self._push_depth(symbol, _diff(old_bids, new_bids), _diff(old_asks, new_asks))
        await self._match_resting(symbol)
        await self._check_triggers(symbol)

    async def set_mark_price(self, symbol: str, price: Decimal | None) -> None:
        """Pin the mark price (``None``: back to the book's mid), then fire the triggers it
        crosses; the trigger's market order still executes against the book."""
        if price is None:
            self.mark_overrides.pop(symbol, None)
        else:
            self.mark_overrides[symbol] = price
        await self._check_triggers(symbol)

    def mark_price(self, symbol: str) -> Decimal:
        if symbol in self.mark_overrides:
            return self.mark_overrides[symbol]
        bids, asks = self.book(symbol)
        if bids and asks:
            return (bids[0][0] + asks[0][0]) / 2
        if bids or asks:
            return (bids or asks)[0][0]
        return Decimal(1)

    async def push_mark_price(self, symbol: str) -> None:
        """Send a ``markPrice.<symbol>`` event ("Streams > Public > Mark price")."""
        market = self.markets[symbol]
        event = {
            "e": "markPrice",
            "E": now_us(),
            "s": symbol,
            "p": text(self.mark_price(symbol)),
            "f": text(market.funding_rate),
            "i": text(self.mark_price(symbol)),
            "n": self.next_funding_ms(market) * 1000,
            "T": now_us(),
        }
        await self._broadcast(f"markPrice.{symbol}", event)

    async def settle_funding(self, symbol: str) -> None:
        """Pay one funding interval on every open position (positive rate: longs pay)."""
        market = self.markets[symbol]
        for account in self.accounts:
            position = account.positions.get(symbol)
            if position is None or position.amount == 0:
                continue
            credit = -market.funding_rate * position.amount * self.mark_price(symbol)
            position.funding += credit
            account.wallet += credit
        self.funding_history.setdefault(symbol, []).insert(
            0,
            {
                "symbol": symbol,
                "intervalEndTimestamp": datetime.now(UTC).replace(tzinfo=None).isoformat(),
                "fundingRate": text(market.funding_rate),
            },
        )

    async def _push_depth(
        self, symbol: str, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]
    ) -> None:
        if not bids and not asks:
            return
        previous = self.update_ids.get(symbol, 1_684_026_955_000)
        if self._gaps.get(symbol):
            self._gaps[symbol] -= 1
            previous += 2  # updates the subscriber never receives
        first = last = previous + 1
        self.update_ids[symbol] = last
        stamp = now_us()
        event = {
            "e": "depth",
            "E": stamp,
            "s": symbol,
            "a": [[text(p), text(q)] for p, q in asks],
            "b": [[text(p), text(q)] for p, q in bids],
            "U": first,
            "u": last,
            "T": stamp,
        }
        times = 2 if self.duplicate_market_events else 1
        for _ in range(times):
            await self._broadcast(f"depth.{symbol}", event)

    async def _broadcast(self, stream: str, event: JSON) -> None:
        for conn in list(self._connections):
            if stream in conn.streams:
                await self._send(conn, stream, event)

    # --- trigger orders ---------------------------------------------------------------------

    def reference_price(self, symbol: str, trigger_by: str | None) -> Decimal:
        if trigger_by == "LastPrice" and symbol in self.last_trade:
            return self.last_trade[symbol]
        return self.mark_price(symbol)

    async def _check_triggers(self, symbol: str) -> None:
        for account in self.accounts:
            for order in list(account.orders.values()):
                if order.symbol != symbol or not order.is_trigger_pending:
                    continue
                assert order.trigger_price is not None
                reference = self.reference_price(symbol, order.trigger_by)
                crossed = (
                    reference >= order.trigger_price
                    if order.triggers_above
                    else reference <= order.trigger_price
                )
                if crossed:
                    await self._trigger(account, order)

    async def _trigger(self, account: FakeAccount, order: FakeOrder) -> None:
        """The trigger fires: ``triggerPlaced``, then the order executes as a market order."""
        order.triggered_at = now_ms()
        position = account.position(order.symbol).amount
        if order.reduce_only:
            reducing = (position > 0 and order.side == "Ask") or (
                position < 0 and order.side == "Bid"
            )
            if not reducing:
                order.status = "TriggerFailed"
                await self._order_event(account, order, "triggerFailed")
                return
            order.qty = min(order.qty, abs(position))
        order.status = "Triggered"
        await self._order_event(account, order, "triggerPlaced")
        await self._take(account, order, None)
        if order.executed < order.qty:
            order.status = "Expired"
            await self._order_event(account, order, "orderExpired")

    async def _take(self, account: FakeAccount, order: FakeOrder, limit: Decimal | None) -> None:
        """``order`` takes the book's liquidity within ``limit``, one fill event per level."""
        levels = await self._consume(order.symbol, order.side, order.qty - order.executed, limit)
        for level_price, level_qty in levels:
            fill = await self._fill(account, order, level_price, level_qty, maker=False)
            order.status = "Filled" if order.executed == order.qty else "PartiallyFilled"
            await self._order_event(account, order, "orderFill", fill)

    # --- matching ---------------------------------------------------------------------------

    async def _match_resting(self, symbol: str) -> None:
        for account in self.accounts:
            for order in list(account.orders.values()):
                if order.symbol != symbol or not order.is_open or order.price is None:
                    continue
                bids, asks = self.book(symbol)
                levels = asks if order.side == "Bid" else bids
                crossing = [
                    q
                    for p, q in levels
                    if (p <= order.price if order.side == "Bid" else p >= order.price)
                ]
                qty = min(sum(crossing, ZERO), order.qty - order.executed)
                if qty <= 0:
                    continue
                await self._consume(symbol, order.side, qty, None)
                fill = await self._fill(account, order, order.price, qty, maker=True)
                order.status = "Filled" if order.executed == order.qty else "PartiallyFilled"
                await self._order_event(account, order, "orderFill", fill)

    async def _consume(
        self, symbol: str, taker_side: str, qty: Decimal, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """Take up to ``qty`` from the book (asks for a bid), within ``limit``."""
        bids, asks = self.books[symbol]
        side = asks if taker_side == "Bid" else bids
        taken = take_liquidity(side, qty, buying=taker_side == "Bid", limit=limit)
        changes = [(price, side.get(price, ZERO)) for price, _ in taken]
        if taker_side == "Bid":
            await self._push_depth(symbol, [], changes)
        else:
            await self._push_depth(symbol, changes, [])
        return taken

    async def _fill(
        self, account: FakeAccount, order: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool
    ) -> FakeFill:
        fee = price * qty * (account.maker_fee if maker else account.taker_fee)
        signed = qty if order.side == "Bid" else -qty
        position = account.position(order.symbol)
        realized = position.fill(signed, price)
        position.realized += realized
        account.wallet += realized - fee
        order.executed += qty
        order.executed_quote += price * qty
        fill = FakeFill(next(self._trade_ids), order, price, qty, fee, maker, now_us())
        account.fills.append(fill)
        self.last_trade[order.symbol] = price
        await self._broadcast(
            f"trade.{order.symbol}",
            {
                "e": "trade",
                "E": fill.ts_us,
                "s": order.symbol,
                "p": text(price),
                "q": text(qty),
                "b": order.order_id if order.side == "Bid" else "0",
                "a": order.order_id if order.side == "Ask" else "0",
                "t": next(self._public_trade_ids),
                "T": fill.ts_us,
                "m": maker == (order.side == "Bid"),
            },
        )
        return fill

    # --- account figures --------------------------------------------------------------------

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
                used += abs(position.amount) * self.mark_price(symbol) / account.leverage_limit
        for order in account.orders.values():
            if order.is_open and order.price is not None:
                used += (order.qty - order.executed) * order.price / account.leverage_limit
        return used

    def available(self, account: FakeAccount) -> Decimal:
        return account.wallet + self.unrealized(account) - self.margin_used(account)

    def next_funding_ms(self, market: FakeMarket) -> int:
        interval = market.funding_interval_ms
        return (now_ms() // interval + 1) * interval

    # --- HTTP -------------------------------------------------------------------------------

    async def _http_handler(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        failure = next((f for f in self._failures if f[3] is None or f[3] == request.path), None)
        if failure is not None:
            self._failures.remove(failure)
            if not failure[2]:
                return self._failure_response(failure)
        handler = self._handlers().get((request.method, request.path))
        if handler is None:
            return _error_response((404, "NOT_FOUND", "Not found"))
        try:
            params = await self._params(request)
            account = None
            instruction = INSTRUCTIONS.get((request.method, request.path))
            if instruction is not None:
                account = self.authenticate(request, instruction, params)
            result = handler(account, params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            return _error_response((exc.status, exc.code, exc.message))
        if self.delay:  # slow answer: the request has taken effect, the reply is late
            await asyncio.sleep(self.delay)
        if failure is not None:
            return self._failure_response(failure)
        if result is None:
            return web.Response(status=200)
        return web.Response(text=dumps(result), content_type="application/json")

    async def _params(self, request: web.Request) -> JSON:
        if request.method == "GET":
            return dict(request.query)
        body = await request.text()
        if not body:
            return {}
        try:
            parsed = loads(body)
        except ValueError:
            raise ApiError(E_BAD_REQUEST) from None
        if not isinstance(parsed, dict):
            raise ApiError(E_BAD_REQUEST)
        return parsed

    def _failure_response(
        self, failure: tuple[int, float | None, bool, str | None]
    ) -> web.Response:
        status, retry_after, _, _ = failure
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        if status == 429:
            payload = {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"}
        else:
            payload = {"code": "SERVER_ERROR", "message": "Internal server error"}
        return web.Response(
            text=dumps(payload), status=status, headers=headers, content_type="application/json"
        )

    def authenticate(self, request: web.Request, instruction: str, params: JSON) -> FakeAccount:
        key = request.headers.get("X-API-Key")
        signature = request.headers.get("X-Signature")
        timestamp = request.headers.get("X-Timestamp")
        window_text = request.headers.get("X-Window", str(DEFAULT_WINDOW))
        if not key or not signature or not timestamp or not timestamp.isdigit():
            raise ApiError(E_MISSING_AUTH)
        account = self.account_by_key(key)
        if account is None:
            raise ApiError(E_UNKNOWN_KEY)
        if not window_text.isdigit() or not 0 < int(window_text) <= MAX_WINDOW:
            raise ApiError(E_WINDOW)
        window = int(window_text)
        self._check_fresh(int(timestamp), window)
        parts = [f"instruction={instruction}"]
        parts += [f"{k}={signed_text(params[k])}" for k in sorted(params)]
        parts += [f"timestamp={timestamp}", f"window={window}"]
        message = "&".join(parts)
        self._verify(account, signature, message)
        self.signing_strings.append(message)
        return account

    def _check_fresh(self, timestamp: int, window: int) -> None:
        server = self.server_ms()
        if server - timestamp > window or timestamp - server > window:
            raise ApiError(E_EXPIRED)

    def _verify(self, account: FakeAccount, signature: str, message: str) -> None:
        try:
            account.public_key.verify(base64.b64decode(signature, validate=True), message.encode())
        except (InvalidSignature, binascii.Error, ValueError):
            raise ApiError(E_SIGNATURE) from None

    def _handlers(self) -> dict[tuple[str, str], Callable[[FakeAccount | None, JSON], Any]]:
        return {
            ("GET", "/api/v1/markets"): self.h_markets,
            ("GET", "/api/v1/depth"): self.h_depth,
            ("GET", "/api/v1/markPrices"): self.h_mark_prices,
            ("GET", "/api/v1/fundingRates"): self.h_funding_rates,
            ("GET", "/api/v1/time"): lambda _a, _p: self.server_ms(),
            ("GET", "/api/v1/tickers"): self.h_tickers,
            ("GET", "/api/v1/openInterest"): self.h_open_interest,
            ("POST", "/api/v1/order"): self.h_execute,
            ("GET", "/api/v1/order"): self.h_query,
            ("DELETE", "/api/v1/order"): self.h_cancel,
            ("GET", "/api/v1/orders"): self.h_open_orders,
            ("DELETE", "/api/v1/orders"): self.h_cancel_all,
            ("GET", "/api/v1/position"): self.h_positions,
            ("GET", "/api/v1/capital/collateral"): self.h_collateral,
            ("GET", "/api/v1/account"): self.h_account,
            ("PATCH", "/api/v1/account"): self.h_account_update,
            ("GET", "/wapi/v1/history/fills"): self.h_fill_history,
            ("GET", "/wapi/v1/history/orders"): self.h_order_history,
        }

    # --- handlers: market data ("Markets") --------------------------------------------------

    def market(self, params: JSON) -> FakeMarket:
        market = self.markets.get(str(params.get("symbol", "")))
        if market is None:
            raise ApiError(E_MARKET)
        return market

    def h_markets(self, account: FakeAccount | None, params: JSON) -> Any:
        rows = []
        for m in self.markets.values():
            row: JSON = {
                "symbol": m.symbol,
                "baseSymbol": m.base,
                "quoteSymbol": m.quote,
                "marketType": m.market_type,
                "filters": {
                    "price": {"minPrice": text(m.tick), "maxPrice": None, "tickSize": text(m.tick)},
                    "quantity": {
                        "minQuantity": text(m.min_qty),
                        "maxQuantity": None,
                        "stepSize": text(m.step),
                    },
                },
                "orderBookState": "Open",
                "createdAt": "2025-01-21T06:34:54.691858",
                "visible": True,
            }
            if m.market_type == "PERP":
                row["imfFunction"] = {"type": "sqrt", "base": text(m.imf_base), "factor": "0.0001"}
                row["mmfFunction"] = {"type": "sqrt", "base": "0.0125", "factor": "0.00006"}
                row["fundingInterval"] = m.funding_interval_ms
                row["fundingRateUpperBound"] = "100"
                row["fundingRateLowerBound"] = "-100"
            rows.append(row)
        return rows

    def h_depth(self, account: FakeAccount | None, params: JSON) -> JSON:
        market = self.market(params)
        bids, asks = self.book(market.symbol)
        return {
            "asks": [[text(p), text(q)] for p, q in asks],
            "bids": [[text(p), text(q)] for p, q in reversed(bids)],  # ascending, as documented
            "lastUpdateId": str(self.update_ids.get(market.symbol, 1_684_026_955_000)),
            "timestamp": now_us(),
        }

    def _mark_row(self, market: FakeMarket) -> JSON:
        return {
            "fundingRate": text(market.funding_rate),
            "indexPrice": text(self.mark_price(market.symbol)),
            "markPrice": text(self.mark_price(market.symbol)),
            "nextFundingTimestamp": self.next_funding_ms(market),
            "symbol": market.symbol,
        }

    def h_mark_prices(self, account: FakeAccount | None, params: JSON) -> Any:
        if params.get("symbol"):
            return [self._mark_row(self.market(params))]
        return [self._mark_row(m) for m in self.markets.values() if m.market_type == "PERP"]

    def h_tickers(self, account: FakeAccount | None, params: JSON) -> Any:
        """``GET /api/v1/tickers`` ("Markets > Get tickers"): every market's 24 h ticker."""
        if params.get("interval", "1d") not in ("1d", "1w"):
            raise ApiError(E_BAD_REQUEST)
        rows = []
        for m in self.markets.values():
            last = self.last_trade.get(m.symbol, self.mark_price(m.symbol))
            quote_volume = self.volumes.get(m.symbol, ZERO)
            rows.append(
                {
                    "symbol": m.symbol,
                    "firstPrice": text(last),
                    "lastPrice": text(last),
                    "priceChange": "0",
                    "priceChangePercent": "0",
                    "high": text(last),
                    "low": text(last),
                    "volume": text((quote_volume / last).quantize(m.step)) if last else "0",
                    "quoteVolume": text(quote_volume),
                    "trades": "1234",
                }
            )
        return rows

    def h_open_interest(self, account: FakeAccount | None, params: JSON) -> Any:
        """``GET /api/v1/openInterest`` ("Markets > Get open interest"): one market or all."""
        markets = (
            [self.market(params)]
            if params.get("symbol")
            else [m for m in self.markets.values() if m.market_type == "PERP"]
        )
        return [
            {
                "symbol": m.symbol,
                "openInterest": text(self.open_interest.get(m.symbol, ZERO)),
                "timestamp": now_ms(),
            }
            for m in markets
        ]

    def h_funding_rates(self, account: FakeAccount | None, params: JSON) -> Any:
        market = self.market(params)
        return list(self.funding_history.get(market.symbol, []))

    # --- handlers: orders ("Order") ---------------------------------------------------------

    async def h_execute(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        market = self.market(params)
        side = params.get("side")
        order_type = params.get("orderType")
        if side not in ("Bid", "Ask") or order_type not in ("Limit", "Market"):
            raise ApiError(E_BAD_REQUEST)
        if ("triggerPrice" in params) != ("triggerQuantity" in params):
            raise ApiError(E_TRIGGER_PAIR)
        trigger_by = str(params.get("triggerBy") or "LastPrice")
        if trigger_by not in TRIGGER_REFERENCES:
            raise ApiError(E_BAD_REQUEST)
        try:
            quantity_key = "triggerQuantity" if "triggerPrice" in params else "quantity"
            qty = Decimal(str(params[quantity_key]))
            price = Decimal(str(params["price"])) if order_type == "Limit" else None
            trigger = Decimal(str(params["triggerPrice"])) if "triggerPrice" in params else None
        except (KeyError, ArithmeticError):
            raise ApiError(E_BAD_REQUEST) from None
        if trigger is not None and (trigger <= 0 or trigger % market.tick):
            raise ApiError(E_PRICE)
        if qty <= 0 or qty % market.step:
            raise ApiError(E_QUANTITY)
        if qty < market.min_qty:
            raise ApiError(E_MIN_QTY)
        if price is not None and (price <= 0 or price % market.tick):
            raise ApiError(E_PRICE)
        post_only = params.get("postOnly") is True
        reduce_only = params.get("reduceOnly") is True
        tif = str(params.get("timeInForce") or ("IOC" if order_type == "Market" else "GTC"))
        client_id = params.get("clientId")
        if client_id is not None and (not isinstance(client_id, int) or not 0 <= client_id < 2**32):
            raise ApiError(E_BAD_REQUEST)
        bids, asks = self.book(market.symbol)
        opposite = asks if side == "Bid" else bids
        crosses = bool(opposite) and (
            price is None or (opposite[0][0] <= price if side == "Bid" else opposite[0][0] >= price)
        )
        if post_only and crosses:
            raise ApiError(E_POST_ONLY)
        position = account.position(market.symbol)
        if reduce_only:
            reducing = (position.amount > 0 and side == "Ask") or (
                position.amount < 0 and side == "Bid"
            )
            if not reducing or qty > abs(position.amount):
                raise ApiError(E_REDUCE_ONLY)
        elif trigger is None:
            reference = price if price is not None else (opposite[0][0] if opposite else ZERO)
            required = qty * reference / account.leverage_limit
            if required > self.available(account):
                raise ApiError(E_MARGIN)
        order = FakeOrder(
            str(next(self._order_ids)),
            client_id,
            market.symbol,
            side,
            order_type,
            qty,
            price,
            post_only,
            reduce_only,
            tif,
        )
        account.orders[order.order_id] = order
        if trigger is not None:
            order.status = "TriggerPending"
            order.trigger_price, order.trigger_by = trigger, trigger_by
            order.triggers_above = trigger > self.reference_price(market.symbol, trigger_by)
            await self._order_event(account, order, "orderAccepted")
            return order.wire()
        await self._order_event(account, order, "orderAccepted")
        if crosses:
            await self._take(account, order, price)
        if order.executed < order.qty and (order_type == "Market" or tif in ("IOC", "FOK")):
            order.status = "Expired"
            await self._order_event(account, order, "orderExpired")
        return order.wire()

    def _find(self, account: FakeAccount, params: JSON, *, open_only: bool) -> FakeOrder:
        market = self.market(params)
        order_id, client_id = params.get("orderId"), params.get("clientId")
        if (order_id is None) == (client_id is None):
            raise ApiError((400, "INVALID_CLIENT_REQUEST", "Specify one of orderId or clientId"))
        candidates = [
            o
            for o in reversed(list(account.orders.values()))
            if o.symbol == market.symbol
            and (not open_only or o.is_open)
            and (
                o.order_id == str(order_id)
                if order_id is not None
                else str(o.client_id) == str(client_id)
            )
        ]
        if not candidates:
            raise ApiError(E_NOT_FOUND)
        return candidates[0]

    def h_query(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        return self._find(account, params, open_only=True).wire()

    async def h_cancel(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        order = self._find(account, params, open_only=True)
        order.status = "Cancelled"
        await self._order_event(account, order, "orderCancelled")
        return order.wire()

    def h_open_orders(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        symbol = params.get("symbol")
        return [
            o.wire()
            for o in account.orders.values()
            if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    async def h_cancel_all(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        market = self.market(params)
        cancelled = []
        for order in list(account.orders.values()):
            if order.symbol == market.symbol and order.is_open:
                order.status = "Cancelled"
                await self._order_event(account, order, "orderCancelled")
                cancelled.append(order.wire())
        return cancelled

    # --- handlers: account ------------------------------------------------------------------

    def h_positions(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        rows = []
        for symbol, p in account.positions.items():
            if p.amount == 0 or (params.get("symbol") and params["symbol"] != symbol):
                continue
            mark = self.mark_price(symbol)
            imf = 1 / account.leverage_limit
            rows.append(
                {
                    "breakEvenPrice": text(p.entry),
                    "entryPrice": text(p.entry),
                    "estLiquidationPrice": "0",
                    "imf": text(imf),
                    "imfFunction": {"type": "sqrt", "base": "0.02", "factor": "0.0001"},
                    "markPrice": text(mark),
                    "mmf": "0.0125",
                    "mmfFunction": {"type": "sqrt", "base": "0.0125", "factor": "0.00006"},
                    "netCost": text(p.cost if p.amount > 0 else -p.cost),
                    "netQuantity": text(p.amount),
                    "netExposureQuantity": text(abs(p.amount)),
                    "netExposureNotional": text(abs(p.amount) * mark),
                    "pnlRealized": text(p.realized),
                    "pnlUnrealized": text((mark - p.entry) * p.amount),
                    "cumulativeFundingPayment": text(p.funding),
                    "subaccountId": None,
                    "symbol": symbol,
                    "userId": 1,
                    "positionId": f"pos-{symbol}",
                }
            )
        return rows

    def h_collateral(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        unrealized = self.unrealized(account)
        equity = account.wallet + unrealized
        used = self.margin_used(account)
        return {
            "assetsValue": text(account.wallet),
            "borrowLiability": "0",
            "collateral": [
                {
                    "symbol": "USDC",
                    "assetMarkPrice": "1",
                    "totalQuantity": text(account.wallet),
                    "balanceNotional": text(account.wallet),
                    "collateralWeight": "1",
                    "collateralValue": text(account.wallet),
                    "openOrderQuantity": "0",
                    "lendQuantity": "0",
                    "availableQuantity": text(account.wallet),
                }
            ],
            "imf": text(1 / account.leverage_limit),
            "unsettledEquity": text(unrealized),
            "liabilitiesValue": "0",
            "marginFraction": None,
            "mmf": "0.0125",
            "netEquity": text(equity),
            "netEquityAvailable": text(equity - used),
            "netEquityLocked": text(used),
            "netExposureFutures": "0",
            "pnlUnrealized": text(unrealized),
        }

    def h_account(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        return {
            "autoBorrowSettlements": True,
            "autoLend": False,
            "autoRealizePnl": True,
            "autoRepayBorrows": True,
            "borrowLimit": "0",
            "futuresMakerFee": text(account.maker_fee * 10_000),
            "futuresTakerFee": text(account.taker_fee * 10_000),
            "leverageLimit": text(account.leverage_limit),
            "limitOrders": 0,
            "liquidating": False,
            "positionLimit": "1000000",
            "spotMakerFee": "0",
            "spotTakerFee": "0",
            "triggerOrders": sum(1 for o in account.orders.values() if o.is_trigger_pending),
        }

    def h_account_update(self, account: FakeAccount | None, params: JSON) -> None:
        assert account is not None
        if "leverageLimit" in params:
            try:
                leverage = Decimal(str(params["leverageLimit"]))
            except ArithmeticError:
                raise ApiError(E_LEVERAGE) from None
            highest = max(
                (1 / m.imf_base for m in self.markets.values() if m.market_type == "PERP"),
                default=Decimal(1),
            )
            if not 1 <= leverage <= highest:
                raise ApiError(E_LEVERAGE)
            account.leverage_limit = leverage
        return None

    # --- handlers: history ------------------------------------------------------------------

    def h_fill_history(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        fills = [
            f
            for f in account.fills
            if (not params.get("symbol") or f.order.symbol == params["symbol"])
            and (not params.get("orderId") or f.order.order_id == params["orderId"])
            and (not params.get("from") or f.ts_us // 1000 >= int(params["from"]))
            and (not params.get("to") or f.ts_us // 1000 <= int(params["to"]))
        ]
        if params.get("sortDirection") != "Asc":
            fills.reverse()
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        return [f.wire() for f in fills[offset : offset + limit]]

    def h_order_history(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        orders = [
            o
            for o in reversed(list(account.orders.values()))
            if (not params.get("symbol") or o.symbol == params["symbol"])
            and (not params.get("orderId") or o.order_id == params["orderId"])
        ]
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        return [o.wire() for o in orders[offset : offset + limit]]

    # --- user events ------------------------------------------------------------------------

    async def _order_event(
        self, account: FakeAccount, order: FakeOrder, event_type: str, fill: FakeFill | None = None
    ) -> None:
        """An ``account.orderUpdate`` event ("Streams > Private > Order update")."""
        stamp = now_us()
        event: JSON = {
            "e": event_type,
            "E": stamp,
            "s": order.symbol,
            "S": order.side,
            "o": order.order_type.upper(),
            "f": order.tif,
            "q": text(order.qty),
            "X": order.status,
            "i": order.order_id,
            "z": text(order.executed),
            "Z": text(order.executed_quote),
            "V": "RejectTaker",
            "T": fill.ts_us if fill else stamp,
            "O": "USER",
            "r": order.reduce_only,
            "y": order.post_only,
        }
        if order.client_id is not None:
            event["c"] = order.client_id
        if order.price is not None:
            event["p"] = text(order.price)
        if order.trigger_price is not None:
            event["P"] = text(order.trigger_price)
            event["B"] = order.trigger_by
            event["Y"] = text(order.qty)
            if order.is_trigger_pending:
                del event["q"]  # "q - Only present if the order has a quantity set"
        if event_type == "orderExpired":
            event["R"] = "IMMEDIATE_OR_CANCEL"
        if fill is not None:
            event.update(
                {
                    "t": fill.trade_id,
                    "l": text(fill.qty),
                    "L": text(fill.price),
                    "m": fill.maker,
                    "n": text(fill.fee),
                    "N": "USDC",
                }
            )
        await self._emit(account, "account.orderUpdate", event)
        if fill is not None:
            await self._emit(
                account, "account.positionUpdate", self._position_event(account, order.symbol)
            )

    def _position_event(self, account: FakeAccount, symbol: str) -> JSON:
        p = account.position(symbol)
        mark = self.mark_price(symbol)
        return {
            "e": "positionAdjusted" if p.amount else "positionClosed",
            "E": now_us(),
            "s": symbol,
            "b": text(p.entry),
            "B": text(p.entry),
            "f": text(1 / account.leverage_limit),
            "M": text(mark),
            "m": "0.0125",
            "q": text(p.amount),
            "Q": text(abs(p.amount)),
            "n": text(abs(p.amount) * mark),
            "i": f"pos-{symbol}",
            "p": text(p.realized),
            "P": text((mark - p.entry) * p.amount),
            "T": now_us(),
        }

    async def _emit(self, account: FakeAccount, stream: str, event: JSON) -> None:
        if self.reorder_user_events and stream == "account.orderUpdate":
            if self._held is None:
                self._held = (account, stream, event)
                asyncio.get_running_loop().call_later(0.2, self._flush_held_soon)
                return
            held, self._held = self._held, None
            await self._deliver(account, stream, event)
            await self._deliver(*held)
            return
        await self._deliver(account, stream, event)

    def _flush_held_soon(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            asyncio.get_running_loop().create_task(self._deliver(*held))

    async def _deliver(self, account: FakeAccount, stream: str, event: JSON) -> None:
        times = 2 if self.duplicate_user_events else 1
        per_symbol = f"{stream}.{event['s']}"
        for conn in list(self._connections):
            if conn.account is not account:
                continue
            for name in (stream, per_symbol):
                if name in conn.streams:
                    for _ in range(times):
                        await self._send(conn, name, event)

    # --- WebSocket ("Streams") --------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.refuse_ws_until:
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.append(conn)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._ws_request(conn, message.data)
        finally:
            if conn in self._connections:
                self._connections.remove(conn)
        return ws

    async def _ws_request(self, conn: _Connection, data: str) -> None:
        try:
            request = loads(data)
            method = request["method"]
            params = [str(p) for p in request.get("params") or []]
        except (ValueError, KeyError, TypeError):
            await self._ws_error(conn, 4000, "Invalid message")
            return
        if method == "UNSUBSCRIBE":
            conn.streams.difference_update(params)
            return
        if method != "SUBSCRIBE":
            await self._ws_error(conn, 4000, f"Unknown method {method}")
            return
        private = [p for p in params if p.startswith("account.")]
        if private:
            account = self._ws_account(request.get("signature"))
            if account is None:
                await self._ws_error(conn, 4006, "Signature verification failed")
                params = [p for p in params if not p.startswith("account.")]
                private = []
            else:
                conn.account = account
        conn.streams.update(params)
        for stream in private:
            if stream.startswith("account.positionUpdate") and conn.account is not None:
                for symbol, position in conn.account.positions.items():
                    if position.amount:
                        snapshot = self._position_event(conn.account, symbol)
                        snapshot.pop("e")  # "On subscription ... The e field will not be present"
                        await self._send(conn, stream, snapshot)

    def _ws_account(self, signature: Any) -> FakeAccount | None:
        if not isinstance(signature, list) or len(signature) != 4:
            return None
        key, sig, timestamp, window = (str(s) for s in signature)
        account = self.account_by_key(key)
        if account is None or not timestamp.isdigit() or not window.isdigit():
            return None
        try:
            self._check_fresh(int(timestamp), int(window))
            self._verify(
                account, sig, f"instruction=subscribe&timestamp={timestamp}&window={window}"
            )
        except ApiError:
            return None
        return account

    async def _ws_error(self, conn: _Connection, code: int, message: str) -> None:
        await self._send_raw(conn, {"id": None, "error": {"code": code, "message": message}})

    async def _send(self, conn: _Connection, stream: str, event: JSON) -> None:
        await self._send_raw(conn, {"stream": stream, "data": event})

    async def _send_raw(self, conn: _Connection, payload: JSON) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not conn.ws.closed:
                await conn.ws.send_str(dumps(payload))


def _error_response(error: tuple[int, str, str]) -> web.Response:
    status, code, message = error
    return web.Response(
        text=dumps({"code": code, "message": message}),
        status=status,
        content_type="application/json",
    )


def _diff(
    old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]
) -> list[tuple[Decimal, Decimal]]:
    changes = [(p, q) for p, q in new.items() if old.get(p) != q]
    changes += [(p, ZERO) for p in old if p not in new]
    return sorted(changes)
