"""The kill switch: best effort on every resting order and every position, then stop.

Each failure is logged with its order or position and reported in the :class:`KillResult`.
(It used to run the cancels under ``contextlib.suppress(Exception)``: a cancel refused during
a venue outage left orders resting with no log line at all.) It works on anything shaped like
a running bot (:class:`Killable`), so the runtime and the control API both call it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot_runtime.control import JSON
from bot_runtime.setup import ExecutionStack
from core.redaction import scrub
from exchange_clients.base import BaseExchangeClient
from execution.order_executor import ExecutionRequest


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
                for client_id, tracked in list(tracker.orders().items()):
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
