"""Is this proxy usable, and which address do venues see through it?

One GET through the proxy to an "what is my IP" service (``api.ipify.org`` answers with the
bare address; a JSON ``{"ip": ...}`` answer is accepted too). A proxy passes when it tunnels
the request and the answer is an IP address: that address is its *egress IP*, recorded so an
operator can see which address each account trades from.

The reason of a failure names what went wrong (refused, login refused, timeout, HTTP status)
and never the proxy URL: it carries the login.

It lives in the ground floor because two sibling layers need the same check: the networking
layer's proxy pool (before first use, periodically) and the database's admin CLI (a proxy is
checked before it is stored), and siblings may not import each other.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping

import aiohttp
from aiohttp_socks import ProxyConnectionError, ProxyConnector, ProxyError, ProxyTimeoutError

from core.errors import TradingError
from core.redaction import Secret, scrub

DEFAULT_CHECK_URL = "https://api.ipify.org"
DEFAULT_CHECK_TIMEOUT = 10.0
CHECK_URL_VARIABLE = "PERPFLEET_PROXY_CHECK_URL"
"""Another "what is my IP" service (plain-text or ``{"ip": ...}`` answer) for every check."""


def configured_check_url(environ: Mapping[str, str] | None = None) -> str:
    """``$PERPFLEET_PROXY_CHECK_URL`` or :data:`DEFAULT_CHECK_URL`."""
    return (os.environ if environ is None else environ).get(CHECK_URL_VARIABLE) or (
        DEFAULT_CHECK_URL
    )


class ProxyCheckFailed(TradingError):
    """The proxy could not carry the check; the message is safe to show (no login)."""


UNSUPPORTED_SCHEME = (
    "https:// proxies (TLS to the proxy itself) are not supported; use http:// (its CONNECT "
    "tunnel still carries TLS end to end to the venue) or socks5://"
)


def proxy_connector_for(url: Secret) -> ProxyConnector:
    """An aiohttp connector through ``url`` (SOCKS4/5 or HTTP CONNECT).

    ``socks5h`` (resolve names at the proxy) is what aiohttp-socks does for every SOCKS5
    URL, so it is passed as ``socks5`` with remote DNS. ``ValueError`` (naming the scheme,
    never the URL) for what aiohttp-socks cannot do.
    """
    raw = url.reveal()
    scheme, sep, rest = raw.partition("://")
    if scheme.lower() == "https":
        raise ValueError(UNSUPPORTED_SCHEME)
    if scheme.lower() == "socks5h":
        return ProxyConnector.from_url("socks5" + sep + rest, rdns=True)
    try:
        return ProxyConnector.from_url(raw)
    except ValueError:
        raise ValueError(f"unsupported proxy scheme {scheme!r}") from None


async def check_proxy(
    url: Secret, *, check_url: str = DEFAULT_CHECK_URL, within: float = DEFAULT_CHECK_TIMEOUT
) -> str:
    """The egress IP seen through ``url``, or :class:`ProxyCheckFailed` saying why not."""
    try:
        connector = proxy_connector_for(url)
    except ValueError as exc:
        raise ProxyCheckFailed(str(exc)) from None
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=within)
            ) as session,
            session.get(check_url) as response,
        ):
            body = await response.text()
            status = response.status
    except (TimeoutError, ProxyTimeoutError):
        raise ProxyCheckFailed(f"no answer within {within:g} s") from None
    except ProxyConnectionError:
        raise ProxyCheckFailed("proxy refused the connection (is it running?)") from None
    except ProxyError as exc:
        raise ProxyCheckFailed(f"proxy refused the request: {scrub(str(exc))[:120]}") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise ProxyCheckFailed(f"connection failed ({type(exc).__name__})") from None
    if status != 200:
        raise ProxyCheckFailed(f"the check service answered HTTP {status}")
    return egress_ip(body)


def egress_ip(body: str) -> str:
    """The address in a check service's answer (plain text or ``{"ip": ...}``)."""
    text = body.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("ip", ""))
        except (ValueError, AttributeError):
            text = ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ProxyCheckFailed("the check service did not answer with an IP address") from None
