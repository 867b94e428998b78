"""Clearing the kill switch of a bot that is not running: in its saved state, under its lease.

A kill switch stops its bot (exit 0: supervisord does not restart it) and the risk manager's
state, saved with the strategy's (``strategy_states.state["risk"]``), keeps it engaged across
restarts. A stopped bot has no control API to ask, so the fleet clears the saved state itself,
with the same rules as the running bot (:func:`bot_runtime.kill_switch.plan_reset`): refused
while the drawdown still holds unless forced, and audited in the same transaction.

The bot's lease is held meanwhile, so the bot cannot start half-way through (and a bot running
somewhere else - another host, ``make run`` - is refused: reset it through its control API).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.control_models import ErrorKind, KillResetResult
from bot_runtime.kill_switch import (
    RESET_ACTION,
    KillConditionHolds,
    KillNotEngaged,
    plan_reset,
)
from bot_runtime.lease import BotLease, LeaseHeld
from core.clock import SystemClock
from database.models import Bot, StrategyState
from database.repositories.audit import record_audit
from fleet.api import ControlRefused, FleetUserError, NoSuchBot
from strategies.risk import RiskManager
from trading_config.schema import RiskConfig


async def reset_saved_kill(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    reason: str,
    *,
    force: bool,
    actor: str,
) -> KillResetResult:
    """Clear ``name``'s saved kill switch (it must not be running); audited."""
    try:
        lease = await BotLease.acquire(sessions, name)
    except LeaseHeld as exc:
        raise FleetUserError(
            f"{exc}: reset its kill switch through its control API instead"
        ) from None
    try:
        async with sessions.begin() as session:
            return await _reset(session, name, reason, force=force, actor=actor)
    finally:
        await lease.release()


async def _reset(
    session: AsyncSession, name: str, reason: str, *, force: bool, actor: str
) -> KillResetResult:
    bot = await session.scalar(select(Bot).where(Bot.name == name))
    if bot is None:
        raise NoSuchBot(name)
    row = await session.get(StrategyState, bot.id)
    saved: dict[str, Any] = dict(row.state) if row is not None else {}
    risk_config = RiskConfig.model_validate((bot.config or {}).get("risk") or {})
    risk = RiskManager(risk_config, SystemClock(), bot=name)
    risk.restore(saved.get("risk") or {})
    try:
        plan = plan_reset(risk, force=force)
    except KillNotEngaged as exc:
        raise ControlRefused(f"{name}: {exc}", ErrorKind.CONFLICT, {}) from None
    except KillConditionHolds as exc:
        raise ControlRefused(
            f"{name}: {exc.message}", ErrorKind.NEEDS_CONFIRMATION, dict(exc.details)
        ) from None
    await record_audit(
        session, RESET_ACTION, name, plan.audit_details(reason, through="saved_state"), actor=actor
    )
    risk.reset_kill()
    assert row is not None  # a kill was found in it
    row.state = {**saved, "risk": risk.state()}
    return plan.result(name, risk.paused_until)
