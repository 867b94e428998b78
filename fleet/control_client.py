"""A bot's control API as the fleet talks to it: loopback HTTP with the bot's bearer token.

Ports change hands: a bot that found its port taken at bind time listens on another one (and
records it in ``bots.control_port``), and a bot that stopped frees its port for anyone. So the
port is looked up when the client is first used, and before anything else the client checks
that what answers there is the bot it expects (``GET /api/v1/status`` reports the bot's name
and only answers to that bot's token). A port held by something else is then one clear error
naming the port, never a bare 401 or, worse, an action on another bot.

Answers are parsed into the contract's models (:mod:`bot_runtime.control_models`); an error
answer becomes :class:`~fleet.api.ControlRefused` carrying the bot's error kind.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from bot_runtime.control_models import (
    BalanceView,
    BotStats,
    BotStatus,
    CloseAllResult,
    CloseMode,
    CloseRequest,
    CloseResult,
    ErrorBody,
    KillRequest,
    KillResetRequest,
    KillResetResult,
    KillSwitchResult,
    OrderView,
    Pnl,
    PositionView,
    ReloadResult,
    RunningConfig,
    StateChange,
    StreamMessage,
    TradesPage,
)
from fleet.api import ControlRefused, FleetError

TIMEOUT_SECONDS = 30.0

PortSource = Callable[[], Awaitable[int | None]]
T = TypeVar("T")

_STATUS = TypeAdapter(BotStatus)
_POSITIONS = TypeAdapter(list[PositionView])
_ORDERS = TypeAdapter(list[OrderView])
_BALANCES = TypeAdapter(list[BalanceView])
_CONFIG = TypeAdapter(RunningConfig)
_PNL = TypeAdapter(Pnl)
_STATS = TypeAdapter(BotStats)
_TRADES = TypeAdapter(TradesPage)
_STATE = TypeAdapter(StateChange)
_CLOSED = TypeAdapter(CloseResult)
_CLOSED_ALL = TypeAdapter(CloseAllResult)
_RELOADED = TypeAdapter(ReloadResult)
_KILL_RESET = TypeAdapter(KillResetResult)
_KILLED = TypeAdapter(KillSwitchResult)


class HttpControlClient:
    """:class:`fleet.api.ControlClient` over HTTP. ``transport`` replaces the network (tests
    serve the bot's app in process through ``httpx.ASGITransport``)."""

    def __init__(
        self,
        bot: str,
        port: int | PortSource,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._bot = bot
        self._transport = transport
        self._port_source = port
        self._port: int | None = port if isinstance(port, int) else None
        self._headers = {"Authorization": f"Bearer {token}"}
        self._verified = False

    async def port(self) -> int:
        if self._port is None:
            assert not isinstance(self._port_source, int)
            port = await self._port_source()
            if port is None:
                raise FleetError(f"{self._bot}: no control-API port recorded (is it running?)")
            self._port = port
        return self._port

    async def health(self) -> bool:
        try:
            async with httpx.AsyncClient(
                base_url=await self._base(), timeout=2, transport=self._transport
            ) as client:
                return (await client.get("/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def identify(self) -> bool:
        """True when the expected bot answers on the port (False while nothing listens yet)."""
        if not await self.health():
            return False
        await self._verify()
        return True

    # -- the contract ---------------------------------------------------------------------

    async def status(self) -> BotStatus:
        """Also what proves the bot on the port is ours (it checks the name)."""
        status = await self._send("GET", "status", None, _STATUS)
        self._check_name(status)
        return status

    async def positions(self) -> list[PositionView]:
        return await self._request("GET", "positions", None, _POSITIONS)

    async def orders(self) -> list[OrderView]:
        return await self._request("GET", "orders", None, _ORDERS)

    async def balances(self) -> list[BalanceView]:
        return await self._request("GET", "balances", None, _BALANCES)

    async def pnl(self) -> Pnl:
        return await self._request("GET", "pnl", None, _PNL)

    async def stats(self) -> BotStats:
        return await self._request("GET", "stats", None, _STATS)

    async def trades(self, page: int = 1, per_page: int = 50) -> TradesPage:
        return await self._request("GET", f"trades?page={page}&per_page={per_page}", None, _TRADES)

    async def config(self) -> RunningConfig:
        return await self._request("GET", "config", None, _CONFIG)

    async def pause(self) -> StateChange:
        return await self._request("POST", "pause", None, _STATE)

    async def resume(self) -> StateChange:
        return await self._request("POST", "resume", None, _STATE)

    async def close_position(
        self, position_id: str, mode: CloseMode = "market", confirm: bool = False
    ) -> CloseResult:
        path = f"positions/{quote(position_id, safe=':')}/close"
        body = CloseRequest(mode=mode, confirm=confirm).model_dump()
        return await self._request("POST", path, body, _CLOSED)

    async def close_all(self) -> CloseAllResult:
        return await self._request("POST", "close-all", None, _CLOSED_ALL)

    async def reload_config(self) -> ReloadResult:
        return await self._request("POST", "config/reload", None, _RELOADED)

    async def stop(self) -> StateChange:
        return await self._request("POST", "stop", None, _STATE)

    async def reset_kill(
        self, reason: str, *, force: bool = False, actor: str | None = None
    ) -> KillResetResult:
        body = KillResetRequest(reason=reason, force=force, actor=actor).model_dump()
        return await self._request("POST", "kill-switch/reset", body, _KILL_RESET)

    async def start(self) -> StateChange:
        """Trade again after a pause (refused while the kill switch is engaged)."""
        return await self._request("POST", "start", None, _STATE)

    async def kill(self, reason: str | None = None) -> KillSwitchResult:
        """The kill switch: cancel, flatten, stop."""
        body = (KillRequest() if reason is None else KillRequest(reason=reason)).model_dump()
        return await self._request("POST", "kill", body, _KILLED)

    async def stream(self, since: int | None = None) -> AsyncGenerator[StreamMessage, None]:
        """The bot's live events (``/api/v1/stream``), from ``since`` when given, until the
        bot closes the stream (a reconnect resumes with the last ``seq`` seen)."""
        import websockets  # only a client that streams pays for it

        await self._verify()
        query = "" if since is None else f"?since={since}"
        url = f"ws://127.0.0.1:{await self.port()}/api/v1/stream{query}"
        async with websockets.connect(url, additional_headers=self._headers) as connection:
            async for raw in connection:
                yield StreamMessage.model_validate_json(raw)

    # -- HTTP -------------------------------------------------------------------------------

    async def _base(self) -> str:
        return f"http://127.0.0.1:{await self.port()}"

    async def _verify(self) -> None:
        if self._verified:
            return
        self._check_name(await self._send("GET", "status", None, _STATUS))

    def _check_name(self, status: BotStatus) -> None:
        if status.name != self._bot:
            raise FleetError(
                f"{self._bot}: 127.0.0.1:{self._port} answers as bot {status.name!r}, not "
                f"{self._bot!r}: the port changed hands (see `python -m fleet status {self._bot}`)"
            )
        self._verified = True

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        shape: TypeAdapter[T],
    ) -> T:
        await self._verify()
        return await self._send(method, path, body, shape)

    async def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        shape: TypeAdapter[T],
    ) -> T:
        url = f"/api/v1/{path}"
        base = await self._base()
        try:
            async with httpx.AsyncClient(
                base_url=base,
                headers=self._headers,
                timeout=TIMEOUT_SECONDS,
                transport=self._transport,
            ) as client:
                response = await client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise FleetError(
                f"{self._bot}: control API unreachable on {base} ({type(exc).__name__})"
            ) from None
        if response.status_code == 401:
            raise FleetError(
                f"{self._bot}: the process on {base.removeprefix('http://')} refused "
                f"{self._bot}'s token: it is not {self._bot} (another process holds the port) "
                f"or {self._bot} was started outside the fleet"
            )
        if response.status_code >= 400:
            raise self._refused(response)
        return _parse(shape, response.content, self._bot, path)

    def _refused(self, response: httpx.Response) -> FleetError:
        try:
            error = ErrorBody.model_validate_json(response.content)
        except ValidationError:
            return FleetError(f"{self._bot}: HTTP {response.status_code} from the control API")
        details = dict(error.model_extra or {})
        if error.problems:
            details["problems"] = error.problems
        message = f"{self._bot}: {error.message} (HTTP {response.status_code})"
        return ControlRefused(message, error.error, details)


def _parse(shape: TypeAdapter[T], content: bytes, bot: str, path: str) -> T:
    """The answer as the contract's model; an answer that is not is one FleetError."""
    try:
        return shape.validate_json(content)
    except ValidationError as exc:
        raise FleetError(
            f"{bot}: the control API's answer to {path} is not what this version expects "
            f"({exc.error_count()} problem(s)): is the bot running another version?"
        ) from None
