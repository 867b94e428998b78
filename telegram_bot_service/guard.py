"""Authorization on the handler that runs: every callback is wrapped with the role it needs.

Why here and not in a gate that reads the message: python-telegram-bot decides which handler
runs (a CommandHandler from the message's bot_command entity, a conversation from its own
state, a button from its callback data). Any second reading of the text can disagree with it
— ``/users, add 333 admin`` ran /users while a gate reading up to the first space saw the
unknown command ``users,`` and let it pass. So the check sits on the callback itself:
:class:`Guarded` runs only when the caller (looked up afresh for this update by
:class:`~telegram_bot_service.auth.Gate`) holds the role, whatever spelling led PTB to it.

Deny by default: :func:`check_handlers` refuses, at build time, an Application with any
handler whose callback is not guarded, or a CommandHandler for a command the role table
(:data:`~telegram_bot_service.roles.COMMANDS`) does not list with that same role. A caller the
gate did not identify is refused too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import structlog
from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    TypeHandler,
)

from telegram_bot_service.caller import Caller, current_caller
from telegram_bot_service.roles import Role, required_role
from telegram_bot_service.services import services_of

log = structlog.get_logger(__name__)

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]
Refused = Callable[[Update, ContextTypes.DEFAULT_TYPE, Caller | None], Awaitable[Any]]


class UnguardedHandler(RuntimeError):
    """A handler would run without a role check (a programming error: fail at start-up)."""


class Guarded:
    """``callback`` for callers holding ``role``; ``what`` names it in refusals and audits.

    ``on_refused`` (optional) runs after the refusal and its result is returned instead of
    the callback's — a conversation step uses it to end the conversation and drop its data.
    """

    def __init__(
        self, callback: Callback, role: Role, what: str, on_refused: Refused | None = None
    ) -> None:
        self.callback = callback
        self.role = role
        self.what = what
        self.on_refused = on_refused

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
        caller = current_caller(context)
        if caller is not None and caller.role >= self.role:
            return await self.callback(update, context)
        await self._refuse(update, context, caller)
        if self.on_refused is not None:
            return await self.on_refused(update, context, caller)
        return None

    async def _refuse(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, caller: Caller | None
    ) -> None:
        if caller is None:  # the gate did not identify anyone: refuse without a word
            log.warning("refused an update without an identified caller", what=self.what)
            return
        await services_of(context).audit(
            caller.actor,
            "telegram.forbidden",
            f"/{self.what}",
            {"role": caller.role.label, "needed": self.role.label},
        )
        text = f"/{self.what} needs the {self.role.label} role; you are a {caller.role.label}."
        query = update.callback_query
        if query is not None:
            await query.answer(f"This needs the {self.role.label} role.")
            return
        message = update.effective_message
        if message is not None:
            await message.reply_text(text)


def command(name: str, callback: Callback, on_refused: Refused | None = None) -> Guarded:
    """``callback`` guarded with the role the table gives command ``name`` (KeyError if none)."""
    role = required_role(name)
    if role is None:
        raise UnguardedHandler(f"/{name} is not in the role table (telegram_bot_service.roles)")
    return Guarded(callback, role, name, on_refused)


def _leaves(handler: BaseHandler[Any, Any, Any]) -> Iterator[BaseHandler[Any, Any, Any]]:
    if isinstance(handler, ConversationHandler):
        for inner in (*handler.entry_points, *handler.fallbacks):
            yield from _leaves(inner)
        for steps in handler.states.values():
            for inner in steps:
                yield from _leaves(inner)
        return
    yield handler


def check_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Raise :class:`UnguardedHandler` unless every handler runs behind a role check.

    The gate (a TypeHandler whose callback is marked ``front_door``) is the one exception: it
    is what identifies the caller in the first place.
    """
    for group, handlers in application.handlers.items():
        for top in handlers:
            for handler in _leaves(top):
                callback = handler.callback
                if isinstance(handler, TypeHandler) and getattr(callback, "front_door", False):
                    continue
                if not isinstance(callback, Guarded):
                    raise UnguardedHandler(
                        f"{type(handler).__name__} {callback!r} in group {group} has no role check"
                    )
                if isinstance(handler, CommandHandler):
                    for name in handler.commands:
                        if required_role(name) != callback.role:
                            raise UnguardedHandler(
                                f"/{name} is guarded as {callback.role.label} but the role "
                                f"table says {required_role(name)}"
                            )
