"""An in-memory fleet behind the :class:`fleet.api.Fleet` protocol, for the Telegram tests.

The real ``fleet.manager.FleetManager`` runs supervisord and real bots (see
``test_fleet_manager.py``); this double keeps the tests of the Telegram side fast and
independent of it. It is honest where the Telegram service can tell: each bot's control API is
the real FastAPI app (:func:`bot_runtime.control_api.create_app`) over the in-memory bot of
``tests/bot_runtime/control_double.py``, reached through HTTP (httpx's ASGI transport) with a
bearer token, so JSON shapes, decimal strings and error messages are the real ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from fastapi import FastAPI

from bot_runtime.control_api import create_app
from bot_runtime.control_auth import hash_token, new_token
from fleet.api import BotInfo, ControlClient, FleetError
from tests.bot_runtime.control_double import InMemoryBotControl
from trading_config.loader import load_config


class AsgiControlClient:
    """:class:`fleet.api.ControlClient` over the bot's real control API app, in process."""

    def __init__(self, app: FastAPI, token: str) -> None:
        self._app = app
        self._token = token

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._app),
            base_url="http://bot",
            headers={"Authorization": f"Bearer {self._token}"},
        ) as client:
            response = await client.request(method, f"/api/v1/{path}", json=body)
        payload = response.json()
        if response.status_code >= 400:
            raise FleetError(payload.get("message", f"HTTP {response.status_code}"))
        return payload

    async def get(self, path: str) -> Any:
        return await self._call("GET", path, None)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self._call("POST", path, body)


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

    def control(self, name: str) -> ControlClient:
        bot = self._bot(name)
        if not bot.info.running:
            raise FleetError(f"{name} is not running")
        return AsgiControlClient(bot.app, bot.token)
