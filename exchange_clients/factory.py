"""Venue name -> client class, and building clients from settings.

Each venue's client module registers its class with :func:`register_client`;
the factory imports the known client packages on first use so every
registration is present however the process started.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import ClientSettings
from trading_config.errors import ConfigError
from trading_config.suggestions import did_you_mean

C = TypeVar("C", bound=type[BaseExchangeClient])

# Packages whose import registers clients; a new venue adds its package here.
CLIENT_PACKAGES: tuple[str, ...] = (
    "exchange_clients.paper",
    "exchange_clients.hyperliquid.client",
    "exchange_clients.binance",
    "exchange_clients.aster",
    "exchange_clients.ccxt_venue",
    "exchange_clients.backpack",
    "exchange_clients.lighter.client",
)

_REGISTRY: dict[str, type[BaseExchangeClient]] = {}
_loaded = False


def register_client(*venues: str) -> Callable[[C], C]:
    """Class decorator registering a client under one or more venue names."""

    def decorator(cls: C) -> C:
        for venue in venues:
            existing = _REGISTRY.get(venue)
            if existing is not None and existing is not cls:
                raise ValueError(f"venue {venue!r} is already served by {existing.__qualname__}")
            _REGISTRY[venue] = cls
        return cls

    return decorator


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for package in CLIENT_PACKAGES:
            importlib.import_module(package)


def known_venues() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def client_class(venue: str) -> type[BaseExchangeClient]:
    """The class serving ``venue``; unknown names raise ``ConfigError`` listing the known ones."""
    _load()
    try:
        return _REGISTRY[venue]
    except KeyError:
        known = known_venues()
        raise ConfigError(
            f"no exchange client for venue {venue!r}{did_you_mean(venue, known)}: "
            f"expected one of {', '.join(known) or 'none registered'}"
        ) from None


def create_client(settings: ClientSettings) -> BaseExchangeClient:
    return client_class(settings.venue)(settings)
