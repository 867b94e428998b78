"""Strategy state in the database: saved after changes and on stop, loaded on start."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import StrategyState
from execution.group_commit import GroupCommitter


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

        A strategy saves after each change, so this is a frequent write: one statement
        instead of loading the row into the session and flushing it back (SELECT, then
        UPDATE through the unit of work), about a third of a save's cost."""
        saved = (
            update(StrategyState)
            .where(StrategyState.bot_id == self._bot_id)
            .values(strategy=strategy, state=state)  # updated_at: the column's onupdate
            .execution_options(synchronize_session=False)
        )

        async def work(session: AsyncSession) -> None:
            result = cast(CursorResult[Any], await session.execute(saved))
            if result.rowcount == 0:
                session.add(StrategyState(bot_id=self._bot_id, strategy=strategy, state=state))

        await self._committer.run(work)
