"""The ``atomic_operations`` journal: the plan before the first order, the result at the end.

Orders of an operation are journaled one by one (:mod:`execution.journal`) under its
``operation_id``; this table adds what recovery needs to make sense of them after a crash:
which legs were meant, with which policy, and what each venue held before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import TradingError
from database.models import AtomicOperation
from execution.atomic.result import AtomicResult

_OPERATIONS = cast(Table, AtomicOperation.__table__)
# Both writes of every operation are Core statements built once with bound values (as the
# order journal's): the unit of work (an object added and flushed; a row loaded, changed and
# flushed back) cost more than SQLite's execution of them, twice per pair opened or closed.
# Column defaults and ``updated_at``'s onupdate still apply (they are the table's).
_INSERT = insert(_OPERATIONS)
_FINISH = (
    update(_OPERATIONS)
    .where(
        _OPERATIONS.c.operation_id == bindparam("finished_operation_id"),
        _OPERATIONS.c.bot_id == bindparam("finished_bot_id"),
        _OPERATIONS.c.status == "running",
    )
    .values(
        status=bindparam("finished_status"),
        result=bindparam("finished_result", type_=_OPERATIONS.c.result.type),
        error=bindparam("finished_error"),
    )
)


class OperationJournalError(TradingError):
    """A write that would corrupt the operations journal (a bug in the caller)."""


@dataclass(frozen=True)
class StoredOperation:
    operation_id: str
    purpose: str | None
    status: str
    plan: dict[str, Any]
    result: dict[str, Any] | None


class OperationStore:
    """The operations of one bot."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bot_id: int) -> None:
        self._sessions = sessions
        self._bot_id = bot_id

    async def begin(self, operation_id: str, purpose: str | None, plan: dict[str, Any]) -> None:
        """Commit the plan; only after this returns may the operation send orders."""
        await self._insert(operation_id, purpose, plan, None)

    async def refused(
        self, operation_id: str, purpose: str | None, plan: dict[str, Any], result: AtomicResult
    ) -> None:
        """Record an operation that preflight stopped (nothing was sent)."""
        await self._insert(operation_id, purpose, plan, result)

    async def _insert(
        self,
        operation_id: str,
        purpose: str | None,
        plan: dict[str, Any],
        result: AtomicResult | None,
    ) -> None:
        values = {
            "operation_id": operation_id,
            "bot_id": self._bot_id,
            "purpose": purpose,
            "status": "running" if result is None else _status(result),
            "plan": plan,
            "result": None if result is None else result.to_json(),
        }
        async with self._sessions.begin() as session:
            await session.execute(_INSERT, values)

    async def finish(self, result: AtomicResult, error: str | None = None) -> None:
        values = {
            "finished_operation_id": result.operation_id,
            "finished_bot_id": self._bot_id,
            "finished_status": _status(result),
            "finished_result": result.to_json(),
            "finished_error": error,
        }
        async with self._sessions.begin() as session:
            written = cast(CursorResult[Any], await session.execute(_FINISH, values))
            if written.rowcount == 0:  # why not: no such operation, or it ended already
                row = await self._row(session, result.operation_id)
                raise OperationJournalError(
                    f"operation {result.operation_id} already ended {row.status}"
                )

    async def get(self, operation_id: str) -> StoredOperation:
        async with self._sessions() as session:
            return _stored(await self._row(session, operation_id))

    async def unfinished(self) -> list[StoredOperation]:
        """Operations a dead process left running, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AtomicOperation)
                .where(AtomicOperation.bot_id == self._bot_id, AtomicOperation.status == "running")
                .order_by(AtomicOperation.id)
            )
            return [_stored(row) for row in rows]

    async def _row(self, session: AsyncSession, operation_id: str) -> AtomicOperation:
        row = await session.scalar(
            select(AtomicOperation).where(
                AtomicOperation.operation_id == operation_id,
                AtomicOperation.bot_id == self._bot_id,
            )
        )
        if row is None:
            raise OperationJournalError(f"operation {operation_id!r} is not in this bot's journal")
        return row


def _status(result: AtomicResult) -> str:
    if result.status is None:
        raise OperationJournalError(f"operation {result.operation_id} has not concluded")
    return result.status.value


def _stored(row: AtomicOperation) -> StoredOperation:
    return StoredOperation(row.operation_id, row.purpose, row.status, row.plan, row.result)
