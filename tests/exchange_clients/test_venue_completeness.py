"""Every catalogue venue is complete: a client class, a contract harness (or a reasoned
exemption), a database row; every native venue package has the template's shape.

docs/adding_a_venue.md lists the touch points; this test is the check that none was missed.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

import exchange_clients
from core.errors import ConfigError
from core.venues import VENUES
from exchange_clients._template.client import TemplateClient
from exchange_clients.base import BaseExchangeClient
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.factory import client_class, known_venues
from exchange_clients.native.base import NativeVenueClient
from exchange_clients.types import ClientSettings
from tests.exchange_clients.contract.harness import HARNESSES

CONTRACT_EXEMPT: dict[str, tuple[str, str]] = {
    "paper_a": (
        "paper",
        "the paper venue's hourly-funding profile: the same class and engine as 'paper' (also "
        "hourly); 'paper' and 'paper_b' (8-hourly) run the suite",
    ),
    "ccxt_bybit": (
        "ccxt_binanceusdm",
        "served by the generic ccxt client, which runs the suite as ccxt_binanceusdm (ccxt's "
        "real binanceusdm class against the fake Binance); ccxt's bybit class speaks Bybit's "
        "v5 API (its own signing, order and position shapes, WebSocket topics), and a fake "
        "Bybit server of the fake Binance's size (~700 lines) is a separate piece of work",
    ),
    "ccxt_okx": (
        "ccxt_binanceusdm",
        "served by the generic ccxt client (see ccxt_bybit); ccxt's okx class speaks OKX's v5 "
        "API (passphrase signing, instId/contract-value sizes), which no fake in testing/fakes "
        "speaks yet",
    ),
}
"""Venue -> (the harnessed venue whose client class covers it, why it has no harness)."""

ROLES = {"client", "rest", "websocket", "wire", "signing", "funding_adapter", "ids"}
NATIVE_PACKAGES = (
    "_template",
    "backpack",
    "binance_style",
    "edgex",
    "grvt",
    "hyperliquid",
    "lighter",
    "paradex",
)
VENUE_PROFILES = {"binance": {"client"}, "aster": {"client", "signing"}}
"""Venues served by binance_style's client: only their own parts (hosts, Aster's v3 signer)."""
SHARED = {"native", "ccxt_venue", "paper", "market_data"}
DATA_SOURCES = {"polymarket"}
"""Public data clients that trade nothing (no catalogue entry, no order contract): Polymarket's
crowd probabilities feed the signal strategies."""


def modules(package: str) -> set[str]:
    path = Path(exchange_clients.__file__).parent / package
    return {info.name for info in pkgutil.iter_modules([str(path)])}


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_every_catalogue_venue_resolves_to_a_client_class(venue: str) -> None:
    assert issubclass(client_class(venue), BaseExchangeClient)


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_every_catalogue_venue_has_a_contract_harness_or_a_reasoned_exemption(venue: str) -> None:
    if venue in HARNESSES:
        assert venue not in CONTRACT_EXEMPT
        return
    assert venue in CONTRACT_EXEMPT, f"{venue}: no contract harness and no exemption"
    covered_by, reason = CONTRACT_EXEMPT[venue]
    assert len(reason) > 40
    assert covered_by in HARNESSES
    assert client_class(venue) is client_class(covered_by)


def test_exemptions_name_only_catalogue_venues() -> None:
    assert set(CONTRACT_EXEMPT) <= set(VENUES)
    assert set(known_venues()) == set(VENUES)


async def test_every_catalogue_venue_has_a_database_row(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT name FROM venues"))
        names = {row[0] for row in rows}
    assert set(VENUES) <= names


@pytest.mark.parametrize("package", NATIVE_PACKAGES)
def test_every_native_venue_package_has_one_module_per_role(package: str) -> None:
    assert modules(package) >= ROLES, f"{package} lacks {sorted(ROLES - modules(package))}"
    client = importlib.import_module(f"exchange_clients.{package}.client")
    classes = [
        value
        for value in vars(client).values()
        if isinstance(value, type) and issubclass(value, NativeVenueClient)
    ]
    assert any(cls.__module__ == client.__name__ for cls in classes)


def test_venue_profiles_hold_only_their_own_parts() -> None:
    for package, parts in VENUE_PROFILES.items():
        assert modules(package) == parts
        assert issubclass(client_class(package), BinanceStyleClient)


def test_every_venue_package_is_accounted_for() -> None:
    path = Path(exchange_clients.__file__).parent
    packages = {info.name for info in pkgutil.iter_modules([str(path)]) if info.ispkg}
    assert packages == set(NATIVE_PACKAGES) | set(VENUE_PROFILES) | SHARED | DATA_SOURCES
    assert not DATA_SOURCES & set(VENUES)


def test_the_template_is_complete_but_never_a_venue() -> None:
    client = TemplateClient(ClientSettings(venue="template"))  # every primitive is implemented
    assert isinstance(client, NativeVenueClient)
    assert "template" not in VENUES
    with pytest.raises(ConfigError, match="no exchange client"):
        client_class("template")
