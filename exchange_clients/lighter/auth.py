"""Auth tokens for Lighter's private reads, renewed before they expire.

Private REST endpoints (``accountActiveOrders``, ``accountInactiveOrders``, ``trades`` ...) take
an ``Authorization`` header and private WebSocket channels an ``auth`` field holding a token
``{deadline}:{account_index}:{api_key_index}:{signature hex}`` made by the signer's
``CreateAuthToken`` (apidocs "API keys" -> Authentication: at most 8 hours). We make tokens
with ``ttl`` seconds of life and make a new one once less than ``renew_before`` seconds remain,
so no request goes out with a token about to expire. Both are client options (tests use short
ones). The token is a credential: it is kept in a :class:`Secret` and never logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from core.redaction import Secret
from exchange_clients.lighter.signing import LighterSigner

MAX_TTL_SECONDS = 8 * 3600


class AuthTokens:
    """The current token of one API key; :meth:`token` renews it when due."""

    def __init__(
        self,
        signer: LighterSigner,
        *,
        ttl: float = 3600.0,
        renew_before: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < ttl <= MAX_TTL_SECONDS:
            raise ValueError(f"auth token ttl must be in (0, {MAX_TTL_SECONDS}] s, not {ttl}")
        self._signer = signer
        self.ttl = ttl
        self.renew_before = min(renew_before, ttl / 2)
        self._clock = clock
        self._token: Secret | None = None
        self._deadline = 0.0
        self._lock = asyncio.Lock()
        self.created = 0

    @property
    def deadline(self) -> float:
        return self._deadline

    async def token(self) -> str:
        """A token with at least ``renew_before`` seconds of life left."""
        async with self._lock:
            if self._token is None or self._clock() >= self._deadline - self.renew_before:
                deadline = int(self._clock() + self.ttl)
                self._token = Secret(await self._signer.create_auth_token(deadline))
                self._deadline = float(deadline)
                self.created += 1
            return self._token.reveal()

    def invalidate(self) -> None:
        """Forget the token (the venue refused it): the next call makes a new one."""
        self._token = None
