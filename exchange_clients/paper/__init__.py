"""The paper venue: simulated matching, fees, margin and funding over a market-data feed.

Importing this package registers :class:`PaperExchangeClient` for ``paper``, ``paper_a`` and
``paper_b`` with the client factory (:mod:`exchange_clients.factory`).
"""

from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.paper.faults import FaultPlan
from exchange_clients.paper.profiles import PROFILES, PaperProfile

__all__ = ["PROFILES", "FaultPlan", "PaperExchangeClient", "PaperProfile"]
