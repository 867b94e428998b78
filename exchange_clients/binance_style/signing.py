"""Request signing for Binance-style REST APIs: the HMAC-SHA256 scheme, and the signer interface.

Binance "SIGNED (TRADE and USER_DATA) Endpoint Security": the request carries ``timestamp``
(ms) and optionally ``recvWindow``; ``signature`` is the hex HMAC-SHA256 of the *total
parameters* (query string followed by the body, exactly as sent) keyed by the API secret, and
the API key travels in the ``X-MBX-APIKEY`` header. USER_STREAM endpoints (listenKey) need the
key header only. Venues with another scheme (Aster's v3 API wallets) implement
:class:`RequestSigner` themselves. Binance's published example (key ``dbefbc80...``, secret
``2b5eb11e...``) is the test vector in tests/exchange_clients/binance/test_signing.py.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlencode

from core.redaction import Secret

Params = Sequence[tuple[str, str]]
API_KEY_HEADER = "X-MBX-APIKEY"


def hmac_sha256_hex(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` (the Binance ``signature`` parameter)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class RequestSigner(Protocol):
    """Turns request parameters into a signed, encoded parameter string plus headers."""

    def sign(self, params: Params, now_ms: int) -> tuple[str, dict[str, str]]:
        """For TRADE / USER_DATA endpoints."""
        ...

    def sign_stream(self, params: Params, now_ms: int) -> tuple[str, dict[str, str]]:
        """For USER_STREAM endpoints (listenKey)."""
        ...


class HmacSigner:
    """API key + secret (Binance, and Aster's HMAC scheme)."""

    def __init__(self, api_key: Secret, api_secret: Secret, *, recv_window_ms: int = 5000) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self.recv_window_ms = recv_window_ms

    def __repr__(self) -> str:
        return f"HmacSigner(recv_window_ms={self.recv_window_ms})"

    def sign(self, params: Params, now_ms: int) -> tuple[str, dict[str, str]]:
        query = urlencode(
            [*params, ("recvWindow", str(self.recv_window_ms)), ("timestamp", str(now_ms))]
        )
        signature = hmac_sha256_hex(self._api_secret.reveal(), query)
        return f"{query}&signature={signature}", {API_KEY_HEADER: self._api_key.reveal()}

    def sign_stream(self, params: Params, now_ms: int) -> tuple[str, dict[str, str]]:
        return urlencode(list(params)), {API_KEY_HEADER: self._api_key.reveal()}
