"""The dashboard's FastAPI application: pages, the live event relay, and the controls.

Order of checks on every state-changing request (POST): a session (else 401), the same-origin
``Origin`` when the browser sends one, the session's CSRF token (else 403, nothing done), the
role the control needs (:data:`dashboard.roles.CONTROLS`, else 403), then the action, then the
audit row (``dashboard.bot.<action>``, actor ``dashboard:<name>``), as Telegram's actions are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.tasks import TaskSupervisor
from dashboard import auth, data, pages, records, sampler
from dashboard.auth import User
from dashboard.funding import FundingUnavailable
from dashboard.relay import Event
from dashboard.roles import Role, required_role
from dashboard.services import DashboardServices
from database.models import AuditLogEntry
from database.repositories import dashboard_users as repo
from fleet.api import ControlRefused, FleetError, FleetUserError, NoSuchBot
from fleet.control_client import HttpControlClient

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
KEEPALIVE_SECONDS = 15.0
MAX_BODY = 16 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


NO_USERS = (
    "No dashboard user yet: add the first admin on the server with "
    "`python -m dashboard users add NAME --role admin`"
)


class NeedsLogin(Exception):
    """A page asked for without a session: redirect to the login form."""


def create_app(services: DashboardServices) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = TaskSupervisor("dashboard")
        if services.sample_seconds > 0:
            tasks.spawn(sampler.run(services, services.sample_seconds), name="equity sampler")
        try:
            yield
        finally:
            await tasks.aclose()
            await services.relay.close()
            if services.controls is not None:
                await services.controls.close()

    app = FastAPI(
        title="perpfleet dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NeedsLogin)
    async def to_login(request: Request, exc: NeedsLogin) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_html(request):
            user = await auth.current_user(services, request)
            return HTMLResponse(
                pages.error_page(user, f"HTTP {exc.status_code}", str(exc.detail)),
                status_code=exc.status_code,
            )
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    async def page_user(request: Request) -> User:
        user = await auth.current_user(services, request)
        if user is None:
            raise NeedsLogin()
        return user

    async def api_user(request: Request) -> User:
        user = await auth.current_user(services, request)
        if user is None:
            raise HTTPException(401, detail="log in first")
        return user

    async def posting_user(request: Request, presented: str | None) -> User:
        user = await api_user(request)
        _same_origin(request)
        auth.check_csrf(user, presented)
        return user

    # -- login -------------------------------------------------------------------------------

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse)
    async def login_form() -> Response:
        users = await services.transaction(repo.list_users)
        return _login_response("" if users else NO_USERS)

    def _login_response(error: str, status: int = 200, retry_after: float = 0) -> Response:
        token = secrets.token_urlsafe(24)
        response = HTMLResponse(pages.login_page(token, error), status_code=status)
        response.set_cookie(
            auth.LOGIN_CSRF_COOKIE,
            token,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=services.secure_cookies,
            path="/login",
        )
        if retry_after:
            response.headers["Retry-After"] = str(int(retry_after) + 1)
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        cookie = request.cookies.get(auth.LOGIN_CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(form.get("csrf", ""), cookie):
            return _login_response("the form expired: log in again", 403)
        address = request.client.host if request.client else "unknown"
        try:
            token, _ = await auth.log_in(
                services, form.get("name", ""), form.get("password", ""), address
            )
        except auth.LoginRefused as exc:
            status = 429 if exc.retry_after else 401
            return _login_response(str(exc), status, exc.retry_after)
        response = RedirectResponse("/", status_code=303)
        auth.set_session_cookie(response, token, services)
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        form = await _form(request)
        user = await posting_user(request, form.get("csrf"))
        await auth.log_out(services, user)
        response = RedirectResponse("/login", status_code=303)
        auth.clear_session_cookie(response, services)
        return response

    # -- pages -------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def overview(request: Request) -> str:
        user = await page_user(request)
        rows, guard, funding_ok = await asyncio.gather(
            data.overview(services), data.guard_text(services), services.funding.healthy()
        )
        configs = sorted(p.name for p in services.configs_dir.glob("*.yml"))
        return pages.overview_page(user, rows, guard, funding_ok, configs)

    @app.get("/bots/{name}", response_class=HTMLResponse)
    async def bot(
        request: Request, name: str, page: int = 1, symbol: str = "", venue: str = ""
    ) -> str:
        user = await page_user(request)
        try:
            detail = await data.bot_detail(services, name, max(page, 1))
        except NoSuchBot as exc:
            raise HTTPException(404, detail=str(exc)) from None
        return pages.bot_page(user, detail, symbol=symbol, venue=venue, page=max(page, 1))

    @app.get("/compare", response_class=HTMLResponse)
    async def compare(request: Request) -> str:
        user = await page_user(request)
        items, signal_rows = await asyncio.gather(
            data.comparison(services), services.transaction(records.signal_strategies)
        )
        return pages.compare_page(user, items, signal_rows)

    @app.get("/signals", response_class=HTMLResponse)
    async def signals(request: Request, bot: str = "") -> str:
        user = await page_user(request)

        async def read(session: AsyncSession) -> list[Any]:
            return await records.signals(session, bot)

        return pages.signals_page(user, await services.transaction(read), bot)

    @app.get("/backtests", response_class=HTMLResponse)
    async def backtests(request: Request) -> str:
        user = await page_user(request)
        return pages.backtests_page(user, await services.transaction(records.backtest_runs))

    @app.get("/backtests/{run_id}", response_class=HTMLResponse)
    async def backtest(request: Request, run_id: int) -> str:
        user = await page_user(request)

        async def read(session: AsyncSession) -> records.BacktestReport | None:
            return await records.backtest_report(session, run_id)

        report = await services.transaction(read)
        if report is None:
            raise HTTPException(404, detail=f"no backtest run {run_id}")
        return pages.backtest_page(user, report)

    @app.get("/funding", response_class=HTMLResponse)
    async def funding(request: Request) -> str:
        user = await page_user(request)
        try:
            rates, opportunities = await asyncio.gather(
                services.funding.get("/api/v1/rates"),
                services.funding.get("/api/v1/opportunities"),
            )
        except FundingUnavailable as exc:
            return pages.funding_page(user, [], None, str(exc))
        return pages.funding_page(user, rates, opportunities, "")

    @app.get("/funding/spread", response_class=HTMLResponse)
    async def spread(request: Request, symbol: str, long: str, short: str) -> str:
        user = await page_user(request)
        title = f"{symbol}: long {long}, short {short}"
        try:
            chart = await services.funding.get(
                "/api/v1/charts/spread",
                {"symbol": symbol, "long_venue": long, "short_venue": short},
            )
        except FundingUnavailable as exc:
            return pages.spread_page(user, None, title, str(exc))
        return pages.spread_page(user, chart, title, "")

    @app.get("/audit", response_class=HTMLResponse)
    async def audit_log(request: Request) -> str:
        user = await page_user(request)
        auth.require_role(user, Role.ADMIN, "the audit log")

        async def read(session: AsyncSession) -> list[Any]:
            rows = await session.scalars(
                select(AuditLogEntry).order_by(AuditLogEntry.id.desc()).limit(200)
            )
            return [(r.ts, r.actor, r.action, r.target, r.details) for r in rows]

        return pages.audit_page(user, await services.transaction(read))

    # -- live events -------------------------------------------------------------------------

    @app.get("/events/{name}")
    async def bot_events(request: Request, name: str) -> Response:
        await api_user(request)
        await _known_bot(name)
        since = _last_event_id(request)
        return _sse(_one(name, since))

    @app.get("/events")
    async def fleet_events(request: Request) -> Response:
        await api_user(request)
        names = [b.name for b in await services.fleet.list_bots() if b.running]
        return _sse(_merged(names))

    async def _one(name: str, since: int | None) -> AsyncIterator[Event | None]:
        async with services.relay.subscribe(name, since) as queue:
            while True:
                yield await _next(queue)

    async def _merged(names: list[str]) -> AsyncIterator[Event | None]:
        out: asyncio.Queue[Event] = asyncio.Queue(1000)

        async def forward(name: str) -> None:
            async with services.relay.subscribe(name) as queue:
                while True:
                    event = await queue.get()
                    await out.put(Event(None, event.text))

        tasks = [asyncio.create_task(forward(n)) for n in names]
        try:
            while True:
                yield await _next(out)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- controls ----------------------------------------------------------------------------

    @app.post("/api/v1/bots/{name}/{action}")
    async def control(request: Request, name: str, action: str) -> Response:
        user = await posting_user(request, request.headers.get(auth.CSRF_HEADER))
        needed = required_role(action)
        if needed is None or action == "launch":
            raise HTTPException(404, detail=f"no control {action!r}")
        auth.require_role(user, needed, action)
        body = await _json(request)
        await _known_bot(name)
        try:
            result, details = await _act(name, action, body, user)
        except ControlRefused as exc:
            return JSONResponse(
                {"error": str(exc), "kind": str(exc.kind), "details": exc.details},
                status_code=409,
            )
        except FleetUserError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except FleetError as exc:
            return JSONResponse({"error": str(exc)}, status_code=502)
        await services.audit(user.actor, f"dashboard.bot.{action}", name, details)
        return JSONResponse({"ok": True, "message": result})

    async def _act(
        name: str, action: str, body: dict[str, Any], user: User
    ) -> tuple[str, dict[str, Any]]:
        fleet = services.fleet
        if action == "pause":
            state = await services.control(name).pause()
            return f"{name} is {state.state}", {}
        if action == "resume":
            state = await services.control(name).resume()
            return f"{name} is {state.state}", {}
        if action == "stop":
            close = _flag(body, "close_positions")
            info = await fleet.stop(name, close_positions=close)
            return f"{name} is {info.display_state}", {"close_positions": close}
        if action == "kill":
            if body.get("confirm") != name:
                raise HTTPException(
                    400, detail=f"kill: confirm by sending the bot's name ({name!r})"
                )
            client = services.control(name)
            if not isinstance(client, HttpControlClient):
                raise HTTPException(501, detail="kill: this fleet's bots have no kill switch")
            killed = await client.kill(f"from the dashboard by {user.name}")
            listed = ", ".join(killed.closed_positions) or "none"
            verdict = "" if killed.complete else " - INCOMPLETE, see the bot's log"
            return f"{name} killed: positions closed: {listed}; {killed.state}{verdict}", {
                "complete": killed.complete,
                "closed_positions": killed.closed_positions,
                "cancelled_orders": len(killed.cancelled_orders),
            }
        if action == "reset-kill":
            reason = str(body.get("reason", "")).strip()
            if len(reason) < 3:
                raise HTTPException(400, detail="reset-kill: a reason of 3+ characters")
            force = _flag(body, "force")
            result = await fleet.reset_kill(name, reason, force=force, actor=user.actor)
            return f"{name}: kill switch cleared ({result.kill_reason})", {
                "reason": reason,
                "force": force,
            }
        if action == "close":
            position = str(body.get("position", ""))
            mode = body.get("mode", "market")
            if mode not in ("market", "limit"):
                raise HTTPException(400, detail="close: mode must be market or limit")
            confirm = _flag(body, "confirm")
            closed = await services.control(name).close_position(position, mode, confirm)
            return f"{position}: closed {closed.closed}", {
                "position": position,
                "mode": mode,
                "confirm": confirm,
            }
        raise HTTPException(404, detail=f"no control {action!r}")

    @app.post("/api/v1/launch")
    async def launch(request: Request) -> Response:
        user = await posting_user(request, request.headers.get(auth.CSRF_HEADER))
        auth.require_role(user, Role.TRADER, "launch")
        body = await _json(request)
        config = str(body.get("config", ""))
        available = {p.name: p for p in services.configs_dir.glob("*.yml")}
        if config not in available:
            raise HTTPException(
                400, detail=f"config {config!r}: expected one of {', '.join(sorted(available))}"
            )
        account = str(body.get("account") or "").strip() or None
        try:
            info = await services.fleet.launch(str(available[config]), account)
        except FleetUserError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except FleetError as exc:
            return JSONResponse({"error": str(exc)}, status_code=502)
        await services.audit(
            user.actor, "dashboard.bot.launch", info.name, {"config": config, "account": account}
        )
        return JSONResponse({"ok": True, "message": f"{info.name} is {info.display_state}"})

    async def _known_bot(name: str) -> None:
        try:
            await services.fleet.status(name)
        except NoSuchBot as exc:
            raise HTTPException(404, detail=str(exc)) from None

    return app


async def _next(queue: asyncio.Queue[Event]) -> Event | None:
    """The next event, or None after :data:`KEEPALIVE_SECONDS` without one."""
    try:
        return await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
    except TimeoutError:
        return None


def _sse(events: AsyncIterator[Event | None]) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async for event in events:
            if event is None:
                yield ": keepalive\n\n"
                continue
            prefix = f"id: {event.seq}\n" if event.seq is not None else ""
            yield f"{prefix}data: {event.text}\n\n"

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query_params.get("since")
    if raw is None or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/events")) and request.method == "GET"


def _same_origin(request: Request) -> None:
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser's cross-site request (those always say)
        return
    if urlsplit(origin).netloc != request.headers.get("Host"):
        raise HTTPException(403, detail="cross-origin request refused")


async def _body(request: Request) -> bytes:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413, detail=f"request body over {MAX_BODY} bytes")
    return raw


async def _form(request: Request) -> dict[str, str]:
    raw = await _body(request)
    parsed = parse_qs(raw.decode(errors="replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


async def _json(request: Request) -> dict[str, Any]:
    raw = await _body(request)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise HTTPException(400, detail="the body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, detail="the body must be a JSON object")
    return body


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise HTTPException(400, detail=f"{key}: expected true or false")
    return value
