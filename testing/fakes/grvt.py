"""A fake GRVT exchange (REST + WebSocket) for the GRVT client's tests and bench.

It speaks GRVT's "full" JSON API as the official SDK (grvt-pysdk) uses it; every request is a
``POST`` with a JSON body, answers are ``{"result": ...}``, errors ``{"code", "message",
"status"}`` (the SDK's ``GrvtError``):

* **Auth** - ``POST /auth/api_key/login`` ``{"api_key"}`` answers a ``gravity`` session cookie
  (``Set-Cookie`` with an ``expires``) and the account id in ``X-Grvt-Account-Id``; every
  trading call needs both (cookie + header) and names a sub-account of that account. A missing
  or expired session is ``401`` code 1000; a sub-account of someone else ``403`` code 1001.
* **Market data** - ``/full/v1/all_instruments``, ``/instrument``, ``/book``, ``/ticker``
  (``funding_rate_8h_curr`` in percentage points, 24 h volumes, open interest in the base
  asset), ``/funding`` (settled rates, newest first).
* **Trading** - ``/full/v1/create_order`` verifies the order's EIP-712 signature: the struct is
  rebuilt from the *received* decimal strings (size times ``10**base_decimals``, price times
  ``10**9``, both exact or the request is malformed), the signer recovered and compared with
  ``signature.signer`` (``2002`` "Signature does not match payload") and with the address the
  API key was registered for (``2000`` "Signature is from an unauthorized signer"); an
  expiration in the past is ``2001`` "Signature has expired", more than 30 days ahead the order
  is ``REJECTED`` with ``EXCEED_MAX_SIGNATURE_EXPIRATION``; malformed fields are ``400`` code
  1003. Then ``cancel_order``, ``cancel_all_orders``, ``order``, ``open_orders``,
  ``order_history``, ``fill_history``, ``positions``, ``account_summary``,
  ``get_all_initial_leverage``, ``set_initial_leverage``.
* **WebSocket** ``/ws`` - JSON-RPC ``subscribe`` with ``{"stream", "selectors"}``; feeds
  ``{"stream", "selector", "sequence_number", "prev_sequence_number", "feed"}``. ``v1.book.s``
  (selector ``<instrument>@<rate>-<depth>``: a full snapshot on subscribe and on every change),
  private ``v1.order``, ``v1.fill`` and ``v1.position`` (selector ``<sub_account_id>``) only on
  a connection opened with a valid session cookie and account id header; otherwise the
  subscription is answered with a JSON-RPC error (code 1000).

**Trigger orders** (``metadata.trigger`` = ``{"trigger_type": "STOP_LOSS" | "TAKE_PROFIT",
"tpsl": {"trigger_by", "trigger_price", "close_position"}}``, unsigned metadata as GRVT
documents it; reduce-only): they rest as ``OPEN`` (listed, cancellable) until the mark crosses
the trigger from the side it was on at placement, then execute as a reduce-only market order
against the book. The mark is the book's mid unless pinned with :meth:`FakeGrvt.set_mark_price`.

Orders are matched synchronously against the scripted book (:meth:`FakeGrvt.set_book`):
rejections GRVT reports in the order's state (``FAIL_POST_ONLY``, ``FAIL_REDUCE_ONLY``,
``OVERLAPPING_CLIENT_ORDER_ID``) come back as ``REJECTED`` orders, as GRVT does. Fees follow
GRVT's published Level 1 tier (maker 0.027 %, taker 0.055 %) unless the account sets its own.

The error codes 1000-1006 and 2000-2002 follow GRVT's published error table; ``3000``
("instrument is invalid") and ``5000`` ("order not found") are this fake's choice for answers
whose exact code we could not confirm.

Fault knobs (as the other fakes): ``fail_next`` (429 with code 1006 / 5xx), ``delay``,
``drop_connections``, ``sequence_gap`` (the next private feed skips a sequence number),
``duplicate_events`` (every private feed is sent twice), ``expire_sessions``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime
from typing import Any

from aiohttp import WSMsgType, web
from eth_account import Account

from exchange_clients.grvt.signing import (
    MAX_EXPIRATION_NS,
    OrderToSign,
    SigningError,
    TimeInForceCode,
    order_leg,
    recover_signer,
)
from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer
from testing.fakes.matching import NetPosition, take_liquidity

JSON = dict[str, Any]
ZERO = Decimal(0)
SESSION_SECONDS = 3600
FUNDING_INTERVAL_NS = 8 * 3600 * 1_000_000_000

E_UNAUTHENTICATED = (401, 1000, "You need to authenticate prior to using this functionality")
E_FORBIDDEN = (403, 1001, "You are not authorized to access this functionality")
E_INTERNAL = (500, 1002, "Internal Server Error")
E_MALFORMED = (400, 1003, "Request could not be processed due to malformed syntax")
E_RATE_LIMIT = (429, 1006, "You have exceeded the rate limit for this functionality")
E_UNAUTHORIZED_SIGNER = (403, 2000, "Signature is from an unauthorized signer")
E_SIGNATURE_EXPIRED = (403, 2001, "Signature has expired")
E_SIGNATURE_MISMATCH = (403, 2002, "Signature does not match payload")
E_INSTRUMENT = (400, 3000, "Instrument is invalid")
E_NOT_FOUND = (404, 5000, "Order not found")
E_LEVERAGE = (400, 1003, "Leverage is out of the instrument's range")
TRIGGER_TYPES = ("TAKE_PROFIT", "STOP_LOSS")
TRIGGER_BY = ("MARK", "INDEX", "LAST", "MID")


class ApiError(Exception):
    def __init__(self, error: tuple[int, int, str]) -> None:
        self.status, self.code, self.message = error
        super().__init__(self.message)


def now_ns() -> int:
    return time.time_ns()


def text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


@dataclass
class FakeInstrument:
    instrument: str  # BTC_USDT_Perp
    instrument_hash: str
    base: str
    tick_size: Decimal
    min_size: Decimal
    base_decimals: int = 9
    max_leverage: int = 50
    funding_rate_pct: Decimal = Decimal("0.01")
    """The current 8 h funding rate in percentage points (0.01 = 0.01 %)."""
    open_interest: Decimal = Decimal(1200)
    volume_24h_q: Decimal = Decimal(250_000_000)
    quote: str = "USDT"


def default_instruments() -> list[FakeInstrument]:
    return [
        FakeInstrument("BTC_USDT_Perp", "0x030501", "BTC", Decimal("0.1"), Decimal("0.001")),
        FakeInstrument(
            "ETH_USDT_Perp",
            "0x030401",
            "ETH",
            Decimal("0.01"),
            Decimal("0.01"),
            funding_rate_pct=Decimal("-0.0035"),
        ),
        FakeInstrument(
            "SOL_USDT_Perp", "0x030d01", "SOL", Decimal("0.001"), Decimal("0.1"), max_leverage=20
        ),
    ]


DEFAULT_BOOKS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "BTC_USDT_Perp": (
        [("60000.0", "2"), ("59999.9", "3"), ("59999.0", "5"), ("59990.0", "10")],
        [("60000.1", "2"), ("60000.2", "3"), ("60001.0", "5"), ("60010.0", "10")],
    ),
    "ETH_USDT_Perp": (
        [("3000.00", "40"), ("2999.99", "80")],
        [("3000.01", "40"), ("3000.05", "90")],
    ),
    "SOL_USDT_Perp": ([("150.000", "500")], [("150.010", "500")]),
}


@dataclass
class FakeOrder:
    order_id: str
    sub_account_id: str
    instrument: str
    is_buy: bool
    is_market: bool
    tif: str
    size: Decimal
    price: Decimal
    post_only: bool
    reduce_only: bool
    client_order_id: str
    signature: JSON
    status: str = "PENDING"
    reject_reason: str = "UNSPECIFIED"
    traded: Decimal = ZERO
    traded_quote: Decimal = ZERO
    create_time: int = field(default_factory=now_ns)
    update_time: int = field(default_factory=now_ns)
    trigger: JSON | None = None
    """``metadata.trigger`` of a TP/SL order, as received."""
    trigger_price: Decimal = ZERO
    fires_above: bool = False
    """The trigger fires when the mark rises to it (else when it falls to it)."""
    triggered: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in ("PENDING", "OPEN")

    @property
    def is_trigger_pending(self) -> bool:
        return self.trigger is not None and not self.triggered and self.is_open

    def wire(self) -> JSON:
        avg = self.traded_quote / self.traded if self.traded else ZERO
        return {
            "order_id": self.order_id,
            "sub_account_id": self.sub_account_id,
            "is_market": self.is_market,
            "time_in_force": self.tif,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "legs": [
                {
                    "instrument": self.instrument,
                    "size": text(self.size),
                    "limit_price": text(self.price),
                    "is_buying_asset": self.is_buy,
                }
            ],
            "signature": self.signature,
            "metadata": {
                "client_order_id": self.client_order_id,
                "create_time": str(self.create_time),
                **({"trigger": self.trigger} if self.trigger is not None else {}),
            },
            "state": {
                "status": self.status,
                "reject_reason": self.reject_reason,
                "book_size": [text(self.size - self.traded if self.is_open else ZERO)],
                "traded_size": [text(self.traded)],
                "update_time": str(self.update_time),
                "avg_fill_price": [text(avg)],
            },
        }


@dataclass
class FakeFill:
    trade_id: str
    order: FakeOrder
    price: Decimal
    size: Decimal
    fee: Decimal
    fee_rate: Decimal
    is_taker: bool
    realized: Decimal
    mark: Decimal
    event_time: int = field(default_factory=now_ns)

    def wire(self) -> JSON:
        return {
            "event_time": str(self.event_time),
            "sub_account_id": self.order.sub_account_id,
            "instrument": self.order.instrument,
            "is_buyer": self.order.is_buy,
            "is_taker": self.is_taker,
            "size": text(self.size),
            "price": text(self.price),
            "mark_price": text(self.mark),
            "index_price": text(self.mark),
            "interest_rate": "0",
            "forward_price": "0",
            "realized_pnl": text(self.realized),
            "fee": text(self.fee),
            "fee_rate": text(self.fee_rate * 100),
            "trade_id": self.trade_id,
            "order_id": self.order.order_id,
            "venue": "ORDERBOOK",
            "client_order_id": self.order.client_order_id,
            "signer": self.order.signature.get("signer", ""),
            "is_rpi": False,
        }


@dataclass
class FakeSubAccount:
    sub_account_id: str
    balance: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    fills: list[FakeFill] = field(default_factory=list)
    positions: dict[str, NetPosition] = field(default_factory=dict)
    leverage: dict[str, Decimal] = field(default_factory=dict)

    def position(self, instrument: str) -> NetPosition:
        return self.positions.setdefault(instrument, NetPosition())


@dataclass
class FakeApiKey:
    api_key: str
    account_id: str
    signer: str
    """The address whose key signs this API key's orders."""
    sub_accounts: dict[str, FakeSubAccount]


@dataclass
class _Session:
    api_key: FakeApiKey
    expires: float


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    api_key: FakeApiKey | None
    subscriptions: set[tuple[str, str]] = field(default_factory=set)
    sequence: dict[tuple[str, str], int] = field(default_factory=dict)


class FakeGrvt:
    """The venue: instruments, API keys, sub-accounts, books, matching, REST and WebSocket."""

    maker_fee = Decimal("0.00027")
    taker_fee = Decimal("0.00055")
    """GRVT's published Level 1 tier (help.grvt.io, "How does GRVT's Fee Model work?")."""

    def __init__(self, instruments: Iterable[FakeInstrument] | None = None) -> None:
        self.instruments = {i.instrument: i for i in (instruments or default_instruments())}
        self.books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        for name, (bids, asks) in DEFAULT_BOOKS.items():
            if name in self.instruments:
                self.books[name] = (
                    {Decimal(p): Decimal(q) for p, q in bids},
                    {Decimal(p): Decimal(q) for p, q in asks},
                )
        self.marks: dict[str, Decimal] = {}
        self.api_keys: dict[str, FakeApiKey] = {}
        self.sessions: dict[str, _Session] = {}
        self.funding_history: dict[str, list[JSON]] = {}
        self.requests: list[str] = []
        """Paths of every REST request, in order."""
        self.logins = 0
        self.recovered_signers: list[str] = []
        """The signer recovered from every order signature, in order."""
        self._connections: list[_Connection] = []
        self._server = LocalServer()
        self._ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self.port = 0
        # fault knobs
        self._failures: list[tuple[int, str | None, float | None, bool]] = []
        self.delay = 0.0
        self.refuse_ws_until = 0.0
        self._gaps = 0
        self.duplicate_events = False

    # --- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> FakeGrvt:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._ws_handler)
        app.router.add_post("/{path:.*}", self._http_handler)
        self.port = await self._server.serve(app)

    async def stop(self) -> None:
        await self._server.close(c.ws for c in self._connections)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def add_api_key(
        self,
        api_key: str,
        private_key: str,
        sub_account_ids: Iterable[str],
        *,
        balance: Decimal = Decimal(10_000),
        maker_fee: Decimal | None = None,
        taker_fee: Decimal | None = None,
    ) -> FakeApiKey:
        """Register ``api_key`` for the address of ``private_key`` with its sub-accounts."""
        address = Account.from_key(private_key).address
        subs = {
            str(s): FakeSubAccount(
                str(s),
                balance,
                self.maker_fee if maker_fee is None else maker_fee,
                self.taker_fee if taker_fee is None else taker_fee,
            )
            for s in sub_account_ids
        }
        key = FakeApiKey(api_key, f"0x{secrets.token_hex(20)}", address, subs)
        self.api_keys[api_key] = key
        return key

    def sub_account(self, sub_account_id: str) -> FakeSubAccount:
        for key in self.api_keys.values():
            if sub_account_id in key.sub_accounts:
                return key.sub_accounts[sub_account_id]
        raise KeyError(sub_account_id)

    # --- fault knobs --------------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        retry_after: float | None = None,
        after_processing: bool = False,
        path: str | None = None,
    ) -> None:
        """The next ``count`` requests (to ``path`` if given) answer ``status`` (429: code
        1006). ``after_processing``: the request takes effect first (the "outcome unknown"
        case)."""
        self._failures.extend([(status, path, retry_after, after_processing)] * count)

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        """Close every WebSocket; refuse new ones for ``refuse_for`` seconds."""
        self.refuse_ws_until = time.monotonic() + refuse_for
        for conn in list(self._connections):
            await conn.ws.close()

    def sequence_gap(self) -> None:
        """The next private feed message skips one sequence number."""
        self._gaps += 1

    def expire_sessions(self) -> None:
        """Every session cookie expires now (the client must log in again)."""
        for session in self.sessions.values():
            session.expires = 0.0

    @property
    def ws_connection_count(self) -> int:
        return len(self._connections)

    # --- book and prices ----------------------------------------------------------------

    def mark_price(self, instrument: str) -> Decimal:
        if instrument in self.marks:
            return self.marks[instrument]
        bids, asks = self.books.get(instrument, ({}, {}))
        if bids and asks:
            return (max(bids) + min(asks)) / 2
        return next(iter(bids or asks or {Decimal(1): ZERO}))

    async def set_book(
        self,
        instrument: str,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
    ) -> None:
        """Replace the book; resting orders it crosses fill as makers; streams get a snapshot."""
        self.books[instrument] = (dict(bids), dict(asks))
        await self._match_resting(instrument)
        await self._push_book(instrument)
        await self._check_triggers(instrument)

    async def set_mark_price(self, instrument: str, price: Decimal | None) -> None:
        """Pin the mark (``None``: the book's mid again); resting triggers it crosses fire."""
        if price is None:
            self.marks.pop(instrument, None)
        else:
            self.marks[instrument] = price
        await self._check_triggers(instrument)

    async def _check_triggers(self, instrument: str) -> None:
        mark = self.mark_price(instrument)
        for key in self.api_keys.values():
            for sub in key.sub_accounts.values():
                for order in list(sub.orders.values()):
                    if order.instrument != instrument or not order.is_trigger_pending:
                        continue
                    crossed = (
                        mark >= order.trigger_price
                        if order.fires_above
                        else mark <= order.trigger_price
                    )
                    if crossed:
                        await self._fire(sub, order)

    async def _fire(self, sub: FakeSubAccount, order: FakeOrder) -> None:
        """A triggered TP/SL: a reduce-only market order for what the position still holds."""
        order.triggered = True
        position = sub.position(order.instrument).amount
        reducible = min(order.size, abs(position)) if (position > 0) != order.is_buy else ZERO
        if reducible > 0:
            bids, asks = self.books.setdefault(order.instrument, ({}, {}))
            side = asks if order.is_buy else bids
            for price, qty in take_liquidity(side, reducible, buying=order.is_buy):
                await self._fill(sub, order, price, qty, taker=True)
        if order.traded < order.size:
            order.status = "CANCELLED"
            order.reject_reason = "FAIL_REDUCE_ONLY" if reducible == 0 else "MARKET_CANCEL"
        order.update_time = now_ns()
        await self._order_event(sub, order)
        if order.traded:
            await self._push_book(order.instrument)

    async def settle_funding(self, instrument: str) -> None:
        """Record the current 8 h rate as settled now (``/full/v1/funding``)."""
        market = self.instruments[instrument]
        self.funding_history.setdefault(instrument, []).insert(
            0,
            {
                "instrument": instrument,
                "funding_rate": text(market.funding_rate_pct),
                "funding_time": str(now_ns()),
                "mark_price": text(self.mark_price(instrument)),
                "funding_rate_8_h_avg": text(market.funding_rate_pct),
            },
        )

    def next_funding_ns(self) -> int:
        return (now_ns() // FUNDING_INTERVAL_NS + 1) * FUNDING_INTERVAL_NS

    # --- HTTP ---------------------------------------------------------------------------

    async def _http_handler(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.requests.append(path)
        failure = next((f for f in self._failures if f[1] is None or f[1] == path), None)
        if failure is not None:
            self._failures.remove(failure)
            if not failure[3]:
                return _failure_response(failure)
        try:
            body = await self._body(request)
            if path == "/auth/api_key/login":
                return self._login(body)
            handler = self._public_handlers().get(path)
            if handler is not None:
                result: Any = handler(body)
            else:
                private = self._private_handlers().get(path)
                if private is None:
                    return _error_response((404, 1004, "Data Not Found"))
                sub = self._authenticate(request, body)
                result = private(sub, body)
                if asyncio.iscoroutine(result):
                    result = await result
        except ApiError as exc:
            return _error_response((exc.status, exc.code, exc.message))
        if self.delay:
            await asyncio.sleep(self.delay)
        if failure is not None:
            return _failure_response(failure)
        return web.Response(text=dumps(result), content_type="application/json")

    async def _body(self, request: web.Request) -> JSON:
        raw = await request.text()
        if not raw:
            return {}
        try:
            parsed = loads(raw)
        except ValueError:
            raise ApiError(E_MALFORMED) from None
        if not isinstance(parsed, dict):
            raise ApiError(E_MALFORMED)
        return parsed

    def _login(self, body: JSON) -> web.Response:
        key = self.api_keys.get(str(body.get("api_key", "")))
        if key is None:
            return _error_response(E_UNAUTHENTICATED)
        token = secrets.token_hex(16)
        expires = time.time() + SESSION_SECONDS
        self.sessions[token] = _Session(key, expires)
        self.logins += 1
        stamp = format_datetime(datetime.fromtimestamp(int(expires), tz=UTC), usegmt=True)
        response = web.Response(
            text=dumps({"status": "success"}),
            content_type="application/json",
            headers={"X-Grvt-Account-Id": key.account_id},
        )
        response.headers["Set-Cookie"] = (
            f"gravity={token}; Path=/; Expires={stamp}; HttpOnly; Secure; SameSite=Lax"
        )
        return response

    def _session_key(self, request: web.Request) -> FakeApiKey | None:
        session = self.sessions.get(request.cookies.get("gravity", ""))
        if session is None or session.expires <= time.time():
            return None
        if request.headers.get("X-Grvt-Account-Id") != session.api_key.account_id:
            return None
        return session.api_key

    def _authenticate(self, request: web.Request, body: JSON) -> FakeSubAccount:
        key = self._session_key(request)
        if key is None:
            raise ApiError(E_UNAUTHENTICATED)
        sub_id = body.get("sub_account_id")
        if sub_id is None and isinstance(body.get("order"), dict):
            sub_id = body["order"].get("sub_account_id")
        sub = key.sub_accounts.get(str(sub_id))
        if sub is None:
            raise ApiError(E_FORBIDDEN)
        return sub

    def _public_handlers(self) -> dict[str, Callable[[JSON], Any]]:
        return {
            "/full/v1/all_instruments": self.h_all_instruments,
            "/full/v1/instrument": self.h_instrument,
            "/full/v1/book": self.h_book,
            "/full/v1/ticker": self.h_ticker,
            "/full/v1/funding": self.h_funding,
        }

    def _private_handlers(
        self,
    ) -> dict[str, Callable[[FakeSubAccount, JSON], Any]]:
        return {
            "/full/v1/create_order": self.h_create_order,
            "/full/v1/cancel_order": self.h_cancel_order,
            "/full/v1/cancel_all_orders": self.h_cancel_all,
            "/full/v1/order": self.h_order,
            "/full/v1/open_orders": self.h_open_orders,
            "/full/v1/order_history": self.h_order_history,
            "/full/v1/fill_history": self.h_fill_history,
            "/full/v1/positions": self.h_positions,
            "/full/v1/account_summary": self.h_account_summary,
            "/full/v1/get_all_initial_leverage": self.h_get_leverage,
            "/full/v1/set_initial_leverage": self.h_set_leverage,
        }

    # --- market data --------------------------------------------------------------------

    def _instrument(self, name: object) -> FakeInstrument:
        market = self.instruments.get(str(name))
        if market is None:
            raise ApiError(E_INSTRUMENT)
        return market

    def _instrument_wire(self, market: FakeInstrument) -> JSON:
        return {
            "instrument": market.instrument,
            "instrument_hash": market.instrument_hash,
            "base": market.base,
            "quote": market.quote,
            "kind": "PERPETUAL",
            "venues": ["ORDERBOOK", "RFQ"],
            "settlement_period": "PERPETUAL",
            "base_decimals": market.base_decimals,
            "quote_decimals": 6,
            "tick_size": text(market.tick_size),
            "min_size": text(market.min_size),
            "create_time": "1700000000000000000",
            "max_position_size": "1000000",
            "funding_interval_hours": 8,
            "max_leverage": market.max_leverage,
        }

    def h_all_instruments(self, body: JSON) -> JSON:
        return {"result": [self._instrument_wire(m) for m in self.instruments.values()]}

    def h_instrument(self, body: JSON) -> JSON:
        return {"result": self._instrument_wire(self._instrument(body.get("instrument")))}

    def _levels(self, side: dict[Decimal, Decimal], *, bids: bool, depth: int) -> list[JSON]:
        prices = sorted(side, reverse=bids)[:depth]
        return [{"price": text(p), "size": text(side[p]), "num_orders": 1} for p in prices]

    def _book_wire(self, instrument: str, depth: int) -> JSON:
        bids, asks = self.books.get(instrument, ({}, {}))
        return {
            "event_time": str(now_ns()),
            "instrument": instrument,
            "bids": self._levels(bids, bids=True, depth=depth),
            "asks": self._levels(asks, bids=False, depth=depth),
        }

    def h_book(self, body: JSON) -> JSON:
        market = self._instrument(body.get("instrument"))
        depth = body.get("depth", 10)
        if not isinstance(depth, int) or depth not in (10, 50, 100, 500):
            raise ApiError(E_MALFORMED)
        return {"result": self._book_wire(market.instrument, depth)}

    def h_ticker(self, body: JSON) -> JSON:
        market = self._instrument(body.get("instrument"))
        mark = self.mark_price(market.instrument)
        bids, asks = self.books.get(market.instrument, ({}, {}))
        half = market.volume_24h_q / 2
        return {
            "result": {
                "event_time": str(now_ns()),
                "instrument": market.instrument,
                "mark_price": text(mark),
                "index_price": text(mark),
                "last_price": text(mark),
                "mid_price": text(mark),
                "best_bid_price": text(max(bids)) if bids else "0",
                "best_ask_price": text(min(asks)) if asks else "0",
                "funding_rate_8h_curr": text(market.funding_rate_pct),
                "funding_rate_8h_avg": text(market.funding_rate_pct),
                "buy_volume_24h_q": text(half),
                "sell_volume_24h_q": text(market.volume_24h_q - half),
                "open_interest": text(market.open_interest),
            }
        }

    def h_funding(self, body: JSON) -> JSON:
        """Settled rates newest first, within ``start_time`` / ``end_time`` (ns, inclusive)
        when given, ``limit`` per page (1000 at most) and an opaque ``next`` cursor ("" on the
        last page), as GRVT pages its funding history."""
        market = self._instrument(body.get("instrument"))
        start = int(str(body.get("start_time") or 0))
        end = int(str(body.get("end_time") or 2**63))
        rows = [
            r
            for r in self.funding_history.get(market.instrument, [])
            if start <= int(r["funding_time"]) <= end
        ]
        limit = min(int(body.get("limit") or 500), 1000)
        offset = int(str(body.get("cursor") or 0))
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return {"result": page, "next": str(offset + limit) if more else ""}

    # --- orders -------------------------------------------------------------------------

    def _parse_order(self, sub: FakeSubAccount, body: JSON) -> tuple[FakeOrder, OrderToSign]:
        order = body.get("order")
        try:
            if not isinstance(order, dict) or not isinstance(order.get("legs"), list):
                raise ApiError(E_MALFORMED)
            legs = order["legs"]
            if len(legs) != 1:
                raise ApiError(E_MALFORMED)
            leg = legs[0]
            market = self._instrument(leg["instrument"])
            signature = order["signature"]
            client_order_id = str(order["metadata"]["client_order_id"])
            if not client_order_id.isdigit() or int(client_order_id) >= 2**64:
                raise ApiError(E_MALFORMED)
            size = Decimal(str(leg["size"]))
            price = Decimal(str(leg.get("limit_price") or "0"))
            is_market = bool(order.get("is_market", False))
            tif = str(order["time_in_force"])
            nonce = int(signature["nonce"])
            expiration = int(str(signature["expiration"]))
            signed = OrderToSign(
                sub_account_id=int(sub.sub_account_id),
                is_market=is_market,
                time_in_force=TimeInForceCode[tif],
                post_only=bool(order.get("post_only", False)),
                reduce_only=bool(order.get("reduce_only", False)),
                legs=(
                    order_leg(
                        market.instrument_hash,
                        market.base_decimals,
                        size,
                        price,
                        is_buying=bool(leg["is_buying_asset"]),
                    ),
                ),
                nonce=nonce,
                expiration_ns=expiration,
            )
            if size <= 0 or not (is_market or price > 0):
                raise ApiError(E_MALFORMED)
        except ApiError:
            raise
        except (
            KeyError,
            TypeError,
            ValueError,
            InvalidOperation,
            SigningError,
        ):
            raise ApiError(E_MALFORMED) from None
        trigger = order["metadata"].get("trigger")
        trigger_price = ZERO
        if trigger is not None:
            try:
                kind = trigger["trigger_type"]
                tpsl = trigger["tpsl"]
                trigger_price = Decimal(str(tpsl["trigger_price"]))
                by = tpsl["trigger_by"]
            except (KeyError, TypeError, InvalidOperation):
                raise ApiError(E_MALFORMED) from None
            if kind not in TRIGGER_TYPES or by not in TRIGGER_BY or trigger_price <= 0:
                raise ApiError(E_MALFORMED)
        fake = FakeOrder(
            order_id=f"0x{next(self._ids):032x}",
            sub_account_id=sub.sub_account_id,
            instrument=market.instrument,
            is_buy=bool(leg["is_buying_asset"]),
            is_market=is_market,
            tif=tif,
            size=size,
            price=price,
            post_only=signed.post_only,
            reduce_only=signed.reduce_only,
            client_order_id=client_order_id,
            signature=dict(signature),
            trigger=dict(trigger) if trigger is not None else None,
            trigger_price=trigger_price,
        )
        return fake, signed

    def _verify_signature(self, sub: FakeSubAccount, order: FakeOrder, signed: OrderToSign) -> None:
        if signed.expiration_ns <= now_ns():
            raise ApiError(E_SIGNATURE_EXPIRED)
        sig = order.signature
        try:
            recovered = recover_signer(
                signed, self.environment, str(sig["r"]), str(sig["s"]), int(sig["v"])
            )
        except (KeyError, TypeError, ValueError):
            raise ApiError(E_SIGNATURE_MISMATCH) from None
        self.recovered_signers.append(recovered)
        if recovered.lower() != str(sig.get("signer", "")).lower():
            raise ApiError(E_SIGNATURE_MISMATCH)
        key = next(k for k in self.api_keys.values() if sub.sub_account_id in k.sub_accounts)
        if recovered.lower() != key.signer.lower():
            raise ApiError(E_UNAUTHORIZED_SIGNER)

    environment = "testnet"
    """The chain the fake checks signatures for (GRVT testnet, chain id 326)."""

    async def h_create_order(self, sub: FakeSubAccount, body: JSON) -> JSON:
        order, signed = self._parse_order(sub, body)
        self._verify_signature(sub, order, signed)
        market = self.instruments[order.instrument]
        if signed.expiration_ns > now_ns() + MAX_EXPIRATION_NS:
            return {"result": self._reject(sub, order, "EXCEED_MAX_SIGNATURE_EXPIRATION")}
        if order.size % market.min_size or (not order.is_market and order.price % market.tick_size):
            raise ApiError(E_MALFORMED)
        if order.is_market and order.price:
            return {"result": self._reject(sub, order, "MARKET_ORDER_WITH_LIMIT_PRICE")}
        if order.tif == "ALL_OR_NONE":
            return {"result": self._reject(sub, order, "UNSUPPORTED_TIME_IN_FORCE")}
        if any(
            o.client_order_id == order.client_order_id and o.is_open for o in sub.orders.values()
        ):
            return {"result": self._reject(sub, order, "OVERLAPPING_CLIENT_ORDER_ID")}
        position = sub.position(order.instrument)
        signed_size = order.size if order.is_buy else -order.size
        if order.reduce_only and (
            position.amount == 0
            or (position.amount > 0) == order.is_buy
            or abs(signed_size) > abs(position.amount)
        ):
            return {"result": self._reject(sub, order, "FAIL_REDUCE_ONLY")}
        if order.trigger is not None:
            if not order.reduce_only:
                return {"result": self._reject(sub, order, "DERISK_MUST_BE_REDUCE_ONLY")}
            order.fires_above = order.trigger_price > self.mark_price(order.instrument)
            order.status = "OPEN"
            sub.orders[order.order_id] = order
            await self._order_event(sub, order)
            return {"result": order.wire()}
        bids, asks = self.books.get(order.instrument, ({}, {}))
        opposite = asks if order.is_buy else bids
        crosses = bool(opposite) and (
            order.is_market
            or (order.price >= min(opposite) if order.is_buy else order.price <= max(opposite))
        )
        if order.post_only and crosses:
            return {"result": self._reject(sub, order, "FAIL_POST_ONLY")}
        sub.orders[order.order_id] = order
        limit = None if order.is_market else order.price
        if order.tif == "FILL_OR_KILL":
            available = sum(
                q
                for p, q in opposite.items()
                if limit is None or (p <= limit if order.is_buy else p >= limit)
            )
            if available < order.size:
                order.status, order.reject_reason = "CANCELLED", "FOK_CANCEL"
                await self._order_event(sub, order)
                return {"result": order.wire()}
        await self._take(sub, order, limit)
        if order.traded < order.size:
            if order.is_market or order.tif in ("IMMEDIATE_OR_CANCEL", "FILL_OR_KILL"):
                order.status = "CANCELLED"
                order.reject_reason = "IOC_CANCEL" if not order.is_market else "MARKET_CANCEL"
            else:
                order.status = "OPEN"
        order.update_time = now_ns()
        await self._order_event(sub, order)
        if order.traded:
            await self._push_book(order.instrument)
        return {"result": order.wire()}

    def _reject(self, sub: FakeSubAccount, order: FakeOrder, reason: str) -> JSON:
        order.status, order.reject_reason = "REJECTED", reason
        sub.orders[order.order_id] = order
        return order.wire()

    async def _take(self, sub: FakeSubAccount, order: FakeOrder, limit: Decimal | None) -> None:
        bids, asks = self.books.setdefault(order.instrument, ({}, {}))
        side = asks if order.is_buy else bids
        for price, qty in take_liquidity(
            side, order.size - order.traded, buying=order.is_buy, limit=limit
        ):
            await self._fill(sub, order, price, qty, taker=True)

    async def _fill(
        self, sub: FakeSubAccount, order: FakeOrder, price: Decimal, qty: Decimal, *, taker: bool
    ) -> None:
        rate = sub.taker_fee if taker else sub.maker_fee
        fee = price * qty * rate
        realized = sub.position(order.instrument).fill(qty if order.is_buy else -qty, price)
        sub.balance += realized - fee
        order.traded += qty
        order.traded_quote += price * qty
        if order.traded == order.size:
            order.status = "FILLED"
        order.update_time = now_ns()
        fill = FakeFill(
            trade_id=f"{next(self._trade_ids)}-1",
            order=order,
            price=price,
            size=qty,
            fee=fee,
            fee_rate=rate,
            is_taker=taker,
            realized=realized,
            mark=self.mark_price(order.instrument),
        )
        sub.fills.append(fill)
        await self._emit(sub, "v1.fill", fill.wire())
        await self._emit(sub, "v1.position", self._position_wire(sub, order.instrument))

    async def _match_resting(self, instrument: str) -> None:
        bids, asks = self.books.get(instrument, ({}, {}))
        for key in self.api_keys.values():
            for sub in key.sub_accounts.values():
                for order in list(sub.orders.values()):
                    if (
                        order.instrument != instrument
                        or order.status != "OPEN"
                        or order.trigger is not None
                    ):
                        continue
                    side = asks if order.is_buy else bids
                    taken = take_liquidity(
                        side, order.size - order.traded, buying=order.is_buy, limit=order.price
                    )
                    for _, qty in taken:
                        await self._fill(sub, order, order.price, qty, taker=False)
                    if taken:
                        await self._order_event(sub, order)

    def _find(self, sub: FakeSubAccount, body: JSON) -> FakeOrder:
        order_id, client_id = body.get("order_id"), body.get("client_order_id")
        if order_id:
            order = sub.orders.get(str(order_id))
            if order is not None:
                return order
        elif client_id:
            matches = [o for o in sub.orders.values() if o.client_order_id == str(client_id)]
            if matches:
                return sorted(matches, key=lambda o: (o.is_open, o.create_time))[-1]
        else:
            raise ApiError(E_MALFORMED)
        raise ApiError(E_NOT_FOUND)

    def h_order(self, sub: FakeSubAccount, body: JSON) -> JSON:
        return {"result": self._find(sub, body).wire()}

    async def h_cancel_order(self, sub: FakeSubAccount, body: JSON) -> JSON:
        order = self._find(sub, body)
        if not order.is_open:
            raise ApiError(E_NOT_FOUND)
        await self._cancel(sub, order, "CLIENT_CANCEL")
        return {"result": {"ack": True}}

    async def _cancel(self, sub: FakeSubAccount, order: FakeOrder, reason: str) -> None:
        order.status, order.reject_reason = "CANCELLED", reason
        order.update_time = now_ns()
        await self._order_event(sub, order)

    async def h_cancel_all(self, sub: FakeSubAccount, body: JSON) -> JSON:
        bases = body.get("base")
        for order in list(sub.orders.values()):
            base = self.instruments[order.instrument].base
            if order.is_open and (not bases or base in bases):
                await self._cancel(sub, order, "CLIENT_BULK_CANCEL")
        return {"result": {"ack": True}}

    def _filtered(self, orders: Iterable[FakeOrder], body: JSON) -> list[FakeOrder]:
        bases = body.get("base")
        return [o for o in orders if not bases or self.instruments[o.instrument].base in bases]

    def h_open_orders(self, sub: FakeSubAccount, body: JSON) -> JSON:
        orders = self._filtered((o for o in sub.orders.values() if o.is_open), body)
        return {"result": [o.wire() for o in orders]}

    def h_order_history(self, sub: FakeSubAccount, body: JSON) -> JSON:
        orders = self._filtered((o for o in sub.orders.values() if not o.is_open), body)
        orders.sort(key=lambda o: o.update_time, reverse=True)
        return {"result": [o.wire() for o in orders[: int(body.get("limit") or 500)]], "next": ""}

    def h_fill_history(self, sub: FakeSubAccount, body: JSON) -> JSON:
        start = int(str(body.get("start_time") or 0))
        bases = body.get("base")
        fills = [
            f
            for f in reversed(sub.fills)
            if f.event_time >= start
            and (not bases or self.instruments[f.order.instrument].base in bases)
        ]
        return {"result": [f.wire() for f in fills[: int(body.get("limit") or 500)]], "next": ""}

    # --- account ------------------------------------------------------------------------

    def _position_wire(self, sub: FakeSubAccount, instrument: str) -> JSON:
        position = sub.position(instrument)
        mark = self.mark_price(instrument)
        unrealized = (mark - position.entry) * position.amount
        return {
            "event_time": str(now_ns()),
            "sub_account_id": sub.sub_account_id,
            "instrument": instrument,
            "size": text(position.amount),
            "notional": text(abs(position.amount) * mark),
            "entry_price": text(position.entry),
            "exit_price": "0",
            "mark_price": text(mark),
            "unrealized_pnl": text(unrealized),
            "realized_pnl": "0",
            "total_pnl": text(unrealized),
            "roi": "0",
            "quote_index_price": "1",
            "est_liquidation_price": "0",
            "leverage": text(sub.leverage.get(instrument, Decimal(10))),
        }

    def h_positions(self, sub: FakeSubAccount, body: JSON) -> JSON:
        rows = [
            self._position_wire(sub, name)
            for name, position in sub.positions.items()
            if position.amount
            and (not body.get("base") or self.instruments[name].base in body["base"])
        ]
        return {"result": rows}

    def margin(self, sub: FakeSubAccount) -> tuple[Decimal, Decimal]:
        """(unrealized PnL, initial margin) of the sub-account at the marks."""
        unrealized = initial = ZERO
        for name, position in sub.positions.items():
            mark = self.mark_price(name)
            unrealized += (mark - position.entry) * position.amount
            initial += abs(position.amount) * mark / sub.leverage.get(name, Decimal(10))
        return unrealized, initial

    def h_account_summary(self, sub: FakeSubAccount, body: JSON) -> JSON:
        unrealized, initial = self.margin(sub)
        equity = sub.balance + unrealized
        return {
            "result": {
                "event_time": str(now_ns()),
                "sub_account_id": sub.sub_account_id,
                "margin_type": "SIMPLE_CROSS_MARGIN",
                "settle_currency": "USDT",
                "unrealized_pnl": text(unrealized),
                "total_equity": text(equity),
                "initial_margin": text(initial),
                "maintenance_margin": text(initial / 2),
                "available_balance": text(max(ZERO, equity - initial - min(unrealized, ZERO))),
                "spot_balances": [
                    {"currency": "USDT", "balance": text(sub.balance), "index_price": "1"}
                ],
                "positions": [
                    self._position_wire(sub, n) for n, p in sub.positions.items() if p.amount
                ],
                "settle_index_price": "1",
            }
        }

    def h_get_leverage(self, sub: FakeSubAccount, body: JSON) -> JSON:
        return {
            "results": [
                {
                    "instrument": m.instrument,
                    "leverage": text(sub.leverage.get(m.instrument, Decimal(10))),
                    "min_leverage": "1",
                    "max_leverage": str(m.max_leverage),
                }
                for m in self.instruments.values()
            ]
        }

    def h_set_leverage(self, sub: FakeSubAccount, body: JSON) -> JSON:
        market = self._instrument(body.get("instrument"))
        try:
            leverage = Decimal(str(body["leverage"]))
        except (KeyError, InvalidOperation):
            raise ApiError(E_MALFORMED) from None
        if not 1 <= leverage <= market.max_leverage:
            raise ApiError(E_LEVERAGE)
        sub.leverage[market.instrument] = leverage
        return {"success": True}

    # --- WebSocket ----------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.refuse_ws_until:
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Connection(ws, self._session_key(request))
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
            request_id = request.get("id")
            method = request["method"]
            stream = str(request["params"]["stream"])
            selectors = [str(s) for s in request["params"]["selectors"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            await self._send(conn, {"jsonrpc": "2.0", "error": _rpc(E_MALFORMED), "id": None})
            return
        if method not in ("subscribe", "unsubscribe"):
            await self._send(conn, {"jsonrpc": "2.0", "error": _rpc(E_MALFORMED), "id": request_id})
            return
        if method == "unsubscribe":
            conn.subscriptions.difference_update((stream, s) for s in selectors)
            await self._send(
                conn,
                {
                    "jsonrpc": "2.0",
                    "result": {"stream": stream, "unsubs": selectors},
                    "id": request_id,
                },
            )
            return
        if stream in ("v1.order", "v1.fill", "v1.position"):
            if conn.api_key is None:
                await self._send(
                    conn, {"jsonrpc": "2.0", "error": _rpc(E_UNAUTHENTICATED), "id": request_id}
                )
                return
            if any(s.split("-")[0] not in conn.api_key.sub_accounts for s in selectors):
                await self._send(
                    conn, {"jsonrpc": "2.0", "error": _rpc(E_FORBIDDEN), "id": request_id}
                )
                return
        elif stream == "v1.book.s":
            if any(s.split("@")[0] not in self.instruments for s in selectors):
                await self._send(
                    conn, {"jsonrpc": "2.0", "error": _rpc(E_INSTRUMENT), "id": request_id}
                )
                return
        else:
            await self._send(conn, {"jsonrpc": "2.0", "error": _rpc(E_MALFORMED), "id": request_id})
            return
        conn.subscriptions.update((stream, s) for s in selectors)
        await self._send(
            conn,
            {
                "jsonrpc": "2.0",
                "result": {"stream": stream, "subs": selectors, "unsubs": []},
                "id": request_id,
            },
        )
        if stream == "v1.book.s":
            for selector in selectors:
                await self._feed(conn, stream, selector, self._book_feed(selector))

    def _book_feed(self, selector: str) -> JSON:
        instrument, _, rest = selector.partition("@")
        depth = int(rest.split("-")[1]) if "-" in rest else 10
        return self._book_wire(instrument, depth)

    async def _push_book(self, instrument: str) -> None:
        for conn in list(self._connections):
            for stream, selector in list(conn.subscriptions):
                if stream == "v1.book.s" and selector.split("@")[0] == instrument:
                    await self._feed(conn, stream, selector, self._book_feed(selector))

    async def _order_event(self, sub: FakeSubAccount, order: FakeOrder) -> None:
        await self._emit(sub, "v1.order", order.wire())

    async def _emit(self, sub: FakeSubAccount, stream: str, feed: JSON) -> None:
        times = 2 if self.duplicate_events else 1
        instrument = str(feed.get("instrument") or feed["legs"][0]["instrument"])
        for conn in list(self._connections):
            for selector in (sub.sub_account_id, f"{sub.sub_account_id}-{instrument}"):
                if (stream, selector) in conn.subscriptions:
                    if self._gaps:
                        self._gaps -= 1
                        conn.sequence[(stream, selector)] = (
                            conn.sequence.get((stream, selector), 0) + 1
                        )
                    for _ in range(times):
                        await self._feed(conn, stream, selector, feed, repeat=_ > 0)

    async def _feed(
        self, conn: _Connection, stream: str, selector: str, feed: JSON, *, repeat: bool = False
    ) -> None:
        key = (stream, selector)
        previous = conn.sequence.get(key, 0)
        number = previous if repeat else previous + 1
        conn.sequence[key] = number
        await self._send(
            conn,
            {
                "stream": stream,
                "selector": selector,
                "sequence_number": str(number),
                "prev_sequence_number": str(number - 1),
                "feed": feed,
            },
        )

    async def _send(self, conn: _Connection, payload: JSON) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not conn.ws.closed:
                await conn.ws.send_str(dumps(payload))


def _failure_response(failure: tuple[int, str | None, float | None, bool]) -> web.Response:
    status, _, retry_after, _ = failure
    response = _error_response(E_RATE_LIMIT if status == 429 else (status, *E_INTERNAL[1:]))
    if retry_after is not None:
        response.headers["Retry-After"] = f"{retry_after:g}"
    return response


def _rpc(error: tuple[int, int, str]) -> JSON:
    return {"code": error[1], "message": error[2]}


def _error_response(error: tuple[int, int, str]) -> web.Response:
    status, code, message = error
    return web.Response(
        text=dumps({"code": code, "message": message, "status": status}),
        status=status,
        content_type="application/json",
    )
