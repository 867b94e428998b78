"""Issue 13, item 1: the role is checked on what python-telegram-bot dispatches, not on a
second reading of the text.

Telegram marks ``/users, add 333 admin`` with the bot_command entity ``/users`` (the command
ends at the first character that is not a letter, digit or ``_``), and PTB's CommandHandler
runs ``/users`` for it. The old gate read the text up to the first space (``users,``), found
no such command in the role table, let it through, and a viewer made himself admin. Each
spelling the audit found is sent here by every role through the real PTB stack (the fake Bot
API computes the entity as Telegram does); below the role the command is refused with one
line AND its effect did not happen; at the role it runs (so the spelling does reach the
handler and the refusal is not an accident of parsing).
"""

from __future__ import annotations

import pytest

from telegram_bot_service import users
from tests.telegram_bot_service.conftest import ADMIN, TRADER, VIEWER, Harness, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet

ZWJ = "\u200d"
ROLE_OF = {VIEWER: "viewer", TRADER: "trader", ADMIN: "admin"}


def refusal(command: str, needed: str, user: int) -> str:
    return f"/{command} needs the {needed} role; you are a {ROLE_OF[user]}."


async def _known(harness: Harness, telegram_id: int) -> bool:
    async with harness.sessions() as session:
        return await users.get_user(session, telegram_id) is not None


@pytest.mark.parametrize("separator", [",", ZWJ, "!", "?"])
async def test_users_add_cannot_be_reached_below_admin(
    start_service: StartService, separator: str
) -> None:
    async with start_service() as harness:
        for user in (VIEWER, TRADER):
            text = f"/users{separator} add 333 admin"
            answer = await harness.say(user, text)
            assert answer.text == refusal("users", "admin", user)
            assert not await _known(harness, 333)
            # The viewer is still a viewer: /killall is refused for him.
            again = await harness.say(user, "/killall")
            assert "needs the admin role" in again.text
        done = await harness.say(ADMIN, f"/users{separator} add 333 admin")
        assert done.text == "Added 333 as admin."
        assert await _known(harness, 333)
        forbidden = await harness.audit_rows("telegram.forbidden")
        assert [(r.actor, r.target) for r in forbidden][:1] == [(f"telegram:{VIEWER}", "/users")]


@pytest.mark.parametrize(
    ("text", "command"),
    [("/pause! grid-a", "pause"), ("/resume. grid-a", "resume"), (f"/pause{ZWJ} grid-a", "pause")],
)
async def test_pause_and_resume_spellings_need_the_trader_role(
    start_service: StartService, text: str, command: str
) -> None:
    fleet = InMemoryFleet()
    bot = fleet.add_bot("grid-a")
    bot.control.paused = command == "resume"
    async with start_service(fleet=fleet) as harness:
        answer = await harness.say(VIEWER, text)
        assert answer.text == refusal(command, "trader", VIEWER)
        assert bot.control.paused is (command == "resume")  # untouched
        assert await harness.audit_rows(f"telegram.bot.{command}") == []

        done = await harness.say(TRADER, text)
        assert done.text.startswith("grid-a is ")
        assert bot.control.paused is (command == "pause")
        [row] = await harness.audit_rows(f"telegram.bot.{command}")
        assert row.actor == f"telegram:{TRADER}"


@pytest.mark.parametrize(
    ("text", "command", "allowed_reply"),
    [
        ("/accounts?", "accounts", "No accounts yet"),
        (f"/accounts{ZWJ}", "accounts", "No accounts yet"),
        ("/add_account!", "add_account", "Account name?"),
        ("/killall.", "killall", "Stop ALL"),
        (f"/killall{ZWJ}", "killall", "Stop ALL"),
    ],
)
async def test_admin_command_spellings_are_refused_below_admin(
    start_service: StartService, text: str, command: str, allowed_reply: str
) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        for user in (VIEWER, TRADER):
            answer = await harness.say(user, text)
            assert answer.text == refusal(command, "admin", user)
            assert allowed_reply not in answer.text
        done = await harness.say(ADMIN, text, contains=allowed_reply)
        assert allowed_reply in done.text
        assert fleet.actions == []


async def test_a_command_addressed_to_this_bot_is_checked_too(start_service: StartService) -> None:
    async with start_service() as harness:
        answer = await harness.say(VIEWER, "/users@perpfleet_test_bot, add 333 admin")
        assert answer.text == refusal("users", "admin", VIEWER)
        assert not await _known(harness, 333)
