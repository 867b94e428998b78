"""The fleet's safety catches: /reset_kill (admins: clear a bot's tripped kill switch, confirmed
with a button, asked again with the numbers while the drawdown still holds) and /guard (the
fleet guard's view: losses per account and in total, tripped or not).

The reset itself is done and audited where the state lives (the bot, or the fleet for a stopped
bot), with this user as the actor; this service audits the request too, like every action.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot_runtime.control_models import ErrorKind
from fleet.api import ControlRefused, FleetUserError
from fleet.guard import describe, load_state
from telegram_bot_service.actions import Pending
from telegram_bot_service.caller import caller_of
from telegram_bot_service.commands.common import args_of, ask_bot, bot_name, edit, reply
from telegram_bot_service.formatting import clip, escape, pre_pages, usd
from telegram_bot_service.roles import Role
from telegram_bot_service.services import services_of

RESET_KILL_KIND = "reset_kill"
MAX_REASON = 500
USAGE = (
    "Usage: /reset_kill BOT REASON — clears BOT's tripped kill switch so it may open "
    "positions again; the reason is audited."
)


async def reset_kill(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if len(args) < 2:
        await reply(update, USAGE)
        return
    name = bot_name(args[0])
    reason = " ".join(args[1:]).strip()
    if not 3 <= len(reason) <= MAX_REASON:
        raise FleetUserError(f"the reason must be 3 to {MAX_REASON} characters")
    info = await services.fleet.status(name)
    fired = ""
    if info.running:
        status = await ask_bot(services, name, "status", lambda bot: bot.status())
        if not status.risk.killed:
            await reply(update, f"{escape(name)}'s kill switch is not engaged: nothing to reset.")
            return
        when = f"{status.risk.killed_at:%Y-%m-%d %H:%M} UTC" if status.risk.killed_at else "?"
        fired = f"\nIt fired at {when}: {escape(clip(status.risk.kill_reason or '?', 400))}"
    pending = services.actions.open(
        caller_of(context).telegram_id, RESET_KILL_KIND, Role.ADMIN, bot=name, reason=reason
    )
    markup = services.actions.keyboard(pending, [[("Clear the kill switch", "go")]])
    await reply(
        update,
        f"Clear the kill switch of <b>{escape(name)}</b>? It may open positions again."
        f"{fired}\nReason: {escape(reason)}",
        markup,
    )


async def on_reset_kill(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending, choice: str
) -> None:
    """The buttons of /reset_kill: clear, then (while the drawdown holds) clear anyway."""
    services = services_of(context)
    query = update.callback_query
    assert query is not None
    if choice == "go":
        force = False
    elif choice == "force" and pending.data.get("asked_force"):
        force = True
    else:
        await query.answer("Unknown choice")
        return
    if not services.actions.close(pending):
        await query.answer("Already done")
        return
    await query.answer("Clearing…")
    name, reason = pending.data["bot"], pending.data["reason"]
    actor = caller_of(context).actor
    try:
        result = await services.fleet.reset_kill(name, reason, force=force, actor=actor)
    except ControlRefused as exc:
        if force or exc.kind is not ErrorKind.NEEDS_CONFIRMATION:
            raise
        again = services.actions.open(
            pending.user_id, RESET_KILL_KIND, Role.ADMIN, bot=name, reason=reason, asked_force=True
        )
        markup = services.actions.keyboard(again, [[("Clear anyway", "force")]])
        await edit(
            update, f"{escape(exc)}\nClear the kill switch of {escape(name)} anyway?", markup
        )
        return
    await services.audit(
        actor, "telegram.bot.reset_kill", name, {"reason": reason, "forced": result.forced}
    )
    peak = (
        f" Drawdown is measured from {usd(result.peak_equity)} USD now."
        if (result.peak_equity is not None)
        else ""
    )
    forced = " (forced)" if result.forced else ""
    await edit(
        update,
        f"✅ Kill switch of {escape(name)} cleared{forced}: it may open positions again.{peak}",
    )


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The fleet guard as it saw the fleet last (``python -m fleet guard status`` alike)."""
    services = services_of(context)
    state = await services.transaction(load_state)
    for page in pre_pages("<b>Fleet guard</b>", describe(state)):
        await reply(update, page)
