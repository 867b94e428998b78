"""Backpack error answers -> our error hierarchy.

Backpack API docs, changelog 2024-10-15 ("Convert all error responses to JSON and add a error
code") and every endpoint's 4xx sample: ``{"code": "<ApiErrorCode>", "message": "<text>"}``.
The codes used here are from the ``ApiErrorCode`` enum of the OpenAPI document
(``INVALID_CLIENT_REQUEST``, ``INVALID_SIGNATURE``, ``UNAUTHORIZED``, ``RESOURCE_NOT_FOUND``,
``INVALID_ORDER``, ``INVALID_PRICE``, ``INVALID_QUANTITY``, ``INVALID_MARKET``,
``INVALID_SYMBOL``, ``INSUFFICIENT_MARGIN``, ``INSUFFICIENT_FUNDS``, ``MAX_LEVERAGE_REACHED``,
``TOO_MANY_REQUESTS``, ``MAINTENANCE``, ``SERVER_ERROR``, ``TRADING_PAUSED``). Several
conditions share ``INVALID_ORDER`` / ``INVALID_CLIENT_REQUEST`` and are told apart by the
message (post-only crossing, reduce-only, expired or badly signed requests), so those checks
look for the distinctive words rather than exact sentences.

Messages name the venue, method and path and the venue's code and text; the venue never
echoes keys or signatures, and neither do we.
"""

from __future__ import annotations

from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyRejected,
    UnknownSymbol,
    VenueUnavailable,
)

AUTH_CODES = frozenset({"INVALID_SIGNATURE", "UNAUTHORIZED", "FORBIDDEN", "INVALID_API_KEY"})
INVALID_ORDER_CODES = frozenset(
    {"INVALID_ORDER", "INVALID_PRICE", "INVALID_QUANTITY", "ORDER_LIMIT", "POSITION_LIMIT"}
)
MARGIN_CODES = frozenset({"INSUFFICIENT_MARGIN", "INSUFFICIENT_FUNDS"})
SYMBOL_CODES = frozenset({"INVALID_MARKET", "INVALID_SYMBOL"})
UNAVAILABLE_CODES = frozenset({"MAINTENANCE", "SERVER_ERROR", "TRADING_PAUSED", "TIMEOUT"})


class BackpackError(ExchangeError):
    """A Backpack answer with no more specific type; ``code`` is the venue's."""

    def __init__(self, code: str, message: str, *, venue: str | None = None) -> None:
        self.code = code
        super().__init__(message, venue=venue)


class RequestExpired(AuthenticationFailed):
    """The request's X-Timestamp fell outside its X-Window on arrival (our clock is off)."""


def parse_error(payload: Any, status: int) -> tuple[str, str]:
    """``(code, message)`` of an error body; ``("HTTP <status>", text)`` if not the shape."""
    if isinstance(payload, dict) and isinstance(payload.get("code"), str):
        return str(payload["code"]), str(payload.get("message", ""))
    return f"HTTP {status}", str(payload)[:200]


def is_expired(code: str, message: str) -> bool:
    lowered = message.lower()
    return code == "INVALID_CLIENT_REQUEST" and ("expired" in lowered or "timestamp" in lowered)


def error_for(status: int, code: str, message: str, *, venue: str, label: str) -> ExchangeError:
    """The exception for one error answer (``label`` = ``METHOD /path``)."""
    text = f"{label}: {code} {message}".strip()
    lowered = message.lower()
    if is_expired(code, message):
        return RequestExpired(
            f"{label}: request expired before it arrived (local clock differs from the venue's "
            "by more than X-Window)",
            venue=venue,
        )
    if (
        code in AUTH_CODES
        or status == 401
        or (code == "INVALID_CLIENT_REQUEST" and ("signature" in lowered or "key" in lowered))
    ):
        return AuthenticationFailed(
            f"{label}: signature or API key rejected ({code}); check api_key/api_secret",
            venue=venue,
        )
    if code == "RESOURCE_NOT_FOUND" or status == 404:
        return OrderNotFound(text, venue=venue)
    if "immediately match" in lowered or "post only" in lowered or "post-only" in lowered:
        return PostOnlyWouldCross(text, venue=venue)
    if "reduce only" in lowered or "reduce-only" in lowered:
        return ReduceOnlyRejected(text, venue=venue)
    if code in MARGIN_CODES:
        return InsufficientMargin(venue=venue, detail=f"{code} {message}".strip())
    if code in SYMBOL_CODES:
        return UnknownSymbol(text, venue=venue)
    if code in INVALID_ORDER_CODES:
        return InvalidOrder(text, venue=venue)
    if code == "TOO_MANY_REQUESTS":
        return RateLimited(text, venue=venue)
    if code in UNAVAILABLE_CODES:
        return VenueUnavailable(text, venue=venue)
    return BackpackError(code, text, venue=venue)
