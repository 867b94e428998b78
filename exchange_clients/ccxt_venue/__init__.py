"""A generic client over ccxt for venues without a native client (importing registers it)."""

from exchange_clients.ccxt_venue import client as _client  # noqa: F401 - registers the venues
