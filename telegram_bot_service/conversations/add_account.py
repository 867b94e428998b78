"""/add_account: store an account's credentials for one venue, asked field by field.

Secrets typed into a chat are exposed for as long as the message exists, so while a *secret*
field is expected every message of the user in that chat is deleted (deleteMessage) before
anything else is done with it — by the gate, whatever the message starts with (a base64 secret
may start with ``/``) and whatever the user's role has become (see
:mod:`telegram_bot_service.secret_input`). The answer is wrapped in
:class:`~core.redaction.Secret` at once (which also registers it for scrubbing from
logs), never echoed, and kept in memory only until the conversation ends: /cancel, the end,
a demotion (every step checks the admin role again), or ``conversation_timeout_seconds``
without an answer drop it. The credentials are stored encrypted through
:func:`database.repositories.accounts.add_credentials` with an audit row naming the fields,
never their values.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import (
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.errors import TradingError
from core.redaction import Secret, scrub_exception_text
from core.venues import VENUES, CredentialField, Venue, get_venue
from database.repositories.accounts import add_credentials
from database.repositories.audit import record_audit
from telegram_bot_service.caller import Caller, caller_of
from telegram_bot_service.commands.common import reply
from telegram_bot_service.formatting import escape
from telegram_bot_service.guard import Callback, Guarded, command
from telegram_bot_service.roles import Role
from telegram_bot_service.secret_input import expect_secret, shredded, stop_expecting
from telegram_bot_service.services import services_of

log = structlog.get_logger(__name__)

NAME, VENUE, FIELD = range(3)
DATA_KEY = "perpfleet.add_account"
TIMER_KEY = "perpfleet.add_account.timer"
SKIP = "-"
CANCEL_TEXT = "/cancel"
TIMED_OUT = (
    "The /add_account dialogue timed out: what you had typed is forgotten and nothing was "
    "stored. Send /add_account to start again."
)
# Same rule as database.repositories.accounts (checked again there when storing).
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


def _state(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    data: dict[str, Any] = context.user_data.setdefault(DATA_KEY, {})
    return data


def _forget(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop the dialogue's data (the secrets with it) and its timer."""
    stop_expecting(context)
    data = context.user_data
    if data is None:
        return
    data.pop(DATA_KEY, None)
    timer = data.pop(TIMER_KEY, None)
    if isinstance(timer, asyncio.TimerHandle):
        timer.cancel()


def _arm_timeout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """(Re)start the idle timer: without an answer in time, the secrets are dropped.

    python-telegram-bot's own ``conversation_timeout`` needs its JobQueue (APScheduler), which
    this service does not install; a loop timer does the same for the one dialogue that needs it.
    """
    data = context.user_data
    chat = update.effective_chat
    if data is None or chat is None:
        return
    old = data.pop(TIMER_KEY, None)
    if isinstance(old, asyncio.TimerHandle):
        old.cancel()
    seconds = services_of(context).conversation_timeout_seconds
    bot, chat_id, application = context.bot, chat.id, context.application

    def expire() -> None:
        data.pop(TIMER_KEY, None)
        if data.pop(DATA_KEY, None) is not None:
            application.create_task(_tell(bot, chat_id, TIMED_OUT))

    data[TIMER_KEY] = asyncio.get_running_loop().call_later(seconds, expire)


async def _tell(bot: Bot, chat_id: int, text: str) -> None:
    try:
        await bot.send_message(chat_id, text)
    except TelegramError as exc:
        log.info("could not tell a user their dialogue timed out", error=str(exc))


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    _forget(context)
    _state(context)
    _arm_timeout(update, context)
    await reply(
        update,
        "Adding an account's credentials (send /cancel at any time).\n"
        "Account name? (letters, digits, _ . @ -; an existing account gets another venue)",
    )
    return NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    name = _text(update)
    if not ACCOUNT_NAME.fullmatch(name):
        await reply(update, "That is not a valid account name; try again (or /cancel).")
        return NAME
    _state(context)["name"] = name
    venues = ", ".join(sorted(VENUES))
    await reply(update, f"Venue? One of: {escape(venues)}")
    return VENUE


async def got_venue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    try:
        venue = get_venue(_text(update).lower())
    except TradingError as exc:
        await reply(update, f"{escape(scrub_exception_text(exc))}\nVenue?")
        return VENUE
    state = _state(context)
    state.update(venue=venue.name, public={}, secrets={}, index=0)
    if not venue.credential_fields:
        return await _store(update, context)
    await _ask(update, context, venue, venue.credential_fields[0])
    return FIELD


async def _ask(
    update: Update, context: ContextTypes.DEFAULT_TYPE, venue: Venue, field: CredentialField
) -> None:
    chat = update.effective_chat
    if field.secret and chat is not None:
        expect_secret(context, chat.id)
    else:
        stop_expecting(context)
    optional = f" Optional: send {SKIP} to skip." if not field.required else ""
    note = " It is secret: I delete your message as soon as I have read it." if field.secret else ""
    await reply(
        update,
        f"{escape(venue.display_name)} — {escape(field.description)} "
        f"(<code>{escape(field.name)}</code>)?{optional}{note}",
    )


async def got_field(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state = _state(context)
    venue = get_venue(state["venue"])
    field = venue.credential_fields[state["index"]]
    message = update.effective_message
    raw = message.text if message is not None and message.text else ""
    if raw.strip() == CANCEL_TEXT:
        if field.secret:
            await _delete(update, context)
        return await cancel(update, context)
    if field.secret:
        # First thing: the secret leaves the chat (the gate already deleted it; this is the
        # fallback) and is wrapped so it never prints.
        secret = Secret(raw.strip()) if raw.strip() else None
        raw = ""
        await _delete(update, context)
        if message is not None and message.text is None:
            await reply(update, "Send the value as a text message (or /cancel).")
            return FIELD
        if secret is None or secret.reveal() == SKIP:
            if field.required:
                await reply(update, "This field is required; send it again (or /cancel).")
                return FIELD
        else:
            state["secrets"][field.name] = secret
    else:
        value = raw.strip()
        if value.startswith("/"):
            await reply(update, "Send the value, not a command (or /cancel).")
            return FIELD
        if not value or value == SKIP:
            if field.required:
                await reply(update, "This field is required; send it again (or /cancel).")
                return FIELD
        else:
            state["public"][field.name] = value
    state["index"] += 1
    if state["index"] < len(venue.credential_fields):
        await _ask(update, context, venue, venue.credential_fields[state["index"]])
        return FIELD
    return await _store(update, context)


async def _delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete the message unless the gate already did; tell the user when it cannot be done."""
    done = shredded(update, context)
    message = update.effective_message
    if done is None and message is not None:
        try:
            await message.delete()
        except TelegramError as exc:
            log.warning("could not delete a secret message", error=str(exc))
            done = False
        else:
            done = True
    if done is False:
        await reply(update, "⚠️ I could not delete your message: delete it yourself.")


async def _store(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state = _state(context)
    services = services_of(context)
    caller = caller_of(context)
    name: str = state["name"]
    venue: str = state["venue"]
    public: dict[str, str] = state["public"]
    secrets: dict[str, Secret] = state["secrets"]

    async def store(session: AsyncSession) -> None:
        await add_credentials(
            session, account_name=name, venue=venue, public=public, secrets=secrets
        )
        await record_audit(
            session,
            "account.credentials.add",
            name,
            {
                "venue": venue,
                "public_fields": sorted(public),
                "encrypted_fields": sorted(secrets),
                "via": "telegram",
            },
            actor=caller.actor,
        )

    try:
        await services.transaction(store)
    except TradingError as exc:
        await reply(update, f"Not stored: {escape(scrub_exception_text(exc))}")
    else:
        stored = ", ".join(sorted(secrets)) or "none"
        await reply(
            update,
            f"Stored {escape(venue)} credentials for account <b>{escape(name)}</b> "
            f"(encrypted fields: {escape(stored)}).",
        )
    finally:
        _forget(context)
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    _forget(context)
    await reply(update, "Cancelled: nothing was stored.")
    return ConversationHandler.END


async def _refused(
    update: Update, context: ContextTypes.DEFAULT_TYPE, caller: Caller | None
) -> int:
    """A step by someone who is no longer an admin: the dialogue ends, its data is dropped."""
    _forget(context)
    return ConversationHandler.END


def _step(callback: Callback) -> Guarded:
    """A step of the dialogue: the admin role is checked again, and each answer in time
    restarts the idle timer."""

    async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if context.user_data is None or DATA_KEY not in context.user_data:
            # Timed out (the data is gone) while PTB still thinks we wait for an answer; a
            # message that arrived where a secret was expected has been deleted by the gate.
            _forget(context)
            await reply(update, escape(TIMED_OUT))
            return ConversationHandler.END
        _arm_timeout(update, context)
        result: int = await callback(update, context)
        if result == ConversationHandler.END:
            _forget(context)
        return result

    return Guarded(step, Role.ADMIN, "add_account", on_refused=_refused)


def add_account_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    return ConversationHandler(
        entry_points=[
            CommandHandler(
                "add_account", command("add_account", begin), filters=filters.UpdateType.MESSAGE
            )
        ],
        states={
            NAME: [MessageHandler(text, _step(got_name))],
            VENUE: [MessageHandler(text, _step(got_venue))],
            # Any new message: while a secret is expected, whatever arrives is the answer
            # (and was deleted), even when it looks like a command.
            FIELD: [MessageHandler(filters.UpdateType.MESSAGE, _step(got_field))],
        },
        fallbacks=[
            CommandHandler(
                "cancel",
                command("cancel", cancel, on_refused=_refused),
                filters=filters.UpdateType.MESSAGE,
            )
        ],
        name="add_account",
        allow_reentry=True,
    )
