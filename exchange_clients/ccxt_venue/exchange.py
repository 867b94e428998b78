"""Building the ccxt exchange object for one account: class, credentials, sandbox, hosts, proxy.

The streaming class (``ccxt.pro``) is used when ccxt has one for the venue, so ``watch_*``
is available; otherwise the REST-only ``ccxt.async_support`` class. Numbers come back as the
venue's strings (``number = str``, see :mod:`.mapping`). ``base_url``/``ws_url`` options
re-host every endpoint (how tests point a ccxt class at a fake venue server).

Proxy: ccxt opens its own aiohttp sessions (through aiohttp-socks, for SOCKS and HTTP CONNECT
URLs alike). With an account's :class:`~networking.proxy_pool.ProxyPool`, every REST request
asks the pool for its current proxy (ccxt's ``socks_proxy_callback``) and so does every
WebSocket (re)connection (``ws_socks_proxy`` reads the pool): after a failover, traffic follows
the new proxy. ccxt does not tell the pool about failures; the pool's periodic health check
(running while the exchange is open) and the account's native transports do.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from core.errors import ConfigError
from exchange_clients.types import ClientSettings
from networking.proxy_pool import ProxyPool

# Per-exchange ccxt options for a derivatives-only account: Binance's loader otherwise reads
# spot wallet currencies and margin pairs (sapi endpoints a futures-only key may not reach).
EXCHANGE_OPTIONS: dict[str, dict[str, Any]] = {
    "binanceusdm": {"fetchCurrencies": False, "fetchMargins": False},
}

# Per-exchange parameters of a venue-side stop-loss, on top of ccxt's unified ``stopLossPrice``
# and ``reduceOnly``: Binance triggers on the last price unless told to use the mark.
STOP_PARAMS: dict[str, dict[str, Any]] = {
    "binanceusdm": {"workingType": "MARK_PRICE"},
}


def supports_stop_loss(exchange: Any) -> bool:
    """ccxt can place a reduce-only stop-loss on this exchange (unified ``stopLossPrice``)."""
    return bool(exchange.has.get("createStopLossOrder"))


# Credential field (core.venues) -> ccxt constructor key.
CREDENTIAL_KEYS = {"api_key": "apiKey", "api_secret": "secret", "password": "password"}


def exchange_class(exchange_id: str) -> type[Any]:
    cls = getattr(ccxt_pro, exchange_id, None) or getattr(ccxt_async, exchange_id, None)
    if cls is None:
        raise ConfigError(f"ccxt has no exchange {exchange_id!r}")
    return cls  # type: ignore[no-any-return]


def build_exchange(exchange_id: str, settings: ClientSettings, timeout_ms: int) -> Any:
    config: dict[str, Any] = {
        "enableRateLimit": True,  # ccxt's per-venue throttle (its documented rate limits)
        "timeout": timeout_ms,
        "options": {
            "defaultType": "swap",
            "warnOnFetchOpenOrdersWithoutSymbol": False,
            **EXCHANGE_OPTIONS.get(exchange_id, {}),
        },
    }
    for field, key in CREDENTIAL_KEYS.items():
        if field in settings.secrets:
            config[key] = settings.secrets[field].reveal()
        elif field in settings.public:
            config[key] = settings.public[field]
    exchange = exchange_class(exchange_id)(config)
    exchange.number = str
    if settings.testnet:
        exchange.set_sandbox_mode(True)
    base_url = settings.options.get("base_url")
    ws_url = settings.options.get("ws_url")
    if base_url is not None:
        rehost(exchange.urls["api"], str(base_url), websocket=False)
    if ws_url is not None:
        rehost(exchange.urls["api"], str(ws_url), websocket=True)
    if isinstance(settings.proxy_url, ProxyPool):
        follow_pool(exchange, settings.proxy_url)
    elif settings.proxy_url is not None:
        exchange.socks_proxy = exchange.ws_socks_proxy = settings.proxy_url.reveal()
    return exchange


def follow_pool(exchange: Any, pool: ProxyPool) -> None:
    """Route ``exchange`` through the pool's current proxy; keep the pool watched while open."""
    exchange.socks_proxy_callback = lambda *_request: pool.reveal()
    # ccxt reads ws_socks_proxy at each WebSocket (re)connection: a per-object subclass makes
    # that read the pool's current proxy (ccxt has no callback for WebSocket proxies).
    exchange.__class__ = type(
        exchange.__class__.__name__,
        (exchange.__class__,),
        {"ws_socks_proxy": property(lambda _self: pool.reveal(), lambda _self, _value: None)},
    )
    pool.acquire()
    close = exchange.close

    async def close_and_release() -> None:
        try:
            await close()
        finally:
            await pool.release()

    exchange.close = close_and_release


def rehost(urls: Any, new_base: str, *, websocket: bool) -> Any:
    """Replace scheme://host of every HTTP (or WebSocket) URL in ccxt's nested URL table."""
    if isinstance(urls, dict):
        for key, value in urls.items():
            urls[key] = rehost(value, new_base, websocket=websocket)
        return urls
    if isinstance(urls, str):
        parts = urlsplit(urls)
        is_ws = parts.scheme in ("ws", "wss")
        if parts.scheme and is_ws == websocket:
            return new_base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    return urls
