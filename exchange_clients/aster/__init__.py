"""Aster futures. Importing this package registers the ``aster`` client."""

from exchange_clients.aster.client import AsterClient

__all__ = ["AsterClient"]
