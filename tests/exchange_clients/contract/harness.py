"""Every venue the contract suite runs against: name -> harness factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from tests.exchange_clients.contract.backpack_harness import backpack_harness
from tests.exchange_clients.contract.binance_harness import (
    aster_harness,
    aster_v3_harness,
    binance_harness,
)
from tests.exchange_clients.contract.ccxt_harness import ccxt_harness
from tests.exchange_clients.contract.edgex_harness import edgex_harness
from tests.exchange_clients.contract.grvt_harness import grvt_harness
from tests.exchange_clients.contract.hyperliquid_harness import hyperliquid_harness
from tests.exchange_clients.contract.lighter_harness import lighter_harness
from tests.exchange_clients.contract.paper_harness import paper_harness
from tests.exchange_clients.contract.paradex_harness import paradex_harness
from tests.exchange_clients.contract.venue_harness import VenueHarness

HARNESSES: dict[str, Callable[[], AsyncIterator[VenueHarness]]] = {
    "paper": lambda: paper_harness("paper"),
    "paper_b": lambda: paper_harness("paper_b"),
    "hyperliquid": hyperliquid_harness,
    "binance": binance_harness,
    "aster": aster_harness,
    "aster_v3": aster_v3_harness,
    "ccxt_binanceusdm": ccxt_harness,
    "backpack": backpack_harness,
    "lighter": lighter_harness,
    "paradex": paradex_harness,
    "edgex": edgex_harness,
    "grvt": grvt_harness,
}
