"""The fleet over a real supervisord: launch, stop, restart, watch and tail bots.

One supervisord per project (``var/supervisor/``), its XML-RPC on a unix socket with a random
password; one program file per bot. The database's ``bots`` table is the registry (name,
config path, control port, token hash, status); supervisord is the truth about processes, and
:meth:`FleetManager.up` reconciles the two.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot_runtime.control_auth import hash_token, new_token
from database import create_engine, session_maker
from database.engine import DATABASE_URL_ENV, database_url
from database.models import Bot
from fleet.api import BotInfo, FleetError
from fleet.control_client import HttpControlClient
from fleet.layout import FleetLayout, write_private
from fleet.ports import allocate_port
from fleet.rpc import SupervisorRPC
from fleet.supervisor_conf import (
    TELEGRAM_PROGRAM,
    program_conf,
    supervisord_conf,
    telegram_program_conf,
)
from trading_config.errors import ConfigError
from trading_config.loader import CliOverrides, load_config
from trading_config.paths import PROJECT_ROOT, VAR_DIR_ENV
from trading_config.redaction import scrub

log = structlog.get_logger(__name__)

READY_TIMEOUT_SECONDS = 60.0
NOT_LOADED = "NOT_LOADED"


class FleetManager:
    """:class:`fleet.api.Fleet` over supervisord and the database."""

    def __init__(self, var_dir: Path | None = None, *, database_url: str | None = None) -> None:
        self.layout = FleetLayout(var_dir) if var_dir is not None else FleetLayout.default()
        self._database_url = database_url
        self._rpc: SupervisorRPC | None = None

    # --- supervisord -----------------------------------------------------------------------

    @property
    def rpc(self) -> SupervisorRPC:
        if self._rpc is None:
            self._rpc = SupervisorRPC(self.layout, self.layout.rpc_password())
        return self._rpc

    async def up(self) -> None:
        """Write supervisord's config, start it if it is not running, reconcile the registry."""
        self.layout.prepare()
        write_private(
            self.layout.config_file, supervisord_conf(self.layout, self.layout.rpc_password())
        )
        if not await self.rpc.alive():
            await self._start_supervisord()
        await self.reconcile()

    async def _start_supervisord(self) -> None:
        env = dict(os.environ)
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
        """Stop every bot gracefully (each cancels its orders), then supervisord itself."""
        if not await self.rpc.alive():
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
        """Load every bot program file supervisord does not know; statuses into the database."""
        await self.rpc.call("reloadConfig")
        loaded = {info["name"] for info in await self.rpc.call("getAllProcessInfo")}
        for program in sorted(self.layout.programs_dir.glob("*.conf")):
            name = program.stem
            if name not in loaded:
                await self.rpc.call("addProcessGroup", name)
                log.info("bot program loaded into supervisord", program=name)
        await self._set_statuses()

    # --- bots ------------------------------------------------------------------------------

    async def list_bots(self) -> list[BotInfo]:
        processes = {info["name"]: info for info in await self.rpc.call("getAllProcessInfo")}
        rows = await self._bot_rows()
        names = sorted(
            {row.name for row in rows if row.supervisor_program}
            | {name.removeprefix("bot-") for name in processes if name.startswith("bot-")}
        )
        by_name = {row.name: row for row in rows}
        return [
            self._info(name, by_name.get(name), processes.get(self.layout.program_name(name)))
            for name in names
        ]

    async def status(self, name: str) -> BotInfo:
        for info in await self.list_bots():
            if info.name == name:
                return info
        raise FleetError(f"no bot named {name!r} in the fleet (see `python -m fleet list`)")

    async def launch(self, config_path: str, account: str | None = None) -> BotInfo:
        path = _absolute(config_path)
        try:
            config = load_config(path, cli=CliOverrides(account=account))
        except ConfigError as exc:
            raise FleetError(f"{config_path}: invalid config: " + "; ".join(exc.problems)) from None
        name = config.name
        program = self.layout.program_name(name)
        processes = {info["name"]: info for info in await self.rpc.call("getAllProcessInfo")}
        if processes.get(program, {}).get("statename") in ("RUNNING", "STARTING"):
            raise FleetError(f"bot {name!r} is already running (stop it first)")
        token = new_token()
        async with self._transaction() as session:
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
        write_private(self.layout.token_file(name), token)
        write_private(
            self.layout.program_file(name),
            program_conf(self.layout, name, path, port, token, account),
        )
        await self.rpc.call("reloadConfig")
        if program in processes:
            await self.rpc.call("removeProcessGroup", program)
        await self.rpc.call("addProcessGroup", program)  # autostart=true starts it
        await self._wait_ready(name, port, token)
        log.info("bot launched", bot=name, port=port, config=str(path))
        return await self.status(name)

    async def _wait_ready(self, name: str, port: int, token: str) -> None:
        client = HttpControlClient(name, port, token)
        program = self.layout.program_name(name)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            info = await self.rpc.call("getProcessInfo", program)
            if info["statename"] == "RUNNING" and await client.health():
                return
            if info["statename"] in ("FATAL", "EXITED", "BACKOFF"):
                raise FleetError(f"{name} failed to start:\n{await self.logs(name, 20)}")
            await asyncio.sleep(0.2)
        raise FleetError(
            f"{name} did not answer on its control API within {READY_TIMEOUT_SECONDS:g} s"
        )

    async def stop(self, name: str, *, close_positions: bool = False) -> BotInfo:
        info = await self.status(name)
        if close_positions and info.running:
            closed = await self.control(name).post("close-all")
            log.info("positions closed before stopping", bot=name, closed=closed)
        if info.state in ("RUNNING", "STARTING", "BACKOFF"):
            try:
                await self.rpc.call("stopProcess", self.layout.program_name(name), True)
            except xmlrpc.client.Fault as fault:
                raise FleetError(
                    f"{name}: supervisord could not stop it: {fault.faultString}"
                ) from None
        await self._set_statuses()
        return await self.status(name)

    async def restart(self, name: str) -> BotInfo:
        info = await self.stop(name)
        if info.config_path is None or info.control_port is None:
            raise FleetError(f"{name}: not launched by the fleet (no program file)")
        await self.rpc.call("startProcess", self.layout.program_name(name), True)
        await self._wait_ready(name, info.control_port, self._token(name))
        return await self.status(name)

    async def logs(self, name: str, lines: int = 50) -> str:
        path = self.layout.bot_log(name)
        if not path.exists():
            raise FleetError(f"no log for {name!r} yet")
        text = await asyncio.to_thread(_tail, path, lines)
        return scrub(text)

    def control(self, name: str) -> HttpControlClient:
        port = self._port_from_program(name)
        return HttpControlClient(name, port, self._token(name))

    async def start_telegram(self, token: str, api_base_url: str | None = None) -> str:
        """Run the Telegram service under supervisord (its token kept in a 0600 file)."""
        if not token:
            raise FleetError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather first")
        path = self.layout.programs_dir / f"{TELEGRAM_PROGRAM}.conf"
        write_private(path, telegram_program_conf(self.layout, token, api_base_url))
        await self.rpc.call("reloadConfig")
        loaded = {info["name"] for info in await self.rpc.call("getAllProcessInfo")}
        if TELEGRAM_PROGRAM in loaded:
            await self.rpc.call("stopProcess", TELEGRAM_PROGRAM, True)
            await self.rpc.call("removeProcessGroup", TELEGRAM_PROGRAM)
        await self.rpc.call("addProcessGroup", TELEGRAM_PROGRAM)
        info = await self.rpc.call("getProcessInfo", TELEGRAM_PROGRAM)
        return str(info["statename"])

    # --- internals -------------------------------------------------------------------------

    def _token(self, name: str) -> str:
        try:
            return self.layout.token_file(name).read_text().strip()
        except OSError:
            raise FleetError(f"{name}: no control token (was it launched by the fleet?)") from None

    def _port_from_program(self, name: str) -> int:
        try:
            text = self.layout.program_file(name).read_text()
        except OSError:
            raise FleetError(f"no bot named {name!r} in the fleet") from None
        marker = "--control-api-port "
        return int(text.split(marker, 1)[1].split()[0])

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
        """The registry's status column follows supervisord's view of each bot program."""
        processes = {info["name"]: info for info in await self.rpc.call("getAllProcessInfo")}
        async with self._transaction() as session:
            programs = await session.scalars(select(Bot).where(Bot.supervisor_program.is_not(None)))
            for bot in programs:
                state = processes.get(bot.supervisor_program or "", {}).get("statename")
                status = _registry_status(state)
                if status is not None and bot.status != status:
                    bot.status = status

    def _info(self, name: str, row: Bot | None, process: dict[str, Any] | None) -> BotInfo:
        state = process["statename"] if process else NOT_LOADED
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
        return BotInfo(
            name=name,
            state=state,
            pid=pid,
            uptime_seconds=uptime,
            strategy=strategy,
            config_path=row.config_path if row is not None else None,
            account=account,
            control_port=row.control_port if row is not None else None,
        )


def _registry_status(state: str | None) -> str | None:
    return {
        "RUNNING": "running",
        "STARTING": "starting",
        "STOPPING": "stopping",
        "STOPPED": "stopped",
        "EXITED": "stopped",
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
