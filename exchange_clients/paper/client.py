"""The paper venue behind the exchange client contract (DESIGN.md §4, §5).

:class:`PaperExchangeClient` serves ``paper``, ``paper_a`` and ``paper_b`` (fees and funding
schedule from :mod:`.profiles`). It runs the :class:`~.engine.PaperEngine` over a market feed
(the seeded synthetic market unless the ``feed`` option gives another), persists the account
through :class:`~.store.PaperStore`, and injects the failures of a :class:`~.faults.FaultPlan`.

Options (``ClientSettings.options``, see :mod:`.options`): ``feed``, ``clock`` (default the
system clock), ``seed`` (7), ``initial_balance`` (10,000 USD), ``database_url`` (default the
configured database), ``store: None`` (no persistence), ``faults``. The account is
``settings.account`` or ``"paper"``.

Ordering guarantees:

* every request that changes the account has its changes written to the database before it
  returns, and feed-driven changes (fills of resting orders, funding, liquidation) are written
  right after the feed event that caused them;
* fills and order updates are published after they are stored, in the order they happened;
  while a :class:`FaultPlan` keeps the client "disconnected" they are held and delivered on
  reconnection;
* one lock serialises draining the engine and writing, so a later state is never
  overwritten by an earlier one.

The feed consumer and the funding settlement run under a :class:`~core.tasks.TaskSupervisor`:
when either dies with an exception it is logged at once (name, traceback) and the venue is
"down" from then on: every request raises :class:`VenueUnavailable` naming what failed (the
prices it would match against can no longer be trusted), until ``disconnect()`` and
``connect()`` start afresh. :attr:`PaperExchangeClient.failure` says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal

from core.errors import (
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    RequestTimeout,
    UnknownSymbol,
    VenueUnavailable,
)
from core.logging_setup import get_logger
from core.tasks import TaskSupervisor
from database.engine import database_url
from database.schema_version import require_current_schema
from exchange_clients.base import BaseExchangeClient
from exchange_clients.book_changes import BookChanges
from exchange_clients.factory import register_client
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
    MarketFeed,
    TradeEvent,
)
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.order_book import OrderBookError
from exchange_clients.paper.changes import EngineChanges, FillEvent, fill_from_event
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.paper.faults import FaultPlan
from exchange_clients.paper.market_stats import PaperMarketStats
from exchange_clients.paper.options import PaperOptions, resolve_profile
from exchange_clients.paper.store import PaperStore
from exchange_clients.paper.tape import MarketTape, TapeBookChanges
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
    OrderType,
    Position,
)

DEFAULT_ACCOUNT = "paper"

BACKGROUND_WORK = {"feed": "market data feed", "funding": "funding settlement"}
"""The client's background tasks (supervisor names) and what their failure is called."""

log = get_logger(__name__)


@register_client("paper", "paper_a", "paper_b")
class PaperExchangeClient(BaseExchangeClient):
    """One simulated account on one paper venue."""

    venue = "paper"
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self.profile = resolve_profile(settings)
        self._options = PaperOptions.from_settings(settings, self.profile)
        self._clock = self._options.clock
        self._feed: MarketFeed = self._options.feed or SyntheticFeed(
            SyntheticMarket(self._options.seed, venue=settings.venue), self._clock
        )
        self.faults: FaultPlan = self._options.faults
        # A feed read on demand (:mod:`.tape`): the books the engine holds, by version, and
        # the change counts kept by the tape.
        self._tape = self._feed if isinstance(self._feed, MarketTape) else None
        self._tape_versions: dict[str, int] = {}
        self._stats = PaperMarketStats(self._feed, self.profile)
        # Every market trades on the profile's base tier: one schedule answers them all (a
        # funding scan asks it of every symbol on every venue).
        self._fees = FeeSchedule(
            maker=self.profile.maker_fee, taker=self.profile.taker_fee, source="simulated"
        )
        self.account = settings.account or DEFAULT_ACCOUNT
        self._engine: PaperEngine | None = None
        self._store: PaperStore | None = None
        self._tasks: TaskSupervisor | None = None
        self._background: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()
        self._committing = 0  # commits running or waiting for the lock
        self._unsaved: list[EngineChanges] = []
        self._held: list[EngineChanges] = []
        self._lost_connection = False
        self._book_changes = BookChanges() if self._tape is None else TapeBookChanges(self._tape)
        # Every fill since this client was created, by client order id (memory only).
        self._fill_history: dict[str, list[FillEvent]] = {}
        self._log = log.bind(venue=settings.venue, account=self.account)

    # --- lifecycle -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Load (or create) the account, sync every book with the feed, start streaming.

        Funding times that passed while the account was offline are settled now, at the
        current rate and mark (the positions were open all along).
        """
        if self._tasks is not None:
            return
        if self.faults.disconnected:
            raise VenueUnavailable("connection refused (fault injection)", venue=self.name)
        await self._start_feed()
        engine = self._engine or await self._open_engine()
        tape = self._tape
        for symbol in engine.markets():
            book = self._feed.snapshot(symbol)
            engine.apply_book_snapshot(symbol, book.bids, book.asks, book.sequence)
            engine.apply_funding_rate(self._feed.funding(symbol))
            if tape is not None:
                self._tape_versions[symbol] = tape.book_version(symbol)
        engine.settle_funding()
        await self._commit()
        tasks = TaskSupervisor(self.name, on_failure=self._background_failed)
        self._background = {
            "feed": tasks.spawn(
                self._consume_feed(engine) if tape is None else self._follow_tape(engine, tape),
                name="feed",
            ),
            "funding": tasks.spawn(self._settle_funding_on_time(engine), name="funding"),
        }
        self._tasks = tasks
        # Let both tasks start, so their first wait on the clock is registered before we
        # return: a manual clock moved right after connect() must wake them.
        await asyncio.sleep(0)

    async def disconnect(self) -> None:
        """Stop streaming and write what is left. Resting orders stay, as on a real venue.

        The tasks are cancelled while holding the write lock, so none is cut off half-way
        through a write.
        """
        tasks, self._tasks = self._tasks, None
        async with self._lock:
            for task in self._background.values():
                task.cancel()
        if tasks is not None:
            await tasks.aclose()
        self._background = {}
        try:
            await self._commit()
        finally:
            await self._stop_feed()
            if self._store is not None:
                await self._store.close()
                # The database holds the account now; the next connect() reloads it.
                self._store = None
                self._engine = None

    async def _start_feed(self) -> None:
        """Live feeds (a real venue's public data) connect first; synthetic ones need nothing."""
        start = getattr(self._feed, "start", None)
        if start is not None:
            await start()

    async def _stop_feed(self) -> None:
        stop = getattr(self._feed, "stop", None)
        if stop is not None:
            await stop()

    async def _open_engine(self) -> PaperEngine:
        engine = PaperEngine(
            venue=self.name,
            account=self.account,
            profile=self.profile,
            markets=self._feed.markets(),
            wallet=self._options.initial_balance,
            now=self._clock.now,
        )
        if self._options.persist:
            url = self._options.database_url or database_url()
            await require_current_schema(url)
            store = PaperStore(url, venue=self.name, account=self.account)
            try:
                snapshot = await store.open_account(engine.account_record())
                if snapshot is not None:
                    engine.restore(snapshot)
            except BaseException:
                await store.close()
                raise
            if snapshot is not None:
                self._log.info(
                    "paper account resumed",
                    wallet=str(snapshot.account.wallet),
                    open_orders=len(snapshot.open_orders),
                    positions=len(snapshot.positions),
                )
            self._store = store
        self._engine = engine
        return engine

    # --- market data -----------------------------------------------------------------------

    async def markets(self) -> dict[str, Market]:
        return self._feed.markets()

    async def market(self, symbol: str) -> Market:
        """Once connected, the engine's listing (the feed's markets when it was opened): a
        funding scan asks for every symbol, and copying the feed's whole list each time was
        the most of it. A symbol the engine does not list could not be traded anyway."""
        engine = self._engine
        if engine is None:
            return await super().market(symbol)
        return self._listed(engine, symbol)

    def _listed(self, engine: PaperEngine, symbol: str) -> Market:
        """The engine's listing of ``symbol`` (``UnknownSymbol`` naming this venue)."""
        try:
            return engine.market(symbol)
        except UnknownSymbol:
            raise UnknownSymbol(f"no market for {symbol!r}", venue=self.name) from None

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        engine = await self._request()
        if self._tape is not None:
            self._read_tape(engine, symbol)
        return engine.book_snapshot(symbol, depth)

    async def best_bid_ask(self, symbol: str) -> tuple[Decimal, Decimal]:
        """As the base class's (the best levels of ``order_book(symbol, 1)``), without
        building the snapshot."""
        engine = await self._request()
        if self._tape is not None:
            self._read_tape(engine, symbol)
        return self._best_bid_ask(engine, symbol)

    def _best_bid_ask(self, engine: PaperEngine, symbol: str) -> tuple[Decimal, Decimal]:
        bid, ask = engine.best_prices(symbol)
        if bid is None or ask is None:
            raise VenueUnavailable(f"{symbol} book is empty on one side", venue=self.name)
        return bid, ask

    async def funding_rate(self, symbol: str) -> FundingRate:
        return self._funding_rate(await self._request(), symbol)

    def _funding_rate(self, engine: PaperEngine, symbol: str) -> FundingRate:
        self._listed(engine, symbol)  # UnknownSymbol before asking the feed
        if self._tape is not None:
            self._read_tape(engine, symbol)
        engine.apply_funding_rate(self._feed.funding(symbol))
        return engine.funding_rate(symbol)

    async def quote(self, symbol: str) -> tuple[FundingRate, Decimal, Decimal, FeeSchedule]:
        """The base class's three reads as one request: a funding scan asks it of every
        symbol on every venue. The answer is theirs: the second read is a request of its own
        when one would differ - a latency to wait each, or something to write first (a book
        the first read loaded filled an order) - and the fees are the listing's, checked by
        the first (which brought the book up to the tape too)."""
        if self.faults.latency:
            return await super().quote(symbol)
        engine = await self._request()
        funding = self._funding_rate(engine, symbol)
        if self._must_write(engine):
            bid, ask = await self.best_bid_ask(symbol)
        else:
            bid, ask = self._best_bid_ask(engine, symbol)
        return funding, bid, ask, self._fees

    async def fees(self, symbol: str) -> FeeSchedule:
        """The profile's fees: every paper account trades on the venue's base tier. (Checks
        the listing as :meth:`market` does, without awaiting it: a funding scan asks for
        every symbol on every venue.)"""
        engine = self._engine
        if engine is None:
            await super().market(symbol)
        else:
            self._listed(engine, symbol)
        return self._fees

    async def market_stats(self) -> dict[str, MarketStats]:
        """See :mod:`.market_stats`: the watched market's traded notional, the profile's OI."""
        return self._stats.stats(self._clock.now())

    # --- trading ---------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        engine = await self._request()
        if request.order_type is OrderType.STOP_MARKET and not self.supports_trigger_orders:
            # A subclass (or a test) that plays a venue without trigger orders.
            raise InvalidOrder(
                f"{request.symbol}: {self.name} has no trigger orders", venue=self.name
            )
        if self._tape is not None:
            self._read_tape(engine, request.symbol)
        faults = self.faults
        if faults.rejects_placement():
            raise OrderRejected(
                f"{request.symbol}: order {request.client_order_id!r} rejected (fault injection)",
                venue=self.name,
            )
        order = engine.place(request, fill_cap=faults.fill_ratio)
        await self._commit()
        if faults.times_out_placement():
            raise RequestTimeout(
                f"{request.symbol}: no answer for order {request.client_order_id!r} "
                "(fault injection: the order landed)",
                venue=self.name,
            )
        return order.snapshot()

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        order = (await self._request()).cancel(symbol, venue_order_id=venue_order_id)
        await self._commit()
        return order.snapshot()

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        order = (await self._request()).cancel(symbol, client_order_id=client_order_id)
        await self._commit()
        return order.snapshot()

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [order.snapshot() for order in (await self._request()).open_orders(symbol)]

    async def order_status(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> Order:
        engine = await self._request()
        try:
            return engine.order(
                symbol, venue_order_id=venue_order_id, client_order_id=client_order_id
            ).snapshot()
        except OrderNotFound:
            # Finished before the last restart: only the database still has it.
            if self._store is None:
                raise
            found = await self._store.find_order(
                symbol, venue_order_id=venue_order_id, client_order_id=client_order_id
            )
            if found is None:
                raise
            return found

    async def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]:
        """The fills of one order, as the streams delivered them (same ids), oldest first.

        Real venues keep a trade history that a restarted bot reads to find the executions its
        streams missed. The paper venue keeps it in memory since this client was created (fills
        are not part of the persisted account): after a restart of the process, the orders of
        before have none, and the caller records a synthetic fill instead.
        """
        await self._request()
        return [
            fill_from_event(self.name, event)
            for event in self._fill_history.get(client_order_id, ())
            if event[0].symbol == symbol
        ]

    # --- account ---------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        return (await self._request()).positions()

    async def position(self, symbol: str) -> Position | None:
        """The base class's lookup in one coroutine instead of two: a strategy reads it on
        every step (~7 % of a 3 h L2 backtest's strategy step)."""
        for position in (await self._request()).positions():
            if position.symbol == symbol:
                return position
        return None

    async def balance(self) -> Balance:
        return (await self._request()).balance()

    async def get_leverage(self, symbol: str) -> Decimal:
        return (await self._request()).leverage(symbol)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        applied = (await self._request()).set_leverage(symbol, leverage)
        await self._commit()
        return applied

    # --- health ----------------------------------------------------------------------------

    @property
    def failure(self) -> str | None:
        """Why this client cannot serve requests (a background task died); None while it can.

        Read from the tasks themselves, not from the failure callback, so a request made in
        the same loop turn as the failure already sees it. A feed that simply ended (a
        finished replay) is not a failure: the last book stays.
        """
        for name, task in self._background.items():
            if task.done() and not task.cancelled() and task.exception() is not None:
                return f"the {BACKGROUND_WORK[name]} failed: {task.exception()!r}"
        return None

    def _background_failed(self, task: str, error: BaseException) -> None:
        """The supervisor logged the traceback; say what it means for this venue."""
        self._log.error(
            "paper venue down: every request fails until disconnect() and connect()",
            task=task,
            reason=self.failure or f"{task}: {error!r}",
        )

    # --- internals -------------------------------------------------------------------------

    async def _request(self) -> PaperEngine:
        """The engine, once the request has "reached" the venue (latency, disconnects)."""
        faults = self.faults
        if faults.latency:
            await self._clock.sleep(faults.latency)
        if faults.disconnected:
            self._lost_connection = True  # the first request through after it: reconnected
            raise VenueUnavailable("connection lost (fault injection)", venue=self.name)
        if self._lost_connection:
            self._lost_connection = False
            self._publish_reconnect()
        engine = self._engine
        if engine is None or self._tasks is None:
            raise VenueUnavailable("not connected: call connect() first", venue=self.name)
        for task in self._background.values():
            if task.done():  # only then can there be a failure (asked of every request)
                failure = self.failure
                if failure is not None:
                    # A feed that ended (a finished replay) leaves the last book; one that
                    # failed leaves nothing to trust, and unsettled funding a wrong balance.
                    raise VenueUnavailable(failure, venue=self.name)
                break
        engine.never_fill = faults.never_fill
        if self._must_write(engine):
            await self._commit()
        return engine

    def _must_write(self, engine: PaperEngine) -> bool:
        """Whether a request must write before it answers: only from saved state, or a match
        the feed consumer is still writing would be reported before it is durable (and a crash
        make the venue forget what it said). Nothing to write and no commit running or waiting:
        a commit would do nothing at once."""
        return bool(
            self._committing
            or self._lock.locked()
            or engine.has_changes
            or self._unsaved
            or self._held
        )

    async def _commit(self) -> None:
        """Store what changed, then publish it (unless the connection is "down")."""
        self._committing += 1
        try:
            await self._write_and_publish()
        finally:
            self._committing -= 1

    async def _write_and_publish(self) -> None:
        async with self._lock:
            engine = self._engine
            if engine is not None and engine.has_changes:
                changes = engine.drain()
                if self._options.on_changes is not None:
                    self._options.on_changes(changes)
                for event in changes.fill_events:
                    self._fill_history.setdefault(event[0].client_order_id, []).append(event)
                self._unsaved.append(changes)
            while self._unsaved:
                changes = self._unsaved[0]
                if self._store is not None:
                    await self._store.save(changes)  # on failure: retried by the next commit
                self._held.append(self._unsaved.pop(0))
            if self.faults.disconnected:
                return
            held, self._held = self._held, []
            if self.faults.silent_streams:
                return
            for changes in held:
                self._publish(changes)

    def _publish(self, changes: EngineChanges) -> None:
        # Building the public objects costs more than matching did: only for listeners.
        if self._order_updates.subscriber_count:
            for order in changes.order_updates():
                self._publish_order(order)
        if self._fills.subscriber_count:
            for fill in changes.fills():
                self._publish_fill(fill)

    def book_changes(self) -> BookChanges:
        """Counted for every book update the feed delivers (applied before it is counted)."""
        return self._book_changes

    async def _consume_feed(self, engine: PaperEngine) -> None:
        events = self._feed.events()
        changed = self._book_changes.changed
        try:  # a failure is logged by the supervisor (``_background_failed``)
            async for event in events:
                engine.never_fill = self.faults.never_fill
                if event.__class__ is BookDeltaEvent:  # most events: straight to the engine
                    self._apply_delta(engine, event)
                    changed(event.symbol)
                else:
                    self._apply(engine, event)
                    if isinstance(event, BookDeltaEvent | BookSnapshotEvent):
                        changed(event.symbol)
                if engine.has_changes or (self._held and not self.faults.disconnected):
                    await self._commit()
        finally:
            # Tell the feed we stopped listening (its stream may hold a socket or a file).
            if isinstance(events, AsyncGenerator):
                await events.aclose()

    def _read_tape(self, engine: PaperEngine, symbol: str) -> None:
        """Bring ``symbol``'s book up to the tape before a request reads it (see :mod:`.tape`):
        the snapshot of the symbol's current version, loaded as its arrival would have left
        it. An unknown symbol is left to the engine (``UnknownSymbol``)."""
        tape = self._tape
        seen = self._tape_versions.get(symbol)
        if tape is None or seen is None:
            return
        version = tape.book_version(symbol)
        if version != seen:
            self._load_tape_book(engine, tape, symbol, version)

    def _load_tape_book(
        self, engine: PaperEngine, tape: MarketTape, symbol: str, version: int
    ) -> None:
        if symbol in engine.active_symbols():  # as it arrives: matching, stops, liquidation
            book = tape.book(symbol, version)
            self._tape_versions[symbol] = version
            engine.apply_book_snapshot(symbol, book.bids, book.asks, book.sequence)
            return
        top = tape.book_top(symbol, version)  # what a quote reads; the rest when read
        if top is not None:
            self._tape_versions[symbol] = version
            engine.refresh_top(symbol, top)
            return
        book = tape.book(symbol, version)
        self._tape_versions[symbol] = version
        engine.refresh_book(symbol, book.bids, book.asks, book.sequence)

    async def _follow_tape(self, engine: PaperEngine, tape: MarketTape) -> None:
        """:meth:`_consume_feed` for a tape: at each time the feed would have delivered
        events, the books that changed are applied only on the symbols that are active (the
        others when read, :meth:`_read_tape`), in the order their events came; the
        liquidation check every arrival ran is run where the first of them arrived."""
        changes = tape.changes()
        counted = self._book_changes
        assert isinstance(counted, TapeBookChanges)
        try:  # a failure is logged by the supervisor (``_background_failed``)
            async for changed in changes:
                engine.never_fill = self.faults.never_fill
                if not changed:  # only funding moved: read when asked
                    await self._commit_after_event(engine)
                elif counted.waiting:  # one at a time, each change counted as it comes
                    for symbol in changed:
                        self._tape_arrival(engine, tape, symbol)
                        counted.changed(symbol)
                        await self._commit_after_event(engine)
                else:
                    active = engine.active_symbols()
                    if changed[0] not in active:
                        engine.check_liquidation()
                        await self._commit_after_event(engine)
                    for symbol in changed:
                        if symbol in active:
                            self._tape_arrival(engine, tape, symbol)
                            await self._commit_after_event(engine)
        finally:
            await changes.aclose()

    def _tape_arrival(self, engine: PaperEngine, tape: MarketTape, symbol: str) -> None:
        """What the arrival of ``symbol``'s new book does: applied on an active symbol, else
        only the liquidation check (the book waits for a reader)."""
        if symbol in engine.active_symbols():
            self._load_tape_book(engine, tape, symbol, tape.book_version(symbol))
        else:
            engine.check_liquidation()

    async def _commit_after_event(self, engine: PaperEngine) -> None:
        if engine.has_changes or (self._held and not self.faults.disconnected):
            await self._commit()

    def _apply_delta(self, engine: PaperEngine, event: BookDeltaEvent) -> None:
        try:
            engine.apply_book_delta(
                event.symbol,
                event.bids,
                event.asks,
                first_sequence=event.first_sequence,
                last_sequence=event.last_sequence,
            )
        except OrderBookError as exc:
            self._log.warning("paper book resync", symbol=event.symbol, reason=str(exc))
            book = self._feed.snapshot(event.symbol)
            engine.apply_book_snapshot(event.symbol, book.bids, book.asks, book.sequence)

    def _apply(self, engine: PaperEngine, event: MarketEvent) -> None:
        if isinstance(event, BookDeltaEvent):
            self._apply_delta(engine, event)
        elif isinstance(event, TradeEvent):
            engine.apply_trade(event.symbol, event.price, event.size, event.taker_side)
            self._stats.observe(event.symbol, event.price, event.size, event.ts)
        elif isinstance(event, BookSnapshotEvent):
            engine.apply_book_snapshot(event.symbol, event.bids, event.asks, event.sequence)
        elif isinstance(event, FundingEvent):
            engine.apply_funding_rate(event.rate)

    async def _settle_funding_on_time(self, engine: PaperEngine) -> None:
        """Wake at each funding time and settle it with the feed's rate at that moment."""
        while True:
            wait = (engine.next_funding_time() - self._clock.now()).total_seconds()
            if wait > 0:
                await self._clock.sleep(wait)
                continue
            # Read on demand, a tape's funding matters only where it is paid.
            symbols = engine.markets() if self._tape is None else engine.held_symbols()
            for symbol in symbols:
                engine.apply_funding_rate(self._feed.funding(symbol))
            engine.settle_funding()
            await self._commit()
