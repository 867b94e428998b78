"""A fake Paradex (REST ``/v1`` + JSON-RPC WebSocket) for the Paradex client's tests and bench.

It speaks the documented protocol (docs.paradex.trade "API" and "WebSocket"; the official
paradex-py SDK as the reference for shapes and signing), and verifies every signature with the
Stark curve (:mod:`exchange_clients.paradex.signing`, the code pinned to the SDK's vectors):

* **System** — ``GET /v1/system/config`` (``starknet_chain_id``, ``l1_chain_id``, the account
  class hashes the address is derived from) and ``/v1/system/time``.
* **Onboarding** — ``POST /v1/onboarding`` with ``PARADEX-ETHEREUM-ACCOUNT``,
  ``PARADEX-STARKNET-ACCOUNT`` and ``PARADEX-STARKNET-SIGNATURE`` (the ``Constant{action:
  "Onboarding"}`` typed data) and ``{"public_key"}``: the address must be the one derived from
  the key, the signature that key's. The account then exists (funded with ``initial_balance``).
* **Auth** — ``POST /v1/auth`` signed over ``Request{POST, /v1/auth, "", timestamp,
  expiration}``: a JWT valid ``jwt_ttl`` seconds (5 minutes, like Paradex). A timestamp off the
  fake's clock by more than ``auth_window`` s, an expiration already past, a malformed or wrong
  signature, or an account not onboarded (``NOT_ONBOARDED``) are refused. Every private call
  needs ``Authorization: Bearer <jwt>``; an expired or forged token is a 401.
* **Markets** — ``/v1/markets``, ``/v1/markets/summary`` (mark, funding_rate, 24 h volume,
  open interest in the base asset), ``/v1/orderbook/{market}``, ``/v1/funding/data``.
* **Orders** — ``POST /v1/orders`` (the Stark signature over ``Order{timestamp, market, side,
  orderType, size, price}`` verified; ``signature_timestamp`` older than ``recv_window`` refused),
  answered ``NEW`` and then processed: ``OPEN``, ``UNTRIGGERED`` (stop-market) or ``CLOSED``
  with a ``cancel_reason`` (``POST_ONLY_WOULD_CROSS``, ``REDUCE_ONLY_WOULD_INCREASE``,
  ``USER_CANCELED``, ``IOC_CANCEL``); ``GET /v1/orders`` (open), ``/v1/orders/{id}``,
  ``/v1/orders/by_client_id/{client_id}``; ``DELETE`` of the same three (204).
* **Account** — ``/v1/account`` (summary), ``/v1/account/info`` (``fees.maker_rate`` /
  ``taker_rate``), ``/v1/balance``, ``/v1/positions``, ``/v1/fills``, ``/v1/account/margin`` and
  ``POST /v1/account/margin/{market}`` (leverage per market).
* **WebSocket** — JSON-RPC 2.0: ``auth`` (``{"bearer": jwt}``), ``subscribe`` /
  ``unsubscribe`` (``{"channel"}``); notifications ``{"method": "subscription", "params":
  {"channel", "data"}}`` on ``orders.<market|ALL>``, ``fills.<market|ALL>`` (private: after
  ``auth``), ``order_book.<market>.deltas`` (``seq_no`` consecutive, a first ``update_type
  "s"`` snapshot) and ``funding_data.<market>``. Errors are JSON-RPC ``error`` objects with
  Paradex's codes (40110 malformed, 40111 invalid bearer token, -32601 unknown method).

REST errors have Paradex's shape ``{"error": "<CODE>", "message": "..."}``. Fault knobs, as the
other fakes: ``fail_next`` (429 / 5xx), ``delay``, ``drop_connections``, ``sequence_gap``,
``duplicate_user_events``, ``clock_offset_ms``, ``decision_delay``, ``unreadable_gets``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from exchange_clients.paradex import signing
from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer
from testing.fakes.matching import NetPosition, take_liquidity

JSON = dict[str, Any]
ZERO = Decimal(0)

ACCOUNT_CLASS_HASH = 0x41CB0280EBADAA75F996D8D92C6F265F6D040BB3BA442E5F86A554F1765244E
PROXY_CLASS_HASH = 0x3530CC4759D78042F1B543BF797F5F3D647CDE0388C33734CF91B7F7B9314A9
"""The testnet account and proxy class hashes (the SDK's test system config)."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(message)


def now_ms() -> int:
    return int(time.time() * 1000)


def text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeMarket:
    symbol: str  # BTC-USD-PERP
    base: str
    tick: Decimal
    step: Decimal
    min_notional: Decimal = Decimal(10)
    max_leverage: Decimal = Decimal(50)
    funding_rate: Decimal = Decimal("0.0001")
    funding_period_hours: int = 8
    volume_24h: Decimal = Decimal("125000000")
    open_interest: Decimal = Decimal("1500")  # base asset


def default_markets() -> list[FakeMarket]:
    return [
        FakeMarket("BTC-USD-PERP", "BTC", Decimal("0.1"), Decimal("0.0001")),
        FakeMarket(
            "ETH-USD-PERP",
            "ETH",
            Decimal("0.01"),
            Decimal("0.001"),
            funding_rate=Decimal("-0.00004"),
            volume_24h=Decimal("64000000"),
            open_interest=Decimal("21000"),
        ),
    ]


DEFAULT_BOOKS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "BTC-USD-PERP": (
        [("60000.0", "2"), ("59999.9", "3"), ("59999.0", "5"), ("59990.0", "10")],
        [("60000.1", "2"), ("60000.2", "3"), ("60001.0", "5"), ("60010.0", "10")],
    ),
    "ETH-USD-PERP": (
        [("3000.00", "40"), ("2999.99", "80")],
        [("3000.01", "40"), ("3000.05", "90")],
    ),
}


@dataclass
class FakeOrder:
    order_id: str
    account: str
    client_id: str
    market: str
    side: str  # BUY / SELL
    order_type: str  # LIMIT / MARKET / STOP_MARKET
    size: Decimal
    price: Decimal | None
    instruction: str
    reduce_only: bool
    trigger_price: Decimal | None = None
    triggers_above: bool = False
    status: str = "NEW"
    cancel_reason: str = ""
    filled: Decimal = ZERO
    filled_quote: Decimal = ZERO
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    seq_no: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "OPEN", "UNTRIGGERED")

    def wire(self) -> JSON:
        flags = ["REDUCE_ONLY"] if self.reduce_only else []
        return {
            "id": self.order_id,
            "account": self.account,
            "market": self.market,
            "side": self.side,
            "type": self.order_type,
            "size": text(self.size),
            "remaining_size": text(self.size - self.filled),
            "price": text(self.price) if self.price is not None else "0",
            "trigger_price": text(self.trigger_price) if self.trigger_price is not None else "0",
            "avg_fill_price": text(self.filled_quote / self.filled) if self.filled else "",
            "status": self.status,
            "cancel_reason": self.cancel_reason,
            "client_id": self.client_id,
            "instruction": self.instruction,
            "flags": flags,
            "stp": "EXPIRE_TAKER",
            "created_at": self.created_at,
            "last_updated_at": self.updated_at,
            "timestamp": self.created_at,
            "seq_no": self.seq_no,
        }


@dataclass
class FakeFill:
    fill_id: str
    order: FakeOrder
    price: Decimal
    size: Decimal
    fee: Decimal
    maker: bool
    created_at: int
    realized_pnl: Decimal

    def wire(self) -> JSON:
        return {
            "id": self.fill_id,
            "account": self.order.account,
            "market": self.order.market,
            "order_id": self.order.order_id,
            "client_id": self.order.client_id,
            "side": self.order.side,
            "price": text(self.price),
            "size": text(self.size),
            "remaining_size": text(self.order.size - self.order.filled),
            "fee": text(self.fee),
            "fee_currency": "USDC",
            "liquidity": "MAKER" if self.maker else "TAKER",
            "fill_type": "FILL",
            "realized_pnl": text(self.realized_pnl),
            "realized_funding": "0",
            "created_at": self.created_at,
        }


@dataclass
class FakeAccount:
    address: int
    public_key: int
    l1_address: str
    balance: Decimal
    maker_fee: Decimal = Decimal("0.00003")
    taker_fee: Decimal = Decimal("0.0002")
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    fills: list[FakeFill] = field(default_factory=list)
    positions: dict[str, NetPosition] = field(default_factory=dict)
    leverage: dict[str, Decimal] = field(default_factory=dict)

    @property
    def hex_address(self) -> str:
        return hex(self.address)

    def position(self, market: str) -> NetPosition:
        return self.positions.setdefault(market, NetPosition())


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    channels: set[str] = field(default_factory=set)
    account: FakeAccount | None = None


class FakeParadex:
    """The venue: markets, accounts, books, matching, REST and WebSocket servers."""

    def __init__(
        self,
        markets: Iterable[FakeMarket] | None = None,
        *,
        starknet_chain: str = signing.TESTNET_STARKNET_CHAIN,
        l1_chain_id: int = signing.TESTNET_L1_CHAIN_ID,
    ) -> None:
        self.markets = {m.symbol: m for m in markets or default_markets()}
        self.starknet_chain = starknet_chain
        self.l1_chain_id = l1_chain_id
        self.accounts: dict[int, FakeAccount] = {}
        self.books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        for name, (bids, asks) in DEFAULT_BOOKS.items():
            if name in self.markets:
                self.books[name] = (
                    {Decimal(p): Decimal(q) for p, q in bids},
                    {Decimal(p): Decimal(q) for p, q in asks},
                )
        self.marks: dict[str, Decimal] = {}
        self.book_seq: dict[str, int] = dict.fromkeys(self.markets, 1)
        self.initial_balance = Decimal(100_000)
        self.jwt_ttl = 300
        self.auth_window = 60
        self.clock_offset_ms = 0
        self.delay = 0.0
        self.decision_delay = 0.0
        self.unreadable_gets = 0
        """The next this many order reads answer 404 (an order accepted, not yet readable)."""
        """Seconds an order stays ``NEW`` (a cancel: open) before the engine decides."""
        self._pending: set[asyncio.Task[None]] = set()
        self.duplicate_user_events = False
        self.refuse_ws_until = 0.0
        self.requests: list[tuple[str, str]] = []
        self.auth_count = 0
        self.order_signatures_verified = 0
        self._failures: list[tuple[int, str | None, bool]] = []
        self._gaps: set[str] = set()
        self._secret = b"fake-paradex-jwt-secret"
        self._ids = itertools.count(1_700_000_000_000_001)
        self._fill_ids = itertools.count(1)
        self._connections: list[_Connection] = []
        self._server = LocalServer()
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeParadex:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/ws", self._ws_handler)
        app.router.add_route("*", "/{tail:.*}", self._http_handler)
        self.port = await self._server.serve(app)

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self._server.close(conn.ws for conn in self._connections)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    def server_ms(self) -> int:
        return now_ms() + self.clock_offset_ms

    # --- scripting ---------------------------------------------------------------------------

    def add_account(
        self, signer: signing.StarkSigner, l1_address: str = "", balance: Decimal | None = None
    ) -> FakeAccount:
        """An onboarded account for ``signer`` (as if ``POST /v1/onboarding`` had run)."""
        account = FakeAccount(
            signer.address,
            signer.public_key,
            l1_address,
            self.initial_balance if balance is None else balance,
        )
        self.accounts[signer.address] = account
        return account

    def fail_next(
        self,
        status: int,
        count: int = 1,
        path: str | None = None,
        *,
        after_processing: bool = False,
    ) -> None:
        """The next ``count`` requests (to ``path`` if given) answer ``status`` (429, 5xx);
        ``after_processing``: the request takes effect first (a reply lost on the way back)."""
        self._failures += [(status, path, after_processing)] * count

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        """Close every WebSocket; refuse new ones for ``refuse_for`` seconds."""
        self.refuse_ws_until = time.monotonic() + refuse_for
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close()

    def sequence_gap(self, market: str) -> None:
        """The next book delta of ``market`` skips a sequence number."""
        self._gaps.add(market)

    def ws_connection_count(self) -> int:
        return len(self._connections)

    def private_subscriptions(self) -> set[str]:
        """Private channels of the authenticated connections."""
        return {
            channel
            for conn in self._connections
            if conn.account is not None
            for channel in conn.channels
            if channel.startswith(("orders.", "fills."))
        }

    def mark_price(self, market: str) -> Decimal:
        if market in self.marks:
            return self.marks[market]
        bids, asks = self.books[market]
        return (max(bids) + min(asks)) / 2

    async def set_mark_price(self, market: str, price: Decimal) -> None:
        """Move the mark (and the book around it), then fire the stops it crosses."""
        self.marks[market] = price
        tick = self.markets[market].tick
        old = self.books[market]
        self.books[market] = (
            {price - tick * 10: Decimal(5)},
            {price + tick * 10: Decimal(5)},
        )
        await self._push_book(market, old)
        await self._check_triggers(market)

    async def set_book(
        self, market: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
    ) -> None:
        old = self.books[market]
        self.books[market] = (
            {Decimal(p): Decimal(q) for p, q in bids},
            {Decimal(p): Decimal(q) for p, q in asks},
        )
        await self._push_book(market, old)

    # --- JWT ---------------------------------------------------------------------------------

    def issue_jwt(self, account: FakeAccount, ttl: int | None = None) -> str:
        now = self.server_ms() // 1000
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"sub": account.hex_address, "iat": now, "exp": now + (ttl or self.jwt_ttl)}
        payload = _b64(json.dumps(claims).encode())
        mac = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(mac)}"

    def _jwt_account(self, token: str) -> FakeAccount:
        parts = token.split(".")
        if len(parts) != 3:
            raise ApiError(401, "INVALID_TOKEN", "invalid bearer jwt: malformed token")
        expected = hmac.new(
            self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(_b64(expected), parts[2]):
            raise ApiError(401, "INVALID_TOKEN", "invalid bearer jwt: signature is invalid")
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        if int(claims["exp"]) <= self.server_ms() // 1000:
            raise ApiError(401, "INVALID_TOKEN", "invalid bearer jwt: token is expired")
        account = self.accounts.get(int(claims["sub"], 16))
        if account is None:
            raise ApiError(401, "INVALID_TOKEN", "invalid bearer jwt: unknown account")
        return account

    def _bearer(self, request: web.Request) -> FakeAccount:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(401, "UNAUTHORIZED_ERROR", "missing bearer token")
        return self._jwt_account(header.removeprefix("Bearer "))

    # --- HTTP --------------------------------------------------------------------------------

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        failure = next((f for f in self._failures if f[1] is None or f[1] == request.path), None)
        if failure is not None:
            self._failures.remove(failure)
            if not failure[2]:
                return _failure_response(failure[0])
        try:
            body = await self._body(request)
            result = await self._route(request, body)
        except ApiError as exc:
            return _error_response(exc)
        if self.delay:
            await asyncio.sleep(self.delay)
        if failure is not None:
            return _failure_response(failure[0])
        if result is None:
            return web.Response(status=204)
        status = 201 if (request.method, request.path) == ("POST", "/v1/orders") else 200
        return web.Response(text=dumps(result), status=status, content_type="application/json")

    async def _body(self, request: web.Request) -> JSON:
        raw = await request.text()
        if not raw:
            return {}
        try:
            parsed = loads(raw)
        except ValueError:
            raise ApiError(400, "BINDING_ERROR", "request body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "BINDING_ERROR", "request body must be a JSON object")
        return parsed

    async def _route(self, request: web.Request, body: JSON) -> Any:
        method, path, query = request.method, request.path, dict(request.query)
        public = {
            ("GET", "/v1/system/config"): self.h_config,
            ("GET", "/v1/system/time"): lambda _q: {"server_time": self.server_ms()},
            ("GET", "/v1/markets"): self.h_markets,
            ("GET", "/v1/markets/summary"): self.h_summary,
            ("GET", "/v1/funding/data"): self.h_funding_data,
        }
        if (method, path) in public:
            return public[(method, path)](query)
        if method == "GET" and path.startswith("/v1/orderbook/"):
            return self.h_orderbook(path.removeprefix("/v1/orderbook/"), query)
        if (method, path) == ("POST", "/v1/onboarding"):
            return self.h_onboarding(request, body)
        if method == "POST" and (path == "/v1/auth" or path.startswith("/v1/auth/")):
            return self.h_auth(request)
        account = self._bearer(request)
        if (method, path) == ("POST", "/v1/orders"):
            return await self.h_place(account, body)
        if (method, path) == ("GET", "/v1/orders"):
            return {"results": self._open(account, query.get("market"))}
        if (method, path) == ("DELETE", "/v1/orders"):
            for order in [o for o in account.orders.values() if o.is_open]:
                if query.get("market") in (None, order.market):
                    await self._close(account, order, "USER_CANCELED")
            return None
        if path.startswith("/v1/orders/by_client_id/"):
            order = self._by_client(account, path.removeprefix("/v1/orders/by_client_id/"))
            return await self._order_call(account, method, order)
        if path.startswith("/v1/orders/"):
            order_id = path.removeprefix("/v1/orders/")
            order_or_none = account.orders.get(order_id)
            if order_or_none is None:
                raise ApiError(404, "ORDER_ID_NOT_FOUND", "order id not found")
            return await self._order_call(account, method, order_or_none)
        private = {
            ("GET", "/v1/account"): self.h_account,
            ("GET", "/v1/account/info"): self.h_account_info,
            ("GET", "/v1/balance"): self.h_balance,
            ("GET", "/v1/positions"): self.h_positions,
            ("GET", "/v1/fills"): self.h_fills,
            ("GET", "/v1/account/margin"): self.h_margin,
        }
        if (method, path) in private:
            return private[(method, path)](account, query)
        if method == "POST" and path.startswith("/v1/account/margin/"):
            return self.h_set_margin(account, path.removeprefix("/v1/account/margin/"), body)
        raise ApiError(404, "NOT_FOUND", f"no route {method} {path}")

    # --- public handlers ---------------------------------------------------------------------

    def h_config(self, _query: JSON) -> JSON:
        return {
            "starknet_chain_id": self.starknet_chain,
            "l1_chain_id": str(self.l1_chain_id),
            "paraclear_account_hash": hex(ACCOUNT_CLASS_HASH),
            "paraclear_account_proxy_hash": hex(PROXY_CLASS_HASH),
            "paraclear_decimals": 8,
        }

    def _market(self, symbol: str | None) -> FakeMarket:
        market = self.markets.get(symbol or "")
        if market is None:
            raise ApiError(400, "MARKET_NOT_FOUND", f"market {symbol} not found")
        return market

    def h_markets(self, _query: JSON) -> JSON:
        rows = []
        for market in self.markets.values():
            rows.append(
                {
                    "symbol": market.symbol,
                    "base_currency": market.base,
                    "quote_currency": "USD",
                    "settlement_currency": "USDC",
                    "asset_kind": "PERP",
                    "market_kind": "cross",
                    "order_size_increment": text(market.step),
                    "price_tick_size": text(market.tick),
                    "min_notional": text(market.min_notional),
                    "max_order_size": "1000000",
                    "funding_period_hours": market.funding_period_hours,
                    "delta1_cross_margin_params": {
                        "imf_base": text(Decimal(1) / market.max_leverage),
                        "mmf_factor": "0.5",
                    },
                }
            )
        return {"results": rows}

    def next_funding_ms(self, market: FakeMarket) -> int:
        period = market.funding_period_hours * 3_600_000
        return (self.server_ms() // period + 1) * period

    def h_summary(self, query: JSON) -> JSON:
        wanted = query.get("market", "ALL")
        rows = []
        for market in self.markets.values():
            if wanted not in ("ALL", market.symbol):
                continue
            bids, asks = self.books[market.symbol]
            rows.append(
                {
                    "symbol": market.symbol,
                    "mark_price": text(self.mark_price(market.symbol)),
                    "last_traded_price": text(self.mark_price(market.symbol)),
                    "bid": text(max(bids)) if bids else "",
                    "ask": text(min(asks)) if asks else "",
                    "funding_rate": text(market.funding_rate),
                    "volume_24h": text(market.volume_24h),
                    "open_interest": text(market.open_interest),
                    "created_at": self.server_ms(),
                }
            )
        if wanted != "ALL" and not rows:
            raise ApiError(400, "MARKET_NOT_FOUND", f"market {wanted} not found")
        return {"results": rows}

    def h_funding_data(self, query: JSON) -> JSON:
        market = self._market(query.get("market"))
        return {
            "results": [
                {
                    "market": market.symbol,
                    "funding_rate": text(market.funding_rate),
                    "funding_period_hours": market.funding_period_hours,
                    "funding_index": "0",
                    "funding_premium": "0",
                    "created_at": self.server_ms(),
                }
            ]
        }

    def h_orderbook(self, symbol: str, query: JSON) -> JSON:
        market = self._market(symbol)
        depth = int(query.get("depth", 20))
        bids, asks = self.books[market.symbol]
        return {
            "market": market.symbol,
            "seq_no": self.book_seq[market.symbol],
            "last_updated_at": self.server_ms(),
            "bids": [[text(p), text(bids[p])] for p in sorted(bids, reverse=True)[:depth]],
            "asks": [[text(p), text(asks[p])] for p in sorted(asks)[:depth]],
        }

    # --- onboarding and auth -----------------------------------------------------------------

    def _signature_header(self, request: web.Request) -> str:
        signature = request.headers.get("PARADEX-STARKNET-SIGNATURE", "")
        try:
            signing.unflatten(signature)
        except ValueError:
            raise ApiError(
                400, "INVALID_STARKNET_SIGNATURE", "malformed starknet signature"
            ) from None
        return signature

    def _address_header(self, request: web.Request) -> int:
        text_address = request.headers.get("PARADEX-STARKNET-ACCOUNT", "")
        try:
            return int(text_address, 16)
        except ValueError:
            raise ApiError(
                400, "INVALID_STARKNET_ADDRESS", "malformed starknet account address"
            ) from None

    def _message_hash(self, address: int, struct: int) -> int:
        return signing.message_hash(self.starknet_chain, address, struct)

    def h_onboarding(self, request: web.Request, body: JSON) -> JSON:
        address = self._address_header(request)
        signature = self._signature_header(request)
        l1_address = request.headers.get("PARADEX-ETHEREUM-ACCOUNT", "")
        if not (l1_address.startswith("0x") and len(l1_address) == 42):
            raise ApiError(400, "INVALID_ETHEREUM_ADDRESS", "invalid ethereum address")
        try:
            public = int(str(body.get("public_key", "")), 16)
        except ValueError:
            raise ApiError(400, "PUBLIC_KEY_INVALID", "invalid public key") from None
        derived = signing.account_address(public, ACCOUNT_CLASS_HASH, PROXY_CLASS_HASH)
        if derived != address:
            raise ApiError(400, "INVALID_STARKNET_ADDRESS", "address does not match public key")
        digest = self._message_hash(address, signing.onboarding_struct_hash())
        if not signing.verify_flat(public, digest, signature):
            raise ApiError(
                400, "STARKNET_SIGNATURE_VERIFICATION_FAILED", "starknet signature is invalid"
            )
        if address not in self.accounts:
            self.accounts[address] = FakeAccount(address, public, l1_address, self.initial_balance)
        return {}

    def h_auth(self, request: web.Request) -> JSON:
        address = self._address_header(request)
        signature = self._signature_header(request)
        stamp = request.headers.get("PARADEX-TIMESTAMP", "")
        expiry = request.headers.get("PARADEX-SIGNATURE-EXPIRATION", "")
        if not stamp.isdigit() or not expiry.isdigit():
            raise ApiError(400, "INVALID_TIMESTAMP", "missing or malformed timestamp")
        now = self.server_ms() // 1000
        if abs(int(stamp) - now) > self.auth_window:
            raise ApiError(400, "INVALID_TIMESTAMP", "timestamp is outside the allowed window")
        if int(expiry) <= now:
            raise ApiError(400, "INVALID_TIMESTAMP", "signature expiration is in the past")
        account = self.accounts.get(address)
        if account is None:
            raise ApiError(400, "NOT_ONBOARDED", "user has never called /onboarding")
        digest = self._message_hash(address, signing.auth_struct_hash(int(stamp), int(expiry)))
        if not signing.verify_flat(account.public_key, digest, signature):
            raise ApiError(
                400, "STARKNET_SIGNATURE_VERIFICATION_FAILED", "starknet signature is invalid"
            )
        self.auth_count += 1
        return {"jwt_token": self.issue_jwt(account)}

    # --- orders ------------------------------------------------------------------------------

    def _open(self, account: FakeAccount, market: str | None) -> list[JSON]:
        return [
            o.wire() for o in account.orders.values() if o.is_open and market in (None, o.market)
        ]

    def _by_client(self, account: FakeAccount, client_id: str) -> FakeOrder:
        matches = [o for o in account.orders.values() if o.client_id == client_id]
        if not matches:
            raise ApiError(404, "CLIENT_ORDER_ID_NOT_FOUND", "client order id not found")
        return matches[-1]

    async def _order_call(self, account: FakeAccount, method: str, order: FakeOrder) -> Any:
        if method == "GET":
            if self.unreadable_gets > 0:  # replication lag: a new order not readable yet
                self.unreadable_gets -= 1
                raise ApiError(404, "ORDER_ID_NOT_FOUND", "order id not found")
            return order.wire()
        if method == "DELETE":
            if not order.is_open:
                raise ApiError(400, "ORDER_IS_CLOSED", "order is already closed")
            await self._later(self._close(account, order, "USER_CANCELED"))
            return None
        raise ApiError(405, "VALIDATION_ERROR", f"method {method} not allowed")

    def _decimal(self, body: JSON, key: str) -> Decimal:
        try:
            value = Decimal(str(body[key]))
        except (KeyError, ArithmeticError, ValueError):
            raise ApiError(400, "VALIDATION_ERROR", f"invalid or missing {key}") from None
        if not value.is_finite() or value <= 0:
            raise ApiError(400, "VALIDATION_ERROR", f"{key} must be positive")
        return value

    def _check_order_signature(
        self, account: FakeAccount, body: JSON, price: Decimal | None
    ) -> None:
        stamp = body.get("signature_timestamp")
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise ApiError(400, "VALIDATION_ERROR", "invalid signature_timestamp")
        window = body.get("recv_window")
        if window is not None and (not isinstance(window, int) or window < 10):
            raise ApiError(400, "VALIDATION_ERROR", "recv_window must be at least 10 ms")
        if window is not None and self.server_ms() - stamp > window:
            raise ApiError(400, "VALIDATION_ERROR", "order received after its recv_window expired")
        try:
            message = signing.OrderMessage(
                timestamp_ms=stamp,
                market=str(body["market"]),
                side=str(body["side"]).lower(),
                order_type=str(body["type"]),
                size=Decimal(str(body["size"])),
                price=price,
            )
            digest = self._message_hash(account.address, signing.order_struct_hash(message))
        except (KeyError, ValueError, ArithmeticError):
            raise ApiError(400, "INVALID_ORDER_SIGNATURE", "order signature is invalid") from None
        if not signing.verify_flat(account.public_key, digest, str(body.get("signature", ""))):
            raise ApiError(400, "INVALID_ORDER_SIGNATURE", "order signature is invalid")
        self.order_signatures_verified += 1

    async def h_place(self, account: FakeAccount, body: JSON) -> JSON:
        market = self._market(body.get("market"))
        side = body.get("side")
        order_type = body.get("type")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, "VALIDATION_ERROR", "side must be BUY or SELL")
        if order_type not in ("LIMIT", "MARKET", "STOP_MARKET"):
            raise ApiError(400, "VALIDATION_ERROR", f"unsupported order type {order_type}")
        size = self._decimal(body, "size")
        price = self._decimal(body, "price") if order_type == "LIMIT" else None
        trigger = self._decimal(body, "trigger_price") if order_type == "STOP_MARKET" else None
        self._check_order_signature(account, body, price)
        if size % market.step:
            raise ApiError(400, "VALIDATION_ERROR", "size is not a multiple of the increment")
        if price is not None and price % market.tick:
            raise ApiError(400, "VALIDATION_ERROR", "price is not a multiple of the tick size")
        reference = price if price is not None else trigger or self.mark_price(market.symbol)
        if size * reference < market.min_notional:
            raise ApiError(400, "VALIDATION_ERROR", "order notional is below the minimum")
        client_id = str(body.get("client_id") or "")
        if client_id and any(
            o.client_id == client_id and o.is_open for o in account.orders.values()
        ):
            raise ApiError(400, "DUPLICATED_CLIENT_ID", "client id already used by an open order")
        flags = body.get("flags") or []
        order = FakeOrder(
            order_id=str(next(self._ids)),
            account=account.hex_address,
            client_id=client_id,
            market=market.symbol,
            side=str(side),
            order_type=str(order_type),
            size=size,
            price=price,
            instruction=str(body.get("instruction") or "GTC"),
            reduce_only="REDUCE_ONLY" in flags,
            trigger_price=trigger,
        )
        account.orders[order.order_id] = order
        answer = order.wire()
        await self._later(self._process(account, order))
        return answer

    async def _later(self, step: Coroutine[Any, Any, None]) -> None:
        """Run ``step`` now, or ``decision_delay`` seconds from now (the order stays as it
        was meanwhile, as Paradex's engine decides after answering)."""
        if self.decision_delay <= 0:
            await step
            return

        async def delayed() -> None:
            await asyncio.sleep(self.decision_delay)
            await step

        task = asyncio.get_running_loop().create_task(delayed())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _process(self, account: FakeAccount, order: FakeOrder) -> None:
        market = order.market
        buying = order.side == "BUY"
        if order.order_type == "STOP_MARKET":
            order.triggers_above = order.trigger_price is not None and (
                order.trigger_price > self.mark_price(market)
            )
            await self._set_status(account, order, "UNTRIGGERED")
            return
        if order.reduce_only and not self._reduces(account, order):
            await self._close(account, order, "REDUCE_ONLY_WOULD_INCREASE")
            return
        bids, asks = self.books[market]
        opposite = asks if buying else bids
        if order.order_type == "LIMIT" and order.instruction == "POST_ONLY":
            assert order.price is not None
            best = min(opposite) if buying and opposite else max(opposite) if opposite else None
            if best is not None and (order.price >= best if buying else order.price <= best):
                await self._close(account, order, "POST_ONLY_WOULD_CROSS")
                return
        await self._set_status(account, order, "OPEN")
        await self._take(account, order)
        if order.is_open and (order.order_type == "MARKET" or order.instruction == "IOC"):
            await self._close(account, order, "IOC_CANCEL")

    def _reduces(self, account: FakeAccount, order: FakeOrder) -> bool:
        amount = account.position(order.market).amount
        if amount == 0:
            return False
        return (amount > 0) != (order.side == "BUY") and order.size <= abs(amount)

    async def _take(self, account: FakeAccount, order: FakeOrder) -> None:
        bids, asks = self.books[order.market]
        buying = order.side == "BUY"
        old = ({**bids}, {**asks})
        taken = take_liquidity(
            asks if buying else bids,
            order.size - order.filled,
            buying=buying,
            limit=order.price if order.order_type == "LIMIT" else None,
        )
        for price, qty in taken:
            await self._fill(account, order, price, qty, maker=False)
        if taken:
            await self._push_book(order.market, old)

    async def _check_triggers(self, market: str) -> None:
        mark = self.mark_price(market)
        for account in self.accounts.values():
            for order in list(account.orders.values()):
                if order.market != market or order.status != "UNTRIGGERED":
                    continue
                assert order.trigger_price is not None
                crossed = (
                    mark >= order.trigger_price
                    if order.triggers_above
                    else mark <= order.trigger_price
                )
                if not crossed:
                    continue
                if order.reduce_only and not self._reduces(account, order):
                    await self._close(account, order, "REDUCE_ONLY_WOULD_INCREASE")
                    continue
                await self._set_status(account, order, "OPEN")
                await self._take(account, order)
                if order.is_open:
                    await self._close(account, order, "IOC_CANCEL")

    async def _fill(
        self, account: FakeAccount, order: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool
    ) -> None:
        signed = qty if order.side == "BUY" else -qty
        realized = account.position(order.market).fill(signed, price)
        rate = account.maker_fee if maker else account.taker_fee
        fee = price * qty * rate
        account.balance += realized - fee
        order.filled += qty
        order.filled_quote += price * qty
        order.updated_at = self.server_ms()
        fill = FakeFill(
            str(next(self._fill_ids)), order, price, qty, fee, maker, self.server_ms(), realized
        )
        account.fills.append(fill)
        await self._emit(account, "fills", order.market, fill.wire())
        if order.filled == order.size:
            order.status = "CLOSED"
            order.seq_no += 1
            await self._emit(account, "orders", order.market, order.wire())

    async def _set_status(self, account: FakeAccount, order: FakeOrder, status: str) -> None:
        order.status = status
        order.updated_at = self.server_ms()
        order.seq_no += 1
        await self._emit(account, "orders", order.market, order.wire())

    async def _close(self, account: FakeAccount, order: FakeOrder, reason: str) -> None:
        order.cancel_reason = reason
        await self._set_status(account, order, "CLOSED")

    # --- account -----------------------------------------------------------------------------

    def unrealized(self, account: FakeAccount) -> Decimal:
        return sum(
            (
                (self.mark_price(m) - p.entry) * p.amount
                for m, p in account.positions.items()
                if p.amount
            ),
            ZERO,
        )

    def margin_used(self, account: FakeAccount) -> Decimal:
        total = ZERO
        for market, position in account.positions.items():
            if position.amount:
                leverage = account.leverage.get(market, self.markets[market].max_leverage)
                total += abs(position.amount) * self.mark_price(market) / leverage
        return total

    def h_account(self, account: FakeAccount, _query: JSON) -> JSON:
        value = account.balance + self.unrealized(account)
        used = self.margin_used(account)
        return {
            "account": account.hex_address,
            "account_value": text(value),
            "total_collateral": text(value),
            "free_collateral": text(value - used),
            "initial_margin_requirement": text(used),
            "maintenance_margin_requirement": text(used / 2),
            "settlement_asset": "USDC",
            "status": "ACTIVE",
            "updated_at": self.server_ms(),
        }

    def h_account_info(self, account: FakeAccount, _query: JSON) -> JSON:
        return {
            "account": account.hex_address,
            "kind": "main",
            "public_key": hex(account.public_key),
            "fees": {
                "maker_rate": text(account.maker_fee),
                "taker_rate": text(account.taker_fee),
                "commission_rate": "0",
                "discount_rate": "0",
            },
        }

    def h_balance(self, account: FakeAccount, _query: JSON) -> JSON:
        return {
            "results": [
                {"token": "USDC", "size": text(account.balance), "last_updated_at": now_ms()}
            ]
        }

    def h_positions(self, account: FakeAccount, _query: JSON) -> JSON:
        rows = []
        for market, position in account.positions.items():
            mark = self.mark_price(market)
            rows.append(
                {
                    "market": market,
                    "account": account.hex_address,
                    "side": "LONG" if position.amount >= 0 else "SHORT",
                    "size": text(position.amount),
                    "status": "OPEN" if position.amount else "CLOSED",
                    "average_entry_price": text(position.entry),
                    "unrealized_pnl": text((mark - position.entry) * position.amount),
                    "liquidation_price": "",
                    "leverage": text(account.leverage.get(market, Decimal(0))),
                    "last_updated_at": now_ms(),
                }
            )
        return {"results": rows}

    def h_fills(self, account: FakeAccount, query: JSON) -> JSON:
        start = int(query.get("start_at", 0))
        rows = [
            f.wire()
            for f in account.fills
            if f.created_at >= start and query.get("market") in (None, f.order.market)
        ]
        return {"results": list(reversed(rows))[: int(query.get("page_size", 100))]}

    def h_margin(self, account: FakeAccount, query: JSON) -> JSON:
        markets = [self._market(query["market"])] if "market" in query else self.markets.values()
        return {
            "account": account.hex_address,
            "margin_methodology": "cross_margin",
            "configs": [
                {
                    "market": m.symbol,
                    "leverage": int(account.leverage.get(m.symbol, m.max_leverage)),
                    "margin_type": "CROSS",
                }
                for m in markets
            ],
        }

    def h_set_margin(self, account: FakeAccount, symbol: str, body: JSON) -> JSON:
        market = self._market(symbol)
        leverage = body.get("leverage")
        if not isinstance(leverage, int) or not 1 <= leverage <= market.max_leverage:
            raise ApiError(
                400, "VALIDATION_ERROR", f"leverage must be between 1 and {market.max_leverage}"
            )
        if body.get("margin_type") != "CROSS":
            raise ApiError(400, "VALIDATION_ERROR", "margin_type must be CROSS")
        account.leverage[market.symbol] = Decimal(leverage)
        return {
            "account": account.hex_address,
            "market": market.symbol,
            "leverage": leverage,
            "margin_type": "CROSS",
        }

    # --- WebSocket ---------------------------------------------------------------------------

    async def _push_book(
        self, market: str, old: tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]
    ) -> None:
        new_bids, new_asks = self.books[market]
        changes: list[JSON] = []
        for side, before, after in (("BUY", old[0], new_bids), ("SELL", old[1], new_asks)):
            for price in sorted(set(before) | set(after)):
                if before.get(price) != after.get(price):
                    size = after.get(price, ZERO)
                    changes.append({"side": side, "price": text(price), "size": text(size)})
        if not changes:
            return
        self.book_seq[market] += 2 if market in self._gaps else 1
        self._gaps.discard(market)
        data = {
            "market": market,
            "seq_no": self.book_seq[market],
            "last_updated_at": self.server_ms(),
            "update_type": "d",
            "deletes": [c for c in changes if c["size"] == "0"],
            "inserts": [],
            "updates": [c for c in changes if c["size"] != "0"],
        }
        await self._broadcast(f"order_book.{market}.deltas", data)

    def _book_snapshot(self, market: str) -> JSON:
        bids, asks = self.books[market]
        inserts = [{"side": "BUY", "price": text(p), "size": text(q)} for p, q in bids.items()]
        inserts += [{"side": "SELL", "price": text(p), "size": text(q)} for p, q in asks.items()]
        return {
            "market": market,
            "seq_no": self.book_seq[market],
            "last_updated_at": self.server_ms(),
            "update_type": "s",
            "deletes": [],
            "inserts": inserts,
            "updates": [],
        }

    async def push_funding(self, market: str) -> None:
        """One ``funding_data.<market>`` notification with the market's current rate."""
        row = self.h_funding_data({"market": market})["results"][0]
        await self._broadcast(f"funding_data.{market}", row)

    async def _broadcast(self, channel: str, data: JSON) -> None:
        for conn in list(self._connections):
            if channel in conn.channels:
                await self._notify(conn, channel, data)

    async def _emit(self, account: FakeAccount, kind: str, market: str, data: JSON) -> None:
        times = 2 if self.duplicate_user_events else 1
        for conn in list(self._connections):
            if conn.account is not account:
                continue
            for channel in (f"{kind}.ALL", f"{kind}.{market}"):
                if channel in conn.channels:
                    for _ in range(times):
                        await self._notify(conn, channel, data)

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
            method = str(request["method"])
            params = request.get("params") or {}
            ident = request.get("id")
        except (ValueError, KeyError, TypeError):
            await self._ws_send(conn, _rpc_error(None, -32700, "Parse error"))
            return
        if method == "auth":
            bearer = str(params.get("bearer", "")) if isinstance(params, dict) else ""
            if bearer.count(".") != 2:
                await self._ws_send(conn, _rpc_error(ident, 40110, "Malformed Bearer Token"))
                return
            try:
                conn.account = self._jwt_account(bearer)
            except (ApiError, ValueError, KeyError):
                await self._ws_send(conn, _rpc_error(ident, 40111, "Invalid Bearer Token"))
                return
            await self._ws_send(conn, {"jsonrpc": "2.0", "result": {}, "id": ident})
            return
        if method not in ("subscribe", "unsubscribe"):
            await self._ws_send(conn, _rpc_error(ident, -32601, "method does not exist"))
            return
        channel = str(params.get("channel", "")) if isinstance(params, dict) else ""
        kind = channel.split(".", 1)[0]
        if kind not in ("orders", "fills", "order_book", "funding_data"):
            await self._ws_send(conn, _rpc_error(ident, -32602, "Invalid params"))
            return
        if kind in ("orders", "fills") and conn.account is None:
            await self._ws_send(conn, _rpc_error(ident, 40111, "Invalid Bearer Token"))
            return
        if method == "unsubscribe":
            conn.channels.discard(channel)
            await self._ws_send(
                conn, {"jsonrpc": "2.0", "result": {"channel": channel}, "id": ident}
            )
            return
        conn.channels.add(channel)
        await self._ws_send(conn, {"jsonrpc": "2.0", "result": {"channel": channel}, "id": ident})
        if kind == "order_book":
            market = channel.split(".")[1]
            if market in self.books:
                await self._notify(conn, channel, self._book_snapshot(market))

    async def _notify(self, conn: _Connection, channel: str, data: JSON) -> None:
        await self._ws_send(
            conn,
            {
                "jsonrpc": "2.0",
                "method": "subscription",
                "params": {"channel": channel, "data": data},
            },
        )

    async def _ws_send(self, conn: _Connection, payload: JSON) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not conn.ws.closed:
                await conn.ws.send_str(dumps(payload))


def _rpc_result(ident: Any, result: JSON) -> JSON:
    return {"jsonrpc": "2.0", "result": result, "id": ident}


def _rpc_error(ident: Any, code: int, message: str) -> JSON:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": ident}


def _failure_response(status: int) -> web.Response:
    code = "RATE_LIMIT" if status == 429 else "INTERNAL_ERROR"
    headers = {"Retry-After": "0.05"} if status == 429 else {}
    return web.Response(
        text=dumps({"error": code, "message": "fault injected by the test"}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _error_response(error: ApiError) -> web.Response:
    return web.Response(
        text=dumps({"error": error.code, "message": error.message}),
        status=error.status,
        content_type="application/json",
    )
