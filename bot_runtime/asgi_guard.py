"""An ASGI middleware that ends an unexpected exception as a logged 500 with a generic body.

A 500 handler registered on a FastAPI app alone is not enough: Starlette's
ServerErrorMiddleware re-raises after answering, so the server would log the traceback again
outside structlog (and ``httpx.ASGITransport`` would raise in tests). Both HTTP services of the
project - a bot's control API and the funding-rate service - answer through this one guard,
each with its own error body.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)


class InternalErrorGuard:
    """``app.add_middleware(InternalErrorGuard, service="control API", answer=make_500)``."""

    def __init__(self, app: ASGIApp, *, service: str, answer: Callable[[], Response]) -> None:
        self.app = app
        self.service = service
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception(
                f"{self.service} request failed",
                method=scope.get("method"),
                path=scope.get("path"),
            )
            if response_started:  # too late for a 500; let the server drop the connection
                raise
            await self.answer()(scope, receive, send)
