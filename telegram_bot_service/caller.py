"""The allowlisted user behind the current update, as the gate left it for the handlers."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from telegram_bot_service.roles import Role

CALLER_KEY = "perpfleet.caller"


@dataclass(frozen=True)
class Caller:
    telegram_id: int
    role: Role
    display_name: str | None

    @property
    def actor(self) -> str:
        """How the audit log names them."""
        return f"telegram:{self.telegram_id}"


def set_caller(context: ContextTypes.DEFAULT_TYPE, caller: Caller) -> None:
    if context.user_data is not None:
        context.user_data[CALLER_KEY] = caller


def clear_caller(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget the previous update's caller (the gate sets it again once it knows the user)."""
    if context.user_data is not None:
        context.user_data.pop(CALLER_KEY, None)


def current_caller(context: ContextTypes.DEFAULT_TYPE) -> Caller | None:
    """The caller of this update, or None when the gate did not identify one."""
    data = context.user_data
    caller = data.get(CALLER_KEY) if data is not None else None
    return caller if isinstance(caller, Caller) else None


def caller_of(context: ContextTypes.DEFAULT_TYPE) -> Caller:
    data = context.user_data
    caller = data.get(CALLER_KEY) if data is not None else None
    if not isinstance(caller, Caller):
        raise RuntimeError("no caller: the gate did not run for this update")
    return caller
