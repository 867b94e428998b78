"""Strategy state in the database: saved after changes and on stop, loaded on start."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import StrategyState
from execution.group_commit import GroupCommitter

_STATES = cast(Table, StrategyState.__table__)
# One statement for every save, its values bound per save: a strategy saves after each change
# (a funding backtest thousands of times a year), and building, caching-keying and ORM-
# planning a fresh UPDATE each time was most of a save. A table (Core) statement: the ORM
# has nothing to synchronise for it; ``updated_at`` still comes from the column's onupdate.
_SAVE = (
    update(_STATES)
    .where(_STATES.c.bot_id == bindparam("saved_bot_id"))
    .values(
        strategy=bindparam("saved_strategy", type_=_STATES.c.strategy.type),
        state=bindparam("saved_state", type_=_STATES.c.state.type),
    )
)


class StrategyStateStore:
    """The saved state of one bot's strategy (one JSON document)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot_id: int,
        committer: GroupCommitter | None = None,
    ) -> None:
        self._sessions = sessions
        self._bot_id = bot_id
        # Saves ride along with the journal's writes (one writer per process, see group_commit).
        self._committer = committer or GroupCommitter(sessions)

    async def load(self, strategy: str) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or it belongs to another strategy)."""
        async with self._sessions() as session:
            row = await session.get(StrategyState, self._bot_id)
            if row is None or row.strategy != strategy:
                return None
            return dict(row.state)

    async def save(self, strategy: str, state: dict[str, Any]) -> None:
        """Replace the saved state: one UPDATE, or an INSERT the first time.

        A strategy saves after each change, so this is a frequent write: one prepared
        statement instead of loading the row into the session and flushing it back."""
        bot_id = self._bot_id
        values = {"saved_bot_id": bot_id, "saved_strategy": strategy, "saved_state": state}

        async def work(session: AsyncSession) -> None:
            result = cast(CursorResult[Any], await session.execute(_SAVE, values))
            if result.rowcount == 0:
                session.add(StrategyState(bot_id=bot_id, strategy=strategy, state=state))

        await self._committer.run(work)
