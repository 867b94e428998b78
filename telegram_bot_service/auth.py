"""The front door: what every update passes before any handler may run (group -1).

:class:`Gate` does, in this order:

1. drops an ``update_id`` it has already seen (Telegram re-sends an update whose confirmation
   it missed: a command must not run twice);
2. deletes the message if a secret is expected from this user in this chat
   (:mod:`telegram_bot_service.secret_input`) — before any check that could stop it;
3. ignores every chat that is not private, silently: in a group a reply would show fleet data
   (or a stranger's refusal, with their id) to everyone there;
4. refuses a user not in ``telegram_users`` ONCE (one message, one audit row; then silence,
   tracked in memory so a stranger cannot flood the chat or the audit log);
5. serves only new messages and button presses — an edited message never runs a command
   (editing an old ``/help`` into ``/killall`` must not act), other update kinds are dropped;
6. leaves the caller, with the role read afresh from the database, for the handlers.

It does NOT decide which command is allowed: the role is checked on the handler that
python-telegram-bot actually runs (:mod:`telegram_bot_service.guard`), so the library's
reading of a message and the authorization can never disagree.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from database.repositories.audit import record_audit
from telegram_bot_service import users
from telegram_bot_service.caller import Caller, clear_caller, set_caller
from telegram_bot_service.secret_input import shred
from telegram_bot_service.services import services_of

log = structlog.get_logger(__name__)

REFUSAL_TEXT = (
    "Sorry, this bot is private: you are not on its list of users. "
    "Ask an administrator to add your Telegram id ({user_id})."
)
EDITED_TEXT = "Edited messages are not run: send the command again as a new message."
SEEN_UPDATES = 10_000


def command_of(update: Update) -> str | None:
    """The command as Telegram marked it (the bot_command entity), for the audit log only."""
    message = update.effective_message
    if message is None or not message.text or not message.entities:
        return None
    entity = message.entities[0]
    if entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None
    return message.text[1 : entity.length].split("@", 1)[0].lower() or None


def _update_kind(update: Update) -> str:
    for kind in ("message", "edited_message", "callback_query", "inline_query"):
        if getattr(update, kind, None) is not None:
            return kind
    return "other"


class Gate:
    """The group -1 handler callback; holds the refused strangers and the recent update ids."""

    #: Marks the one handler :func:`telegram_bot_service.guard.check_handlers` lets through.
    front_door = True

    def __init__(self) -> None:
        self.refused: set[int] = set()
        self._seen: OrderedDict[int, None] = OrderedDict()

    def _first_time(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        while len(self._seen) > SEEN_UPDATES:
            self._seen.popitem(last=False)
        return True

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self._first_time(update.update_id):
            log.info("ignored a re-delivered update", update_id=update.update_id)
            raise ApplicationHandlerStop
        clear_caller(context)
        await shred(update, context)
        user = update.effective_user
        chat = update.effective_chat
        if user is None or user.is_bot or chat is None:
            raise ApplicationHandlerStop
        if chat.type != ChatType.PRIVATE:
            log.info("ignored an update from a non-private chat", chat_type=chat.type)
            raise ApplicationHandlerStop
        services = services_of(context)
        record = await services.transaction(lambda s: users.get_user(s, user.id))
        if record is None:
            await self._refuse_stranger(update, context, user.id)
            raise ApplicationHandlerStop
        if update.message is None and update.callback_query is None:
            edited = update.edited_message
            if edited is not None and (edited.text or "").startswith("/"):
                with contextlib.suppress(TelegramError):
                    await context.bot.send_message(chat.id, EDITED_TEXT)
            log.info("ignored an update that is not a new message", kind=_update_kind(update))
            raise ApplicationHandlerStop
        set_caller(context, Caller(user.id, record.role, record.display_name))

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
