"""Client order ids committed ahead: an order can be sent with no database write on its path.

Every order's client order id must be in the database before the order is sent, so that a
restart can ask the venue what became of it (:mod:`execution.journal`). Writing the order's
intent between its decision and its send costs a commit on the order's critical path: ~100 us
of SQLite's cold code on a ~350 us tick-to-order path, ~1 ms on PostgreSQL (the server's WAL
flush). Most of what that write protects is the id - everything else about the order the
venue itself holds once it has it. So the id is committed *ahead*, while the bot waits for its
next signal:

* the journal keeps :data:`PER_KEY` ids committed in ``order_id_reservations`` for each
  (venue, symbol, purpose) it has sent an order for
  (:class:`~database.models.ReservedOrderId`); the first order of a key goes the ordinary way
  and starts its reservations;
* an order takes one (:meth:`ReservedIds.take`), is sent, and its ``orders`` row is written
  on the journal's next turn, deleting the reservation in the same transaction
  (:meth:`~execution.journal.OrderJournal.record_taken_intent`); the key is refilled in that
  transaction too;
* a clean stop releases the ids not taken (:meth:`ReservedIds.release`); after a crash, the
  next start looks every reservation left up on its venue (:func:`execution.journal.reconcile`):
  adopted into ``orders`` with its purpose when the venue has the order, released when it
  never did - after the grace in which a request the dead process had on the wire could
  still land.

What a crash between the send and the row loses is only what the venue does not hold: the
order's operation id. So orders of a multi-leg operation never take a reserved id (recovery
finds a leg by its operation id), nor do trigger orders (not every venue finds a trigger by
its client order id). Only a journal with a dedicated intent connection (a live bot)
reserves: a backtest has nothing to gain, and its results stay as they were.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import Order as OrderRow
from database.models import ReservedOrderId
from database.types import utcnow
from execution.client_ids import ClientOrderIds
from execution.group_commit import GroupCommitter

log = structlog.get_logger(__name__)

PER_KEY = 2
"""Ids kept committed per (venue, symbol, purpose): two, so a second order of the same kind
within one commit of the first (an exit right after its entry) still finds one. Each one left
by a crash costs the next start one lookup on its venue."""

Key = tuple[str, str, str | None]
"""(venue, symbol, purpose): what a reservation is kept for, and what a restart adopts an
order under (the venue knows the symbol, the journal the purpose)."""

_RESERVATIONS: Table = ReservedOrderId.__table__  # type: ignore[assignment]
_INSERT = insert(_RESERVATIONS)


@dataclass(frozen=True)
class Reservation:
    """One reserved client order id as the database holds it."""

    client_order_id: str
    venue: str
    account_id: int
    symbol: str
    purpose: str | None
    reserved_at: datetime


class ReservedIds:
    """The ids one journal holds committed ahead, by (venue, symbol, purpose)."""

    def __init__(
        self,
        committer: GroupCommitter,
        *,
        bot_id: int,
        accounts: Mapping[str, int],
        ids: ClientOrderIds,
    ) -> None:
        self._committer = committer
        self._bot_id = bot_id
        self._accounts = dict(accounts)
        self._ids = ids
        self._ready: dict[Key, list[str]] = {}  # committed, not taken: oldest first
        self._reserving: dict[Key, int] = {}  # being committed
        self._writes: set[asyncio.Future[list[str]]] = set()
        self._open = True

    def take(self, venue: str, symbol: str, purpose: str | None) -> str | None:
        """A committed id for an order of this kind, or None (the order journals its intent
        the ordinary way). Either way the key is refilled on the loop's next turn - after the
        order has left - so the refill is not paid between the decision and the send."""
        if not self._open or venue not in self._accounts:
            return None
        key = (venue, symbol, purpose)
        ready = self._ready.setdefault(key, [])
        client_id = ready.pop(0) if ready else None
        asyncio.get_running_loop().call_soon(self._refill, key)
        return client_id

    def give_back(self, venue: str, symbol: str, purpose: str | None, client_id: str) -> None:
        """Return an id taken for an order that was not sent after all (the risk gate refused
        it): its reservation is still committed and unused."""
        self._ready.setdefault((venue, symbol, purpose), []).insert(0, client_id)

    def held(self) -> dict[Key, list[str]]:
        """The committed ids not taken, by key (a copy)."""
        return {key: list(ids) for key, ids in self._ready.items() if ids}

    def _refill(self, key: Key) -> None:
        wanted = PER_KEY - len(self._ready.get(key, ())) - self._reserving.get(key, 0)
        if not self._open or wanted <= 0:
            return
        venue, symbol, purpose = key
        now = utcnow()
        ids = [self._ids.next() for _ in range(wanted)]
        self._reserving[key] = self._reserving.get(key, 0) + wanted

        async def work(session: AsyncSession) -> list[str]:
            # Fresh ids never clash; if one ever did, it must not shadow a journaled order.
            clashing = set(
                await session.scalars(
                    select(OrderRow.client_order_id).where(OrderRow.client_order_id.in_(ids))
                )
            )
            if clashing:
                log.error("client order ids not reserved: already in orders", ids=clashing)
            fresh = [i for i in ids if i not in clashing]
            if fresh:
                await session.execute(
                    _INSERT, [self._row(i, venue, symbol, purpose, now) for i in fresh]
                )
            return fresh

        try:
            written = self._committer.submit(work)
        except Exception as exc:  # no writer (closing): the key is refilled next time
            self._reserving[key] -= wanted
            log.error("client order ids not reserved", error=repr(exc))
            return
        self._writes.add(written)

        def ended(future: asyncio.Future[list[str]]) -> None:
            self._writes.discard(future)
            self._reserving[key] -= wanted
            if future.cancelled() or future.exception() is not None:
                error = "cancelled" if future.cancelled() else repr(future.exception())
                log.error("client order ids not reserved", key=key, error=error)
                return
            self._ready.setdefault(key, []).extend(future.result())

        written.add_done_callback(ended)

    def _row(
        self, client_id: str, venue: str, symbol: str, purpose: str | None, now: datetime
    ) -> dict[str, object]:
        return {
            "client_order_id": client_id,
            "bot_id": self._bot_id,
            "venue": venue,
            "account_id": self._accounts[venue],
            "symbol": symbol,
            "purpose": purpose,
            "reserved_at": now,
        }

    async def release(self) -> list[str]:
        """Stop reserving and delete the reservations not taken (a clean stop); the ids
        released. A reservation being committed is waited for, then released too."""
        self._open = False
        while self._writes:
            await asyncio.wait(list(self._writes))
        ids = [client_id for ready in self._ready.values() for client_id in ready]
        self._ready.clear()
        if ids:
            await self._committer.run(delete_reservations(ids))
        return ids


def delete_reservations(ids: list[str]) -> Callable[[AsyncSession], Awaitable[None]]:
    """A writer's work deleting the reservations of ``ids``."""

    async def work(session: AsyncSession) -> None:
        await session.execute(
            delete(ReservedOrderId).where(ReservedOrderId.client_order_id.in_(ids))
        )

    return work


__all__ = ["PER_KEY", "Key", "Reservation", "ReservedIds", "delete_reservations"]
