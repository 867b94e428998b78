"""The per-bot control API over HTTP: FastAPI on the loopback interface, bearer-token protected.

Why it looks like this:

* **A thin translation layer.** Everything the API shows or changes goes through
  :class:`bot_runtime.control.BotControl`; this module only maps requests to those calls and
  results/errors to responses, so the same HTTP tests run against a test double and the runtime.
* **One contract.** Every answer is a model of :mod:`bot_runtime.control_models`, declared as
  the route's ``response_model`` (so the OpenAPI document is exact) and parsed back by the
  fleet's client; every non-2xx answer is an :class:`~bot_runtime.control_models.ErrorBody`:
  ``{"error": <ErrorKind>, "message": <one readable line>, ...}`` (validation failures add
  ``problems``: one ``"location: reason"`` string each), whether it comes from the bot
  (:class:`~bot_runtime.control.ControlError`), from FastAPI (validation, unknown path, wrong
  method) or from a bug (500, logged, text never sent back). Telegram commands and the fleet
  CLI print ``message`` as is, and decide on ``error``, never on the wording.
* **Money stays exact.** The models hold ``Decimal`` and serialize it as a JSON string (prices
  and sizes with every digit, quote-currency amounts at the currency's precision), never a
  float. Error details are rendered by :class:`ControlJSONResponse`, which does the same for
  the ``Decimal`` values a bot puts there.
* **Authentication before anything else.** The token is checked before the request body is read
  or validated, so an unauthenticated caller learns nothing but 401; it is never echoed.
* **Bounded input.** A request body over :data:`MAX_BODY_BYTES` is answered 413 before anything
  parses it (:class:`_BodySizeLimit`: the declared ``Content-Length`` and the bytes actually
  streamed are both counted); an authenticated body nested deeper than
  :data:`networking.json_codec.MAX_DEPTH` is answered 400 before the JSON parser recurses into it.
  A 100,000-deep body once segfaulted the bot (py_ecc had raised the recursion limit).
* **No third-party scripts.** FastAPI's /docs and /redoc pages load JavaScript and CSS from a
  public CDN; they are off (``create_app(docs=True)`` turns them on for local development). The
  OpenAPI document itself stays at /openapi.json.
* **The bot owns the process.** :func:`serve` runs uvicorn as a task in the bot's event loop,
  on loopback only, without touching SIGINT/SIGTERM (see :class:`_TaskServer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import enum
import ipaddress
import json
import uuid
from collections.abc import Callable, Coroutine, Generator, Mapping, Sequence
from socket import socket
from typing import Annotated, Any

import structlog
import uvicorn
from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot_runtime.asgi_guard import InternalErrorGuard
from bot_runtime.control import BotControl, ControlError
from bot_runtime.control_auth import is_token_hash, verify_token
from bot_runtime.control_models import (
    MAX_TRADES_PER_PAGE,
    BalanceView,
    BotStats,
    BotStatus,
    CloseAllResult,
    CloseRequest,
    CloseResult,
    ErrorBody,
    ErrorKind,
    Health,
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
    TradesPage,
)
from bot_runtime.event_stream import EngineControl
from bot_runtime.event_stream_route import serve_stream
from bot_runtime.strict_query import refuse_unknown_query
from core.redaction import redact, scrub
from networking.json_codec import JSONTooDeep, check_depth

log = structlog.get_logger(__name__)

API_TITLE = "perpfleet bot control API"
API_VERSION = "1"
API_PREFIX = "/api/v1"
INTERNAL_ERROR_MESSAGE = "internal error; see the bot's log"

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body accepted; real requests are a few dozen bytes."""

# How long a graceful stop waits for in-flight requests before cancelling them.
GRACEFUL_SHUTDOWN_SECONDS = 5
# How long serve() waits for uvicorn to bind and start.
STARTUP_TIMEOUT_SECONDS = 10.0


# --------------------------------------------------------------------------------------------
# JSON rendering


def _json_default(value: object) -> object:
    """Render what :mod:`json` cannot: exact decimals, ISO datetimes, enum values."""
    if isinstance(value, decimal.Decimal):
        # "f" keeps every digit and never switches to exponent notation ("1E+2" -> "100").
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    raise TypeError(f"cannot render a {type(value).__name__} as JSON")


def render_json(content: Any) -> bytes:
    """The control API's JSON: compact UTF-8, money as exact strings, no NaN/Infinity floats."""
    return json.dumps(
        content,
        default=_json_default,
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    ).encode("utf-8")


class ControlJSONResponse(JSONResponse):
    """JSONResponse rendering ``Decimal`` as strings (never floats) and datetimes as ISO 8601."""

    def render(self, content: Any) -> bytes:
        return render_json(content)


# --------------------------------------------------------------------------------------------
# Request and response models (also the OpenAPI document)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


_UNAUTHORIZED = _error("Missing or invalid bearer token (`WWW-Authenticate: Bearer`)")
_INTERNAL = _error("Unexpected failure inside the bot; details are in its log only")
_REFUSED = _error("The bot refuses the action in its current state")
_NOT_FOUND = _error("No open position with this id")
_NEEDS_CONFIRMATION = _error("Risky (e.g. wide spread): repeat with confirm=true")
_INVALID = _error("The request (or, for a reload, the config file) does not validate")
_CONFLICT = _error("The bot's state does not allow it (kill switch engaged, stopping)")


# --------------------------------------------------------------------------------------------
# Errors -> responses


_KINDS_BY_STATUS = {
    400: ErrorKind.BAD_REQUEST,
    401: ErrorKind.UNAUTHORIZED,
    404: ErrorKind.NOT_FOUND,
    405: ErrorKind.METHOD_NOT_ALLOWED,
    409: ErrorKind.NEEDS_CONFIRMATION,
    413: ErrorKind.CONTENT_TOO_LARGE,
    422: ErrorKind.INVALID_REQUEST,
    500: ErrorKind.INTERNAL_ERROR,
}


def _kind_for_status(status_code: int) -> ErrorKind:
    return _KINDS_BY_STATUS.get(status_code, ErrorKind.HTTP_ERROR)


def _error_response(
    status_code: int,
    kind: ErrorKind,
    message: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ControlJSONResponse:
    body: dict[str, Any] = {"error": kind.value, "message": scrub(message)}
    for key, value in redact(dict(extra or {})).items():
        body.setdefault(key, value)  # details never overwrite error/message
    return ControlJSONResponse(body, status_code=status_code, headers=headers)


def _internal_error_response() -> ControlJSONResponse:
    return _error_response(500, ErrorKind.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE)


async def _on_control_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)
    return _error_response(exc.status_code, exc.kind, exc.message, exc.details)


def describe_problem(error: Mapping[str, Any]) -> str:
    """One readable line for a pydantic/FastAPI validation error: ``"body.mode: reason"``."""
    loc: Sequence[Any] = error.get("loc") or ()
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        position = f" at character {loc[1]}" if len(loc) > 1 else ""
        return f"body: invalid JSON{position}: {reason}"
    where = ".".join(str(part) for part in loc)
    reason = str(error.get("msg") or "invalid value")
    return f"{where}: {reason}" if where else reason


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [describe_problem(error) for error in exc.errors()]
    count = len(problems)
    message = f"the request does not validate ({count} problem{'s' if count != 1 else ''})"
    return _error_response(422, ErrorKind.INVALID_REQUEST, message, {"problems": problems})


async def _on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = _kind_for_status(exc.status_code)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = (
            "no such endpoint (see /openapi.json)"  # the path is not echoed: it may hold anything
        )
    else:
        message = exc.detail if isinstance(exc.detail, str) else kind.value.replace("_", " ")
    return _error_response(exc.status_code, kind, message, headers=exc.headers)


async def _on_unexpected_error(request: Request, exc: Exception) -> Response:
    """Backstop for Starlette's ServerErrorMiddleware; :class:`_InternalErrorGuard` runs first."""
    log.error(
        "control API request failed",
        method=request.method,
        path=request.url.path,
        exc_info=exc,
    )
    return _internal_error_response()


class _BodyTooLarge(Exception):
    """The client sent more than :data:`MAX_BODY_BYTES`."""


class _BodySizeLimit:
    """ASGI middleware: a body over ``limit`` bytes is answered 413 and never reaches the app.

    ``Content-Length`` is checked first (no byte read); a chunked or lying client is caught by
    reading the body here, counting what arrives, and replaying it to the app once complete.
    Bodies are small, so holding one in memory costs nothing; the limit bounds what a caller
    can make the bot buffer or parse, authenticated or not.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # disconnected mid-body
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _error_response(
            413,
            ErrorKind.CONTENT_TOO_LARGE,
            f"request body larger than {self.limit} bytes refused",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


# --------------------------------------------------------------------------------------------
# Authentication


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="opaque token",
    description="The bot's control token: `Authorization: Bearer <token>`.",
)


def _unauthorized(message: str) -> StarletteHTTPException:
    return StarletteHTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def _make_authenticator(token_hash: str) -> Callable[[str | None], None]:
    def authenticate(authorization: str | None) -> None:
        """Raise 401 unless ``authorization`` is ``Bearer <the token>``. Never echoes it."""
        scheme, _, credentials = (authorization or "").partition(" ")
        credentials = credentials.strip()
        if not scheme or not credentials:
            raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
        if scheme.lower() != "bearer":
            raise _unauthorized("unsupported authorization scheme; use Bearer")
        if not verify_token(credentials, token_hash):
            raise _unauthorized("invalid bearer token")

    return authenticate


def _authenticated_route_class(authenticate: Callable[[str | None], None]) -> type[APIRoute]:
    """An APIRoute that checks the token before FastAPI reads or validates the body.

    FastAPI parses the JSON body before it solves dependencies, so a dependency alone would
    answer an unauthenticated request with malformed JSON by 422, describing the body.
    """

    class AuthenticatedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def authenticated_handler(request: Request) -> Response:
                authenticate(request.headers.get("Authorization"))
                try:
                    check_depth(await request.body())  # cached: the handler reads it again
                except JSONTooDeep as exc:
                    raise StarletteHTTPException(400, detail=f"request body: {exc}") from None
                return await handler(request)

            return authenticated_handler

    return AuthenticatedRoute


# --------------------------------------------------------------------------------------------
# The app


def create_app(
    control: BotControl,
    token_hash: str,
    *,
    docs: bool = False,
    engine: EngineControl | None = None,
) -> FastAPI:
    """The control API of one bot, serving ``control``; requests must carry the hashed token.

    ``docs`` serves FastAPI's /docs and /redoc pages, which load their scripts from a public
    CDN: for a developer's machine only, never a bot holding money.

    ``engine`` adds the live event stream (WebSocket ``/api/v1/stream``, see
    :mod:`bot_runtime.event_stream_route`) and the engine-style controls ``POST /start`` and
    ``POST /kill``; the runtime always passes one.
    """
    if not is_token_hash(token_hash):
        raise ValueError(
            "token_hash must look like 'sha256:<64 hex digits>' (see control_auth.hash_token)"
        )
    authenticate = _make_authenticator(token_hash)

    async def require_token(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        # Declares the bearer scheme in OpenAPI; also re-checks, should a route ever be added
        # to the router without the authenticated route class.
        authenticate(request.headers.get("Authorization"))

    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "Inspect and steer one running perpfleet bot. Served on 127.0.0.1 only; every "
            "/api/v1 route needs `Authorization: Bearer <token>`. Money values are JSON strings "
            "holding exact decimals; times are ISO 8601 (UTC)."
        ),
        default_response_class=ControlJSONResponse,
        generate_unique_id_function=lambda route: route.name,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.add_middleware(InternalErrorGuard, service="control API", answer=_internal_error_response)
    app.add_middleware(_BodySizeLimit)  # added last: the outermost, before anything reads
    app.add_exception_handler(ControlError, _on_control_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected_error)

    @app.get("/health", response_model=Health, tags=["health"], summary="Liveness (no auth)")
    async def health() -> Health:
        """Answers as long as the process and its event loop are alive."""
        return Health(status="ok")

    api = APIRouter(
        prefix=API_PREFIX,
        # the token first: a stranger learns nothing about the parameters (strict_query)
        dependencies=[Depends(require_token), Depends(refuse_unknown_query)],
        route_class=_authenticated_route_class(authenticate),
        responses={401: _UNAUTHORIZED, 500: _INTERNAL},
    )

    # -- reading -----------------------------------------------------------------------------

    @api.get("/status", response_model=BotStatus, tags=["read"], summary="Bot status")
    async def status() -> BotStatus:
        """name, strategy, state (running/paused/stopping), uptime_seconds, equity, venues."""
        return await control.status()

    @api.get(
        "/positions", response_model=list[PositionView], tags=["read"], summary="Open positions"
    )
    async def positions() -> list[PositionView]:
        """id, venue, symbol, side, size, entry_price, mark_price, pnl ... per position."""
        return await control.positions()

    @api.get("/orders", response_model=list[OrderView], tags=["read"], summary="Resting orders")
    async def orders() -> list[OrderView]:
        """client_order_id, venue, symbol, side, size, price, status per order."""
        return await control.orders()

    @api.get(
        "/balances", response_model=list[BalanceView], tags=["read"], summary="Balances per venue"
    )
    async def balances() -> list[BalanceView]:
        """wallet, equity, available, margin_used, unrealized_pnl per venue."""
        return await control.balances()

    @api.get("/pnl", response_model=Pnl, tags=["read"], summary="Profit and loss")
    async def pnl() -> Pnl:
        """realized, unrealized, funding, fees, net: totals, per venue and per symbol."""
        return await control.pnl()

    @api.get("/stats", response_model=BotStats, tags=["read"], summary="Performance")
    async def stats() -> BotStats:
        """From the journal: PnL attribution (trading, unrealized, fees, funding), return,
        Sharpe, Sortino, drawdown, trade statistics, exposure, turnover, per venue, per
        symbol and per UTC day; a null statistic has its reason in ``notes``."""
        return await control.stats()

    @api.get("/trades", response_model=TradesPage, tags=["read"], summary="Closed trades")
    async def trades(
        page: Annotated[int, Query(ge=1, description="1-based")] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_TRADES_PER_PAGE)] = 50,
    ) -> TradesPage:
        """Closed trades (FIFO matches of the journal's fills), newest first."""
        return await control.trades(page, per_page)

    @api.get("/config", response_model=RunningConfig, tags=["read"], summary="Running config")
    async def config() -> RunningConfig:
        """The config the bot runs with (configs never hold secrets)."""
        return control.config()

    # -- acting ------------------------------------------------------------------------------

    refused: dict[int | str, dict[str, Any]] = {400: _REFUSED}

    @api.post("/pause", response_model=StateChange, responses=refused, tags=["act"])
    async def pause() -> StateChange:
        """Stop opening positions (resting entries cancelled); management continues."""
        return await control.pause()

    @api.post("/resume", response_model=StateChange, responses=refused, tags=["act"])
    async def resume() -> StateChange:
        """Open positions again after a pause."""
        return await control.resume()

    @api.post(
        "/positions/{position_id}/close",
        response_model=CloseResult,
        responses={
            **refused,
            404: _NOT_FOUND,
            409: _NEEDS_CONFIRMATION,
            422: _INVALID,
        },
        tags=["act"],
    )
    async def close_position(
        position_id: Annotated[str, Path(description="the `id` from GET /api/v1/positions")],
        body: Annotated[CloseRequest | None, Body()] = None,
    ) -> CloseResult:
        """Close one position. A wide spread answers 409 until repeated with confirm=true."""
        request = body if body is not None else CloseRequest()
        return await control.close_position(position_id, request.mode, request.confirm)

    @api.post("/close-all", response_model=CloseAllResult, responses=refused, tags=["act"])
    async def close_all() -> CloseAllResult:
        """Cancel every resting order and close every position at market."""
        return await control.close_all()

    @api.post(
        "/config/reload",
        response_model=ReloadResult,
        responses={**refused, 422: _INVALID},
        tags=["act"],
    )
    async def reload_config() -> ReloadResult:
        """Re-read the config file; when it does not validate, 422 and the old config stays."""
        return await control.reload_config()

    @api.post("/stop", response_model=StateChange, responses=refused, tags=["act"])
    async def stop() -> StateChange:
        """Begin a graceful stop (as on SIGTERM); the process exits shortly after answering."""
        return await control.stop()

    @api.post(
        "/kill-switch/reset",
        response_model=KillResetResult,
        responses={
            400: _error("The request body is not JSON"),
            409: _error(
                "conflict: the kill switch is not engaged; needs_confirmation: the drawdown "
                "that tripped it still holds, repeat with force=true"
            ),
            422: _INVALID,
        },
        tags=["act"],
    )
    async def reset_kill_switch(body: Annotated[KillResetRequest, Body()]) -> KillResetResult:
        """Clear a tripped kill switch: entries are allowed again (audited with the reason)."""
        return await control.reset_kill(body)

    if engine is not None:
        _add_engine_routes(app, api, engine, control, authenticate, refused)
    app.include_router(api)
    return app


def _add_engine_routes(
    app: FastAPI,
    api: APIRouter,
    engine: EngineControl,
    control: BotControl,
    authenticate: Callable[[str | None], None],
    refused: dict[int | str, dict[str, Any]],
) -> None:
    """``/start``, ``/kill`` (HTTP, on the authenticated router) and ``/stream`` (WebSocket:
    it checks the same token itself, in the upgrade request's Authorization header)."""

    @api.post("/start", response_model=StateChange, responses={409: _CONFLICT}, tags=["act"])
    async def start() -> StateChange:
        """Trade (open positions) again after a pause; refused while the kill switch is
        engaged (reset it first) or the bot is stopping."""
        return await engine.start()

    @api.post(
        "/kill",
        response_model=KillSwitchResult,
        responses={**refused, 409: _CONFLICT, 422: _INVALID},
        tags=["act"],
    )
    async def kill(body: Annotated[KillRequest | None, Body()] = None) -> KillSwitchResult:
        """The kill switch: cancel every resting order, close every position at market and
        stop the bot; engaged in its saved risk state, so a restart stays killed until reset."""
        request = body if body is not None else KillRequest()
        return await engine.kill(request.reason)

    async def snapshot() -> dict[str, Any]:
        return (await control.status()).model_dump(mode="json")

    @app.websocket(f"{API_PREFIX}/stream", name="stream")
    async def stream(websocket: WebSocket) -> None:
        """The bot's events as they happen (protocol: bot_runtime.event_stream_route)."""
        await serve_stream(websocket, engine.hub, authenticate, snapshot)


# --------------------------------------------------------------------------------------------
# Serving


class ControlServerError(RuntimeError):
    """The control API server could not start (e.g. the port is taken)."""


class _TaskServer(uvicorn.Server):
    """uvicorn.Server meant to run as one task inside the bot's own event loop.

    Signals: in uvicorn 0.54, ``Server.serve()`` wraps everything in ``capture_signals()``,
    which, on the main thread, replaces the SIGINT/SIGTERM handlers with ``signal.signal`` for
    the server's lifetime, and on exit restores them and then *re-raises* every signal it
    caught. Run inside the bot, that would (a) make the first Ctrl-C/SIGTERM shut the control
    API down while the bot is still cancelling orders, and (b) deliver that signal to the bot a
    second time when the server exits, which the bot reads as "Ctrl-C twice within 2 s: exit
    now", skipping the graceful stop. uvicorn has no Config option for this (``Server.run``/
    ``serve`` always capture), so this subclass makes ``capture_signals`` a no-op: the bot's
    handlers stay installed, and the bot stops the server through :meth:`ControlServer.stop`.

    ``startup`` is extended to set an event, so :func:`serve` waits without polling.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.started_event = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.started_event.set()


class ControlServer:
    """A running control API: the address it is bound to, and a graceful :meth:`stop`."""

    def __init__(
        self, server: uvicorn.Server, task: asyncio.Task[None], host: str, port: int
    ) -> None:
        self._server = server
        self._task = task
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def stop(self) -> None:
        """Stop accepting connections, let in-flight requests finish, then return. Idempotent."""
        self._server.should_exit = True
        await self._task


def require_loopback(host: str) -> None:
    """Raise ValueError unless ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"the control API listens on loopback only (127.0.0.1, ::1 or localhost), not {host!r}"
        )


async def serve(app: ASGIApp, host: str, port: int) -> ControlServer:
    """Start serving ``app`` on ``host:port`` (port 0: any free port) in the running loop.

    Returns once the socket is listening; ``.port`` is the bound port. Raises ValueError for a
    non-loopback host and :class:`ControlServerError` when the server cannot start.
    """
    require_loopback(host)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = _TaskServer(config)

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit:
            # uvicorn answers a failed bind with sys.exit(STARTUP_FAILURE) after logging the
            # OSError. A SystemExit escaping a task is re-raised by the event loop itself and
            # would end the whole bot, so it becomes an ordinary error for serve() to report.
            raise ControlServerError(
                f"control API could not listen on {host}:{port} (port in use? see the log)"
            ) from None

    task = asyncio.create_task(run(), name=f"control-api {host}:{port}")
    started = asyncio.create_task(server.started_event.wait())
    try:
        done, _ = await asyncio.wait(
            {task, started}, timeout=STARTUP_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            task.result()  # raises ControlServerError
            raise ControlServerError("control API server exited during startup")
        if started not in done:
            raise ControlServerError(f"control API did not start within {STARTUP_TIMEOUT_SECONDS}s")
    except BaseException:
        started.cancel()
        server.should_exit = True
        if not task.done():
            task.cancel()
        await asyncio.gather(task, started, return_exceptions=True)
        raise
    bound_port = _bound_port(server.servers[0].sockets)
    return ControlServer(server, task, host, bound_port)


def _bound_port(sockets: Sequence[Any]) -> int:
    port = sockets[0].getsockname()[1]
    assert isinstance(port, int)
    return port


__all__ = [
    "API_PREFIX",
    "INTERNAL_ERROR_MESSAGE",
    "MAX_BODY_BYTES",
    "ControlJSONResponse",
    "ControlServer",
    "ControlServerError",
    "create_app",
    "describe_problem",
    "render_json",
    "require_loopback",
    "serve",
]
