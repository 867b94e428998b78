"""/start, /help, /subscribe, /unsubscribe, and the answer to a command nobody knows."""

from __future__ import annotations

import contextlib

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from database.models.telegram import EVENT_KINDS
from telegram_bot_service import users
from telegram_bot_service.caller import caller_of
from telegram_bot_service.commands.common import args_of, reply
from telegram_bot_service.formatting import clip, escape
from telegram_bot_service.roles import commands_for
from telegram_bot_service.services import services_of


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = caller_of(context)
    user = update.effective_user
    name = escape(clip(caller.display_name or (user.first_name if user is not None else "")))
    specs = commands_for(caller.role)
    chat = update.effective_chat
    if chat is not None:
        # The command menu of this chat shows what this user may use.
        with contextlib.suppress(TelegramError):
            await context.bot.set_my_commands(
                [BotCommand(spec.name, spec.description) for spec in specs],
                scope=BotCommandScopeChat(chat.id),
            )
    await reply(
        update,
        f"Hello {name}! Your role in this perpfleet: <b>{caller.role.label}</b>.\n"
        "Send /help for the commands you may use, /subscribe for alerts.",
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    caller = caller_of(context)
    lines = [f"<b>Commands for a {caller.role.label}</b>"]
    lines += [
        f"{escape(spec.usage)} — {escape(spec.description)}" for spec in commands_for(caller.role)
    ]
    await reply(update, "\n".join(lines))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _subscription(update, context, on=True)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _subscription(update, context, on=False)


async def _subscription(update: Update, context: ContextTypes.DEFAULT_TYPE, *, on: bool) -> None:
    caller = caller_of(context)
    services = services_of(context)
    kinds = args_of(context)
    if not kinds:
        record = await services.transaction(lambda s: users.get_user(s, caller.telegram_id))
        current = ", ".join(record.subscriptions) if record and record.subscriptions else "none"
        await reply(
            update,
            f"Your alerts: {escape(current)}\nKinds: {escape(', '.join(EVENT_KINDS))}\n"
            "Usage: /subscribe KIND ... | all, /unsubscribe KIND ... | all",
        )
        return
    result = await services.transaction(
        lambda s: users.subscribe(s, caller.telegram_id, kinds, on=on)
    )
    await services.audit(
        caller.actor,
        "telegram.subscribe" if on else "telegram.unsubscribe",
        caller.actor,
        {"kinds": users.check_kinds(kinds)},
    )
    await reply(update, f"Your alerts: {escape(', '.join(result) or 'none')}")


async def cancel_nothing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, "Nothing to cancel.")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, "I don't know that command. Send /help for the ones you may use.")
