"""Binance USD-M futures. Importing this package registers the ``binance`` client."""

from exchange_clients.binance.client import BinanceClient

__all__ = ["BinanceClient"]
