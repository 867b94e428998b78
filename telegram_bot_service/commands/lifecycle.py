"""Starting and stopping bots: /launch (pick config, account, confirm), /stop, /restart,
/killall — each confirmed with inline buttons before the fleet is touched, each audit-logged.

Stops and restarts asked for here are announced to the fleet watcher first, so it does not
report them as crashes.
"""

from __future__ import annotations

from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes

from database.repositories.accounts import list_accounts
from fleet.api import BotInfo, FleetError
from telegram_bot_service.actions import Pending
from telegram_bot_service.caller import caller_of
from telegram_bot_service.commands.common import (
    args_of,
    bot_name,
    edit,
    need_bot_argument,
    reply,
)
from telegram_bot_service.formatting import duration, escape
from telegram_bot_service.roles import Role
from telegram_bot_service.services import Services, services_of

LAUNCH_KIND = "launch"
STOP_KIND = "stop"
RESTART_KIND = "restart"
KILLALL_KIND = "killall"
MAX_CHOICES = 40
NO_ACCOUNT = "none"


def config_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.yml") if path.is_file())


def _describe(info: BotInfo) -> str:
    port = f", control port {info.control_port}" if info.control_port else ""
    return (
        f"<b>{escape(info.name)}</b> is {escape(info.state)} "
        f"(pid {info.pid or '-'}, up {duration(info.uptime_seconds)}{port})"
    )


# -- /launch ---------------------------------------------------------------------------------


async def launch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    caller = caller_of(context)
    configs = config_files(services.configs_dir)[:MAX_CHOICES]
    if not configs:
        await reply(update, "No configs to launch. Write one with /new_config.")
        return
    pending = services.actions.open(
        caller.telegram_id, LAUNCH_KIND, Role.TRADER, configs=[str(p) for p in configs]
    )
    rows = [[(path.name, f"c{index}")] for index, path in enumerate(configs)]
    await reply(update, "Launch a bot: which config?", services.actions.keyboard(pending, rows))


async def on_launch(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending, choice: str
) -> None:
    services = services_of(context)
    query = update.callback_query
    assert query is not None
    configs: list[str] = pending.data["configs"]
    if choice.startswith("c") and choice[1:].isdigit() and int(choice[1:]) < len(configs):
        pending.data["config"] = configs[int(choice[1:])]
        accounts = [a.name for a in await services.transaction(list_accounts)][:MAX_CHOICES]
        pending.data["accounts"] = accounts
        rows = [[(name, f"a{index}")] for index, name in enumerate(accounts)]
        rows.append([("No account (paper venues)", NO_ACCOUNT)])
        await query.answer()
        await edit(
            update,
            f"Config <b>{escape(Path(pending.data['config']).name)}</b>. Which account?",
            services.actions.keyboard(pending, rows),
        )
        return
    if "config" in pending.data and (choice == NO_ACCOUNT or choice.startswith("a")):
        offered: list[str] = pending.data.get("accounts", [])
        if choice == NO_ACCOUNT:
            pending.data["account"] = None
        elif choice[1:].isdigit() and int(choice[1:]) < len(offered):
            pending.data["account"] = offered[int(choice[1:])]
        else:
            await query.answer("Unknown choice")
            return
        account = pending.data["account"]
        await query.answer()
        await edit(
            update,
            f"Launch <b>{escape(Path(pending.data['config']).name)}</b> with account "
            f"<b>{escape(account or 'none (paper)')}</b>?",
            services.actions.keyboard(pending, [[("Launch", "go")]]),
        )
        return
    if choice == "go" and "account" in pending.data:
        if not services.actions.close(pending):
            await query.answer("Already done")
            return
        await query.answer("Launching…")
        config, account = pending.data["config"], pending.data["account"]
        await edit(update, f"Launching {escape(Path(config).name)}…")
        info = await services.fleet.launch(config, account)
        await services.audit(
            caller_of(context).actor,
            "telegram.bot.launch",
            info.name,
            {"config": config, "account": account},
        )
        await edit(update, f"Launched: {_describe(info)}")
        return
    await query.answer("Unknown choice")


# -- /stop and /restart ------------------------------------------------------------------------


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/stop BOT")
        return
    info = await services.fleet.status(bot_name(args[0]))
    pending = services.actions.open(
        caller_of(context).telegram_id, STOP_KIND, Role.TRADER, bot=info.name
    )
    rows = [[("Stop, keep positions", "keep")], [("Close positions, then stop", "close")]]
    await reply(
        update,
        f"Stop {_describe(info)}? Its resting orders are cancelled either way.",
        services.actions.keyboard(pending, rows),
    )


async def on_stop(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending, choice: str
) -> None:
    services = services_of(context)
    query = update.callback_query
    assert query is not None
    name = pending.data["bot"]
    if choice in ("keep", "close"):
        pending.data["close_positions"] = choice == "close"
        how = "closing its positions first" if choice == "close" else "keeping its positions"
        await query.answer()
        await edit(
            update,
            f"Confirm: stop <b>{escape(name)}</b>, {how}?",
            services.actions.keyboard(pending, [[("Confirm stop", "go")]]),
        )
        return
    if choice != "go" or "close_positions" not in pending.data:
        await query.answer("Unknown choice")
        return
    if not services.actions.close(pending):
        await query.answer("Already done")
        return
    close_positions: bool = pending.data["close_positions"]
    await query.answer("Stopping…")
    await edit(update, f"Stopping {escape(name)}…")
    services.expected.expect(name)
    info = await services.fleet.stop(name, close_positions=close_positions)
    await services.audit(
        caller_of(context).actor, "telegram.bot.stop", name, {"close_positions": close_positions}
    )
    await edit(update, f"Stopped: {_describe(info)}")


async def restart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/restart BOT")
        return
    info = await services.fleet.status(bot_name(args[0]))
    pending = services.actions.open(
        caller_of(context).telegram_id, RESTART_KIND, Role.TRADER, bot=info.name
    )
    await reply(
        update,
        f"Restart {_describe(info)}?",
        services.actions.keyboard(pending, [[("Confirm restart", "go")]]),
    )


async def on_restart(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending, choice: str
) -> None:
    services = services_of(context)
    query = update.callback_query
    assert query is not None
    if choice != "go" or not services.actions.close(pending):
        await query.answer("Already done" if choice == "go" else "Unknown choice")
        return
    name = pending.data["bot"]
    await query.answer("Restarting…")
    await edit(update, f"Restarting {escape(name)}…")
    services.expected.expect(name)
    info = await services.fleet.restart(name)
    await services.audit(caller_of(context).actor, "telegram.bot.restart", name)
    await edit(update, f"Restarted: {_describe(info)}")


# -- /killall ----------------------------------------------------------------------------------


async def killall(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    running = [bot.name for bot in await services.fleet.list_bots() if bot.running]
    if not running:
        await reply(update, "No bot is running.")
        return
    pending = services.actions.open(
        caller_of(context).telegram_id, KILLALL_KIND, Role.ADMIN, bots=running
    )
    await reply(
        update,
        f"Stop ALL {len(running)} running bots, closing every position first?\n"
        f"{escape(', '.join(running))}",
        services.actions.keyboard(pending, [[("Stop all and close positions", "go")]]),
    )


async def on_killall(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending, choice: str
) -> None:
    services = services_of(context)
    query = update.callback_query
    assert query is not None
    if choice != "go" or not services.actions.close(pending):
        await query.answer("Already done" if choice == "go" else "Unknown choice")
        return
    await query.answer("Stopping every bot…")
    await edit(update, "Stopping every bot, closing positions…")
    lines = await _stop_all(services, pending.data["bots"])
    await services.audit(
        caller_of(context).actor, "telegram.fleet.killall", "fleet", {"bots": pending.data["bots"]}
    )
    await edit(update, "<b>Kill all</b>\n" + "\n".join(lines))


async def _stop_all(services: Services, names: list[str]) -> list[str]:
    # Bots launched since the confirmation are included: "every bot" means now.
    current = [bot.name for bot in await services.fleet.list_bots() if bot.running]
    lines = []
    for name in sorted(set(names) | set(current)):
        services.expected.expect(name)
        try:
            info = await services.fleet.stop(name, close_positions=True)
        except FleetError as exc:
            lines.append(f"❌ {escape(name)}: {escape(exc)}")
        else:
            lines.append(f"✅ {escape(name)}: {escape(info.state)}")
    return lines
