"""/service: the fleet's service programs (:mod:`fleet.services`, e.g. the funding-rate service)
for admins - their state and health, and start or stop one (audited).

It drives the same :class:`fleet.service_control.ServiceControl` as ``python -m fleet service``:
a start takes its settings from this process's environment (``PERPFLEET_FUNDING_*`` for the
funding service) and waits until the service answers its health URL; a service that cannot
start is one line (the reason from its log), like every fleet error here.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ContextTypes

from fleet.manager import FleetManager
from fleet.service_control import ServiceControl
from fleet.services import SERVICE_PROGRAMS, ServiceInfo
from telegram_bot_service.caller import caller_of
from telegram_bot_service.commands.common import args_of, reply
from telegram_bot_service.formatting import clip, duration, escape, pre, table
from telegram_bot_service.services import services_of

USAGE = "/service [status | start NAME [PORT] | stop NAME]"


def _row(info: ServiceInfo) -> list[str]:
    health = {None: "-", True: "answers", False: "not answering"}[info.answering]
    return [
        info.name,
        info.state,
        health,
        duration(info.uptime_seconds) if info.uptime_seconds is not None else "-",
        "yes" if info.set_up else "no",
    ]


async def service(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    fleet = services.fleet
    if not isinstance(fleet, FleetManager):
        await reply(update, "Service programs run under the fleet's supervisord: none here.")
        return
    control = ServiceControl(fleet)
    args = args_of(context)
    if not args or args == ["status"]:
        infos = await control.statuses()
        text = table(["SERVICE", "STATE", "HEALTH", "UPTIME", "SET UP"], [_row(i) for i in infos])
        await reply(update, f"<b>Services</b>\n{pre(text)}")
        return
    action = args[0]
    port: int | None = None
    if action == "start" and len(args) == 3 and args[2].isdigit():
        port = int(args[2])
        args = args[:2]
    if len(args) != 2 or action not in ("start", "stop") or not 1024 <= (port or 1024) <= 65535:
        await reply(update, f"Usage: {escape(USAGE)} (PORT: 1024 to 65535)")
        return
    name = args[1]
    if name not in SERVICE_PROGRAMS:
        known = ", ".join(sorted(SERVICE_PROGRAMS))
        await reply(update, f"No service {escape(clip(name, 30))!r} (known: {escape(known)}).")
        return
    actor = caller_of(context).actor
    if action == "start":
        info, started = await control.start(name, dict(os.environ), port)
        text = f"{name} service {info.state}" + ("" if started else " (already)")
    else:
        info = await control.stop(name)
        text = f"{name} service {info.state}"
    await services.audit(actor, f"telegram.service.{action}", name, {"state": info.state})
    await reply(update, escape(text))
