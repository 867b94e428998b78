"""Binance USD-M futures: the venue's hosts and the name ``binance`` on the Binance-style client.

Everything Binance USD-M speaks lives in :mod:`exchange_clients.binance_style` (REST + HMAC
signing, the ``<symbol>@depth@100ms`` diff book, the user-data stream, wire and error mapping,
funding from ``premiumIndex`` + ``fundingInfo``), because Aster speaks the same protocol; this
package holds only what is Binance's own: its hosts and its default funding interval (8 h).

Stop-losses go to the Algo Service (``POST /fapi/v1/algoOrder``, required since 2025-12-09:
the order endpoint refuses STOP_MARKET with ``-4120``); fees are the account's tier from
``commissionRate``; 24 h volume from ``ticker/24hr`` and open interest from ``openInterest``
(see ``binance_style/stops.py`` and ``binance_style/economics.py``).

Credentials: ``api_key`` and ``api_secret`` (HMAC). Testnet hosts (``settings.testnet``):
https://testnet.binancefuture.com and wss://fstream.binancefuture.com.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.binance_style.client import BINANCE_PATHS, BinanceStyleClient, VenueConfig
from exchange_clients.factory import register_client

BINANCE = VenueConfig(
    rest_url="https://fapi.binance.com",
    ws_url="wss://fstream.binance.com",
    testnet_rest_url="https://testnet.binancefuture.com",
    testnet_ws_url="wss://fstream.binancefuture.com",
    paths=BINANCE_PATHS,
    default_funding_interval_hours=Decimal(8),
    trigger_dialect="algo",
)


@register_client("binance")
class BinanceClient(BinanceStyleClient):
    """One Binance USD-M futures account (one-way position mode)."""

    venue = "binance"
    config = BINANCE
