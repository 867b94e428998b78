"""The fleet guard: drawdown and daily loss across every bot, per account and in total.

Each bot guards itself (its ``risk:`` section); nothing watched what the bots lose together -
five bots each 8 % down is a 40 %-of-one-bot loss no single kill switch sees. The guard looks
at the fleet every ``interval_seconds``:

1. every running bot's balances through its control API (equity per venue, and the database
   account behind it); an account is counted once however many bots trade it, and an account
   whose bot is not running keeps its last equity (a stopped bot is not a loss);
2. per account and in total: the peak equity seen and the equity at the first look of the
   UTC day; drawdown = (peak - equity) / peak, daily loss = day start - equity;
3. the first limit reached trips the guard: ``pause`` pauses every running bot (no new
   entries; open positions are still managed), ``kill`` closes every bot's positions and stops
   it. While tripped, every later look applies the action again to any bot running unpaused
   (one resumed or launched meanwhile). The trip is audited (``fleet.guard.trip``) and logged
   critical; the Telegram service's watcher alerts ``kill_switch`` subscribers.

It stays tripped until :func:`reset_guard` (``python -m fleet guard reset --reason TEXT``, audited):
the operator accepts the loss, and peaks and day starts restart from the current equities.
The reset resumes nothing: resume or restart the bots when ready.

Deposits and withdrawals move equity like profit and loss: a withdrawal looks like a loss (reset
the guard after one). The state (one JSON document) is kept in ``app_settings`` under
:data:`STATE_KEY`, so the CLI and the Telegram service show the same thing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, SystemClock
from core.redaction import scrub
from database.repositories.audit import record_audit
from database.repositories.settings import get_setting, set_setting
from fleet.api import BotInfo, Fleet, FleetError
from fleet.guard_config import GuardConfig, GuardLimits

log = structlog.get_logger(__name__)

STATE_KEY = "fleet.guard.state"
GUARD_ACTOR = "fleet-guard"
TRIP_ACTION = "fleet.guard.trip"
RESET_ACTION = "fleet.guard.reset"
CONTROL_TIMEOUT_SECONDS = 10.0
_STATE_VERSION = 1
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


@dataclass
class EquityBook:
    """One scope's equity: now, its peak, and where the UTC day started."""

    equity: Decimal
    peak: Decimal
    day: date
    day_start: Decimal

    @classmethod
    def first(cls, equity: Decimal, today: date) -> EquityBook:
        return cls(equity, equity, today, equity)

    def observe(self, equity: Decimal, today: date) -> None:
        if self.day != today:
            self.day, self.day_start = today, equity
        self.equity = equity
        self.peak = max(self.peak, equity)

    def restart(self, today: date) -> None:
        """The operator accepted the loss: peak and day start are the equity now."""
        self.peak, self.day, self.day_start = self.equity, today, self.equity

    @property
    def drawdown_pct(self) -> Decimal:
        return (self.peak - self.equity) / self.peak * _HUNDRED if self.peak > 0 else _ZERO

    @property
    def daily_loss(self) -> Decimal:
        return self.day_start - self.equity

    def breach(self, scope: str, limits: GuardLimits) -> str | None:
        """The sentence saying which limit ``scope`` reached, or None."""
        if limits.daily_loss_usd is not None and self.daily_loss >= limits.daily_loss_usd:
            return (
                f"{scope}: daily loss {self.daily_loss:.2f} USD (from {self.day_start:.2f} to "
                f"{self.equity:.2f} USD) reached the {limits.daily_loss_usd} USD limit"
            )
        if limits.max_drawdown_pct is not None and self.drawdown_pct >= limits.max_drawdown_pct:
            return (
                f"{scope}: drawdown {self.drawdown_pct:.2f}% from the peak {self.peak:.2f} USD "
                f"to {self.equity:.2f} USD reached the {limits.max_drawdown_pct}% limit"
            )
        return None

    def as_json(self) -> dict[str, str]:
        return {
            "equity": str(self.equity),
            "peak": str(self.peak),
            "day": self.day.isoformat(),
            "day_start": str(self.day_start),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EquityBook:
        return cls(
            Decimal(data["equity"]),
            Decimal(data["peak"]),
            date.fromisoformat(data["day"]),
            Decimal(data["day_start"]),
        )


@dataclass
class Trip:
    at: datetime
    reason: str
    action: str


@dataclass
class GuardState:
    """What the guard knows between looks (saved after each)."""

    accounts: dict[str, EquityBook] = field(default_factory=dict)
    total: EquityBook | None = None
    tripped: Trip | None = None
    checked_at: datetime | None = None
    bots: dict[str, str] = field(default_factory=dict)
    """What the last look saw of, or did to, each running bot."""
    settings: str = ""
    """The configuration of the last look, in words (for status readers without the file)."""

    def as_json(self) -> dict[str, Any]:
        trip = self.tripped
        return {
            "version": _STATE_VERSION,
            "accounts": {key: book.as_json() for key, book in sorted(self.accounts.items())},
            "total": self.total.as_json() if self.total is not None else None,
            "tripped": None
            if trip is None
            else {"at": trip.at.isoformat(), "reason": trip.reason, "action": trip.action},
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "bots": dict(sorted(self.bots.items())),
            "settings": self.settings,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuardState:
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported fleet guard state version {data.get('version')!r}")
        trip = data.get("tripped")
        checked = data.get("checked_at")
        return cls(
            accounts={k: EquityBook.from_json(v) for k, v in data["accounts"].items()},
            total=EquityBook.from_json(data["total"]) if data.get("total") else None,
            tripped=None
            if not trip
            else Trip(datetime.fromisoformat(trip["at"]), trip["reason"], trip["action"]),
            checked_at=datetime.fromisoformat(checked) if checked else None,
            bots=dict(data.get("bots") or {}),
            settings=str(data.get("settings") or ""),
        )


async def load_state(session: AsyncSession) -> GuardState | None:
    """The guard's saved state, or None before its first look."""
    text = await get_setting(session, STATE_KEY)
    return GuardState.from_json(json.loads(text)) if text else None


async def save_state(session: AsyncSession, state: GuardState) -> None:
    await set_setting(session, STATE_KEY, json.dumps(state.as_json(), separators=(",", ":")))


class FleetGuard:
    """Looks at ``fleet`` (:meth:`check_once`, or :meth:`run` forever) as ``config`` says."""

    def __init__(
        self,
        fleet: Fleet,
        config: GuardConfig,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._fleet = fleet
        self._config = config
        self._sessions = sessions
        self._clock = clock or SystemClock()
        self._sleep = sleep

    async def run(self) -> None:
        """Look every ``interval_seconds`` until cancelled; a failed look is logged, retried."""
        while True:
            try:
                await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fleet guard look failed; retrying")
            await self._sleep(self._config.interval_seconds)

    async def check_once(self) -> GuardState:
        """One look: read every running bot, update the books, trip and act; saved, returned."""
        now = self._clock.now().astimezone(UTC)
        today = now.date()
        async with self._sessions() as session:
            state = await load_state(session) or GuardState()
        running = [bot for bot in await self._fleet.list_bots() if bot.running]
        state.bots = {}
        for bot in running:
            await self._read(bot, state, today)
        if state.accounts:
            total = sum((book.equity for book in state.accounts.values()), _ZERO)
            if state.total is None:
                state.total = EquityBook.first(total, today)
            else:
                state.total.observe(total, today)
        new_trip = None
        if state.tripped is None:
            reason = self._breach(state)
            if reason is not None:
                new_trip = state.tripped = Trip(now, reason, self._config.action)
                log.critical("FLEET GUARD TRIPPED", reason=reason, action=self._config.action)
        if state.tripped is not None:
            await self._enforce(running, state)
        state.checked_at = now
        state.settings = settings_text(self._config)
        async with self._sessions.begin() as session:
            await save_state(session, state)
            if new_trip is not None:
                await record_audit(
                    session,
                    TRIP_ACTION,
                    "fleet",
                    {"reason": new_trip.reason, "action": new_trip.action, "bots": state.bots},
                    actor=GUARD_ACTOR,
                )
        return state

    async def _read(self, bot: BotInfo, state: GuardState, today: date) -> None:
        try:
            balances = await asyncio.wait_for(
                self._fleet.control(bot.name).balances(), CONTROL_TIMEOUT_SECONDS
            )
        except (FleetError, TimeoutError, OSError) as exc:
            state.bots[bot.name] = f"unreadable: {scrub(str(exc))}"
            log.warning("fleet guard cannot read a bot", bot=bot.name, error=scrub(str(exc)))
            return
        for balance in balances:
            key = f"{balance.venue}/{balance.account or bot.name}"
            book = state.accounts.get(key)
            if book is None:
                state.accounts[key] = EquityBook.first(balance.equity, today)
            else:
                book.observe(balance.equity, today)
        state.bots[bot.name] = "watched"

    def _breach(self, state: GuardState) -> str | None:
        for key, book in sorted(state.accounts.items()):
            reason = book.breach(f"account {key}", self._config.per_account)
            if reason is not None:
                return reason
        if state.total is not None:
            return state.total.breach("fleet total", self._config.total)
        return None

    async def _enforce(self, running: list[BotInfo], state: GuardState) -> None:
        """Apply the trip's action to every running bot not yet under it; failures noted."""
        assert state.tripped is not None
        for bot in running:
            try:
                if state.tripped.action == "kill":
                    await self._fleet.stop(bot.name, close_positions=True)
                    state.bots[bot.name] = "stopped, positions closed"
                    continue
                control = self._fleet.control(bot.name)
                status = await asyncio.wait_for(control.status(), CONTROL_TIMEOUT_SECONDS)
                if status.state == "running":
                    await asyncio.wait_for(control.pause(), CONTROL_TIMEOUT_SECONDS)
                    state.bots[bot.name] = "paused"
                else:
                    state.bots[bot.name] = status.state
            except (FleetError, TimeoutError, OSError) as exc:
                state.bots[bot.name] = f"{state.tripped.action} FAILED: {scrub(str(exc))}"
                log.critical(
                    "fleet guard could not act on a bot",
                    bot=bot.name,
                    action=state.tripped.action,
                    error=scrub(str(exc)),
                )


async def reset_guard(
    sessions: async_sessionmaker[AsyncSession],
    reason: str,
    actor: str,
    *,
    clock: Clock | None = None,
) -> Trip:
    """Clear a tripped guard (audited); peaks and day starts restart from the equities now.

    Raises :class:`fleet.api.FleetUserError` when it is not tripped."""
    from fleet.api import FleetUserError

    today = (clock or SystemClock()).now().astimezone(UTC).date()
    async with sessions.begin() as session:
        state = await load_state(session)
        if state is None or state.tripped is None:
            raise FleetUserError("the fleet guard is not tripped: there is nothing to reset")
        trip = state.tripped
        await record_audit(
            session,
            RESET_ACTION,
            "fleet",
            {"reason": reason, "trip_reason": trip.reason, "tripped_at": trip.at.isoformat()},
            actor=actor,
        )
        state.tripped = None
        for book in state.accounts.values():
            book.restart(today)
        if state.total is not None:
            state.total.restart(today)
        await save_state(session, state)
    log.warning("fleet guard reset", actor=actor, reason=reason, was=trip.reason)
    return trip


def settings_text(config: GuardConfig) -> str:
    return (
        f"action {config.action}, every {config.interval_seconds:g} s; limits: total "
        f"{_limits(config.total)}; per account {_limits(config.per_account)}"
    )


def describe(state: GuardState | None) -> str:
    """The guard's status as plain lines (the CLI prints them, Telegram wraps them)."""
    if state is None:
        return "fleet guard: no look yet (run `python -m fleet guard run --config FILE`)"
    lines = []
    if state.tripped is not None:
        trip = state.tripped
        lines.append(f"fleet guard: TRIPPED at {trip.at:%Y-%m-%d %H:%M:%S} UTC ({trip.action})")
        lines.append(f"  {trip.reason}")
    else:
        lines.append("fleet guard: ok")
    if state.checked_at is not None:
        lines.append(f"last look: {state.checked_at:%Y-%m-%d %H:%M:%S} UTC")
    if state.settings:
        lines.append(state.settings)
    rows = [("total", state.total)] if state.total is not None else []
    rows += sorted(state.accounts.items())
    for name, book in rows:
        if book is None:
            continue
        lines.append(
            f"  {name}: equity {book.equity:.2f} USD, drawdown {book.drawdown_pct:.2f}% "
            f"(peak {book.peak:.2f}), today {-book.daily_loss:+.2f} USD"
        )
    for bot, what in sorted(state.bots.items()):
        lines.append(f"  bot {bot}: {what}")
    return "\n".join(lines)


def _limits(limits: GuardLimits) -> str:
    parts = []
    if limits.max_drawdown_pct is not None:
        parts.append(f"drawdown {limits.max_drawdown_pct}%")
    if limits.daily_loss_usd is not None:
        parts.append(f"daily loss {limits.daily_loss_usd} USD")
    return ", ".join(parts) or "none"
