"""Two paper venues with request latency, the pair the atomic-execution benchmarks trade on."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from core.clock import Clock
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.types import ClientSettings

L1, L2 = 0.002, 0.005  # request latency of paper_a and paper_b, seconds

C = TypeVar("C", bound=PaperExchangeClient)


def paper_pair(client_class: type[C], *, seed: int, clock: Clock) -> dict[str, C]:
    """``paper_a`` (latency L1) and ``paper_b`` (L2) on one seeded synthetic market, each with
    a million USD, no store (nothing persists between runs); not connected yet."""
    return {
        venue: client_class(
            ClientSettings(
                venue=venue,
                options={
                    "feed": SyntheticFeed(SyntheticMarket(seed=seed, venue=venue), clock),
                    "clock": clock,
                    "store": None,
                    "initial_balance": Decimal(1_000_000),
                    "faults": FaultPlan(latency=latency),
                },
            )
        )
        for venue, latency in (("paper_a", L1), ("paper_b", L2))
    }
