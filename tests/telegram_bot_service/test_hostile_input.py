"""Issue 13, item 6: hostile arguments get one readable line, never "Something went wrong".

Each answer is checked for what the user reads: one short line naming the problem, inside
Telegram's 4096-character limit — and that nothing was stored or written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from telegram_bot_service import users
from telegram_bot_service.roles import Role
from testing.fakes.telegram_api import MESSAGE_LIMIT, ApiCall, utf16_length
from tests.telegram_bot_service.conftest import ADMIN, TRADER, VIEWER, Harness, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet

WRONG = "Something went wrong"
TWENTY_DIGITS = "99999999999999999999"


def readable(call: ApiCall) -> str:
    assert WRONG not in call.text
    assert utf16_length(call.text) <= MESSAGE_LIMIT
    return call.text


async def test_twenty_digit_user_ids_are_refused_in_one_line(start_service: StartService) -> None:
    async with start_service() as harness:
        added = readable(await harness.say(ADMIN, f"/users add {TWENTY_DIGITS} viewer"))
        assert "invalid Telegram user id" in added
        removed = readable(await harness.say(ADMIN, f"/users remove {TWENTY_DIGITS}"))
        assert "invalid Telegram user id" in removed
        async with harness.sessions() as session:
            assert len(await users.list_users(session)) == 3


async def test_a_very_long_display_name_is_refused_and_an_old_one_is_shown_cut(
    start_service: StartService,
) -> None:
    async with start_service() as harness:
        answer = readable(await harness.say(ADMIN, "/users add 4444 viewer " + "N" * 3000))
        assert "at most 64 characters" in answer
        # A name stored before the limit (straight into the table) is shown cut, not failed.
        async with harness.sessions() as session, session.begin():
            user = await users._find(session, VIEWER)
            assert user is not None
            user.display_name = "Ж" * 120
        start = readable(await harness.say(VIEWER, "/start"))
        assert "Hello " in start
        assert "Ж" * 70 not in start
        listing = readable(await harness.say(ADMIN, "/users"))
        assert "Ж" * 70 not in listing
        assert role_of(await harness_user(harness, VIEWER)) == Role.VIEWER


async def harness_user(harness: Harness, telegram_id: int) -> users.UserSummary | None:
    async with harness.sessions() as session:
        return await users.get_user(session, telegram_id)


def role_of(user: users.UserSummary | None) -> Role | None:
    return user.role if user is not None else None


async def _to_notional_step(harness: Harness, name: str) -> None:
    for answer in ("/new_config", name, "grid", "paper", "BTC", "buy"):
        await harness.say(TRADER, answer)


@pytest.mark.parametrize("notional", ["1e999999", "1E-22", "0.001", "-5", "NaN", "1e6x", "0"])
async def test_absurd_notionals_are_refused(
    start_service: StartService, configs_dir: Path, notional: str
) -> None:
    async with start_service() as harness:
        await _to_notional_step(harness, "hostile-grid")
        answer = readable(await harness.say(TRADER, notional))
        assert answer.startswith("Send a number of USD from 1.00 to 1,000,000.00")
        # Still at the notional step: a sane answer goes on; an absurd leverage is refused too.
        assert "target_leverage" in readable(await harness.say(TRADER, "100"))
        for leverage in ("1e999999", "1E-22", "0.5", "201"):
            refused = readable(await harness.say(TRADER, leverage))
            assert refused.startswith("A number from 1 to 50")
        # Percentages: the schema's bounds, plain notation, at most 4 decimals.
        assert "take_profit" in readable(await harness.say(TRADER, "10"))
        for take_profit in ("1e999999", "0", "0.00001", "1000001"):
            refused = readable(await harness.say(TRADER, take_profit))
            assert refused.startswith("A number from 0.0001 to 1000000")
        for answer in ("0.6", "0.02"):
            await harness.say(TRADER, answer)
        for count in ("1e3", "0", "2.5"):
            refused = readable(await harness.say(TRADER, count))
            assert refused.startswith("A whole number from 1 to 1000000")
        await harness.say(TRADER, "8")
        assert not (configs_dir / "hostile-grid.yml").exists()
        done = readable(await harness.say(TRADER, "100"))
        assert "Wrote" in done


async def test_a_reply_longer_than_telegram_allows_is_paginated(
    start_service: StartService,
) -> None:
    fleet = InMemoryFleet()
    for index in range(150):
        fleet.add_bot(f"grid-{index:03d}-" + "x" * 50)
    async with start_service(fleet=fleet) as harness:
        tg = harness.telegram
        mark = tg.mark()
        await tg.send_text(VIEWER, "/status")
        first = readable(await tg.reply_to(VIEWER, after=mark))
        assert first.startswith("Usage: /status BOT")
        await harness.settle()
        pages = tg.sent(VIEWER, after=mark)
        assert len(pages) >= 2
        for page in pages:
            readable(page)
        shown = "".join(page.text for page in pages)
        assert "grid-149-" in shown


@pytest.mark.parametrize(
    "text",
    [
        "/status " + "a" * 4000,
        "/logs " + "🙂" * 2000,
        "/pause " + "../../etc/passwd",
        "/stop BOT<b>",
        "/logs grid-a 1e999999",
        "/close grid-a " + "p" * 3000,
    ],
)
async def test_hostile_bot_arguments_get_one_line(start_service: StartService, text: str) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        answer = readable(await harness.say(TRADER, text))
        assert len(answer.splitlines()) <= 2
        assert len(answer) < 300
        assert fleet.actions == []
