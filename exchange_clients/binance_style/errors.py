"""Binance-style ``{"code": -XXXX, "msg": "..."}`` answers -> our error hierarchy.

Codes from the "Error Codes" page of Binance USDS-M futures (the same codes Aster documents in
its futures API "Error Codes" section). The venue's message is kept (it never contains our
secrets: the venue does not echo signatures or keys), prefixed with the code so a log line is
enough to look it up.
"""

from __future__ import annotations

from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyRejected,
    RequestTimeout,
    UnknownSymbol,
    VenueUnavailable,
)

AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
NOT_FOUND_CODES = frozenset({-2011, -2013})
INVALID_ORDER_CODES = frozenset(
    {
        -1013,
        -1100,
        -1102,
        -1106,
        -1111,
        -1116,
        -1117,
        -2010,
        -4003,
        -4004,
        -4005,
        -4014,
        -4015,
        -4164,
    }
)
TIMESTAMP_CODE = -1021
TIMEOUT_CODE = -1007
DUPLICATE_CLIENT_ID_CODE = -4116
POST_ONLY_CODE = -5022
REDUCE_ONLY_CODE = -2022
MARGIN_CODE = -2019
LEVERAGE_CODE = -4028
BAD_SYMBOL_CODE = -1121
LISTEN_KEY_MISSING_CODE = -1125


class ClockSkew(ExchangeError):
    """Our request timestamp fell outside the venue's recvWindow even after a time sync."""


class VenueError(ExchangeError):
    """A venue answer we have no more specific type for; ``code`` is the venue's."""

    def __init__(self, code: int, message: str, *, venue: str | None = None) -> None:
        self.code = code
        super().__init__(message, venue=venue)


def parse_error(payload: Any) -> tuple[int, str]:
    """``(code, msg)`` of an error body; ``(0, text)`` when it is not the documented shape."""
    if isinstance(payload, dict) and isinstance(payload.get("code"), int):
        return int(payload["code"]), str(payload.get("msg", ""))
    return 0, str(payload)[:200]


def error_for(code: int, msg: str, *, venue: str, label: str) -> ExchangeError:
    """The exception for a venue error code (``label`` = ``METHOD /path``, never the query)."""
    text = f"{label}: {code} {msg}".strip()
    if code in AUTH_CODES:
        return AuthenticationFailed(
            f"{text} (check the API key/secret or signer credentials)", venue=venue
        )
    if code == TIMESTAMP_CODE:
        return ClockSkew(f"{text} (local clock differs from the venue's)", venue=venue)
    if code == TIMEOUT_CODE:
        return RequestTimeout(f"{text} (outcome unknown)", venue=venue)
    if code in NOT_FOUND_CODES:
        return OrderNotFound(text, venue=venue)
    if code == POST_ONLY_CODE:
        return PostOnlyWouldCross(text, venue=venue)
    if code == REDUCE_ONLY_CODE:
        return ReduceOnlyRejected(text, venue=venue)
    if code in INVALID_ORDER_CODES:
        return InvalidOrder(text, venue=venue)
    if code == BAD_SYMBOL_CODE:
        return UnknownSymbol(text, venue=venue)
    if code == -1003:
        return RateLimited(text, venue=venue)
    if code in (-1000, -1001, -1006, -1008):
        return VenueUnavailable(text, venue=venue)
    return VenueError(code, text, venue=venue)
