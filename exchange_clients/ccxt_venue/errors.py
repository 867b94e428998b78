"""ccxt's exception hierarchy -> ours, with messages safe to log.

ccxt puts the request URL (query string, signature, sometimes account data) and the raw
response in its messages; we keep the venue's own explanation and drop every query string.
Whether a network failure leaves an order's outcome unknown depends on the request, so the
caller says whether it was placing (``RequestTimeout``: resolve by client order id) or
reading (``VenueUnavailable``: retry freely).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterator
from contextlib import contextmanager

import ccxt

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyRejected,
    RequestTimeout,
    UnknownSymbol,
    VenueUnavailable,
)

_QUERY = re.compile(r"\?\S*")
_URL = re.compile(r"https?://\S+|wss?://\S+")


def safe_message(exc: BaseException, limit: int = 300) -> str:
    """``exc``'s message without URLs or query strings, shortened."""
    text = _URL.sub("<url>", _QUERY.sub("", str(exc)))
    return text[:limit]


@contextmanager
def translated(
    venue: str, *, placing: bool = False, client_order_id: str | None = None
) -> Iterator[None]:
    """Run a ccxt call in a private decimal context; re-raise its failure as ours.

    ccxt's number formatting sets the *current* decimal context to ROUND_HALF_UP and traps
    Underflow, in place: left alone, every Decimal computed afterwards on the same thread
    (positions, PnL, fees) would round differently. The copy absorbs that.
    """
    with decimal.localcontext():
        try:
            yield
        except ExchangeError:
            raise
        except ccxt.BaseError as exc:
            raise translate(exc, venue, placing=placing, client_order_id=client_order_id) from None


def translate(
    exc: ccxt.BaseError, venue: str, *, placing: bool, client_order_id: str | None
) -> ExchangeError:
    message = safe_message(exc)
    lowered = message.lower()
    # Order matters: ccxt's specific classes subclass its general ones.
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
        return AuthenticationFailed(f"credentials refused: {message}", venue=venue)
    if isinstance(exc, ccxt.DuplicateOrderId) or "clientorderid is duplicated" in lowered:
        return DuplicateClientOrderId(client_order_id or "?", venue=venue)
    if isinstance(exc, ccxt.OrderImmediatelyFillable) or "post only" in lowered:
        return PostOnlyWouldCross(message, venue=venue)
    if "reduceonly" in lowered or "reduce only" in lowered or "reduce-only" in lowered:
        return ReduceOnlyRejected(message, venue=venue)
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientMargin(venue=venue, detail=message)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(message, venue=venue)
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(message, venue=venue)
    if isinstance(exc, ccxt.InvalidOrder):
        return InvalidOrder(message, venue=venue)
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(message, venue=venue)
    if isinstance(exc, ccxt.NetworkError):
        if placing:
            return RequestTimeout(f"{message} (outcome unknown)", venue=venue)
        return VenueUnavailable(message, venue=venue)
    if placing:
        return OrderRejected(message, venue=venue)
    return ExchangeError(message, venue=venue)
