"""Dashboard figures: the overview's first render with 20 bots, and fill-to-page latency.

Set-up, all on loopback: 20 bots, each the real control API (``bot_runtime.control_api``,
with the real event stream and its ``EventHub``) over a small in-memory bot, served by
uvicorn in a thread of their own (their own event loop, as separate processes would have);
the dashboard (``dashboard.app``, real relay, SQLite database migrated to head, a logged-in
user) served by uvicorn in the main loop.

* **overview first render**: a logged-in GET / (the dashboard asks 20 control APIs for
  status, PnL and positions at once, reads today's PnL and heartbeats from the database,
  renders), median of 15 - both sides of those 60 HTTP calls run in this one process here
  (the bots' servers in a thread), where a real fleet's bots answer from their own; and,
  when Debian's Chromium is there, the browser's first-contentful-paint of the same page
  (Playwright), median of 7. Target <= 1 s.
* **fill to page**: a fill published on a bot's hub (stamped with the wall clock) until the
  row for it is in the bot page's DOM in Chromium (a MutationObserver stamps it; same
  machine, same clock), 200 fills 20 ms apart: p50 and p99. Without Chromium, until the
  event reaches a server-sent-events client instead (said in the output). Target p99 <= 500 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from analytics.performance import analyse
from bench.harness import machine
from bot_runtime.bot_stats import stats_view, trades_page
from bot_runtime.control_api import create_app as control_app
from bot_runtime.control_auth import hash_token, new_token
from bot_runtime.control_models import (
    BalanceView,
    BotStats,
    BotStatus,
    CloseAllResult,
    CloseMode,
    CloseResult,
    KillResetRequest,
    KillResetResult,
    KillSwitchResult,
    OrderView,
    Pnl,
    PositionView,
    ReloadResult,
    RunningConfig,
    StateChange,
    TradesPage,
)
from bot_runtime.event_stream import EventHub
from core.logging_setup import configure_logging
from dashboard.app import create_app
from dashboard.controls import ControlPool
from dashboard.funding import FundingSource
from dashboard.passwords import hash_password
from dashboard.relay import STREAM_PATH, StreamEndpoint, StreamRelay
from dashboard.services import DashboardServices
from database.engine import create_engine, session_maker
from database.migrate import upgrade
from database.repositories import dashboard_users as users
from fleet.api import BotInfo, ControlClient, FleetError, NoSuchBot
from fleet.control_client import HttpControlClient

BOTS = 20
PASSWORD = "bench passphrase"  # noqa: S105 - a throwaway user of a temporary database
CHROMIUM = Path("/usr/bin/chromium")
FILLS = 200


@dataclass
class BenchBot:
    """A bot that trades nothing: the control API's contract answered from memory."""

    name: str
    state: str = "running"

    async def status(self) -> BotStatus:
        return BotStatus(
            name=self.name,
            strategy="grid",
            state=self.state,
            uptime_seconds=60.0,
            equity=Decimal("10012.5"),
            venues=["paper"],
        )

    async def positions(self) -> list[PositionView]:
        return [
            PositionView(
                id="paper:BTC",
                venue="paper",
                symbol="BTC",
                side="long",
                size=Decimal("0.01"),
                entry_price=Decimal("64000"),
                mark_price=Decimal("64100.5"),
                liquidation_price=Decimal("40000"),
                unrealized_pnl=Decimal("1.005"),
            )
        ]

    async def orders(self) -> list[OrderView]:
        return []

    async def balances(self) -> list[BalanceView]:
        return []

    async def pnl(self) -> Pnl:
        return Pnl(
            realized=Decimal("11.5"),
            unrealized=Decimal("1.005"),
            funding=Decimal(0),
            fees=Decimal("0.4"),
            net=Decimal("12.505"),
        )

    async def stats(self) -> BotStats:
        return stats_view(analyse([], [], []), [], 0)

    async def trades(self, page: int, per_page: int) -> TradesPage:
        return trades_page([], page, per_page)

    def config(self) -> RunningConfig:
        return {"name": self.name, "strategy": {"type": "grid"}, "exchanges": {"paper": {}}}

    async def pause(self) -> StateChange:
        self.state = "paused"
        return StateChange(state="paused")

    async def resume(self) -> StateChange:
        self.state = "running"
        return StateChange(state="running")

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> CloseResult:
        return CloseResult(position_id=position_id, closed=Decimal(0))

    async def close_all(self) -> CloseAllResult:
        return CloseAllResult(cancelled_orders=[], closed_positions=[])

    async def reload_config(self) -> ReloadResult:
        return ReloadResult(config=self.config())

    async def stop(self) -> StateChange:
        return StateChange(state="stopping")

    async def reset_kill(self, request: KillResetRequest) -> KillResetResult:
        raise NotImplementedError


@dataclass
class BenchEngine:
    hub: EventHub

    async def start(self) -> StateChange:
        return StateChange(state="running")

    async def kill(self, reason: str) -> KillSwitchResult:
        return KillSwitchResult(reason=reason, complete=True)


@dataclass
class Served:
    name: str
    token: str
    hub: EventHub
    app: FastAPI
    port: int = 0


@dataclass
class BenchFleet:
    """:class:`fleet.api.Fleet` over the served bots (reads only; controls unused here)."""

    bots: dict[str, Served] = field(default_factory=dict)

    async def list_bots(self) -> list[BotInfo]:
        return [await self.status(name) for name in self.bots]

    async def status(self, name: str) -> BotInfo:
        if name not in self.bots:
            raise NoSuchBot(name)
        return BotInfo(name, "RUNNING", 1, 60.0, "grid", None, None, self.bots[name].port)

    def control(self, name: str) -> ControlClient:
        bot = self.bots[name]
        return HttpControlClient(name, bot.port, bot.token)

    async def logs(self, name: str, lines: int = 50) -> str:
        return ""

    async def launch(self, config_path: str, account: str | None = None) -> BotInfo:
        raise FleetError("not in the bench")

    async def stop(self, name: str, *, close_positions: bool = False) -> BotInfo:
        raise FleetError("not in the bench")

    async def restart(self, name: str) -> BotInfo:
        raise FleetError("not in the bench")

    async def reset_kill(
        self, name: str, reason: str, *, force: bool = False, actor: str | None = None
    ) -> KillResetResult:
        raise FleetError("not in the bench")

    def pooled(self, name: str, transport: httpx.AsyncBaseTransport) -> ControlClient:
        bot = self.bots[name]
        return HttpControlClient(name, bot.port, bot.token, transport=transport)

    async def locate(self, name: str) -> StreamEndpoint:
        bot = self.bots[name]
        return StreamEndpoint(f"ws://127.0.0.1:{bot.port}{STREAM_PATH}", bot.token)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[int]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


class BotThread:
    """The 20 bots' servers in one thread with its own event loop."""

    def __init__(self, bots: list[Served]) -> None:
        self.bots = bots
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            for bot in self.bots:
                bot.port = await stack.enter_async_context(serve(bot.app))
            self.ready.set()
            await self.stop.wait()

    def __enter__(self) -> BotThread:
        self.thread.start()
        self.ready.wait(60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)

    def publish_fill(self, bot: Served, n: int) -> None:
        data = {
            "venue": "paper",
            "symbol": "BTC",
            "side": "buy",
            "size": "0.001",
            "price": "64000.5",
            "fee": "0.0128",
            "fill_id": f"{time.time() * 1000:.3f}:{n}",
        }
        self.loop.call_soon_threadsafe(bot.hub.publish, "fill", data)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _login(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    answer = await client.post("/login", data={"csrf": csrf, "name": "bench", "password": PASSWORD})
    assert answer.status_code == 303, answer.text


async def bench(root: Path) -> None:
    url = f"sqlite+aiosqlite:///{root / 'bench.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_maker(engine)
    async with sessions() as session, session.begin():
        await users.add_user(session, "bench", "admin", hash_password(PASSWORD))
    fleet = BenchFleet()
    for i in range(BOTS):
        name = f"bench-{i:02d}"
        token = new_token()
        hub = EventHub(name)
        app = control_app(BenchBot(name), hash_token(token), engine=BenchEngine(hub))
        fleet.bots[name] = Served(name, token, hub, app)
    services = DashboardServices(
        fleet=fleet,
        sessions=sessions,
        relay=StreamRelay(fleet.locate),
        controls=ControlPool(fleet.pooled),
        funding=FundingSource("http://127.0.0.1:9"),
        configs_dir=root,
    )
    try:
        with BotThread(list(fleet.bots.values())) as bots:
            async with serve(create_app(services)) as port:
                base = f"http://127.0.0.1:{port}"
                async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                    await _login(client)
                    await _overview_http(client)
                    cookie = client.cookies.get("perpfleet_session") or ""
                await _browser(base, cookie, bots, fleet)
    finally:
        await engine.dispose()


async def _overview_http(client: httpx.AsyncClient) -> None:
    await client.get("/")  # warm-up: imports, connections
    samples = []
    for _ in range(15):
        start = time.perf_counter()
        page = await client.get("/")
        samples.append(time.perf_counter() - start)
        assert page.status_code == 200
        assert page.text.count("data-bot=") >= BOTS
    _line(
        f"overview, {BOTS} bots: GET / (server render)", statistics.median(samples), "median of 15"
    )


async def _browser(base: str, cookie: str, bots: BotThread, fleet: BenchFleet) -> None:
    if not await asyncio.to_thread(CHROMIUM.exists):
        sys.stdout.write(
            f"  ({CHROMIUM} missing: browser figures skipped; apt-get install -y chromium)\n"
        )
        await _fill_to_sse(base, cookie, bots, fleet)
        return
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            context = await browser.new_context()
            await context.add_cookies([{"name": "perpfleet_session", "value": cookie, "url": base}])
            page = await context.new_page()
            paints: list[float] = []
            kinds: set[str] = set()
            await page.goto(f"{base}/")
            for _ in range(7):
                await page.goto(f"{base}/", wait_until="load")
                timing = await page.evaluate(
                    """() => new Promise((resolve) => {
                        const nav = performance.getEntriesByType("navigation")[0];
                        const done = (paint) => resolve([paint, nav.domContentLoadedEventEnd]);
                        new PerformanceObserver((list) => {
                            const fcp = list.getEntriesByName("first-contentful-paint")[0];
                            if (fcp) done(fcp.startTime);
                        }).observe({type: "paint", buffered: true});
                        setTimeout(() => done(null), 2000);
                    })"""
                )
                paints.append(float(timing[0] if timing[0] is not None else timing[1]) / 1000)
                kinds.add("first contentful paint" if timing[0] is not None else "DOM loaded")
            _line(
                f"overview, {BOTS} bots: {' / '.join(sorted(kinds))} (Chromium)",
                statistics.median(paints),
                "median of 7; target <= 1 s",
            )

            bot = fleet.bots["bench-00"]
            await page.goto(f"{base}/bots/{bot.name}")
            await page.wait_for_selector("#live.on", timeout=30_000)
            await page.evaluate(
                """() => {
                    window.__seen = [];
                    new MutationObserver((changes) => {
                        const now = Date.now();
                        for (const c of changes) for (const row of c.addedNodes)
                            if (row.dataset && row.dataset.fillId)
                                window.__seen.push([row.dataset.fillId, now]);
                    }).observe(document.getElementById("live-fills"), {childList: true});
                }"""
            )
            for n in range(FILLS):
                bots.publish_fill(bot, n)
                await asyncio.sleep(0.02)
            await page.wait_for_function(f"window.__seen.length >= {FILLS}", timeout=30_000)
            seen = await page.evaluate("window.__seen")
            latencies = [(now - float(fill_id.split(":")[0])) / 1000 for fill_id, now in seen]
            _latencies("fill to page (Chromium DOM row)", latencies)
        finally:
            await browser.close()


async def _fill_to_sse(base: str, cookie: str, bots: BotThread, fleet: BenchFleet) -> None:
    bot = fleet.bots["bench-00"]
    latencies: list[float] = []
    async with (
        httpx.AsyncClient(
            base_url=base, cookies={"perpfleet_session": cookie}, timeout=30
        ) as client,
        client.stream("GET", f"/events/{bot.name}") as answer,
    ):
        lines = answer.aiter_lines()
        async for line in lines:
            if '"connected":true' in line:
                break

        async def publish() -> None:
            for n in range(FILLS):
                bots.publish_fill(bot, n)
                await asyncio.sleep(0.02)

        task = asyncio.create_task(publish())
        async for line in lines:
            if '"type":"fill"' in line:
                stamp = float(line.split('"fill_id":"')[1].split(":")[0])
                latencies.append(time.time() - stamp / 1000)
                if len(latencies) == FILLS:
                    break
        await task
    _latencies("fill to server-sent event (no browser)", latencies)


def _latencies(name: str, values: list[float]) -> None:
    _line(f"{name}: p50", _percentile(values, 0.5), f"{len(values)} fills")
    _line(f"{name}: p99", _percentile(values, 0.99), "target <= 500 ms")


def _line(name: str, seconds: float, note: str) -> None:
    sys.stdout.write(f"  {name:<60} {seconds * 1e3:9.1f} ms  {note}\n")


def main() -> None:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    sys.stdout.write(f"dashboard ({machine()}; load average {load})\n")
    configure_logging(level="WARNING", stream=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="pf-bench-dash-"))
    try:
        asyncio.run(bench(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
