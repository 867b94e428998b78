"""A fake EdgeX exchange (V2 API: REST + both WebSockets) for the EdgeX client's tests.

It speaks the wire protocol of the V2 docs and the official SDK (``edgex-python-sdk`` 2.x):

* **Authentication** — every ``/api/v2/private/...`` request must carry ``X-edgeX-Api-Key``,
  ``-Passphrase``, ``-Timestamp`` and ``-Signature``; the signature is recomputed here from
  what was received (HMAC-SHA256 keyed by base64 of the account's secret over timestamp +
  method + path + the sorted query, or the flattened JSON body) and compared; a timestamp more
  than :attr:`FakeEdgex.window_ms` off the fake's clock is refused as expired. The private
  WebSocket checks the same headers over ``accountId=..&timestamp=..`` at the handshake.
* **Orders** — ``createOrder`` recomputes the EIP-712 ``LimitOrderParams`` digest from the body
  (size x the contract's resolution, ``l2Value`` x the collateral resolution, both truncated;
  ``l2LimitFee`` x resolution; the nonce; ``expireTime`` in seconds; the account; the side) in
  the metadata's domain, **recovers the signer** from ``l2Signature`` and refuses the order
  unless it is the account's registered trading address. It also refuses an ``l2Nonce`` that
  is not SHA-256(clientOrderId), a fee below what the fee rate needs (rounded up), an
  expired order, a reused nonce, and a market order whose signed worst price the book would
  cross (``l2Value / l2Size``).
* answers are ``{"code": "SUCCESS", "data", "msg": null, "errorParam": null, "requestTime",
  "responseTime", "traceId"}``; refusals are HTTP 200 with another ``code`` and a ``msg`` (HTTP
  401 for a failed authentication, as gateways answer).
* **Markets** — ``getMetaData``, ``getServerTime``, ``getDepth``, ``getTicker`` (every contract
  without ``contractId``), ``getLatestFundingRate``.
* **Streams** — public ``depth.<contractId>.15`` (snapshot on subscribe, then changes with
  ``startVersion`` = previous ``endVersion`` + 1); private ``trade-event`` messages with the
  ``order`` / ``orderFillTransaction`` / ``position`` / ``collateral`` groups (``Snapshot`` on
  connect, then ``ORDER_UPDATE``); both send ``ping`` and count the ``pong`` answers.

Trigger orders (``STOP_MARKET`` with ``triggerPrice``) rest as ``UNTRIGGERED`` until the oracle
price (:meth:`FakeEdgex.set_oracle_price`, else the book's mid) crosses the trigger on the side
it was on at placement, then execute as a market order (reduce-only when asked; cancelled with
``REDUCE_ONLY_REJECTED`` if there is nothing to reduce).

Fault knobs (plain attributes and methods, as the other fakes have): ``fail_next`` (429/5xx,
optionally after the request took effect), ``delay``, ``drop_connections``, ``sequence_gap``,
``duplicate_user_events``, ``duplicate_market_events``, ``clock_offset_ms``,
``matching_delay`` (orders answered ``PENDING`` and matched later), ``listing_delay``
(new orders missing from queries for a while).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

import coincurve
from aiohttp import WSMsgType, web
from eth_utils.crypto import keccak

from networking.json_codec import dumps, loads
from testing.fakes.local_server import LocalServer
from testing.fakes.matching import NetPosition, take_liquidity

JSON = dict[str, Any]
ZERO = Decimal(0)
CHAIN_ID = 0x82A7
VERIFYING_CONTRACT = "0x1ae109ea449cfe0bed08bfe8911e968a49a919b1"
COLLATERAL_COIN = "1000"
COLLATERAL_RESOLUTION = Decimal(10**6)
L1_OFFSET_MS = 8 * 24 * 3600 * 1000
FUNDING_INTERVAL_MIN = 240

E_AUTH = (401, "INVALID_SIGNATURE", "signature verification failed")
E_UNKNOWN_KEY = (401, "INVALID_API_KEY", "api key not found")
E_EXPIRED = (200, "REQUEST_EXPIRED", "request timestamp expired")
E_ACCOUNT = (200, "PERMISSION_DENIED", "account does not belong to this api key")
E_L2_SIGNATURE = (200, "INVALID_L2_SIGNATURE", "l2 signature does not match the order")
E_NONCE = (200, "INVALID_L2_NONCE", "l2Nonce does not match clientOrderId")
E_NONCE_USED = (200, "INVALID_L2_NONCE", "l2Nonce already used")
E_FEE = (200, "INVALID_L2_LIMIT_FEE", "l2LimitFee below the fee the order may pay")
E_ORDER_EXPIRED = (200, "ORDER_EXPIRED", "order expireTime is in the past")
E_CONTRACT = (200, "CONTRACT_NOT_FOUND", "contract not found")
E_PARAM = (200, "INVALID_PARAMETER", "invalid parameter")
E_PRICE = (200, "INVALID_PRICE", "price does not conform to tickSize")
E_SIZE = (200, "INVALID_SIZE", "size does not conform to stepSize or minOrderSize")
E_POST_ONLY = (200, "POST_ONLY_WOULD_TRADE", "post only order would trade")
E_REDUCE_ONLY = (200, "REDUCE_ONLY_REJECTED", "reduce only order would increase position")
E_MARGIN = (200, "INSUFFICIENT_MARGIN", "insufficient margin")
E_LEVERAGE = (200, "INVALID_LEVERAGE", "leverage out of range")
E_DUPLICATE = (200, "DUPLICATE_CLIENT_ORDER_ID", "clientOrderId already used")


class ApiError(Exception):
    def __init__(self, error: tuple[int, str, str]) -> None:
        self.status, self.code, self.message = error
        super().__init__(self.message)


def now_ms() -> int:
    return int(time.time() * 1000)


def text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def flatten(value: Any) -> str:
    """A received value as the SDK writes it into the signed body string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return "&".join(flatten(item) for item in value)
    if isinstance(value, dict):
        return "&".join(f"{k}={flatten(value[k])}" for k in sorted(value))
    return str(value)


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(base64.b64encode(secret.encode()), message.encode(), hashlib.sha256).hexdigest()


def _word(value: int) -> bytes:
    return (value % 2**256).to_bytes(32, "big")


_DOMAIN_TYPE = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_ORDER_BASE = (
    b"OrderBase(uint256 nonce,address signer,uint64 accountId,uint256 expirationTimestamp)"
)
_LIMIT = (
    b"LimitOrderParams(OrderBase base,int256 amountSynthetic,int256 amountCollateral,"
    b"uint256 amountFee,uint64 assetIdSynthetic,uint64 assetIdCollateral,bool isBuyingSynthetic,"
    b"bytes32 parentOrderHash,uint256 subOrderIndex)"
)


def domain_separator(chain_id: int, contract: str) -> bytes:
    return bytes(
        keccak(
            _DOMAIN_TYPE
            + keccak(b"EdgeX")
            + keccak(b"1")
            + _word(chain_id)
            + bytes.fromhex(contract[2:]).rjust(32, b"\x00")
        )
    )


def order_digest(separator: bytes, fields: Mapping[str, int | str | bool]) -> bytes:
    """The EIP-712 digest of a ``LimitOrderParams`` (written independently of the client)."""
    base = keccak(
        keccak(_ORDER_BASE)
        + _word(int(fields["nonce"]))
        + bytes.fromhex(str(fields["signer"])[2:]).rjust(32, b"\x00")
        + _word(int(fields["accountId"]))
        + _word(int(fields["expirationTimestamp"]))
    )
    struct = keccak(
        keccak(_LIMIT + _ORDER_BASE)
        + base
        + _word(int(fields["amountSynthetic"]))
        + _word(int(fields["amountCollateral"]))
        + _word(int(fields["amountFee"]))
        + _word(int(fields["assetIdSynthetic"]))
        + _word(int(fields["assetIdCollateral"]))
        + _word(1 if fields["isBuyingSynthetic"] else 0)
        + bytes(32)
        + _word(0)
    )
    return bytes(keccak(b"\x19\x01" + separator + struct))


def recover_address(digest: bytes, signature_hex: str) -> str | None:
    """The address that signed ``digest`` (r || s || v, v in {27, 28}); None if malformed."""
    try:
        raw = bytes.fromhex(signature_hex.removeprefix("0x"))
    except ValueError:
        return None
    if len(raw) != 65 or raw[64] not in (27, 28):
        return None
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            raw[:64] + bytes([raw[64] - 27]), digest, hasher=None
        )
    except Exception:
        return None
    return "0x" + bytes(keccak(public.format(compressed=False)[1:]))[-20:].hex()


def address_of(private_key: str) -> str:
    key = coincurve.PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))
    return "0x" + bytes(keccak(key.public_key.format(compressed=False)[1:]))[-20:].hex()


@dataclass
class FakeContract:
    contract_id: str
    base_coin: str
    base_name: str
    tick: Decimal
    step: Decimal
    min_size: Decimal
    resolution: str  # as the metadata lists it (hex or decimal)
    max_leverage: Decimal = Decimal(50)
    taker_fee: Decimal = Decimal("0.00038")
    maker_fee: Decimal = Decimal("0.00015")
    funding_rate: Decimal = Decimal("0.00005")
    open_interest: Decimal = ZERO
    volume: Decimal = ZERO

    @property
    def resolution_value(self) -> Decimal:
        r = self.resolution.lower()
        return Decimal(int(r, 16)) if r.startswith("0x") else Decimal(r)


def default_contracts() -> list[FakeContract]:
    return [
        FakeContract(
            "10000001",
            "1001",
            "BTC",
            Decimal("0.1"),
            Decimal("0.001"),
            Decimal("0.001"),
            "0x2540be400",
            open_interest=Decimal("1873.512"),
            volume=Decimal("912345678.9"),
        ),
        FakeContract(
            "10000002",
            "1002",
            "ETH",
            Decimal("0.01"),
            Decimal("0.01"),
            Decimal("0.01"),
            "100000000",
            max_leverage=Decimal(25),
            funding_rate=Decimal("-0.00002"),
            open_interest=Decimal("20451.12"),
            volume=Decimal("301234567.8"),
        ),
    ]


DEFAULT_BOOKS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "10000001": (
        [("60000.0", "2"), ("59999.9", "3"), ("59999.0", "5"), ("59990.0", "10")],
        [("60000.1", "2"), ("60000.2", "3"), ("60001.0", "5"), ("60010.0", "10")],
    ),
    "10000002": ([("3000.00", "40"), ("2999.99", "80")], [("3000.01", "40"), ("3000.05", "90")]),
}


@dataclass
class FakeOrder:
    order_id: str
    account_id: str
    client_order_id: str
    contract_id: str
    side: str  # BUY / SELL
    order_type: str  # LIMIT / MARKET / STOP_MARKET
    size: Decimal
    price: Decimal  # 0 for market orders
    worst_price: Decimal  # l2Value / l2Size: what the signature allows
    tif: str
    reduce_only: bool
    taker_fee: Decimal
    maker_fee: Decimal
    status: str = "PENDING"
    cum_size: Decimal = ZERO
    cum_value: Decimal = ZERO
    cum_fee: Decimal = ZERO
    cancel_reason: str = "UNKNOWN_ORDER_CANCEL_REASON"
    trigger_price: Decimal = ZERO
    triggers_above: bool = False
    created: int = field(default_factory=now_ms)
    updated: int = field(default_factory=now_ms)
    l2: JSON = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in ("PENDING", "OPEN", "UNTRIGGERED")

    def wire(self) -> JSON:
        return {
            "id": self.order_id,
            "userId": "543429922866069763",
            "accountId": self.account_id,
            "coinId": COLLATERAL_COIN,
            "contractId": self.contract_id,
            "side": self.side,
            "price": text(self.price),
            "size": text(self.size),
            "clientOrderId": self.client_order_id,
            "type": self.order_type,
            "timeInForce": self.tif,
            "reduceOnly": self.reduce_only,
            "triggerPrice": text(self.trigger_price),
            "triggerPriceType": "ORACLE_PRICE" if self.trigger_price else "UNKNOWN_PRICE_TYPE",
            "expireTime": self.l2.get("expireTime", "0"),
            "isPositionTpsl": False,
            "isLiquidate": False,
            "isDeleverage": False,
            "takerFeeRate": text(self.taker_fee),
            "makerFeeRate": text(self.maker_fee),
            "l2Nonce": self.l2.get("l2Nonce", "0"),
            "l2Value": self.l2.get("l2Value", ""),
            "l2Size": self.l2.get("l2Size", ""),
            "l2LimitFee": self.l2.get("l2LimitFee", ""),
            "l2ExpireTime": self.l2.get("l2ExpireTime", "0"),
            "status": self.status,
            "cancelReason": self.cancel_reason,
            "cumFillSize": text(self.cum_size),
            "cumFillValue": text(self.cum_value),
            "cumFillFee": text(self.cum_fee),
            "createdTime": str(self.created),
            "updatedTime": str(self.updated),
        }


@dataclass
class FakeFill:
    fill_id: str
    order: FakeOrder
    price: Decimal
    size: Decimal
    fee: Decimal
    maker: bool
    realized: Decimal
    created: int = field(default_factory=now_ms)

    def wire(self) -> JSON:
        return {
            "id": self.fill_id,
            "userId": "543429922866069763",
            "accountId": self.order.account_id,
            "coinId": COLLATERAL_COIN,
            "contractId": self.order.contract_id,
            "orderId": self.order.order_id,
            "orderSide": self.order.side,
            "fillSize": text(self.size),
            "fillValue": text(self.size * self.price),
            "fillFee": text(self.fee),
            "fillPrice": text(self.price),
            "liquidateFee": "0",
            "realizePnl": text(self.realized),
            "direction": "MAKER" if self.maker else "TAKER",
            "isPositionTpsl": False,
            "isLiquidate": False,
            "isDeleverage": False,
            "createdTime": str(self.created),
            "updatedTime": str(self.created),
        }


@dataclass
class FakePosition(NetPosition):
    funding: Decimal = ZERO


@dataclass
class FakeAccount:
    account_id: str
    api_key: str
    api_secret: str
    passphrase: str
    trading_address: str
    cash: Decimal
    leverage: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    fills: list[FakeFill] = field(default_factory=list)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)

    def position(self, contract_id: str) -> FakePosition:
        return self.positions.setdefault(contract_id, FakePosition())


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    account: FakeAccount | None = None
    channels: set[str] = field(default_factory=set)
    pongs: int = 0


class FakeEdgex:
    """The venue: metadata, accounts, books, matching, REST and both WebSocket endpoints."""

    window_ms = 60_000
    """How far a request timestamp may be from the fake's clock."""

    def __init__(self, contracts: Iterable[FakeContract] | None = None) -> None:
        self.contracts = {c.contract_id: c for c in (contracts or default_contracts())}
        self.accounts: dict[str, FakeAccount] = {}
        self.books: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
        self.versions: dict[str, int] = {}
        self.oracle_overrides: dict[str, Decimal] = {}
        self._order_ids = itertools.count(564_814_927_928_230_158)
        self._fill_ids = itertools.count(573_000_000_000_000_001)
        self._connections: list[_Connection] = []
        self.requests: list[tuple[str, str]] = []
        self.funding_history: dict[str, list[JSON]] = {}
        """Per contract id, ``getFundingRatePage`` rows, oldest first (:meth:`record_funding`)."""
        self.rejections: list[str] = []
        self.ws_timestamps: list[int] = []
        """The ``timestamp`` of every WebSocket connection accepted, in order."""
        """Codes of every refusal answered (tests read them)."""
        self._separator = domain_separator(CHAIN_ID, VERIFYING_CONTRACT)
        # fault knobs
        self._failures: list[tuple[int, bool, str | None]] = []
        self.delay = 0.0
        self.refuse_ws_until = 0.0
        self._gaps: dict[str, int] = {}
        self.duplicate_user_events = False
        self.duplicate_market_events = False
        self.clock_offset_ms = 0
        self.matching_delay = 0.0
        """Seconds between ``createOrder``'s answer (the order ``PENDING``) and its matching, as
        on the venue, whose answer only acknowledges the order; 0 matches before answering."""
        self._matching: set[asyncio.Task[None]] = set()
        self.listing_delay = 0.0
        """Seconds after creation before an order shows in queries (``getOrderById``,
        ``getOrderByClientOrderId``, ``getActiveOrderPage``): the venue's read side lags."""
        self._server = LocalServer()
        self.base_url = ""
        self.ws_url = ""
        for contract_id, (bids, asks) in DEFAULT_BOOKS.items():
            if contract_id in self.contracts:
                self.books[contract_id] = (
                    {Decimal(p): Decimal(q) for p, q in bids},
                    {Decimal(p): Decimal(q) for p, q in asks},
                )
                self.versions[contract_id] = 35_229_771

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> FakeEdgex:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/api/v1/public/ws", self._public_ws)
        app.router.add_route("GET", "/api/v1/private/ws", self._private_ws)
        app.router.add_route("*", "/{tail:.*}", self._http)
        port = await self._server.serve(app)
        self.base_url = self.ws_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    async def stop(self) -> None:
        for task in list(self._matching):
            task.cancel()
        await self._server.close(c.ws for c in self._connections)

    # --- accounts ---------------------------------------------------------------------------

    def add_account(
        self,
        account_id: str,
        *,
        api_key: str,
        api_secret: str,
        passphrase: str,
        trading_private_key: str,
        cash: Decimal = Decimal(10_000),
    ) -> FakeAccount:
        account = FakeAccount(
            account_id, api_key, api_secret, passphrase, address_of(trading_private_key), cash
        )
        self.accounts[account_id] = account
        return account

    # --- fault knobs ------------------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        after_processing: bool = False,
        path: str | None = None,
    ) -> None:
        """The next ``count`` requests (to ``path`` if given) answer ``status``;
        ``after_processing``: the request takes effect first (outcome unknown)."""
        self._failures.extend([(status, after_processing, path)] * count)

    async def drop_connections(self, refuse_for: float = 0.0) -> None:
        self.refuse_ws_until = time.monotonic() + refuse_for
        for conn in list(self._connections):
            await conn.ws.close()

    def sequence_gap(self, contract_id: str) -> None:
        """The next depth change of ``contract_id`` skips a version."""
        self._gaps[contract_id] = self._gaps.get(contract_id, 0) + 1

    def server_ms(self) -> int:
        return now_ms() + self.clock_offset_ms

    @property
    def ws_connection_count(self) -> int:
        return len(self._connections)

    def pongs(self) -> int:
        return sum(c.pongs for c in self._connections)

    # --- books and prices -------------------------------------------------------------------

    def book(
        self, contract_id: str
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids, asks = self.books.get(contract_id, ({}, {}))
        return sorted(bids.items(), key=lambda lv: -lv[0]), sorted(asks.items())

    async def set_book(
        self, contract_id: str, bids: Iterable[tuple[str, str]], asks: Iterable[tuple[str, str]]
    ) -> None:
        """Replace the book (pushed as one change); resting orders it crosses fill as makers."""
        new_bids = {Decimal(p): Decimal(q) for p, q in bids}
        new_asks = {Decimal(p): Decimal(q) for p, q in asks}
        old_bids, old_asks = self.books.get(contract_id, ({}, {}))
        self.books[contract_id] = (new_bids, new_asks)
        await self._push_depth(contract_id, _diff(old_bids, new_bids), _diff(old_asks, new_asks))
        await self._match_resting(contract_id)
        await self._check_triggers(contract_id)

    async def set_oracle_price(self, contract_id: str, price: Decimal | None) -> None:
        """Pin the oracle (mark) price, then fire the stops it crosses."""
        if price is None:
            self.oracle_overrides.pop(contract_id, None)
        else:
            self.oracle_overrides[contract_id] = price
        await self._check_triggers(contract_id)

    def oracle_price(self, contract_id: str) -> Decimal:
        if contract_id in self.oracle_overrides:
            return self.oracle_overrides[contract_id]
        bids, asks = self.book(contract_id)
        if bids and asks:
            return (bids[0][0] + asks[0][0]) / 2
        return (bids or asks or [(Decimal(1), ZERO)])[0][0]

    def next_funding_ms(self) -> int:
        interval = FUNDING_INTERVAL_MIN * 60_000
        return (now_ms() // interval + 1) * interval

    def record_funding(
        self, contract_id: str, at_ms: int, rate: Decimal, *, settlement: bool = True
    ) -> None:
        """One row of the funding history ``getFundingRatePage`` serves (a settlement, or the
        per-minute estimate between them when ``settlement`` is false)."""
        oracle = text(self.oracle_price(contract_id))
        self.funding_history.setdefault(contract_id, []).append(
            {
                "contractId": contract_id,
                "fundingTime": str(at_ms),
                "fundingTimestamp": str(at_ms),
                "oraclePrice": oracle,
                "indexPrice": oracle,
                "fundingRate": text(rate),
                "isSettlement": settlement,
                "forecastFundingRate": "",
                "previousFundingRate": text(rate),
                "fundingRateIntervalMin": str(FUNDING_INTERVAL_MIN),
            }
        )
        self.funding_history[contract_id].sort(key=lambda r: int(r["fundingTimestamp"]))

    async def settle_funding(self, contract_id: str) -> None:
        """Pay one funding interval on every open position (positive rate: longs pay)."""
        contract = self.contracts[contract_id]
        self.record_funding(contract_id, now_ms(), contract.funding_rate)
        for account in self.accounts.values():
            position = account.positions.get(contract_id)
            if position is None or position.amount == 0:
                continue
            credit = -contract.funding_rate * position.amount * self.oracle_price(contract_id)
            position.funding += credit
            account.cash += credit

    async def _push_depth(
        self,
        contract_id: str,
        bids: list[tuple[Decimal, Decimal]],
        asks: list[tuple[Decimal, Decimal]],
    ) -> None:
        if not bids and not asks:
            return
        previous = self.versions.get(contract_id, 0)
        if self._gaps.get(contract_id):
            self._gaps[contract_id] -= 1
            previous += 2
        version = previous + 1
        self.versions[contract_id] = version
        item = self._depth_item(contract_id, "CHANGED", bids, asks, version, version)
        times = 2 if self.duplicate_market_events else 1
        for conn in list(self._connections):
            channel = f"depth.{contract_id}.15"
            if channel in conn.channels:
                for _ in range(times):
                    await self._send(conn, _quote_event(channel, "Changed", item))

    def _depth_item(
        self,
        contract_id: str,
        kind: str,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
        start: int,
        end: int,
    ) -> JSON:
        return {
            "startVersion": str(start),
            "endVersion": str(end),
            "level": 15,
            "contractId": contract_id,
            "contractName": f"{self.contracts[contract_id].base_name}USD",
            "depthType": kind,
            "bids": [{"price": text(p), "size": text(q)} for p, q in bids],
            "asks": [{"price": text(p), "size": text(q)} for p, q in asks],
        }

    # --- matching ---------------------------------------------------------------------------

    async def _check_triggers(self, contract_id: str) -> None:
        oracle = self.oracle_price(contract_id)
        for account in self.accounts.values():
            for order in list(account.orders.values()):
                if order.contract_id != contract_id or order.status != "UNTRIGGERED":
                    continue
                crossed = (
                    oracle >= order.trigger_price
                    if order.triggers_above
                    else oracle <= order.trigger_price
                )
                if crossed:
                    await self._trigger(account, order)

    async def _trigger(self, account: FakeAccount, order: FakeOrder) -> None:
        position = account.position(order.contract_id).amount
        if order.reduce_only:
            reducing = (position > 0 and order.side == "SELL") or (
                position < 0 and order.side == "BUY"
            )
            if not reducing:
                await self._cancel(account, order, "REDUCE_ONLY_REJECTED")
                return
            order.size = min(order.size, abs(position))
        order.status = "OPEN"
        await self._execute(account, order)

    async def _execute(self, account: FakeAccount, order: FakeOrder) -> None:
        """A taker order: takes the book within its limit, then IOC leftovers are cancelled."""
        limit = order.price if order.order_type == "LIMIT" else order.worst_price
        bids, asks = self.books[order.contract_id]
        buying = order.side == "BUY"
        side = asks if buying else bids
        taken = take_liquidity(side, order.size - order.cum_size, buying=buying, limit=limit)
        changes = [(p, side.get(p, ZERO)) for p, _ in taken]
        await self._push_depth(
            order.contract_id, [] if buying else changes, changes if buying else []
        )
        fills = [await self._fill(account, order, p, q, maker=False) for p, q in taken]
        if order.cum_size == order.size:
            order.status = "FILLED"
        elif order.tif in ("IMMEDIATE_OR_CANCEL", "FILL_OR_KILL") or order.order_type != "LIMIT":
            order.status = "CANCELED"
            order.cancel_reason = "IMMEDIATE_OR_CANCEL"
        else:
            order.status = "OPEN"
        order.updated = now_ms()
        await self._account_event(account, [order], fills)

    async def _match_resting(self, contract_id: str) -> None:
        for account in self.accounts.values():
            for order in list(account.orders.values()):
                if (
                    order.contract_id != contract_id
                    or order.status != "OPEN"
                    or order.order_type != "LIMIT"
                ):
                    continue
                bids, asks = self.book(contract_id)
                levels = asks if order.side == "BUY" else bids
                crossing = [
                    q
                    for p, q in levels
                    if (p <= order.price if order.side == "BUY" else p >= order.price)
                ]
                qty = min(sum(crossing, ZERO), order.size - order.cum_size)
                if qty <= 0:
                    continue
                book_side = self.books[contract_id][1 if order.side == "BUY" else 0]
                take_liquidity(book_side, qty, buying=order.side == "BUY")
                fill = await self._fill(account, order, order.price, qty, maker=True)
                order.status = "FILLED" if order.cum_size == order.size else "OPEN"
                order.updated = now_ms()
                await self._account_event(account, [order], [fill])

    async def _fill(
        self, account: FakeAccount, order: FakeOrder, price: Decimal, qty: Decimal, *, maker: bool
    ) -> FakeFill:
        fee = price * qty * (order.maker_fee if maker else order.taker_fee)
        signed = qty if order.side == "BUY" else -qty
        realized = account.position(order.contract_id).fill(signed, price)
        account.cash += realized - fee
        order.cum_size += qty
        order.cum_value += price * qty
        order.cum_fee += fee
        fill = FakeFill(str(next(self._fill_ids)), order, price, qty, fee, maker, realized)
        account.fills.append(fill)
        return fill

    async def _cancel(self, account: FakeAccount, order: FakeOrder, reason: str) -> None:
        order.status = "CANCELED"
        order.cancel_reason = reason
        order.updated = now_ms()
        await self._account_event(account, [order], [])

    # --- account figures --------------------------------------------------------------------

    def leverage_of(self, account: FakeAccount, contract_id: str) -> Decimal:
        return account.leverage.get(contract_id, Decimal(10))

    def unrealized(self, account: FakeAccount, contract_id: str) -> Decimal:
        p = account.positions.get(contract_id)
        if p is None or p.amount == 0:
            return ZERO
        return (self.oracle_price(contract_id) - p.entry) * p.amount

    def margin_used(self, account: FakeAccount) -> Decimal:
        used = ZERO
        for contract_id, p in account.positions.items():
            if p.amount:
                used += (
                    abs(p.amount)
                    * self.oracle_price(contract_id)
                    / self.leverage_of(account, contract_id)
                )
        for order in account.orders.values():
            if order.is_open and order.order_type == "LIMIT":
                used += (
                    (order.size - order.cum_size)
                    * order.price
                    / self.leverage_of(account, order.contract_id)
                )
        return used

    def available(self, account: FakeAccount) -> Decimal:
        unrealized = sum((self.unrealized(account, c) for c in account.positions), ZERO)
        return account.cash + unrealized - self.margin_used(account)

    # --- HTTP -------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        failure = next((f for f in self._failures if f[2] is None or f[2] == request.path), None)
        if failure is not None:
            self._failures.remove(failure)
            if not failure[1]:
                return _failure_response(failure[0])
        handler = self._handlers().get((request.method, request.path))
        if handler is None:
            return _json({"code": "NOT_FOUND", "msg": "path not found"}, 404)
        try:
            params = await self._params(request)
            account = None
            if "/private/" in request.path:
                account = self.authenticate(request, params)
            result = handler(account, params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            self.rejections.append(exc.code)
            return _json(_envelope(None, exc.code, exc.message), exc.status)
        if self.delay:
            await asyncio.sleep(self.delay)
        if failure is not None:
            return _failure_response(failure[0])
        return _json(_envelope(result))

    async def _params(self, request: web.Request) -> JSON:
        if request.method == "GET":
            return dict(request.query)
        body = await request.text()
        if not body:
            return {}
        try:
            parsed = loads(body)
        except ValueError:
            raise ApiError(E_PARAM) from None
        if not isinstance(parsed, dict):
            raise ApiError(E_PARAM)
        return parsed

    def authenticate(self, request: web.Request, params: JSON) -> FakeAccount:
        body = (
            "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
            if request.method == "GET"
            else flatten(params)
        )
        account = self._check_headers(request.headers, request.method, request.path, body)
        if str(params.get("accountId", "")) != account.account_id:
            raise ApiError(E_ACCOUNT)
        return account

    def _check_headers(
        self, headers: Mapping[str, str], method: str, path: str, body: str
    ) -> FakeAccount:
        key = headers.get("X-edgeX-Api-Key")
        signature = headers.get("X-edgeX-Signature")
        stamp = headers.get("X-edgeX-Timestamp")
        passphrase = headers.get("X-edgeX-Passphrase")
        if not key or not signature or not stamp or not stamp.isdigit() or passphrase is None:
            raise ApiError(E_AUTH)
        account = next((a for a in self.accounts.values() if a.api_key == key), None)
        if account is None:
            raise ApiError(E_UNKNOWN_KEY)
        expected = hmac_hex(account.api_secret, f"{stamp}{method}{path}{body}")
        if not hmac.compare_digest(expected, signature) or passphrase != account.passphrase:
            raise ApiError(E_AUTH)
        if abs(self.server_ms() - int(stamp)) > self.window_ms:
            raise ApiError(E_EXPIRED)
        return account

    def _handlers(self) -> dict[tuple[str, str], Callable[[FakeAccount | None, JSON], Any]]:
        v2 = "/api/v2"
        return {
            ("GET", f"{v2}/public/meta/getServerTime"): lambda _a, _p: {
                "timeMillis": str(self.server_ms())
            },
            ("GET", f"{v2}/public/meta/getMetaData"): self.h_metadata,
            ("GET", f"{v2}/public/quote/getDepth"): self.h_depth,
            ("GET", f"{v2}/public/quote/getTicker"): self.h_ticker,
            ("GET", f"{v2}/public/funding/getLatestFundingRate"): self.h_funding,
            ("GET", f"{v2}/public/funding/getFundingRatePage"): self.h_funding_page,
            ("POST", f"{v2}/private/order/createOrder"): self.h_create,
            ("POST", f"{v2}/private/order/cancelOrderById"): self.h_cancel_by_id,
            ("POST", f"{v2}/private/order/cancelOrderByClientOrderId"): self.h_cancel_by_client,
            ("POST", f"{v2}/private/order/cancelAllOrder"): self.h_cancel_all,
            ("GET", f"{v2}/private/order/getActiveOrderPage"): self.h_active,
            ("GET", f"{v2}/private/order/getOrderById"): self.h_by_id,
            ("GET", f"{v2}/private/order/getOrderByClientOrderId"): self.h_by_client,
            ("GET", f"{v2}/private/order/getHistoryOrderFillTransactionPage"): self.h_fills,
            ("GET", f"{v2}/private/account/getAccountAsset"): self.h_asset,
            ("GET", f"{v2}/private/account/getAccountById"): self.h_account,
            ("POST", f"{v2}/private/account/updateLeverageSetting"): self.h_leverage,
        }

    # --- handlers: public -------------------------------------------------------------------

    def h_metadata(self, _a: FakeAccount | None, _p: JSON) -> JSON:
        coins = [
            {
                "coinId": COLLATERAL_COIN,
                "coinName": "USD",
                "stepSize": "0.000001",
                "resolution": "0xf4240",
            },
        ] + [
            {
                "coinId": c.base_coin,
                "coinName": c.base_name,
                "stepSize": text(c.step),
                "resolution": c.resolution,
            }
            for c in self.contracts.values()
        ]
        return {
            "global": {
                "appName": "edgeX",
                "appEnv": "testnet",
                "nativeChainId": hex(CHAIN_ID),
                "contractAddress": VERIFYING_CONTRACT,
            },
            "coinList": coins,
            "contractList": [
                {
                    "contractId": c.contract_id,
                    "contractName": f"{c.base_name}USD",
                    "baseCoinId": c.base_coin,
                    "quoteCoinId": COLLATERAL_COIN,
                    "tickSize": text(c.tick),
                    "stepSize": text(c.step),
                    "minOrderSize": text(c.min_size),
                    "maxOrderSize": "1000",
                    "resolution": c.resolution,
                    "defaultTakerFeeRate": text(c.taker_fee),
                    "defaultMakerFeeRate": text(c.maker_fee),
                    "defaultLeverage": "10",
                    "fundingRateIntervalMin": str(FUNDING_INTERVAL_MIN),
                    "enableTrade": True,
                    "enableDisplay": True,
                    "riskTierList": [
                        {
                            "tier": 1,
                            "positionValueUpperBound": "1000000",
                            "maxLeverage": text(c.max_leverage),
                            "maintenanceMarginRate": "0.005",
                        },
                    ],
                }
                for c in self.contracts.values()
            ],
        }

    def _contract(self, params: JSON) -> FakeContract:
        contract = self.contracts.get(str(params.get("contractId", "")))
        if contract is None:
            raise ApiError(E_CONTRACT)
        return contract

    def h_depth(self, _a: FakeAccount | None, params: JSON) -> Any:
        contract = self._contract(params)
        level = int(str(params.get("level", "15")))
        bids, asks = self.book(contract.contract_id)
        version = self.versions.get(contract.contract_id, 0)
        return [
            self._depth_item(
                contract.contract_id, "SNAPSHOT", bids[:level], asks[:level], version, version
            )
        ]

    def h_ticker(self, _a: FakeAccount | None, params: JSON) -> Any:
        wanted = params.get("contractId")
        rows = []
        for c in self.contracts.values():
            if wanted and c.contract_id != wanted:
                continue
            oracle = self.oracle_price(c.contract_id)
            rows.append(
                {
                    "contractId": c.contract_id,
                    "contractName": f"{c.base_name}USD",
                    "lastPrice": text(oracle),
                    "oraclePrice": text(oracle),
                    "indexPrice": text(oracle),
                    "value": text(c.volume),
                    "openInterest": text(c.open_interest),
                    "fundingRate": text(c.funding_rate),
                    "fundingTime": str(self.next_funding_ms() - FUNDING_INTERVAL_MIN * 60_000),
                    "nextFundingTime": str(self.next_funding_ms()),
                }
            )
        if wanted and not rows:
            raise ApiError(E_CONTRACT)
        return rows

    def h_funding_page(self, _a: FakeAccount | None, params: JSON) -> Any:
        """History newest first: ``size`` (1..100, default 100) rows a page, ``offsetData`` an
        opaque cursor ("" on the last page), settlements only when
        ``filterSettlementFundingRate`` is true, ``filterBeginTimeInclusive`` /
        ``filterEndTimeExclusive`` in ms (EdgeX V2 "Funding Rate API")."""
        contract_id = str(params.get("contractId", ""))
        if contract_id not in self.contracts:
            raise ApiError(E_CONTRACT)
        try:
            size = int(str(params.get("size") or 100))
            offset = int(str(params.get("offsetData") or "0"), 16)
            begin = int(str(params.get("filterBeginTimeInclusive") or 0))
            end = int(str(params.get("filterEndTimeExclusive") or 2**63))
        except ValueError:
            raise ApiError(E_PARAM) from None
        if not 0 < size <= 100:
            raise ApiError(E_PARAM)
        settled_only = str(params.get("filterSettlementFundingRate", "")).lower() == "true"
        rows = [
            r
            for r in reversed(self.funding_history.get(contract_id, []))
            if begin <= int(r["fundingTimestamp"]) < end and (r["isSettlement"] or not settled_only)
        ]
        page = rows[offset : offset + size]
        more = offset + size < len(rows)
        return {"dataList": page, "nextPageOffsetData": f"{offset + size:X}" if more else ""}

    def h_funding(self, _a: FakeAccount | None, params: JSON) -> Any:
        wanted = [x for x in str(params.get("contractId", "")).split(",") if x]
        return [
            {
                "contractId": c.contract_id,
                "fundingTime": str(self.next_funding_ms() - FUNDING_INTERVAL_MIN * 60_000),
                "fundingTimestamp": str(self.next_funding_ms()),
                "oraclePrice": text(self.oracle_price(c.contract_id)),
                "indexPrice": text(self.oracle_price(c.contract_id)),
                "fundingRate": text(c.funding_rate),
                "isSettlement": False,
                "forecastFundingRate": text(c.funding_rate),
                "previousFundingRate": text(c.funding_rate),
                "fundingRateIntervalMin": str(FUNDING_INTERVAL_MIN),
            }
            for c in self.contracts.values()
            if not wanted or c.contract_id in wanted
        ]

    # --- handlers: orders -------------------------------------------------------------------

    def verify_order_signature(
        self, account: FakeAccount, body: JSON, contract: FakeContract
    ) -> None:
        """Rebuild ``LimitOrderParams`` from the body and recover its signer."""
        try:
            size = Decimal(str(body["l2Size"]))
            value = Decimal(str(body["l2Value"]))
            fee = Decimal(str(body["l2LimitFee"]))
            fields: JSON = {
                "nonce": int(str(body["l2Nonce"])),
                "signer": account.trading_address,
                "accountId": int(account.account_id),
                "expirationTimestamp": int(str(body["expireTime"])) // 1000,
                "amountSynthetic": int(size * contract.resolution_value),
                "amountCollateral": int(value * COLLATERAL_RESOLUTION),
                "amountFee": int(fee * COLLATERAL_RESOLUTION),
                "assetIdSynthetic": int(contract.contract_id),
                "assetIdCollateral": int(COLLATERAL_COIN),
                "isBuyingSynthetic": body["side"] == "BUY",
            }
            signature = str(body["l2Signature"])
        except (KeyError, ArithmeticError, ValueError):
            raise ApiError(E_PARAM) from None
        signer = recover_address(order_digest(self._separator, fields), signature)
        if signer is None or signer != account.trading_address.lower():
            raise ApiError(E_L2_SIGNATURE)

    async def h_create(self, account: FakeAccount | None, body: JSON) -> JSON:
        assert account is not None
        contract = self._contract(body)
        side, order_type = body.get("side"), body.get("type")
        tif = str(body.get("timeInForce") or "GOOD_TIL_CANCEL")
        if side not in ("BUY", "SELL") or order_type not in ("LIMIT", "MARKET", "STOP_MARKET"):
            raise ApiError(E_PARAM)
        client_id = str(body.get("clientOrderId") or "")
        if not client_id:
            raise ApiError(E_PARAM)
        self.verify_order_signature(account, body, contract)
        if any(o.client_order_id == client_id for o in account.orders.values()):
            raise ApiError(E_DUPLICATE)
        nonce = str(body["l2Nonce"])
        if int(nonce) != int(hashlib.sha256(client_id.encode()).hexdigest()[:8], 16):
            raise ApiError(E_NONCE)
        if nonce in account.nonces:
            raise ApiError(E_NONCE_USED)
        if int(str(body.get("l2ExpireTime", "0"))) - L1_OFFSET_MS != int(str(body["expireTime"])):
            raise ApiError(E_PARAM)
        if int(str(body["expireTime"])) <= self.server_ms():
            raise ApiError(E_ORDER_EXPIRED)
        size = Decimal(str(body["size"]))
        value = Decimal(str(body["l2Value"]))
        if (
            Decimal(str(body["l2Size"])) != size
            or size <= 0
            or size % contract.step
            or size < contract.min_size
        ):
            raise ApiError(E_SIZE)
        rate = max(contract.taker_fee, contract.maker_fee)
        if Decimal(str(body["l2LimitFee"])) < (value * rate).to_integral_value(ROUND_CEILING):
            raise ApiError(E_FEE)
        price = Decimal(str(body.get("price") or "0"))
        worst = value / size
        if order_type == "LIMIT":
            if price <= 0 or price % contract.tick or worst != price:
                raise ApiError(E_PRICE)
        elif price != 0:
            raise ApiError(E_PRICE)
        trigger = Decimal(str(body.get("triggerPrice") or "0"))
        if order_type == "STOP_MARKET" and (trigger <= 0 or trigger % contract.tick):
            raise ApiError(E_PRICE)
        reduce_only = body.get("reduceOnly") is True
        position = account.position(contract.contract_id)
        bids, asks = self.book(contract.contract_id)
        opposite = asks if side == "BUY" else bids
        crosses = bool(opposite) and (
            order_type != "LIMIT"
            or (opposite[0][0] <= price if side == "BUY" else opposite[0][0] >= price)
        )
        if tif == "POST_ONLY" and crosses:
            raise ApiError(E_POST_ONLY)
        if reduce_only and order_type != "STOP_MARKET":
            reducing = (position.amount > 0 and side == "SELL") or (
                position.amount < 0 and side == "BUY"
            )
            if not reducing or size > abs(position.amount):
                raise ApiError(E_REDUCE_ONLY)
        elif not reduce_only:
            reference = price if order_type == "LIMIT" else (opposite[0][0] if opposite else ZERO)
            if size * reference / self.leverage_of(account, contract.contract_id) > self.available(
                account
            ):
                raise ApiError(E_MARGIN)
        account.nonces.add(nonce)
        order = FakeOrder(
            str(next(self._order_ids)),
            account.account_id,
            client_id,
            contract.contract_id,
            str(side),
            str(order_type),
            size,
            price,
            worst,
            tif,
            reduce_only,
            contract.taker_fee,
            contract.maker_fee,
            l2={
                k: str(body[k])
                for k in (
                    "l2Nonce",
                    "l2Value",
                    "l2Size",
                    "l2LimitFee",
                    "l2ExpireTime",
                    "expireTime",
                )
            },
        )
        account.orders[order.order_id] = order
        if order_type == "STOP_MARKET":
            order.status = "UNTRIGGERED"
            order.trigger_price = trigger
            order.triggers_above = trigger > self.oracle_price(contract.contract_id)
            await self._account_event(account, [order], [])
            return {"orderId": order.order_id}
        if self.matching_delay > 0:  # answered PENDING; the engine matches it a moment later
            task = asyncio.get_running_loop().create_task(self._match_later(account, order))
            self._matching.add(task)
            task.add_done_callback(self._matching.discard)
            return {"orderId": order.order_id}
        await self._accept(account, order)
        return {"orderId": order.order_id}

    async def _match_later(self, account: FakeAccount, order: FakeOrder) -> None:
        await asyncio.sleep(self.matching_delay)
        await self._accept(account, order)

    async def _accept(self, account: FakeAccount, order: FakeOrder) -> None:
        """The matching engine takes the order: it trades what the book allows, else rests."""
        order.status = "OPEN"
        bids, asks = self.book(order.contract_id)
        opposite = asks if order.side == "BUY" else bids
        crosses = bool(opposite) and (
            order.order_type != "LIMIT"
            or (
                opposite[0][0] <= order.price
                if order.side == "BUY"
                else opposite[0][0] >= order.price
            )
        )
        if crosses:
            await self._execute(account, order)
        else:
            await self._account_event(account, [order], [])

    def _orders_by(
        self, account: FakeAccount, key: str, values: Iterable[str], *, listed: bool = True
    ) -> list[FakeOrder]:
        wanted = set(values)
        return [
            o
            for o in (self._listed(account) if listed else account.orders.values())
            if (o.order_id if key == "id" else o.client_order_id) in wanted
        ]

    def _listed(self, account: FakeAccount) -> list[FakeOrder]:
        """The orders the read side shows (``listing_delay``)."""
        newest = now_ms() - int(self.listing_delay * 1000)
        return [o for o in account.orders.values() if o.created <= newest]

    async def _cancel_many(self, account: FakeAccount, key: str, values: list[str]) -> JSON:
        results: dict[str, str] = {}
        for value in values:
            found = self._orders_by(account, key, [value], listed=False)  # the write side
            if not found:
                results[value] = "ORDER_NOT_FOUND"
            elif not found[0].is_open:
                results[value] = "ORDER_FINISHED"
            else:
                await self._cancel(account, found[0], "USER_CANCELED")
                results[value] = "SUCCESS"
        return {"cancelResultMap": results}

    async def h_cancel_by_id(self, account: FakeAccount | None, body: JSON) -> JSON:
        assert account is not None
        return await self._cancel_many(
            account, "id", [str(x) for x in body.get("orderIdList") or []]
        )

    async def h_cancel_by_client(self, account: FakeAccount | None, body: JSON) -> JSON:
        assert account is not None
        ids = [str(x) for x in body.get("clientOrderIdList") or []]
        return await self._cancel_many(account, "client", ids)

    async def h_cancel_all(self, account: FakeAccount | None, body: JSON) -> JSON:
        assert account is not None
        contracts = {str(x) for x in body.get("filterContractIdList") or []}
        ids = [
            o.order_id
            for o in account.orders.values()
            if o.is_open and (not contracts or o.contract_id in contracts)
        ]
        return await self._cancel_many(account, "id", ids)

    def h_active(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        contracts = {x for x in str(params.get("filterContractIdList", "")).split(",") if x}
        rows = [
            o.wire()
            for o in self._listed(account)
            if o.is_open and (not contracts or o.contract_id in contracts)
        ]
        size = int(str(params.get("size", "100")))
        start = int(str(params.get("offsetData") or "0"))
        page = rows[start : start + size]
        more = start + size < len(rows)
        return {"dataList": page, "nextPageOffsetData": str(start + size) if more else ""}

    def h_by_id(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        ids = str(params.get("orderIdList", "")).split(",")
        return [o.wire() for o in self._orders_by(account, "id", ids)]

    def h_by_client(self, account: FakeAccount | None, params: JSON) -> Any:
        assert account is not None
        ids = str(params.get("clientOrderIdList", "")).split(",")
        return [o.wire() for o in self._orders_by(account, "client", ids)]

    def h_fills(self, account: FakeAccount | None, params: JSON) -> JSON:
        assert account is not None
        contracts = {x for x in str(params.get("filterContractIdList", "")).split(",") if x}
        since = int(str(params.get("filterStartCreatedTimeInclusive") or "0"))
        rows = [
            f.wire()
            for f in reversed(account.fills)
            if (not contracts or f.order.contract_id in contracts) and f.created >= since
        ]
        size = int(str(params.get("size", "100")))
        start = int(str(params.get("offsetData") or "0"))
        more = start + size < len(rows)
        return {
            "dataList": rows[start : start + size],
            "nextPageOffsetData": str(start + size) if more else "",
        }

    # --- handlers: account ------------------------------------------------------------------

    def _position_rows(self, account: FakeAccount) -> tuple[list[JSON], list[JSON]]:
        positions, computed = [], []
        for contract_id, p in account.positions.items():
            if p.amount == 0:
                continue
            oracle = self.oracle_price(contract_id)
            value = p.amount * oracle
            margin = abs(value) / self.leverage_of(account, contract_id)
            positions.append(
                {
                    "userId": "543429922866069763",
                    "accountId": account.account_id,
                    "coinId": COLLATERAL_COIN,
                    "contractId": contract_id,
                    "openSize": text(p.amount),
                    "openValue": text(p.cost if p.amount > 0 else -p.cost),
                    "openFee": "0",
                    "fundingFee": text(p.funding),
                }
            )
            computed.append(
                {
                    "contractId": contract_id,
                    "positionValue": text(value),
                    "oraclePrice": text(oracle),
                    "unrealizePnl": text(self.unrealized(account, contract_id)),
                    "initialMarginRequirement": text(margin),
                    "liquidatePrice": "0",
                    "avgEntryPrice": text(p.entry),
                }
            )
        return positions, computed

    def h_asset(self, account: FakeAccount | None, _p: JSON) -> JSON:
        assert account is not None
        positions, computed = self._position_rows(account)
        unrealized = sum((self.unrealized(account, c) for c in account.positions), ZERO)
        used = self.margin_used(account)
        return {
            "account": {"id": account.account_id, "ethAddress": account.trading_address},
            "collateralList": [
                {
                    "accountId": account.account_id,
                    "coinId": COLLATERAL_COIN,
                    "amount": text(account.cash),
                }
            ],
            "positionList": positions,
            "collateralAssetModelList": [
                {
                    "coinId": COLLATERAL_COIN,
                    "totalEquity": text(account.cash + unrealized),
                    "totalPositionValueAbs": text(
                        sum((abs(Decimal(r["positionValue"])) for r in computed), ZERO)
                    ),
                    "initialMarginRequirement": text(used),
                    "availableAmount": text(account.cash + unrealized - used),
                }
            ],
            "positionAssetList": computed,
        }

    def h_account(self, account: FakeAccount | None, _p: JSON) -> JSON:
        assert account is not None
        return {
            "id": account.account_id,
            "ethAddress": account.trading_address,
            "defaultTradeSetting": {"isSetMaxLeverage": False, "maxLeverage": "10"},
            "contractIdToTradeSetting": {
                contract_id: {"isSetMaxLeverage": True, "maxLeverage": text(leverage)}
                for contract_id, leverage in account.leverage.items()
            },
        }

    def h_leverage(self, account: FakeAccount | None, body: JSON) -> JSON:
        assert account is not None
        contract = self._contract(body)
        try:
            leverage = Decimal(str(body.get("leverage")))
        except ArithmeticError:
            raise ApiError(E_LEVERAGE) from None
        if leverage != leverage.to_integral_value() or not 1 <= leverage <= contract.max_leverage:
            raise ApiError(E_LEVERAGE)
        account.leverage[contract.contract_id] = leverage
        return {}

    # --- private events ---------------------------------------------------------------------

    def _trade_event(
        self, account: FakeAccount, event: str, orders: list[FakeOrder], fills: list[FakeFill]
    ) -> JSON:
        positions, _ = self._position_rows(account)
        return {
            "type": "trade-event",
            "content": {
                "event": event,
                "version": str(now_ms()),
                "data": {
                    "account": [],
                    "collateral": [
                        {
                            "accountId": account.account_id,
                            "coinId": COLLATERAL_COIN,
                            "amount": text(account.cash),
                        }
                    ],
                    "position": positions,
                    "order": [o.wire() for o in orders],
                    "orderFillTransaction": [f.wire() for f in fills],
                },
            },
        }

    async def _account_event(
        self, account: FakeAccount, orders: list[FakeOrder], fills: list[FakeFill]
    ) -> None:
        message = self._trade_event(account, "ORDER_UPDATE", orders, fills)
        times = 2 if self.duplicate_user_events else 1
        for conn in list(self._connections):
            if conn.account is account:
                for _ in range(times):
                    await self._send(conn, message)

    # --- WebSockets -------------------------------------------------------------------------

    async def _public_ws(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.refuse_ws_until:
            return web.Response(status=503, text="unavailable")
        stamp = request.query.get("timestamp", "")
        if not stamp.isdigit():
            return _json(_envelope(None, "INVALID_PARAMETER", "timestamp required"), 400)
        self.ws_timestamps.append(int(stamp))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.append(conn)
        await self._send(conn, {"type": "connected", "sid": str(id(conn))})
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._public_request(conn, message.data)
        finally:
            if conn in self._connections:
                self._connections.remove(conn)
        return ws

    async def _public_request(self, conn: _Connection, data: str) -> None:
        try:
            request = loads(data)
            kind = request["type"]
        except (ValueError, KeyError, TypeError):
            await self._send(
                conn, {"type": "error", "content": {"code": "INVALID", "msg": "bad message"}}
            )
            return
        if kind == "pong":
            conn.pongs += 1
            return
        if kind == "ping":
            await self._send(conn, {"type": "pong", "time": request.get("time", "")})
            return
        channel = str(request.get("channel", ""))
        if kind == "unsubscribe":
            conn.channels.discard(channel)
            return
        if kind != "subscribe" or not channel.startswith("depth."):
            await self._send(
                conn,
                {
                    "type": "error",
                    "content": {"code": "INVALID", "msg": f"unknown {kind} {channel}"},
                },
            )
            return
        contract_id = channel.split(".")[1]
        if contract_id not in self.contracts:
            await self._send(
                conn, {"type": "error", "content": {"code": "INVALID", "msg": "unknown contract"}}
            )
            return
        conn.channels.add(channel)
        await self._send(conn, {"type": "subscribed", "channel": channel})
        bids, asks = self.book(contract_id)
        version = self.versions.get(contract_id, 0)
        item = self._depth_item(contract_id, "SNAPSHOT", bids[:15], asks[:15], version, version)
        await self._send(conn, _quote_event(channel, "Snapshot", item))

    async def _private_ws(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.refuse_ws_until:
            return web.Response(status=503, text="unavailable")
        account_id = request.query.get("accountId", "")
        stamp = request.query.get("timestamp", "")
        try:
            account = self._check_headers(
                request.headers, "GET", request.path, f"accountId={account_id}&timestamp={stamp}"
            )
        except ApiError as exc:
            self.rejections.append(exc.code)
            return _json(_envelope(None, exc.code, exc.message), 401)
        if account.account_id != account_id or stamp != request.headers.get("X-edgeX-Timestamp"):
            return _json(_envelope(None, *E_ACCOUNT[1:]), 401)
        self.ws_timestamps.append(int(stamp))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = _Connection(ws, account=account)
        self._connections.append(conn)
        await self._send(conn, {"type": "connected", "sid": str(id(conn))})
        open_orders = [o for o in account.orders.values() if o.is_open]
        await self._send(conn, self._trade_event(account, "Snapshot", open_orders, []))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    with contextlib.suppress(ValueError, TypeError, AttributeError):
                        parsed = loads(message.data)
                        if parsed.get("type") == "pong":
                            conn.pongs += 1
                        elif parsed.get("type") == "ping":
                            await self._send(conn, {"type": "pong", "time": parsed.get("time", "")})
        finally:
            if conn in self._connections:
                self._connections.remove(conn)
        return ws

    async def ping_all(self) -> None:
        """Send the server's ``ping`` on every connection (clients answer ``pong``)."""
        for conn in list(self._connections):
            await self._send(conn, {"type": "ping", "time": str(now_ms())})

    async def _send(self, conn: _Connection, payload: JSON) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not conn.ws.closed:
                await conn.ws.send_str(dumps(payload))


def _quote_event(channel: str, data_type: str, item: JSON) -> JSON:
    return {
        "type": "quote-event",
        "channel": channel,
        "content": {"dataType": data_type, "channel": channel, "data": [item]},
    }


def _envelope(data: Any, code: str = "SUCCESS", msg: str | None = None) -> JSON:
    stamp = str(now_ms())
    return {
        "code": code,
        "data": data,
        "msg": msg,
        "errorParam": None,
        "requestTime": stamp,
        "responseTime": stamp,
        "traceId": hashlib.sha256(stamp.encode()).hexdigest()[:32],
    }


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(payload), status=status, content_type="application/json")


def _failure_response(status: int) -> web.Response:
    code = "TOO_MANY_REQUESTS" if status == 429 else "SERVER_ERROR"
    return _json(
        _envelope(None, code, "rate limited" if status == 429 else "internal error"), status
    )


def _diff(
    old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]
) -> list[tuple[Decimal, Decimal]]:
    changes = [(p, q) for p, q in new.items() if old.get(p) != q]
    changes += [(p, ZERO) for p in old if p not in new]
    return sorted(changes)
