"""Issue 13, items 3, 5 and 7: what reaches a handler at all, and who waits for whom.

* an edited message never runs a command (editing an old /help into /users add ... must not
  act), and a re-delivered update (same update_id) is handled once;
* one hung bot does not hold up the other users: chats are served concurrently, control API
  calls have a short timeout, and the user reads "bot X did not answer";
* in a group chat nobody gets an answer — a stranger's refusal (with their id) is not posted
  into the group.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bot_runtime.control_models import BotStatus, StateChange
from telegram_bot_service import users
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.telegram_bot_service.conftest import (
    ADMIN,
    STRANGER,
    TRADER,
    VIEWER,
    StartService,
)
from tests.telegram_bot_service.fleet_double import InMemoryFleet

GROUP = -100_200_300


async def test_an_edited_message_never_runs_a_command(start_service: StartService) -> None:
    fleet = InMemoryFleet()
    bot = fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        tg = harness.telegram
        first = await tg.send_text(ADMIN, "/help")
        await harness.settle()
        mark = tg.mark()
        await tg.edit_text(ADMIN, first, "/users add 333 admin")
        hint = await tg.reply_to(ADMIN, after=mark)
        assert hint.text == "Edited messages are not run: send the command again as a new message."
        typo = await tg.send_text(TRADER, "/bots")
        await tg.edit_text(TRADER, typo, "/pause grid-a")
        await harness.settle()
        async with harness.sessions() as session:
            assert await users.get_user(session, 333) is None
        assert bot.control.paused is False
        assert await harness.audit_rows("telegram.bot.pause") == []


async def test_a_redelivered_update_is_handled_once(start_service: StartService) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        tg = harness.telegram
        done = await harness.say(TRADER, "/pause grid-a")
        assert done.text.startswith("grid-a is paused")
        mark = tg.mark()
        await tg.redeliver_last()
        await harness.settle()
        await harness.say(TRADER, "/help")  # the service is still serving
        assert [c.text for c in tg.sent(TRADER, after=mark) if "grid-a" in c.text] == []
        assert len(await harness.audit_rows("telegram.bot.pause")) == 1


@dataclass
class HungBotControl(InMemoryBotControl):
    """A bot whose control API accepts the connection and then never answers."""

    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def status(self) -> BotStatus:
        await self.release.wait()
        return await super().status()

    async def pause(self) -> StateChange:
        await self.release.wait()
        return await super().pause()


async def test_a_hung_bot_does_not_hold_up_other_users(start_service: StartService) -> None:
    fleet = InMemoryFleet()
    hung = HungBotControl(name="stuck")
    fleet.add_bot("stuck", control=hung)
    fleet.add_bot("grid-a")
    try:
        async with start_service(fleet=fleet, control_timeout_seconds=3) as harness:
            tg = harness.telegram
            mark = tg.mark()
            await tg.send_text(TRADER, "/pause stuck")
            await asyncio.sleep(0.3)  # the trader's command is now waiting on the bot
            started = time.monotonic()
            answer = await harness.say(VIEWER, "/status grid-a", wait_seconds=2.5)
            took = time.monotonic() - started
            assert "grid-a" in answer.text
            assert took < 2.0, f"another user waited {took:.1f} s behind a hung bot"
            late = await tg.reply_to(TRADER, after=mark, wait_seconds=10)
            assert late.text.startswith("⚠️ bot stuck did not answer within 3 s")
            assert "Something went wrong" not in late.text
            assert hung.paused is False
    finally:
        hung.release.set()


async def test_strangers_and_users_get_no_reply_in_a_group(start_service: StartService) -> None:
    async with start_service() as harness:
        tg = harness.telegram
        tg.group_chat(GROUP)
        tg.user(STRANGER)
        await tg.send_text(STRANGER, "/bots", chat_id=GROUP)
        await tg.send_text(STRANGER, "/start", chat_id=GROUP)
        await tg.send_text(ADMIN, "/users", chat_id=GROUP)
        await harness.settle()
        assert tg.sent(GROUP) == []
        assert all(str(STRANGER) not in call.text for call in tg.sent())
        # Still refused (once) when they write in private.
        refused = await harness.say(STRANGER, "/bots")
        assert "not on its list of users" in refused.text
