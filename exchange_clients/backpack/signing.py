"""Backpack request signing: ED25519 over an instruction-named, sorted parameter string.

Backpack API docs, "Authentication > Signing requests": the key/values of the request body (or
the query parameters) are ordered alphabetically and written in query-string form, prefixed
with ``instruction=<instruction>`` and suffixed with ``&timestamp=<ms>&window=<ms>``; the UTF-8
string is signed with the ED25519 private key and the base64 signature travels in
``X-Signature``, next to ``X-API-Key`` (base64 verifying key), ``X-Timestamp`` and ``X-Window``
(default 5000, maximum 60000). A request without parameters signs only
``instruction=..&timestamp=..&window=..``. The docs' worked example (no key is given there):
``{"orderId": 28, "symbol": "BTC_USDT"}`` -> ``instruction=orderCancel&orderId=28&symbol=BTC_USDT
&timestamp=1614550000000&window=5000``.

Private WebSocket streams ("Streams > Private") sign
``instruction=subscribe&timestamp=..&window=..`` and send
``["<verifying key>", "<signature>", "<timestamp>", "<window>"]`` as the subscribe message's
``signature``.

Values are written as the JSON body carries them: booleans ``true``/``false`` (never Python's
``True``), integers in decimal, decimals in plain positional notation (never ``1E-5``): the
venue rebuilds the string from the parsed body, so any other spelling fails verification.

Credentials: ``api_secret`` is the base64 32-byte ED25519 seed, ``api_key`` the base64 public
key. Both are checked when the signer is built, so a wrong pair fails at ``connect()`` with a
one-line :class:`AuthenticationFailed`, never at the first order. Neither value is ever put in
a message, log or repr.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.errors import AuthenticationFailed
from core.redaction import Secret

DEFAULT_WINDOW_MS = 5000
MAX_WINDOW_MS = 60_000
WireValue = str | int | bool | Decimal


def wire_text(value: WireValue) -> str:
    """A parameter value as it appears in the signing string (and in the JSON body)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def signing_string(
    instruction: str, params: Mapping[str, WireValue], timestamp_ms: int, window_ms: int
) -> str:
    """The exact text Backpack verifies for one request."""
    parts = [f"instruction={instruction}"]
    parts += [f"{key}={wire_text(params[key])}" for key in sorted(params)]
    parts += [f"timestamp={timestamp_ms}", f"window={window_ms}"]
    return "&".join(parts)


def _decode(value: str, what: str, venue: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed(f"{what} is not valid base64", venue=venue) from None
    if len(raw) != 32:
        raise AuthenticationFailed(
            f"{what} must decode to 32 bytes (an ED25519 key), not {len(raw)}", venue=venue
        )
    return raw


class Ed25519Signer:
    """Signs Backpack requests for one API key."""

    def __init__(
        self,
        api_key: Secret,
        api_secret: Secret,
        *,
        window_ms: int = DEFAULT_WINDOW_MS,
        venue: str = "backpack",
    ) -> None:
        if not 0 < window_ms <= MAX_WINDOW_MS:
            raise ValueError(f"X-Window must be 1..{MAX_WINDOW_MS} ms, not {window_ms}")
        seed = _decode(api_secret.reveal(), "api_secret", venue)
        key = Ed25519PrivateKey.from_private_bytes(seed)
        public = key.public_key().public_bytes_raw()
        if _decode(api_key.reveal(), "api_key", venue) != public:
            raise AuthenticationFailed(
                "api_key is not the public key of api_secret (check the key pair)", venue=venue
            )
        self._key = key
        self._api_key = api_key
        self.window_ms = window_ms

    def __repr__(self) -> str:
        return f"Ed25519Signer(window_ms={self.window_ms})"

    def sign(self, message: str) -> str:
        """Base64 ED25519 signature of ``message``."""
        return base64.b64encode(self._key.sign(message.encode())).decode()

    def headers(
        self, instruction: str, params: Mapping[str, WireValue], timestamp_ms: int
    ) -> dict[str, str]:
        """The four authentication headers of one REST request."""
        message = signing_string(instruction, params, timestamp_ms, self.window_ms)
        return {
            "X-API-Key": self._api_key.reveal(),
            "X-Signature": self.sign(message),
            "X-Timestamp": str(timestamp_ms),
            "X-Window": str(self.window_ms),
        }

    def subscribe_signature(self, timestamp_ms: int) -> list[str]:
        """The ``signature`` array of a private-stream SUBSCRIBE message."""
        message = signing_string("subscribe", {}, timestamp_ms, self.window_ms)
        return [
            self._api_key.reveal(),
            self.sign(message),
            str(timestamp_ms),
            str(self.window_ms),
        ]
