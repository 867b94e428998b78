"""A generic exchange client over ccxt's async API, for venues with no native client.

Venues served this way are the catalogue entries with a ``ccxt_id`` (core.venues):
``ccxt_<id>``. Everything ccxt returns is mapped to our types exactly (:mod:`.mapping`) and
every ccxt failure to our error hierarchy (:mod:`.errors`). What ccxt cannot guarantee
generically, this client adds:

* client order ids are ours, sent as ccxt's unified ``clientOrderId``; a reused id raises
  ``DuplicateClientOrderId`` before anything is sent (venues only refuse duplicates among
  *open* orders, the contract forbids reuse outright);
* fills carry our client id: trades name only the venue's order id, so the client keeps
  venue id -> client id, learning unknown ones from the order itself;
* streams (``watch_*`` where ccxt has them, polling otherwise) recover every fill missed
  while disconnected (:mod:`.websocket`);
* fees: ``fetch_trading_fee`` (the account's tier) where ccxt has it for the exchange and the
  account has keys, else the market's published ``maker``/``taker``; kept an hour;
* market stats: ``fetch_tickers`` (``quoteVolume``), open interest from
  ``fetch_open_interests`` (one call) or ``fetch_open_interest`` per market (kept 15 min,
  8 at a time), ``None`` where ccxt has neither;
* venue-side stops (``OrderType.STOP_MARKET``) through ccxt's unified ``stopLossPrice`` +
  ``reduceOnly`` where the exchange has ``createStopLossOrder``; elsewhere
  ``supports_trigger_orders`` is False and such a request is refused with ``InvalidOrder``.
  Stops are cancelled, listed and queried with ccxt's unified ``trigger`` flag; the market
  order a triggered stop sends is reported under the stop's own venue id.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from core.errors import (
    DuplicateClientOrderId,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    UnknownSymbol,
    VenueUnavailable,
)
from core.logging_setup import get_logger
from core.venues import VENUES
from exchange_clients.base import BaseExchangeClient
from exchange_clients.binance_style import economics
from exchange_clients.binance_style.economics import TtlCache
from exchange_clients.ccxt_venue.errors import translated
from exchange_clients.ccxt_venue.exchange import (
    STOP_PARAMS,
    build_exchange,
    exchange_class,
    supports_stop_loss,
)
from exchange_clients.ccxt_venue.funding_adapter import funding_rate_of, interval_hours_default
from exchange_clients.ccxt_venue.mapping import (
    Unified,
    fee_schedule_from_ccxt,
    from_ms,
    is_usd_linear_perpetual,
    market_from_ccxt,
    order_from_ccxt,
    position_from_ccxt,
    to_decimal,
)
from exchange_clients.ccxt_venue.websocket import CcxtStreams
from exchange_clients.factory import register_client
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
    TimeInForce,
)

log = get_logger(__name__)

SETTLE_PREFERENCE = ("USDT", "USDC", "USD")


def ccxt_venues() -> tuple[str, ...]:
    return tuple(name for name, venue in VENUES.items() if venue.ccxt_id)


@cache
def trigger_support(exchange_id: str) -> bool:
    """Whether ccxt places stop-losses on ``exchange_id`` (its ``has`` table, no network)."""
    return supports_stop_loss(exchange_class(exchange_id)())


@register_client(*ccxt_venues())
class CcxtExchangeClient(BaseExchangeClient):
    """One account on a venue reached through ccxt."""

    venue = "ccxt"

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        spec = VENUES[settings.venue]
        assert spec.ccxt_id is not None
        self.exchange_id = spec.ccxt_id
        self.default_interval_hours = interval_hours_default(spec)
        self._timeout_ms = int(float(str(settings.options.get("timeout", 10))) * 1000)
        self.exchange: Any = None
        self._markets: dict[str, Market] = {}
        self._ccxt_symbols: dict[str, str] = {}
        self._symbols_by_ccxt: dict[str, str] = {}
        self._sent_ids: set[str] = set()
        self._client_ids: dict[str, str] = {}  # venue order id -> our client order id
        self._leverage: dict[str, Decimal] = {}
        self._stop_ids: dict[str, str] = {}  # client order id -> venue order id of a stop
        # The base declares it per class; here it depends on the exchange behind the class.
        vars(self)["supports_trigger_orders"] = trigger_support(self.exchange_id)
        self._fees: TtlCache[FeeSchedule] = TtlCache(economics.FEES_TTL_SECONDS)
        self._open_interest: TtlCache[Decimal] = TtlCache(economics.OPEN_INTEREST_TTL_SECONDS)
        self.streams = CcxtStreams(
            self, poll_seconds=float(str(settings.options.get("poll_seconds", 2)))
        )
        self._log = log.bind(venue=settings.venue, account=settings.account)

    # --- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        if self.exchange is not None:
            return
        exchange = build_exchange(self.exchange_id, self.settings, self._timeout_ms)
        try:
            with translated(self.name):
                await exchange.load_markets()
        except BaseException:
            await exchange.close()
            raise
        self.exchange = exchange
        self._load_markets(exchange.markets)
        await self.streams.start()

    async def disconnect(self) -> None:
        if self.exchange is None:
            return
        await self.streams.stop()
        exchange, self.exchange = self.exchange, None
        await exchange.close()

    def _require(self) -> Any:
        if self.exchange is None:
            raise VenueUnavailable("not connected (call connect() first)", venue=self.name)
        return self.exchange

    def _load_markets(self, unified: dict[str, Unified]) -> None:
        tick_mode = self.exchange.precisionMode == 4  # ccxt.TICK_SIZE
        chosen: dict[str, Unified] = {}
        for market in unified.values():
            if not is_usd_linear_perpetual(market):
                continue
            base = str(market["base"])
            current = chosen.get(base)
            if current is None or SETTLE_PREFERENCE.index(
                str(market["settle"])
            ) < SETTLE_PREFERENCE.index(str(current["settle"])):
                chosen[base] = market
        self._markets = {}
        self._ccxt_symbols = {}
        self._symbols_by_ccxt = {}
        for base, market in chosen.items():
            try:
                ours = market_from_ccxt(market, tick_mode)
            except (ValueError, TypeError) as exc:
                self._log.warning("market_skipped", symbol=base, reason=str(exc))
                continue
            if ours.symbol in self._markets:  # e.g. PEPE and 1000PEPE both listed: keep one
                continue
            self._markets[ours.symbol] = ours
            self._ccxt_symbols[ours.symbol] = str(market["symbol"])
            self._symbols_by_ccxt[str(market["symbol"])] = ours.symbol

    def ccxt_symbol(self, symbol: str) -> str:
        try:
            return self._ccxt_symbols[symbol]
        except KeyError:
            raise UnknownSymbol(f"no market for {symbol!r}", venue=self.name) from None

    def symbol_of(self, ccxt_symbol: str) -> Market | None:
        """Our market for a ccxt symbol (``None`` for contracts we do not list)."""
        symbol = self._symbols_by_ccxt.get(ccxt_symbol)
        return self._markets[symbol] if symbol is not None else None

    # --- market data -----------------------------------------------------------------------

    async def markets(self) -> dict[str, Market]:
        self._require()
        return dict(self._markets)

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        exchange = self._require()
        market = await self.market(symbol)
        with translated(self.name):
            book = await exchange.fetch_order_book(
                self.ccxt_symbol(symbol), limit=_book_limit(depth)
            )

        def levels(rows: list[list[Any]]) -> tuple[tuple[Decimal, Decimal], ...]:
            return tuple(
                (
                    market.from_venue_price(Decimal(str(price))),
                    market.from_venue_size(Decimal(str(size))),
                )
                for price, size, *_ in rows[:depth]
            )

        return BookSnapshot(
            symbol=symbol,
            bids=levels(book["bids"]),
            asks=levels(book["asks"]),
            ts=from_ms(book.get("timestamp")) or datetime.now(UTC),
            sequence=book.get("nonce"),
        )

    async def funding_rate(self, symbol: str) -> FundingRate:
        exchange = self._require()
        market = await self.market(symbol)
        with translated(self.name):
            raw = await exchange.fetch_funding_rate(self.ccxt_symbol(symbol))
        return funding_rate_of(self.name, raw, market, self.default_interval_hours)

    async def funding_rates(self) -> dict[str, FundingRate]:
        exchange = self._require()
        if not exchange.has.get("fetchFundingRates"):
            return await super().funding_rates()
        with translated(self.name):
            raw = await exchange.fetch_funding_rates(list(self._ccxt_symbols.values()))
        rates: dict[str, FundingRate] = {}
        for ccxt_symbol, entry in raw.items():
            market = self.symbol_of(ccxt_symbol)
            if market is not None:
                rates[market.symbol] = funding_rate_of(
                    self.name, entry, market, self.default_interval_hours
                )
        return rates

    # --- economics -------------------------------------------------------------------------

    async def fees(self, symbol: str) -> FeeSchedule:
        exchange = self._require()
        market = await self.market(symbol)
        cached = self._fees.get(market.symbol)
        if cached is not None:
            return cached
        ccxt_symbol = self.ccxt_symbol(symbol)
        if exchange.has.get("fetchTradingFee") and exchange.apiKey:
            with translated(self.name):
                raw = await exchange.fetch_trading_fee(ccxt_symbol)
            schedule = fee_schedule_from_ccxt(raw, "account")
        else:
            schedule = fee_schedule_from_ccxt(exchange.markets[ccxt_symbol], "published")
        self._fees.put(market.symbol, schedule)
        return schedule

    async def market_stats(self) -> dict[str, MarketStats]:
        exchange = self._require()
        symbols = list(self._ccxt_symbols.values())
        with translated(self.name):
            tickers = (
                await exchange.fetch_tickers(symbols) if exchange.has.get("fetchTickers") else {}
            )
        interest = await self._open_interest_usd(tickers)
        stats: dict[str, MarketStats] = {}
        for symbol, ccxt_symbol in self._ccxt_symbols.items():
            ticker = tickers.get(ccxt_symbol) or {}
            stats[symbol] = MarketStats(
                symbol=symbol,
                volume_24h_usd=to_decimal(ticker.get("quoteVolume")),
                open_interest_usd=interest.get(symbol),
            )
        return stats

    async def _open_interest_usd(self, tickers: dict[str, Unified]) -> dict[str, Decimal]:
        """USD open interest: ccxt's ``openInterestValue`` when the venue gives it, else the
        amount (contracts) times the ticker's mark (or last) price, in the market's units."""
        exchange = self._require()
        result: dict[str, Decimal] = {}
        for symbol in self._ccxt_symbols:
            value = self._open_interest.get(symbol)
            if value is not None:
                result[symbol] = value
        stale = [s for s in self._ccxt_symbols if s not in result]
        if not stale:
            return result

        def keep(symbol: str, raw: Unified) -> None:
            market = self._markets[symbol]
            value = to_decimal(raw.get("openInterestValue"))
            if value is None:
                amount = to_decimal(raw.get("openInterestAmount"))
                ticker = tickers.get(self._ccxt_symbols[symbol]) or {}
                price = to_decimal(ticker.get("markPrice")) or to_decimal(ticker.get("last"))
                if amount is None or price is None:
                    return
                value = market.from_venue_size(amount) * market.from_venue_price(price)
            self._open_interest.put(symbol, value)
            result[symbol] = value

        if exchange.has.get("fetchOpenInterests"):
            with translated(self.name):
                raw_all = await exchange.fetch_open_interests(
                    [self._ccxt_symbols[s] for s in stale]
                )
            for ccxt_symbol, raw in raw_all.items():
                market = self.symbol_of(ccxt_symbol)
                if market is not None:
                    keep(market.symbol, raw)
        elif exchange.has.get("fetchOpenInterest"):

            async def fetch(symbol: str) -> None:
                with translated(self.name):
                    raw = await exchange.fetch_open_interest(self._ccxt_symbols[symbol])
                keep(symbol, raw)

            await economics.refresh_bounded(stale, fetch, economics.OPEN_INTEREST_CONCURRENCY)
        return result

    # --- trading ---------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        exchange = self._require()
        market = await self.market(request.symbol)
        if request.client_order_id in self._sent_ids:
            raise DuplicateClientOrderId(request.client_order_id, venue=self.name)
        if request.order_type is OrderType.STOP_MARKET:
            return await self._place_stop(exchange, request, market)
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.post_only:
            params["postOnly"] = True
        if request.reduce_only:
            params["reduceOnly"] = True
        if request.order_type is OrderType.LIMIT and request.time_in_force is TimeInForce.IOC:
            params["timeInForce"] = "IOC"
        amount = str(market.to_venue_size(request.size))
        price = str(market.to_venue_price(request.price)) if request.price is not None else None
        self._sent_ids.add(request.client_order_id)
        self.streams.watch_symbol(request.symbol)
        with translated(self.name, placing=True, client_order_id=request.client_order_id):
            raw = await exchange.create_order(
                self.ccxt_symbol(request.symbol),
                request.order_type.value,
                request.side,
                amount,
                price,
                params,
            )
        order = self._order(raw, market, request.client_order_id, request.reduce_only)
        if request.order_type is OrderType.MARKET and not order.status.is_final:
            # Some venues acknowledge a market order before it has filled: ask once more.
            order = await self.order_status(request.symbol, client_order_id=request.client_order_id)
        return order

    async def _place_stop(self, exchange: Any, request: OrderRequest, market: Market) -> Order:
        """A reduce-only stop-loss through ccxt's unified ``stopLossPrice``."""
        if not self.supports_trigger_orders:
            raise InvalidOrder(
                f"{request.symbol}: ccxt places no stop-loss orders on {self.exchange_id}",
                venue=self.name,
            )
        assert request.trigger_price is not None
        params: dict[str, Any] = {
            "clientOrderId": request.client_order_id,
            "reduceOnly": True,
            "stopLossPrice": str(market.to_venue_price(request.trigger_price)),
            **STOP_PARAMS.get(self.exchange_id, {}),
        }
        self._sent_ids.add(request.client_order_id)
        self.streams.watch_symbol(request.symbol)
        with translated(self.name, placing=True, client_order_id=request.client_order_id):
            raw = await exchange.create_order(
                self.ccxt_symbol(request.symbol),
                "market",
                request.side,
                str(market.to_venue_size(request.size)),
                None,
                params,
            )
        order = self._order(raw, market, request.client_order_id, True)
        if order.order_type is not OrderType.STOP_MARKET:  # ccxt's answer lacks the trigger
            order = dataclasses.replace(
                order, order_type=OrderType.STOP_MARKET, trigger_price=request.trigger_price
            )
        if order.venue_order_id is not None:
            self._stop_ids[request.client_order_id] = order.venue_order_id
        return order

    def _order(
        self, raw: Unified, market: Market, client_order_id: str, reduce_only: bool = False
    ) -> Order:
        order = order_from_ccxt(raw, market, client_order_id, reduce_only)
        if order.venue_order_id is not None:
            self._client_ids[order.venue_order_id] = client_order_id
        stop_id = self._stop_ids.get(client_order_id)
        if order.order_type is OrderType.STOP_MARKET and order.venue_order_id is not None:
            if stop_id is None:
                self._stop_ids[client_order_id] = stop_id = order.venue_order_id
            if order.venue_order_id != stop_id:  # the market order the stop sent
                order = dataclasses.replace(order, venue_order_id=stop_id)
        return order

    def _publish_fill(self, fill: Fill) -> None:
        """A triggered stop's fills are reported under the stop's venue id."""
        stop_id = self._stop_ids.get(fill.client_order_id or "")
        if stop_id is not None and fill.venue_order_id != stop_id:
            fill = dataclasses.replace(fill, venue_order_id=stop_id)
        super()._publish_fill(fill)

    def _trigger_params(
        self, client_order_id: str | None = None, venue_order_id: str | None = None
    ) -> dict[str, Any]:
        """ccxt's unified flag for calls about a stop (Binance: the Algo Service)."""
        known = set(self._stop_ids.values())
        is_stop = (client_order_id in self._stop_ids) or (venue_order_id in known)
        return {"trigger": True} if is_stop else {}

    def client_id_of(self, raw: Unified) -> str | None:
        """Our client order id for a ccxt order (from the order itself or what we sent)."""
        known = raw.get("clientOrderId")
        if known:
            return str(known)
        return self._client_ids.get(str(raw.get("id")))

    async def client_id_for_venue_order(self, symbol: str, venue_order_id: str) -> str | None:
        """Resolve a venue order id to our client id, asking the venue when we do not know it."""
        known = self._client_ids.get(venue_order_id)
        if known is not None:
            return known
        try:
            order = await self.order_status(symbol, venue_order_id=venue_order_id)
        except ExchangeError:
            return None
        return order.client_order_id or None

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        exchange = self._require()
        market = await self.market(symbol)
        params = self._trigger_params(venue_order_id=venue_order_id)
        with translated(self.name):
            raw = await exchange.cancel_order(venue_order_id, self.ccxt_symbol(symbol), params)
        if raw.get("status") is None or raw.get("amount") is None:
            return await self.order_status(symbol, venue_order_id=venue_order_id)
        return self._order(raw, market, self.client_id_of(raw) or "")

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        exchange = self._require()
        market = await self.market(symbol)
        params = {"clientOrderId": client_order_id, **self._trigger_params(client_order_id)}
        try:
            with translated(self.name, client_order_id=client_order_id):
                raw = await exchange.cancel_order(None, self.ccxt_symbol(symbol), params)
        except OrderNotFound:
            if "trigger" in params or not self.supports_trigger_orders:
                raise
            params["trigger"] = True  # a stop this process did not place
            with translated(self.name, client_order_id=client_order_id):
                raw = await exchange.cancel_order(None, self.ccxt_symbol(symbol), params)
            self._stop_ids.setdefault(client_order_id, str(raw.get("id")))
        if raw.get("status") is None or raw.get("amount") is None:
            return await self.order_status(symbol, client_order_id=client_order_id)
        return self._order(raw, market, client_order_id)

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        orders = await self.open_orders(symbol)
        return [
            await self.cancel_order(order.symbol, order.venue_order_id)
            for order in orders
            if order.venue_order_id is not None
        ]

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        exchange = self._require()
        ccxt_symbol = self.ccxt_symbol(symbol) if symbol is not None else None
        with translated(self.name):
            raw = list(await exchange.fetch_open_orders(ccxt_symbol))
            if self.supports_trigger_orders:  # stops may be listed apart (Binance's algo orders)
                seen = {entry.get("id") for entry in raw}
                stops = await exchange.fetch_open_orders(ccxt_symbol, None, None, {"trigger": True})
                raw += [entry for entry in stops if entry.get("id") not in seen]
        orders: list[Order] = []
        for entry in raw:
            market = self.symbol_of(str(entry.get("symbol")))
            if market is not None:
                orders.append(self._order(entry, market, self.client_id_of(entry) or ""))
        return orders

    async def order_status(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        exchange = self._require()
        market = await self.market(symbol)
        if venue_order_id is None and client_order_id is None:
            raise ValueError("order_status needs a venue order id or a client order id")
        params: dict[str, Any] = (
            {"clientOrderId": client_order_id} if venue_order_id is None else {}
        )
        params |= self._trigger_params(client_order_id, venue_order_id)
        try:
            with translated(self.name, client_order_id=client_order_id):
                raw = await exchange.fetch_order(venue_order_id, self.ccxt_symbol(symbol), params)
        except OrderNotFound:
            if "trigger" in params or not self.supports_trigger_orders:
                raise
            params["trigger"] = True  # a stop this process did not place
            with translated(self.name, client_order_id=client_order_id):
                raw = await exchange.fetch_order(venue_order_id, self.ccxt_symbol(symbol), params)
        if not raw or raw.get("id") is None:
            raise OrderNotFound(
                f"{symbol}: no order {venue_order_id or client_order_id}", venue=self.name
            )
        return self._order(raw, market, self.client_id_of(raw) or client_order_id or "")

    # --- account ---------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        exchange = self._require()
        with translated(self.name):
            raw = await exchange.fetch_positions()
        positions: list[Position] = []
        for entry in raw:
            market = self.symbol_of(str(entry.get("symbol")))
            position = position_from_ccxt(entry, market) if market is not None else None
            if position is not None:
                positions.append(position)
        return positions

    async def balance(self) -> Balance:
        """ccxt's ``total`` for a derivatives account is its equity (wallet + unrealised PnL)."""
        exchange = self._require()
        with translated(self.name):
            raw = await exchange.fetch_balance()
        settle = next(
            (asset for asset in SETTLE_PREFERENCE if asset in raw.get("total", {})), "USDT"
        )
        total = to_decimal(raw.get("total", {}).get(settle)) or ZERO
        used = to_decimal(raw.get("used", {}).get(settle)) or ZERO
        unrealized = sum((p.unrealized_pnl for p in await self.positions()), ZERO)
        return Balance(
            wallet=total - unrealized, unrealized_pnl=unrealized, margin_used=used, asset=settle
        )

    async def get_leverage(self, symbol: str) -> Decimal:
        exchange = self._require()
        market = await self.market(symbol)
        if exchange.has.get("fetchLeverage"):
            with translated(self.name):
                raw = await exchange.fetch_leverage(self.ccxt_symbol(symbol))
            value = to_decimal(raw.get("longLeverage") or raw.get("shortLeverage"))
            if value is not None:
                return value
        position = await self.position(symbol)
        if position is not None and position.leverage is not None:
            return position.leverage
        return self._leverage.get(symbol, min(market.max_leverage, Decimal(20)))

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        exchange = self._require()
        market = await self.market(symbol)
        if (
            leverage < 1
            or leverage > market.max_leverage
            or leverage != leverage.to_integral_value()
        ):
            raise ExchangeError(
                f"{symbol}: leverage {leverage} is not a whole number in 1..{market.max_leverage}",
                venue=self.name,
            )
        with translated(self.name):
            raw = await exchange.set_leverage(int(leverage), self.ccxt_symbol(symbol))
        applied = to_decimal((raw or {}).get("leverage")) if isinstance(raw, dict) else None
        applied = applied or leverage
        self._leverage[symbol] = applied
        return applied


def _book_limit(depth: int) -> int:
    """The smallest depth most venues accept that covers ``depth`` (Binance: 5/10/20/50/100...)."""
    for limit in (5, 10, 20, 50, 100, 500, 1000):
        if depth <= limit:
            return limit
    return 1000
