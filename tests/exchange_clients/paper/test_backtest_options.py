"""The paper client options backtests use: ``profile`` (any venue's fees and funding schedule
under its own name) and ``on_changes`` (every drained change, fills and funding included)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ConfigError
from exchange_clients.paper.changes import EngineChanges
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.paper.profiles import PaperProfile
from exchange_clients.types import ClientSettings, OrderRequest, OrderType


def _profile(venue: str) -> PaperProfile:
    return PaperProfile(venue, Decimal("0.0001"), Decimal("0.0003"), 8)


async def test_a_real_venue_simulated_with_its_profile_reports_every_change() -> None:
    seen: list[EngineChanges] = []
    client = PaperExchangeClient(
        ClientSettings(
            venue="binance",
            options={"store": None, "profile": _profile("binance"), "on_changes": seen.append},
        )
    )
    async with client:
        assert (await client.fees("BTC")).taker == Decimal("0.0003")
        await client.place_order(
            OrderRequest("BTC", "buy", Decimal("0.01"), OrderType.MARKET, client_order_id="c1")
        )
    fills = [event for changes in seen for event in changes.fill_events]
    assert fills
    assert all(changes.venue == "binance" for changes in seen)
    assert fills[0][4] == fills[0][2] * fills[0][3] * Decimal("0.0003")  # the profile's taker fee


def test_a_profile_for_another_venue_is_refused() -> None:
    with pytest.raises(ConfigError, match="option profile must be a PaperProfile for 'paper'"):
        PaperExchangeClient(ClientSettings(venue="paper", options={"profile": _profile("binance")}))


def test_on_changes_must_be_callable() -> None:
    with pytest.raises(ConfigError, match="on_changes must be callable"):
        PaperExchangeClient(ClientSettings(venue="paper", options={"on_changes": 3}))
