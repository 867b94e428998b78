"""The base of every native venue client: what Hyperliquid, Binance-style, Backpack and Lighter
do alike, written once (compare hummingbot's ``ExchangePyBase``).

A venue supplies its REST/WS primitives and wire mapping:

* ``transport`` (its REST session), ``_start()`` (load markets, check credentials, start the
  streams) and ``_stop_streams()``;
* ``_fetch_markets()`` plus how a market record shows as a :class:`Market` and which venue key
  finds it (``_market_view`` / ``_market_key``);
* the contract's trading and account primitives (``place_order``, ``positions`` ...), and
  ``_order_status()``: ``order_status`` once the symbol is known to be listed;
* ``_recover_fills()``: publish, through :meth:`_publish_fill_once`, the fills a reconnection
  may have hidden.

The base gives every venue the same guarantees:

* ``connect()`` is idempotent, and a failed one closes whatever it opened;
* a client order id this process has sent is refused locally (``DuplicateClientOrderId``),
  finished orders included, before anything reaches the venue;
* fills and order states are published once each (:mod:`.ledger`);
* after a reconnection, :meth:`_resync` publishes the missed fills and refreshes every order
  still resting, so nothing that happened while disconnected is lost.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from core.errors import DuplicateClientOrderId, ExchangeError, OrderNotFound
from core.logging_setup import get_logger
from exchange_clients.base import BaseExchangeClient
from exchange_clients.native.ledger import PublishLedger
from exchange_clients.native.markets import MarketCache
from exchange_clients.types import BookSnapshot, ClientSettings, Fill, Market, Order
from networking.http import RestTransport
from networking.rate_limit import TokenBucket

log = get_logger(__name__)

R = TypeVar("R")
"""A venue's market record (a :class:`Market`, or a richer type that carries one)."""

Levels = Iterable[tuple[Decimal, Decimal]]


class NativeVenueClient(BaseExchangeClient, Generic[R]):
    """One account on a venue reached through its own API (not through ccxt)."""

    def __init__(self, settings: ClientSettings, *, markets_ttl: float | None = None) -> None:
        super().__init__(settings)
        self._connected = False
        self._market_cache: MarketCache[R] = MarketCache(
            settings.venue,
            self._fetch_markets,
            view=self._market_view,
            key=self._market_key,
            ttl=markets_ttl,
        )
        self._sent_ids: set[str] = set()
        self._ledger = PublishLedger()
        self._tracked: dict[str, str] = {}
        """Venue order id -> symbol of the orders whose final state is still awaited."""

    # --- venue primitives ------------------------------------------------------------------

    @property
    @abstractmethod
    def transport(self) -> RestTransport:
        """The REST session (opened by ``connect()``, closed by ``disconnect()``)."""

    @abstractmethod
    async def _start(self) -> None:
        """Load markets, check credentials, start the streams (the transport is open)."""

    @abstractmethod
    async def _stop_streams(self) -> None:
        """Stop whatever ``_start`` started; also called after a failed ``_start``."""

    @abstractmethod
    async def _fetch_markets(self) -> Iterable[R]:
        """Every listed perpetual, as the venue's records."""

    @abstractmethod
    def _market_view(self, record: R) -> Market: ...

    @abstractmethod
    def _market_key(self, record: R) -> Hashable:
        """The key wire messages name the market by (contract id, coin, market id)."""

    @abstractmethod
    async def _order_status(
        self, record: R, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        """:meth:`order_status` in a listed market; ``ValueError`` when neither id is given."""

    @abstractmethod
    async def _recover_fills(self) -> None:
        """Publish the fills a reconnection may have hidden (via :meth:`_publish_fill_once`)."""

    # --- configuration helpers -------------------------------------------------------------

    def _endpoint(self, option: str, mainnet: str, testnet: str) -> str:
        """The ``option`` override, else the host of the configured network."""
        default = testnet if self.settings.testnet else mainnet
        return str(self.settings.options.get(option) or default)

    def _per_minute_limit(self, default: float) -> TokenBucket:
        """The venue's request budget: the ``rate_limit_per_minute`` option, else ``default``."""
        return TokenBucket.per_minute(
            float(str(self.settings.options.get("rate_limit_per_minute", default)))
        )

    def _rest_transport(self, base_url: str, limiter: TokenBucket) -> RestTransport:
        """A REST session with the ``timeout`` (10 s) and ``retries`` (3) options applied."""
        options = self.settings.options
        return RestTransport(
            self.name,
            base_url,
            limiter=limiter,
            timeout=float(str(options.get("timeout", 10.0))),
            retries=int(str(options.get("retries", 3))),
            proxy_url=self.settings.proxy_url,
        )

    # --- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._connected:
            return
        await self.transport.open()
        try:
            await self._start()
        except BaseException:
            await self._shutdown()
            raise
        self._connected = True

    async def disconnect(self) -> None:
        await self._shutdown()
        self._connected = False

    async def _shutdown(self) -> None:
        await self._stop_streams()
        await self.transport.close()

    # --- markets ---------------------------------------------------------------------------

    async def markets(self) -> dict[str, Market]:
        return await self._market_cache.markets()

    async def _record(self, symbol: str) -> R:
        """The venue's record of ``symbol``; ``UnknownSymbol`` if it is not listed."""
        return await self._market_cache.get(symbol)

    def _record_of(self, key: object) -> R | None:
        """The record a wire message names (``None``: not a market of ours)."""
        return self._market_cache.by_key(key) if isinstance(key, Hashable) else None

    @staticmethod
    def _book_snapshot(
        market: Market, bids: Levels, asks: Levels, sequence: int | None
    ) -> BookSnapshot:
        """A snapshot of venue-unit levels, in internal units, stamped now."""
        return BookSnapshot(
            symbol=market.symbol,
            bids=tuple((market.from_venue_price(p), market.from_venue_size(q)) for p, q in bids),
            asks=tuple((market.from_venue_price(p), market.from_venue_size(q)) for p, q in asks),
            ts=datetime.now(UTC),
            sequence=sequence,
        )

    def _check_leverage(self, market: Market, leverage: Decimal) -> None:
        """A whole number from 1 to the market's maximum, as venues with integer leverage want."""
        if leverage != leverage.to_integral_value() or not 1 <= leverage <= market.max_leverage:
            raise ExchangeError(
                f"{market.symbol}: leverage must be a whole number from 1 to "
                f"{market.max_leverage}, not {leverage}",
                venue=self.name,
            )

    async def order_status(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        return await self._order_status(await self._record(symbol), venue_order_id, client_order_id)

    # --- client order ids ------------------------------------------------------------------

    def _refuse_sent_id(self, client_order_id: str) -> None:
        """``DuplicateClientOrderId`` for an id this process has already sent."""
        if client_order_id in self._sent_ids:
            raise DuplicateClientOrderId(client_order_id, venue=self.name)

    def _claim_id(self, client_order_id: str) -> None:
        """The id is taken from now on, whatever the venue answers."""
        self._sent_ids.add(client_order_id)

    def _release_id(self, client_order_id: str) -> None:
        """The venue refused the order outright: no order exists under the id."""
        self._sent_ids.discard(client_order_id)

    # --- publishing once -------------------------------------------------------------------

    def _track(self, order: Order) -> None:
        """Await a resting order's final state (refreshed on resync); forget a finished one."""
        if order.venue_order_id is None:
            return
        if order.status.is_final:
            self._tracked.pop(order.venue_order_id, None)
        else:
            self._tracked[order.venue_order_id] = order.symbol

    def _publish_fill_once(self, fill: Fill) -> bool:
        """Publish ``fill`` unless it already was; True when published."""
        if not self._ledger.take_fill(fill):
            return False
        self._publish_fill(fill)
        return True

    def _publish_order_once(self, order: Order) -> bool:
        """Publish an order state unless it is no news (see :mod:`.ledger`)."""
        if not self._ledger.take_order(order):
            return False
        self._track(order)
        self._publish_order(order)
        return True

    # --- after a reconnection --------------------------------------------------------------

    async def _resync(self) -> None:
        """The fills missed while disconnected, then the state of every tracked order; then
        ``reconnects()`` subscribers are told (also when the resync failed: they re-check)."""
        try:
            await self._recover_fills()
            await self._refresh_orders()
        finally:
            self._publish_reconnect()
        log.info("stream_resynced", venue=self.name, tracked=len(self._tracked))

    async def _refresh_orders(self) -> None:
        for venue_order_id, symbol in list(self._tracked.items()):
            try:
                fresh = await self.order_status(symbol, venue_order_id=venue_order_id)
            except OrderNotFound:
                continue
            self._publish_order_once(fresh)


class ContractMarketsClient(NativeVenueClient[Market]):
    """A native venue whose market record is the :class:`Market` itself, keyed by contract id."""

    def _market_view(self, record: Market) -> Market:
        return record

    def _market_key(self, record: Market) -> Hashable:
        return record.contract_id
