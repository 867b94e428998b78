"""The Hyperliquid perpetuals client (issue 7): REST ``/info``, ``/exchange`` and ``/ws``.

Identity: ``private_key`` signs every ``/exchange`` action (it may be an API wallet, i.e. an
approved agent); reads use ``account_address`` (default: the key's own address), or the
``vault_address`` when one is configured (then actions are signed for the vault). At connect the
venue's ``userRole`` tells whether the key is known at all, so a wrong key fails at once with
:class:`AuthenticationFailed`, never by echoing the key.

Orders carry our client order id as a deterministic cloid (:mod:`.ids`); ids sent by this
process are never sent twice (the venue does not document a duplicate-cloid rejection).
Prices must already be on Hyperliquid's grid (5 significant figures, <= 6 - szDecimals
decimals; :meth:`prepare_limit` rounds to it): an off-grid price is refused, never changed.
Market orders are aggressive IOC limits at the touch +/- ``market_slippage`` (default 5 %).

Stop-losses rest on the venue (``supports_trigger_orders``): ``OrderType.STOP_MARKET`` is sent
as Hyperliquid's reduce-only trigger order (``{"trigger": {"isMarket": true, "triggerPx",
"tpsl": "sl"}}``), which the venue turns into a market order when its *mark* price crosses the
trigger; its limit price is the trigger +/- ``stop_slippage`` (default 10 %, the venue's own
tolerance for market TP/SL), computed as the reference SDK bounds a market order.

Economics: :meth:`fees` is the account's own tier (``userFees``: after volume tier, referral
and staking discounts), cached ``fees_ttl`` seconds; the published base rates only when that
endpoint cannot be read. :meth:`market_stats` is ``metaAndAssetCtxs``' 24 h notional volume and
open interest (coins x mark).

Streams: ``orderUpdates`` and ``userFills``, published once each by the native base
(:mod:`exchange_clients.native.base`). Fills older than ``connect()`` are history and never
published; after a reconnect, fills since the last one seen are polled over REST
(``userFillsByTime``) and tracked orders refreshed.

Options: ``base_url``, ``ws_url``, ``timeout`` (s, 10), ``retries`` (3), ``market_slippage``
(0.05), ``stop_slippage`` (0.10), ``fees_ttl`` (s, 3600), ``rate_limit_per_minute`` (1200, the
venue's per-IP weight budget), ``markets_ttl`` (s, 60: tick sizes follow the mark price),
``ws_ping_interval`` (s, 30).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ConfigError,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    UnknownSymbol,
)
from core.logging_setup import get_logger
from exchange_clients.factory import register_client
from exchange_clients.hyperliquid import rounding as hl_rounding
from exchange_clients.hyperliquid.funding_adapter import funding_rate, predicted_by_coin
from exchange_clients.hyperliquid.ids import CloidBook
from exchange_clients.hyperliquid.rest import LIGHT, HyperliquidRest, statuses
from exchange_clients.hyperliquid.signing import L1Signer, order_action, order_wire, trigger_type
from exchange_clients.hyperliquid.websocket import HyperliquidStream
from exchange_clients.hyperliquid.wire import (
    FILL,
    MAINNET_URL,
    MAINNET_WS_URL,
    PUBLISHED_FEES,
    TESTNET_URL,
    TESTNET_WS_URL,
    VENUE,
    HlAsset,
    order_error,
    parse_market_stats,
    parse_order,
    parse_position,
    parse_universe,
    parse_user_fees,
)
from exchange_clients.native.streaming import StreamingVenueClient
from exchange_clients.native.wire import ms_to_datetime, now_ms, to_decimal
from exchange_clients.order_book import OrderBook
from exchange_clients.rounding import check_order_size
from exchange_clients.types import (
    ZERO,
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
    Side,
    TimeInForce,
)
from networking.http import RestTransport

log = get_logger(__name__)


@register_client("hyperliquid")
class HyperliquidClient(StreamingVenueClient[HlAsset, str, HyperliquidStream]):
    """One Hyperliquid account (or vault) on mainnet or testnet."""

    venue = "hyperliquid"
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        options = settings.options
        super().__init__(settings, markets_ttl=float(str(options.get("markets_ttl", 60))))
        self._mainnet = not settings.testnet
        self._base_url = self._endpoint("base_url", MAINNET_URL, TESTNET_URL)
        self._ws_url = self._endpoint("ws_url", MAINNET_WS_URL, TESTNET_WS_URL)
        key = settings.secrets.get("private_key")
        if key is None:
            raise AuthenticationFailed("no private_key configured", venue=VENUE)
        try:
            self._signer = L1Signer(key.reveal())
            self.signer_address = self._signer.address.lower()
        except Exception:
            raise AuthenticationFailed(
                "private_key is not a valid 32-byte hex private key", venue=VENUE
            ) from None
        configured = settings.public.get("account_address")
        self.account_address = (configured or self.signer_address).lower()
        self._account_configured = bool(configured)
        vault = settings.public.get("vault_address")
        self.vault_address = vault.lower() if vault else None
        self._slippage = Decimal(str(options.get("market_slippage", "0.05")))
        self._stop_slippage = Decimal(str(options.get("stop_slippage", "0.10")))
        if not 0 < self._stop_slippage < 1:
            raise ConfigError(
                f"hyperliquid option stop_slippage must be between 0 and 1 (a fraction of the "
                f"trigger price), not {self._stop_slippage}"
            )
        self._fees_ttl = float(str(options.get("fees_ttl", 3600)))
        self._fees: tuple[float, FeeSchedule] | None = None  # (monotonic time read, schedule)
        self._rest = HyperliquidRest(
            self._rest_transport(self._base_url, self._per_minute_limit(1200)),
            self._signer,
            mainnet=self._mainnet,
            vault_address=self.vault_address,
            user=lambda: self.user,
        )
        self._cloids = CloidBook()
        # What this process sent, by client id: the venue's order objects do not say that an
        # IOC limit was our market order, and its WebSocket ones do not carry trigger fields.
        self._sent: dict[str, OrderRequest] = {}
        self._ctxs: list[Any] = []  # asset contexts of the last markets load, by asset index
        self._book_subscriptions: set[str] = set()
        self._since_ms = 0
        self._last_fill_ms = 0
        self._leverage: dict[str, Decimal] = {}
        self.last_trade: dict[str, Decimal] = {}
        self._log = log.bind(venue=VENUE, account=self.account_address)

    @property
    def user(self) -> str:
        """The address whose state is read: the vault when trading for one, else the account."""
        return self.vault_address or self.account_address

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def transport(self) -> RestTransport:
        return self._rest.transport

    async def _start(self) -> None:
        await self._check_signer()
        await self._market_cache.reload()
        self._since_ms = now_ms()
        stream = HyperliquidStream(
            self._ws_url,
            on_message=self._on_message,
            on_resync=self._on_resync,
            on_disconnect=self._on_disconnect,
            proxy_url=self.settings.proxy_url,
            ping_interval=self._ws_ping_interval(),
        )
        await stream.start(
            [
                {"type": "orderUpdates", "user": self.user},
                {"type": "userFills", "user": self.user},
            ]
        )
        self._stream = stream

    async def _check_signer(self) -> None:
        """Fail at connect, clearly, when the venue knows neither the key nor the account."""
        role = await self._rest.info({"type": "userRole", "user": self.signer_address}, weight=60)
        kind = role.get("role") if isinstance(role, dict) else None
        if kind == "missing":
            raise AuthenticationFailed(
                f"the private key's wallet {self.signer_address} is neither a Hyperliquid "
                "account nor an approved API wallet (check private_key and the network)",
                venue=VENUE,
            )
        if kind == "agent":
            owner = str(role.get("data", {}).get("user", "")).lower()
            if self._account_configured and owner and owner != self.account_address:
                raise AuthenticationFailed(
                    f"API wallet {self.signer_address} trades for {owner}, "
                    f"not for the configured account_address {self.account_address}",
                    venue=VENUE,
                )
            if not self._account_configured and owner:
                self.account_address = owner

    # --- markets ---------------------------------------------------------------------------

    async def _fetch_markets(self) -> list[HlAsset]:
        meta, ctxs = await self._rest.info({"type": "metaAndAssetCtxs"})
        self._ctxs = list(ctxs)
        return parse_universe(meta, ctxs)

    def _market_view(self, record: HlAsset) -> Market:
        return record.market

    def _market_key(self, record: HlAsset) -> Hashable:
        return record.coin

    async def prepare_limit(
        self, symbol: str, side: Side, size: Decimal, price: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Size and price on Hyperliquid's grid (sizes down, prices to the safe side) + minimums."""
        asset = await self._record(symbol)
        market = asset.market
        venue_size = hl_rounding.round_size(market.to_venue_size(size), asset.sz_decimals)
        try:
            venue_price = hl_rounding.round_price(
                market.to_venue_price(price), asset.sz_decimals, side
            )
        except ValueError as exc:
            raise InvalidOrder(f"{symbol}: {exc}", venue=VENUE) from None
        rounded_size = market.from_venue_size(venue_size)
        rounded_price = market.from_venue_price(venue_price)
        check_order_size(market, rounded_size, rounded_price)
        return rounded_size, rounded_price

    # --- market data -----------------------------------------------------------------------

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        asset = await self._record(symbol)
        if symbol not in self._book_subscriptions and self._stream is not None:
            self._book_subscriptions.add(symbol)
            await self._stream.subscribe({"type": "l2Book", "coin": asset.coin})
        book = self._live_book(symbol)
        if book is not None:
            bids, asks = book.depth(depth)
            return BookSnapshot(symbol, tuple(bids), tuple(asks), datetime.now(UTC))
        data = await self._rest.info({"type": "l2Book", "coin": asset.coin}, weight=LIGHT)
        bids, asks = self._levels(asset.market, data["levels"])
        return BookSnapshot(
            symbol,
            tuple(bids[:depth]),
            tuple(asks[:depth]),
            ms_to_datetime(data.get("time", now_ms())),
        )

    @staticmethod
    def _levels(
        market: Market, levels: list[list[dict[str, Any]]]
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        def side(raw: list[dict[str, Any]]) -> list[tuple[Decimal, Decimal]]:
            return [
                (
                    market.from_venue_price(to_decimal(level["px"])),
                    market.from_venue_size(to_decimal(level["sz"])),
                )
                for level in raw
            ]

        return side(levels[0]), side(levels[1])

    async def subscribe_trades(self, symbol: str) -> None:
        """Follow the public trades of ``symbol`` (last price in :attr:`last_trade`)."""
        asset = await self._record(symbol)
        await self.stream.subscribe({"type": "trades", "coin": asset.coin})

    async def funding_rate(self, symbol: str) -> FundingRate:
        return (await self._funding({symbol}))[symbol]

    async def funding_rates(self) -> dict[str, FundingRate]:
        return await self._funding(None)

    async def _funding(self, symbols: set[str] | None) -> dict[str, FundingRate]:
        await self._market_cache.reload()
        ctxs = self._ctxs
        predicted = predicted_by_coin(await self._rest.info({"type": "predictedFundings"}))
        now = datetime.now(UTC)
        rates: dict[str, FundingRate] = {}
        for asset in self._market_cache.records():
            if symbols is not None and asset.market.symbol not in symbols:
                continue
            rates[asset.market.symbol] = funding_rate(
                asset.market.symbol,
                ctxs[asset.asset],
                now=now,
                predicted=predicted.get(asset.coin),
                venue=self.name,
                mark_divisor=asset.market.quantity_multiplier,
            )
        for symbol in symbols or ():
            if symbol not in rates:
                raise UnknownSymbol(f"no market for {symbol!r}", venue=VENUE)
        return rates

    # --- economics -------------------------------------------------------------------------

    async def fees(self, symbol: str) -> FeeSchedule:
        """The account's own rates (one schedule for every perpetual of the main dex)."""
        await self._record(symbol)  # UnknownSymbol for a market that does not exist
        cached = self._fees
        if cached is not None and time.monotonic() - cached[0] < self._fees_ttl:
            return cached[1]
        try:
            schedule = parse_user_fees(
                await self._rest.info({"type": "userFees", "user": self.user})
            )
        except (ExchangeError, ValueError) as exc:
            # Not cached: the account's tier is read again on the next call.
            self._log.warning("user_fees_unavailable", fallback="published", error=str(exc))
            return PUBLISHED_FEES
        self._fees = (time.monotonic(), schedule)
        return schedule

    async def market_stats(self) -> dict[str, MarketStats]:
        await self._market_cache.reload()
        ctxs = self._ctxs
        return {
            asset.market.symbol: parse_market_stats(asset.market, ctxs[asset.asset])
            for asset in self._market_cache.records()
            if asset.asset < len(ctxs)
        }

    # --- trading ---------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        asset = await self._record(request.symbol)
        market = asset.market
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        venue_size = market.to_venue_size(request.size)
        if venue_size != hl_rounding.round_size(venue_size, asset.sz_decimals) or venue_size <= 0:
            raise InvalidOrder(
                f"{request.symbol}: size {request.size} is not a multiple of "
                f"{market.step_size} (use prepare_limit)",
                venue=VENUE,
            )
        trigger: dict[str, Any] | None = None
        if request.order_type is OrderType.MARKET:
            venue_price = await self._aggressive_price(asset, request.side)
            tif = "Ioc"
        elif request.order_type is OrderType.STOP_MARKET:
            trigger, venue_price = self._stop_wire(asset, request)
            tif = "Gtc"  # not sent: a trigger order has no time in force
        else:
            assert request.price is not None
            venue_price = market.to_venue_price(request.price)
            if not hl_rounding.is_valid_price(venue_price, asset.sz_decimals):
                raise InvalidOrder(
                    f"{request.symbol}: price {request.price} is off Hyperliquid's grid "
                    f"(5 significant figures, at most {6 - asset.sz_decimals} decimals; "
                    "use prepare_limit)",
                    venue=VENUE,
                )
            tif = (
                "Alo"
                if request.post_only
                else ("Ioc" if request.time_in_force is TimeInForce.IOC else "Gtc")
            )
        cloid = self._cloids.remember(client_id)
        self._claim_id(client_id)
        self._sent[client_id] = request
        wire = order_wire(
            asset.asset,
            request.side == "buy",
            venue_price,
            venue_size,
            reduce_only=request.reduce_only,
            tif=tif,  # type: ignore[arg-type]
            cloid=cloid,
            trigger=trigger,
        )
        data = await self._rest.exchange(order_action([wire]))
        status = statuses(data)[0]
        pending = Order.pending(request)
        now = datetime.now(UTC)
        if isinstance(status, dict) and "error" in status:
            raise order_error(
                str(status["error"]),
                context=f"{request.symbol} {request.side} {request.size} ({client_id})",
            )
        if isinstance(status, dict) and "resting" in status:
            oid = int(status["resting"]["oid"])
            self._cloids.remember_oid(oid, client_id)
            self._tracked[str(oid)] = request.symbol
            return _replace(pending, venue_order_id=str(oid), status=OrderStatus.OPEN, ts=now)
        if isinstance(status, dict) and "filled" in status:
            filled = status["filled"]
            oid = int(filled["oid"])
            self._cloids.remember_oid(oid, client_id)
            filled_size = market.from_venue_size(to_decimal(filled["totalSz"]))
            done = filled_size >= request.size or tif == "Ioc"
            if not done:
                self._tracked[str(oid)] = request.symbol
            return _replace(
                pending,
                venue_order_id=str(oid),
                status=(
                    OrderStatus.FILLED
                    if filled_size >= request.size
                    else (OrderStatus.CANCELLED if done else OrderStatus.PARTIALLY_FILLED)
                ),
                filled_size=filled_size,
                avg_fill_price=market.from_venue_price(to_decimal(filled["avgPx"])),
                ts=now,
            )
        raise ExchangeError(f"unexpected order status {status!r}", venue=VENUE)

    def _stop_wire(self, asset: HlAsset, request: OrderRequest) -> tuple[dict[str, Any], Decimal]:
        """A stop-loss's ``trigger`` type and the worst price of the market order it sends."""
        assert request.trigger_price is not None  # OrderRequest guarantees it for a stop
        trigger_price = asset.market.to_venue_price(request.trigger_price)
        if not hl_rounding.is_valid_price(trigger_price, asset.sz_decimals):
            raise InvalidOrder(
                f"{request.symbol}: trigger price {request.trigger_price} is off Hyperliquid's "
                f"grid (5 significant figures, at most {6 - asset.sz_decimals} decimals; "
                "use prepare_limit)",
                venue=VENUE,
            )
        limit = hl_rounding.slippage_price(
            trigger_price, asset.sz_decimals, request.side == "buy", self._stop_slippage
        )
        return trigger_type(trigger_price, "sl"), limit

    async def _aggressive_price(self, asset: HlAsset, side: Side) -> Decimal:
        """Touch +/- slippage, in venue units, on the grid (a market order is an IOC limit)."""
        bid, ask = await self.best_bid_ask(asset.market.symbol)
        touch = asset.market.to_venue_price(ask if side == "buy" else bid)
        factor = 1 + self._slippage if side == "buy" else 1 - self._slippage
        # Round away from the book's far side: a buy's cap rounds down but stays above the ask.
        return hl_rounding.round_price(touch * factor, asset.sz_decimals, side)

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        asset = await self._record(symbol)
        action = {"type": "cancel", "cancels": [{"a": asset.asset, "o": int(venue_order_id)}]}
        await self._cancel(action, symbol, venue_order_id=venue_order_id)
        return await self.order_status(symbol, venue_order_id=venue_order_id)

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        asset = await self._record(symbol)
        cloid = self._cloids.remember(client_order_id)
        action = {"type": "cancelByCloid", "cancels": [{"asset": asset.asset, "cloid": cloid}]}
        await self._cancel(action, symbol, client_order_id=client_order_id)
        return await self.order_status(symbol, client_order_id=client_order_id)

    async def _cancel(
        self,
        action: dict[str, Any],
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> None:
        """Cancel; "never placed, already canceled, or filled" is fine for a finished order."""
        try:
            status = statuses(await self._rest.exchange(action))[0]
            if isinstance(status, dict) and "error" in status:
                raise order_error(str(status["error"]), context=f"cancel {symbol}")
        except OrderNotFound:
            final = await self.order_status(
                symbol, venue_order_id=venue_order_id, client_order_id=client_order_id
            )
            if not final.status.is_final:
                raise

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is not None:
            await self._record(symbol)  # UnknownSymbol for a market that does not exist
        raw = await self._rest.info({"type": "frontendOpenOrders", "user": self.user})
        orders = []
        for wire in raw:
            asset = self._record_of(str(wire["coin"]))
            if asset is None or (symbol is not None and asset.market.symbol != symbol):
                continue
            orders.append(self._order_from_wire(wire, "open", asset))
        return orders

    async def _order_status(
        self, asset: HlAsset, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        symbol = asset.market.symbol
        query: int | str
        if client_order_id is not None:
            query = self._cloids.remember(client_order_id)
        elif venue_order_id is not None:
            query = int(venue_order_id)
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        data = await self._rest.info(
            {"type": "orderStatus", "user": self.user, "oid": query}, weight=LIGHT
        )
        if not isinstance(data, dict) or data.get("status") != "order":
            raise OrderNotFound(
                f"{symbol}: no order {client_order_id or venue_order_id}", venue=VENUE
            )
        inner = data["order"]
        wire = inner["order"]
        if client_order_id is not None:
            self._cloids.remember_oid(int(wire["oid"]), client_order_id)
        asset = self._record_of(str(wire["coin"])) or asset  # the order's own market
        order = self._order_from_wire(
            wire, str(inner["status"]), asset, int(inner.get("statusTimestamp") or 0) or None
        )
        if not order.status.is_final and (
            client_order_id is not None or order.client_order_id in self._sent_ids
        ):
            self._tracked[str(wire["oid"])] = order.symbol  # reconciled orders are refreshed too
        return order

    def _order_from_wire(
        self, wire: dict[str, Any], status: str, asset: HlAsset, updated_ms: int | None = None
    ) -> Order:
        oid = int(wire["oid"])
        cloid = wire.get("cloid")
        client_id = self._cloids.client_id(cloid, oid) or str(cloid or f"hl-{oid}")
        order = parse_order(
            wire,
            status,
            market=asset.market,
            client_order_id=client_id,
            updated_ms=updated_ms,
            avg_fill_price=self._ledger.average_price(str(oid)),
            fee_paid=self._ledger.fees(str(oid)),
        )
        sent = self._sent.get(client_id)
        if sent is None:
            return order  # placed elsewhere: what the venue's object says is all there is
        # WebSocket order objects carry neither time in force nor trigger fields, and a market
        # order is an IOC limit on the wire: what we sent says what the order is.
        return replace(
            order,
            order_type=sent.order_type,
            price=sent.price,
            trigger_price=sent.trigger_price,
            post_only=sent.post_only,
            reduce_only=sent.reduce_only,
            time_in_force=sent.time_in_force,
        )

    # --- account ---------------------------------------------------------------------------

    async def _clearinghouse(self) -> dict[str, Any]:
        data = await self._rest.info(
            {"type": "clearinghouseState", "user": self.user}, weight=LIGHT
        )
        assert isinstance(data, dict)
        return data

    async def positions(self) -> list[Position]:
        state = await self._clearinghouse()
        positions = []
        for entry in state.get("assetPositions", []):
            wire = entry["position"]
            asset = self._record_of(str(wire["coin"]))
            if asset is None:
                continue
            position = parse_position(wire, asset.market)
            if position is not None:
                positions.append(position)
        return positions

    async def balance(self) -> Balance:
        state = await self._clearinghouse()
        summary = state["marginSummary"]
        unrealized = sum(
            (to_decimal(e["position"].get("unrealizedPnl", "0")) for e in state["assetPositions"]),
            ZERO,
        )
        return Balance(
            wallet=to_decimal(summary["accountValue"]) - unrealized,
            unrealized_pnl=unrealized,
            margin_used=to_decimal(summary["totalMarginUsed"]),
            asset="USDC",
        )

    async def get_leverage(self, symbol: str) -> Decimal:
        asset = await self._record(symbol)
        data = await self._rest.info(
            {"type": "activeAssetData", "user": self.user, "coin": asset.coin}
        )
        leverage = data.get("leverage") if isinstance(data, dict) else None
        if isinstance(leverage, dict) and "value" in leverage:
            return Decimal(int(leverage["value"]))
        if symbol in self._leverage:
            return self._leverage[symbol]
        raise ExchangeError(f"{symbol}: the venue reported no leverage", venue=VENUE)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        asset = await self._record(symbol)
        if leverage != leverage.to_integral_value() or leverage < 1:
            raise InvalidOrder(
                f"{symbol}: Hyperliquid leverage is a whole number >= 1, not {leverage}",
                venue=VENUE,
            )
        action = {
            "type": "updateLeverage",
            "asset": asset.asset,
            "isCross": True,
            "leverage": int(leverage),
        }
        await self._rest.exchange(action)
        self._leverage[symbol] = Decimal(int(leverage))
        return self._leverage[symbol]

    # --- streams ---------------------------------------------------------------------------

    async def _on_resync(self, first: bool) -> None:
        """After every reconnect (not the first connect): catch up on what was missed."""
        if not first:
            await self._resync()

    async def _recover_fills(self) -> None:
        start = self._last_fill_ms or self._since_ms
        fills = await self._rest.info(
            {"type": "userFillsByTime", "user": self.user, "startTime": start}
        )
        self._handle_fills(fills)

    def _on_disconnect(self) -> None:
        self._live_books.clear()
        for book in self._books.values():
            book.invalidate("stream disconnected")

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        channel = message.get("channel")
        data: Any = message.get("data")
        if channel == "l2Book":
            self._handle_book(data)
        elif channel == "userFills":
            self._handle_fills(data.get("fills", []))
        elif channel == "orderUpdates":
            self._handle_order_updates(data)
        elif channel == "trades":
            for trade in data:
                asset = self._record_of(str(trade["coin"]))
                if asset is not None:
                    self.last_trade[asset.market.symbol] = asset.market.from_venue_price(
                        to_decimal(trade["px"])
                    )
        elif channel == "error":
            self._log.warning("ws_error", message=str(data)[:200])

    def _handle_book(self, data: dict[str, Any]) -> None:
        asset = self._record_of(str(data["coin"]))
        if asset is None:
            return
        symbol = asset.market.symbol
        book = self._books.setdefault(symbol, OrderBook(symbol))
        sequence = int(data.get("time", 0)) or None
        levels = data["levels"]
        if asset.market.quantity_multiplier == 1:
            # Venue units are ours: the wire strings go straight into the book (its fast path).
            book.apply_wire_snapshot(
                [(level["px"], level["sz"]) for level in levels[0]],
                [(level["px"], level["sz"]) for level in levels[1]],
                sequence,
            )
        else:
            bids, asks = self._levels(asset.market, levels)
            book.apply_snapshot(bids, asks, sequence)
        self._live_books.add(symbol)

    def _handle_fills(self, fills: list[dict[str, Any]]) -> None:
        for wire in sorted(fills, key=lambda f: (int(f["time"]), int(f["tid"]))):
            if int(wire["time"]) < self._since_ms:
                continue  # history from before connect(): the runtime reconciles it
            asset = self._record_of(str(wire["coin"]))
            if asset is None:
                continue
            client_order_id = self._cloids.client_id(wire.get("cloid"), int(wire["oid"]))
            fill = FILL.read(VENUE, wire, asset.market, client_order_id)
            if self._publish_fill_once(fill):
                self._last_fill_ms = max(self._last_fill_ms, int(wire["time"]))

    def _handle_order_updates(self, updates: list[dict[str, Any]]) -> None:
        for update in updates:
            wire = update["order"]
            asset = self._record_of(str(wire["coin"]))
            if asset is None:
                continue
            order = self._order_from_wire(
                wire, str(update["status"]), asset, update.get("statusTimestamp")
            )
            self._publish_order_once(order)


def _replace(
    order: Order,
    *,
    venue_order_id: str,
    status: OrderStatus,
    ts: datetime,
    filled_size: Decimal = ZERO,
    avg_fill_price: Decimal | None = None,
) -> Order:
    return replace(
        order,
        venue_order_id=venue_order_id,
        status=status,
        filled_size=filled_size,
        avg_fill_price=avg_fill_price,
        created_at=ts,
        updated_at=ts,
    )
