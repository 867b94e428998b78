"""The order journal: every order intent is in the database before it reaches a venue.

A crash between "decided to trade" and "venue acknowledged" is the moment money gets lost:
an order that landed but was never recorded is a position nobody manages; an order that was
recorded as sent but never landed must not be waited for forever. So:

* :meth:`OrderJournal.record_intent` commits the intent (status ``pending``) *before* the
  caller sends it; a retry after a timeout re-sends under the same client order id, which
  the venue refuses as a duplicate if the first attempt landed. On the dedicated intent
  connection (:mod:`execution.intent_writer`) the intent is a small ``order_intents`` row;
  the journal moves it into ``orders`` in a transaction of its writer, queued on the loop's
  next turn - once the order is on its way - so it costs the send nothing. Reads wait for the
  moves in flight (registered at once); intents a crash left unmoved are moved at start-up
  (:func:`reconcile`) or by the first write that needs them;
* :meth:`OrderJournal.record_order` applies every state the venue reports, monotonically
  (:mod:`execution.order_state`: a final status is never replaced, the filled size never
  shrinks - a late, stale update cannot undo a fill);
* :meth:`OrderJournal.record_fill` stores each execution once, keyed by the venue's fill id;
* :func:`reconcile` runs at start: every unfinished intent is looked up by client order id and
  adopted with its real state, marked ``failed`` when the venue never saw it (``lost`` when it
  is too recent to be sure), or cancelled when it should no longer rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from core.errors import OrderNotFound, TradingError
from database.models import Fill as FillRow
from database.models import Order as OrderRow
from database.models import PendingIntent, ReservedOrderId
from database.types import utcnow
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from execution.client_ids import ClientOrderIds
from execution.fill_history import venue_fills
from execution.group_commit import GroupCommitter
from execution.intent_writer import (
    DuplicateIntent,
    IntentWriter,
    decode_row,
    encode_row,
    now_us,
    row_values,
)
from execution.order_state import is_stale_status, merge_order_state
from execution.reserved_ids import Reservation, ReservedIds, delete_reservations
from execution.venue_lookup import cancel_on_venue, order_on_venue

log = structlog.get_logger(__name__)

UNFINISHED = tuple(s.value for s in OrderStatus if not s.is_final)
# Tables for the hot writes, which are Core statements (no unit of work; see _apply_states).
_ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
_FILLS: Table = FillRow.__table__  # type: ignore[assignment]
_INTENTS: Table = PendingIntent.__table__  # type: ignore[assignment]
# What merging a reported state needs of a journaled order (and its row id), read as plain
# rows, never as ORM objects (see _apply_states).
_STATE_COLUMNS = (
    "id",
    "client_order_id",
    "venue_order_id",
    "venue",
    "symbol",
    "side",
    "size",
    "filled_size",
    "status",
    "purpose",
    "operation_id",
    "created_at",
    "order_type",
    "price",
    "avg_fill_price",
    "reduce_only",
    "trigger_price",
)
# The hot statements: Core (the ORM's statement handling costs more than SQLite's execution
# of them), built once with bound parameters, so each is compiled once and found in the
# compiled cache without building or hashing a new statement per write. Being Core, they do
# not flush the session first: :func:`_flushed` does.
_SELECT_STATES = select(*(_ORDERS.c[name] for name in _STATE_COLUMNS)).where(
    _ORDERS.c.client_order_id.in_(bindparam("client_order_ids", expanding=True)),
    _ORDERS.c.bot_id == bindparam("bot_id"),
)
_SELECT_KNOWN_FILLS = select(_FILLS.c.venue, _FILLS.c.venue_fill_id).where(
    _FILLS.c.venue_fill_id.in_(bindparam("fill_ids", expanding=True))
)
_INSERT_ORDER = insert(_ORDERS)
_INSERT_FILLS = insert(_FILLS)
# SET takes the columns the parameters name (those that change), WHERE the row id.
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("row_id"))
_DELETE_INTENT = delete(_INTENTS).where(
    _INTENTS.c.client_order_id == bindparam("intent_client_order_id")
)
_RESERVATIONS: Table = ReservedOrderId.__table__  # type: ignore[assignment]
_DELETE_RESERVATION = delete(_RESERVATIONS).where(
    _RESERVATIONS.c.client_order_id == bindparam("reserved_client_order_id")
)
SYNTHETIC_FILL_PREFIX = "synthetic:"
DEFAULT_GRACE = timedelta(seconds=5)


class JournalError(TradingError):
    """The journal refused a write that would corrupt the record (a bug in the caller)."""


@dataclass(slots=True)
class OrderIntent:
    """An order we are about to send, and why.

    Not frozen: it lives for one call on the order's critical path, where a frozen
    dataclass's ``object.__setattr__`` per field costs a few microseconds more."""

    client_order_id: str
    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    size: Decimal
    price: Decimal | None = None
    reduce_only: bool = False
    post_only: bool = False
    purpose: str | None = None
    operation_id: str | None = None
    trigger_price: Decimal | None = None
    """STOP_MARKET intents: the mark price that arms the order on the venue."""

    @classmethod
    def for_request(
        cls,
        request: OrderRequest,
        *,
        venue: str,
        purpose: str | None = None,
        operation_id: str | None = None,
    ) -> OrderIntent:
        """The intent of sending ``request`` to ``venue``."""
        return cls(
            client_order_id=request.client_order_id,
            venue=venue,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            size=request.size,
            price=request.price,
            reduce_only=request.reduce_only,
            post_only=request.post_only,
            purpose=purpose,
            operation_id=operation_id,
            trigger_price=request.trigger_price,
        )


@dataclass
class RecoveredFills:
    """What :meth:`OrderJournal.record_recovered_fills` added."""

    venue_fill_ids: list[str] = field(default_factory=list)
    synthetic_size: Decimal = Decimal(0)


@dataclass(frozen=True)
class JournaledOrder:
    """An order as the journal holds it."""

    client_order_id: str
    venue_order_id: str | None
    venue: str
    symbol: str
    side: Side
    size: Decimal
    filled_size: Decimal
    status: OrderStatus
    purpose: str | None
    operation_id: str | None
    created_at: datetime
    order_type: OrderType = OrderType.LIMIT
    price: Decimal | None = None
    avg_fill_price: Decimal | None = None
    reduce_only: bool = False
    trigger_price: Decimal | None = None

    def as_order(self) -> Order:
        """The order as last journaled (for a venue that no longer remembers it)."""
        return Order(
            client_order_id=self.client_order_id,
            venue_order_id=self.venue_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            size=self.size,
            price=self.price,
            status=self.status,
            filled_size=self.filled_size,
            avg_fill_price=self.avg_fill_price,
            reduce_only=self.reduce_only,
            trigger_price=self.trigger_price,
        )


class OrderJournal:
    """The orders of one bot, on the venues it trades (venue name -> database account id)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        bot_id: int,
        accounts: Mapping[str, int],
        committer: GroupCommitter | None = None,
        intent_writer: IntentWriter | None = None,
    ) -> None:
        self._sessions = sessions
        self._bot_id = bot_id
        self._accounts = dict(accounts)
        # Writes share transactions, intents first (see execution.group_commit).
        self._committer = committer or GroupCommitter(sessions)
        # The intents' own connection, held open (execution.intent_writer); None: the
        # shared writer commits them too.
        self._intent_writer = intent_writer
        if intent_writer is not None:
            # Its connection re-reads what the next intent needs after each of our commits,
            # instead of inside the next intent's insert (see SqliteIntentWriter.refresh).
            self._committer.after_commit(intent_writer.refresh)
        # Intents committed to ``order_intents`` whose move into ``orders`` is queued.
        self._moving: dict[str, asyncio.Future[None]] = {}
        # Client order ids committed ahead (execution.reserved_ids), when reserving; and the
        # orders sent under one whose ``orders`` row is not written yet: their fields.
        self._reserved: ReservedIds | None = None
        self._taken: dict[str, tuple[OrderIntent, int]] = {}  # and when (now_us)

    async def close(self) -> None:
        """Finish moving intents into ``orders``, release the client order ids reserved and
        not taken, then close the dedicated intent connection, if any (the journal writes no
        more intents)."""
        await self.settled()
        if self._taken:  # a move that failed: one more try (else the next start adopts it)
            try:
                await self._committer.run(self._move_taken_work(set(self._taken)))
            except Exception as exc:
                log.error("orders sent under reserved ids not written", error=repr(exc))
        reserved, self._reserved = self._reserved, None
        if reserved is not None:
            try:
                await reserved.release()
            except Exception as exc:  # left for the next start to resolve on the venue
                log.error("reserved client order ids not released", error=repr(exc))
        writer, self._intent_writer = self._intent_writer, None
        if writer is not None:
            await writer.close()

    @property
    def bot_id(self) -> int:
        return self._bot_id

    def reserve_ids_ahead(self, ids: ClientOrderIds) -> None:
        """Keep client order ids from ``ids`` committed ahead for the orders to come
        (:mod:`execution.reserved_ids`) - only with a dedicated intent connection: where
        intents share the journal's writer (a backtest) nothing would be gained."""
        if self._intent_writer is not None and self._reserved is None:
            self._reserved = ReservedIds(
                self._committer,
                bot_id=self._bot_id,
                accounts=self._accounts,
                ids=ids,
            )

    @property
    def reserved_ids(self) -> ReservedIds | None:
        """The ids committed ahead (None: every order journals its intent before its send)."""
        return self._reserved

    @property
    def accounts(self) -> Mapping[str, int]:
        """Venue name -> database account id of the venues this journal records."""
        return dict(self._accounts)

    @property
    def committer(self) -> GroupCommitter:
        """The process's writer: share it (strategy state) so writes queue instead of collide."""
        return self._committer

    def expedite(self) -> None:
        """Write deferred changes now instead of waiting for company (a flush)."""
        self._committer.expedite()

    def _account_of(self, venue: str) -> int:
        try:
            return self._accounts[venue]
        except KeyError:
            raise JournalError(f"no account configured for venue {venue!r}") from None

    def _row_of(self, intent: OrderIntent, created_us: int) -> tuple[Any, ...]:
        """The intent's fields (ROW_FIELDS): no values dict on the order's critical path."""
        account_id = self._account_of(intent.venue)
        price, trigger = intent.price, intent.trigger_price
        return (
            intent.client_order_id,
            self._bot_id,
            intent.venue,
            account_id,
            intent.symbol,
            intent.side,
            intent.order_type.value,
            None if price is None else str(price),
            None if trigger is None else str(trigger),
            str(intent.size),
            intent.reduce_only,
            intent.post_only,
            intent.purpose,
            intent.operation_id,
            created_us,
        )

    def record_taken_intent(self, intent: OrderIntent) -> None:
        """Journal an order sent under a reserved client order id
        (:meth:`ReservedIds.take`): its id is committed already, so the order may be sent at
        once; its ``orders`` row is written on the loop's next turn, after the send, and its
        reservation deleted in the same transaction. Reads wait for that write, and a write
        about the order that comes first writes the row itself."""
        if intent.operation_id is not None:
            # Recovery finds a leg by its operation id, which only the row holds.
            raise JournalError("an order of an operation cannot be sent under a reserved id")
        self._account_of(intent.venue)  # refused before the send, as _row_of would later
        # Only noted: the row's fields are worked out in the write, after the send.
        self._taken[intent.client_order_id] = (intent, now_us())
        self._move_soon(intent.client_order_id, self._move_taken_work({intent.client_order_id}))

    async def record_intent(self, intent: OrderIntent) -> None:
        """Commit the intent; only after this returns may the order be sent."""
        # One text for the intent connection (the move into ``orders`` reads it back, after
        # the send); the ``orders`` values at once without one.
        row = self._row_of(intent, now_us())
        if self._intent_writer is not None:
            if intent.client_order_id in self._moving:
                # Its move is in flight: on PostgreSQL the insert below could pass while the
                # move's transaction deletes the pending row and has not yet committed the
                # ``orders`` one (the statement's snapshot sees neither).
                raise JournalError(
                    f"client order id {intent.client_order_id!r} is already journaled"
                )
            text = encode_row(row)
            try:
                await self._intent_writer.insert(intent.client_order_id, self._bot_id, text)
            except DuplicateIntent:
                raise JournalError(
                    f"client order id {intent.client_order_id!r} is already journaled"
                ) from None
            self._move_soon(intent.client_order_id, _move_intent_work(intent.client_order_id, text))
            return
        values = row_values(row)

        async def work(session: AsyncSession) -> None:
            # One Core INSERT, not the unit of work: a duplicate id fails here, in this write
            # alone (the values are parameters: one cached statement for every intent).
            await session.execute(_INSERT_ORDER, values)

        try:
            await self._committer.run(work)
        except IntegrityError:
            raise JournalError(
                f"client order id {intent.client_order_id!r} is already journaled"
            ) from None

    def _move_soon(
        self, client_order_id: str, work: Callable[[AsyncSession], Awaitable[Any]]
    ) -> None:
        """Queue the move of a committed intent into ``orders`` once its order is on its way
        (``work``: the writer's part; an order under a reserved id is written the same way).

        Nobody waits for the move. It is handed to the writer by a callback on the loop's next
        turn, which comes when the sending task first yields - after the order has left - so
        queueing it (the writer's job and task, the futures) is not paid between the intent
        and the send (~20-40 us of a cold tick-to-order path here). It is registered in
        ``_moving`` at once: a read from now on waits for it (:meth:`settled`)."""
        loop = asyncio.get_running_loop()
        moving: asyncio.Future[None] = loop.create_future()
        self._moving[client_order_id] = moving
        loop.call_soon(self._queue_move, client_order_id, work, moving)

    def _queue_move(
        self,
        client_order_id: str,
        work: Callable[[AsyncSession], Awaitable[Any]],
        moving: asyncio.Future[None],
    ) -> None:
        def ended(error: BaseException | None) -> None:
            self._moving.pop(client_order_id, None)
            if error is None:
                self._taken.pop(client_order_id, None)
            else:
                # The intent stays in ``order_intents`` (or, sent under a reserved id, in
                # ``_taken``): the next write about the order or ``close`` writes it; else the
                # next start does (from the intent, or from the venue for a reserved id).
                log.error(
                    "intent not moved into orders yet",
                    client_order_id=client_order_id,
                    error=repr(error),
                )
            moving.set_result(None)

        try:
            submitted = self._committer.submit(work)
        except Exception as exc:  # never leave a reader waiting for a move that cannot come
            ended(exc)
            return
        submitted.add_done_callback(lambda f: ended(None if f.cancelled() else f.exception()))

    async def settled(self) -> None:
        """Wait for the intents being moved into ``orders``: a read of the ``orders`` table
        after this sees every order sent (the journal's own reads do it themselves)."""
        if self._moving:
            await asyncio.wait(list(self._moving.values()))

    async def recover_intents(self) -> list[str]:
        """Move this bot's intents that a crash left in ``order_intents`` into ``orders``
        (before anything reads the journal at start-up); the client order ids moved."""
        await self.settled()

        async def work(session: AsyncSession) -> list[str]:
            pending = await session.scalars(
                select(PendingIntent.client_order_id).where(PendingIntent.bot_id == self._bot_id)
            )
            return await _move_stored(session, set(pending))

        moved = await self._committer.run(work)
        if moved:
            log.warning("intents recovered into the journal", client_order_ids=moved)
        return moved

    async def leftover_reservations(self) -> list[Reservation]:
        """This bot's reserved client order ids that this process neither holds nor sent an
        order under: what a crash left (:func:`reconcile` resolves them), oldest first."""
        await self.settled()
        mine = set(self._taken)
        if self._reserved is not None:
            mine.update(i for ids in self._reserved.held().values() for i in ids)
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ReservedOrderId)
                .where(ReservedOrderId.bot_id == self._bot_id)
                .order_by(ReservedOrderId.reserved_at, ReservedOrderId.client_order_id)
            )
            return [
                Reservation(
                    r.client_order_id, r.venue, r.account_id, r.symbol, r.purpose, r.reserved_at
                )
                for r in rows
                if r.client_order_id not in mine
            ]

    async def adopt_reserved(self, reservation: Reservation, order: Order) -> None:
        """Write the ``orders`` row of an order the venue holds under a reservation a crash
        left: its purpose from the reservation, the rest as the venue reports it, status
        ``pending`` (the reported state is applied next, as for any unfinished order); the
        reservation is deleted in the same transaction."""
        client_order_id = reservation.client_order_id

        async def work(session: AsyncSession) -> None:
            present = await session.scalar(
                select(OrderRow.id).where(OrderRow.client_order_id == client_order_id)
            )
            if present is None:
                created = order.created_at or reservation.reserved_at
                await session.execute(
                    _INSERT_ORDER,
                    {
                        "client_order_id": client_order_id,
                        "bot_id": self._bot_id,
                        "venue": reservation.venue,
                        "account_id": reservation.account_id,
                        "symbol": reservation.symbol,
                        "side": order.side,
                        "order_type": order.order_type.value,
                        "price": order.price,
                        "trigger_price": order.trigger_price,
                        "size": order.size,
                        "reduce_only": order.reduce_only,
                        "post_only": order.post_only,
                        "purpose": reservation.purpose,
                        "operation_id": None,
                        "filled_size": Decimal(0),
                        "status": OrderStatus.PENDING.value,
                        "created_at": created,
                        "updated_at": created,
                    },
                )
            await session.execute(
                _DELETE_RESERVATION, {"reserved_client_order_id": client_order_id}
            )

        await self._committer.run(work)

    async def release_reservations(self, client_order_ids: list[str]) -> None:
        """Delete reservations a crash left that no order was sent under."""
        if client_order_ids:
            await self._committer.run(delete_reservations(client_order_ids))

    async def record_order(self, order: Order) -> JournaledOrder:
        """Apply a venue-reported state to the journaled order (monotonic, see module doc)."""

        async def work(session: AsyncSession) -> JournaledOrder:
            row = await self._row(session, order.client_order_id)
            _apply(row, order)
            return _journaled(row)

        return await self._committer.run(work)

    async def record_changes(
        self, fills: Sequence[Fill], orders: Sequence[Order], *, deferred: bool = False
    ) -> None:
        """Store new fills and apply order states in one write (a tracker's batch).

        Fills already recorded are skipped, so a batch can be retried as a whole. ``deferred``
        lets the write wait a moment for an urgent one to share its transaction.
        """
        for fill in fills:
            if fill.client_order_id is None:
                raise JournalError(f"fill {fill.fill_id} on {fill.venue} names no client order id")

        async def work(session: AsyncSession) -> None:
            # Core statements: a tracker's batch is the journal's most frequent write, and the
            # unit of work (objects loaded, changes tracked, flushed) cost most of it.
            states = await self._states(
                session,
                {f.client_order_id for f in fills if f.client_order_id}
                | {o.client_order_id for o in orders},
            )
            await _apply_states(session, states, orders)
            known = await _known_fills(session, fills)
            new: list[dict[str, object]] = []
            for fill in fills:
                if (fill.venue, fill.fill_id) not in known:
                    known.add((fill.venue, fill.fill_id))
                    new.append(_fill_values(fill, states[fill.client_order_id or ""].id))
            if new:
                await session.execute(_INSERT_FILLS, new)

        if deferred:
            await self._committer.run_deferred(work)
        else:
            await self._committer.run(work)

    async def mark(self, client_order_id: str, status: OrderStatus, reason: str) -> None:
        """Set a status we concluded ourselves (failed, lost), never over a final one."""

        async def work(session: AsyncSession) -> None:
            row = await self._row(session, client_order_id)
            if OrderStatus(row.status).is_final:
                raise JournalError(
                    f"order {client_order_id!r} is already {row.status}; cannot mark it {status}"
                )
            row.status = status.value

        await self._committer.run(work)
        log.warning("order marked", client_order_id=client_order_id, status=status, reason=reason)

    async def record_fill(self, fill: Fill) -> bool:
        """Store ``fill`` once; False when this venue fill id was already recorded."""
        if fill.client_order_id is None:
            raise JournalError(f"fill {fill.fill_id} on {fill.venue} names no client order id")

        async def work(session: AsyncSession) -> bool:
            if await _known_fills(session, [fill]):
                return False
            row = await self._row(session, fill.client_order_id or "")
            session.add(_fill_row(fill, row.id))
            await session.flush()
            return True

        try:
            return await self._committer.run(work)
        except IntegrityError:
            return False  # recorded concurrently by another writer

    async def record_recovered_fills(
        self, order: Order, venue_fills: Sequence[Fill] | None, *, synthetic: bool = True
    ) -> RecoveredFills:
        """Complete the ``fills`` rows of an order whose executions we did not all receive.

        The venue's fills (``venue_fills``, from its history) are stored under their own ids,
        skipping those already recorded. If the rows still sum to less than the order's filled
        size and ``synthetic`` is allowed (nothing can deliver the real ones any more: the
        order was learned from ``order_status`` after a restart), one synthetic fill makes up
        the difference: id ``synthetic:<client order id>:<filled size>``, priced so the rows'
        notional matches the order's average price, with the fee not yet accounted. The id is
        derived from the filled size it completes, so a second recovery writes nothing.
        """
        client_order_id = order.client_order_id
        fills = [f for f in venue_fills or () if f.client_order_id == client_order_id]

        async def work(session: AsyncSession) -> RecoveredFills:
            row = await self._row(session, client_order_id)
            known = await _known_fills(session, fills)
            added = RecoveredFills()
            for fill in fills:
                if (fill.venue, fill.fill_id) not in known:
                    known.add((fill.venue, fill.fill_id))
                    session.add(_fill_row(fill, row.id))
                    added.venue_fill_ids.append(fill.fill_id)
            await session.flush()
            rows = list(await session.scalars(select(FillRow).where(FillRow.order_id == row.id)))
            filled = max(order.filled_size, row.filled_size)
            covered = sum((r.size for r in rows), Decimal(0))
            missing = filled - covered
            if not synthetic or missing <= 0:
                return added
            average = order.avg_fill_price or row.avg_fill_price
            if average is None:
                log.error("cannot price a synthetic fill", client_order_id=client_order_id)
                return added
            notional = sum((r.size * r.price for r in rows), Decimal(0))
            price = (average * filled - notional) / missing
            if price <= 0:
                price = average
            fee = order.fee_paid - sum((r.fee for r in rows), Decimal(0))
            session.add(
                FillRow(
                    venue=row.venue,
                    venue_fill_id=f"{SYNTHETIC_FILL_PREFIX}{client_order_id}:{filled.normalize():f}",
                    order_id=row.id,
                    price=price,
                    size=missing,
                    fee=fee if fee > 0 else Decimal(0),
                    fee_asset="USD",
                    liquidity="maker" if row.post_only else "taker",
                    ts=order.updated_at or utcnow(),
                )
            )
            added.synthetic_size = missing
            return added

        recovered = await self._committer.run(work)
        if recovered.synthetic_size:
            log.warning(
                "synthetic fill recorded (the venue reported no fill history)",
                client_order_id=client_order_id,
                size=str(recovered.synthetic_size),
            )
        return recovered

    async def fills_of(self, client_order_id: str) -> list[Fill]:
        """The recorded fills of one order (synthetic ones included), oldest first."""
        await self.settled()
        async with self._sessions() as session:
            row = await self._row(session, client_order_id, move_stored=False)
            rows = await session.scalars(
                select(FillRow).where(FillRow.order_id == row.id).order_by(FillRow.id)
            )
            return [
                Fill(
                    venue=r.venue,
                    fill_id=r.venue_fill_id,
                    client_order_id=client_order_id,
                    venue_order_id=row.venue_order_id,
                    symbol=row.symbol,
                    side="buy" if row.side == "buy" else "sell",
                    price=r.price,
                    size=r.size,
                    fee=r.fee,
                    liquidity="maker" if r.liquidity == "maker" else "taker",
                    ts=r.ts,
                    fee_asset=r.fee_asset or "USD",
                )
                for r in rows
            ]

    async def get(self, client_order_id: str) -> JournaledOrder:
        await self.settled()
        async with self._sessions() as session:
            return _journaled(await self._row(session, client_order_id, move_stored=False))

    async def unfinished(self) -> list[JournaledOrder]:
        """This bot's orders that are not final, oldest first."""
        await self.settled()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OrderRow)
                .where(OrderRow.bot_id == self._bot_id, OrderRow.status.in_(UNFINISHED))
                .order_by(OrderRow.id)
            )
            return [_journaled(row) for row in rows]

    async def of_operation(self, operation_id: str) -> list[JournaledOrder]:
        """Every order of one multi-leg operation, final or not, in the order sent."""
        await self.settled()
        async with self._sessions() as session:
            rows = await session.scalars(
                select(OrderRow)
                .where(OrderRow.bot_id == self._bot_id, OrderRow.operation_id == operation_id)
                .order_by(OrderRow.id)
            )
            return [_journaled(row) for row in rows]

    async def _states(
        self, session: AsyncSession, client_order_ids: set[str]
    ) -> dict[str, _OrderState]:
        """The orders' states as plain values (no ORM objects), by client order id; intents
        still in ``order_intents`` are moved first.

        The session's pending ORM changes are flushed first, as an ORM select would: an
        earlier write of the same transaction that changed a row through the unit of work is
        read as changed."""
        if not client_order_ids:
            return {}
        await _flushed(session)
        states = {
            row.client_order_id: _OrderState(row)
            for row in await session.execute(
                _SELECT_STATES,
                {"client_order_ids": sorted(client_order_ids), "bot_id": self._bot_id},
            )
        }
        missing = client_order_ids - states.keys()
        if missing and await self._move_unwritten(session, missing):
            return await self._states(session, client_order_ids)
        if missing:
            raise JournalError(f"orders {sorted(missing)} are not in this bot's journal")
        return states

    async def _row(
        self, session: AsyncSession, client_order_id: str, *, move_stored: bool = True
    ) -> OrderRow:
        """The order's row; an intent still in ``order_intents`` is moved first when this
        session writes (``move_stored``: a read-only session would only roll the move back)."""
        row = await session.scalar(
            select(OrderRow).where(
                OrderRow.client_order_id == client_order_id, OrderRow.bot_id == self._bot_id
            )
        )
        if row is None and move_stored and await self._move_unwritten(session, {client_order_id}):
            return await self._row(session, client_order_id)
        if row is None:
            raise JournalError(f"order {client_order_id!r} is not in this bot's journal")
        return row

    async def _move_unwritten(self, session: AsyncSession, client_order_ids: set[str]) -> list[str]:
        """Write the ``orders`` rows of ``client_order_ids`` whose moves have not reached the
        writer yet: intents in ``order_intents``, orders sent under a reserved id; the ids
        written."""
        moved = await _move_stored(session, client_order_ids, bot_id=self._bot_id)
        taken = (client_order_ids - set(moved)) & self._taken.keys()
        if taken:
            moved += await self._move_taken_work(taken)(session)
        return moved

    def _move_taken_work(self, client_order_ids: set[str]) -> Callable[[AsyncSession], Any]:
        """The writer's part of writing the ``orders`` rows of orders sent under reserved
        ids (``_taken``), deleting their reservations; returns the ids written. A row written
        already (by a write about the order that came first) is left as it is. The fields stay
        in ``_taken`` until the move queued for the order has committed."""

        async def work(session: AsyncSession) -> list[str]:
            ids = sorted(client_order_ids & self._taken.keys())
            if not ids:
                return []
            present = set(
                await session.scalars(
                    select(OrderRow.client_order_id).where(OrderRow.client_order_id.in_(ids))
                )
            )
            written = [i for i in ids if i not in present]
            if written:
                await session.execute(
                    _INSERT_ORDER, [row_values(self._row_of(*self._taken[i])) for i in written]
                )
            await session.execute(
                _DELETE_RESERVATION, [{"reserved_client_order_id": i} for i in ids]
            )
            return written

        return work


def _move_intent_work(client_order_id: str, text: str) -> Callable[[AsyncSession], Any]:
    """The writer's part of moving one committed intent into ``orders``."""

    async def work(session: AsyncSession) -> None:
        # Core statements, not the unit of work: a failure is this write's alone
        # (group_commit). A write about the order queued before this move has moved the
        # intent itself (``_move_stored``): then there is nothing left to move.
        deleted = cast(
            CursorResult[Any],
            await session.execute(_DELETE_INTENT, {"intent_client_order_id": client_order_id}),
        )
        if deleted.rowcount:
            await session.execute(_INSERT_ORDER, decode_row(text))

    return work


async def _move_stored(
    session: AsyncSession, client_order_ids: set[str], *, bot_id: int | None = None
) -> list[str]:
    """Move the stored intents among ``client_order_ids`` into ``orders`` (an id ``orders``
    already holds is only dropped from ``order_intents``); the ids written into ``orders``."""
    if not client_order_ids:
        return []
    query = select(PendingIntent).where(PendingIntent.client_order_id.in_(client_order_ids))
    if bot_id is not None:
        query = query.where(PendingIntent.bot_id == bot_id)
    stored = list(await session.scalars(query))
    if not stored:
        return []
    ids = {intent.client_order_id for intent in stored}
    present = set(
        await session.scalars(
            select(OrderRow.client_order_id).where(OrderRow.client_order_id.in_(ids))
        )
    )
    rows = sorted(
        (decode_row(i.order_row) for i in stored if i.client_order_id not in present),
        key=lambda values: values["created_at"],  # ids in the order they were sent
    )
    for values in rows:
        session.add(OrderRow(**values))
    moved = [values["client_order_id"] for values in rows]
    await session.execute(delete(PendingIntent).where(PendingIntent.client_order_id.in_(ids)))
    await session.flush()
    return moved


class _OrderState:
    """A journaled order's columns as plain attributes, read with a Core select: what
    :func:`_journaled` and :func:`_merged` read, changed in place as states are applied."""

    def __init__(self, row: Row[Any]) -> None:
        self.__dict__.update(row._mapping)

    def __getattr__(self, name: str) -> Any:  # the columns, set in __init__
        raise AttributeError(name)


def _merged(row: OrderRow | _OrderState, order: Order) -> dict[str, Any]:
    """The four columns a reported state can change, after merging ``order`` into ``row`` by
    :func:`~execution.order_state.merge_order_state` (changed or not)."""
    current = _journaled(row).as_order()
    if is_stale_status(current, order):
        log.warning(
            "ignored a state change of a finished order",
            client_order_id=order.client_order_id,
            kept=current.status.value,
            reported=order.status.value,
        )
    merged = merge_order_state(current, order)
    return {
        "status": merged.status.value,
        "filled_size": merged.filled_size,
        "avg_fill_price": merged.avg_fill_price,
        "venue_order_id": merged.venue_order_id,
    }


def _apply(row: OrderRow, order: Order) -> None:
    """Merge a reported state into an ORM row (the unit of work writes what changed)."""
    for name, value in _merged(row, order).items():
        setattr(row, name, value)


async def _apply_states(
    session: AsyncSession, states: Mapping[str, _OrderState], orders: Sequence[Order]
) -> None:
    """Merge each reported state into its order with one Core UPDATE of the columns that
    change (none: no statement, as the unit of work would issue none; ``updated_at`` follows
    its column's ``onupdate`` either way).

    A Core UPDATE bypasses the session's identity map: an ORM object of the same row loaded
    earlier in this transaction (another write of the batch) would keep the old values, and
    a later write merging into it would merge into a stale state. So that object's
    attributes are expired: the next select of the row (every write reads its rows again)
    loads them fresh. Its own pending changes were flushed by the states' select."""
    identity_map = session.sync_session.identity_map
    for order in orders:
        state = states[order.client_order_id]
        # Only the columns whose value differs, as the unit of work compares them.
        changes = {
            name: value
            for name, value in _merged(state, order).items()
            if getattr(state, name) != value
        }
        if not changes:
            continue
        await session.execute(_UPDATE_ORDER, {"row_id": state.id, **changes})
        state.__dict__.update(changes)
        loaded = identity_map.get(Session.identity_key(OrderRow, state.id))
        if loaded is not None:
            session.expire(loaded)


async def _flushed(session: AsyncSession) -> None:
    """Flush the session's pending ORM changes, as an ORM statement's autoflush would, before
    a Core statement reads or writes the same tables (nothing to flush: no statement)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()


async def _known_fills(session: AsyncSession, fills: Sequence[Fill]) -> set[tuple[str, str]]:
    """Which of ``fills`` are already recorded, as (venue, venue fill id)."""
    if not fills:
        return set()
    await _flushed(session)
    found = await session.execute(
        _SELECT_KNOWN_FILLS, {"fill_ids": sorted({f.fill_id for f in fills})}
    )
    return {(venue, fill_id) for venue, fill_id in found}


def _fill_values(fill: Fill, order_id: int) -> dict[str, object]:
    return {
        "venue": fill.venue,
        "venue_fill_id": fill.fill_id,
        "order_id": order_id,
        "price": fill.price,
        "size": fill.size,
        "fee": fill.fee,
        "fee_asset": fill.fee_asset,
        "liquidity": fill.liquidity,
        "ts": fill.ts,
    }


def _fill_row(fill: Fill, order_id: int) -> FillRow:
    return FillRow(**_fill_values(fill, order_id))


def _journaled(row: OrderRow | _OrderState) -> JournaledOrder:
    return JournaledOrder(
        client_order_id=row.client_order_id,
        venue_order_id=row.venue_order_id,
        venue=row.venue,
        symbol=row.symbol,
        side="buy" if row.side == "buy" else "sell",
        size=row.size,
        filled_size=row.filled_size,
        status=OrderStatus(row.status),
        purpose=row.purpose,
        operation_id=row.operation_id,
        created_at=row.created_at,
        order_type=OrderType(row.order_type),
        price=row.price,
        avg_fill_price=row.avg_fill_price,
        reduce_only=row.reduce_only,
        trigger_price=row.trigger_price,
    )


@dataclass
class ReconcileReport:
    """What a start-up reconciliation did, by client order id."""

    adopted: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    # Reservations a crash left (execution.reserved_ids): an order the venue has under one
    # (then also in ``adopted``), or released (the venue never saw it).
    reserved_sent: list[str] = field(default_factory=list)
    reserved_released: list[str] = field(default_factory=list)


async def reconcile(
    journal: OrderJournal,
    clients: Mapping[str, BaseExchangeClient],
    *,
    keep_resting: Callable[[JournaledOrder], bool],
    now: Callable[[], datetime] = utcnow,
    grace: timedelta = DEFAULT_GRACE,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ReconcileReport:
    """Bring every unfinished journaled order in line with its venue (run before trading).

    The venue's lookup by client order id is the authority (by venue order id for an order
    the venue knows by that only: :mod:`execution.venue_lookup`). An intent the venue does not
    know is ``failed`` when older than ``grace`` - the time a request the dead process had on
    the wire could still take to land - and ``lost`` otherwise (it may still appear; recovery
    and the order tracker keep asking). Nothing here waits for the grace to pass, except
    after a crash that left reserved client order ids the venue does not know
    (:func:`resolve_reservations`).

    Fills the venue reports for an adopted order that the journal never received are stored
    (:meth:`OrderJournal.record_recovered_fills`): from the venue's fill history, or one
    synthetic fill once the order is final.
    """
    report = ReconcileReport()
    await journal.recover_intents()
    await resolve_reservations(journal, clients, report, grace=grace, sleep=sleep)
    for entry in await journal.unfinished():
        client = clients[entry.venue]
        try:
            order = await order_on_venue(
                client, entry.symbol, entry.client_order_id, entry.venue_order_id
            )
        except OrderNotFound:
            if now() - entry.created_at > grace:
                await journal.mark(entry.client_order_id, OrderStatus.FAILED, "venue never saw it")
                report.failed.append(entry.client_order_id)
            elif entry.status is not OrderStatus.LOST:
                await journal.mark(entry.client_order_id, OrderStatus.LOST, "not found yet")
                report.lost.append(entry.client_order_id)
            else:
                report.lost.append(entry.client_order_id)
            continue
        adopted = await journal.record_order(order)
        report.adopted.append(entry.client_order_id)
        if order.status.is_resting and not keep_resting(adopted):
            order = await cancel_on_venue(
                client, entry.symbol, entry.client_order_id, order.venue_order_id
            )
            await journal.record_order(order)
            report.cancelled.append(entry.client_order_id)
        await complete_fills(journal, client, order)
    log.info(
        "journal reconciled",
        adopted=len(report.adopted),
        cancelled=len(report.cancelled),
        failed=len(report.failed),
        lost=len(report.lost),
        reserved_sent=len(report.reserved_sent),
        reserved_released=len(report.reserved_released),
    )
    return report


async def resolve_reservations(
    journal: OrderJournal,
    clients: Mapping[str, BaseExchangeClient],
    report: ReconcileReport,
    *,
    grace: timedelta = DEFAULT_GRACE,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Settle the client order ids a crash left reserved (:mod:`execution.reserved_ids`).

    Each is looked up on its venue by client order id: an order the venue has is written into
    ``orders`` under the reservation's purpose (:meth:`OrderJournal.adopt_reserved`), to be
    adopted with its real state by :func:`reconcile`. One the venue does not know may be one
    a request of the dead process still carries: it is looked up once more ``grace`` later
    (the start comes after the death, so by then anything sent has landed) and only then
    released. Ids on a venue this bot no longer trades are kept, with an error logged."""
    unseen: list[Reservation] = []
    for reservation in await journal.leftover_reservations():
        if reservation.venue not in clients:
            log.error(
                "reserved client order id kept: its venue is not in this bot's config",
                client_order_id=reservation.client_order_id,
                venue=reservation.venue,
            )
        elif not await _adopted_if_sent(journal, clients, reservation, report):
            unseen.append(reservation)
    if not unseen:
        return
    await sleep(grace.total_seconds())
    released = [
        r.client_order_id for r in unseen if not await _adopted_if_sent(journal, clients, r, report)
    ]
    await journal.release_reservations(released)
    report.reserved_released.extend(released)
    if released:
        log.info("reserved client order ids released: never sent", client_order_ids=released)


async def _adopted_if_sent(
    journal: OrderJournal,
    clients: Mapping[str, BaseExchangeClient],
    reservation: Reservation,
    report: ReconcileReport,
) -> bool:
    client_id = reservation.client_order_id
    try:
        order = await order_on_venue(
            clients[reservation.venue], reservation.symbol, client_id, None
        )
    except OrderNotFound:
        return False
    await journal.adopt_reserved(reservation, order)
    report.reserved_sent.append(client_id)
    log.warning(
        "an order sent under a reserved id recovered into the journal", client_order_id=client_id
    )
    return True


async def complete_fills(journal: OrderJournal, client: BaseExchangeClient, order: Order) -> None:
    """Record the fills of ``order`` (learned from ``order_status``) the journal lacks.

    The venue's history when it has one; a synthetic fill for the rest only once the order is
    final (a resting order may still report real fills later, which would double it).
    """
    if not order.filled_size:
        return
    fills = await venue_fills(client, order.symbol, order.client_order_id)
    await journal.record_recovered_fills(order, fills, synthetic=order.status.is_final)
