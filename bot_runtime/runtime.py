"""One running bot: start-up, the strategy loop, heartbeats, status lines, signals, shutdown.

Start-up order matters for money: the journal is reconciled against the venues (orders the
last run left behind adopted or cancelled) and interrupted atomic operations are finished
*before* the strategy makes its first decision.

Signals: the first SIGINT/SIGTERM stops entering, cancels resting orders (unless
``execution.cancel_orders_on_stop`` is false), saves state and exits 0 - during the start too,
once the start is through; a second one within 2 seconds exits at once (the journal lets the
next start reconcile whatever was in flight).

A person watching the terminal sees every fill as one line (side, size, price, fee) and, on
the way out, a session summary: orders cancelled, positions left open, realised PnL of this
run.

Exit codes tell supervisord and the fleet what happened: 0 a stop that was asked for (or the
kill switch, which must not be restarted into trading), 1 a failed start or a lost lease,
2 another process already runs this bot name, 3 the bot gave up (too many failed steps in a
row): not restarted, shown as FAILED by the fleet, alerted. The ``bots`` row says the same
(``crashed`` with ``status_detail``), so no row stays ``starting`` after a failed start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot_runtime.check import live_trading_problems, unlisted_markets
from bot_runtime.equity_samples import SAMPLE_SECONDS, record_sample
from bot_runtime.kill_switch import KillResult, kill_switch
from bot_runtime.lease import BotLease, LeaseHeld
from bot_runtime.notifications import AlertSinkFactory, Notifications
from bot_runtime.setup import (
    ExecutionStack,
    StartupError,
    account_ids,
    build_clients,
    build_execution,
    connect_all,
    register_bot,
)
from core import startup_gc
from core.clock import Clock, SystemClock
from core.errors import ExchangeError, RiskLimitBreached
from core.tasks import TaskSupervisor
from database import create_engine, require_current_schema, session_maker
from database.models import Bot
from database.types import utcnow
from exchange_clients.base import BaseExchangeClient, Reconnected
from exchange_clients.streams import Subscription
from execution.atomic import Recovery, start_recovery
from execution.intent_writer import open_intent_writer
from execution.journal import OrderJournal, reconcile
from execution.reconciliation import ADOPTED, ReconciliationOutcome, VenueReconciler
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.factory import create_strategy
from strategies.risk import RiskManager
from strategies.risk_gate import RiskGate
from strategies.state_store import StrategyStateStore
from trading_config.schema import BotConfig
from trading_config.yaml_source import format_loc

log = structlog.get_logger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NAME_IN_USE = 2
EXIT_GAVE_UP = 3
FORCE_EXIT_WINDOW_SECONDS = 2.0
HEARTBEAT_SECONDS = 5.0
STATUS_SECONDS = 10.0
MAX_CONSECUTIVE_ERRORS = 20


@dataclass
class RuntimeOptions:
    """Knobs the CLI (or a test) sets; the config holds the rest."""

    config_path: str
    control_api: bool = False
    control_api_port: int | None = None
    control_token: str | None = None
    # The fleet's bots: a control port taken by another process at bind time is replaced by
    # any free one (recorded in bots.control_port, where the fleet looks it up).
    control_api_port_fallback: bool = False
    status_seconds: float = STATUS_SECONDS
    paper_options: dict[str, Any] = field(default_factory=dict)
    # Who delivers the bot's own alerts (fills, atomic failures, giving up); None: nobody.
    # runbot.py wires Telegram in when it is configured (the runtime never imports it).
    alerts: AlertSinkFactory | None = None


class BotRuntime:
    """Runs one bot until it is stopped; :meth:`run` returns the process exit code."""

    def __init__(self, config: BotConfig, options: RuntimeOptions, clock: Clock | None = None):
        self.config = config
        self.options = options
        self.clock = clock or SystemClock()
        self.started_monotonic = time.monotonic()
        self.stopping = asyncio.Event()
        self.stop_reason: str | None = None
        self.gave_up: str | None = None
        # A background task (heartbeat, fill readers) that died: the bot stops and exits 1 so
        # supervisord restarts it - a fresh start reconnects and reconciles; running blind
        # (no fills, no heartbeat renewing the lease) is worse than a restart.
        self.task_failure: str | None = None
        self.recovery: Recovery | None = None
        self.reconciler: VenueReconciler | None = None
        # What the last venue reconciliation found unexplained (start-up or a reconnect),
        # one line each; the control API's status shows it.
        self.reconciliation_findings: list[str] = []
        self.tasks = TaskSupervisor("runtime", on_failure=self._background_task_failed)
        self.lease: BotLease | None = None
        self._first_signal_at: float | None = None
        self.engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.bot_id: int | None = None
        self.clients: dict[str, BaseExchangeClient] = {}
        self.stack: ExecutionStack | None = None
        self.strategy: BaseStrategy[Any] | None = None
        self.risk = RiskManager(config.risk, self.clock, bot=config.name)
        self.control_server: Any = None
        self.events: Any = None  # the control API's live stream (bot_runtime.event_stream_runtime)
        self.notifications = Notifications(config.name, None)
        self.realized_at_start = Decimal(0)  # the strategy's realised PnL when this run began
        self._exit_stack = contextlib.AsyncExitStack()
        self.log = log.bind(bot=config.name)

    # --- the whole life --------------------------------------------------------------------

    async def run(self) -> int:
        # Before the start: Ctrl-C while starting stops the bot gracefully once it is up,
        # instead of cancelling a database or venue call half-way (a traceback in the log).
        self._install_signal_handlers()
        try:
            await self.start()
        except LeaseHeld as exc:
            # The row and the orders are the running process's: touch nothing.
            sys.stderr.write(f"{exc}\n")
            await self._close()
            return EXIT_NAME_IN_USE
        except (StartupError, ExchangeError) as exc:  # a venue's refusal is not a bug either
            sys.stderr.write(f"{self.config.name}: {exc}\n")
            await self._after_failed_start("crashed", f"start failed: {exc}")
            return EXIT_FAILED
        except Exception as exc:
            await self._after_failed_start("crashed", f"start failed: {type(exc).__name__}: {exc}")
            raise
        except BaseException:
            await self._after_failed_start("stopped", "interrupted during start")
            raise
        try:
            await self._loop()
        finally:
            await self.shutdown()
        if self.lease is not None and self.lease.lost:
            return EXIT_FAILED
        if self.gave_up is not None:
            return EXIT_GAVE_UP
        return EXIT_FAILED if self.task_failure is not None else EXIT_OK

    async def start(self) -> None:
        refused = live_trading_problems(self.config)  # runbot.py says it first, located
        if refused:
            raise StartupError("; ".join(f"{format_loc(loc)}: {why}" for loc, why in refused))
        await require_current_schema()
        self.engine = create_engine()
        self.sessions = session_maker(self.engine)
        # Before anything else touches the bot's rows, orders or wallet.
        self.lease = await BotLease.acquire(self.sessions, self.config.name)
        self.bot_id = await register_bot(self.sessions, self.config, self.options.config_path)
        accounts = await account_ids(self.sessions, self.config)
        self.clients = await build_clients(
            self.sessions, self.config, paper_options=self.options.paper_options
        )
        await connect_all(self.clients)
        listed = {venue: list(await client.markets()) for venue, client in self.clients.items()}
        unlisted = unlisted_markets(self.config, listed)
        if unlisted:
            raise StartupError("; ".join(f"{format_loc(loc)}: {why}" for loc, why in unlisted))
        self.notifications = await Notifications.start(
            self.config.name, self._exit_stack, self.options.alerts
        )
        # Intents on their own connection, held open (execution.intent_writer).
        journal = OrderJournal(
            self.sessions,
            bot_id=self.bot_id,
            accounts=accounts,
            intent_writer=await open_intent_writer(self.engine),
        )
        self.stack = await build_execution(
            self.sessions,
            self.config,
            self.bot_id,
            accounts,
            self.clients,
            self.clock,
            journal=journal,
            alert=self.notifications.atomic_failure,
            gate=RiskGate(self.risk, self.clients),
        )
        context = StrategyContext(
            bot_name=self.config.name,
            config=self.config,
            clients=self.clients,
            executors=self.stack.executors,
            trackers=self.stack.trackers,
            atomic=self.stack.atomic,
            journal=self.stack.journal,
            risk=self.risk,
            state_store=StrategyStateStore(
                self.sessions, self.bot_id, self.stack.journal.committer
            ),
            clock=self.clock,
        )
        self.strategy = create_strategy(
            self.config.strategy.type, context, self.config.strategy.params
        )
        strategy = self.strategy
        report = await reconcile(
            self.stack.journal,
            self.clients,
            # An order adopted from the venue stays; the strategy decides about its own.
            keep_resting=lambda order: order.purpose == ADOPTED or strategy.keeps_resting(order),
        )
        await self._reconcile_venues_at_start()
        # Interrupted atomic operations are finished in the background: only operations on the
        # symbols still being finished wait for it; the control API and the strategy start now.
        self.recovery = await start_recovery(self.stack.atomic, clock=self.clock)
        await strategy.start()
        self.realized_at_start = Decimal(strategy.describe().get("realized_pnl", 0))
        if self.options.control_api:
            await self._start_control_api()
        await self._set_status("running")
        self.log.info(
            "bot started",
            strategy=self.config.strategy.type,
            venues=sorted(self.clients),
            adopted=len(report.adopted),
            cancelled=len(report.cancelled),
            recovering_operations=len(self.recovery.operations),
        )
        startup_gc.release()

    async def _loop(self) -> None:
        assert self.strategy is not None
        strategy = self.strategy
        self.tasks.spawn(self._every(HEARTBEAT_SECONDS, self._heartbeat), name="heartbeat")
        self.tasks.spawn(self._equity_samples(), name="equity samples")
        self.tasks.spawn(
            self._every(self.options.status_seconds, self._status_line), name="status line"
        )
        for venue, client in self.clients.items():
            self.tasks.spawn(self.notifications.forward_fills(client), name=f"alerts:{venue}")
            self.tasks.spawn(self._log_fills(client), name=f"fill log:{venue}")
            self.tasks.spawn(  # subscribed now: no reconnect is missed while the task starts
                self._reconcile_after_reconnects(venue, client.reconnects()),
                name=f"reconciliation:{venue}",
            )
        errors = 0
        try:
            while not self.stopping.is_set():
                if strategy.context.stop_requested.is_set():
                    self.request_stop("the strategy asked to stop")
                    break
                try:
                    kill = self.risk.update_equity(await self.equity())
                    if kill is not None:
                        await self.kill(kill.reason)
                        break
                    async with strategy.step_lock:  # the operator's closes wait for it
                        if await strategy.should_execute():
                            await strategy.execute_strategy()
                    errors = 0
                except RiskLimitBreached as exc:
                    # The gate did its job: a refused order is not a failing bot.
                    self.log.warning("order refused by the risk gate", reason=str(exc))
                    errors = 0
                except ExchangeError as exc:
                    errors += 1
                    self.log.warning("venue error in the strategy step", error=str(exc))
                except Exception:
                    errors += 1
                    self.log.exception("strategy step failed")
                if errors >= MAX_CONSECUTIVE_ERRORS:
                    await self._give_up(f"{errors} strategy steps failed in a row")
                    break
                await strategy.wait_next_step(self._sleep)
        finally:
            await self.tasks.aclose()

    # --- reconciliation against the venues (execution.reconciliation) ---------------------

    async def _reconcile_venues_at_start(self) -> None:
        """Venue orders/positions the journal does not explain: adopted, cancelled, or (policy
        ``refuse``) the start is refused with one line naming each venue/symbol."""
        assert self.stack is not None
        assert self.sessions is not None
        self.reconciler = VenueReconciler(
            self.sessions,
            self.stack.journal,
            self.clients,
            trackers=self.stack.trackers,
            executors=self.stack.executors,
            policies={v: self.config.reconciliation.policy_for(v) for v in self.clients},
            bot_name=self.config.name,
        )
        await self.reconciler.track_adopted()
        outcome = await self.reconciler.run()
        await self._report_reconciliation(outcome, "at start")
        if outcome.refused:
            raise StartupError(
                "refusing to start: the venue holds what the journal does not explain: "
                + "; ".join(outcome.refused)
                + " (resolve it on the venue, or set reconciliation.policy to adopt or cancel)"
            )

    async def _reconcile_after_reconnects(
        self, venue: str, reconnects: Subscription[Reconnected]
    ) -> None:
        """After every reconnect of ``venue``'s streams: the same check and policy; ``refuse``
        stops entries (the strategy is paused) with an alert instead of stopping the bot."""
        assert self.strategy is not None
        assert self.reconciler is not None
        strategy, reconciler = self.strategy, self.reconciler
        async with reconnects:
            async for _ in reconnects:
                try:
                    async with strategy.step_lock:  # no step of ours in flight meanwhile
                        outcome = await reconciler.run([venue], settle=True)
                except Exception:
                    self.log.exception(
                        "venue reconciliation after a reconnect failed; the next one retries",
                        venue=venue,
                    )
                    continue
                await self._report_reconciliation(outcome, f"after {venue} reconnected")
                if outcome.refused:
                    strategy.context.paused.set()
                    self.log.critical(
                        "entries stopped: the venue holds what the journal does not explain "
                        "(reconciliation.policy refuse); resolve it, then resume",
                        venue=venue,
                        findings="; ".join(outcome.refused),
                    )

    async def _report_reconciliation(self, outcome: ReconciliationOutcome, when: str) -> None:
        """Remember the findings (control API status) and alert once per reconciliation."""
        self.reconciliation_findings = outcome.findings.lines()
        if outcome.clean:
            return
        done = [
            f"{what} {len(lines)}"
            for what, lines in (
                ("refused", outcome.refused),
                ("adopted", outcome.adopted),
                ("cancelled", outcome.cancelled),
                ("closed", outcome.flattened),
                ("failed", outcome.failed),
            )
            if lines
        ]
        await self.notifications.venue_state(
            f"Bot {self.config.name}: unexplained venue state {when} "
            f"({', '.join(done)}): " + "; ".join(self.reconciliation_findings)
        )

    def _background_task_failed(self, task: str, error: BaseException) -> None:
        """A background task died (already logged with its traceback): stop and exit 1."""
        if self.task_failure is None:
            self.task_failure = f"{task}: {type(error).__name__}: {error}"
            self.request_stop(f"background task {self.task_failure}")

    async def _after_failed_start(self, status: str, detail: str) -> None:
        """Never leave the row ``starting``: say what happened, then release everything."""
        try:
            await self._set_status(status, detail)
        except Exception:
            self.log.exception("could not record the failed start")
        await self._close()

    async def _give_up(self, reason: str) -> None:
        """Stop for good: exit non-zero (not restarted), the row says why, subscribers told."""
        self.gave_up = reason
        self.log.critical("bot gave up", reason=reason, exit_code=EXIT_GAVE_UP)
        self.request_stop(f"gave up: {reason}")
        await self.notifications.bot_failed(f"Bot {self.config.name} gave up: {reason}.")

    async def shutdown(self) -> None:
        """Stop entering, cancel resting orders (unless configured not to), save, close.

        After a lost lease nothing is cancelled or written: the orders and the row belong to
        the process that took the name over.
        """
        self.stopping.set()
        self.log.info("stopping", reason=self.stop_reason)
        if self.lease is not None and self.lease.lost:
            await self._close()
            self.log.info("stopped without touching orders (lease lost)")
            return
        await self._set_status("stopping")
        cancelled: list[str] = []
        if self.strategy is not None:
            try:
                cancelled = await self.strategy.cleanup(
                    cancel_orders=self.config.execution.cancel_orders_on_stop
                )
            except Exception:
                self.log.exception("cleanup failed; the next start reconciles what is left")
            await self._session_summary(cancelled)
            await self._sample_equity()  # the curve ends where this run ends
        if self.gave_up is not None:
            await self._set_status("crashed", f"gave up: {self.gave_up}")
        elif self.task_failure is not None:
            await self._set_status("crashed", f"background task {self.task_failure}")
        else:
            await self._set_status("stopped", self.stop_reason)
        await self._close()
        self.log.info("stopped")

    async def _close(self) -> None:
        if self.events is not None:
            await self.events.aclose()  # subscribers told "going away" before the server stops
            self.events = None
        if self.control_server is not None:
            try:
                await self.control_server.stop()
            except Exception:
                self.log.warning("control API did not stop cleanly", exc_info=True)
            self.control_server = None
        if self.recovery is not None:
            await self.recovery.close()  # what is unfinished stays for the next start
            self.recovery = None
        if self.stack is not None:
            await self.stack.stop()
            await self.stack.journal.close()
            self.stack = None
        for venue, client in self.clients.items():
            try:
                await client.disconnect()
            except Exception:
                self.log.warning(
                    "venue client did not disconnect cleanly", venue=venue, exc_info=True
                )
        if self.lease is not None:
            try:
                await self.lease.release()
            except Exception:
                self.log.exception("lease not released; it expires with its heartbeat")
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None
        await self._exit_stack.aclose()

    # --- stop, pause, kill -----------------------------------------------------------------

    @property
    def config_path(self) -> str:
        return self.options.config_path

    def request_stop(self, reason: str) -> None:
        if not self.stopping.is_set():
            self.stop_reason = reason
            self.stopping.set()

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        now = time.monotonic()
        if self._first_signal_at is None:
            self._first_signal_at = now
            self.log.warning(
                f"{name}: stopping after cancelling resting orders "
                f"(again within {FORCE_EXIT_WINDOW_SECONDS:g} s to exit at once)"
            )
            self.request_stop(name)
        elif now - self._first_signal_at <= FORCE_EXIT_WINDOW_SECONDS:
            sys.stderr.write(f"{self.config.name}: {name} again: exiting at once\n")
            sys.stderr.flush()
            os._exit(128 + signum)
        else:
            self.log.warning(f"{name}: still stopping")

    async def kill(self, reason: str) -> KillResult:
        """Kill switch: cancel everything, flatten every position, stop; what failed is
        logged and reported (:mod:`bot_runtime.kill_switch`)."""
        return await kill_switch(self, reason)

    async def _session_summary(self, cancelled: list[str]) -> None:
        """What this run leaves behind, in one line: a person stopping the bot reads it."""
        assert self.strategy is not None
        left: list[str] = []
        for venue, client in self.clients.items():
            try:
                positions = await client.positions()
            except Exception as exc:
                left.append(f"{venue}: unknown ({type(exc).__name__})")
                continue
            left += [
                f"{venue}:{p.symbol} {'long' if p.size > 0 else 'short'} {abs(p.size)} "
                f"@ {p.entry_price}"
                for p in positions
                if p.size != 0
            ]
        realized = Decimal(self.strategy.describe().get("realized_pnl", 0))
        self.log.info(
            "session summary",
            orders_cancelled=len(cancelled),
            positions_open=", ".join(left) or "none",
            realized_pnl=f"{(realized - self.realized_at_start).normalize():f} USD",
        )

    async def _equity_samples(self) -> None:
        """A sample now, then every :data:`~bot_runtime.equity_samples.SAMPLE_SECONDS`
        (runs until cancelled; see :mod:`bot_runtime.equity_samples`)."""
        while True:
            await self._sample_equity()
            await asyncio.sleep(SAMPLE_SECONDS)

    async def _sample_equity(self) -> None:
        """One equity sample; a failure is logged and the next one tried in its turn."""
        if self.sessions is None or self.bot_id is None or self.strategy is None:
            return
        try:
            realized = Decimal(self.strategy.describe().get("realized_pnl", 0))
            await record_sample(self.sessions, self.bot_id, self.clients, realized)
        except Exception as exc:
            self.log.warning("equity not sampled", error=str(exc))

    async def _log_fills(self, client: BaseExchangeClient) -> None:
        """Each fill of ``client``'s account as one line (runs until cancelled)."""
        async with client.fills() as fills:
            async for fill in fills:
                self.log.info(
                    "fill",
                    venue=fill.venue,
                    symbol=fill.symbol,
                    side=fill.side,
                    size=str(fill.size),
                    price=str(fill.price),
                    fee=f"{fill.fee} {fill.fee_asset}",
                    liquidity=fill.liquidity,
                    order=fill.client_order_id,
                )

    # --- periodic work ---------------------------------------------------------------------

    async def equity(self) -> Decimal:
        total = Decimal(0)
        for client in self.clients.values():
            total += (await client.balance()).equity
        return total

    async def _heartbeat(self) -> None:
        assert self.sessions is not None
        assert self.bot_id is not None
        if self.lease is not None and not await self.lease.renew():
            self.log.critical(
                "lease lost: another process now runs this bot name; stopping at once "
                "without touching its orders",
                fencing_token=self.lease.fencing_token,
            )
            self.request_stop("lease lost")
            return
        async with self.sessions.begin() as session:
            bot = await session.get(Bot, self.bot_id)
            if bot is not None:
                bot.last_heartbeat_at = utcnow()

    async def _status_line(self) -> None:
        assert self.strategy is not None
        equity = await self.equity()
        orders = sum(
            1
            for tracker in (self.stack.trackers.values() if self.stack else [])
            for tracked in tracker.unfinished().values()
            if tracked.status.is_resting
        )
        positions = []
        unrealized = Decimal(0)
        for venue, client in self.clients.items():
            for position in await client.positions():
                unrealized += position.unrealized_pnl
                positions.append(
                    f"{venue}:{position.symbol} {position.size} @ {position.entry_price:.2f}"
                )
        described = self.strategy.describe()
        self.log.info(
            f"status | equity {equity:.2f} USD | realized {described.get('realized_pnl', 0):.4f} "
            f"| unrealized {unrealized:.4f} | open orders {orders} | "
            f"positions {', '.join(positions) or 'none'}"
            + (" | PAUSED" if self.strategy.context.paused.is_set() else "")
        )

    async def _every(self, seconds: float, work: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                self.log.exception("periodic task failed", task=getattr(work, "__name__", work))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def _set_status(self, status: str, detail: str | None = None) -> None:
        if self.sessions is None or self.bot_id is None:
            return
        async with self.sessions.begin() as session:
            bot = await session.get(Bot, self.bot_id)
            if bot is not None:
                bot.status = status
                bot.status_detail = detail
                bot.last_heartbeat_at = utcnow()

    async def _record_control_port(self, port: int) -> None:
        """``bots.control_port`` = the port actually bound: where the fleet's client looks.

        A stale row of another bot may still name this port (it is not running: we hold the
        port); it lets go of it so the unique constraint keeps meaning "one bot per port".
        """
        assert self.sessions is not None
        async with self.sessions.begin() as session:
            await session.execute(
                update(Bot)
                .where(Bot.control_port == port, Bot.id != self.bot_id)
                .values(control_port=None)
                .execution_options(synchronize_session=False)
            )
            bot = await session.get(Bot, self.bot_id)
            if bot is not None:
                bot.control_port = port

    async def _start_control_api(self) -> None:
        from bot_runtime.control_api import ControlServerError, create_app, serve
        from bot_runtime.control_auth import hash_token, new_token
        from bot_runtime.controller import RuntimeControl
        from bot_runtime.event_stream_runtime import RuntimeEvents
        from core.redaction import register_secret

        assert self.sessions is not None
        assert self.bot_id is not None
        token = self.options.control_token or new_token()
        register_secret(token)
        token_hash = hash_token(token)
        async with self.sessions.begin() as session:
            bot = await session.get(Bot, self.bot_id)
            if bot is not None:
                bot.control_token_hash = token_hash
        port = self.options.control_api_port or self.config.control_api.port or 0
        control = RuntimeControl(self)
        self.events = RuntimeEvents(self, control)
        app = create_app(control, token_hash, engine=self.events)
        host = self.config.control_api.host
        try:
            self.control_server = await serve(app, host, port)
        except ControlServerError as exc:
            if not (self.options.control_api_port_fallback and port):
                raise StartupError(f"{exc}: pick another port or stop what uses it") from None
            # Another process (a second fleet, a test) took the port since the fleet checked
            # it: any free one will do, the fleet finds it in the database.
            self.log.warning("control port taken at bind time; using any free one", port=port)
            self.control_server = await serve(app, host, 0)
        await self._record_control_port(self.control_server.port)
        self.events.start_feed()
        if self.options.control_token is None:
            # Printed once, on stdout, never logged: whoever started the bot needs it.
            sys.stdout.write(f"control API token: {token}\n")
            sys.stdout.flush()
        self.log.info(
            "control API ready",
            url=f"http://{self.config.control_api.host}:{self.control_server.port}",
        )
