"""What a running bot publishes on its stream, and its engine-style controls (start, kill).

Sources, each as it happens:

* ``fill`` - every execution on each venue's fill stream, published the moment the venue client
  delivers it; then the ``position`` of that symbol on that venue and the bot's ``pnl``;
* ``order`` - every order state the venue reports (new, partially filled, filled, cancelled...);
* ``status`` and ``risk`` - a watcher compares, every :data:`WATCH_SECONDS`, what an operator
  cares about (running/paused/stopping, kill switch, daily-loss pause, the strategy's last
  limit refusal) and publishes a fresh status (and a risk event) when it changed; the controls
  below publish at once;
* ``pnl`` - also every :data:`PNL_SECONDS` when it moved (marks move unrealized PnL), while
  someone is subscribed: on a real venue reading the positions may be a REST request, not
  worth its rate limit for nobody.

Nothing here runs inside a strategy step: the feed reads the venue clients' own fan-out
subscriptions, so a slow stream never delays the trading loop (:mod:`bot_runtime.event_stream`).

The controls: ``start`` clears a pause (refused while the kill switch is engaged: reset it
first); ``kill`` engages the kill switch in the risk manager (saved with the strategy, so a
restart stays killed), then cancels every resting order, flattens every position and stops the
bot through :func:`bot_runtime.kill_switch.kill_switch`, holding the strategy's step lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import structlog

from bot_runtime.control import BotControl, Conflict
from bot_runtime.control_models import KillSwitchResult, StateChange
from bot_runtime.event_stream import EngineControl, EventHub, EventType
from bot_runtime.kill_switch import kill_info, kill_switch
from bot_runtime.running import RunningBot
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import Fill, Order

log = structlog.get_logger(__name__)

WATCH_SECONDS = 0.2
PNL_SECONDS = 5.0


def fill_data(fill: Fill) -> dict[str, Any]:
    return {
        "venue": fill.venue,
        "symbol": fill.symbol,
        "side": fill.side,
        "size": fill.size,
        "price": fill.price,
        "fee": fill.fee,
        "fee_asset": fill.fee_asset,
        "liquidity": fill.liquidity,
        "client_order_id": fill.client_order_id,
        "fill_id": fill.fill_id,
        "fill_ts": fill.ts,
    }


def order_data(venue: str, order: Order) -> dict[str, Any]:
    return {
        "venue": venue,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.order_type.value,
        "size": order.size,
        "filled_size": order.filled_size,
        "price": order.price,
        "avg_fill_price": order.avg_fill_price,
        "trigger_price": order.trigger_price,
        "status": order.status.value,
        "reduce_only": order.reduce_only,
        "reject_reason": order.reject_reason,
    }


class RuntimeEvents:
    """The stream's feed from a running bot, and its start/kill controls."""

    def __init__(self, runtime: RunningBot, control: BotControl, hub: EventHub | None = None):
        self._runtime = runtime
        self._control = control
        self.hub = hub or EventHub(runtime.config.name)
        self._tasks: list[asyncio.Task[None]] = []
        self._watched: tuple[Any, ...] | None = None
        self._pnl: dict[str, Any] | None = None
        self._kill_lock = asyncio.Lock()

    # --- the feed --------------------------------------------------------------------------

    def start_feed(self) -> None:
        """Subscribe to every venue's fills and orders and start the watchers (idempotent)."""
        if self._tasks:
            return
        for venue, client in self._runtime.clients.items():
            # Subscribed here, synchronously: nothing published from now on is missed.
            self._spawn(self._forward_fills(venue, client), f"stream fills:{venue}")
            self._spawn(self._forward_orders(venue, client), f"stream orders:{venue}")
        self._watched = self._fingerprint()
        self._spawn(self._every(WATCH_SECONDS, self.check_state), "stream watcher")
        self._spawn(self._every(PNL_SECONDS, self.publish_pnl_if_moved), "stream pnl")

    async def aclose(self) -> None:
        """Stop the feed and tell every subscriber the bot is going away."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self.hub.close_all("the bot is stopping")

    def _spawn(self, work: Awaitable[None], name: str) -> None:
        self._tasks.append(asyncio.ensure_future(work))
        self._tasks[-1].set_name(name)

    def publish(self, type_: EventType, data: dict[str, Any]) -> int:
        return self.hub.publish(type_, data)

    async def _forward_fills(self, venue: str, client: BaseExchangeClient) -> None:
        async with client.fills() as fills:
            async for fill in fills:
                self.publish("fill", fill_data(fill))
                try:
                    await self._publish_position(venue, client, fill.symbol)
                    await self.publish_pnl()
                except Exception:
                    log.warning("stream: position/pnl after a fill failed", exc_info=True)

    async def _forward_orders(self, venue: str, client: BaseExchangeClient) -> None:
        async with client.order_updates() as updates:
            async for order in updates:
                self.publish("order", order_data(venue, order))

    async def _publish_position(self, venue: str, client: BaseExchangeClient, symbol: str) -> None:
        position = await client.position(symbol)
        size = position.size if position is not None else Decimal(0)
        data: dict[str, Any] = {"venue": venue, "symbol": symbol, "size": size}
        if position is not None and size != 0:
            data |= {
                "side": "long" if size > 0 else "short",
                "entry_price": position.entry_price,
                "mark_price": position.mark_price,
                "unrealized_pnl": position.unrealized_pnl,
                "accrued_funding": position.accrued_funding,
                "liquidation_price": position.liquidation_price,
            }
        self.publish("position", data)

    async def publish_pnl(self) -> None:
        pnl = (await self._control.pnl()).model_dump(mode="json")
        self._pnl = pnl
        self.publish("pnl", pnl)

    async def publish_pnl_if_moved(self) -> None:
        if not self.hub.subscribers:
            return
        pnl = (await self._control.pnl()).model_dump(mode="json")
        if pnl != self._pnl:
            self._pnl = pnl
            self.publish("pnl", pnl)

    def _fingerprint(self) -> tuple[Any, ...]:
        runtime = self._runtime
        strategy = runtime.strategy
        paused = strategy is not None and strategy.context.paused.is_set()
        described = strategy.describe() if strategy is not None else {}
        return (
            runtime.stopping.is_set(),
            paused,
            kill_info(runtime.risk),
            runtime.risk.paused_until,
            described.get("last_limit"),
        )

    async def check_state(self) -> None:
        """Publish status (and risk, when the risk part moved) if anything changed."""
        now = self._fingerprint()
        before, self._watched = self._watched, now
        if now == before:
            return
        if before is None or now[2:] != before[2:]:
            kill = now[2]
            self.publish(
                "risk",
                {
                    "killed": kill is not None,
                    "kill_reason": kill[0] if kill else None,
                    "killed_at": kill[1] if kill else None,
                    "paused_until": now[3],
                    "last_limit": now[4],
                },
            )
        status = await self._control.status()
        self.publish("status", status.model_dump(mode="json"))

    async def _every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                log.warning("stream watcher failed; it tries again", exc_info=True)

    # --- the controls ----------------------------------------------------------------------

    async def start(self) -> StateChange:
        runtime = self._runtime
        if runtime.stopping.is_set():
            raise Conflict("the bot is stopping: start it again from the fleet")
        kill = kill_info(runtime.risk)
        if kill is not None:
            raise Conflict(
                f"the kill switch is engaged ({kill[0]}): reset it first "
                "(POST /api/v1/kill-switch/reset)"
            )
        assert runtime.strategy is not None
        runtime.strategy.context.paused.clear()
        runtime.log.warning("started (entries allowed) through the control API")
        await self.check_state()
        return StateChange(state="running")

    async def kill(self, reason: str) -> KillSwitchResult:
        runtime = self._runtime
        if runtime.stopping.is_set():
            raise Conflict("the bot is already stopping")
        strategy = runtime.strategy
        assert strategy is not None
        async with self._kill_lock:
            strategy.context.paused.set()  # no entry between here and the lock
            full_reason = f"operator kill through the control API: {reason}"
            await self._engage(full_reason)
            async with strategy.step_lock:
                result = await kill_switch(runtime, full_reason)
            try:
                await strategy.save_state()  # a restart stays killed
            except Exception:
                runtime.log.exception("kill switch: saving the state failed")
        self.publish("risk", {"killed": True, "kill_reason": full_reason, **result.as_json()})
        await self.check_state()
        return KillSwitchResult(**result.as_json())

    async def _engage(self, reason: str) -> None:
        """The risk manager's kill switch, as a tripped drawdown would leave it."""
        risk = self._runtime.risk
        if risk.killed:
            return
        state = dict(risk.state())
        try:
            equity = await self._runtime.equity()
        except Exception:
            equity = state.get("last_equity") or Decimal(0)
        state["killed"] = True
        state["kill"] = {
            "reason": reason,
            "equity": equity,
            "peak_equity": state.get("peak_equity") or equity,
            "at": self._runtime_now().isoformat(),
        }
        risk.restore(state)

    def _runtime_now(self) -> Any:
        strategy = self._runtime.strategy
        assert strategy is not None
        return strategy.context.clock.now()


__all__ = ["EngineControl", "RuntimeEvents", "fill_data", "order_data"]
