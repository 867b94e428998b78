"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, in front
of a real paper bot (``runbot.py``, l2_imbalance on the synthetic market) and its live stream.

A trader logs in and sees the fleet, opens the bot, watches a paper fill arrive without a
reload, and pauses it; a CSRF-less POST from the page is refused; a viewer sees no controls
and is refused one; an admin kills it, confirming with the bot's name. Screenshots go to the
test's output directory
(``PERPFLEET_TEST_DASHBOARD_SCREENSHOT=docs/dashboard.png`` also writes the README's).

Chromium is Debian's package (``/usr/bin/chromium``, installed by ``.ci/run``); without it the
test is skipped with the reason, unless ``PERPFLEET_TEST_REQUIRE_CHROMIUM=1`` (CI): then it
fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from database.models import Bot, PnlSnapshot
from tests.dashboard.conftest import PASSWORD, Dashboard
from tests.dashboard.real_bot import real_bot

CHROMIUM = Path("/usr/bin/chromium")
GUARD_MS = 90_000  # guards a hang; not a speed assertion
BOT = "dash-l2"

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("PERPFLEET_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


async def _log_in(page: Any, url: str, user: str) -> None:
    await page.goto(f"{url}/login")
    await page.fill('input[name="name"]', user)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_selector("table#fleet, #fleet", timeout=GUARD_MS)


async def _post(page: Any, path: str, with_token: bool) -> dict[str, Any]:
    """A POST made by the page's own JavaScript (the browser sends its cookie)."""
    result: dict[str, Any] = await page.evaluate(
        """async ([path, withToken]) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const headers = {"Content-Type": "application/json"};
            if (withToken) headers["X-CSRF-Token"] = token;
            const r = await fetch(path, {method: "POST", headers, body: "{}"});
            return {status: r.status, body: await r.json()};
        }""",
        [path, with_token],
    )
    return result


async def _record_equity(dashboard: Dashboard, port: int, token: str, samples: int) -> None:
    """The bot's equity sampled into pnl_snapshots, as the Telegram watcher records it (the
    bot page draws its curve from there)."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        for _ in range(samples):
            status = (await api.get("/api/v1/status")).json()
            pnl = (await api.get("/api/v1/pnl")).json()
            async with dashboard.sessions() as session, session.begin():
                bot_id = await session.scalar(select(Bot.id).where(Bot.name == status["name"]))
                session.add(
                    PnlSnapshot(
                        bot_id=bot_id,
                        ts=datetime.now(UTC),
                        equity=Decimal(status["equity"]),
                        realized=Decimal(pnl["realized"]),
                        unrealized=Decimal(pnl["unrealized"]),
                        funding=Decimal(pnl["funding"]),
                    )
                )
            await asyncio.sleep(0.5)


async def test_log_in_watch_a_fill_pause_and_be_refused(
    dashboard: Dashboard, chromium: Path, tmp_path: Path, migrated_db_url: str
) -> None:
    from playwright.async_api import async_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    async with real_bot(BOT, tmp_path, migrated_db_url) as bot:
        dashboard.fleet.add_process(bot.name, bot.port, bot.token, "l2_imbalance")
        await _record_equity(dashboard, bot.port, bot.token, samples=8)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=["--no-sandbox"]
            )
            try:
                trader = await browser.new_page(viewport={"width": 1280, "height": 900})
                await _log_in(trader, dashboard.url, "tom")
                for name in ("grid-a", "grid-b", BOT):
                    assert await trader.locator(f'tr[data-bot="{name}"]').count() == 1
                await trader.screenshot(path=str(shots / "overview.png"), full_page=True)

                await trader.click(f'a[href="/bots/{BOT}"]')
                await trader.wait_for_selector("#live.on", timeout=GUARD_MS)
                first = trader.locator("#live-fills tr").first
                await first.wait_for(timeout=GUARD_MS)  # a paper fill, pushed: no reload
                cells = await first.locator("td").all_inner_texts()
                assert cells[1:3] == ["paper", "BTC"]
                assert float(cells[4]) > 0  # size
                await trader.screenshot(path=str(shots / "bot.png"), full_page=False)
                readme = os.environ.get("PERPFLEET_TEST_DASHBOARD_SCREENSHOT")
                if readme:
                    shutil.copy(shots / "bot.png", readme)

                await trader.click('button[data-action="pause"]')
                await trader.wait_for_selector("#message.show", timeout=GUARD_MS)
                assert await trader.inner_text("#message") == f"{BOT} is paused"
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{bot.port}",
                    headers={"Authorization": f"Bearer {bot.token}"},
                ) as api:
                    assert (await api.get("/api/v1/status")).json()["state"] == "paused"
                actions = [(e.actor, e.action, e.target) for e in await dashboard.audit()]
                assert ("dashboard:tom", "dashboard.bot.pause", BOT) in actions

                forged = await _post(trader, f"/api/v1/bots/{BOT}/resume", with_token=False)
                assert forged["status"] == 403
                assert "CSRF" in forged["body"]["error"]

                viewer_context = await browser.new_context(viewport={"width": 1280, "height": 900})
                viewer = await viewer_context.new_page()
                await _log_in(viewer, dashboard.url, "vic")
                await viewer.goto(f"{dashboard.url}/bots/{BOT}")
                assert await viewer.locator("button[data-action]").count() == 0
                refused = await _post(viewer, f"/api/v1/bots/{BOT}/resume", with_token=True)
                assert refused["status"] == 403
                assert "needs the trader role" in refused["body"]["error"]
                await viewer.screenshot(path=str(shots / "viewer.png"))
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{bot.port}",
                    headers={"Authorization": f"Bearer {bot.token}"},
                ) as api:
                    assert (await api.get("/api/v1/status")).json()["state"] == "paused"

                # An admin kills it: the prompt wants the bot's name; a wrong one does nothing.
                admin_context = await browser.new_context(viewport={"width": 1280, "height": 900})
                admin = await admin_context.new_page()
                await _log_in(admin, dashboard.url, "ada")
                await admin.goto(f"{dashboard.url}/bots/{BOT}")
                answers = iter(["not-the-bot", BOT])
                admin.on("dialog", lambda dialog: dialog.accept(next(answers)))
                await admin.click('button[data-action="kill"]')
                await admin.wait_for_selector("#message.bad", timeout=GUARD_MS)
                assert "confirm by sending the bot's name" in await admin.inner_text("#message")
                await admin.click('button[data-action="kill"]')
                await admin.wait_for_selector("#message.show:not(.bad)", timeout=GUARD_MS)
                assert (await admin.inner_text("#message")).startswith(f"{BOT} killed:")
                kills = [e for e in await dashboard.audit() if e.action == "dashboard.bot.kill"]
                assert [(e.actor, e.target) for e in kills] == [("dashboard:ada", BOT)]
            finally:
                await browser.close()
    for name in ("overview.png", "bot.png", "viewer.png"):
        assert (shots / name).stat().st_size > 10_000, name
