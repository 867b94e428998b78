"""The Lighter (zkLighter) perpetuals client: our async REST/WS code, the SDK's native signer.

Identity: ``account_index`` and ``api_key_index`` (public) and ``api_key_private_key`` (secret)
from core/venues.py. The key is handed to the native signer once (``CreateClient``)
and otherwise only used to sign, never logged or echoed (a malformed key fails at construction,
a key the venue does not know fails at connect, both with :class:`AuthenticationFailed`).

Writes are signed transactions posted to ``/api/v1/sendTx`` (``sendTxBatch`` for cancel-all),
each with the API key's next nonce from :class:`~.nonces.NonceManager` (lock around "take
next", synced from ``nextNonce`` at connect and after a nonce error; a transaction refused with
"invalid nonce" was not accepted, so it is re-signed with a fresh nonce and sent once more).
``sendTx`` answering 200 only means "queued": the order's outcome is read back by its
``client_order_index`` (from the ``account_all_orders`` stream or REST), so :meth:`place_order`
returns the venue's state: open, filled, or an error for a post-only/reduce-only cancel.

Reads: public ``orderBookDetails`` (markets, integer scaling), ``orderBookOrders``, ``account``
and ``nextNonce``; private ``accountActiveOrders``, ``accountInactiveOrders`` and ``trades``
with an auth token renewed before expiry (:mod:`.auth`). Streams: ``order_book/{id}`` kept in
an :class:`OrderBook` (snapshot then deltas chained by nonce, see :meth:`_on_book`),
``market_stats/all`` (funding), ``account_all/{account}`` (fills) and
``account_all_orders/{account}`` (order states), published once each by the native base
(:mod:`exchange_clients.native.base`). After a reconnect, recent fills are polled over REST
and the orders of every traded market re-read.

Economics: :meth:`fees` is the published schedule of the account's type (``account_type`` of
``/api/v1/account``: standard free, premium 0.0040 % / 0.0280 % before staking discounts;
source ``published``, as no endpoint reports an account's own rate); :meth:`market_stats`
reads ``daily_quote_token_volume`` and ``open_interest`` (base asset, valued at the mark) from
``orderBookDetails``. Stops: ``OrderType.STOP_MARKET`` is a reduce-only stop-loss order
(``Type`` 2) built as the SDK's ``create_sl_order`` builds it; it rests ``pending`` until the
mark reaches the trigger, and reads back as ``STOP_MARKET`` with its ``trigger_price``.

Options: ``base_url``, ``ws_url``, ``chain_id`` (304 mainnet / 300 testnet), ``timeout`` (10 s),
``retries`` (3), ``market_slippage`` (0.05: worst price of a market order vs the touch, and of
a stop's market order vs its trigger price),
``auth_token_ttl`` (3600 s, <= 8 h), ``auth_token_renew_before`` (300 s),
``rate_limit_per_minute`` (240), ``order_ack_timeout`` (10 s: how long to wait for a queued
transaction to show up), ``ws_ping_interval`` (30 s), ``markets_ttl`` (300 s).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    RequestTimeout,
    VenueUnavailable,
)
from core.logging_setup import get_logger
from exchange_clients.factory import register_client
from exchange_clients.lighter import wire
from exchange_clients.lighter.auth import AuthTokens
from exchange_clients.lighter.funding_adapter import funding_rate
from exchange_clients.lighter.ids import ClientIdMap
from exchange_clients.lighter.rest import LighterRest, Signer
from exchange_clients.lighter.signing import LighterSigner, SignedTx
from exchange_clients.lighter.websocket import LighterStream, channel_key
from exchange_clients.lighter.wire import VENUE, LighterMarket
from exchange_clients.native.streaming import StreamingVenueClient
from exchange_clients.native.wire import now_ms, to_decimal
from exchange_clients.order_book import OrderBook, OrderBookError
from exchange_clients.rounding import round_to_step
from exchange_clients.types import (
    ZERO,
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
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from networking.http import RestTransport

log = get_logger(__name__)

INACTIVE_PAGES = 5  # accountInactiveOrders pages searched for one order (100 orders each)
TRADES_LIMIT = 100


def _int_setting(settings: ClientSettings, name: str) -> int:
    raw = settings.public.get(name)
    if raw is None and name in settings.secrets:
        raw = settings.secrets[name].reveal()
    try:
        return int(str(raw))
    except ValueError:
        raise AuthenticationFailed(f"{name} must be an integer, not {raw!r}", venue=VENUE) from None


@register_client("lighter")
class LighterClient(StreamingVenueClient[LighterMarket, int, LighterStream]):
    """One Lighter account (one API key) on mainnet or testnet."""

    venue = "lighter"
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        options = settings.options
        super().__init__(settings, markets_ttl=float(str(options.get("markets_ttl", 300))))
        testnet = settings.testnet
        self._base_url = self._endpoint("base_url", wire.MAINNET_URL, wire.TESTNET_URL)
        self._ws_url = self._endpoint("ws_url", wire.MAINNET_WS_URL, wire.TESTNET_WS_URL)
        key = settings.secrets.get("api_key_private_key")
        if key is None:
            raise AuthenticationFailed("no api_key_private_key configured", venue=VENUE)
        for name in ("account_index", "api_key_index"):
            if name not in settings.public and name not in settings.secrets:
                raise AuthenticationFailed(f"no {name} configured", venue=VENUE)
        self.account_index = _int_setting(settings, "account_index")
        self.api_key_index = _int_setting(settings, "api_key_index")
        if not 0 <= self.api_key_index <= 254:
            raise AuthenticationFailed(
                f"api_key_index must be 0..254, not {self.api_key_index}", venue=VENUE
            )
        chain_id = int(
            str(
                options.get("chain_id")
                or (wire.TESTNET_CHAIN_ID if testnet else wire.MAINNET_CHAIN_ID)
            )
        )
        self.signer = LighterSigner(
            key,
            account_index=self.account_index,
            api_key_index=self.api_key_index,
            chain_id=chain_id,
        )
        self.auth = AuthTokens(
            self.signer,
            ttl=float(str(options.get("auth_token_ttl", 3600))),
            renew_before=float(str(options.get("auth_token_renew_before", 300))),
        )
        self._slippage = Decimal(str(options.get("market_slippage", "0.05")))
        self._ack_timeout = float(str(options.get("order_ack_timeout", 10)))
        self._rest = LighterRest(
            self._rest_transport(self._base_url, self._per_minute_limit(240)),
            self.auth,
            account_index=self.account_index,
            api_key_index=self.api_key_index,
        )
        self.nonces = self._rest.nonces
        self._ids = ClientIdMap()
        self._stats: dict[int, dict[str, Any]] = {}
        self._stats_seen = asyncio.Event()
        self._orders: dict[int, dict[str, Any]] = {}  # order_index -> latest raw order
        self._order_by_client: dict[int, int] = {}  # client_order_index -> order_index
        self._traded_markets: set[int] = set()
        self._leverage: dict[str, Decimal] = {}
        self._since_ms = 0
        self.last_trade: dict[str, Decimal] = {}
        self._log = log.bind(venue=VENUE, account=self.account_index, api_key=self.api_key_index)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def transport(self) -> RestTransport:
        return self._rest.transport

    async def _start(self) -> None:
        await self._market_cache.reload()
        await self.nonces.sync()
        await self._check_credentials()
        self._since_ms = now_ms()
        stream = LighterStream(
            self._ws_url,
            on_message=self._on_message,
            on_resync=self._on_resync,
            on_disconnect=self._on_disconnect,
            token=self.auth.token,
            proxy_url=self.settings.proxy_url,
            ping_interval=self._ws_ping_interval(),
        )
        await stream.start(
            {
                "market_stats/all": False,
                f"account_all/{self.account_index}": True,
                f"account_all_orders/{self.account_index}": True,
            }
        )
        self._stream = stream

    async def _check_credentials(self) -> None:
        """An authenticated read: the venue checks the token against the registered key."""
        market = next(iter(self._market_cache.records()), None)
        params = {
            "account_index": self.account_index,
            "market_id": market.market_id if market else 0,
        }
        try:
            await self._rest.get("/api/v1/accountActiveOrders", params, private=True)
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(
                f"the venue refused API key {self.api_key_index} of account "
                f"{self.account_index} ({exc}); check api_key_private_key, api_key_index, "
                "account_index and the network (mainnet/testnet)",
                venue=VENUE,
            ) from None

    # --- markets ---------------------------------------------------------------------------

    async def _fetch_markets(self) -> list[LighterMarket]:
        return list(wire.parse_markets(await self._rest.get("/api/v1/orderBookDetails", {})))

    def _market_view(self, record: LighterMarket) -> Market:
        return record.market

    def _market_key(self, record: LighterMarket) -> Hashable:
        return record.market_id

    # --- market data -----------------------------------------------------------------------

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self._record(symbol)
        if self._stream is not None:
            await self._stream.subscribe(f"order_book/{market.market_id}")
        book = self._live_book(market.market_id)
        if book is not None:
            bids, asks = book.depth(depth)
            return BookSnapshot(symbol, tuple(bids), tuple(asks), datetime.now(UTC), book.sequence)
        data = await self._rest.get(
            "/api/v1/orderBookOrders", {"market_id": market.market_id, "limit": min(depth, 250)}
        )
        bids = wire.aggregate_levels(data.get("bids") or [], descending=True)
        asks = wire.aggregate_levels(data.get("asks") or [], descending=False)
        return BookSnapshot(symbol, tuple(bids[:depth]), tuple(asks[:depth]), datetime.now(UTC))

    def book(self, symbol: str) -> OrderBook | None:
        """The live book of ``symbol`` if subscribed (tests and strategies that read it)."""
        market = self._market_cache.cached(symbol)
        return self._books.get(market.market_id) if market else None

    async def subscribe_trades(self, symbol: str) -> None:
        """Follow public trades of ``symbol`` (last price in :attr:`last_trade`)."""
        market = await self._record(symbol)
        await self.stream.subscribe(f"trade/{market.market_id}")

    async def funding_rate(self, symbol: str) -> FundingRate:
        return (await self._funding({symbol}))[symbol]

    async def funding_rates(self) -> dict[str, FundingRate]:
        return await self._funding(None)

    async def _funding(self, symbols: set[str] | None) -> dict[str, FundingRate]:
        for symbol in symbols or ():
            await self._record(symbol)
        if not self._stats_seen.is_set():
            try:
                await asyncio.wait_for(self._stats_seen.wait(), self._ack_timeout)
            except TimeoutError:
                raise VenueUnavailable("no market_stats received yet", venue=VENUE) from None
        now = datetime.now(UTC)
        rates: dict[str, FundingRate] = {}
        for market_id, stats in self._stats.items():
            market = self._record_of(market_id)
            if market is None or (symbols is not None and market.symbol not in symbols):
                continue
            rates[market.symbol] = funding_rate(market.symbol, stats, venue=self.name, now=now)
        for symbol in symbols or ():
            if symbol not in rates:
                raise VenueUnavailable(f"no market_stats for {symbol} yet", venue=VENUE)
        return rates

    async def fees(self, symbol: str) -> FeeSchedule:
        """The published schedule of this account's type (standard or premium): Lighter has
        no endpoint for an account's own rate (premium LIT-staking discounts are not reported,
        so a staked premium account pays at most this)."""
        await self._record(symbol)
        return wire.fees_for_account_type((await self._account()).get("account_type"))

    async def market_stats(self) -> dict[str, MarketStats]:
        """24 h quote volume and open interest (valued at the mark) of every market, from one
        ``orderBookDetails`` call."""
        data = await self._rest.get("/api/v1/orderBookDetails", {})
        return wire.parse_market_stats(data, {m.market_id: m for m in wire.parse_markets(data)})

    # --- trading ---------------------------------------------------------------------------

    async def _worst_price(self, market: LighterMarket, side: Side) -> Decimal:
        """A market order's limit: the touch moved ``market_slippage`` against us, on the grid."""
        book = await self.order_book(market.symbol, depth=1)
        touch = book.best_ask if side == "buy" else book.best_bid
        if touch is None:
            raise VenueUnavailable(f"{market.symbol}: no liquidity for a market order", venue=VENUE)
        return self._slipped(market, side, touch)

    def _slipped(self, market: LighterMarket, side: Side, reference: Decimal) -> Decimal:
        """``reference`` moved ``market_slippage`` against a ``side`` order, on the tick grid."""
        tick = market.market.tick_size
        if side == "buy":
            return round_to_step(reference * (1 + self._slippage), tick, ROUND_CEILING)
        return round_to_step(reference * (1 - self._slippage), tick, ROUND_FLOOR)

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self._record(request.symbol)
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        index = self._ids.index(client_id)
        base_amount = market.base_amount(request.size)
        is_market = request.order_type is OrderType.MARKET
        is_stop = request.order_type is OrderType.STOP_MARKET
        trigger_price = wire.NIL_TRIGGER_PRICE
        if is_stop:
            # As the SDK's create_sl_order: type stop-loss, IOC, the default 28-day expiry, the
            # trigger price, and a price that caps the market order it becomes (here the
            # trigger moved market_slippage against us).
            assert request.trigger_price is not None
            trigger_price = market.price_int(request.trigger_price)
            price = market.price_int(self._slipped(market, request.side, request.trigger_price))
            order_type, tif = wire.ORDER_TYPE_STOP_LOSS, wire.TIF_IOC
            expiry = wire.EXPIRY_DEFAULT_28_DAYS
        elif is_market:
            price = market.price_int(await self._worst_price(market, request.side))
            order_type, tif, expiry = wire.ORDER_TYPE_MARKET, wire.TIF_IOC, wire.EXPIRY_IOC
        else:
            assert request.price is not None
            price = market.price_int(request.price)
            order_type = wire.ORDER_TYPE_LIMIT
            if request.time_in_force is TimeInForce.IOC:
                tif, expiry = wire.TIF_IOC, wire.EXPIRY_IOC
            else:
                tif = wire.TIF_POST_ONLY if request.post_only else wire.TIF_GTT
                expiry = wire.EXPIRY_DEFAULT_28_DAYS
        if price <= 0 or price >= 2**32:
            raise InvalidOrder(f"{request.symbol}: price out of the venue's range", venue=VENUE)

        async def sign(nonce: int) -> SignedTx:
            return await self.signer.sign_create_order(
                market_index=market.market_id,
                client_order_index=index,
                base_amount=base_amount,
                price=price,
                is_ask=request.side == "sell",
                order_type=order_type,
                time_in_force=tif,
                reduce_only=request.reduce_only,
                order_expiry=expiry,
                nonce=nonce,
                trigger_price=trigger_price,
            )

        self._claim_id(client_id)
        self._traded_markets.add(market.market_id)
        try:
            await self._rest.send_tx(sign, context=f"order {client_id}")
        except RequestTimeout:
            raise  # maybe placed: the id stays taken, resolve it by client order id
        except BaseException:
            self._release_id(client_id)  # refused outright: no order exists
            raise
        raw = await self._await_order(
            market,
            lambda: self._find_by_client(market, index),
            final=not is_stop and (is_market or tif == wire.TIF_IOC),
            what=f"order {client_id}",
            cached=lambda: self._orders.get(self._order_by_client.get(index, -1)),
        )
        reason = wire.cancel_reason(raw)
        unfilled = to_decimal(raw.get("filled_base_amount") or "0") == 0
        if reason in wire.REJECTION_REASONS and unfilled:
            raise wire.rejection_for(str(reason), f"order {client_id}")
        return self._order(raw, market)

    async def _await_order(
        self,
        market: LighterMarket,
        find: Callable[[], Awaitable[dict[str, Any] | None]],
        *,
        final: bool,
        what: str,
        cached: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> dict[str, Any]:
        """Wait until a queued transaction shows in the order's state: the stream's copy
        (``cached``) when it already tells, else REST (``find``), polling with backoff."""
        deadline = time.monotonic() + self._ack_timeout
        delay = 0.02

        def done(raw: dict[str, Any] | None) -> bool:
            return raw is not None and (not final or wire.order_status(raw).is_final)

        while True:
            raw = cached()
            if not done(raw):
                raw = await find()
            if raw is not None and done(raw):
                return raw
            if time.monotonic() >= deadline:
                raise RequestTimeout(
                    f"{what}: accepted by the venue but not executed within "
                    f"{self._ack_timeout:g} s; resolve it by client order id",
                    venue=VENUE,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _find_by_client(self, market: LighterMarket, index: int) -> dict[str, Any] | None:
        order_index = self._order_by_client.get(index)
        cached = self._orders.get(order_index) if order_index is not None else None
        if cached is not None and wire.order_status(cached).is_final:
            return cached
        return await self._lookup(market, lambda raw: int(raw["client_order_index"]) == index)

    async def _find_by_index(
        self, market: LighterMarket, order_index: int
    ) -> dict[str, Any] | None:
        cached = self._orders.get(order_index)
        if cached is not None and wire.order_status(cached).is_final:
            return cached
        return await self._lookup(market, lambda raw: int(raw["order_index"]) == order_index)

    async def _lookup(
        self, market: LighterMarket, match: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """The order matching ``match``: active orders first, then recent inactive ones."""
        params: dict[str, Any] = {
            "account_index": self.account_index,
            "market_id": market.market_id,
        }
        active = await self._rest.get("/api/v1/accountActiveOrders", params, private=True)
        for raw in active.get("orders") or []:
            if match(raw):
                return self._remember(raw)
        cursor: str | None = None
        for _ in range(INACTIVE_PAGES):
            page = dict(params, limit=100, **({"cursor": cursor} if cursor else {}))
            inactive = await self._rest.get("/api/v1/accountInactiveOrders", page, private=True)
            for raw in inactive.get("orders") or []:
                if match(raw):
                    return self._remember(raw)
            cursor = inactive.get("next_cursor")
            if not cursor:
                break
        return None

    def _remember(self, raw: dict[str, Any]) -> dict[str, Any]:
        order_index = int(raw["order_index"])
        self._orders[order_index] = raw
        self._order_by_client[int(raw["client_order_index"])] = order_index
        return raw

    def _order(self, raw: dict[str, Any], market: LighterMarket) -> Order:
        index = int(raw.get("client_order_index") or 0)
        client_id = self._ids.client_id(index) or str(raw.get("client_order_id") or index)
        filled = to_decimal(raw.get("filled_base_amount") or "0")
        quote = to_decimal(raw.get("filled_quote_amount") or "0")
        order_type = wire.ORDER_TYPES.get(str(raw.get("type", "limit")), OrderType.LIMIT)
        is_market = order_type is not OrderType.LIMIT
        trigger = to_decimal(raw.get("trigger_price") or "0")
        tif = str(raw.get("time_in_force", ""))
        order_index = int(raw["order_index"])
        return Order(
            client_order_id=client_id,
            venue_order_id=str(order_index),
            symbol=market.symbol,
            side="sell" if raw.get("is_ask") else "buy",
            order_type=order_type,
            size=to_decimal(raw["initial_base_amount"]),
            price=None if is_market else to_decimal(raw["price"]),
            status=wire.order_status(raw),
            filled_size=filled,
            avg_fill_price=quote / filled if filled > 0 else None,
            fee_paid=self._ledger.fees(str(order_index)),
            post_only=tif == "post-only",
            reduce_only=bool(raw.get("reduce_only")),
            time_in_force=(
                TimeInForce.IOC if tif == "immediate-or-cancel" or is_market else TimeInForce.GTC
            ),
            reject_reason=wire.cancel_reason(raw),
            updated_at=datetime.now(UTC),
            trigger_price=(
                trigger if order_type is OrderType.STOP_MARKET and trigger > 0 else None
            ),
        )

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        market = await self._record(symbol)
        try:
            order_index = int(venue_order_id)
        except ValueError:
            raise OrderNotFound(f"{symbol}: no order {venue_order_id!r}", venue=VENUE) from None
        raw = await self._find_by_index(market, order_index)
        if raw is None:
            raise OrderNotFound(f"{symbol}: no order {venue_order_id}", venue=VENUE)
        if wire.order_status(raw).is_final:
            return self._order(raw, market)

        async def sign(nonce: int) -> SignedTx:
            return await self.signer.sign_cancel_order(
                market_index=market.market_id, order_index=order_index, nonce=nonce
            )

        await self._rest.send_tx(sign, context=f"cancel {venue_order_id}")
        final = await self._await_order(
            market,
            lambda: self._find_by_index(market, order_index),
            final=True,
            what=f"cancel {venue_order_id}",
            cached=lambda: self._orders.get(order_index),
        )
        return self._order(final, market)

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        market = await self._record(symbol)
        raw = await self._find_by_client(market, self._ids.index(client_order_id))
        if raw is None:
            raise OrderNotFound(f"{symbol}: no order {client_order_id!r}", venue=VENUE)
        return await self.cancel_order(symbol, str(raw["order_index"]))

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """Every resting order cancelled in one ``sendTxBatch``."""
        orders = [o for o in await self.open_orders(symbol) if o.venue_order_id is not None]
        if not orders:
            return []
        markets = {o.symbol: await self._record(o.symbol) for o in orders}

        def signer_for(order: Order) -> Signer:
            market_id, order_index = markets[order.symbol].market_id, int(str(order.venue_order_id))

            async def sign(nonce: int) -> SignedTx:
                return await self.signer.sign_cancel_order(
                    market_index=market_id, order_index=order_index, nonce=nonce
                )

            return sign

        await self._rest.send_batch([signer_for(o) for o in orders], context="cancel all")
        results = []
        for order in orders:
            market = markets[order.symbol]
            index = int(str(order.venue_order_id))
            raw = await self._await_order(
                market,
                functools.partial(self._find_by_index, market, index),
                final=True,
                what=f"cancel {index}",
            )
            results.append(self._order(raw, market))
        return results

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is not None:
            markets = [await self._record(symbol)]
        else:
            account = await self._account()
            ids = {
                int(p["market_id"])
                for p in account.get("positions") or []
                # resting orders, or stops waiting for their trigger
                if int(p.get("open_order_count") or 0) + int(p.get("pending_order_count") or 0) > 0
            }
            known = (self._record_of(i) for i in sorted(ids))
            markets = [market for market in known if market is not None]
        orders: list[Order] = []
        for market in markets:
            data = await self._rest.get(
                "/api/v1/accountActiveOrders",
                {"account_index": self.account_index, "market_id": market.market_id},
                private=True,
            )
            orders.extend(
                self._order(self._remember(raw), market) for raw in data.get("orders") or []
            )
        return orders

    async def _order_status(
        self, market: LighterMarket, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        symbol = market.market.symbol
        raw: dict[str, Any] | None = None
        if venue_order_id is not None:
            try:
                raw = await self._find_by_index(market, int(venue_order_id))
            except ValueError:
                raw = None
        elif client_order_id is not None:
            raw = await self._find_by_client(market, self._ids.index(client_order_id))
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        if raw is None:
            raise OrderNotFound(
                f"{symbol}: no order {venue_order_id or client_order_id!r}", venue=VENUE
            )
        return self._order(raw, market)

    # --- account ---------------------------------------------------------------------------

    async def _account(self) -> dict[str, Any]:
        data = await self._rest.get("/api/v1/account", {"by": "index", "value": self.account_index})
        accounts = data.get("accounts") or []
        if not accounts:
            raise AuthenticationFailed(f"no account {self.account_index} on the venue", venue=VENUE)
        account: dict[str, Any] = accounts[0]
        return account

    async def positions(self) -> list[Position]:
        account = await self._account()
        positions = []
        for raw in account.get("positions") or []:
            market = self._record_of(int(raw["market_id"]))
            if market is None:
                continue
            position = wire.parse_position(raw, market)
            if position is not None:
                positions.append(position)
        return positions

    async def balance(self) -> Balance:
        account = await self._account()
        wallet = to_decimal(account.get("collateral") or "0")
        unrealized = sum(
            (to_decimal(p.get("unrealized_pnl") or "0") for p in account.get("positions") or []),
            ZERO,
        )
        available = to_decimal(account.get("available_balance") or "0")
        return Balance.from_available(wallet, unrealized, available)

    async def get_leverage(self, symbol: str) -> Decimal:
        market = await self._record(symbol)
        account = await self._account()
        raw = next(
            (p for p in account.get("positions") or [] if int(p["market_id"]) == market.market_id),
            None,
        )
        if raw is None or not raw.get("initial_margin_fraction"):
            fraction = market.default_initial_margin_fraction
        else:  # a percentage string ("33.33") -> units of 0.01 %
            fraction = int(to_decimal(raw["initial_margin_fraction"]) * 100)
        chosen = self._leverage.get(symbol)
        if chosen is not None and wire.leverage_to_margin_fraction(chosen) == fraction:
            return chosen  # 10_000 / 3333 is 3.0003: report the leverage that was set
        return (wire.MARGIN_FRACTION_ONE / fraction).quantize(Decimal("0.01"))

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        market = await self._record(symbol)
        if not 1 <= leverage <= market.market.max_leverage:
            raise InvalidOrder(
                f"{symbol}: leverage {leverage} outside 1..{market.market.max_leverage}",
                venue=VENUE,
            )
        fraction = wire.leverage_to_margin_fraction(leverage)

        async def sign(nonce: int) -> SignedTx:
            return await self.signer.sign_update_leverage(
                market_index=market.market_id, initial_margin_fraction=fraction, nonce=nonce
            )

        await self._rest.send_tx(sign, context=f"leverage {symbol}")
        self._leverage[symbol] = leverage
        return leverage

    # --- streams ---------------------------------------------------------------------------

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = str(message.get("type", ""))
        channel = channel_key(str(message.get("channel", "")))
        try:
            if kind.endswith("/order_book"):
                await self._on_book(kind, channel, message)
            elif kind.endswith("/market_stats"):
                self._on_stats(message.get("market_stats") or {})
            elif kind.endswith("/account_all_orders"):
                await self._on_orders(message.get("orders") or {})
            elif kind.endswith("/account_all"):
                self._on_trades(message.get("trades") or {})
            elif kind.endswith("/trade"):
                self._on_public_trades(message.get("trades") or [])
            elif kind == "error" or "error" in message:
                text = str(message.get("error", message))[:200]
                if "auth" in text.lower():
                    self.auth.invalidate()  # the next (re)subscription gets a fresh token
                self._log.warning("lighter_ws_error", error=text)
        except (KeyError, ValueError, TypeError) as exc:
            self._log.warning("lighter_ws_bad_message", kind=kind, error=str(exc))

    async def _on_book(self, kind: str, channel: str, message: dict[str, Any]) -> None:
        """Snapshot on subscribe, then deltas. Chaining rule: each update's ``begin_nonce``
        equals the ``nonce`` of the message before it on the channel (the snapshot's for the
        first); anything else means a lost update, so the book is invalidated and the channel
        resubscribed for a fresh snapshot."""
        market_id = int(channel.rsplit("/", 1)[1])
        payload = message["order_book"]
        market = self._record_of(market_id)
        if market is None:
            return
        book = self._books.setdefault(market_id, OrderBook(market.symbol))
        bids = [[level["price"], level["size"]] for level in payload.get("bids") or []]
        asks = [[level["price"], level["size"]] for level in payload.get("asks") or []]
        nonce = int(payload["nonce"])
        if kind.startswith("subscribed"):
            book.apply_wire_snapshot(bids, asks, sequence=nonce)
            self._live_books.add(market_id)
            return
        if book.needs_resync or book.sequence is None or market_id not in self._live_books:
            return  # waiting for the snapshot of a resubscription
        begin = int(payload.get("begin_nonce", book.sequence))
        if begin != book.sequence:
            book.invalidate(f"nonce chain broken: expected {book.sequence}, got {begin}")
            self._live_books.discard(market_id)
            self._log.warning(
                "lighter_book_gap", market=market_id, expected=book.sequence, got=begin
            )
            await self.stream.resubscribe(f"order_book/{market_id}")
            return
        try:
            book.apply_wire_update(bids, asks, last_sequence=nonce)
        except OrderBookError as exc:
            self._live_books.discard(market_id)
            self._log.warning("lighter_book_invalid", market=market_id, error=str(exc))
            await self.stream.resubscribe(f"order_book/{market_id}")

    def _on_stats(self, stats: dict[str, Any]) -> None:
        entries = [stats] if "market_id" in stats else list(stats.values())
        for entry in entries:
            if isinstance(entry, dict) and "market_id" in entry:
                self._stats[int(entry["market_id"])] = entry
        if self._stats:
            self._stats_seen.set()

    async def _on_orders(self, by_market: dict[str, Any]) -> None:
        for market_id, orders in by_market.items():
            market = self._record_of(int(market_id))
            if market is None:
                continue
            for raw in orders:
                self._remember(raw)
                self._publish_order_once(self._order(raw, market))

    def _on_trades(self, by_market: dict[str, Any]) -> None:
        trades = [t for ts in by_market.values() for t in ts]
        self._publish_trades(trades)

    def _publish_trades(self, trades: list[dict[str, Any]]) -> None:
        """Our fills, oldest first, each trade id once; trades before connect() are history."""
        for raw in sorted(trades, key=lambda t: (int(t["timestamp"]), int(t["trade_id"]))):
            market = self._record_of(int(raw["market_id"]))
            if market is None or int(raw["timestamp"]) < self._since_ms:
                continue
            if self.account_index not in (int(raw["bid_account_id"]), int(raw["ask_account_id"])):
                continue
            fill: Fill = wire.parse_fill(
                raw,
                account_index=self.account_index,
                market=market,
                client_id_of=self._ids.by_index,
            )
            self._publish_fill_once(fill)

    def _on_public_trades(self, trades: list[dict[str, Any]]) -> None:
        for raw in trades:
            market = self._record_of(int(raw["market_id"]))
            if market is not None:
                self.last_trade[market.symbol] = to_decimal(raw["price"])

    async def _on_resync(self, first: bool) -> None:
        """After a reconnect: live books rebuilt from new snapshots, then the base's resync."""
        if first:
            return
        for market_id in list(self._live_books):
            self._books[market_id].invalidate("stream reconnected")
        self._live_books.clear()
        try:
            await self._resync()
        except ExchangeError as exc:  # the stream is up; the next reconnect tries again
            self._log.warning("lighter_resync_failed", error=str(exc))

    async def _recover_fills(self) -> None:
        """The account's latest trades (REST); those already published are skipped."""
        data = await self._rest.get(
            "/api/v1/trades",
            {
                "account_index": self.account_index,
                "sort_by": "timestamp",
                "sort_dir": "desc",
                "limit": TRADES_LIMIT,
            },
            private=True,
        )
        self._publish_trades(list(data.get("trades") or []))

    async def _refresh_orders(self) -> None:
        """Per traded market: the resting orders, and those last seen open that finished."""
        for market_id in sorted(self._traded_markets):
            market = self._record_of(market_id)
            if market is None:
                continue
            active = await self._rest.get(
                "/api/v1/accountActiveOrders",
                {"account_index": self.account_index, "market_id": market_id},
                private=True,
            )
            active_ids = set()
            for raw in active.get("orders") or []:
                active_ids.add(int(raw["order_index"]))
                self._remember(raw)
                self._publish_order_once(self._order(raw, market))
            for order_index, raw in list(self._orders.items()):
                if (
                    int(raw.get("market_index", market_id)) == market_id
                    and order_index not in active_ids
                    and not wire.order_status(raw).is_final
                ):
                    done = await self._find_by_index(market, order_index)
                    if done is not None:
                        self._publish_order_once(self._order(done, market))

    def _on_disconnect(self) -> None:
        for market_id in list(self._live_books):
            self._books[market_id].invalidate("stream disconnected")
        self._live_books.clear()
