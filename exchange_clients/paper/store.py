"""Persistence of one paper account (venue + account name) in the perpfleet database.

The engine keeps the whole account in memory; this store makes it durable so a restarted
paper bot resumes with the same wallet, resting orders (still matching, with their queue
positions) and positions. Every :class:`~.changes.EngineChanges` is written in one
transaction, so the stored account is always a state the engine actually had.

Rows are written with Core ``INSERT``/``UPDATE`` statements in executemany batches rather than
through ORM objects: the engine, not the session, owns the state, and an order touched ten
times between two saves is written once with its latest values. The store remembers which
orders and positions already have rows, so it knows whether to insert or update without
asking the database.

On start only what the engine needs is loaded: the account, its resting orders, its
positions and the set of client order ids ever used (ids of finished orders stay taken).
Finished orders are read on demand (:meth:`PaperStore.find_order`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.engine import create_engine, session_maker
from database.models.base import Base
from database.models.paper import PaperAccount, PaperFundingPayment, PaperOrder, PaperPosition
from exchange_clients.paper.changes import EngineChanges
from exchange_clients.paper.state import (
    AccountRecord,
    AccountSnapshot,
    OrderState,
    PositionRecord,
)
from exchange_clients.types import Order, OrderStatus, OrderType, TimeInForce

_ORDERS = Base.metadata.tables[PaperOrder.__tablename__]
_POSITIONS = Base.metadata.tables[PaperPosition.__tablename__]
_FUNDING = Base.metadata.tables[PaperFundingPayment.__tablename__]
_RESTING = (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_FILLED.value)


class PaperStore:
    """Reads and writes one paper account; :meth:`open_account` first, :meth:`close` last."""

    def __init__(self, url: str, *, venue: str, account: str) -> None:
        self.venue = venue
        self.account = account
        self._engine: AsyncEngine = create_engine(url)
        self._sessions: async_sessionmaker[AsyncSession] = session_maker(self._engine)
        self._account_id: int | None = None
        self._stored_orders: set[str] = set()
        self._stored_positions: set[str] = set()

    async def close(self) -> None:
        await self._engine.dispose()

    async def open_account(self, initial: AccountRecord) -> AccountSnapshot | None:
        """Load the account, or create it from ``initial`` and return None when it is new."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(PaperAccount).where(
                    PaperAccount.venue == self.venue, PaperAccount.name == self.account
                )
            )
            if row is None:
                row = PaperAccount(
                    venue=self.venue,
                    name=self.account,
                    wallet=initial.wallet,
                    leverage=_leverage_json(initial.leverage),
                    next_order_seq=initial.next_order_seq,
                    funding_settled_until=initial.funding_settled_until,
                )
                session.add(row)
                await session.flush()
                self._account_id = row.id
                return None
            self._account_id = row.id
            return await self._load(session, row)

    async def _load(self, session: AsyncSession, row: PaperAccount) -> AccountSnapshot:
        orders = (
            await session.execute(
                select(_ORDERS)
                .where(_ORDERS.c.account_id == row.id, _ORDERS.c.status.in_(_RESTING))
                .order_by(_ORDERS.c.seq)
            )
        ).all()
        positions = [
            PositionRecord(
                symbol=position.symbol,
                size=position.size,
                entry_notional=position.entry_notional,
                accrued_funding=position.accrued_funding,
            )
            for position in await session.scalars(
                select(PaperPosition).where(PaperPosition.account_id == row.id)
            )
        ]
        client_ids = set(
            await session.scalars(
                select(PaperOrder.client_order_id).where(PaperOrder.account_id == row.id)
            )
        )
        self._stored_orders = {order.venue_order_id for order in orders}
        self._stored_positions = {position.symbol for position in positions}
        return AccountSnapshot(
            account=AccountRecord(
                wallet=row.wallet,
                next_order_seq=row.next_order_seq,
                funding_settled_until=row.funding_settled_until,
                leverage={symbol: Decimal(value) for symbol, value in row.leverage.items()},
            ),
            open_orders=[_order_state(order) for order in orders],
            positions=[position for position in positions if position.size],
            client_order_ids=client_ids,
        )

    async def save(self, changes: EngineChanges) -> None:
        """Write one batch of engine changes atomically.

        All rows are built before the first ``await``: the engine may change the live
        order states once this coroutine yields, and the batch must be one consistent state.
        """
        account_id = self._require_account()
        new_orders: list[dict[str, Any]] = []
        changed_orders: list[dict[str, Any]] = []
        for order in changes.orders:
            if order.venue_order_id in self._stored_orders:
                changed_orders.append({"b_venue_order_id": order.venue_order_id, **_state(order)})
            else:
                new_orders.append(_order_row(account_id, order))
        new_positions: list[dict[str, Any]] = []
        changed_positions: list[dict[str, Any]] = []
        for position in changes.positions:
            row = {
                "size": position.size,
                "entry_notional": position.entry_notional,
                "accrued_funding": position.accrued_funding,
            }
            if position.symbol in self._stored_positions:
                changed_positions.append({"b_symbol": position.symbol, **row})
            else:
                new_positions.append({"account_id": account_id, "symbol": position.symbol, **row})
        funding = [
            {
                "account_id": account_id,
                "symbol": payment.symbol,
                "paid_at": payment.paid_at,
                "rate": payment.rate,
                "position_size": payment.position_size,
                "mark_price": payment.mark_price,
                "amount": payment.amount,
            }
            for payment in changes.funding
        ]
        account = changes.account
        async with self._sessions.begin() as session:
            await session.execute(
                update(PaperAccount)
                .where(PaperAccount.id == account_id)
                .values(
                    wallet=account.wallet,
                    leverage=_leverage_json(account.leverage),
                    next_order_seq=account.next_order_seq,
                    funding_settled_until=account.funding_settled_until,
                )
            )
            if new_orders:
                await session.execute(insert(_ORDERS), new_orders)
            if changed_orders:
                # Without .values() the SET clause is every column the parameter rows name.
                await session.execute(
                    update(_ORDERS).where(
                        _ORDERS.c.account_id == account_id,
                        _ORDERS.c.venue_order_id == bindparam("b_venue_order_id"),
                    ),
                    changed_orders,
                )
            if new_positions:
                await session.execute(insert(_POSITIONS), new_positions)
            if changed_positions:
                await session.execute(
                    update(_POSITIONS).where(
                        _POSITIONS.c.account_id == account_id,
                        _POSITIONS.c.symbol == bindparam("b_symbol"),
                    ),
                    changed_positions,
                )
            if funding:
                await session.execute(insert(_FUNDING), funding)
        self._stored_orders.update(row["venue_order_id"] for row in new_orders)
        self._stored_positions.update(row["symbol"] for row in new_positions)

    async def find_order(
        self, symbol: str, *, venue_order_id: str | None = None, client_order_id: str | None = None
    ) -> Order | None:
        """A stored order by either id (finished orders from before a restart included)."""
        account_id = self._require_account()
        query = select(_ORDERS).where(_ORDERS.c.account_id == account_id)
        if venue_order_id is not None:
            query = query.where(_ORDERS.c.venue_order_id == venue_order_id)
        else:
            query = query.where(_ORDERS.c.client_order_id == client_order_id)
        async with self._sessions() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None or row.symbol != symbol:
            return None
        return _order_state(row).snapshot()

    def _require_account(self) -> int:
        if self._account_id is None:
            raise RuntimeError("PaperStore.open_account() must be called first")
        return self._account_id


def _leverage_json(leverage: dict[str, Decimal]) -> dict[str, str]:
    return {symbol: str(value) for symbol, value in leverage.items()}


def _order_row(account_id: int, order: OrderState) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "seq": order.seq,
        "venue_order_id": order.venue_order_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "order_type": order.order_type.value,
        "time_in_force": order.time_in_force.value,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "created_at": order.created_at,
        **_state(order),
    }


def _state(order: OrderState) -> dict[str, Any]:
    """The columns that change while an order lives."""
    return {
        "size": order.size,
        "filled_size": order.filled_size,
        "filled_notional": order.filled_notional,
        "fee_paid": order.fee_paid,
        "fill_count": order.fill_count,
        "queue_ahead": order.queue_ahead,
        "status": order.status.value,
        "updated_at": order.updated_at,
    }


def _order_state(row: Row[Any]) -> OrderState:
    mapping = row._mapping
    return OrderState(
        seq=mapping["seq"],
        venue_order_id=mapping["venue_order_id"],
        client_order_id=mapping["client_order_id"],
        symbol=mapping["symbol"],
        side=mapping["side"],
        order_type=OrderType(mapping["order_type"]),
        time_in_force=TimeInForce(mapping["time_in_force"]),
        size=mapping["size"],
        price=mapping["price"],
        status=OrderStatus(mapping["status"]),
        post_only=mapping["post_only"],
        reduce_only=mapping["reduce_only"],
        created_at=mapping["created_at"],
        updated_at=mapping["updated_at"],
        filled_size=mapping["filled_size"],
        filled_notional=mapping["filled_notional"],
        fee_paid=mapping["fee_paid"],
        fill_count=mapping["fill_count"],
        queue_ahead=mapping["queue_ahead"],
        trigger_price=mapping["trigger_price"],
    )
