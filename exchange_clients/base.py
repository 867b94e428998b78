"""The contract every venue client implements (DESIGN.md §4), paper venue included.

Strategies and the execution layer only ever talk to :class:`BaseExchangeClient`;
swapping Hyperliquid for the paper venue is a config change. Implementations
provide the abstract primitives; the convenience methods (limit/market helpers,
best bid/ask, single position) are built on them here, once.

Rules every implementation keeps:

* all quantities are ``Decimal`` in internal units (see :mod:`exchange_clients.types`);
* every order carries our client order id; re-using one raises
  :class:`DuplicateClientOrderId` and never creates a second order;
* ``fills()`` and ``order_updates()`` deliver every event from the moment of
  subscription, in venue order;
* a timeout raises :class:`RequestTimeout` — the caller resolves it by client
  order id, never by re-sending under a new id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import ClassVar

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyRejected,
    RequestTimeout,
    UnknownSymbol,
    VenueUnavailable,
)
from exchange_clients.book_changes import BookChanges
from exchange_clients.rounding import check_order_size, round_price, round_size
from exchange_clients.streams import EventHub, Subscription
from exchange_clients.types import (
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
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)


@dataclass(frozen=True, slots=True)
class Reconnected:
    """A client's streams came back after a disconnection, and it has resynced (missed fills
    published, tracked orders refreshed): what happened meanwhile on the venue - by hand, by
    another program - is for the subscriber to re-check (execution.reconciliation)."""

    venue: str
    at: datetime


class BaseExchangeClient(ABC):
    """One account on one venue."""

    venue: ClassVar[str]
    supports_trigger_orders: ClassVar[bool] = False
    """Whether ``place_order`` accepts ``OrderType.STOP_MARKET`` (venue-side stop-losses).
    A client without them refuses such a request with :class:`InvalidOrder`."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._fills: EventHub[Fill] = EventHub()
        self._order_updates: EventHub[Order] = EventHub()
        self._reconnects: EventHub[Reconnected] = EventHub()

    @property
    def name(self) -> str:
        """The configured venue name (a venue class may serve several, e.g. paper profiles)."""
        return self.settings.venue

    # --- lifecycle -------------------------------------------------------------------------

    @abstractmethod
    async def connect(self) -> None:
        """Open sessions/streams and load markets. Idempotent."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Close everything. Resting orders are left as they are."""

    async def __aenter__(self) -> BaseExchangeClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    # --- market data -----------------------------------------------------------------------

    @abstractmethod
    async def markets(self) -> dict[str, Market]:
        """Every listed perpetual, by internal symbol."""

    async def market(self, symbol: str) -> Market:
        markets = await self.markets()
        try:
            return markets[symbol]
        except KeyError:
            raise UnknownSymbol(f"no market for {symbol!r}", venue=self.name) from None

    @abstractmethod
    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        """Current L2 book (from the live stream when subscribed, else a REST snapshot)."""

    async def best_bid_ask(self, symbol: str) -> tuple[Decimal, Decimal]:
        book = await self.order_book(symbol, depth=1)
        if book.best_bid is None or book.best_ask is None:
            raise VenueUnavailable(f"{symbol} book is empty on one side", venue=self.name)
        return book.best_bid, book.best_ask

    @abstractmethod
    async def funding_rate(self, symbol: str) -> FundingRate: ...

    async def funding_rates(self) -> dict[str, FundingRate]:
        """Funding for every market; venues with a bulk endpoint override this."""
        return {symbol: await self.funding_rate(symbol) for symbol in await self.markets()}

    @abstractmethod
    async def fees(self, symbol: str) -> FeeSchedule:
        """This account's maker/taker fee on ``symbol``: its tier where the venue has an
        endpoint for it, the published schedule otherwise (``FeeSchedule.source`` says which)."""

    async def quote(self, symbol: str) -> tuple[FundingRate, Decimal, Decimal, FeeSchedule]:
        """What a funding quote of ``symbol`` reads: ``(funding rate, best bid, best ask,
        fees)``, asked in that order (the first error raised stops it, as asking them one by
        one would). A funding scan asks it of every symbol on every venue, so a venue that can
        answer it in one go (the paper venue) overrides it; every other venue answers with
        its own three calls."""
        funding = await self.funding_rate(symbol)
        bid, ask = await self.best_bid_ask(symbol)
        return funding, bid, ask, await self.fees(symbol)

    @abstractmethod
    async def market_stats(self) -> dict[str, MarketStats]:
        """24 h volume and open interest (USD) of every market, by internal symbol."""

    # --- trading ---------------------------------------------------------------------------

    @abstractmethod
    async def place_order(self, request: OrderRequest) -> Order:
        """Send an order. Rounding and minimums are the caller's business (see helpers)."""

    async def place_limit_order(
        self,
        symbol: str,
        side: Side,
        size: Decimal,
        price: Decimal,
        *,
        client_order_id: str,
        post_only: bool = False,
        reduce_only: bool = False,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> Order:
        return await self.place_order(
            OrderRequest(
                symbol=symbol,
                side=side,
                size=size,
                order_type=OrderType.LIMIT,
                client_order_id=client_order_id,
                price=price,
                post_only=post_only,
                reduce_only=reduce_only,
                time_in_force=time_in_force,
            )
        )

    async def place_market_order(
        self,
        symbol: str,
        side: Side,
        size: Decimal,
        *,
        client_order_id: str,
        reduce_only: bool = False,
    ) -> Order:
        return await self.place_order(
            OrderRequest(
                symbol=symbol,
                side=side,
                size=size,
                order_type=OrderType.MARKET,
                client_order_id=client_order_id,
                reduce_only=reduce_only,
                time_in_force=TimeInForce.IOC,
            )
        )

    @abstractmethod
    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        """Cancel by the venue's id; returns the order's final state."""

    @abstractmethod
    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        """Cancel by our client order id; returns the order's final state."""

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """Cancel every resting order (of ``symbol``); venues with a bulk call override this."""
        return [
            await self.cancel_order(order.symbol, order.venue_order_id)
            for order in await self.open_orders(symbol)
            if order.venue_order_id is not None
        ]

    @abstractmethod
    async def open_orders(self, symbol: str | None = None) -> list[Order]: ...

    @abstractmethod
    async def order_status(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        """One order by either id (finished orders included); ``OrderNotFound`` if unknown."""

    # --- account ---------------------------------------------------------------------------

    @abstractmethod
    async def positions(self) -> list[Position]: ...

    async def position(self, symbol: str) -> Position | None:
        return next((p for p in await self.positions() if p.symbol == symbol), None)

    @abstractmethod
    async def balance(self) -> Balance: ...

    @abstractmethod
    async def get_leverage(self, symbol: str) -> Decimal: ...

    @abstractmethod
    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        """Set leverage for ``symbol``; returns what the venue applied."""

    # --- streams ---------------------------------------------------------------------------

    def fills(self) -> Subscription[Fill]:
        """Every fill of this account from now on."""
        return self._fills.subscribe()

    def order_updates(self) -> Subscription[Order]:
        """Every order state change of this account from now on."""
        return self._order_updates.subscribe()

    def book_changes(self) -> BookChanges | None:
        """The client's book change counts (:mod:`exchange_clients.book_changes`), for a
        strategy that steps when the book moves; None: this client does not count them (the
        strategy steps on its timer)."""
        return None

    def reconnects(self) -> Subscription[Reconnected]:
        """Every reconnection of this client's streams from now on (not the first connect)."""
        return self._reconnects.subscribe()

    def _publish_reconnect(self) -> None:
        """Called by a client once it has resynced after a reconnection."""
        self._reconnects.publish(Reconnected(self.name, datetime.now(UTC)))

    def _publish_fill(self, fill: Fill) -> None:
        self._fills.publish(fill)

    def _publish_order(self, order: Order) -> None:
        self._order_updates.publish(order)

    # --- helpers for callers ---------------------------------------------------------------

    async def prepare_limit(
        self, symbol: str, side: Side, size: Decimal, price: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Size and price rounded to the market's grid and checked against its minimums."""
        market = await self.market(symbol)
        rounded_size, rounded_price = round_size(market, size), round_price(market, price, side)
        check_order_size(market, rounded_size, rounded_price)
        return rounded_size, rounded_price


__all__ = [
    "AuthenticationFailed",
    "Balance",
    "BaseExchangeClient",
    "BookSnapshot",
    "ClientSettings",
    "DuplicateClientOrderId",
    "ExchangeError",
    "FeeSchedule",
    "Fill",
    "FundingRate",
    "InsufficientMargin",
    "InvalidOrder",
    "Market",
    "MarketStats",
    "Order",
    "OrderNotFound",
    "OrderRejected",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Position",
    "PostOnlyWouldCross",
    "RateLimited",
    "Reconnected",
    "ReduceOnlyRejected",
    "RequestTimeout",
    "Side",
    "TimeInForce",
    "UnknownSymbol",
    "VenueUnavailable",
]
