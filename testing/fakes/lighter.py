"""A fake Lighter (zkLighter perpetuals) speaking the documented wire protocol, for client tests.

Endpoints (apidocs.lighter.xyz; shapes as the SDK's generated models, lighter/models/*.py):

* ``GET /api/v1/orderBookDetails`` (Market data; ``PerpsOrderBookDetail``): markets with
  ``size_decimals``/``price_decimals``, ``min_base_amount``/``min_quote_amount``, margin
  fractions (units of 0.01 %) and fees.
* ``GET /api/v1/orderBookOrders`` (``OrderBookOrders``): single resting orders per side.
* ``GET /api/v1/nextNonce`` (API keys; ``NextNonce``): the key's next transaction nonce.
* ``GET /api/v1/account?by=index&value=`` (Account data; ``DetailedAccount``/
  ``AccountPosition``): collateral, available balance, positions, open order counts.
* ``GET /api/v1/accountActiveOrders`` / ``accountInactiveOrders`` / ``trades`` (Account data:
  private, ``Authorization: <auth token>``; ``Orders``/``Trades``).
* ``POST /api/v1/sendTx`` and ``sendTxBatch`` (form fields ``tx_type``/``tx_info``, or
  ``tx_types``/``tx_infos`` as JSON lists; ``RespSendTx``): create order (14), cancel (15),
  update leverage (20). Refusals are ``{"code": <int>, "message": <str>}`` with HTTP 400:
  21104 "invalid nonce", 21105 batch nonces not consecutive, 21108 unknown/replaced API key,
  21728 client order index already exists (Troubleshooting; Data Structures, Constants and
  Errors). Like the venue, an accepted transaction is *queued*: the order's outcome (open,
  filled, ``canceled-post-only`` ...) is visible in the order, not in the sendTx answer.
* ``GET /stream`` (WebSocket reference): ``order_book/{id}`` (``subscribed/order_book``
  snapshot, then ``update/order_book`` deltas with ``begin_nonce`` = previous ``nonce``),
  ``trade/{id}``, ``market_stats/all`` (the state on subscribe, ``update/market_stats`` from
  :meth:`FakeLighter.push_market_stats`), ``account_all/{account}`` (trades) and
  ``account_all_orders/{account}`` (orders; needs ``auth``); ``{"type": "ping"}`` both ways.

What the fake can and cannot check about signatures: Lighter's scheme (Schnorr over a
Goldilocks-field curve, Poseidon2 hashing) has no verifier in the SDK (the native library
exports signers only), and its signatures are randomised, so they cannot be recomputed either.
The fake therefore checks structure: ``tx_info`` is well-formed JSON with every field of its
transaction type, ``AccountIndex``/``ApiKeyIndex`` name a registered, unreplaced key, ``Sig``
is 80 bytes of base64, ``ExpiredAt`` lies in (now, now + 10 min], and the ``Nonce`` is exactly
the key's next one. Auth tokens (``deadline:account:key:hex``) must name a registered key, carry
an 80-byte hex signature and a deadline in (now, now + 8 h]. A key *replaced* on the venue
(:meth:`replace_key`: another app registered a new one at that index) is refused with 21108 and
its tokens with an auth error, which is how a wrong key shows up in practice.

Venue economics: ``orderBookDetails`` carries each market's 24 h figures as the real answer
does (``daily_quote_token_volume`` in USD, ``open_interest`` in the base asset, ``mark_price``;
scripted per :class:`FakeMarket`; numbers travel as strings here, the client reads either).
Fees are per account type (``add_account(account_type=...)``: standard 0 %, premium 0.0040 % /
0.0280 % as "Account Types" publishes, overridable per account for a staking discount); the
account's ``account_type`` is in ``/api/v1/account`` and every trade carries the rates charged.

Stop-loss orders (create order ``Type`` 2, as the SDK's ``create_sl_order``: IOC, a
``TriggerPrice``, ``Price`` capping the market order it becomes) rest as ``pending`` with
``trigger_status`` ``mark-price`` (listed by ``accountActiveOrders``, counted in the position's
``pending_order_count``, cancellable) until the mark price reaches the trigger (a sell stop when
it falls to it, a buy stop when it rises to it); then the order executes against the book as
an IOC market order, reduce-only when asked (``canceled-reduce-only`` if the position is gone).
The mark is the book's mid unless pinned with :meth:`FakeLighter.set_mark`; :meth:`set_book`
and :meth:`set_mark` both fire the triggers they cross.

Fault knobs: :meth:`throttle_next` (429 + Retry-After), :meth:`fail_next` (5xx), ``delay``,
:meth:`drop_connections` (optionally refusing reconnects), :meth:`skip_book_nonce` (a lost
order-book delta), :meth:`bump_nonce` (someone else used the key), :meth:`fail_nonce_next`,
``duplicate_user_events`` and :meth:`replay_trades` (duplicate / out-of-order user events).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer

D = Decimal
ZERO = D(0)
MILLION = D(1_000_000)
FRACTION_ONE = D(10_000)
STANDARD, PREMIUM = 0, 1  # account_type
FEES_PPM = {STANDARD: (0, 0), PREMIUM: (40, 280)}
"""(maker, taker) in millionths per account type ("Account Types": premium 0.0040 % / 0.0280 %
before LIT-staking discounts; standard free)."""
BOOK_FEES_PPM = FEES_PPM[PREMIUM]  # the scripted liquidity's account
TX_EXPIRY_MS = 10 * 60 * 1000
TOKEN_MAX_SECONDS = 8 * 3600
DEFAULT_COLLATERAL = D(100_000)
BOOK_ACCOUNT = 1  # the scripted liquidity's account index
Level = tuple[Decimal, Decimal]

ORDER_FIELDS = (
    "AccountIndex", "ApiKeyIndex", "MarketIndex", "ClientOrderIndex", "BaseAmount", "Price",
    "IsAsk", "Type", "TimeInForce", "ReduceOnly", "TriggerPrice", "OrderExpiry", "ExpiredAt",
    "Nonce", "Sig",
)  # fmt: skip
CANCEL_FIELDS = ("AccountIndex", "ApiKeyIndex", "MarketIndex", "Index", "ExpiredAt", "Nonce", "Sig")
LEVERAGE_FIELDS = (
    "AccountIndex", "ApiKeyIndex", "MarketIndex", "InitialMarginFraction", "MarginMode",
    "ExpiredAt", "Nonce", "Sig",
)  # fmt: skip
TX_FIELDS = {14: ORDER_FIELDS, 15: CANCEL_FIELDS, 20: LEVERAGE_FIELDS}
TIF_NAMES = {0: "immediate-or-cancel", 1: "good-till-time", 2: "post-only"}
ORDER_TYPES = {0: "limit", 1: "market", 2: "stop-loss"}
ACTIVE = ("open", "pending")  # resting on the book / waiting for the trigger


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Refused(Exception):
    """A request the venue refuses with ``{"code", "message"}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class FakeMarket:
    symbol: str
    market_id: int
    size_decimals: int
    price_decimals: int
    min_base_amount: Decimal
    min_quote_amount: Decimal
    min_imf: int = 200  # 50x
    default_imf: int = 500  # 20x
    funding_percent: Decimal = Decimal("0.0012")  # %/h, as market_stats sends it
    daily_quote_volume: Decimal = Decimal("1671431095.263844")  # USD
    open_interest: Decimal = Decimal("39559.3278")  # base asset

    def price(self, raw: int) -> Decimal:
        return D(raw).scaleb(-self.price_decimals)

    def size(self, raw: int) -> Decimal:
        return D(raw).scaleb(-self.size_decimals)

    def fmt_price(self, value: Decimal) -> str:
        return str(value.quantize(D(1).scaleb(-self.price_decimals)))

    def fmt_size(self, value: Decimal) -> str:
        return str(value.quantize(D(1).scaleb(-self.size_decimals)))


@dataclass
class FakeOrder:
    order_index: int
    client_order_index: int
    account: int
    market: FakeMarket
    is_ask: bool
    price: Decimal
    size: Decimal
    order_type: str  # "limit" | "market" | "stop-loss"
    tif: int
    reduce_only: bool
    nonce: int
    timestamp: int
    filled: Decimal = ZERO
    filled_quote: Decimal = ZERO
    status: str = "open"
    trigger_price: Decimal = ZERO
    order_expiry: int = 0
    trigger_status: str = "na"
    trigger_time: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled

    def wire(self) -> dict[str, Any]:
        m = self.market
        return {
            "order_index": self.order_index,
            "client_order_index": self.client_order_index,
            "order_id": str(self.order_index),
            "client_order_id": str(self.client_order_index),
            "market_index": m.market_id,
            "owner_account_index": self.account,
            "initial_base_amount": m.fmt_size(self.size),
            "price": m.fmt_price(self.price),
            "nonce": self.nonce,
            "remaining_base_amount": m.fmt_size(
                self.remaining if self.status in ("open", "in-progress") else ZERO
            ),
            "is_ask": self.is_ask,
            "base_size": 0,
            "base_price": 0,
            "filled_base_amount": m.fmt_size(self.filled),
            "filled_quote_amount": str(self.filled_quote),
            "side": "sell" if self.is_ask else "buy",
            "type": self.order_type,
            "time_in_force": TIF_NAMES[self.tif],
            "reduce_only": self.reduce_only,
            "trigger_price": m.fmt_price(self.trigger_price) if self.trigger_price else "0",
            "order_expiry": self.order_expiry,
            "status": self.status,
            "trigger_status": self.trigger_status,
            "trigger_time": self.trigger_time,
            "parent_order_index": 0,
            "block_height": 0,
            "timestamp": self.timestamp // 1000,
        }


@dataclass
class FakePosition:
    size: Decimal = ZERO  # signed
    entry_quote: Decimal = ZERO  # |size| * average entry price
    funding_paid: Decimal = ZERO

    @property
    def entry(self) -> Decimal:
        return self.entry_quote / abs(self.size) if self.size else ZERO


@dataclass
class FakeAccount:
    index: int
    collateral: Decimal
    account_type: int = PREMIUM
    maker_fee_ppm: int = FEES_PPM[PREMIUM][0]
    taker_fee_ppm: int = FEES_PPM[PREMIUM][1]
    keys: dict[int, bool] = field(default_factory=dict)  # api key index -> still registered
    nonces: dict[int, int] = field(default_factory=dict)
    positions: dict[int, FakePosition] = field(default_factory=dict)
    imf: dict[int, int] = field(default_factory=dict)


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    channels: set[str] = field(default_factory=set)


def default_markets() -> list[FakeMarket]:
    return [
        FakeMarket("ETH", 0, 4, 2, D("0.0050"), D("10")),
        FakeMarket("BTC", 1, 5, 1, D("0.00020"), D("10")),
    ]


def default_books() -> dict[int, tuple[list[Level], list[Level]]]:
    def ladder(mid: Decimal, step: Decimal, size: Decimal) -> tuple[list[Level], list[Level]]:
        bids = [(mid - step * (i + 1), size * (i + 1)) for i in range(10)]
        asks = [(mid + step * (i + 1), size * (i + 1)) for i in range(10)]
        return bids, asks

    return {
        0: ladder(D("3000.00"), D("0.50"), D("1.5")),
        1: ladder(D("60000.0"), D("5.0"), D("0.2")),
    }


class FakeLighter:
    """``async with FakeLighter() as fake:`` then ``fake.add_account(...)``."""

    def __init__(
        self,
        *,
        markets: list[FakeMarket] | None = None,
        books: dict[int, tuple[list[Level], list[Level]]] | None = None,
    ) -> None:
        self.markets = {m.market_id: m for m in (markets or default_markets())}
        self.books: dict[int, tuple[list[Level], list[Level]]] = {
            mid: (list(b), list(a)) for mid, (b, a) in (books or default_books()).items()
        }
        self.book_nonce: dict[int, int] = {mid: 1_000 for mid in self.markets}
        self.mark_overrides: dict[int, Decimal] = {}
        self.accounts: dict[int, FakeAccount] = {}
        self.orders: dict[int, FakeOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self._order_ids = itertools.count(281_000_000_000)
        self._trade_ids = itertools.count(5_000_000)
        self._connections: list[_Connection] = []
        self._server = LocalServer()
        self.port = 0
        # Observability for tests.
        self.requests: list[str] = []
        self.accepted_nonces: dict[tuple[int, int], list[int]] = {}
        self.transactions: list[tuple[int, dict[str, Any]]] = []  # accepted (type, tx_info)
        self.rejections: list[tuple[int, str]] = []
        self.tokens_seen: list[str] = []
        self.ws_connections = 0
        self.pings = 0  # client -> server keepalives
        self.pongs = 0  # client answers to our pings
        self.subscribe_messages: list[dict[str, Any]] = []
        # Fault knobs.
        self.delay = 0.0
        self.duplicate_user_events = False
        self._throttle: list[float] = []
        self._fail: list[tuple[int, bool]] = []
        self._fail_nonce = 0
        self._skip_book_nonce: set[int] = set()
        self._refuse_until = 0.0

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeLighter:
        app = web.Application()
        for path, handler in (
            ("orderBookDetails", self._order_book_details),
            ("orderBookOrders", self._order_book_orders),
            ("nextNonce", self._next_nonce),
            ("account", self._account),
            ("accountActiveOrders", self._active_orders),
            ("accountInactiveOrders", self._inactive_orders),
            ("trades", self._trades),
        ):
            app.router.add_get(f"/api/v1/{path}", self._wrap(handler))
        app.router.add_post("/api/v1/sendTx", self._wrap(self._send_tx))
        app.router.add_post("/api/v1/sendTxBatch", self._wrap(self._send_tx_batch))
        app.router.add_get("/stream", self._ws)
        self.port = await self._server.serve(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._server.close(connection.ws for connection in self._connections)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    # --- setup and knobs -------------------------------------------------------------------

    def add_account(
        self,
        account_index: int,
        api_key_index: int,
        collateral: Decimal = DEFAULT_COLLATERAL,
        nonce: int = 0,
        *,
        account_type: int = PREMIUM,
        fees_ppm: tuple[int, int] | None = None,
    ) -> FakeAccount:
        """An account of ``account_type`` charged its published fees, or ``fees_ppm``
        (maker, taker in millionths: a premium account's staking discount)."""
        maker, taker = fees_ppm or FEES_PPM[account_type]
        account = self.accounts.setdefault(
            account_index,
            FakeAccount(account_index, collateral, account_type, maker, taker),
        )
        account.keys[api_key_index] = True
        account.nonces[api_key_index] = nonce
        return account

    def replace_key(self, account_index: int, api_key_index: int) -> None:
        """Another app registered a new key at this index: ours is no longer valid."""
        self.accounts[account_index].keys[api_key_index] = False

    def bump_nonce(self, account_index: int, api_key_index: int, by: int = 1) -> None:
        """Someone else used the key: the venue's nonce moved on without us."""
        self.accounts[account_index].nonces[api_key_index] += by

    def fail_nonce_next(self, count: int) -> None:
        """Refuse the next ``count`` transactions with "invalid nonce" whatever they carry."""
        self._fail_nonce += count

    def throttle_next(self, count: int, retry_after: float = 0.1) -> None:
        self._throttle.extend([retry_after] * count)

    def fail_next(self, count: int, status: int = 502, *, after_processing: bool = False) -> None:
        """Answer the next ``count`` requests with ``status`` (optionally after doing them)."""
        self._fail.extend([(status, after_processing)] * count)

    def skip_book_nonce(self, symbol: str) -> None:
        """Lose the next order-book delta of ``symbol`` (the client sees a broken chain)."""
        self._skip_book_nonce.add(self.market(symbol).market_id)

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        self._refuse_until = time.monotonic() + refuse_for
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await connection.ws.close()

    async def push_market_stats(self, symbol: str | None = None) -> None:
        """Send ``update/market_stats`` on ``market_stats/all`` (the venue streams it as
        funding, marks and volumes change): ``symbol``'s entry, or every market's."""
        stats = self._stats()
        if symbol is not None:
            key = str(self.market(symbol).market_id)
            stats = {key: stats[key]}
        await self._broadcast(
            "market_stats/all",
            {"type": "update/market_stats", "channel": "market_stats:all", "market_stats": stats},
        )

    async def ping_clients(self) -> None:
        """The server's keepalive: every connection must answer ``{"type": "pong"}``."""
        for connection in list(self._connections):
            await self._send(connection, {"type": "ping"})

    def market(self, symbol: str) -> FakeMarket:
        return next(m for m in self.markets.values() if m.symbol == symbol)

    def mark(self, market_id: int) -> Decimal:
        if market_id in self.mark_overrides:
            return self.mark_overrides[market_id]
        bids, asks = self.books[market_id]
        if bids and asks:
            return (bids[0][0] + asks[0][0]) / 2
        return (bids or asks)[0][0]

    async def set_book(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        """Replace the scripted liquidity, pushing the change as one delta."""
        market_id = self.market(symbol).market_id
        old_bids, old_asks = self._levels(market_id)
        self.books[market_id] = (list(bids), list(asks))
        await self._push_book_delta(market_id, old_bids, old_asks)
        await self._check_triggers(market_id)

    async def set_mark(self, symbol: str, price: Decimal | None) -> None:
        """Pin the mark price (``None``: back to the book's mid) and fire the stops it crosses;
        their market orders still execute against the book."""
        market_id = self.market(symbol).market_id
        if price is None:
            self.mark_overrides.pop(market_id, None)
        else:
            self.mark_overrides[market_id] = price
        await self._check_triggers(market_id)

    async def fill_resting(self, order_index: int, size: Decimal | None = None) -> None:
        """Someone trades against our resting order (we are maker)."""
        order = self.orders[order_index]
        old = self._levels(order.market.market_id)
        await self._fill(order, order.price, size or order.remaining, maker=True)
        if order.remaining == 0:
            order.status = "filled"
        await self._push_order(order)
        await self._push_book_delta(order.market.market_id, *old)

    async def replay_trades(self, account_index: int, *, reverse: bool = True) -> None:
        """Send every trade of the account again, one message each (duplicates, out of order)."""
        mine = [
            t for t in self.trades if account_index in (t["bid_account_id"], t["ask_account_id"])
        ]
        for trade in reversed(mine) if reverse else mine:
            await self._push_trades(account_index, [trade])

    # --- HTTP plumbing ---------------------------------------------------------------------

    def _wrap(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            result: web.Response
            self.requests.append(request.path.rsplit("/", 1)[1])
            if self._throttle:
                retry_after = self._throttle.pop(0)
                return web.json_response(
                    {"code": 429, "message": "too many requests"},
                    status=429,
                    headers={"Retry-After": f"{retry_after:g}"},
                )
            if self._fail and not self._fail[0][1]:
                return web.Response(status=self._fail.pop(0)[0], text="upstream failure")
            try:
                result = await handler(request)
            except Refused as refused:
                self.rejections.append((refused.code, refused.message))
                result = web.Response(
                    status=400,
                    text=dumps({"code": refused.code, "message": refused.message}),
                    content_type="application/json",
                )
            if self.delay:
                await asyncio.sleep(self.delay)
            if self._fail and self._fail[0][1]:
                return web.Response(status=self._fail.pop(0)[0], text="upstream failure")
            return result

        return wrapped

    @staticmethod
    def _ok(value: dict[str, Any]) -> web.Response:
        return web.Response(text=dumps({"code": 200, **value}), content_type="application/json")

    def _auth(self, request: web.Request, account_index: int) -> None:
        """A private read: the token must be valid for this account."""
        token = request.headers.get("Authorization") or request.query.get("auth")
        self._check_token(token, account_index)

    def _check_token(self, token: str | None, account_index: int) -> None:
        if not token:
            raise Refused(20001, "auth token is required")
        self.tokens_seen.append(token)
        parts = token.split(":")
        if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
            raise Refused(20001, "invalid auth token")
        deadline, account, key, signature = int(parts[0]), int(parts[1]), int(parts[2]), parts[3]
        now = time.time()
        if deadline <= now:
            raise Refused(20001, "auth token expired")
        if deadline > now + TOKEN_MAX_SECONDS + 5:
            raise Refused(20001, "auth token expiry is more than 8 hours away")
        holder = self.accounts.get(account)
        if holder is None or not holder.keys.get(key, False):
            raise Refused(20001, "invalid auth token: api key not registered for the account")
        if account != account_index:
            raise Refused(20001, "invalid auth token: issued for another account")
        try:
            if len(bytes.fromhex(signature)) != 80:
                raise ValueError
        except ValueError:
            raise Refused(20001, "invalid auth token: malformed signature") from None

    # --- public reads ----------------------------------------------------------------------

    async def _order_book_details(self, request: web.Request) -> web.Response:
        details = []
        for m in self.markets.values():
            details.append(
                {
                    "symbol": m.symbol,
                    "market_id": m.market_id,
                    "market_type": "perp",
                    "status": "active",
                    "taker_fee": "0.0000",
                    "maker_fee": "0.0000",
                    "liquidation_fee": "1.0000",
                    "min_base_amount": str(m.min_base_amount),
                    "min_quote_amount": str(m.min_quote_amount),
                    "supported_size_decimals": m.size_decimals,
                    "supported_price_decimals": m.price_decimals,
                    "size_decimals": m.size_decimals,
                    "price_decimals": m.price_decimals,
                    "default_initial_margin_fraction": m.default_imf,
                    "min_initial_margin_fraction": m.min_imf,
                    "maintenance_margin_fraction": m.min_imf // 2,
                    "closeout_margin_fraction": m.min_imf // 3,
                    "last_trade_price": m.fmt_price(self.mark(m.market_id)),
                    "daily_trades_count": 1_197_349,
                    "daily_base_token_volume": str(
                        (m.daily_quote_volume / self.mark(m.market_id)).quantize(D("0.0001"))
                    ),
                    "daily_quote_token_volume": str(m.daily_quote_volume),
                    "open_interest": str(m.open_interest),
                    "mark_price": m.fmt_price(self.mark(m.market_id)),
                    "index_price": m.fmt_price(self.mark(m.market_id)),
                }
            )
        return self._ok({"order_book_details": details, "spot_order_book_details": []})

    def _levels(self, market_id: int) -> tuple[list[Level], list[Level]]:
        """Scripted liquidity plus our resting orders, aggregated, best first."""
        bids: dict[Decimal, Decimal] = dict(self.books[market_id][0])
        asks: dict[Decimal, Decimal] = dict(self.books[market_id][1])
        for order in self.orders.values():
            if order.market.market_id == market_id and order.status == "open":
                side = asks if order.is_ask else bids
                side[order.price] = side.get(order.price, ZERO) + order.remaining
        return (
            sorted(((p, s) for p, s in bids.items() if s > 0), reverse=True),
            sorted((p, s) for p, s in asks.items() if s > 0),
        )

    async def _order_book_orders(self, request: web.Request) -> web.Response:
        market = self.markets[int(request.query["market_id"])]
        limit = int(request.query.get("limit", 100))
        bids, asks = self._levels(market.market_id)

        def orders(levels: list[Level]) -> list[dict[str, Any]]:
            return [
                {
                    "order_index": i,
                    "order_id": str(i),
                    "owner_account_index": BOOK_ACCOUNT,
                    "initial_base_amount": market.fmt_size(size),
                    "remaining_base_amount": market.fmt_size(size),
                    "price": market.fmt_price(price),
                    "order_expiry": 0,
                }
                for i, (price, size) in enumerate(levels[:limit])
            ]

        return self._ok(
            {
                "total_bids": len(bids),
                "bids": orders(bids),
                "total_asks": len(asks),
                "asks": orders(asks),
            }
        )

    async def _next_nonce(self, request: web.Request) -> web.Response:
        account = self.accounts.get(int(request.query["account_index"]))
        key = int(request.query["api_key_index"])
        if account is None or key not in account.keys:
            raise Refused(21100, "account or api key not found")
        return self._ok({"nonce": account.nonces[key]})

    async def _account(self, request: web.Request) -> web.Response:
        account = self.accounts.get(int(request.query["value"]))
        if account is None:
            return self._ok({"total": 0, "accounts": []})
        return self._ok({"total": 1, "accounts": [self._account_wire(account)]})

    def _margin(self, account: FakeAccount) -> tuple[Decimal, Decimal]:
        """(unrealised PnL, initial margin of positions and open orders)."""
        unrealized = margin = ZERO
        for market_id, position in account.positions.items():
            if position.size:
                mark = self.mark(market_id)
                unrealized += (mark - position.entry) * position.size
                margin += abs(position.size) * mark * self._imf(account, market_id) / FRACTION_ONE
        for order in self.orders.values():
            if order.account == account.index and order.status == "open":
                imf = self._imf(account, order.market.market_id)
                margin += order.remaining * order.price * imf / FRACTION_ONE
        return unrealized, margin

    def _imf(self, account: FakeAccount, market_id: int) -> int:
        return account.imf.get(market_id, self.markets[market_id].default_imf)

    def _account_wire(self, account: FakeAccount) -> dict[str, Any]:
        unrealized, margin = self._margin(account)
        positions = []
        for market_id, market in self.markets.items():
            position = account.positions.get(market_id, FakePosition())
            mine = [
                o
                for o in self.orders.values()
                if o.account == account.index and o.market.market_id == market_id
            ]
            open_count = sum(1 for o in mine if o.status == "open")
            pending_count = sum(1 for o in mine if o.status == "pending")
            if (
                not position.size
                and not open_count
                and not pending_count
                and market_id not in account.imf
            ):
                continue
            mark = self.mark(market_id)
            positions.append(
                {
                    "market_id": market_id,
                    "symbol": market.symbol,
                    "initial_margin_fraction": f"{D(self._imf(account, market_id)) / 100:.2f}",
                    "open_order_count": open_count,
                    "pending_order_count": pending_count,
                    "sign": -1 if position.size < 0 else 1,
                    "position": market.fmt_size(abs(position.size)),
                    "avg_entry_price": str(position.entry),
                    "position_value": str(abs(position.size) * mark),
                    "unrealized_pnl": str((mark - position.entry) * position.size),
                    "realized_pnl": "0",
                    "liquidation_price": "0",
                    "total_funding_paid_out": str(position.funding_paid),
                    "margin_mode": 0,
                    "allocated_margin": "0",
                }
            )
        equity = account.collateral + unrealized
        return {
            "code": 200,
            "account_type": account.account_type,
            "index": account.index,
            "account_index": account.index,
            "l1_address": "0x" + "00" * 20,
            "status": 1,
            "collateral": str(account.collateral),
            "available_balance": str(max(ZERO, equity - margin)),
            "total_asset_value": str(equity),
            "cross_asset_value": str(equity),
            "positions": positions,
        }

    # --- private reads ---------------------------------------------------------------------

    async def _active_orders(self, request: web.Request) -> web.Response:
        account_index = int(request.query["account_index"])
        self._auth(request, account_index)
        market_id = int(request.query["market_id"])
        orders = [
            o.wire()
            for o in self.orders.values()
            if o.account == account_index and o.market.market_id == market_id and o.status in ACTIVE
        ]
        return self._ok({"orders": orders})

    async def _inactive_orders(self, request: web.Request) -> web.Response:
        account_index = int(request.query["account_index"])
        self._auth(request, account_index)
        market_id = request.query.get("market_id")
        limit = int(request.query.get("limit", 100))
        orders = [
            o
            for o in self.orders.values()
            if o.account == account_index
            and o.status not in ACTIVE
            and (market_id is None or o.market.market_id == int(market_id))
        ]
        orders.sort(key=lambda o: o.order_index, reverse=True)
        start = int(request.query.get("cursor", 0))
        page = orders[start : start + limit]
        cursor = str(start + limit) if start + limit < len(orders) else None
        return self._ok({"orders": [o.wire() for o in page], "next_cursor": cursor})

    async def _trades(self, request: web.Request) -> web.Response:
        account_index = int(request.query["account_index"])
        self._auth(request, account_index)
        limit = min(int(request.query.get("limit", 100)), 100)
        mine = [
            t for t in self.trades if account_index in (t["bid_account_id"], t["ask_account_id"])
        ]
        if request.query.get("sort_dir", "desc") == "desc":
            mine = mine[::-1]
        return self._ok({"trades": mine[:limit]})

    # --- transactions ----------------------------------------------------------------------

    async def _send_tx(self, request: web.Request) -> web.Response:
        form = await request.post()
        tx_type = int(str(form["tx_type"]))
        info = self._parse_tx(tx_type, str(form["tx_info"]))
        account, key = self._check_tx(info)
        self._take_nonce(account, key, int(info["Nonce"]))
        self.transactions.append((tx_type, info))
        await self._execute(tx_type, info)
        return self._tx_ok(info)

    async def _send_tx_batch(self, request: web.Request) -> web.Response:
        form = await request.post()
        types = [int(t) for t in json.loads(str(form["tx_types"]))]
        infos = [
            self._parse_tx(t, raw)
            for t, raw in zip(types, json.loads(str(form["tx_infos"])), strict=True)
        ]
        checked = [self._check_tx(info) for info in infos]
        nonces = [int(info["Nonce"]) for info in infos]
        if any(b != a + 1 for a, b in itertools.pairwise(nonces)) or len(set(checked)) != 1:
            raise Refused(21105, "batch transaction nonce is not increasing")
        for (account, key), nonce in zip(checked, nonces, strict=True):
            self._take_nonce(account, key, nonce)
        for tx_type, info in zip(types, infos, strict=True):
            self.transactions.append((tx_type, info))
            await self._execute(tx_type, info)
        return self._ok({"message": "", "tx_hash": [f"{i:080x}" for i in range(len(infos))]})

    def _tx_ok(self, info: dict[str, Any]) -> web.Response:
        return self._ok(
            {
                "message": '{"ratelimit": "didn\'t use volume quota"}',
                "tx_hash": f"{int(info['Nonce']):080x}",
                "predicted_execution_time_ms": now_ms() + 5,
            }
        )

    def _parse_tx(self, tx_type: int, raw: str) -> dict[str, Any]:
        fields = TX_FIELDS.get(tx_type)
        if fields is None:
            raise Refused(21001, f"unsupported tx type {tx_type}")
        try:
            info = json.loads(raw)
        except ValueError:
            raise Refused(21002, "invalid tx info: not JSON") from None
        missing = [f for f in fields if f not in info]
        if missing:
            raise Refused(21002, f"invalid tx info: missing {', '.join(missing)}")
        return dict(info)

    def _check_tx(self, info: dict[str, Any]) -> tuple[int, int]:
        account_index, key = int(info["AccountIndex"]), int(info["ApiKeyIndex"])
        account = self.accounts.get(account_index)
        if account is None or not account.keys.get(key, False):
            raise Refused(21108, "invalid PublicKey, please run changePubKey")
        try:
            signature = base64.b64decode(str(info["Sig"]), validate=True)
        except ValueError:
            raise Refused(21120, "invalid signature") from None
        if len(signature) != 80:
            raise Refused(21120, "invalid signature")
        expired_at = int(info["ExpiredAt"])
        if not now_ms() < expired_at <= now_ms() + TX_EXPIRY_MS:
            raise Refused(21121, "transaction expired")
        return account_index, key

    def _take_nonce(self, account_index: int, key: int, nonce: int) -> None:
        account = self.accounts[account_index]
        if self._fail_nonce > 0:
            self._fail_nonce -= 1
            raise Refused(21104, "invalid nonce")
        if nonce != account.nonces[key]:
            raise Refused(21104, "invalid nonce")
        account.nonces[key] = nonce + 1
        self.accepted_nonces.setdefault((account_index, key), []).append(nonce)

    async def _execute(self, tx_type: int, info: dict[str, Any]) -> None:
        account = self.accounts[int(info["AccountIndex"])]
        market = self.markets.get(int(info["MarketIndex"]))
        if market is None:
            raise Refused(21500, "market not found")
        if tx_type == 14:
            await self._create_order(account, market, info)
        elif tx_type == 15:
            await self._cancel(account, market, int(info["Index"]))
        elif tx_type == 20:
            fraction = int(info["InitialMarginFraction"])
            if not market.min_imf <= fraction <= int(FRACTION_ONE):
                raise Refused(21601, "invalid initial margin fraction")
            account.imf[market.market_id] = fraction

    async def _create_order(
        self, account: FakeAccount, market: FakeMarket, info: dict[str, Any]
    ) -> None:
        client_index = int(info["ClientOrderIndex"])
        if any(
            o.account == account.index and o.client_order_index == client_index
            for o in self.orders.values()
        ):
            raise Refused(21728, "client order index already exists")
        size, price = market.size(int(info["BaseAmount"])), market.price(int(info["Price"]))
        if size < market.min_base_amount or size * price < market.min_quote_amount:
            raise Refused(21701, "order size below the market minimum")
        tif = int(info["TimeInForce"])
        order_type = ORDER_TYPES.get(int(info["Type"]))
        if order_type is None:
            raise Refused(21702, "invalid order type")
        trigger = market.price(int(info["TriggerPrice"]))
        if (order_type == "stop-loss") != (trigger > 0):
            raise Refused(21729, "invalid order trigger price")
        order = FakeOrder(
            order_index=next(self._order_ids),
            client_order_index=client_index,
            account=account.index,
            market=market,
            is_ask=bool(info["IsAsk"]),
            price=price,
            size=size,
            order_type=order_type,
            tif=tif,
            reduce_only=bool(info["ReduceOnly"]),
            nonce=int(info["Nonce"]),
            timestamp=now_ms(),
            trigger_price=trigger,
            order_expiry=int(info["OrderExpiry"]),
        )
        self.orders[order.order_index] = order
        if not self._reduce(account, order):
            await self._push_order(order)
            return
        if order_type == "stop-loss":
            order.status, order.trigger_status = "pending", "mark-price"
            await self._push_order(order)
            return
        old = self._levels(market.market_id)
        bids, asks = self.books[market.market_id]
        book = bids if order.is_ask else asks
        crosses = bool(book) and (
            book[0][0] >= order.price if order.is_ask else book[0][0] <= order.price
        )
        if tif == 2 and crosses:
            order.status = "canceled-post-only"
            await self._push_order(order)
            return
        unrealized, margin = self._margin(account)
        needed = order.size * order.price * self._imf(account, market.market_id) / FRACTION_ONE
        if not order.reduce_only and account.collateral + unrealized - margin < needed:
            order.status = "canceled-margin-not-allowed"
            await self._push_order(order)
            return
        await self._take(order, old)

    def _reduce(self, account: FakeAccount, order: FakeOrder) -> bool:
        """A reduce-only order is cut to the position, or cancelled when nothing to reduce."""
        if not order.reduce_only:
            return True
        position = account.positions.get(order.market.market_id, FakePosition()).size
        if not (position > 0 if order.is_ask else position < 0):
            order.status = "canceled-reduce-only"
            return False
        order.size = min(order.size, abs(position))
        return True

    async def _take(self, order: FakeOrder, old: tuple[list[Level], list[Level]]) -> None:
        """Take scripted liquidity within the order's price; what is left rests or expires."""
        bids, asks = self.books[order.market.market_id]
        book = bids if order.is_ask else asks
        while order.remaining > 0 and book:
            level_price, level_size = book[0]
            if (level_price < order.price) if order.is_ask else (level_price > order.price):
                break
            take = min(level_size, order.remaining)
            await self._fill(order, level_price, take, maker=False)
            if take == level_size:
                book.pop(0)
            else:
                book[0] = (level_price, level_size - take)
        if order.remaining == 0:
            order.status = "filled"
        elif order.tif == 0:
            order.status = "canceled-not-enough-liquidity" if order.filled else "canceled"
        await self._push_order(order)
        await self._push_book_delta(order.market.market_id, *old)

    async def _check_triggers(self, market_id: int) -> None:
        """Fire the pending stops the mark has reached (sell stops below, buy stops above)."""
        mark = self.mark(market_id)
        for order in list(self.orders.values()):
            if order.market.market_id != market_id or order.status != "pending":
                continue
            reached = mark <= order.trigger_price if order.is_ask else mark >= order.trigger_price
            if reached:
                await self._trigger(order)

    async def _trigger(self, order: FakeOrder) -> None:
        """The stop becomes an IOC market order capped at its price."""
        old = self._levels(order.market.market_id)
        order.trigger_status, order.trigger_time = "na", now_ms()
        if not self._reduce(self.accounts[order.account], order):
            await self._push_order(order)
            return
        order.status = "open"
        await self._take(order, old)

    async def _cancel(self, account: FakeAccount, market: FakeMarket, index: int) -> None:
        order = self.orders.get(index)
        if order is None or order.account != account.index or order.status not in ACTIVE:
            return  # the sequencer drops it; the API already said 200
        old = self._levels(market.market_id)
        order.status = "canceled"
        await self._push_order(order)
        await self._push_book_delta(market.market_id, *old)

    async def _fill(self, order: FakeOrder, price: Decimal, size: Decimal, *, maker: bool) -> None:
        market = order.market
        account = self.accounts[order.account]
        ours = account.maker_fee_ppm if maker else account.taker_fee_ppm
        fee = price * size * D(ours) / MILLION
        order.filled += size
        order.filled_quote += price * size
        account.collateral -= fee
        position = account.positions.setdefault(market.market_id, FakePosition())
        signed = -size if order.is_ask else size
        if position.size == 0 or (position.size > 0) == (signed > 0):
            position.entry_quote += price * size
            position.size += signed
        else:
            closing = min(abs(signed), abs(position.size))
            entry = position.entry
            pnl = (price - entry) * closing * (1 if position.size > 0 else -1)
            account.collateral += pnl
            position.entry_quote -= entry * closing
            position.size += signed
            if position.size == 0:
                position.entry_quote = ZERO
            elif (position.size > 0) == (signed > 0):  # flipped
                position.entry_quote = abs(position.size) * price
        ours_bid = not order.is_ask
        trade = {
            "trade_id": next(self._trade_ids),
            "tx_hash": f"{order.nonce:064x}",
            "type": "trade",
            "market_id": market.market_id,
            "size": market.fmt_size(size),
            "price": market.fmt_price(price),
            "usd_amount": str(price * size),
            "ask_id": 0 if ours_bid else order.order_index,
            "bid_id": order.order_index if ours_bid else 0,
            "ask_account_id": BOOK_ACCOUNT if ours_bid else order.account,
            "bid_account_id": order.account if ours_bid else BOOK_ACCOUNT,
            "is_maker_ask": (not maker) if ours_bid else maker,
            "block_height": 0,
            "timestamp": now_ms(),
            "taker_fee": BOOK_FEES_PPM[1] if maker else ours,
            "maker_fee": ours if maker else BOOK_FEES_PPM[0],
            "ask_client_id": 0 if ours_bid else order.client_order_index,
            "bid_client_id": order.client_order_index if ours_bid else 0,
        }
        self.trades.append(trade)
        await self._push_trades(order.account, [trade])
        await self._broadcast(
            f"trade/{market.market_id}",
            {"type": "update/trade", "channel": f"trade:{market.market_id}", "trades": [trade]},
        )

    # --- WebSocket -------------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._refuse_until:
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = _Connection(ws)
        self._connections.append(connection)
        self.ws_connections += 1
        await ws.send_str(dumps({"type": "connected", "session_id": str(self.ws_connections)}))
        try:
            async for raw in ws:
                if raw.type is not WSMsgType.TEXT:
                    continue
                message = loads(raw.data)
                kind = message.get("type")
                if kind == "ping":
                    self.pings += 1
                    await ws.send_str(dumps({"type": "pong"}))
                elif kind == "pong":
                    self.pongs += 1
                elif kind == "subscribe":
                    self.subscribe_messages.append(message)
                    await self._subscribe(connection, message)
                elif kind == "unsubscribe":
                    connection.channels.discard(str(message.get("channel")))
        finally:
            self._connections.remove(connection)
        return ws

    async def _subscribe(self, connection: _Connection, message: dict[str, Any]) -> None:
        channel = str(message.get("channel", ""))
        kind, _, target = channel.partition("/")
        wire_channel = channel.replace("/", ":")
        try:
            if kind == "account_all_orders" or (kind == "account_all" and "auth" in message):
                self._check_token(message.get("auth"), int(target))
        except Refused as refused:
            await self._send(
                connection,
                {"type": "error", "error": {"code": refused.code, "message": refused.message}},
            )
            return
        connection.channels.add(channel)
        if kind == "order_book":
            market_id = int(target)
            bids, asks = self._levels(market_id)
            await self._send(
                connection,
                {
                    "type": "subscribed/order_book",
                    "channel": wire_channel,
                    "offset": self.book_nonce[market_id],
                    "order_book": {
                        "code": 0,
                        "bids": self._wire_levels(market_id, bids),
                        "asks": self._wire_levels(market_id, asks),
                        "offset": self.book_nonce[market_id],
                        "nonce": self.book_nonce[market_id],
                        "begin_nonce": self.book_nonce[market_id],
                    },
                    "timestamp": now_ms(),
                },
            )
        elif kind == "market_stats":
            await self._send(
                connection,
                {
                    "type": "subscribed/market_stats",
                    "channel": wire_channel,
                    "market_stats": self._stats(),
                },
            )
        elif kind == "account_all":
            await self._send(
                connection,
                {
                    "type": "subscribed/account_all",
                    "channel": wire_channel,
                    "account": int(target),
                    "trades": {},
                },
            )
        elif kind == "account_all_orders":
            account = int(target)
            orders: dict[str, list[Any]] = {}
            for o in self.orders.values():
                if o.account == account and o.status in ACTIVE:
                    orders.setdefault(str(o.market.market_id), []).append(o.wire())
            await self._send(
                connection,
                {
                    "type": "subscribed/account_all_orders",
                    "channel": wire_channel,
                    "orders": orders,
                },
            )

    def _stats(self) -> dict[str, Any]:
        next_hour = (now_ms() // 3_600_000 + 1) * 3_600_000
        return {
            str(m.market_id): {
                "market_id": m.market_id,
                "index_price": m.fmt_price(self.mark(m.market_id)),
                "mark_price": m.fmt_price(self.mark(m.market_id)),
                "last_trade_price": m.fmt_price(self.mark(m.market_id)),
                "current_funding_rate": str(m.funding_percent),
                "funding_rate": str(m.funding_percent),
                "funding_timestamp": next_hour,
            }
            for m in self.markets.values()
        }

    def _wire_levels(self, market_id: int, levels: list[Level]) -> list[dict[str, str]]:
        m = self.markets[market_id]
        return [{"price": m.fmt_price(p), "size": m.fmt_size(s)} for p, s in levels]

    async def _send(self, connection: _Connection, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await connection.ws.send_str(dumps(message))

    async def _broadcast(self, channel: str, message: dict[str, Any]) -> None:
        for connection in list(self._connections):
            if channel in connection.channels:
                await self._send(connection, message)

    async def _push_book_delta(
        self, market_id: int, old_bids: list[Level], old_asks: list[Level]
    ) -> None:
        bids, asks = self._levels(market_id)

        def changes(old: list[Level], new: list[Level]) -> list[Level]:
            before, after = dict(old), dict(new)
            changed = [(p, s) for p, s in after.items() if before.get(p) != s]
            return changed + [(p, ZERO) for p in before if p not in after]

        bid_changes, ask_changes = changes(old_bids, bids), changes(old_asks, asks)
        if not bid_changes and not ask_changes:
            return
        begin = self.book_nonce[market_id]
        self.book_nonce[market_id] = begin + 3  # nonces advance but need not be contiguous
        if market_id in self._skip_book_nonce:
            self._skip_book_nonce.discard(market_id)
            return  # this delta is lost
        await self._broadcast(
            f"order_book/{market_id}",
            {
                "type": "update/order_book",
                "channel": f"order_book:{market_id}",
                "offset": self.book_nonce[market_id],
                "order_book": {
                    "code": 0,
                    "bids": self._wire_levels(market_id, bid_changes),
                    "asks": self._wire_levels(market_id, ask_changes),
                    "offset": self.book_nonce[market_id],
                    "nonce": self.book_nonce[market_id],
                    "begin_nonce": begin,
                },
                "timestamp": now_ms(),
            },
        )

    async def _push_order(self, order: FakeOrder) -> None:
        message = {
            "type": "update/account_all_orders",
            "channel": f"account_all_orders:{order.account}",
            "orders": {str(order.market.market_id): [order.wire()]},
        }
        for _ in range(2 if self.duplicate_user_events else 1):
            await self._broadcast(f"account_all_orders/{order.account}", message)

    async def _push_trades(self, account: int, trades: list[dict[str, Any]]) -> None:
        by_market: dict[str, list[Any]] = {}
        for trade in trades:
            by_market.setdefault(str(trade["market_id"]), []).append(trade)
        message = {
            "type": "update/account_all",
            "channel": f"account_all:{account}",
            "account": account,
            "trades": by_market,
        }
        for _ in range(2 if self.duplicate_user_events else 1):
            await self._broadcast(f"account_all/{account}", message)
