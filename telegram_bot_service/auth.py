"""Who may talk to the bot: the allowlist gate that runs before every handler.

Every update passes :class:`Gate` first (a handler in group -1):

* a user not in ``telegram_users`` gets ONE refusal message and one audit row; after that the
  service stays silent towards them (tracked in memory, so a stranger cannot make the bot
  flood its audit log or their chat) — and no handler ever runs for them;
* for an allowlisted user the gate looks the role up afresh (a role change or removal applies
  at once), and refuses commands above that role (:data:`~telegram_bot_service.roles.COMMANDS`)
  with one line and an audit row;
* only private chats are served: in a group, replies would show fleet data to everyone there.

Inline buttons carry their own required role (see :mod:`telegram_bot_service.actions`).
"""

from __future__ import annotations

import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from database.repositories.audit import record_audit
from telegram_bot_service import users
from telegram_bot_service.caller import Caller, set_caller
from telegram_bot_service.roles import required_role
from telegram_bot_service.services import services_of

log = structlog.get_logger(__name__)

REFUSAL_TEXT = (
    "Sorry, this bot is private: you are not on its list of users. "
    "Ask an administrator to add your Telegram id ({user_id})."
)


def command_of(update: Update) -> str | None:
    """``stop`` for a message ``/stop@perpfleet_bot BOT``; None for anything else."""
    message = update.effective_message
    if message is None or update.callback_query is not None:
        return None
    text = message.text or ""
    if not text.startswith("/"):
        return None
    return text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower() or None


def _update_kind(update: Update) -> str:
    for kind in ("message", "edited_message", "callback_query", "inline_query"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


class Gate:
    """The group -1 handler callback; holds the in-memory set of refused strangers."""

    def __init__(self) -> None:
        self.refused: set[int] = set()

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or user.is_bot:
            raise ApplicationHandlerStop
        services = services_of(context)
        record = await services.transaction(lambda s: users.get_user(s, user.id))
        if record is None:
            await self._refuse_stranger(update, context, user.id)
            raise ApplicationHandlerStop
        if chat is not None and chat.type != ChatType.PRIVATE:
            log.info("ignored an update from a non-private chat", chat_type=chat.type)
            raise ApplicationHandlerStop
        caller = Caller(user.id, record.role, record.display_name)
        set_caller(context, caller)
        command = command_of(update)
        needed = required_role(command) if command else None
        if needed is not None and caller.role < needed:
            await services.audit(
                caller.actor,
                "telegram.forbidden",
                f"/{command}",
                {"role": caller.role.label, "needed": needed.label},
            )
            message = update.effective_message
            if message is not None:
                await message.reply_text(
                    f"/{command} needs the {needed.label} role; you are a {caller.role.label}."
                )
            raise ApplicationHandlerStop

    async def _refuse_stranger(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, user_id: int
    ) -> None:
        if user_id in self.refused:
            log.debug("ignored an update from a refused user", telegram_id=user_id)
            return
        self.refused.add(user_id)
        user = update.effective_user
        details = {
            "update": _update_kind(update),
            "command": command_of(update),
            "username": user.username if user is not None else None,
            "chat_id": update.effective_chat.id if update.effective_chat is not None else None,
        }

        async def write(session: AsyncSession) -> None:
            await record_audit(
                session,
                "telegram.refused",
                f"telegram:{user_id}",
                details,
                actor=f"telegram:{user_id}",
            )

        await services_of(context).transaction(write)
        log.warning("refused a Telegram user not in the allowlist", telegram_id=user_id)
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        chat = update.effective_chat
        if chat is not None:
            try:
                await context.bot.send_message(chat.id, REFUSAL_TEXT.format(user_id=user_id))
            except TelegramError as exc:
                log.info("could not send the refusal", error=str(exc))
