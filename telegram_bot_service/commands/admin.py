"""Admin commands: /accounts (names and venues, never a secret) and /users (the allowlist)."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from database.repositories.accounts import list_accounts
from database.repositories.audit import record_audit
from telegram_bot_service import users
from telegram_bot_service.caller import caller_of
from telegram_bot_service.commands.common import args_of, reply, reply_pages
from telegram_bot_service.formatting import clip, escape, pre_pages, table
from telegram_bot_service.roles import Role
from telegram_bot_service.services import services_of

USERS_USAGE = "Usage: /users | /users add TELEGRAM_ID admin|trader|viewer [NAME] | /users remove ID"


async def accounts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    summaries = await services_of(context).transaction(list_accounts)
    if not summaries:
        await reply(update, "No accounts yet. Add one with /add_account.")
        return
    rows = []
    for summary in summaries:
        if not summary.credentials:
            rows.append([summary.name, "-"])
        for cred in summary.credentials:
            venue = cred.venue + (f" ({cred.sub_account})" if cred.sub_account else "")
            rows.append([summary.name, venue])
    await reply_pages(update, pre_pages("<b>Accounts</b>", table(["ACCOUNT", "VENUE"], rows)))


async def users_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    caller = caller_of(context)
    args = args_of(context)
    if not args:
        listed = await services.transaction(users.list_users)
        rows = [
            [
                str(u.telegram_id),
                u.role.label,
                clip(u.display_name or "-"),
                ", ".join(u.subscriptions) or "-",
            ]
            for u in listed
        ]
        text = table(["TELEGRAM ID", "ROLE", "NAME", "ALERTS"], rows)
        await reply_pages(update, pre_pages("<b>Users</b>", text))
        return
    action = args[0].lower()
    if action == "add" and len(args) >= 3 and re.fullmatch(r"\d{1,20}", args[1]):
        try:
            role = Role.parse(args[2])
        except ValueError as exc:
            await reply(update, escape(exc))
            return
        name = " ".join(args[3:]) or None
        telegram_id = int(args[1])

        async def add(session: AsyncSession) -> bool:
            _, created = await users.add_user(session, telegram_id, role, name)
            await record_audit(
                session,
                "telegram.user.add" if created else "telegram.user.update",
                f"telegram:{telegram_id}",
                {"role": role.label, "name": name},
                actor=caller.actor,
            )
            return created

        created = await services.transaction(add)
        verb = "Added" if created else "Updated"
        await reply(update, f"{verb} {telegram_id} as {role.label}.")
        return
    if action == "remove" and len(args) == 2 and re.fullmatch(r"\d{1,20}", args[1]):
        telegram_id = int(args[1])
        if telegram_id == caller.telegram_id:
            await reply(update, "You cannot remove yourself.")
            return

        async def remove(session: AsyncSession) -> None:
            removed = await users.remove_user(session, telegram_id)
            await record_audit(
                session,
                "telegram.user.remove",
                f"telegram:{telegram_id}",
                {"role": removed.role.label},
                actor=caller.actor,
            )

        await services.transaction(remove)
        await reply(update, f"Removed {telegram_id}.")
        return
    await reply(update, escape(USERS_USAGE))
