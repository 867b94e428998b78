"""An in-memory fleet behind the :class:`fleet.api.Fleet` protocol, for the Telegram tests.

The real ``fleet.manager.FleetManager`` runs supervisord and real bots (see
``test_fleet_manager.py``); this double keeps the tests of the Telegram side fast and
independent of it. It is honest where the Telegram service can tell: each bot's control API is
the real FastAPI app (:func:`bot_runtime.control_api.create_app`) over the in-memory bot of
``tests/bot_runtime/control_double.py``, reached by the fleet's real client
(:class:`fleet.control_client.HttpControlClient`) through httpx's ASGI transport with a bearer
token, so models, decimal strings, error kinds and messages are the real ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import httpx
from fastapi import FastAPI

from bot_runtime.control import ControlError
from bot_runtime.control_api import create_app
from bot_runtime.control_auth import hash_token, new_token
from bot_runtime.control_models import KillResetRequest, KillResetResult
from fleet.api import BotInfo, ControlClient, ControlRefused, FleetError
from fleet.control_client import HttpControlClient
from tests.bot_runtime.control_double import InMemoryBotControl
from trading_config.loader import load_config


@dataclass
class FakeBot:
    info: BotInfo
    control: InMemoryBotControl
    app: FastAPI
    token: str
    log_lines: list[str] = field(default_factory=list)


class InMemoryFleet:
    """Bots as data; what was asked of the fleet is recorded in :attr:`actions`."""

    def __init__(self) -> None:
        self.bots: dict[str, FakeBot] = {}
        self.actions: list[tuple[str, ...]] = []
        self._pids = itertools.count(4000)
        self._ports = itertools.count(18000)

    def add_bot(
        self,
        name: str,
        *,
        state: str = "RUNNING",
        control: InMemoryBotControl | None = None,
        uptime_seconds: float | None = 3725.0,
        config_path: str | None = None,
        account: str | None = None,
    ) -> FakeBot:
        running = state == "RUNNING"
        token = new_token()
        bot_control = control or InMemoryBotControl(name=name)
        info = BotInfo(
            name=name,
            state=state,
            pid=next(self._pids) if running else None,
            uptime_seconds=uptime_seconds if running else None,
            strategy=bot_control.strategy,
            config_path=config_path or f"configs/{name}.yml",
            account=account,
            control_port=next(self._ports),
        )
        bot = FakeBot(info, bot_control, create_app(bot_control, hash_token(token)), token)
        bot.log_lines = [f"{name} line {i}" for i in range(1, 201)]
        self.bots[name] = bot
        return bot

    def set_state(self, name: str, state: str, *, new_pid: bool = False) -> None:
        bot = self.bots[name]
        pid = bot.info.pid
        if new_pid or (state == "RUNNING" and pid is None):
            pid = next(self._pids)
        bot.info = replace(bot.info, state=state, pid=pid if state == "RUNNING" else None)

    def _bot(self, name: str) -> FakeBot:
        try:
            return self.bots[name]
        except KeyError:
            raise FleetError(f"unknown bot {name!r}: see the bot list") from None

    # -- the Fleet protocol -----------------------------------------------------------------

    async def list_bots(self) -> list[BotInfo]:
        return [bot.info for bot in self.bots.values()]

    async def status(self, name: str) -> BotInfo:
        return self._bot(name).info

    async def launch(self, config_path: str, account: str | None = None) -> BotInfo:
        config = load_config(config_path)
        self.actions.append(("launch", config_path, str(account)))
        existing = self.bots.get(config.name)
        if existing is not None and existing.info.running:
            raise FleetError(f"{config.name} is already running")
        bot = self.add_bot(
            config.name, config_path=config_path, account=account, uptime_seconds=0.0
        )
        return bot.info

    async def stop(self, name: str, *, close_positions: bool = False) -> BotInfo:
        bot = self._bot(name)
        self.actions.append(("stop", name, str(close_positions)))
        if close_positions and bot.info.running:
            await bot.control.close_all()
        self.set_state(name, "STOPPED")
        return bot.info

    async def restart(self, name: str) -> BotInfo:
        self._bot(name)
        self.actions.append(("restart", name))
        self.set_state(name, "RUNNING", new_pid=True)
        return self.bots[name].info

    async def logs(self, name: str, lines: int = 50) -> str:
        return "\n".join(self._bot(name).log_lines[-lines:])

    async def reset_kill(
        self, name: str, reason: str, *, force: bool = False, actor: str | None = None
    ) -> KillResetResult:
        """Like the real fleet: a running bot through its control API, a stopped one directly
        (the real fleet edits its saved state)."""
        bot = self._bot(name)
        self.actions.append(("reset_kill", name, str(force)))
        if bot.info.running:
            return await self.control(name).reset_kill(reason, force=force, actor=actor)
        try:
            return await bot.control.reset_kill(
                KillResetRequest(reason=reason, force=force, actor=actor)
            )
        except ControlError as exc:
            raise ControlRefused(f"{name}: {exc.message}", exc.kind, exc.details) from None

    def control(self, name: str) -> ControlClient:
        bot = self._bot(name)
        if not bot.info.running:
            raise FleetError(f"{name} is not running")
        transport = httpx.ASGITransport(app=bot.app)
        return HttpControlClient(name, 80, bot.token, transport=transport)
