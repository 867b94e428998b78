"""/add_account: store an account's credentials for one venue, asked field by field.

Secrets typed into a chat are exposed for as long as the message exists, so every message
answering a *secret* field is deleted (deleteMessage) before anything else is done with it,
wrapped in :class:`~trading_config.redaction.Secret` at once (which also registers it for
scrubbing from logs), never echoed, and kept in memory only until the conversation ends. The
credentials are stored encrypted through :func:`database.repositories.accounts.add_credentials`
with an audit row naming the fields, never their values. /cancel drops everything.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from database.repositories.accounts import add_credentials
from database.repositories.audit import record_audit
from telegram_bot_service.caller import caller_of
from telegram_bot_service.commands.common import reply
from telegram_bot_service.formatting import escape
from telegram_bot_service.services import services_of
from trading_config.errors import TradingError
from trading_config.redaction import Secret, scrub_exception_text
from trading_config.venues import VENUES, CredentialField, Venue, get_venue

log = structlog.get_logger(__name__)

NAME, VENUE, FIELD = range(3)
DATA_KEY = "perpfleet.add_account"
SKIP = "-"
# Same rule as database.repositories.accounts (checked again there when storing).
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


def _state(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    data: dict[str, Any] = context.user_data.setdefault(DATA_KEY, {})
    return data


def _forget(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DATA_KEY, None)


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    _forget(context)
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
    await _ask(update, venue, venue.credential_fields[0])
    return FIELD


async def _ask(update: Update, venue: Venue, field: CredentialField) -> None:
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
    if field.secret:
        # First thing: the secret leaves the chat (and is wrapped so it never prints).
        secret = Secret(raw.strip()) if raw.strip() else None
        raw = ""
        if message is not None:
            try:
                await message.delete()
            except TelegramError as exc:
                log.warning("could not delete a secret message", error=str(exc))
                await reply(update, "⚠️ I could not delete your message: delete it yourself.")
        if secret is None or secret.reveal() == SKIP:
            if field.required:
                await reply(update, "This field is required; send it again (or /cancel).")
                return FIELD
        else:
            state["secrets"][field.name] = secret
    else:
        value = raw.strip()
        if not value or value == SKIP:
            if field.required:
                await reply(update, "This field is required; send it again (or /cancel).")
                return FIELD
        else:
            state["public"][field.name] = value
    state["index"] += 1
    if state["index"] < len(venue.credential_fields):
        await _ask(update, venue, venue.credential_fields[state["index"]])
        return FIELD
    return await _store(update, context)


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


def add_account_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("add_account", begin)],
        states={
            NAME: [MessageHandler(text, got_name)],
            VENUE: [MessageHandler(text, got_venue)],
            FIELD: [MessageHandler(text, got_field)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name="add_account",
        allow_reentry=True,
    )
