"""GRVT's REST session: the API-key login (cookie + account id), public and private calls.

GRVT authenticates with a session, not per-request signatures: ``POST {edge}/auth/api_key/login``
with ``{"api_key"}`` answers a ``gravity`` cookie (``Set-Cookie``, with its ``expires``) and
the account id in the ``X-Grvt-Account-Id`` header; every trading call sends both back. The
session is renewed a minute before it expires, and once more when a call is refused with code
1000 (session missing or expired: the call was not processed, so it is sent again once).
Orders carry their own EIP-712 signature (:mod:`.signing`) inside the JSON body.

Every call is a ``POST`` of a JSON body to one of three roots - edge (login), market data and
trade data - which the ``base_url`` option points at one host (the fake serves all three).
Neither the API key nor the cookie ever appears in a message or log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

from core.errors import AuthenticationFailed, VenueUnavailable
from core.redaction import Secret
from exchange_clients.grvt.wire import SessionRefused, error_for, parse_error
from networking.http import HttpRequest, HttpResponse, RestTransport
from networking.json_codec import dumps

LOGIN_PATH = "/auth/api_key/login"
RENEW_BEFORE_SECONDS = 60.0
DEFAULT_SESSION_SECONDS = 300.0
"""How long a session cookie without ``expires`` is trusted."""
JSON_CONTENT = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Roots:
    """The three API roots of one environment."""

    edge: str
    market_data: str
    trade_data: str


@dataclass(frozen=True)
class Session:
    cookie: Secret
    account_id: str
    expires: float
    """Epoch seconds."""


def session_from_login(response: HttpResponse, now: float) -> Session | None:
    """The session a successful login answered (``None`` when it carries none)."""
    header = next((v for k, v in response.headers.items() if k.lower() == "set-cookie"), "")
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:
        return None
    morsel = cookie.get("gravity")
    if morsel is None or not morsel.value:
        return None
    expires = now + DEFAULT_SESSION_SECONDS
    if morsel["expires"]:
        with contextlib.suppress(TypeError, ValueError):
            expires = parsedate_to_datetime(morsel["expires"]).timestamp()
    account_id = next(
        (v for k, v in response.headers.items() if k.lower() == "x-grvt-account-id"), ""
    )
    return Session(Secret(morsel.value), account_id, expires)


class GrvtRest:
    """One API key's REST session."""

    def __init__(self, transport: RestTransport, roots: Roots, api_key: Secret | None) -> None:
        self.transport = transport
        self.roots = roots
        self._api_key = api_key
        self._session: Session | None = None
        self._login_lock = asyncio.Lock()
        self.logins = 0

    @property
    def venue(self) -> str:
        return self.transport.venue

    @property
    def has_credentials(self) -> bool:
        return self._api_key is not None

    @property
    def session(self) -> Session | None:
        return self._session

    async def public(self, path: str, body: Mapping[str, Any]) -> Any:
        """A market-data call (idempotent: retried on 5xx)."""
        return await self._post(self.roots.market_data + path, body, {}, idempotent=True)

    async def private(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> Any:
        """A trading call with the session; a refused session is renewed once."""
        for attempt in range(2):
            session = await self.ensure_session(force=attempt > 0)
            try:
                return await self._post(
                    self.roots.trade_data + path,
                    body,
                    self.auth_headers(session),
                    idempotent=idempotent,
                )
            except SessionRefused:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def auth_headers(session: Session) -> dict[str, str]:
        return {
            "Cookie": f"gravity={session.cookie.reveal()}",
            "X-Grvt-Account-Id": session.account_id,
        }

    async def ensure_session(self, *, force: bool = False) -> Session:
        """The current session, logging in when there is none or it is about to expire."""
        async with self._login_lock:
            session = self._session
            if force or session is None or session.expires - time.time() < RENEW_BEFORE_SECONDS:
                session = self._session = await self._login()
            return session

    async def _login(self) -> Session:
        if self._api_key is None:
            raise AuthenticationFailed(
                "this call needs api_key and the account has none configured", venue=self.venue
            )
        request = HttpRequest(
            "POST",
            self.roots.edge + LOGIN_PATH,
            dumps({"api_key": self._api_key.reveal()}),
            JSON_CONTENT,
        )
        response = await self.transport.send(request, idempotent=True)
        if response.status >= 400:
            code, message = parse_error(_json_or_text(response), response.status)
            raise AuthenticationFailed(
                f"API key login refused: {message} (code {code}, HTTP {response.status})",
                venue=self.venue,
            )
        session = session_from_login(response, time.time())
        if session is None or not session.account_id:
            raise AuthenticationFailed(
                "API key login answered no gravity cookie or account id", venue=self.venue
            )
        self.logins += 1
        return session

    async def _post(
        self, url: str, body: Mapping[str, Any], headers: Mapping[str, str], *, idempotent: bool
    ) -> Any:
        request = HttpRequest("POST", url, dumps(dict(body)), {**JSON_CONTENT, **headers})
        response = await self.transport.send(request, idempotent=idempotent)
        label = f"POST {_path_of(url)}"
        if response.status < 400:
            try:
                return response.json()
            except ValueError:
                raise VenueUnavailable(
                    f"{label}: unreadable answer (HTTP {response.status})", venue=self.venue
                ) from None
        code, message = parse_error(_json_or_text(response), response.status)
        raise error_for(response.status, code, message, venue=self.venue, label=label)


def _json_or_text(response: HttpResponse) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _path_of(url: str) -> str:
    """``/full/v1/...`` of a full URL (labels name the call, not the host)."""
    after_scheme = url.split("://", 1)[-1]
    slash = after_scheme.find("/")
    return after_scheme[slash:] if slash >= 0 else "/"
