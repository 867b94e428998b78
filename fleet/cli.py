"""``python -m fleet``: run the fleet from a shell (``make fleet-up`` / ``make fleet-down``).

``list``, ``status``, ``logs`` and ``guard status`` only read: they never start supervisord or
a bot (after ``make fleet-down`` they show every bot STOPPED). ``up``, ``launch`` and
``restart`` start things; ``stop``, ``remove`` and ``down`` stop them. ``service
start|stop|status NAME`` runs the product's services (:mod:`fleet.services`) beside the
bots. ``reset-kill`` clears a bot's tripped kill switch and ``guard`` runs, shows and
resets the fleet guard (:mod:`fleet.guard`); both are audited. A user mistake (no such bot, a bad
argument, a bad config) is one line on stderr and exit status 2; a fleet action that failed
is exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from bot_runtime.control_models import ErrorKind
from core.errors import ConfigError
from core.logging_setup import configure_logging
from core.redaction import scrub
from database import create_engine, session_maker
from database.repositories.audit import current_actor
from fleet.api import BotInfo, ControlRefused, FleetError, FleetUserError
from fleet.guard import FleetGuard, describe, load_state, reset_guard
from fleet.guard_config import load_guard_config
from fleet.logview import render
from fleet.manager import FleetManager
from fleet.service_control import ServiceControl
from fleet.services import format_service, service_names
from trading_config.cli_parser import OneLineParser
from trading_config.loader import load_config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2
MAX_LOG_LINES = 10_000


def _lines(text: str) -> int:
    try:
        lines = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of lines, found {text!r}") from None
    if not 1 <= lines <= MAX_LOG_LINES:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_LOG_LINES} lines, found {lines}")
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m fleet", description="Run perpfleet bots under supervisord."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "up", help="start supervisord (if needed) and every bot whose desired state is running"
    )
    commands.add_parser(
        "down", help="stop every bot gracefully, then supervisord (desired states are kept)"
    )
    launch = commands.add_parser("launch", help="register a bot from its config and start it")
    launch.add_argument("config")
    launch.add_argument("--account", help="database account for every venue of the config")
    launch.add_argument(
        "--ok-if-running", action="store_true", help="a bot already running is not an error"
    )
    stop = commands.add_parser(
        "stop", help="stop a bot (it cancels its orders); it stays stopped across `up`"
    )
    stop.add_argument("bot")
    stop.add_argument("--close", action="store_true", help="close its positions first")
    restart = commands.add_parser("restart", help="stop and start a bot (desired: running)")
    restart.add_argument("bot")
    remove = commands.add_parser(
        "remove", help="stop a bot and unregister it (its history stays in the database)"
    )
    remove.add_argument("bot")
    remove.add_argument("--close", action="store_true", help="close its positions first")
    commands.add_parser("list", help="every bot with its state (starts nothing)")
    status = commands.add_parser("status", help="one bot in detail (starts nothing)")
    status.add_argument("bot")
    commands.add_parser(
        "telegram", help="run the Telegram service under supervisord (TELEGRAM_BOT_TOKEN)"
    )
    reset = commands.add_parser(
        "reset-kill",
        help="clear a bot's tripped kill switch (audited): entries are allowed again",
    )
    reset.add_argument("bot")
    reset.add_argument("--reason", required=True, help="why it may trade again (audited)")
    reset.add_argument(
        "--force",
        action="store_true",
        help="clear it although the drawdown that tripped it still holds (accepts the loss)",
    )
    guard = commands.add_parser(
        "guard", help="the fleet guard: drawdown and daily loss across every bot"
    )
    guard_commands = guard.add_subparsers(dest="guard_command", required=True)
    guard_run = guard_commands.add_parser("run", help="look at the fleet every interval, forever")
    guard_run.add_argument("--config", required=True, help="the guard's YAML file")
    guard_check = guard_commands.add_parser("check", help="look once, act if needed, print it")
    guard_check.add_argument("--config", required=True, help="the guard's YAML file")
    guard_start = guard_commands.add_parser(
        "start", help="run the guard under supervisord (`up` starts it again after `down`)"
    )
    guard_start.add_argument("--config", required=True, help="the guard's YAML file")
    guard_commands.add_parser("status", help="what the guard saw last (starts nothing)")
    guard_reset = guard_commands.add_parser(
        "reset", help="clear a tripped guard (audited); bots stay paused/stopped"
    )
    guard_reset.add_argument("--reason", required=True, help="why the fleet may go on (audited)")
    _service_parser(commands)
    logs = commands.add_parser("logs", help="the last lines of a bot's log (starts nothing)")
    logs.add_argument("bot")
    logs.add_argument("-n", "--lines", type=_lines, default=50, help="how many (default 50)")
    logs.add_argument("--json", action="store_true", help="the raw JSON lines")
    return parser


def _service_parser(commands: Any) -> None:
    """``service start|stop|status NAME``: the service programs of :mod:`fleet.services`."""
    names = service_names()
    service = commands.add_parser(
        "service", help=f"run a service under supervisord ({', '.join(names)})"
    )
    actions = service.add_subparsers(dest="service_command", required=True)
    start = actions.add_parser(
        "start",
        help="start it (settings from its environment variables); `up` starts it again",
    )
    start.add_argument("name", choices=names)
    start.add_argument("--port", type=_port, help="listen on 127.0.0.1:PORT (default: its own)")
    stop = actions.add_parser("stop", help="stop it; `up` no longer starts it")
    stop.add_argument("name", choices=names)
    status = actions.add_parser("status", help="its state and health (starts nothing)")
    status.add_argument("name", nargs="?", choices=names, help="default: every service")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, found {text!r}") from None
    if not 1024 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1024 to 65535, found {port}")
    return port


async def _service(fleet: FleetManager, args: argparse.Namespace) -> str:
    control = ServiceControl(fleet)
    if args.service_command == "status":
        infos = [await control.status(args.name)] if args.name else await control.statuses()
        return "\n\n".join(format_service(info) for info in infos)
    if args.service_command == "stop":
        info = await control.stop(args.name)
        return f"{args.name} service {info.state}"
    info, started = await control.start(args.name, dict(os.environ), args.port)
    already = "" if started else " (already)"
    return f"{args.name} service {info.state}{already}, {info.health_url} answers"


def format_table(bots: Sequence[BotInfo], *, supervisord_down: bool = False) -> str:
    if not bots:
        return "no bots (launch one: python -m fleet launch configs/paper_grid.yml)"
    header = ("BOT", "STATE", "WANTED", "PID", "UPTIME", "STRATEGY", "PORT")
    rows = [
        (
            bot.name,
            bot.display_state,
            bot.desired_state or "-",
            str(bot.pid or "-"),
            _uptime(bot.uptime_seconds),
            bot.strategy or "-",
            str(bot.control_port or "-"),
        )
        for bot in bots
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    table = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )
    if supervisord_down:
        table += "\n(supervisord is not running: `make fleet-up` starts the bots WANTED running)"
    return table


def format_status(bot: BotInfo) -> str:
    fields = [
        ("bot", bot.name),
        ("state", bot.display_state),
        ("wanted", bot.desired_state or "-"),
        ("pid", str(bot.pid or "-")),
        ("uptime", _uptime(bot.uptime_seconds)),
        ("strategy", bot.strategy or "-"),
        ("config", bot.config_path or "-"),
        ("account", bot.account or "-"),
        ("control API", f"127.0.0.1:{bot.control_port}" if bot.control_port else "-"),
    ]
    if bot.exit_status is not None:
        fields.append(("exit status", str(bot.exit_status)))
    if bot.detail:
        fields.append(("detail", bot.detail))
    return "\n".join(f"{key + ':':13}{value}" for key, value in fields)


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


async def run(args: argparse.Namespace) -> tuple[str, list[str]]:
    """What to print on stdout, and the problems (stderr, exit 1) of a partial success."""
    fleet = FleetManager()
    if args.command == "list":
        down = not await fleet.supervisord_running()
        return format_table(await fleet.list_bots(), supervisord_down=down), []
    if args.command == "status":
        return format_status(await fleet.status(args.bot)), []
    if args.command == "logs":
        text = await fleet.logs(args.bot, args.lines)
        return (text if args.json else render(text, colors=sys.stdout.isatty())), []
    if args.command == "telegram":
        state = await fleet.start_telegram(
            os.environ.get("TELEGRAM_BOT_TOKEN", ""), os.environ.get("TELEGRAM_API_BASE_URL")
        )
        return f"telegram service {state}", []
    if args.command == "up":
        problems = await fleet.up()
        return format_table(await fleet.list_bots()), problems
    if args.command == "down":
        await fleet.down()
        return "fleet stopped", []
    if args.command == "launch":
        if args.ok_if_running:
            name = load_config(args.config).name
            active = {
                bot.name: bot
                for bot in await fleet.list_bots()
                if bot.state in ("RUNNING", "STARTING")
            }
            if name in active:
                bot = active[name]
                port = bot.control_port
                return f"{name} already {bot.state} (control API on 127.0.0.1:{port})", []
        info = await fleet.launch(args.config, args.account)
        return f"{info.name} {info.state} (control API on 127.0.0.1:{info.control_port})", []
    if args.command == "stop":
        info = await fleet.stop(args.bot, close_positions=args.close)
        return f"{info.name} {info.display_state}", []
    if args.command == "restart":
        info = await fleet.restart(args.bot)
        return f"{info.name} {info.display_state}", []
    if args.command == "remove":
        return await fleet.remove(args.bot, close_positions=args.close), []
    if args.command == "reset-kill":
        return await _reset_kill(fleet, args), []
    if args.command == "guard":
        return await _guard(fleet, args), []
    if args.command == "service":
        return await _service(fleet, args), []
    raise AssertionError(f"unhandled command {args.command!r}")


async def _guard(fleet: FleetManager, args: argparse.Namespace) -> str:
    if args.guard_command == "start":
        return f"fleet guard {await fleet.start_guard(args.config)}"
    config = load_guard_config(args.config) if args.guard_command in ("run", "check") else None
    engine = create_engine(fleet.database_url)
    sessions = session_maker(engine)
    try:
        if args.guard_command == "status":
            async with sessions() as session:
                return describe(await load_state(session))
        if args.guard_command == "reset":
            reason = args.reason.strip()
            if len(reason) < 3:
                raise FleetUserError("--reason: say why the fleet may go on (3 characters or more)")
            trip = await reset_guard(sessions, reason, current_actor())
            return (
                f"fleet guard reset (it had tripped at {trip.at:%Y-%m-%d %H:%M:%S} UTC: "
                f"{trip.reason}); resume or restart the bots when ready"
            )
        assert config is not None
        guard = FleetGuard(fleet, config, sessions)
        if args.guard_command == "check":
            return describe(await guard.check_once())
        await guard.run()
        return ""
    finally:
        await engine.dispose()


async def _reset_kill(fleet: FleetManager, args: argparse.Namespace) -> str:
    reason = args.reason.strip()
    if len(reason) < 3:
        raise FleetUserError("--reason: say why the bot may trade again (3 characters or more)")
    try:
        result = await fleet.reset_kill(args.bot, reason, force=args.force)
    except ControlRefused as exc:
        if exc.kind is ErrorKind.NEEDS_CONFIRMATION:
            raise FleetError(f"{exc}\nadd --force to clear it anyway") from None
        raise
    forced = " (forced)" if result.forced else ""
    peak = f"{result.peak_equity:.2f} USD" if result.peak_equity is not None else "-"
    lines = [
        f"{result.bot}: kill switch cleared{forced}; entries are allowed again",
        f"it had fired at {result.killed_at:%Y-%m-%d %H:%M:%S} UTC: {result.kill_reason}",
        f"drawdown is measured from {peak} from now on",
    ]
    if result.paused_until is not None:
        lines.append(f"entries stay paused until {result.paused_until:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(level="WARNING", stream=sys.stderr)
    try:
        output, problems = asyncio.run(run(args))
    except FleetUserError as exc:
        sys.stderr.write(scrub(str(exc)) + "\n")
        return EXIT_USER_ERROR
    except FleetError as exc:
        sys.stderr.write(scrub(str(exc)) + "\n")
        return EXIT_FAILED
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(scrub(problem) + "\n")
        return EXIT_USER_ERROR
    if output:
        sys.stdout.write(output + "\n")
    for problem in problems:
        sys.stderr.write(scrub(problem) + "\n")
    return EXIT_FAILED if problems else EXIT_OK
