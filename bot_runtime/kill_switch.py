"""The kill switch: best effort on every resting order and every position, then stop; and
its reset, an operator's decision (:func:`plan_reset`).

Each failure is logged with its order or position and reported in the :class:`KillResult`.
(It used to run the cancels under ``contextlib.suppress(Exception)``: a cancel refused during
a venue outage left orders resting with no log line at all.) It works on anything shaped like
a running bot (:class:`Killable`), so the runtime and the control API both call it without
importing each other.

Where a tripped switch lives: the risk manager (:class:`strategies.risk.RiskManager`) holds it,
and its state is saved with the strategy's (``strategy_states.state["risk"]["kill"]``), so a
restarted bot stays killed: it runs, manages nothing new and refuses every entry. The reset
clears it in the running bot (control API) or, for a stopped bot, in that saved state (the
fleet: :mod:`fleet.kill_reset`); both go through :func:`plan_reset`, so they refuse alike.

A reset while the condition that tripped the switch still holds - the drawdown from the peak
equity is still at or over ``risk.max_drawdown_pct`` - is refused unless forced: forcing it
accepts the loss, and the drawdown is measured afresh from the equity at the reset (the risk
manager's peak restarts there). Without new funds that is the usual case after a drawdown
kill, so the refusal is a confirmation step that states the numbers, not a wall.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bot_runtime.control import JSON
from bot_runtime.control_models import KillResetResult
from bot_runtime.setup import ExecutionStack
from core.redaction import scrub
from exchange_clients.base import BaseExchangeClient
from execution.order_executor import ExecutionRequest
from strategies.risk import RiskManager


class Killable(Protocol):
    """What the kill switch needs of a running bot."""

    log: Any
    stack: ExecutionStack | None
    clients: dict[str, BaseExchangeClient]

    def request_stop(self, reason: str) -> None: ...


@dataclass
class KillResult:
    """What a kill switch did, and what it could not do (each failure also logged)."""

    reason: str
    cancelled: list[str] = field(default_factory=list)
    """Client order ids cancelled."""
    failed_cancels: dict[str, str] = field(default_factory=dict)
    """Client order id -> why its cancel failed: the order may still rest on the venue."""
    closed: list[str] = field(default_factory=list)
    """``venue:symbol`` of the positions closed."""
    failed_closes: dict[str, str] = field(default_factory=dict)
    """``venue:symbol`` (``venue:*`` when positions could not even be read) -> why."""

    @property
    def complete(self) -> bool:
        return not self.failed_cancels and not self.failed_closes

    def as_json(self) -> JSON:
        return {
            "reason": self.reason,
            "complete": self.complete,
            "cancelled_orders": self.cancelled,
            "failed_cancels": self.failed_cancels,
            "closed_positions": self.closed,
            "failed_closes": self.failed_closes,
        }


def _failure(exc: BaseException) -> str:
    """One line for a log and a report: the error's kind and its message, secrets scrubbed."""
    return f"{type(exc).__name__}: {scrub(str(exc))}"


async def kill_switch(runtime: Killable, reason: str) -> KillResult:
    """Cancel every resting order, close every position at market, stop; report what failed.

    Every order and position is tried even when earlier ones fail (a venue outage must not
    leave the rest untouched); each failure is logged at error level with the order or
    position, and listed in the result. The stop is requested whatever happened: the next
    start reconciles what is left against the journal.
    """
    log = runtime.log.bind(kill_reason=reason)
    log.critical("KILL SWITCH", reason=reason)
    result = KillResult(reason)
    stack = runtime.stack
    try:
        if stack is not None:
            for venue, tracker in stack.trackers.items():
                for client_id, tracked in tracker.unfinished().items():
                    if not (tracked.status.is_resting or tracked.status.value == "pending"):
                        continue
                    try:
                        await stack.executors[venue].cancel(tracked.order.symbol, client_id)
                    except Exception as exc:
                        result.failed_cancels[client_id] = _failure(exc)
                        log.error(
                            "kill switch: cancel failed; the order may still rest",
                            venue=venue,
                            symbol=tracked.order.symbol,
                            client_order_id=client_id,
                            error=result.failed_cancels[client_id],
                        )
                    else:
                        result.cancelled.append(client_id)
            await _close_everything(runtime, result, log)
    finally:
        runtime.request_stop(f"kill switch: {reason}")
    if result.complete:
        log.warning("kill switch done", cancelled=len(result.cancelled), closed=len(result.closed))
    else:
        log.critical(
            "kill switch INCOMPLETE: orders or positions may remain on the venues",
            failed_cancels=sorted(result.failed_cancels),
            failed_closes=sorted(result.failed_closes),
        )
    return result


async def _close_everything(runtime: Killable, result: KillResult, log: Any) -> None:
    assert runtime.stack is not None
    for venue, client in runtime.clients.items():
        try:
            positions = await client.positions()
        except Exception as exc:
            result.failed_closes[f"{venue}:*"] = _failure(exc)
            log.error(
                "kill switch: cannot read positions; none closed on this venue",
                venue=venue,
                error=result.failed_closes[f"{venue}:*"],
            )
            continue
        for position in positions:
            if position.size == 0:
                continue
            where = f"{venue}:{position.symbol}"
            try:
                await runtime.stack.executors[venue].execute(
                    ExecutionRequest.closing(position, "close_all")
                )
            except Exception as exc:
                result.failed_closes[where] = _failure(exc)
                log.error(
                    "kill switch: close failed; the position stays open",
                    venue=venue,
                    symbol=position.symbol,
                    error=result.failed_closes[where],
                )
            else:
                result.closed.append(where)


# --------------------------------------------------------------------------------------------
# The reset


class KillNotEngaged(Exception):
    """A reset asked of a bot whose kill switch is not engaged."""


class KillConditionHolds(Exception):
    """The drawdown that tripped the switch still holds: a reset needs ``force``.

    ``details`` holds the numbers (drawdown_pct, peak_equity, equity, limit_pct) for the
    control API's 409 answer."""

    def __init__(self, message: str, details: dict[str, Decimal]) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class ResetPlan:
    """What a reset clears, checked but not yet applied (:meth:`RiskManager.reset_kill`)."""

    kill_reason: str
    killed_at: datetime
    forced: bool
    drawdown_pct: Decimal | None
    """Drawdown of the last equity from the old peak; None when no limit is configured."""
    new_peak: Decimal | None
    """The equity drawdown is measured from after the reset (the last equity seen)."""

    def audit_details(self, reason: str, *, through: str) -> dict[str, object]:
        """The audit row of this reset, the same whichever way it was asked for."""
        return {
            "reason": reason,
            "forced": self.forced,
            "kill_reason": self.kill_reason,
            "killed_at": self.killed_at.isoformat(),
            "drawdown_pct": str(self.drawdown_pct),
            "new_peak_equity": str(self.new_peak),
            "through": through,
        }

    def result(self, bot: str, paused_until: datetime | None) -> KillResetResult:
        """The answer to whoever asked, once the reset is applied."""
        return KillResetResult(
            bot=bot,
            kill_reason=self.kill_reason,
            killed_at=self.killed_at,
            forced=self.forced,
            drawdown_pct=self.drawdown_pct,
            peak_equity=self.new_peak,
            paused_until=paused_until,
        )


RESET_ACTION = "bot.kill_switch.reset"
"""The audit action of a kill-switch reset (control API, fleet CLI, Telegram alike)."""


def kill_info(risk: RiskManager) -> tuple[str, datetime] | None:
    """The reason and time of an engaged kill switch, or None."""
    kill = risk.state()["kill"]
    if kill is None:
        return None
    return str(kill["reason"]), datetime.fromisoformat(str(kill["at"]))


def plan_reset(risk: RiskManager, *, force: bool) -> ResetPlan:
    """Check a reset of ``risk``'s kill switch; raises when there is none or the drawdown
    still holds without ``force``. Changes nothing: apply with ``risk.reset_kill()``."""
    info = kill_info(risk)
    if info is None:
        raise KillNotEngaged("the kill switch is not engaged: there is nothing to reset")
    state = risk.state()
    peak: Decimal | None = state["peak_equity"]
    equity: Decimal | None = state["last_equity"]
    limit = risk.config.max_drawdown_pct
    drawdown = None
    holds = False
    if limit is not None and peak is not None and equity is not None and peak > 0:
        exact = (peak - equity) / peak * 100
        holds = exact >= limit
        drawdown = exact.quantize(Decimal("0.01"))
        if holds and not force:
            raise KillConditionHolds(
                f"the drawdown that tripped the kill switch still holds: {drawdown}% from the "
                f"peak equity {peak:.2f} USD to {equity:.2f} USD (limit {limit}%); a reset "
                f"accepts the loss and measures the drawdown afresh from {equity:.2f} USD: "
                "repeat with force",
                {
                    "drawdown_pct": drawdown,
                    "peak_equity": peak,
                    "equity": equity,
                    "limit_pct": limit,
                },
            )
    return ResetPlan(
        kill_reason=info[0],
        killed_at=info[1],
        forced=holds,
        drawdown_pct=drawdown,
        new_peak=equity,
    )
