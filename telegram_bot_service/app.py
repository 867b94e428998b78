"""Wiring: the python-telegram-bot Application with the gate, every handler and the errors.

Handler order matters in python-telegram-bot (the first matching handler of a group wins):
the front door (:class:`~telegram_bot_service.auth.Gate`) runs alone in group -1 and stops
strangers, groups, edited messages and re-deliveries; in group 0 the conversations come first
(so their steps get the plain-text answers), then the commands, the inline-button handlers and
finally the catch-all for unknown commands. Every callback is wrapped with the role it needs
(:mod:`telegram_bot_service.guard`) and the build fails if one is not. Updates of different
chats are handled concurrently (:mod:`telegram_bot_service.update_order`).
"""

from __future__ import annotations

import contextlib
import html
from typing import Any, TypeAlias

import structlog
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    TypeHandler,
    filters,
)

from core.errors import TradingError
from core.redaction import scrub_exception_text
from telegram_bot_service.actions import CALLBACK_PATTERN
from telegram_bot_service.auth import Gate
from telegram_bot_service.commands import (
    admin,
    basic,
    bots,
    configs,
    lifecycle,
    market,
    risk,
    service_programs,
    signals,
    stats,
    trading,
)
from telegram_bot_service.conversations.add_account import add_account_conversation
from telegram_bot_service.conversations.new_config import new_config_conversation
from telegram_bot_service.formatting import split_visible, utf16_length
from telegram_bot_service.guard import Guarded, check_handlers, command
from telegram_bot_service.logs import protect_logs
from telegram_bot_service.roles import Role, commands_for
from telegram_bot_service.services import SERVICES_KEY, Services
from telegram_bot_service.settings import TelegramSettings
from telegram_bot_service.update_order import ChatOrderedProcessor

log = structlog.get_logger(__name__)

ERROR_TEXT_LIMIT = 3500

TelegramApp: TypeAlias = Application[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]

COMMAND_HANDLERS = {
    "start": basic.start,
    "help": basic.help_command,
    "subscribe": basic.subscribe,
    "unsubscribe": basic.unsubscribe,
    "cancel": basic.cancel_nothing,
    "bots": bots.bots,
    "status": bots.status,
    "logs": bots.logs,
    "positions": trading.positions,
    "balances": trading.balances,
    "orders": trading.orders,
    "pnl": trading.pnl,
    "stats": stats.stats,
    "trades": stats.trades,
    "daily": stats.daily,
    "signals": signals.signals,
    "pause": trading.pause,
    "resume": trading.resume,
    "close": trading.close,
    "launch": lifecycle.launch,
    "stop": lifecycle.stop,
    "restart": lifecycle.restart,
    "killall": lifecycle.killall,
    "accounts": admin.accounts,
    "users": admin.users_command,
    "configs": configs.configs,
    "funding": market.funding,
    "opportunities": market.opportunities,
    "funding_chart": market.funding_chart,
    "service": service_programs.service,
    "guard": risk.guard,
    "reset_kill": risk.reset_kill,
}


def build_application(settings: TelegramSettings, services: Services) -> TelegramApp:
    """The service's Application (not started): call :func:`telegram_bot_service.runner.running`."""
    protect_logs()
    application = (
        ApplicationBuilder()
        .token(settings.token.reveal())
        .base_url(settings.bot_url)
        .base_file_url(settings.file_url)
        .post_init(_post_init)
        .concurrent_updates(ChatOrderedProcessor())
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    services.actions.register(lifecycle.LAUNCH_KIND, lifecycle.on_launch)
    services.actions.register(lifecycle.STOP_KIND, lifecycle.on_stop)
    services.actions.register(lifecycle.RESTART_KIND, lifecycle.on_restart)
    services.actions.register(lifecycle.KILLALL_KIND, lifecycle.on_killall)
    services.actions.register(trading.CLOSE_KIND, trading.on_close)
    services.actions.register(risk.RESET_KILL_KIND, risk.on_reset_kill)

    application.add_handler(TypeHandler(Update, Gate()), group=-1)
    application.add_handler(add_account_conversation())
    application.add_handler(new_config_conversation())
    for name, callback in COMMAND_HANDLERS.items():
        application.add_handler(
            CommandHandler(name, command(name, callback), filters=filters.UpdateType.MESSAGE)
        )
    # Fleet actions can take a while (a stop that closes positions): they run as tasks so
    # the other users' commands are not held up behind them. Each button also carries the
    # role of the dialogue it belongs to (checked again in PendingActions.dispatch).
    application.add_handler(
        CallbackQueryHandler(
            Guarded(services.actions.dispatch, Role.VIEWER, "button"),
            pattern=CALLBACK_PATTERN,
            block=False,
        )
    )
    application.add_handler(
        CallbackQueryHandler(command("bots", bots.bots_page), pattern=bots.PAGE_PATTERN)
    )
    application.add_handler(
        MessageHandler(
            filters.COMMAND & filters.UpdateType.MESSAGE,
            Guarded(basic.unknown_command, Role.VIEWER, "unknown"),
        )
    )
    application.add_error_handler(on_error)
    check_handlers(application)
    return application


async def _post_init(application: TelegramApp) -> None:
    """The default command menu: the viewer's commands (each user's /start sets their own)."""
    menu = [BotCommand(spec.name, spec.description) for spec in commands_for(Role.VIEWER)]
    await application.bot.set_my_commands(menu)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A handler failed: the user reads one line; unexpected failures are logged (scrubbed)."""
    error = context.error
    if isinstance(error, TradingError):
        text = scrub_exception_text(error)
        if utf16_length(text) > ERROR_TEXT_LIMIT:  # e.g. a failed launch quoting its log
            text = split_visible(text, budget=ERROR_TEXT_LIMIT, max_pages=1)[0]
    else:
        log.error("handler failed", exc_info=error)
        text = "Something went wrong; the details are in the service's log."
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, f"⚠️ {html.escape(text, quote=False)}")
    except TelegramError:
        log.warning("could not report an error to the user", exc_info=True)
