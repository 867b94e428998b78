"""The fleet over a real supervisord: launch, stop, restart, remove, watch and tail bots.

One supervisord per project (``var/supervisor/``), its XML-RPC on a unix socket with a random
password; one program file per bot. The database's ``bots`` table is the registry (name,
config path, control port, token hash, status, desired state); supervisord is the truth about
processes, and :meth:`FleetManager.up` reconciles the two.

What starts what, on purpose:

* Reading (:meth:`list_bots`, :meth:`status`, :meth:`logs`, :meth:`control`) never starts
  supervisord or a bot: with supervisord down every bot is simply STOPPED.
* :meth:`launch` and :meth:`restart` start supervisord if needed, and only the bot asked for
  (programs have ``autostart=false``).
* :meth:`up` starts the bots whose desired state is ``running``: :meth:`stop` records
  ``stopped``, so a bot stopped before ``down`` stays stopped after ``up``; ``down`` itself
  keeps every desired state.
* A launch that fails leaves nothing registered (no program, no token, no port) for ``up``
  to retry; :meth:`remove` unregisters a bot on purpose.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import strategies  # noqa: F401  (fills the params registry that config validation reads)
from bot_runtime.control_auth import hash_token, new_token
from bot_runtime.control_models import KillResetResult
from core.errors import ConfigError, TradingError
from core.paths import PROJECT_ROOT, VAR_DIR_ENV
from core.redaction import scrub
from database import create_engine, session_maker
from database.engine import DATABASE_URL_ENV, database_url
from database.models import Bot
from database.repositories.audit import current_actor
from database.repositories.bot_leases import current_holder
from fleet.api import BotInfo, FleetError, FleetUserError, NoSuchBot
from fleet.control_client import HttpControlClient
from fleet.layout import FleetLayout, write_private
from fleet.ports import allocate_port
from fleet.rpc import SupervisorRPC
from fleet.services import SERVICES
from fleet.supervisor_conf import (
    GUARD_PROGRAM,
    PROGRAM_FORMAT,
    TELEGRAM_PROGRAM,
    guard_program_conf,
    parse_program,
    program_conf,
    supervisord_conf,
    telegram_program_conf,
)
from trading_config.loader import CliOverrides, load_config

log = structlog.get_logger(__name__)

READY_TIMEOUT_SECONDS = 60.0
NOT_LOADED = "NOT_LOADED"
ACTIVE_STATES = ("RUNNING", "STARTING", "BACKOFF")
ALREADY_ADDED = 90  # supervisor.xmlrpc.Faults.ALREADY_ADDED
PORT_ATTEMPTS = 3
# A lease heartbeat younger than this on another host means the bot runs there
# (bot_runtime.lease.LEASE_TTL; not imported: the fleet does not load the bot runtime).
LEASE_TTL_SECONDS = 60.0


class FleetManager:
    """:class:`fleet.api.Fleet` over supervisord and the database."""

    def __init__(self, var_dir: Path | None = None, *, database_url: str | None = None) -> None:
        self.layout = FleetLayout(var_dir) if var_dir is not None else FleetLayout.default()
        self._database_url = database_url
        self._rpc: SupervisorRPC | None = None
        # Launches may run at once (the dashboard, Telegram): one of them starts supervisord.
        self._supervisord_lock = asyncio.Lock()
        self._registration_lock = asyncio.Lock()

    @property
    def database_url(self) -> str:
        """The registry's database (the environment's unless given)."""
        return self._database_url or database_url()

    # --- supervisord -----------------------------------------------------------------------

    @property
    def rpc(self) -> SupervisorRPC:
        if self._rpc is None:
            self._rpc = SupervisorRPC(self.layout, self.layout.rpc_password())
        return self._rpc

    async def supervisord_running(self) -> bool:
        """Whether supervisord answers; never creates anything (no password, no directory)."""
        if not self.layout.password_file.exists() or not self.layout.socket.exists():
            return False
        return await self.rpc.alive()

    async def up(self) -> list[str]:
        """Start supervisord if needed and every bot whose desired state is running.

        Returns one line per bot that did not come up (the others keep running).
        """
        await self._ensure_supervisord()
        processes = await self._processes()
        wanted = [
            row.name
            for row in await self._bot_rows()
            if row.supervisor_program and row.desired_state == "running"
        ]
        to_start = [
            name
            for name in wanted
            if processes.get(self.layout.program_name(name), {}).get("statename")
            not in ACTIVE_STATES
        ]
        for name in to_start:
            await self._start_program(self.layout.program_name(name))
        results = await asyncio.gather(
            *(self._wait_ready(name) for name in wanted), return_exceptions=True
        )
        problems = [
            str(result) if isinstance(result, FleetError) else f"{name}: {result!r}"
            for name, result in zip(wanted, results, strict=True)
            if isinstance(result, BaseException)
        ]
        for service in (TELEGRAM_PROGRAM, GUARD_PROGRAM, *(s.program for s in SERVICES)):
            if (self.layout.programs_dir / f"{service}.conf").exists():
                state = processes.get(service, {}).get("statename")
                if state not in ACTIVE_STATES:
                    await self._start_program(service)
        await self._set_statuses()
        return problems

    async def _ensure_supervisord(self) -> None:
        """supervisord running with every program loaded; starts no bot (autostart=false)."""
        async with self._supervisord_lock:
            self.layout.prepare()
            write_private(
                self.layout.config_file, supervisord_conf(self.layout, self.layout.rpc_password())
            )
            self._upgrade_program_files()
            if not await self.rpc.alive():
                await self._start_supervisord()
            await self.reconcile()

    def _upgrade_program_files(self) -> None:
        """Rewrite bot program files of an older format (autostart=true, token in the file)."""
        for path in sorted(self.layout.programs_dir.glob("bot-*.conf")):
            text = path.read_text()
            if PROGRAM_FORMAT in text:
                continue
            spec = parse_program(text)
            if spec is None:
                continue
            name = path.stem.removeprefix("bot-")
            write_private(
                path, program_conf(self.layout, name, spec.config_path, spec.port, spec.account)
            )
            log.info("bot program file rewritten in the current format", bot=name)

    async def _start_supervisord(self) -> None:
        # A service's settings reach it from its program file only, never from whoever
        # happened to start supervisord (a token there would lock its API, say).
        env = {
            key: value
            for key, value in os.environ.items()
            if not any(key.startswith(service.env_prefix) for service in SERVICES)
        }
        env[VAR_DIR_ENV] = str(self.layout.root)
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        if self._database_url is not None:
            env[DATABASE_URL_ENV] = self._database_url
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.layout.config_file)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise FleetError(f"supervisord did not start: {scrub(result.stderr.strip())}")
        for _ in range(200):
            if await self.rpc.alive():
                log.info("supervisord started", config=str(self.layout.config_file))
                return
            await asyncio.sleep(0.05)
        raise FleetError(f"supervisord started but its socket {self.layout.socket} never answered")

    async def down(self) -> None:
        """Stop every bot gracefully (each cancels its orders), then supervisord itself.

        Desired states are kept: ``up`` brings back exactly the bots that were meant to run.
        """
        if not await self.supervisord_running():
            return
        await self.rpc.call("stopAllProcesses", True)
        await self._set_statuses()
        pid = self._supervisord_pid()
        await self.rpc.call("shutdown")
        for _ in range(400):
            if pid is None or not _alive(pid):
                break
            await asyncio.sleep(0.05)
        log.info("supervisord stopped")

    def _supervisord_pid(self) -> int | None:
        try:
            return int(self.layout.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    async def reconcile(self) -> None:
        """Load every program file supervisord does not know (none starts); statuses to the DB."""
        await self.rpc.call("reloadConfig")
        loaded = {info["name"] for info in await self.rpc.call("getAllProcessInfo")}
        for program in sorted(self.layout.programs_dir.glob("*.conf")):
            name = program.stem
            if name not in loaded:
                try:
                    await self.rpc.call("addProcessGroup", name)
                except xmlrpc.client.Fault as exc:
                    if exc.faultCode != ALREADY_ADDED:
                        raise
                    continue  # a launch running at the same time loaded it meanwhile
                log.info("program loaded into supervisord", program=name)
        await self._set_statuses()

    async def _processes(self) -> dict[str, dict[str, Any]]:
        """supervisord's processes by program name; empty when it is not running."""
        if not await self.supervisord_running():
            return {}
        return {info["name"]: info for info in await self.rpc.call("getAllProcessInfo")}

    async def _start_program(self, program: str) -> None:
        try:
            await self.rpc.call("startProcess", program, False)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise FleetError(
                    f"{program}: supervisord could not start it: {fault.faultString}"
                ) from None

    # --- bots ------------------------------------------------------------------------------

    async def list_bots(self) -> list[BotInfo]:
        processes = await self._processes()
        rows = await self._bot_rows()
        names = sorted(
            {row.name for row in rows if row.supervisor_program}
            | {name.removeprefix("bot-") for name in processes if name.startswith("bot-")}
        )
        by_name = {row.name: row for row in rows}
        down = not processes and not await self.supervisord_running()
        return [
            self._info(
                name,
                by_name.get(name),
                processes.get(self.layout.program_name(name)),
                supervisord_down=down,
            )
            for name in names
        ]

    async def status(self, name: str) -> BotInfo:
        for info in await self.list_bots():
            if info.name == name:
                return info
        raise NoSuchBot(name)

    async def launch(self, config_path: str, account: str | None = None) -> BotInfo:
        path = _absolute(config_path)
        try:
            config = load_config(path, cli=CliOverrides(account=account))
        except ConfigError as exc:
            raise FleetUserError(
                f"{config_path}: invalid config: " + "; ".join(exc.problems)
            ) from None
        name = config.name
        program = self.layout.program_name(name)
        if (await self._processes()).get(program, {}).get("statename") in ACTIVE_STATES:
            raise FleetUserError(f"bot {name!r} is already running (stop it first)")
        await self._check_accounts(config_path, config)
        await self._check_not_running_elsewhere(name)
        await self._ensure_supervisord()
        processes = await self._processes()
        token = new_token()
        # One registration at a time in this process; another process launching at the same
        # moment can still take the same free port: the unique index refuses it, and the port
        # is allocated again.
        for attempt in range(PORT_ATTEMPTS):
            try:
                async with self._registration_lock, self._transaction() as session:
                    port = await allocate_port(session, name)
                    bot = await session.scalar(select(Bot).where(Bot.name == name))
                    if bot is None:
                        bot = Bot(name=name, config={})
                        session.add(bot)
                    bot.config = config.model_dump(mode="json", by_alias=True)
                    bot.config_path = str(path)
                    bot.control_port = port
                    bot.control_token_hash = hash_token(token)
                    bot.supervisor_program = program
                    bot.status = "starting"
                    bot.status_detail = None
                    bot.desired_state = "running"
                break
            except IntegrityError:
                if attempt == PORT_ATTEMPTS - 1:
                    raise FleetError(
                        f"{name}: could not reserve a control-API port (other launches kept "
                        "taking the free ones); launch it again"
                    ) from None
        write_private(self.layout.token_file(name), token)
        write_private(
            self.layout.program_file(name),
            program_conf(self.layout, name, path, port, account),
        )
        try:
            await self.rpc.call("reloadConfig")
            if program in processes:
                await self.rpc.call("removeProcessGroup", program)
            await self._add_program(program)
            await self._start_program(program)
            await self._wait_ready(name)
        except (FleetError, xmlrpc.client.Fault) as exc:
            reason = exc.faultString if isinstance(exc, xmlrpc.client.Fault) else str(exc)
            await self._unregister(name, status="crashed", detail=f"launch failed: {reason}")
            raise FleetError(
                f"{reason}\n{name} is not registered: fix the cause, then launch again"
            ) from None
        log.info("bot launched", bot=name, config=str(path))
        return await self.status(name)

    async def _add_program(self, program: str) -> None:
        """Load ``program`` from its file just written. Another launch running at the same time
        may have loaded it already (its start of supervisord loads every program file there is),
        possibly from the file this launch replaced: load it again from the current file."""
        try:
            await self.rpc.call("addProcessGroup", program)
        except xmlrpc.client.Fault as exc:
            if exc.faultCode != ALREADY_ADDED:
                raise
            await self.rpc.call("removeProcessGroup", program)
            await self.rpc.call("addProcessGroup", program)

    async def _check_accounts(self, config_path: str, config: Any) -> None:
        """Fail before anything is written when an account the config needs is missing."""
        from bot_runtime.setup import StartupError, account_name
        from core.venues import VENUES
        from database.repositories.accounts import get_account_credentials

        async with self._transaction() as session:
            for venue in config.exchanges:
                try:
                    name = account_name(config, venue)
                    if VENUES[venue].needs_credentials:
                        await get_account_credentials(session, name, venue)
                except (StartupError, TradingError) as exc:
                    problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
                    raise FleetUserError(f"{config_path}: {'; '.join(problems)}") from None

    async def _check_not_running_elsewhere(self, name: str) -> None:
        """Refuse a name another process already runs (``make run``, another fleet, a host)."""
        async with self._transaction() as session:
            holder = await current_holder(session, name)
        if holder is None:
            return
        if holder.host == _hostname():
            if not _alive(holder.pid):
                return
        elif holder.heartbeat_at is None or (
            (time.time() - holder.heartbeat_at.timestamp()) > LEASE_TTL_SECONDS
        ):
            return
        raise FleetUserError(
            f"{name} is already running on {holder.describe()}, outside this fleet: "
            "stop that process first (one bot name runs in one process only)"
        )

    async def _wait_ready(self, name: str) -> None:
        """Until the bot is RUNNING and answering as itself on the port it recorded."""
        program = self.layout.program_name(name)
        token = self._token(name)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            info = await self.rpc.call("getProcessInfo", program)
            if info["statename"] == "RUNNING":
                port = await self._recorded_port(name)
                if port is not None:
                    client = HttpControlClient(name, port, token)
                    with suppress(FleetError):  # not recorded yet, or the port is another's
                        if await client.identify():
                            return
            if info["statename"] in ("FATAL", "EXITED", "BACKOFF", "STOPPED"):
                raise FleetError(f"{name} failed to start:\n{await self._log_tail(name, 20)}")
            await asyncio.sleep(0.2)
        raise FleetError(
            f"{name} did not answer on its control API within {READY_TIMEOUT_SECONDS:g} s"
        )

    async def _log_tail(self, name: str, lines: int) -> str:
        from fleet.logview import render

        path = self.layout.bot_log(name)
        if not path.exists():
            return "(no log)"
        return render(scrub(await asyncio.to_thread(_tail, path, lines)))

    async def stop(self, name: str, *, close_positions: bool = False) -> BotInfo:
        """Graceful stop; the desired state becomes ``stopped`` (``up`` leaves it stopped)."""
        info = await self.status(name)
        if close_positions and info.running:
            control = self.control(name)
            # Paused first: between the close and the process's exit the strategy keeps
            # stepping, and a new entry filled then would be a position left open by a stop
            # that was asked to close them (seen: a grid entry in the fleet guard's kill).
            await control.pause()
            closed = (await control.close_all()).closed_positions
            log.info("positions closed before stopping", bot=name, closed=closed)
        await self._set_desired(name, "stopped")
        if info.state in ACTIVE_STATES:
            try:
                await self.rpc.call("stopProcess", self.layout.program_name(name), True)
            except xmlrpc.client.Fault as fault:
                raise FleetError(
                    f"{name}: supervisord could not stop it: {fault.faultString}"
                ) from None
        if await self.supervisord_running():
            await self._set_statuses()
        return await self.status(name)

    async def restart(self, name: str) -> BotInfo:
        info = await self.status(name)
        if info.config_path is None:
            raise FleetUserError(f"{name}: not launched by the fleet (no program file)")
        await self._ensure_supervisord()
        if (await self.status(name)).state in ACTIVE_STATES:
            await self.rpc.call("stopProcess", self.layout.program_name(name), True)
        await self._set_desired(name, "running")
        await self._start_program(self.layout.program_name(name))
        await self._wait_ready(name)
        await self._set_statuses()
        return await self.status(name)

    async def remove(self, name: str, *, close_positions: bool = False) -> str:
        """Unregister a bot: stop it (it cancels its orders), drop its program and token.

        ``close_positions`` closes its positions first, which needs the bot running; without
        it positions stay open on the venue. The database keeps the bot's history (orders,
        fills, PnL) and its log file stays in the logs directory.
        """
        info = await self.status(name)
        if close_positions:
            if not info.running:
                raise FleetUserError(
                    f"{name} is {info.display_state}: its positions can only be closed while it "
                    f"runs: `python -m fleet restart {name}` first, or remove it without --close "
                    "(positions stay open on the venue)"
                )
            closed = (await self.control(name).close_all()).closed_positions
            log.info("positions closed before removing", bot=name, closed=closed)
        await self._unregister(name, status="stopped", detail="removed from the fleet")
        return f"{name} removed" + ("" if close_positions else " (open positions, if any, kept)")

    async def _unregister(self, name: str, *, status: str, detail: str) -> None:
        """No program, token, port or desired state left: nothing for ``up`` to start."""
        program = self.layout.program_name(name)
        if await self.supervisord_running():
            processes = await self._processes()
            if program in processes:
                if processes[program]["statename"] in ACTIVE_STATES:
                    with suppress(xmlrpc.client.Fault):
                        await self.rpc.call("stopProcess", program, True)
                with suppress(xmlrpc.client.Fault):
                    await self.rpc.call("removeProcessGroup", program)
        for path in (self.layout.program_file(name), self.layout.token_file(name)):
            path.unlink(missing_ok=True)
        async with self._transaction() as session:
            bot = await session.scalar(select(Bot).where(Bot.name == name))
            if bot is not None:
                bot.supervisor_program = None
                bot.control_port = None
                bot.control_token_hash = None
                bot.desired_state = None
                if bot.status in ("created", "starting", "running", "stopping"):
                    bot.status = status
                    bot.status_detail = detail
        if await self.supervisord_running():
            with suppress(xmlrpc.client.Fault):
                await self.rpc.call("reloadConfig")

    async def logs(self, name: str, lines: int = 50) -> str:
        """The last ``lines`` raw lines of the bot's log (secrets scrubbed)."""
        if lines < 1:
            raise FleetUserError(f"lines: expected a number of lines of at least 1, found {lines}")
        path = self.layout.bot_log(name)
        if not path.exists():
            if not await self._known(name):
                raise NoSuchBot(name)
            return ""
        text = await asyncio.to_thread(_tail, path, lines)
        return scrub(text)

    async def _known(self, name: str) -> bool:
        if self.layout.program_file(name).exists():
            return True
        return any(row.name == name and row.supervisor_program for row in await self._bot_rows())

    def control(self, name: str) -> HttpControlClient:
        """The bot's control API at the port it recorded (looked up on first use)."""

        async def port() -> int | None:
            return await self._recorded_port(name)

        return HttpControlClient(name, port, self._token(name))

    async def reset_kill(
        self, name: str, reason: str, *, force: bool = False, actor: str | None = None
    ) -> KillResetResult:
        """Through the bot's control API when it runs, else in its saved state (under its
        lease); audited either way, with ``actor`` (default: the OS user)."""
        from fleet.kill_reset import reset_saved_kill

        who = actor or current_actor()
        info = await self.status(name)
        if info.running:
            return await self.control(name).reset_kill(reason, force=force, actor=who)
        if info.state in ACTIVE_STATES or info.state == "STOPPING":
            raise FleetUserError(f"{name} is {info.state}: wait until it runs or has stopped")
        engine = create_engine(self._database_url or database_url())
        try:
            return await reset_saved_kill(
                session_maker(engine), name, reason, force=force, actor=who
            )
        finally:
            await engine.dispose()

    async def start_telegram(self, token: str, api_base_url: str | None = None) -> str:
        """Run the Telegram service under supervisord (its token kept in a 0600 file)."""
        if not token:
            raise FleetUserError(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather first"
            )
        return await self._start_service(
            TELEGRAM_PROGRAM, telegram_program_conf(self.layout, token, api_base_url)
        )

    async def start_guard(self, config_path: str) -> str:
        """Run the fleet guard under supervisord with the config at ``config_path`` (checked
        here first: a bad file is one clear error, not a program restarting forever)."""
        from fleet.guard_config import load_guard_config

        load_guard_config(config_path)
        conf = guard_program_conf(self.layout, _absolute(config_path))
        return await self._start_service(GUARD_PROGRAM, conf)

    async def _start_service(self, program: str, conf: str) -> str:
        """(Re)load ``program`` from ``conf`` into supervisord and start it; its state."""
        await self._ensure_supervisord()
        write_private(self.layout.programs_dir / f"{program}.conf", conf)
        await self.rpc.call("reloadConfig")
        loaded = {info["name"] for info in await self.rpc.call("getAllProcessInfo")}
        if program in loaded:
            with suppress(xmlrpc.client.Fault):
                await self.rpc.call("stopProcess", program, True)
            await self.rpc.call("removeProcessGroup", program)
        await self.rpc.call("addProcessGroup", program)
        await self._start_program(program)
        info = await self.rpc.call("getProcessInfo", program)
        return str(info["statename"])

    # --- internals -------------------------------------------------------------------------

    def _token(self, name: str) -> str:
        try:
            return self.layout.token_file(name).read_text().strip()
        except OSError:
            raise FleetError(f"{name}: no control token (was it launched by the fleet?)") from None

    async def _recorded_port(self, name: str) -> int | None:
        """The port the bot bound (it records it at start), or the one allocated at launch."""
        async with self._transaction() as session:
            port: int | None = await session.scalar(
                select(Bot.control_port).where(Bot.name == name)
            )
        return port

    async def _set_desired(self, name: str, desired: str) -> None:
        async with self._transaction() as session:
            bot = await session.scalar(select(Bot).where(Bot.name == name))
            if bot is not None:
                bot.desired_state = desired

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """One short transaction on the registry (the fleet holds no connection between calls)."""
        engine = create_engine(self._database_url or database_url())
        try:
            async with session_maker(engine).begin() as session:
                yield session
        finally:
            await engine.dispose()

    async def _bot_rows(self) -> list[Bot]:
        async with self._transaction() as session:
            return list(await session.scalars(select(Bot)))

    async def _set_statuses(self) -> None:
        """The registry's status column follows supervisord's view of each bot program.

        A row left ``starting``/``running`` by a process that is gone (never started, killed
        with supervisord) becomes ``stopped``; a non-zero exit becomes ``crashed``.
        """
        processes = await self._processes()
        async with self._transaction() as session:
            programs = await session.scalars(select(Bot).where(Bot.supervisor_program.is_not(None)))
            for bot in programs:
                process = processes.get(bot.supervisor_program or "")
                status = _registry_status(process)
                if status is None and bot.status in ("starting", "running", "stopping"):
                    status = "stopped"
                if status is not None and bot.status != status:
                    bot.status = status
                    if status == "crashed" and process is not None and not bot.status_detail:
                        bot.status_detail = f"{process['statename']}: {process.get('spawnerr')}"

    def _info(
        self,
        name: str,
        row: Bot | None,
        process: dict[str, Any] | None,
        *,
        supervisord_down: bool = False,
    ) -> BotInfo:
        # With supervisord down nothing of the fleet runs: STOPPED, not "not loaded".
        idle = "STOPPED" if supervisord_down else NOT_LOADED
        state = process["statename"] if process else idle
        pid = process.get("pid") or None if process else None
        uptime = None
        if process and state == "RUNNING":
            uptime = float(process["now"] - process["start"])
        config = row.config if row is not None else {}
        strategy = config.get("strategy", {}).get("type") if isinstance(config, dict) else None
        account = None
        if isinstance(config, dict):
            accounts = {e.get("account") for e in config.get("exchanges", {}).values()} - {None}
            account = ", ".join(sorted(accounts)) or None
        exit_status = process.get("exitstatus") if process and state == "EXITED" else None
        return BotInfo(
            name=name,
            state=state,
            pid=pid,
            uptime_seconds=uptime,
            strategy=strategy,
            config_path=row.config_path if row is not None else None,
            account=account,
            control_port=row.control_port if row is not None else None,
            desired_state=row.desired_state if row is not None else None,
            exit_status=exit_status,
            detail=row.status_detail if row is not None else None,
        )


def _registry_status(process: dict[str, Any] | None) -> str | None:
    if process is None:
        return None
    state = process.get("statename")
    if state == "EXITED":
        return "stopped" if process.get("exitstatus") == 0 else "crashed"
    return {
        "RUNNING": "running",
        "STARTING": "starting",
        "STOPPING": "stopping",
        "STOPPED": "stopped",
        "BACKOFF": "crashed",
        "FATAL": "crashed",
    }.get(state or "")


def _tail(path: Path, lines: int) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 256 * 1024))
        data = handle.read().decode(errors="replace")
    return "\n".join(data.splitlines()[-lines:])


def _absolute(path: str) -> Path:
    """Program files need absolute config paths (supervisord runs bots from the project root)."""
    return Path(path).absolute()


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
