"""What the pages show, gathered from the fleet, its bots' control APIs and the database.

Every control-API call has a deadline (:attr:`DashboardServices.control_timeout_seconds`) and
the bots are asked concurrently, so one hung bot makes its own row say "did not answer"
instead of holding the whole page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.records import EquityPoint
from bot_runtime.control_models import (
    BotStats,
    BotStatus,
    OrderView,
    Pnl,
    PositionView,
    RunningConfig,
    TradesPage,
)
from core.errors import TradingError
from dashboard.services import DashboardServices
from database.models import Bot, PnlSnapshot
from fleet.api import BotInfo
from fleet.guard import describe, load_state

T = TypeVar("T")
MAX_EQUITY_POINTS = 2000


class Unanswered(Exception):
    """A bot that did not answer in time or refused: the message is shown in its place."""


async def ask(services: DashboardServices, call: Awaitable[T], bot: str) -> T:
    try:
        return await asyncio.wait_for(call, services.control_timeout_seconds)
    except TimeoutError:
        services.forget(bot)
        raise Unanswered(
            f"{bot} did not answer within {services.control_timeout_seconds:g} s"
        ) from None
    except TradingError as exc:
        services.forget(bot)
        raise Unanswered(str(exc)) from None


@dataclass
class BotRow:
    """One bot on the overview."""

    info: BotInfo
    status: BotStatus | None = None
    pnl: Pnl | None = None
    positions: list[PositionView] = field(default_factory=list)
    today: Decimal | None = None
    heartbeat: datetime | None = None
    error: str | None = None

    @property
    def alerts(self) -> list[str]:
        found: list[str] = []
        if self.info.failed:
            found.append(self.info.detail or f"exited ({self.info.display_state})")
        if self.error:
            found.append(self.error)
        if self.status is not None:
            if self.status.risk.killed:
                found.append(f"kill switch: {self.status.risk.kill_reason or 'engaged'}")
            if self.status.risk.paused_until is not None:
                found.append(f"entries paused until {self.status.risk.paused_until:%H:%M} UTC")
            found.extend(self.status.reconciliation)
        return found


async def _row(services: DashboardServices, info: BotInfo) -> BotRow:
    row = BotRow(info)
    if not info.running:
        return row
    try:
        client = services.control(info.name)
        # One round trip per bot: the three asked at once (a pooled client has verified the
        # bot's identity already; a new one verifies on each call, still correct).
        row.status, row.pnl, row.positions = await asyncio.gather(
            ask(services, client.status(), info.name),
            ask(services, client.pnl(), info.name),
            ask(services, client.positions(), info.name),
        )
    except (Unanswered, TradingError) as exc:
        row.error = str(exc)
    return row


async def overview(services: DashboardServices) -> list[BotRow]:
    infos = await services.fleet.list_bots()
    rows, (opening, heartbeats) = await asyncio.gather(
        asyncio.gather(*(_row(services, info) for info in infos)),
        services.transaction(_today_and_heartbeats),
    )
    for row in rows:
        row.heartbeat = heartbeats.get(row.info.name)
        first = opening.get(row.info.name)
        if first is not None and row.status is not None:
            row.today = row.status.equity - first
    return list(rows)


async def _today_and_heartbeats(
    session: AsyncSession,
) -> tuple[dict[str, Decimal], dict[str, datetime]]:
    """Each bot's first equity of the UTC day (today's PnL = now - that) and last heartbeat."""
    midnight = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    first_ts = (
        select(PnlSnapshot.bot_id, func.min(PnlSnapshot.ts).label("ts"))
        .where(PnlSnapshot.ts >= midnight)
        .group_by(PnlSnapshot.bot_id)
        .subquery()
    )
    opening = {
        name: equity
        for name, equity in await session.execute(
            select(Bot.name, PnlSnapshot.equity)
            .join(PnlSnapshot, PnlSnapshot.bot_id == Bot.id)
            .join(
                first_ts,
                (first_ts.c.bot_id == PnlSnapshot.bot_id) & (first_ts.c.ts == PnlSnapshot.ts),
            )
        )
    }
    heartbeats = {
        name: at
        for name, at in await session.execute(select(Bot.name, Bot.last_heartbeat_at))
        if at is not None
    }
    return opening, heartbeats


async def guard_text(services: DashboardServices) -> str:
    """The fleet guard's status as its own describe() says it."""
    return describe(await services.transaction(load_state))


async def equity_points(services: DashboardServices, bot: str) -> list[EquityPoint]:
    """The bot's recorded equity (pnl_snapshots), the newest :data:`MAX_EQUITY_POINTS`."""

    async def read(session: AsyncSession) -> list[EquityPoint]:
        rows = await session.execute(
            select(PnlSnapshot.ts, PnlSnapshot.equity)
            .join(Bot, Bot.id == PnlSnapshot.bot_id)
            .where(Bot.name == bot)
            .order_by(PnlSnapshot.ts.desc())
            .limit(MAX_EQUITY_POINTS)
        )
        return [EquityPoint(ts, equity) for ts, equity in reversed(list(rows))]

    return await services.transaction(read)


@dataclass
class BotDetail:
    info: BotInfo
    status: BotStatus | None = None
    positions: list[PositionView] = field(default_factory=list)
    orders: list[OrderView] = field(default_factory=list)
    pnl: Pnl | None = None
    stats: BotStats | None = None
    trades: TradesPage | None = None
    config: RunningConfig | None = None
    logs: str = ""
    equity: list[EquityPoint] = field(default_factory=list)
    error: str | None = None


async def bot_detail(services: DashboardServices, name: str, trades_page: int = 1) -> BotDetail:
    info = await services.fleet.status(name)
    detail = BotDetail(info)
    detail.equity, detail.logs = await asyncio.gather(
        equity_points(services, name), _logs(services, name)
    )
    if not info.running:
        return detail
    try:
        client = services.control(name)
        detail.status = await ask(services, client.status(), name)
        (
            detail.positions,
            detail.orders,
            detail.pnl,
            detail.stats,
            detail.trades,
            detail.config,
        ) = await asyncio.gather(
            ask(services, client.positions(), name),
            ask(services, client.orders(), name),
            ask(services, client.pnl(), name),
            ask(services, client.stats(), name),
            ask(services, client.trades(trades_page, 50), name),
            ask(services, client.config(), name),
        )
    except (Unanswered, TradingError) as exc:
        detail.error = str(exc)
    return detail


async def _logs(services: DashboardServices, name: str) -> str:
    try:
        return await services.fleet.logs(name, 40)
    except TradingError as exc:
        return f"(no log: {exc})"


@dataclass
class Comparison:
    name: str
    strategy: str | None
    stats: BotStats | None
    equity: list[EquityPoint]
    error: str | None = None


async def comparison(services: DashboardServices) -> list[Comparison]:
    """Every bot's statistics (running bots) and recorded equity curve."""

    async def one(info: BotInfo) -> Comparison:
        equity = await equity_points(services, info.name)
        if not info.running:
            return Comparison(info.name, info.strategy, None, equity, "not running")
        try:
            stats = await ask(services, services.control(info.name).stats(), info.name)
        except (Unanswered, TradingError) as exc:
            return Comparison(info.name, info.strategy, None, equity, str(exc))
        return Comparison(info.name, info.strategy, stats, equity)

    return list(await asyncio.gather(*(one(i) for i in await services.fleet.list_bots())))
