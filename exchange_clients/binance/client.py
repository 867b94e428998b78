"""Binance USD-M futures (https://fapi.binance.com), thin over the Binance-style base.

Credentials: ``api_key`` and ``api_secret`` (HMAC). Testnet hosts (``settings.testnet``):
https://testnet.binancefuture.com and wss://fstream.binancefuture.com.
"""

from __future__ import annotations

from exchange_clients.binance.funding_adapter import DEFAULT_INTERVAL_HOURS
from exchange_clients.binance.websocket import MAINNET_WS_URL, TESTNET_WS_URL
from exchange_clients.binance_style.client import BINANCE_PATHS, BinanceStyleClient, VenueConfig
from exchange_clients.factory import register_client

BINANCE = VenueConfig(
    rest_url="https://fapi.binance.com",
    ws_url=MAINNET_WS_URL,
    testnet_rest_url="https://testnet.binancefuture.com",
    testnet_ws_url=TESTNET_WS_URL,
    paths=BINANCE_PATHS,
    default_funding_interval_hours=DEFAULT_INTERVAL_HOURS,
)


@register_client("binance")
class BinanceClient(BinanceStyleClient):
    """One Binance USD-M futures account (one-way position mode)."""

    venue = "binance"
    config = BINANCE
