"""Issue 13, items 1 and 2: deny by default at build time, and the role checked again on every
step of a dialogue and every button press (a user demoted meanwhile cannot finish)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from core.redaction import Secret
from database.models import AccountCredential
from strategies.funding_arbitrage.quotes import ClientFundingProvider
from telegram_bot_service import users
from telegram_bot_service.app import TelegramApp, build_application
from telegram_bot_service.guard import Guarded, UnguardedHandler, check_handlers, command
from telegram_bot_service.roles import Role
from telegram_bot_service.services import Services
from telegram_bot_service.settings import TelegramSettings
from tests.telegram_bot_service.conftest import ADMIN, TOKEN, TRADER, Harness, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet


async def _noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    return None


@pytest.fixture
def built(configs_dir: Path) -> Services:
    return Services(
        fleet=InMemoryFleet(),
        sessions=async_sessionmaker[AsyncSession](),
        configs_dir=configs_dir,
        funding=ClientFundingProvider(),
    )


def _app(services: Services) -> TelegramApp:
    return build_application(TelegramSettings(token=Secret(TOKEN)), services)


def test_the_service_builds_with_every_handler_guarded(built: Services) -> None:
    check_handlers(_app(built))  # no exception: everything registered carries a role


@pytest.mark.parametrize(
    "handler",
    [
        CommandHandler("secret_backdoor", _noop),  # unguarded and not in the role table
        CommandHandler("killall", _noop),  # a known command, but no role check on it
        MessageHandler(filters.TEXT, _noop),
        CallbackQueryHandler(_noop, pattern="^x:"),
        # Guarded, but with a role below what the table says /killall needs.
        CommandHandler("killall", Guarded(_noop, Role.VIEWER, "killall")),
    ],
)
def test_a_handler_without_its_role_fails_the_build(
    built: Services, handler: BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]
) -> None:
    application = _app(built)
    application.add_handler(handler)
    with pytest.raises(UnguardedHandler):
        check_handlers(application)


def test_a_command_missing_from_the_role_table_cannot_be_guarded() -> None:
    with pytest.raises(UnguardedHandler, match="secret_backdoor"):
        command("secret_backdoor", _noop)


async def _demote(harness: Harness, telegram_id: int, role: Role) -> None:
    async with harness.sessions() as session, session.begin():
        await users.add_user(session, telegram_id, role)


async def test_an_admin_demoted_mid_add_account_cannot_finish_it(
    start_service: StartService, master_key: str
) -> None:
    async with start_service() as harness:
        tg = harness.telegram
        await harness.say(ADMIN, "/add_account")
        await harness.say(ADMIN, "mallory")
        await harness.say(ADMIN, "binance")  # now asking for the api_key (a secret)
        await _demote(harness, ADMIN, Role.VIEWER)
        mark = tg.mark()
        key = await tg.send_text(ADMIN, "AKIAdemotedKEY0001")
        refused = await tg.reply_to(ADMIN, after=mark)
        assert refused.text == "/add_account needs the admin role; you are a viewer."
        assert (ADMIN, key["message_id"]) in tg.deleted  # the secret still left the chat
        # The dialogue is over: the next answers are not taken as its steps.
        await _demote(harness, ADMIN, Role.ADMIN)
        await tg.send_text(ADMIN, "sEcReT-after-demotion")
        await tg.send_text(ADMIN, "-")
        await harness.settle()
        async with harness.sessions() as session:
            assert await session.scalar(select(AccountCredential)) is None
        assert "perpfleet.add_account" not in harness.app.user_data[ADMIN]
        [row] = await harness.audit_rows("telegram.forbidden")
        assert row.target == "/add_account"


async def test_a_trader_demoted_mid_new_config_writes_nothing(
    start_service: StartService, configs_dir: Path
) -> None:
    async with start_service() as harness:
        for answer in ("/new_config", "demoted-grid", "grid", "paper", "BTC", "buy", "100"):
            await harness.say(TRADER, answer)
        await _demote(harness, TRADER, Role.VIEWER)
        refused = await harness.say(TRADER, "10")
        assert refused.text == "/new_config needs the trader role; you are a viewer."
        assert not (configs_dir / "demoted-grid.yml").exists()


async def test_a_demoted_user_cannot_press_the_buttons_of_an_earlier_dialogue(
    start_service: StartService,
) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        asked = await harness.say(TRADER, "/stop grid-a")
        await _demote(harness, TRADER, Role.VIEWER)
        mark = harness.telegram.mark()
        await harness.telegram.press_button(TRADER, asked.result, "keep positions")
        answer = await harness.telegram.wait_for(
            lambda call: call.method == "answerCallbackQuery", after=mark
        )
        assert "trader role" in str(answer.params.get("text"))
        await harness.settle()
        assert fleet.actions == []
