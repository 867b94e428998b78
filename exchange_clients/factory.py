"""Venue name -> client class, and building clients from settings.

Why the table names modules instead of importing them: a bot trades on one or two venues, and
importing every venue package cost each bot process ~1 s and ~90 MB (ccxt alone ~0.64 s,
eth_account/py_ecc ~0.33 s). :data:`CLIENTS` maps each venue to ``"module:Class"``; the module
is imported the first time a client for that venue is asked for, so a paper bot never loads a
real venue's SDK. A venue's client module still decorates its class with
:func:`register_client` (that is what makes a class built elsewhere, e.g. a test double,
servable); the decorator refuses a name the table gives to another class.

Importing a venue module is done with the interpreter's recursion limit kept as it was: py_ecc
(pulled in by eth_account) raises it to 100000 at import, and with that limit a JSON document
nested a few hundred thousand levels deep overflows the C stack (a segfault) instead of raising.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

from core.errors import ConfigError
from core.suggestions import did_you_mean
from core.venues import VENUES
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import ClientSettings

C = TypeVar("C", bound=type[BaseExchangeClient])

_PAPER = "exchange_clients.paper.client:PaperExchangeClient"
_CCXT = "exchange_clients.ccxt_venue.client:CcxtExchangeClient"

CLIENTS: dict[str, str] = {
    "paper": _PAPER,
    "paper_a": _PAPER,
    "paper_b": _PAPER,
    "hyperliquid": "exchange_clients.hyperliquid.client:HyperliquidClient",
    "binance": "exchange_clients.binance.client:BinanceClient",
    "aster": "exchange_clients.aster.client:AsterClient",
    "backpack": "exchange_clients.backpack.client:BackpackClient",
    "lighter": "exchange_clients.lighter.client:LighterClient",
    "edgex": "exchange_clients.edgex.client:EdgexClient",
    "grvt": "exchange_clients.grvt.client:GrvtClient",
    "paradex": "exchange_clients.paradex.client:ParadexClient",
    # A venue reached through ccxt needs only its catalogue entry (``ccxt_id``).
    **{name: _CCXT for name, venue in VENUES.items() if venue.ccxt_id},
}
"""Venue name -> ``"module:Class"`` of its client, imported on first use; a new venue adds a row."""

_REGISTRY: dict[str, type[BaseExchangeClient]] = {}


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register_client(*venues: str) -> Callable[[C], C]:
    """Class decorator registering a client under one or more venue names.

    A name already served by another class (registered, or named by :data:`CLIENTS` and not yet
    imported) is refused: two classes for one venue would make which one runs depend on import
    order.
    """

    def decorator(cls: C) -> C:
        for venue in venues:
            existing = _REGISTRY.get(venue)
            if existing is not None and existing is not cls:
                raise ValueError(f"venue {venue!r} is already served by {existing.__qualname__}")
            spec = CLIENTS.get(venue)
            if existing is None and spec is not None and spec != _path(cls):
                owner = spec.rpartition(":")[2]
                raise ValueError(f"venue {venue!r} is already served by {owner}")
            _REGISTRY[venue] = cls
        return cls

    return decorator


@contextlib.contextmanager
def recursion_limit_kept() -> Iterator[None]:
    """Undo any change an imported module makes to ``sys.getrecursionlimit()`` (py_ecc's)."""
    limit = sys.getrecursionlimit()
    try:
        yield
    finally:
        if sys.getrecursionlimit() != limit:
            sys.setrecursionlimit(limit)


def known_venues() -> list[str]:
    """Every venue a client can be built for, without importing any client module."""
    return sorted(set(CLIENTS) | set(_REGISTRY))


def client_class(venue: str) -> type[BaseExchangeClient]:
    """The class serving ``venue`` (its module imported now if needed).

    Unknown names raise ``ConfigError`` listing the known ones.
    """
    cls = _REGISTRY.get(venue)
    if cls is not None:
        return cls
    spec = CLIENTS.get(venue)
    if spec is None:
        known = known_venues()
        raise ConfigError(
            f"no exchange client for venue {venue!r}{did_you_mean(venue, known)}: "
            f"expected one of {', '.join(known) or 'none registered'}"
        )
    module_name, _, class_name = spec.partition(":")
    with recursion_limit_kept():
        module = importlib.import_module(module_name)
    loaded: type[BaseExchangeClient] = getattr(module, class_name)
    return _REGISTRY.setdefault(venue, loaded)


def create_client(settings: ClientSettings) -> BaseExchangeClient:
    return client_class(settings.venue)(settings)
