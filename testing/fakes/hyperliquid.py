"""A fake Hyperliquid (perpetuals) speaking the documented wire protocol, for client tests.

Endpoints (Hyperliquid API docs, for-developers/api):

* ``POST /info`` (info-endpoint, info-endpoint/perpetuals): meta, metaAndAssetCtxs (with each
  market's ``dayNtlVlm`` and ``openInterest``), l2Book, openOrders, frontendOpenOrders (trigger
  orders with ``isTrigger``/``triggerPx``/``orderType``), orderStatus, clearinghouseState,
  userFills, userFillsByTime, userFees (the account's tier), fundingHistory,
  predictedFundings, userRole, activeAssetData, allMids.
* ``POST /exchange`` (exchange-endpoint; signing): order, cancel, cancelByCloid,
  updateLeverage. The signer is *recovered* from the EIP-712 signature; an unknown signer gets
  ``{"status": "err", "response": "User or API Wallet 0x... does not exist."}`` exactly as the
  venue answers, so a tampered action or a wrong key can never pass. Nonces must be unique per
  signer and within (now - 2 days, now + 1 day) (nonces-and-api-wallets).
* ``GET /ws`` (websocket, websocket/subscriptions, websocket/timeouts-and-heartbeats):
  l2Book (full snapshots), trades, orderUpdates (the basic order object: no tif, no trigger
  fields), userFills (first message ``isSnapshot: true`` with the user's recent fills),
  ``{"method": "ping"}`` -> ``{"channel": "pong"}``.

Per-order errors use the strings of the error-responses page. Fees: each account pays its own
tier (:meth:`set_fee_tier`; default the base tier, taker 0.045 %, maker 0.015 %, trading/fees),
reported by ``userFees``. Margin used = position value / leverage (cross).

Trigger orders (trading/take-profit-and-stop-loss-orders-tp-sl): ``{"trigger": {"isMarket",
"triggerPx", "tpsl"}}`` rests (``{"resting": {"oid"}}``) until the *mark* price crosses the
trigger (:meth:`set_mark`; a stop-loss sell fires at or below it, a buy at or above), then is
``triggered`` and executes at once against the book as a market order bounded by its limit
price, reduce-only orders capped at the position (``reduceOnlyCanceled`` when it is gone), with
fills and order updates like any order. A stop-loss whose limit is on the wrong side of its
trigger is refused with "Invalid TP/SL price." (what the venue answers); a reduce-only trigger
on a flat position is refused like any reduce-only order (an assumption: the venue's docs do
not say).

Hyperliquid documents no rejection for a re-used cloid, so the fake accepts one (the client
must never send it twice; its own guard is what the contract suite exercises).

Fault knobs: :meth:`drop_connections` (optionally refusing reconnects for a while),
:meth:`drop_next_user_events` (a lost WebSocket message = a missed fill, recovered by polling),
:meth:`throttle_next` (429 + Retry-After), :meth:`fail_next` (5xx, optionally after processing),
``delay`` (seconds before every HTTP answer), ``duplicate_user_events`` and
:meth:`replay_fills` (duplicate and out-of-order user events).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

from exchange_clients.hyperliquid.rounding import is_valid_price, round_price
from exchange_clients.hyperliquid.signing import recover_l1_signer
from exchange_clients.hyperliquid.wire import (
    ERR_IOC_CANCEL,
    ERR_MARGIN,
    ERR_MIN_VALUE,
    ERR_MISSING_ORDER,
    ERR_POST_ONLY,
    ERR_REDUCE_ONLY,
    ERR_TICK,
    ERR_TPSL_PRICE,
    tick_at,
)
from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer

D = Decimal
ZERO = D(0)
TAKER_FEE = D("0.00045")
MAKER_FEE = D("0.00015")
NONCE_PAST_MS = 2 * 24 * 3600 * 1000
NONCE_FUTURE_MS = 24 * 3600 * 1000
Level = tuple[Decimal, Decimal]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fmt(value: Decimal) -> str:
    """A wire decimal string: exact, no exponent, no trailing zeros (``0`` as ``"0.0"``)."""
    if value == 0:
        return "0.0"
    return f"{value.normalize():f}"


@dataclass
class FakeMarket:
    coin: str
    sz_decimals: int
    max_leverage: int
    mark: Decimal
    funding: Decimal = Decimal("0.0000125")
    predicted: Decimal = Decimal("0.00001")
    is_delisted: bool = False
    day_ntl_vlm: Decimal = Decimal("1000000")  # 24 h notional volume, USD
    open_interest: Decimal = Decimal("1000")  # in the venue's units (coins, kPEPE contracts)


@dataclass
class FakeOrder:
    oid: int
    user: str
    coin: str
    is_buy: bool
    px: Decimal
    orig: Decimal
    remaining: Decimal
    tif: str
    reduce_only: bool
    cloid: str | None
    timestamp: int
    status: str = "open"
    status_ts: int = 0
    trigger_px: Decimal | None = None  # a trigger order's trigger (mark price)
    tpsl: str = "sl"
    is_market: bool = True

    @property
    def fires_below(self) -> bool:
        """A stop-loss sell (and a take-profit buy) fires when the mark falls to the trigger."""
        return (not self.is_buy) == (self.tpsl == "sl")

    def order_type(self) -> str:
        if self.trigger_px is None:
            return "Limit"
        kind = "Stop" if self.tpsl == "sl" else "Take Profit"
        return f"{kind} {'Market' if self.is_market else 'Limit'}"

    def wire(self) -> dict[str, Any]:
        """The frontendOpenOrders / orderStatus order object."""
        trigger = self.trigger_px
        wire: dict[str, Any] = {
            "coin": self.coin,
            "side": "B" if self.is_buy else "A",
            "limitPx": fmt(self.px),
            "sz": fmt(self.remaining),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": fmt(self.orig),
            "reduceOnly": self.reduce_only,
            "orderType": self.order_type(),
            "tif": self.tif if trigger is None else None,
            "triggerCondition": (
                "N/A"
                if trigger is None
                else f"Price {'below' if self.fires_below else 'above'} {fmt(trigger)}"
            ),
            "isTrigger": trigger is not None,
            "triggerPx": fmt(trigger if trigger is not None else ZERO),
            "children": [],
            "isPositionTpsl": False,
        }
        if self.cloid is not None:
            wire["cloid"] = self.cloid
        return wire

    def basic_wire(self) -> dict[str, Any]:
        """The orderUpdates (WebSocket) order object: the basic fields only."""
        wire: dict[str, Any] = {
            "coin": self.coin,
            "side": "B" if self.is_buy else "A",
            "limitPx": fmt(self.px),
            "sz": fmt(self.remaining),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": fmt(self.orig),
            "reduceOnly": self.reduce_only,
        }
        if self.cloid is not None:
            wire["cloid"] = self.cloid
        return wire


@dataclass
class FakePosition:
    szi: Decimal = ZERO
    entry: Decimal = ZERO
    funding_since_open: Decimal = ZERO  # paid positive, as the venue reports it
    funding_all_time: Decimal = ZERO


@dataclass
class FakeUser:
    cash: Decimal
    maker_rate: Decimal = MAKER_FEE  # userAddRate: this account's tier (negative = rebate)
    taker_rate: Decimal = TAKER_FEE  # userCrossRate
    positions: dict[str, FakePosition] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    orders: dict[int, FakeOrder] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    subscriptions: list[dict[str, Any]] = field(default_factory=list)


def default_markets() -> list[FakeMarket]:
    return [
        FakeMarket("BTC", 5, 40, D("60000"), D("0.0000125"), D("0.00001")),
        FakeMarket("ETH", 4, 25, D("3000"), D("-0.00002"), D("-0.000015")),
        FakeMarket("OLD", 2, 3, D("1.5"), is_delisted=True),
        FakeMarket("kPEPE", 0, 10, D("0.012"), D("0.00003"), D("0.00002")),
    ]


def default_books() -> dict[str, tuple[list[Level], list[Level]]]:
    def ladder(mid: Decimal, step: Decimal, size: Decimal) -> tuple[list[Level], list[Level]]:
        bids = [(mid - step * (i + 1), size * (i + 1)) for i in range(10)]
        asks = [(mid + step * (i + 1), size * (i + 1)) for i in range(10)]
        return bids, asks

    return {
        "BTC": ladder(D("60000"), D("10"), D("0.5")),
        "ETH": ladder(D("3000"), D("0.5"), D("5")),
        "kPEPE": ladder(D("0.012"), D("0.000001"), D("100000")),
    }


class FakeHyperliquid:
    """``async with FakeHyperliquid(accounts={address: balance}) as fake:``."""

    def __init__(
        self,
        accounts: dict[str, Decimal] | None = None,
        agents: dict[str, str] | None = None,
        *,
        vaults: dict[str, str] | None = None,
        markets: list[FakeMarket] | None = None,
        books: dict[str, tuple[list[Level], list[Level]]] | None = None,
        mainnet: bool = True,
    ) -> None:
        self.mainnet = mainnet
        self.users: dict[str, FakeUser] = {
            address.lower(): FakeUser(cash=D(balance))
            for address, balance in (accounts or {}).items()
        }
        self.agents = {agent.lower(): owner.lower() for agent, owner in (agents or {}).items()}
        self.vaults = {vault.lower(): leader.lower() for vault, leader in (vaults or {}).items()}
        for vault in self.vaults:
            self.users.setdefault(vault, FakeUser(cash=ZERO))
        self.markets = markets or default_markets()
        self.books: dict[str, tuple[list[Level], list[Level]]] = {
            coin: (list(bids), list(asks))
            for coin, (bids, asks) in (books or default_books()).items()
        }
        self._oids = itertools.count(1000)
        self._tids = itertools.count(900_000)
        self._nonces: dict[str, set[int]] = {}
        self._connections: list[_Connection] = []
        self._server = LocalServer()
        self.port = 0
        # Observability for tests.
        self.requests: list[tuple[str, str]] = []  # (path, info type / action type)
        self.ws_connections = 0
        self.subscribe_messages: list[dict[str, Any]] = []
        self.exchange_errors: list[str] = []
        self.pings = 0
        # Fault knobs.
        self.delay = 0.0
        self.duplicate_user_events = False
        self.snapshot_fills = 2000  # fills in the userFills snapshot message (0: none)
        self._throttle: list[float] = []
        self._fail: list[tuple[int, bool]] = []
        self._drop_user_events = 0
        self._refuse_until = 0.0
        self._background: set[asyncio.Task[None]] = set()
        # candleSnapshot history: (coin, interval) -> candles as the venue sends them.
        self.candles: dict[tuple[str, str], list[dict[str, Any]]] = {}

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeHyperliquid:
        app = web.Application()
        app.router.add_post("/info", self._info)
        app.router.add_post("/exchange", self._exchange)
        app.router.add_get("/ws", self._ws)
        self.port = await self._server.serve(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in list(self._background):
            task.cancel()
        await self._server.close(connection.ws for connection in self._connections)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    # --- knobs -----------------------------------------------------------------------------

    def throttle_next(self, count: int, retry_after: float = 0.1) -> None:
        """Answer the next ``count`` HTTP requests with 429 and Retry-After (not processed)."""
        self._throttle.extend([retry_after] * count)

    def fail_next(self, count: int, status: int = 502, *, after_processing: bool = False) -> None:
        """Answer the next ``count`` HTTP requests with ``status`` (optionally after doing them)."""
        self._fail.extend([(status, after_processing)] * count)

    def drop_next_user_events(self, count: int) -> None:
        """Lose the next ``count`` userFills/orderUpdates WebSocket messages (a missed fill)."""
        self._drop_user_events += count

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        """Close every WebSocket; refuse new ones for ``refuse_for`` seconds."""
        self._refuse_until = time.monotonic() + refuse_for
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await connection.ws.close()

    def set_fee_tier(self, address: str, *, maker: Decimal, taker: Decimal) -> None:
        """Put ``address`` on another fee tier (what userFees reports and its fills pay)."""
        user = self.user(address)
        user.maker_rate, user.taker_rate = D(maker), D(taker)

    async def set_mark(self, coin: str, mark: Decimal) -> None:
        """Move the mark price: trigger orders it crosses fire (in the order they were placed)."""
        self.market(coin).mark = D(mark)
        for user in list(self.users.values()):
            for order in sorted(user.orders.values(), key=lambda o: o.oid):
                if order.coin == coin and self._crossed(order):
                    await self._fire(order)

    async def move_to(self, coin: str, price: Decimal) -> None:
        """The market moves to ``price``: the book is rebuilt around it (same spacing and sizes)
        and then the mark follows, so a stop it fires sells into the new book."""
        bids, asks = self.books.get(coin, ([], []))
        market = self.market(coin)
        mid = round_price(D(price), market.sz_decimals, "buy")
        step = (bids[0][0] - bids[1][0]) if len(bids) > 1 else tick_at(mid, market.sz_decimals)
        sizes = [size for _, size in bids] or [D(1)]
        new_bids = [(mid - step * (i + 1), size) for i, size in enumerate(sizes)]
        new_asks = [
            (mid + step * (i + 1), size) for i, size in enumerate([s for _, s in asks] or sizes)
        ]
        await self.set_book(coin, [level for level in new_bids if level[0] > 0], new_asks)
        await self.set_mark(coin, mid)

    def _crossed(self, order: FakeOrder) -> bool:
        if order.status != "open" or order.trigger_px is None:
            return False
        mark = self.market(order.coin).mark
        return mark <= order.trigger_px if order.fires_below else mark >= order.trigger_px

    def revoke_agent(self, agent: str) -> None:
        self.agents.pop(agent.lower(), None)

    def market(self, coin: str) -> FakeMarket:
        return next(m for m in self.markets if m.coin == coin)

    def user(self, address: str) -> FakeUser:
        return self.users[address.lower()]

    async def set_book(self, coin: str, bids: list[Level], asks: list[Level]) -> None:
        """Move the book: push an l2Book snapshot; resting orders it now crosses fill as maker."""
        self.books[coin] = (list(bids), list(asks))
        for user_address, user in self.users.items():
            for order in list(user.orders.values()):
                if order.status != "open" or order.coin != coin or order.trigger_px is not None:
                    continue
                best_ask = asks[0][0] if asks else None
                best_bid = bids[0][0] if bids else None
                crosses = (order.is_buy and best_ask is not None and best_ask <= order.px) or (
                    not order.is_buy and best_bid is not None and best_bid >= order.px
                )
                if crosses:
                    await self._execute(user_address, order, order.px, order.remaining, maker=True)
                    order.status = "filled"
                    order.status_ts = now_ms()
                    await self._push_order_update(order)
        await self._push_book(coin)

    async def charge_funding(self, coin: str) -> None:
        """One hourly settlement at the market's rate: longs pay when positive."""
        market = self.market(coin)
        for user in self.users.values():
            position = user.positions.get(coin)
            if position is None or position.szi == 0:
                continue
            paid = position.szi * market.mark * market.funding
            user.cash -= paid
            position.funding_since_open += paid
            position.funding_all_time += paid

    async def replay_fills(self, address: str, *, reverse: bool = True) -> None:
        """Send every fill of ``address`` again, one message each (duplicates, out of order)."""
        user = self.user(address)
        fills = list(reversed(user.fills)) if reverse else list(user.fills)
        for fill in fills:
            await self._push_user("userFills", address, {"user": address.lower(), "fills": [fill]})

    # --- HTTP plumbing ---------------------------------------------------------------------

    async def _faults(self) -> web.Response | None:
        if self._throttle:
            retry_after = self._throttle.pop(0)
            return web.json_response(None, status=429, headers={"Retry-After": f"{retry_after:g}"})
        return None

    async def _answer(self, value: Any) -> web.Response:
        """The answer, after ``delay`` (the work is done: a slow venue, not a lost request)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        return self._fail_after(True) or self._json(value)

    def _fail_after(self, processed: bool) -> web.Response | None:
        if self._fail and self._fail[0][1] == processed:
            status, _ = self._fail.pop(0)
            return web.Response(status=status, text="upstream failure")
        return None

    @staticmethod
    def _json(value: Any) -> web.Response:
        return web.Response(text=dumps(value), content_type="application/json")

    # --- /info -----------------------------------------------------------------------------

    async def _info(self, request: web.Request) -> web.Response:
        throttled = await self._faults()
        if throttled is not None:
            return throttled
        failed = self._fail_after(False)
        if failed is not None:
            return failed
        body = loads(await request.text())
        kind = str(body.get("type"))
        self.requests.append(("/info", kind))
        handler = getattr(self, f"_info_{kind}", None)
        if handler is None:
            return web.Response(
                status=422, text="Failed to deserialize the JSON body into the target type"
            )
        return await self._answer(handler(body))

    def _meta(self) -> dict[str, Any]:
        universe = []
        for market in self.markets:
            entry: dict[str, Any] = {
                "szDecimals": market.sz_decimals,
                "name": market.coin,
                "maxLeverage": market.max_leverage,
                "marginTableId": market.max_leverage,
            }
            if market.is_delisted:
                entry["isDelisted"] = True
            universe.append(entry)
        return {"universe": universe, "marginTables": []}

    def _info_meta(self, body: dict[str, Any]) -> Any:
        return self._meta()

    def _info_metaAndAssetCtxs(self, body: dict[str, Any]) -> Any:
        ctxs = []
        for market in self.markets:
            bids, asks = self.books.get(market.coin, ([], []))
            mid = (bids[0][0] + asks[0][0]) / 2 if bids and asks else market.mark
            ctxs.append(
                {
                    "funding": fmt(market.funding),
                    "openInterest": fmt(market.open_interest),
                    "prevDayPx": fmt(market.mark),
                    "dayNtlVlm": fmt(market.day_ntl_vlm),
                    "premium": "0.0",
                    "oraclePx": fmt(market.mark),
                    "markPx": fmt(market.mark),
                    "midPx": fmt(mid),
                    "impactPxs": [fmt(mid), fmt(mid)],
                    "dayBaseVlm": fmt(market.day_ntl_vlm / market.mark),
                }
            )
        return [self._meta(), ctxs]

    def add_candle(
        self,
        coin: str,
        interval: str,
        open_ms: int,
        ohlcv: tuple[Decimal, Decimal, Decimal, Decimal, Decimal],
        trades: int = 1,
    ) -> None:
        """Add one candle to the ``candleSnapshot`` history (``interval``: 1m, 5m, 1h ...)."""
        minutes = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}[interval]
        o, h, low, c, v = ohlcv
        self.candles.setdefault((coin, interval), []).append(
            {
                "t": open_ms,
                "T": open_ms + minutes * 60_000 - 1,
                "s": coin,
                "i": interval,
                "o": fmt(o),
                "c": fmt(c),
                "h": fmt(h),
                "l": fmt(low),
                "v": fmt(v),
                "n": trades,
            }
        )

    def _info_candleSnapshot(self, body: dict[str, Any]) -> Any:
        req = body["req"]
        start, end = int(req["startTime"]), int(req["endTime"])
        found = [
            candle
            for candle in self.candles.get((str(req["coin"]), str(req["interval"])), [])
            if start <= candle["t"] <= end
        ]
        return sorted(found, key=lambda candle: int(candle["t"]))[-5000:]

    async def publish_trade(self, coin: str, is_buy: bool, px: Decimal, sz: Decimal) -> None:
        """A public trade on the ``trades`` channel (nobody's order: market activity)."""
        await self._push_trade(coin, is_buy, D(px), D(sz))

    def _info_allMids(self, body: dict[str, Any]) -> Any:
        return {
            coin: fmt((bids[0][0] + asks[0][0]) / 2)
            for coin, (bids, asks) in self.books.items()
            if bids and asks
        }

    def _book_message(self, coin: str) -> dict[str, Any]:
        bids, asks = self.books.get(coin, ([], []))

        def levels(side: list[Level]) -> list[dict[str, Any]]:
            return [{"px": fmt(px), "sz": fmt(sz), "n": 1} for px, sz in side[:20]]

        return {"coin": coin, "time": now_ms(), "levels": [levels(bids), levels(asks)]}

    def _info_l2Book(self, body: dict[str, Any]) -> Any:
        return self._book_message(str(body["coin"]))

    def _user_or_empty(self, address: str) -> FakeUser:
        return self.users.get(address.lower()) or FakeUser(cash=ZERO)

    def _info_openOrders(self, body: dict[str, Any]) -> Any:
        user = self._user_or_empty(str(body["user"]))
        return [
            {k: o.wire()[k] for k in ("coin", "limitPx", "oid", "side", "sz", "timestamp")}
            for o in user.orders.values()
            if o.status == "open"
        ]

    def _info_frontendOpenOrders(self, body: dict[str, Any]) -> Any:
        user = self._user_or_empty(str(body["user"]))
        return [o.wire() for o in user.orders.values() if o.status == "open"]

    def _info_orderStatus(self, body: dict[str, Any]) -> Any:
        user = self._user_or_empty(str(body["user"]))
        query = body["oid"]
        if isinstance(query, str):
            matches = [o for o in user.orders.values() if o.cloid == query.lower()]
            order = matches[-1] if matches else None
        else:
            order = user.orders.get(int(query))
        if order is None:
            return {"status": "unknownOid"}
        return {
            "status": "order",
            "order": {
                "order": order.wire(),
                "status": order.status,
                "statusTimestamp": order.status_ts,
            },
        }

    def _info_clearinghouseState(self, body: dict[str, Any]) -> Any:
        user = self._user_or_empty(str(body["user"]))
        positions = []
        total_ntl = total_margin = unrealized = ZERO
        for coin, position in user.positions.items():
            if position.szi == 0:
                continue
            market = self.market(coin)
            leverage = user.leverage.get(coin, min(20, market.max_leverage))
            value = abs(position.szi) * market.mark
            pnl = (market.mark - position.entry) * position.szi
            margin = value / leverage
            total_ntl += value
            total_margin += margin
            unrealized += pnl
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": coin,
                        "szi": fmt(position.szi),
                        "entryPx": fmt(position.entry),
                        "positionValue": fmt(value),
                        "unrealizedPnl": fmt(pnl),
                        "returnOnEquity": fmt((pnl / margin).quantize(D("0.00000001"))),
                        "liquidationPx": None,
                        "leverage": {"type": "cross", "value": leverage},
                        "marginUsed": fmt(margin),
                        "maxLeverage": market.max_leverage,
                        "cumFunding": {
                            "allTime": fmt(position.funding_all_time),
                            "sinceOpen": fmt(position.funding_since_open),
                            "sinceChange": fmt(position.funding_since_open),
                        },
                    },
                }
            )
        summary = {
            "accountValue": fmt(user.cash + unrealized),
            "totalNtlPos": fmt(total_ntl),
            "totalRawUsd": fmt(user.cash),
            "totalMarginUsed": fmt(total_margin),
        }
        return {
            "assetPositions": positions,
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": fmt(total_margin / 2),
            "withdrawable": fmt(max(ZERO, user.cash + unrealized - total_margin)),
            "time": now_ms(),
        }

    def _info_userFills(self, body: dict[str, Any]) -> Any:
        return list(reversed(self._user_or_empty(str(body["user"])).fills))[:2000]

    def _info_userFillsByTime(self, body: dict[str, Any]) -> Any:
        start = int(body["startTime"])
        end = int(body.get("endTime") or 2**62)
        fills = self._user_or_empty(str(body["user"])).fills
        return [f for f in fills if start <= f["time"] <= end][:2000]

    def _info_userFees(self, body: dict[str, Any]) -> Any:
        user = self._user_or_empty(str(body["user"]))
        day = time.strftime("%Y-%m-%d", time.gmtime())
        return {
            "dailyUserVlm": [
                {"date": day, "userCross": "0.0", "userAdd": "0.0", "exchange": "1000000000.0"}
            ],
            "feeSchedule": {
                "cross": fmt(TAKER_FEE),
                "add": fmt(MAKER_FEE),
                "spotCross": "0.0007",
                "spotAdd": "0.0004",
                "tiers": {
                    "vip": [
                        {"ntlCutoff": "5000000.0", "cross": "0.0004", "add": "0.00012"},
                        {"ntlCutoff": "25000000.0", "cross": "0.00035", "add": "0.00008"},
                    ],
                    "mm": [{"makerFractionCutoff": "0.005", "add": "-0.00001"}],
                },
                "referralDiscount": "0.04",
                "stakingDiscountTiers": [{"bpsOfMaxSupply": "0.0", "discount": "0.0"}],
            },
            "userCrossRate": fmt(user.taker_rate),
            "userAddRate": fmt(user.maker_rate),
            "userSpotCrossRate": "0.0007",
            "userSpotAddRate": "0.0004",
            "activeReferralDiscount": "0.0",
            "trial": None,
            "feeTrialReward": "0.0",
            "nextTrialAvailableTimestamp": None,
            "stakingLink": None,
            "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
        }

    def _info_fundingHistory(self, body: dict[str, Any]) -> Any:
        market = self.market(str(body["coin"]))
        hour = 3600 * 1000
        start = int(body["startTime"])
        end = int(body.get("endTime") or now_ms())
        first = -(-start // hour) * hour
        return [
            {"coin": market.coin, "fundingRate": fmt(market.funding), "premium": "0.0", "time": t}
            for t in range(first, end + 1, hour)
        ][:500]

    def _info_predictedFundings(self, body: dict[str, Any]) -> Any:
        hour = 3600 * 1000
        next_hour = (now_ms() // hour + 1) * hour
        next_eight = (now_ms() // (8 * hour) + 1) * 8 * hour
        return [
            [
                market.coin,
                [
                    [
                        "BinPerp",
                        {
                            "fundingRate": fmt(market.predicted * 8),
                            "nextFundingTime": next_eight,
                            "fundingIntervalHours": 8,
                        },
                    ],
                    [
                        "HlPerp",
                        {
                            "fundingRate": fmt(market.predicted),
                            "nextFundingTime": next_hour,
                            "fundingIntervalHours": 1,
                        },
                    ],
                ],
            ]
            for market in self.markets
            if not market.is_delisted
        ]

    def _info_userRole(self, body: dict[str, Any]) -> Any:
        address = str(body["user"]).lower()
        if address in self.agents:
            return {"role": "agent", "data": {"user": self.agents[address]}}
        if address in self.vaults:
            return {"role": "vault"}
        if address in self.users:
            return {"role": "user"}
        return {"role": "missing"}

    def _info_activeAssetData(self, body: dict[str, Any]) -> Any:
        user = self._user_or_empty(str(body["user"]))
        market = self.market(str(body["coin"]))
        leverage = user.leverage.get(market.coin, min(20, market.max_leverage))
        return {
            "user": str(body["user"]).lower(),
            "coin": market.coin,
            "leverage": {"type": "cross", "value": leverage},
            "maxTradeSzs": ["0.0", "0.0"],
            "availableToTrade": ["0.0", "0.0"],
            "markPx": fmt(market.mark),
        }

    # --- /exchange -------------------------------------------------------------------------

    async def _exchange(self, request: web.Request) -> web.Response:
        throttled = await self._faults()
        if throttled is not None:
            return throttled
        failed = self._fail_after(False)
        if failed is not None:
            return failed
        body = loads(await request.text())
        action = body["action"]
        self.requests.append(("/exchange", str(action.get("type"))))
        result = await self._handle_action(body)
        if result.get("status") == "err":
            self.exchange_errors.append(str(result["response"]))
        return await self._answer(result)

    async def _handle_action(self, body: dict[str, Any]) -> dict[str, Any]:
        action = body["action"]
        nonce = int(body["nonce"])
        vault = body.get("vaultAddress")
        try:
            signer = recover_l1_signer(
                action,
                body["signature"],
                nonce=nonce,
                mainnet=self.mainnet,
                vault_address=vault,
                expires_after=body.get("expiresAfter"),
            ).lower()
        except Exception:
            return {"status": "err", "response": "Invalid signature."}
        if signer in self.users and signer not in self.vaults:
            user = signer
        elif signer in self.agents:
            user = self.agents[signer]
        else:
            return {"status": "err", "response": f"User or API Wallet {signer} does not exist."}
        used = self._nonces.setdefault(signer, set())
        now = now_ms()
        if nonce in used:
            return {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}
        if not now - NONCE_PAST_MS < nonce < now + NONCE_FUTURE_MS:
            return {
                "status": "err",
                "response": f"Invalid nonce: {nonce} is outside the accepted time window",
            }
        used.add(nonce)
        if vault is not None:
            vault = str(vault).lower()
            if self.vaults.get(vault) != user:
                return {
                    "status": "err",
                    "response": f"User {user} is not the leader of vault {vault}",
                }
            user = vault
        kind = action.get("type")
        if kind == "order":
            statuses = [await self._place(user, wire) for wire in action["orders"]]
            return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
        if kind == "cancel":
            statuses = [
                await self._cancel(user, int(c["a"]), lambda o, c=c: o.oid == int(c["o"]))
                for c in action["cancels"]
            ]
            return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}
        if kind == "cancelByCloid":
            statuses = [
                await self._cancel(
                    user, int(c["asset"]), lambda o, c=c: o.cloid == str(c["cloid"]).lower()
                )
                for c in action["cancels"]
            ]
            return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}
        if kind == "updateLeverage":
            return self._update_leverage(user, action)
        return {"status": "err", "response": f"Unsupported action type {kind!r}"}

    def _update_leverage(self, user: str, action: dict[str, Any]) -> dict[str, Any]:
        asset = int(action["asset"])
        if not 0 <= asset < len(self.markets):
            return {"status": "err", "response": "Invalid asset"}
        market = self.markets[asset]
        leverage = int(action["leverage"])
        if not 1 <= leverage <= market.max_leverage:
            return {"status": "err", "response": "Invalid leverage value"}
        self.users[user].leverage[market.coin] = leverage
        return {"status": "ok", "response": {"type": "default"}}

    async def _cancel(self, user: str, asset: int, match: Any) -> Any:
        coin = self.markets[asset].coin if 0 <= asset < len(self.markets) else None
        for order in self.users[user].orders.values():
            if order.status == "open" and order.coin == coin and match(order):
                order.status = "canceled"
                order.status_ts = now_ms()
                await self._push_order_update(order)
                return "success"
        return {"error": ERR_MISSING_ORDER}

    async def _place(self, user_address: str, wire: dict[str, Any]) -> dict[str, Any]:
        asset = int(wire["a"])
        if not 0 <= asset < len(self.markets) or self.markets[asset].is_delisted:
            return {"error": "Invalid asset."}
        market = self.markets[asset]
        user = self.users[user_address]
        is_buy = bool(wire["b"])
        px, sz = D(str(wire["p"])), D(str(wire["s"]))
        trigger = wire["t"].get("trigger")
        tif = "Gtc" if trigger is not None else str(wire["t"]["limit"]["tif"])
        reduce_only = bool(wire["r"])
        cloid = str(wire["c"]).lower() if wire.get("c") else None
        if not is_valid_price(px, market.sz_decimals):
            return {"error": ERR_TICK}
        if sz <= 0 or sz != sz.quantize(D(1).scaleb(-market.sz_decimals)):
            return {"error": "Order has invalid size."}
        if px * sz < 10 and not reduce_only:
            return {"error": ERR_MIN_VALUE}
        position = user.positions.get(market.coin, FakePosition())
        if reduce_only and (position.szi == 0 or (position.szi > 0) == is_buy):
            return {"error": ERR_REDUCE_ONLY}
        if trigger is not None:
            return await self._place_trigger(user_address, market, wire, trigger, cloid)
        bids, asks = self.books.get(market.coin, ([], []))
        opposite = asks if is_buy else bids
        crosses = bool(opposite) and (opposite[0][0] <= px if is_buy else opposite[0][0] >= px)
        if tif == "Alo" and crosses:
            bbo = f"{fmt(bids[0][0]) if bids else ''}@{fmt(asks[0][0]) if asks else ''}"
            return {"error": f"{ERR_POST_ONLY}, bbo was {bbo}"}
        if not reduce_only and not self._margin_ok(user, market, px * sz):
            return {"error": ERR_MARGIN}
        if tif == "Ioc" and not crosses:
            return {"error": ERR_IOC_CANCEL}
        order = FakeOrder(
            oid=next(self._oids),
            user=user_address,
            coin=market.coin,
            is_buy=is_buy,
            px=px,
            orig=sz,
            remaining=sz,
            tif=tif,
            reduce_only=reduce_only,
            cloid=cloid,
            timestamp=now_ms(),
            status_ts=now_ms(),
        )
        user.orders[order.oid] = order
        await self._push_order_update(order)  # "open" first, as the venue reports it
        filled, notional = await self._take(user_address, order, order.remaining)
        if order.remaining == 0 or tif == "Ioc":
            order.status = "filled" if order.remaining == 0 else "canceled"
            order.status_ts = now_ms()
            await self._push_order_update(order)
        if filled:
            return {
                "filled": {
                    "totalSz": fmt(filled),
                    "avgPx": fmt(notional / filled),
                    "oid": order.oid,
                }
            }
        return {"resting": {"oid": order.oid}}

    async def _take(
        self, user_address: str, order: FakeOrder, size: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Take up to ``size`` of ``order`` from the book within its limit: (filled, notional)."""
        bids, asks = self.books.get(order.coin, ([], []))
        opposite = asks if order.is_buy else bids

        def crosses() -> bool:
            if not opposite:
                return False
            return opposite[0][0] <= order.px if order.is_buy else opposite[0][0] >= order.px

        filled, notional = ZERO, ZERO
        while crosses() and filled < size:
            level_px, level_sz = opposite[0]
            take = min(level_sz, size - filled)
            await self._execute(user_address, order, level_px, take, maker=False)
            await self._push_trade(order.coin, order.is_buy, level_px, take)
            filled += take
            notional += level_px * take
            if take == level_sz:
                opposite.pop(0)
            else:
                opposite[0] = (level_px, level_sz - take)
        if filled:
            await self._push_book(order.coin)
        return filled, notional

    async def _place_trigger(
        self,
        user_address: str,
        market: FakeMarket,
        wire: dict[str, Any],
        trigger: dict[str, Any],
        cloid: str | None,
    ) -> dict[str, Any]:
        """A trigger order rests, whatever the book, until the mark crosses its trigger."""
        trigger_px = D(str(trigger["triggerPx"]))
        px = D(str(wire["p"]))
        is_buy = bool(wire["b"])
        tpsl = str(trigger["tpsl"])
        if not is_valid_price(trigger_px, market.sz_decimals):
            return {"error": ERR_TICK}
        if tpsl == "sl" and (px < trigger_px if is_buy else px > trigger_px):
            return {"error": ERR_TPSL_PRICE}
        reduce_only = bool(wire["r"])
        if not reduce_only and not self._margin_ok(
            self.users[user_address], market, px * D(str(wire["s"]))
        ):
            return {"error": ERR_MARGIN}
        order = FakeOrder(
            oid=next(self._oids),
            user=user_address,
            coin=market.coin,
            is_buy=is_buy,
            px=px,
            orig=D(str(wire["s"])),
            remaining=D(str(wire["s"])),
            tif="Gtc",
            reduce_only=reduce_only,
            cloid=cloid,
            timestamp=now_ms(),
            status_ts=now_ms(),
            trigger_px=trigger_px,
            tpsl=tpsl,
            is_market=bool(trigger["isMarket"]),
        )
        self.users[user_address].orders[order.oid] = order
        await self._push_order_update(order)
        if self._crossed(order):
            # The mark is already through the trigger: it fires on the venue's next mark
            # update, after this answer.
            task = asyncio.create_task(self._fire_if_open(order))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return {"resting": {"oid": order.oid}}

    async def _fire_if_open(self, order: FakeOrder) -> None:
        if self._crossed(order):
            await self._fire(order)

    async def _fire(self, order: FakeOrder) -> None:
        """The trigger is hit: the order becomes a market (or limit) order at once."""
        order.status = "triggered"
        order.status_ts = now_ms()
        await self._push_order_update(order)
        size = order.remaining
        if order.reduce_only:
            position = self.users[order.user].positions.get(order.coin, FakePosition())
            if position.szi == 0 or (position.szi > 0) == order.is_buy:
                order.status = "reduceOnlyCanceled"
                order.status_ts = now_ms()
                await self._push_order_update(order)
                return
            size = min(size, abs(position.szi))
        await self._take(order.user, order, size)
        if order.remaining == 0:
            order.status = "filled"
        elif order.is_market:
            order.status = "canceled"  # a market order's unfilled rest never rests
        else:
            order.status = "open"
            order.trigger_px = None  # a triggered stop limit rests as a plain limit
            return
        order.status_ts = now_ms()
        await self._push_order_update(order)

    def _margin_ok(self, user: FakeUser, market: FakeMarket, notional: Decimal) -> bool:
        leverage = user.leverage.get(market.coin, min(20, market.max_leverage))
        used = unrealized = ZERO
        for coin, position in user.positions.items():
            mark = self.market(coin).mark
            lev = user.leverage.get(coin, min(20, self.market(coin).max_leverage))
            used += abs(position.szi) * mark / lev
            unrealized += (mark - position.entry) * position.szi
        return user.cash + unrealized - used >= notional / leverage

    async def _execute(
        self, user_address: str, order: FakeOrder, px: Decimal, sz: Decimal, *, maker: bool
    ) -> None:
        """One fill of ``order``: position, realised PnL, fee, then the user events."""
        user = self.users[user_address]
        position = user.positions.setdefault(order.coin, FakePosition())
        start = position.szi
        signed = sz if order.is_buy else -sz
        closed_pnl = ZERO
        if position.szi == 0 or (position.szi > 0) == order.is_buy:
            total = abs(position.szi) + sz
            position.entry = (position.entry * abs(position.szi) + px * sz) / total
        else:
            closing = min(sz, abs(position.szi))
            direction = 1 if position.szi > 0 else -1
            closed_pnl = (px - position.entry) * closing * direction
            user.cash += closed_pnl
            if sz > abs(position.szi):
                position.entry = px
                position.funding_since_open = ZERO
        position.szi += signed
        if position.szi == 0:
            position.entry = ZERO
            position.funding_since_open = ZERO
        fee = (px * sz * (user.maker_rate if maker else user.taker_rate)).quantize(
            D("0.000001"), rounding=ROUND_HALF_UP
        )
        user.cash -= fee
        order.remaining -= sz
        order.status_ts = now_ms()
        fill: dict[str, Any] = {
            "coin": order.coin,
            "px": fmt(px),
            "sz": fmt(sz),
            "side": "B" if order.is_buy else "A",
            "time": now_ms(),
            "startPosition": fmt(start),
            "dir": ("Open Long" if order.is_buy else "Open Short")
            if start == 0 or (start > 0) == order.is_buy
            else ("Close Short" if order.is_buy else "Close Long"),
            "closedPnl": fmt(closed_pnl),
            "hash": f"0x{order.oid:064x}",
            "oid": order.oid,
            "crossed": not maker,
            "fee": fmt(fee),
            "tid": next(self._tids),
            "feeToken": "USDC",
        }
        if order.cloid is not None:
            fill["cloid"] = order.cloid
        user.fills.append(fill)
        await self._push_user("userFills", user_address, {"user": user_address, "fills": [fill]})

    # --- /ws -------------------------------------------------------------------------------

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._refuse_until:
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = _Connection(ws)
        self._connections.append(connection)
        self.ws_connections += 1
        try:
            async for raw in ws:
                if raw.type is not WSMsgType.TEXT:
                    continue
                message = loads(raw.data)
                method = message.get("method")
                if method == "ping":
                    self.pings += 1
                    await ws.send_str(dumps({"channel": "pong"}))
                elif method == "subscribe":
                    subscription = message["subscription"]
                    self.subscribe_messages.append(subscription)
                    connection.subscriptions.append(subscription)
                    await ws.send_str(dumps({"channel": "subscriptionResponse", "data": message}))
                    await self._initial(connection, subscription)
        finally:
            self._connections.remove(connection)
        return ws

    async def _initial(self, connection: _Connection, subscription: dict[str, Any]) -> None:
        kind = subscription.get("type")
        if kind == "l2Book":
            coin = str(subscription["coin"])
            await self._send(connection, {"channel": "l2Book", "data": self._book_message(coin)})
        elif kind == "userFills":
            user = str(subscription["user"]).lower()
            fills = self._user_or_empty(user).fills[::-1][: self.snapshot_fills][::-1]
            data = {"isSnapshot": True, "user": user, "fills": fills}
            await self._send(connection, {"channel": "userFills", "data": data})

    async def _send(self, connection: _Connection, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await connection.ws.send_str(dumps(message))

    async def _broadcast(self, match: Any, message: dict[str, Any]) -> None:
        for connection in list(self._connections):
            if any(match(s) for s in connection.subscriptions):
                await self._send(connection, message)

    async def _push_book(self, coin: str) -> None:
        await self._broadcast(
            lambda s: s.get("type") == "l2Book" and s.get("coin") == coin,
            {"channel": "l2Book", "data": self._book_message(coin)},
        )

    async def _push_trade(self, coin: str, is_buy: bool, px: Decimal, sz: Decimal) -> None:
        tid = next(self._tids)
        trade = {
            "coin": coin,
            "side": "B" if is_buy else "A",
            "px": fmt(px),
            "sz": fmt(sz),
            "time": now_ms(),
            "hash": f"0x{tid:064x}",
            "tid": tid,
            "users": ["0x0000000000000000000000000000000000000000"] * 2,
        }
        await self._broadcast(
            lambda s: s.get("type") == "trades" and s.get("coin") == coin,
            {"channel": "trades", "data": [trade]},
        )

    async def _push_user(self, channel: str, user: str, data: Any) -> None:
        if self._drop_user_events > 0:
            self._drop_user_events -= 1
            return
        message = {"channel": channel, "data": data}
        for _ in range(2 if self.duplicate_user_events else 1):
            await self._broadcast(
                lambda s: s.get("type") == channel and str(s.get("user")).lower() == user.lower(),
                message,
            )

    async def _push_order_update(self, order: FakeOrder) -> None:
        update = {
            "order": order.basic_wire(),
            "status": order.status,
            "statusTimestamp": order.status_ts,
        }
        await self._push_user("orderUpdates", order.user, [update])
