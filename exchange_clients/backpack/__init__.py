"""Backpack perpetual futures. Importing this package registers the ``backpack`` client."""

from exchange_clients.backpack.client import BackpackClient

__all__ = ["BackpackClient"]
