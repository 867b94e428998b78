"""Request signing: HMAC-SHA256 over the request's canonical text, key in a header.

Replace with the venue's documented scheme and pin it with the venue's published example as a
test vector. A signer never logs or echoes its secret; :class:`Secret` keeps it out of reprs.
"""

from __future__ import annotations

import hashlib
import hmac

from core.redaction import Secret

API_KEY_HEADER = "X-API-KEY"
SIGNATURE_HEADER = "X-SIGNATURE"


class HmacSigner:
    def __init__(self, api_key: Secret, api_secret: Secret) -> None:
        self._key = api_key
        self._secret = api_secret

    def __repr__(self) -> str:
        return "HmacSigner(<redacted>)"

    def headers(self, payload: str, now_ms: int) -> dict[str, str]:
        """Headers authenticating ``payload`` (query or body exactly as sent) at ``now_ms``."""
        message = f"{now_ms}{payload}".encode()
        digest = hmac.new(self._secret.reveal().encode(), message, hashlib.sha256).hexdigest()
        return {
            API_KEY_HEADER: self._key.reveal(),
            SIGNATURE_HEADER: digest,
            "X-TIMESTAMP": str(now_ms),
        }
