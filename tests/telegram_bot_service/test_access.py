"""Who may use the bot: strangers are refused once (and audited), roles limit commands."""

from __future__ import annotations

from tests.telegram_bot_service.conftest import (
    ADMIN,
    STRANGER,
    TRADER,
    VIEWER,
    StartService,
)
from tests.telegram_bot_service.fleet_double import InMemoryFleet


async def test_a_stranger_is_refused_once_audited_and_shown_nothing(
    start_service: StartService,
) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-secret-name")
    async with start_service(fleet=fleet) as harness:
        tg = harness.telegram
        first = await harness.say(STRANGER, "/bots")
        assert "not on its list of users" in first.text
        assert str(STRANGER) in first.text

        mark = tg.mark()
        await tg.send_text(STRANGER, "/bots")
        await tg.send_text(STRANGER, "/start")
        await tg.send_text(STRANGER, "hello?")
        await harness.settle()  # every earlier update has been handled by now

        to_stranger = tg.sent(STRANGER)
        assert len(to_stranger) == 1  # the one refusal, then silence
        assert tg.sent(STRANGER, after=mark) == []
        assert all("grid-secret-name" not in call.text for call in to_stranger)

        [row] = await harness.audit_rows("telegram.refused")
        assert row.actor == f"telegram:{STRANGER}"
        assert row.target == f"telegram:{STRANGER}"
        assert row.details["command"] == "bots"


async def test_start_and_help_show_what_the_role_may_use(start_service: StartService) -> None:
    async with start_service() as harness:
        start = await harness.say(VIEWER, "/start")
        assert "viewer" in start.text
        viewer_help = await harness.say(VIEWER, "/help")
        assert "/bots" in viewer_help.text
        assert "/funding" in viewer_help.text
        assert "/stop" not in viewer_help.text
        assert "/killall" not in viewer_help.text

        trader_help = await harness.say(TRADER, "/help")
        assert "/stop BOT" in trader_help.text
        assert "/launch" in trader_help.text
        assert "/killall" not in trader_help.text
        assert "/add_account" not in trader_help.text

        admin_help = await harness.say(ADMIN, "/help")
        for command in ("/killall", "/accounts", "/add_account", "/users", "/stop", "/bots"):
            assert command in admin_help.text

        # /start also set this chat's command menu to the viewer's commands.
        scoped = [
            commands
            for scope, commands in harness.telegram.commands_by_scope.items()
            if str(VIEWER) in scope
        ]
        assert scoped
        assert {c["command"] for c in scoped[0]} >= {"bots", "help"}
        assert "stop" not in {c["command"] for c in scoped[0]}
        # The default menu was set at start-up.
        assert {c["command"] for c in harness.telegram.commands} >= {"start", "help", "bots"}


async def test_roles_are_enforced(start_service: StartService) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        refused = await harness.say(VIEWER, "/stop grid-a")
        assert refused.text == "/stop needs the trader role; you are a viewer."
        assert refused.params.get("reply_markup") is None
        refused = await harness.say(TRADER, "/killall")
        assert "needs the admin role" in refused.text
        refused = await harness.say(VIEWER, "/add_account")
        assert "needs the admin role" in refused.text

        forbidden = await harness.audit_rows("telegram.forbidden")
        assert [(r.actor, r.target) for r in forbidden] == [
            (f"telegram:{VIEWER}", "/stop"),
            (f"telegram:{TRADER}", "/killall"),
            (f"telegram:{VIEWER}", "/add_account"),
        ]
        assert fleet.actions == []

        allowed = await harness.say(TRADER, "/stop grid-a")
        assert "Stop" in allowed.text


async def test_a_removed_user_is_refused_at_once(start_service: StartService) -> None:
    async with start_service() as harness:
        await harness.say(ADMIN, "/users remove 1003")
        refused = await harness.say(VIEWER, "/help")
        assert "not on its list of users" in refused.text
        [row] = await harness.audit_rows("telegram.user.remove")
        assert row.actor == f"telegram:{ADMIN}"


async def test_unknown_commands_get_a_hint(start_service: StartService) -> None:
    async with start_service() as harness:
        answer = await harness.say(VIEWER, "/frobnicate")
        assert "/help" in answer.text
